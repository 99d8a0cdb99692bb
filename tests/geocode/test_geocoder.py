"""Geocoding: gazetteer interpolation, overrides, online providers, the estates build (geo.geocode)."""

import csv
import json
import math
import sqlite3
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import requests

from geo import crs as _crs
from geo import io, settings
from geo.cli.main import main as cli_main
from geo.crs import wgs84_to_gcj02
from geo.errors import GeocodeError, GeoError
from geo.geocode.address import parse_address
from geo.geocode.gazetteer import Gazetteer, OfflineProvider
from geo.geocode.geocoder import Geocoder, build_estates, geocode_address, geocode_many
from geo.geocode.online import AmapProvider, GeocodeCache, TiandituProvider, make_provider
from geo.geocode.overrides import load_overrides

DATA = Path(__file__).parents[1] / "data" / "geocode"
GEOD = pyproj.Geod(ellps="WGS84")


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
def no_overrides(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "geocode_overrides_path", tmp_path / "none.csv")


@pytest.fixture()
def straight():
    return Gazetteer.from_file(DATA / "gazetteer_straight.geojson")


# --- interpolation -----------------------------------------------------------------


class TestInterpolation:
    A, B = (108.36, 30.84), (108.37, 30.84)

    @pytest.mark.parametrize(("number", "left"), [(1, True), (25, True), (99, True), (2, False), (50, False), (100, False)])
    def test_point_matches_geodesic_construction(self, straight, number, left):
        lo, hi = (1, 99) if left else (2, 100)
        t = (number - lo) / (hi - lo)
        r = straight.locate(parse_address(f"测试路{number}号"), side_offset_m=15.0, sub_setback_m=10.0)
        assert r.quality == "interpolated"
        ex = expected_on_straight(self.A, self.B, t, 15.0, left=left)
        assert geod_m(r.lon, r.lat, *ex) < 0.05

    def test_odd_left_even_right_of_an_eastward_road(self, straight):
        odd = straight.locate(parse_address("测试路51号"), side_offset_m=15.0)
        even = straight.locate(parse_address("测试路52号"), side_offset_m=15.0)
        # The road runs east along 30.84: left is north, right is south.
        assert odd.lat > 30.84 > even.lat
        assert geod_m(odd.lon, odd.lat, even.lon, even.lat) == pytest.approx(30.0, abs=0.5)

    def test_second_segment_and_northward_direction(self, straight):
        r = straight.locate(parse_address("测试路151号"), side_offset_m=20.0)
        ex = expected_on_straight((108.37, 30.84), (108.37, 30.85), 50 / 98, 20.0, left=True)
        assert geod_m(r.lon, r.lat, *ex) < 0.05
        assert "测试路/2" in r.note

    def test_numbers_running_against_the_line(self, straight):
        # 倒序街 is drawn northward but numbered from 49 at its start down to 1 at its end.
        r = straight.locate(parse_address("倒序街1号"), side_offset_m=15.0)
        ex = expected_on_straight((108.38, 30.83), (108.38, 30.84), 1.0, 15.0, left=True)
        assert geod_m(r.lon, r.lat, *ex) < 0.05

    def test_sub_numbers_are_set_back_apart(self, straight):
        base = straight.locate(parse_address("测试路25号"), side_offset_m=15.0, sub_setback_m=10.0)
        pts = [straight.locate(parse_address(f"测试路25号附{k}号"), side_offset_m=15.0, sub_setback_m=10.0) for k in (1, 2, 3)]
        t = 24 / 98
        for k, r in zip((1, 2, 3), pts, strict=True):
            ex = expected_on_straight(self.A, self.B, t, 15.0 + 10.0 * k, left=True)
            assert geod_m(r.lon, r.lat, *ex) < 0.05
            assert r.sub_number == str(k)
        dists = [geod_m(base.lon, base.lat, r.lon, r.lat) for r in pts]
        assert all(5 < d < 50 for d in dists)
        listed = straight.locate(parse_address("测试路25号附1、2、3号"), side_offset_m=15.0, sub_setback_m=10.0)
        assert geod_m(listed.lon, listed.lat, pts[1].lon, pts[1].lat) < 0.05  # mean of 1, 2, 3

    def test_number_outside_ranges_gives_road_quality(self, straight):
        r = straight.locate(parse_address("测试路999号"))
        assert r.quality == "road"
        assert "outside the numbered ranges" in r.note
        # Middle of the road: 测试路 is two ~955 m / ~1108 m pieces; the middle lies on piece 2.
        d1 = geod_m(108.36, 30.84, 108.37, 30.84)
        d2 = geod_m(108.37, 30.84, 108.37, 30.85)
        assert geod_m(r.lon, r.lat, 108.37, 30.84) == pytest.approx((d1 + d2) / 2 - d1, abs=0.5)

    def test_road_without_numbers_gives_road_quality(self, straight):
        r = straight.locate(parse_address("无号路3号"))
        assert r.quality == "road" and "no house numbers" in r.note

    def test_missing_road_fails_with_reason(self, straight):
        r = straight.locate(parse_address("人民路1号"))
        assert r.quality == "failed" and r.lon is None and r.lat is None
        assert "人民路" in r.note and "not in the gazetteer" in r.note

    def test_gazetteer_declared_gcj02_is_converted_before_interpolating(self, tmp_path):
        doc = json.loads((DATA / "gazetteer_straight.geojson").read_text(encoding="utf-8"))
        for feat in doc["features"]:
            feat["geometry"]["coordinates"] = [list(wgs84_to_gcj02(x, y)) for x, y in feat["geometry"]["coordinates"]]
        doc["datum"] = "gcj02"
        path = tmp_path / "gcj.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        r = Gazetteer.from_file(path).locate(parse_address("测试路25号"), side_offset_m=15.0, sub_setback_m=10.0)
        ex = expected_on_straight(self.A, self.B, (25 - 1) / (99 - 1), 15.0, left=True)
        assert geod_m(r.lon, r.lat, *ex) < 0.05

    def test_bad_gazetteer_reports_every_feature(self, tmp_path):
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"segment_id": "x/1", "left_from": 1, "left_to": 9}, "geometry": {"type": "LineString", "coordinates": [[108.36, 30.84], [108.37, 30.84]]}},
                {"type": "Feature", "properties": {"road": "乙路", "left_from": 1, "left_to": 10}, "geometry": {"type": "LineString", "coordinates": [[108.36, 30.84], [108.37, 30.84]]}},
                {"type": "Feature", "properties": {"road": "丙路"}, "geometry": {"type": "Point", "coordinates": [108.36, 30.84]}},
            ],
        }
        path = tmp_path / "g.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(GeoError) as info:
            Gazetteer.from_file(path)
        text = str(info.value)
        assert "field 'road'" in text and "left_from" in text and "Point" in text


