"""Offline placement of ranges, sub-number setbacks and the extent check (geo.geocode.gazetteer).

Expected points are built with pyproj's geodesic (``expected_on_straight``) from the
segment's end points and house numbers read off the gazetteer files by hand.
"""

import json
from pathlib import Path

import pyproj
import pytest

from geo import settings
from geo.geocode.address import parse_address
from geo.geocode.gazetteer import Gazetteer
from geo.geocode.geocoder import geocode_address

DATA = Path(__file__).parents[1] / "data" / "geocode"
GEOD = pyproj.Geod(ellps="WGS84")
TO_METRIC = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)

# 凤仙路 in data/gazetteer.geojson, read by hand: segment 凤仙路/1 runs from (108.3563443, 30.8458262)
# to (108.361561, 30.8431058) with odd numbers 1..163 on the left; 凤仙路/3 from (108.366774, 30.8394832)
# to (108.3719831, 30.8349585) with odd numbers 343..537 on the left.
FENGXIAN_1 = ((108.3563443, 30.8458262), (108.361561, 30.8431058), 1, 163)
FENGXIAN_3 = ((108.366774, 30.8394832), (108.3719831, 30.8349585), 343, 537)


def geod_m(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def expected_on_straight(a, b, t, offset_m, *, left):
    """Point at fraction t of the geodesic a->b, moved offset_m to its left/right (pyproj.Geod)."""
    az, _, dist = GEOD.inv(a[0], a[1], b[0], b[1])
    lon, lat, back = GEOD.fwd(a[0], a[1], az, t * dist)
    heading = back + 180.0
    lon2, lat2, _ = GEOD.fwd(lon, lat, heading - 90.0 if left else heading + 90.0, offset_m)
    return lon2, lat2


@pytest.fixture()
def straight():
    return Gazetteer.from_file(DATA / "gazetteer_straight.geojson")


@pytest.fixture()
def no_overrides(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")


class TestRanges:
    A, B, C = (108.36, 30.84), (108.37, 30.84), (108.37, 30.85)

    def test_range_is_placed_at_its_middle_number(self, straight):
        # 测试路21-31号: odd, left side 1..99 of 测试路/1; middle number 26, t = (26 - 1) / (99 - 1).
        r = straight.locate(parse_address("测试路21-31号"), side_offset_m=15.0)
        assert r.quality == "interpolated" and r.number == "21-31"
        assert geod_m(r.lon, r.lat, *expected_on_straight(self.A, self.B, 25 / 98, 15.0, left=True)) < 0.05
        assert "middle number 26" in r.note

    def test_range_over_both_sides_lies_on_the_centreline(self, straight):
        # 10-11号: ends on opposite sides; middle 10.5 on the even side's scale 2..100, no side offset.
        r = straight.locate(parse_address("测试路10-11号"), side_offset_m=15.0)
        assert geod_m(r.lon, r.lat, *expected_on_straight(self.A, self.B, 8.5 / 98, 0.0, left=False)) < 0.05
        assert "both sides" in r.note

    def test_range_whose_middle_falls_between_segments_is_halfway_between_its_ends(self, straight):
        # 97-103号: middle 100 is in neither 1..99 nor 101..199 (odd); halfway between 97 (测试路/1) and 103 (测试路/2).
        p97 = expected_on_straight(self.A, self.B, 96 / 98, 15.0, left=True)
        p103 = expected_on_straight(self.B, self.C, 2 / 98, 15.0, left=True)
        xs, ys = TO_METRIC.transform([p97[0], p103[0]], [p97[1], p103[1]])
        mid = TO_LONLAT.transform(sum(xs) / 2, sum(ys) / 2)
        r = straight.locate(parse_address("测试路97-103号"), side_offset_m=15.0)
        assert r.quality == "interpolated"
        assert geod_m(r.lon, r.lat, *mid) < 0.05
        assert "halfway" in r.note

    def test_range_running_past_the_road_uses_the_end_it_has_and_says_so(self, straight):
        r = straight.locate(parse_address("测试路195-401号"), side_offset_m=15.0)
        assert r.quality == "partial"
        assert geod_m(r.lon, r.lat, *expected_on_straight(self.B, self.C, 94 / 98, 15.0, left=True)) < 0.05
        assert "placed at 195" in r.note

    @pytest.mark.parametrize(
        ("address", "segment", "middle"),
        [("凤仙路431-441号", FENGXIAN_3, 436), ("凤仙路1-5号", FENGXIAN_1, 3), ("凤仙路431至441号", FENGXIAN_3, 436)],
    )
    def test_issue_examples_on_the_shipped_gazetteer(self, no_overrides, address, segment, middle):
        a, b, lo, hi = segment
        r = geocode_address(address)
        assert r.quality == "interpolated" and r.sub_number is None
        assert geod_m(r.lon, r.lat, *expected_on_straight(a, b, (middle - lo) / (hi - lo), 15.0, left=True)) < 0.05

    def test_sub_number_range_is_set_back_by_its_middle(self, no_overrides):
        # 凤仙路457号附1-3号 = 附1、2、3号: mean sub-number 2, so 15 + 2 x 10 = 35 m from the centreline.
        a, b, lo, hi = FENGXIAN_3
        r = geocode_address("凤仙路457号附1-3号")
        assert (r.number, r.sub_number, r.quality) == ("457", "1、2、3", "interpolated")
        assert geod_m(r.lon, r.lat, *expected_on_straight(a, b, (457 - lo) / (hi - lo), 35.0, left=True)) < 0.05


class TestSetbackCap:
    def test_setback_is_capped_and_lowers_the_quality(self, straight, monkeypatch):
        monkeypatch.setattr(settings, "geocode_max_setback_m", 50.0)
        # 附9号 would be 90 m back; capped at 50 m: 15 + 50 = 65 m from the centreline.
        r = straight.locate(parse_address("测试路25号附9号"), side_offset_m=15.0, sub_setback_m=10.0)
        assert r.quality == "partial"
        assert geod_m(r.lon, r.lat, *expected_on_straight((108.36, 30.84), (108.37, 30.84), 24 / 98, 65.0, left=True)) < 0.05
        assert "90 m" in r.note and "cap" in r.note

    def test_setback_under_the_cap_is_untouched(self, straight):
        r = straight.locate(parse_address("测试路25号附5号"), side_offset_m=15.0, sub_setback_m=10.0, max_setback_m=50.0)
        assert r.quality == "interpolated"
        assert geod_m(r.lon, r.lat, *expected_on_straight((108.36, 30.84), (108.37, 30.84), 24 / 98, 65.0, left=True)) < 0.05

    def test_the_issue_example_no_longer_lands_kilometres_away(self, no_overrides):
        # Before: 431-441 was read as 431号附441号 and set back 4,410 m.
        r = geocode_address("凤仙路431-441号")
        a, b, lo, hi = FENGXIAN_3
        street = expected_on_straight(a, b, (436 - lo) / (hi - lo), 0.0, left=True)
        assert geod_m(r.lon, r.lat, *street) == pytest.approx(15.0, abs=0.05)


class TestExtent:
    def test_point_outside_shahe_fails_with_the_reason(self, no_overrides, monkeypatch):
        # Lift the cap: 431号附441号 is then set back 15 + 4,410 m, which leaves Shahe's box.
        monkeypatch.setattr(settings, "geocode_max_setback_m", 1e6)
        r = geocode_address("凤仙路431号附441号")
        assert r.quality == "failed" and r.lon is None and r.lat is None
        assert "outside Shahe's extent" in r.note and "4410 m" in r.note

    def test_gazetteer_road_outside_the_extent_fails(self, tmp_path):
        doc = json.loads((DATA / "gazetteer_straight.geojson").read_text(encoding="utf-8"))
        for feat in doc["features"]:
            feat["geometry"]["coordinates"] = [[x + 0.2, y] for x, y in feat["geometry"]["coordinates"]]
        path = tmp_path / "far.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        far = Gazetteer.from_file(path)
        for text in ("测试路25号", "测试路999号"):  # interpolated and road-middle points alike
            r = far.locate(parse_address(text))
            assert r.quality == "failed" and "outside Shahe's extent" in r.note, text

    def test_extent_is_read_at_call_time(self, straight, monkeypatch):
        assert straight.locate(parse_address("测试路25号")).ok
        monkeypatch.setattr(settings, "shahe_bounds", (108.30, 30.80, 108.35, 30.83))
        assert straight.locate(parse_address("测试路25号")).quality == "failed"