# --- shipped gazetteer and basemap ---------------------------------------------------------


class TestShippedData:
    def test_gazetteer_says_it_is_approximate(self):
        doc = json.loads(settings.data_path("gazetteer.geojson").read_text(encoding="utf-8"))
        assert doc["approximate"] is True
        for f in doc["features"]:
            p = f["properties"]
            assert p["approximate"] is True and "not surveyed" in p["source"]
            assert {"road", "segment_id", "left_from", "left_to", "right_from", "right_to"} <= set(p)
        roads = {f["properties"]["road"] for f in doc["features"]}
        assert {"滨湖路", "申明大道", "凤仙路", "申明北路", "申明中路", "青年路", "花园路", "文家巷", "G318国道"} <= roads

    def test_gazetteer_inside_extent(self):
        west, south, east, north = settings.shahe_bounds
        g = gpd.read_file(settings.data_path("gazetteer.geojson"))
        x0, y0, x1, y1 = g.total_bounds
        assert west <= x0 and x1 <= east and south <= y0 and y1 <= north

    def test_basemap_parts_and_area(self):
        g = gpd.read_file(settings.data_path("basemap.geojson"))
        assert set(g["kind"]) == {"outline", "water", "river", "label"}
        assert g["approximate"].all()
        outline = g[g["kind"] == "outline"].to_crs("EPSG:4545")
        assert outline.area.iloc[0] / 1e6 == pytest.approx(11.2, rel=0.01)
        lake = g[g["kind"] == "water"]
        assert lake.within(g[g["kind"] == "outline"].geometry.iloc[0]).all()
        assert set(g.loc[g["kind"] == "label", "name"]) >= {"凤仙路社区", "申明社区", "沙河社区", "花青路社区"}

    def test_make_gazetteer_reproduces_shipped_files(self, tmp_path):
        import importlib.util

        spec = importlib.util.spec_from_file_location("make_gazetteer", Path(__file__).parents[2] / "scripts" / "make_gazetteer.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        assert mod.main(["--out-dir", str(tmp_path)]) == 0
        for name in ("gazetteer.geojson", "basemap.geojson"):
            assert (tmp_path / name).read_bytes() == settings.data_path(name).read_bytes()

    def test_overrides_file_ships_without_invented_points(self):
        with settings.data_path("geocode_overrides.csv").open(encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["estate_id", "address", "lon", "lat", "datum", "note"]
        assert [r for r in rows[1:] if r and not r[0].startswith("#")] == []


# --- overrides ---------------------------------------------------------------------------


class TestOverrides:
    def test_rows_are_read_converted_and_bad_ones_reported(self):
        ov = load_overrides(DATA / "overrides_mixed.csv")
        assert ov.by_id["SH-04"].lon == pytest.approx(108.3661) and ov.by_id["SH-04"].lat == pytest.approx(30.8397)
        wlon, wlat = _crs.gcj02_to_wgs84(108.3742, 30.8349)
        g = ov.by_address["凤仙路443号"]
        assert (g.lon, g.lat) == pytest.approx((wlon, wlat), abs=1e-9)
        assert len(ov.problems) == 2
        swapped = next(p for p in ov.problems if "row 4" in p)
        assert "swapped" in swapped
        datum = next(p for p in ov.problems if "row 5" in p)
        assert "datum" in datum and "krasovsky" in datum

    def test_override_wins_and_bad_row_falls_back_with_note(self):
        geo = Geocoder("offline", overrides=DATA / "overrides_mixed.csv")
        rs = geo.geocode_many(["凤仙路328号", "凤仙路443号", "申明北路63号", "申明中路206号"], ids=["SH-04", "SH-09", "SH-06", "SH-07"])
        assert [r.quality for r in rs] == ["surveyed", "surveyed", "interpolated", "interpolated"]
        assert rs[0].source.startswith("override:") and "row 2" in rs[0].note
        assert "GCJ02" in rs[1].note
        assert "override ignored" in rs[2].note and "swapped" in rs[2].note
        assert rs[0].road == "凤仙路" and rs[0].number == "328"

    def test_override_gives_a_point_even_to_an_unparseable_address(self, tmp_path):
        path = tmp_path / "o.csv"
        path.write_text("estate_id,address,lon,lat,datum,note\nX-1,,108.37,30.84,,\n", encoding="utf-8")
        r = Geocoder("offline", overrides=path).geocode("老粮站后面", estate_id="X-1")
        assert r.quality == "surveyed" and (r.lon, r.lat) == (108.37, 30.84) and r.road is None


# --- online providers -----------------------------------------------------------------------


class FakeResponse:
    def __init__(self, text, status_code=200):
        self.text = text
        self.status_code = status_code


class FakeSession:
    """Answers by a substring of the query; records every call; never touches the network."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def get(self, url, params=None, timeout=None):
        self.calls.append((url, params, timeout))
        query = params.get("address") or json.loads(params["ds"])["keyWord"]
        for key, answer in self.answers.items():
            if key in query:
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return FakeResponse("{}", 404)


def fixture_text(name):
    return (DATA / name).read_text(encoding="utf-8")


@pytest.fixture()
def cache():
    c = GeocodeCache(":memory:")
    yield c
    c.close()


def amap(session, cache, **kw):
    return AmapProvider("test-key", session=session, cache=cache, min_interval_s=0.0, **kw)


class TestAmap:
    def test_gcj02_answer_is_converted_to_wgs84(self, cache):
        s = FakeSession({"凤仙路457号": FakeResponse(fixture_text("amap_ok.json"))})
        r = amap(s, cache).geocode(parse_address("凤仙路457号"))
        assert r.quality == "exact" and r.source.startswith("amap:")
        ex = _crs.gcj02_to_wgs84(108.3745, 30.8345)
        assert (r.lon, r.lat) == pytest.approx(ex, abs=1e-9)
        assert 300 < geod_m(r.lon, r.lat, 108.3745, 30.8345) < 700  # the GCJ-02 offset near Wanzhou
        url, params, timeout = s.calls[0]
        assert url == "https://restapi.amap.com/v3/geocode/geo" and params["key"] == "test-key"
        assert params["address"].endswith("凤仙路457号") and timeout == settings.geocode_timeout_s

    def test_answer_is_cached_on_disk_and_not_asked_again(self, tmp_path):
        s = FakeSession({"凤仙路457号": FakeResponse(fixture_text("amap_ok.json"))})
        db = tmp_path / "cache.sqlite"
        first = amap(s, GeocodeCache(db)).geocode(parse_address("凤仙路457号"))
        again = amap(s, GeocodeCache(db)).geocode(parse_address("重庆市万州区凤仙路４５７号"))
        assert len(s.calls) == 1
        assert (again.lon, again.lat) == (first.lon, first.lat) and "from cache" in again.note
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT count(*) FROM answers").fetchone()[0] == 1

    def test_road_level_and_coarse_levels(self, cache):
        s = FakeSession({"青年路": FakeResponse(fixture_text("amap_road.json")), "花园路": FakeResponse(fixture_text("amap_district.json"))})
        p = amap(s, cache)
        assert p.geocode(parse_address("青年路31号")).quality == "road"
        coarse = p.geocode(parse_address("花园路29号"))
        assert coarse.quality == "failed" and "区县" in coarse.note and coarse.lon is None

    def test_refusal_is_reported_and_not_cached(self, cache):
        s = FakeSession({"凤仙路": FakeResponse(fixture_text("amap_invalid_key.json"))})
        p = amap(s, cache)
        r = p.geocode(parse_address("凤仙路328号"))
        assert r.quality == "failed" and "INVALID_USER_KEY" in r.note
        p.geocode(parse_address("凤仙路328号"))
        assert len(s.calls) == 2

    def test_no_match_is_failed_and_cached(self, cache):
        s = FakeSession({"凤仙路": FakeResponse(fixture_text("amap_no_match.json"))})
        p = amap(s, cache)
        assert "no match" in p.geocode(parse_address("凤仙路328号")).note
        p.geocode(parse_address("凤仙路328号"))
        assert len(s.calls) == 1

    def test_same_named_road_elsewhere_is_rejected(self, cache):
        s = FakeSession({"青年路": FakeResponse(fixture_text("amap_elsewhere.json"))})
        r = amap(s, cache).geocode(parse_address("青年路1号"))
        assert r.quality == "failed" and "outside the subdistrict" in r.note

    def test_timeout_garbage_and_http_error_do_not_stop_the_batch(self, cache):
        s = FakeSession(
            {
                "凤仙路457号": FakeResponse(fixture_text("amap_ok.json")),
                "凤仙路1号": requests.Timeout("read timed out"),
                "凤仙路2号": FakeResponse("<html>502 Bad Gateway</html>"),
                "凤仙路3号": FakeResponse('{"status": "1", "geocodes": [{"location": 5}]}'),
                "凤仙路4号": FakeResponse("", 503),
                "凤仙路5号": requests.ConnectionError("no route to host"),
            }
        )
        geo = Geocoder(amap(s, cache), overrides=DATA / "absent.csv")
        rs = geo.geocode_many(["凤仙路1号", "凤仙路2号", "凤仙路3号", "凤仙路4号", "凤仙路5号", "不是地址", "凤仙路457号"])
        assert [r.quality for r in rs] == ["failed"] * 6 + ["exact"]
        assert "did not answer" in rs[0].note
        assert "not JSON" in rs[1].note
        assert "unexpected shape" in rs[2].note
        assert "HTTP 503" in rs[3].note
        assert "ConnectionError" in rs[4].note
        assert "no road name" in rs[5].note
        assert cache.get("amap", "重庆市万州区沙河街道凤仙路1号") is None  # failures are asked again next time

    def test_rate_limit_waits_between_requests(self, cache):
        s = FakeSession({"凤仙路": FakeResponse(fixture_text("amap_no_match.json"))})
        now = [100.0]
        slept = []
        p = AmapProvider("k", session=s, cache=cache, min_interval_s=0.5, clock=lambda: now[0], sleep=slept.append)
        p.geocode(parse_address("凤仙路1号"))
        now[0] += 0.2
        p.geocode(parse_address("凤仙路3号"))
        assert slept == [pytest.approx(0.3)]


class TestTianditu:
    def test_cgcs2000_answer_is_taken_as_is(self, cache):
        s = FakeSession({"青年路31号": FakeResponse(fixture_text("tianditu_ok.json"))})
        r = TiandituProvider("tk", session=s, cache=cache, min_interval_s=0).geocode(parse_address("青年路31号附1号"))
        assert (r.lon, r.lat, r.quality) == (108.3795, 30.8377, "exact")
        url, params, _ = s.calls[0]
        assert url.endswith("/geocoder") and params["tk"] == "tk"
        assert json.loads(params["ds"]) == {"keyWord": "重庆市万州区沙河街道青年路31号附1号"}

    def test_error_status_is_reported(self, cache):
        s = FakeSession({"青年路": FakeResponse(fixture_text("tianditu_error.json"))})
        r = TiandituProvider("tk", session=s, cache=cache, min_interval_s=0).geocode(parse_address("青年路31号"))
        assert r.quality == "failed" and "101" in r.note


class TestProviderChoice:
    def test_online_provider_needs_a_key(self, monkeypatch):
        monkeypatch.delenv("AMAP_KEY", raising=False)
        monkeypatch.delenv("TIANDITU_KEY", raising=False)
        with pytest.raises(GeocodeError, match="AMAP_KEY"):
            make_provider("amap")
        with pytest.raises(GeocodeError, match="TIANDITU_KEY"):
            geocode_address("凤仙路328号", provider="tianditu")

    def test_unknown_provider(self):
        with pytest.raises(GeocodeError, match="offline, amap, tianditu"):
            make_provider("baidu")

    def test_default_is_offline(self):
        assert isinstance(make_provider(), OfflineProvider)


# --- public functions on the shipped data ----------------------------------------------------


class TestPublicApi:
    def test_geocode_address_on_shipped_gazetteer(self, no_overrides):
        r = geocode_address("重庆市万州区沙河街道凤仙路４５７号附１号", estate_id="SH-11")
        assert r.quality == "interpolated" and r.estate_id == "SH-11"
        assert (r.road, r.number, r.sub_number) == ("凤仙路", "457", "1")
        west, south, east, north = settings.shahe_bounds
        assert west <= r.lon <= east and south <= r.lat <= north

    def test_geocode_address_fails_without_a_point(self, no_overrides):
        for text, words in [("北京市海淀区中关村大街1号", "北京市"), ("人民路1号", "not in the gazetteer"), ("", "empty")]:
            r = geocode_address(text)
            assert r.quality == "failed" and r.lon is None and r.lat is None and words in r.note

    def test_strict_raises(self, no_overrides):
        with pytest.raises(GeocodeError, match="人民路"):
            geocode_address("人民路1号", strict=True)

    def test_geocode_many_keeps_order_and_never_raises(self, no_overrides):
        rs = geocode_many(["凤仙路328号", None, "abc", "凤仙路328号"], ids=["a", "b", "c", "d"])
        assert [r.quality for r in rs] == ["interpolated", "failed", "failed", "interpolated"]
        assert [r.estate_id for r in rs] == ["a", "b", "c", "d"]
        assert (rs[0].lon, rs[0].lat) == (rs[3].lon, rs[3].lat)


class TestBuildEstates:
    def test_rebuild_reproduces_the_committed_file(self, tmp_path):
        out = tmp_path / "estates.geojson"
        build_estates(out_path=out)
        assert out.read_bytes() == settings.data_path("estates.geojson").read_bytes()

    def test_committed_positions_sit_where_the_rule_puts_them(self):
        """Independent of the geocoder: each point lies 15 m from its road's centreline, plus 10 m per 附N号 (shapely, EPSG:4545).

        A list of sub-numbers (附1、2、3号) stands at the middle one.
        """
        import re

        import geopandas as gpd

        estates = gpd.read_file(settings.data_path("estates.geojson")).to_crs("EPSG:4545")
        roads = gpd.read_file(settings.data_path("gazetteer.geojson")).to_crs("EPSG:4545")
        for _, row in estates.iterrows():
            road = re.match(r"^(.+?(?:路|大道|街|巷))", row["address"].removeprefix("重庆市万州区").removeprefix("沙河街道"))[1]
            sub = re.search(r"附([\d、,]+)号", row["address"])
            subs = [int(n) for n in re.findall(r"\d+", sub[1])] if sub else [0]
            want_m = 15.0 + 10.0 * sum(subs) / len(subs)
            lines = roads[roads["road"] == road]
            assert len(lines), (row["estate_id"], road)
            assert lines.distance(row.geometry).min() == pytest.approx(want_m, abs=0.05), row["estate_id"]

    def test_committed_file_is_valid_complete_and_honest(self):
        gdf = io.read_estates()
        with open(settings.data_path("ledger.csv"), encoding="utf-8") as fh:
            ledger = list(csv.DictReader(fh))
        assert list(gdf["estate_id"]) == [r["estate_id"] for r in ledger]
        for row, (_, feat) in zip(ledger, gdf.iterrows(), strict=True):
            for k in ("name", "community", "address", "batch_period"):
                assert feat[k] == row[k]
            for k in ("seq", "batch_year", "buildings", "units"):
                assert int(feat[k]) == int(row[k])
        assert set(gdf["geocode_quality"]) <= {"surveyed", "interpolated"}
        assert (gdf["synthetic"] == (gdf["geocode_quality"] != "surveyed")).all()
        doc = json.loads(settings.data_path("estates.geojson").read_text(encoding="utf-8"))
        assert doc["synthetic"] is True and "approximate" in doc["note"]

    def test_sites_inside_extent_and_apart(self):
        gdf = io.read_estates()
        west, south, east, north = settings.shahe_bounds
        xs, ys = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        assert ((xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)).all()
        addrs = list(gdf["address"])
        for i, j in combinations(range(len(gdf)), 2):
            if addrs[i] != addrs[j]:
                assert geod_m(xs[i], ys[i], xs[j], ys[j]) > 5.0, (addrs[i], addrs[j])
        # The four sub-numbers of 凤仙路457号 lie close together, each on its own spot.
        sub = [k for k, a in enumerate(addrs) if a.startswith("凤仙路457号附")]
        assert len(sub) == 4
        for i, j in combinations(sub, 2):
            assert 5.0 < geod_m(xs[i], ys[i], xs[j], ys[j]) < 60.0

    def test_failed_rows_are_all_listed_and_nothing_is_written(self, tmp_path, no_overrides):
        ledger = tmp_path / "ledger.csv"
        src = settings.data_path("ledger.csv").read_text(encoding="utf-8").splitlines()
        src[3] = src[3].replace("滨湖路1573号", "人民路1号")
        src[5] = src[5].replace("申明大道267号", "申明大道")
        ledger.write_text("\n".join(src) + "\n", encoding="utf-8")
        out = tmp_path / "estates.geojson"
        with pytest.raises(GeocodeError) as info:
            build_estates(ledger, out)
        text = str(info.value)
        assert "2 of 24" in text and "SH-03" in text and "人民路" in text and "SH-05" in text and "no house number" in text
        assert not out.exists()


class TestCli:
    def test_geocode_json(self, capsys, no_overrides):
        assert cli_main(["geocode", "凤仙路457号附2号", "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert {"lon", "lat", "quality", "source", "road", "number", "sub_number"} <= set(d)
        assert (d["road"], d["number"], d["sub_number"], d["quality"]) == ("凤仙路", "457", "2", "interpolated")
        assert math.isfinite(d["lon"]) and math.isfinite(d["lat"])

    def test_geocode_failure_exits_1_with_reason(self, capsys, no_overrides):
        assert cli_main(["geocode", "人民路1号"]) == 1
        assert "not in the gazetteer" in capsys.readouterr().err

    def test_missing_key_exits_2(self, capsys, monkeypatch):
        monkeypatch.delenv("AMAP_KEY", raising=False)
        assert cli_main(["geocode", "凤仙路328号", "--provider", "amap"]) == 2
        assert "AMAP_KEY" in capsys.readouterr().err

    def test_build_estates_prints_summary(self, capsys, tmp_path):
        out = tmp_path / "e.geojson"
        assert cli_main(["build-estates", "--out", str(out), "--no-progress"]) == 0
        assert "24 estates written (interpolated 24)" in capsys.readouterr().out
        assert out.read_bytes() == settings.data_path("estates.geojson").read_bytes()
