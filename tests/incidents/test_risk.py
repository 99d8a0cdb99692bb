"""Per-estate measures, the risk score and the proposed batches (geo.risk), on tiny hand-made data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo.errors import CRSError
from geo.incidents.attribution import assign_incidents
from geo.incidents.risk import (
    COMPONENTS,
    counts_by_period,
    estate_measures,
    normalise,
    parse_weights,
    parse_window,
    risk_table,
)

GEOD = pyproj.Geod(ellps="WGS84")
A = (108.360, 30.840)


def offset(origin, azimuth_deg, dist_m):
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], azimuth_deg, dist_m)
    return (lon, lat)


B = offset(A, 90, 1000)
C = offset(A, 90, 2000)


def estates_frame(points, ids=None, *, units=None, years=None):
    ids = ids or [f"E{i}" for i in range(len(points))]
    df = pd.DataFrame({"estate_id": ids, "name": [f"小区{i}" for i in range(len(points))], "community": "凤仙路社区"})
    if units is not None:
        df["units"] = units
    if years is not None:
        df["batch_year"] = years
    return gpd.GeoDataFrame(df, geometry=[shapely.Point(p) for p in points], crs="EPSG:4326")


def incidents(rows):
    """rows: (lon, lat, time, category, source)."""
    return pd.DataFrame(rows, columns=["lon", "lat", "time", "category", "source"]).assign(time=lambda d: pd.to_datetime(d["time"]))


@pytest.fixture
def three():
    est = estates_frame([A, B, C], ["A", "B", "C"], units=[4, 2, 10], years=[2024, 2023, 2022])
    rows = [
        (*offset(A, 0, 50), "2021-02-01 23:00", "盗窃", "criminal_case"),
        (*offset(A, 180, 150), "2021-05-01 02:00", "盗窃", "criminal_case"),
        (*offset(A, 270, 290), "2021-07-01 12:00", "盗窃", "criminal_case"),
        (*offset(A, 0, 310), "2021-07-02 12:00", "盗窃", "criminal_case"),  # 310 m: outside 300 m
        (*offset(A, 0, 10), "2018-12-31 23:59", "盗窃", "criminal_case"),  # before the window
        (*offset(A, 0, 10), "2022-01-01 00:00", "盗窃", "criminal_case"),  # after the window
        (*offset(B, 0, 100), "2021-03-03 20:00", "矛盾纠纷", "dispute_register"),
        (*offset(B, 45, 100), "2021-03-04 20:00", "矛盾纠纷", "dispute_register"),
    ]
    return est, incidents(rows)


class TestMeasures:
    def test_counts_within_radius_and_window(self, three):
        est, inc = three
        m = estate_measures(inc, est, radius_m=300, start=2021, end=2021)
        assert m.loc["A", "盗窃"] == 3 and m.loc["B", "矛盾纠纷"] == 2 and m.loc["C", "total"] == 0
        # Components do not nest: three thefts are three thefts and nothing else.
        assert m.loc["A", "theft"] == 3 and m.loc["A", "other_property"] == 0 and m.loc["A", "other_criminal"] == 0 and m.loc["A", "other_calls"] == 0
        assert (m[list(COMPONENTS)].sum(axis=1) == m["total"]).all()
        assert m.loc["A", "theft_per100u"] == pytest.approx(3 / 4 * 100)
        assert list(m.index) == ["A", "B", "C"]

    def test_radius_is_inclusive_of_a_larger_distance(self, three):
        est, inc = three
        assert estate_measures(inc, est, radius_m=320, start=2021, end=2021).loc["A", "盗窃"] == 4

    def test_radius_and_nearest_modes(self):
        est = estates_frame([A, B], ["A", "B"])
        p = offset(A, 90, 480)  # 480 m from A, 520 m from B
        inc = incidents([(*p, "2021-01-01 10:00", "其他警情", "110")])
        ii, ee = assign_incidents(inc, est, radius_m=600, mode="radius")
        assert sorted(ee.tolist()) == [0, 1] and ii.tolist() == [0, 0]
        _, ee = assign_incidents(inc, est, radius_m=600, mode="nearest")
        assert ee.tolist() == [0]
        _, ee = assign_incidents(inc, est, radius_m=400, mode="nearest")
        assert ee.tolist() == []

    def test_polygon_footprint_counts_inside(self):
        x0, y0 = A
        poly = shapely.box(x0 - 0.002, y0 - 0.002, x0 + 0.002, y0 + 0.002)
        est = gpd.GeoDataFrame({"estate_id": ["P"]}, geometry=[poly], crs="EPSG:4326")
        inc = incidents([(x0 + 0.001, y0 + 0.001, "2021-01-01", "盗窃", "110")])
        assert estate_measures(inc, est, radius_m=1).loc["P", "盗窃"] == 1

    def test_nan_coordinates_are_ignored(self, three):
        est, inc = three
        inc.loc[0, "lon"] = np.nan
        assert estate_measures(inc, est, radius_m=300, start=2021, end=2021).loc["A", "盗窃"] == 2

    def test_estates_without_crs_are_refused(self, three):
        est, inc = three
        with pytest.raises(CRSError):
            estate_measures(inc, est.set_crs(None, allow_override=True))

    def test_counts_by_year(self, three):
        est, inc = three
        t = counts_by_period(inc, est, radius_m=300)
        a = t[(t.estate_id == "A") & (t.category == "盗窃")].set_index("period")["count"].to_dict()
        assert a == {"2018": 1, "2021": 3, "2022": 1}


class TestScore:
    def test_weights_and_window_parsing(self):
        w = parse_weights("theft=2, disputes=0")
        assert w["theft"] == 2 and w["disputes"] == 0 and set(w) == set(COMPONENTS)
        with pytest.raises(ValueError, match="not a component"):
            parse_weights("thefts=2")
        with pytest.raises(ValueError, match="non-negative"):
            parse_weights("theft=-1")
        assert parse_window("2019-2021") == (2019, 2021)
        assert parse_window(2020) == (2020, 2020)
        with pytest.raises(ValueError):
            parse_window("2021-2019")

    def test_normalisations(self):
        np.testing.assert_allclose(normalise([3, 0, 0], "z"), [np.sqrt(2), -1 / np.sqrt(2), -1 / np.sqrt(2)])
        np.testing.assert_allclose(normalise([5, 5], "z"), [0, 0])
        np.testing.assert_allclose(normalise([10, 0, 5], "rank"), [1.0, 0.0, 0.5])

    def test_hand_computed_ranking(self, three):
        est, inc = three
        t = risk_table(inc, est, window=(2021, 2021), radius_m=300).set_index("estate_id")
        # theft = [3, 0, 0], disputes = [0, 2, 0], the other three components 0 everywhere (z = 0):
        # z([3,0,0]) = [+sqrt2, -1/sqrt2, -1/sqrt2]; weights theft 2, disputes 1.
        r2, h = np.sqrt(2), 1 / np.sqrt(2)
        assert t.loc["A", "score"] == pytest.approx(2 * r2 - h)
        assert t.loc["B", "score"] == pytest.approx(-2 * h + r2)
        assert t.loc["C", "score"] == pytest.approx(-2 * h - h)
        assert t["rank"].to_dict() == {"A": 1, "B": 2, "C": 3}
        assert t["proposed_year"].to_dict() == {"A": 2022, "B": 2023, "C": 2024}
        assert t["agreement"].to_dict() == {"A": "plan later", "B": "same", "C": "plan earlier"}
        assert "盗窃 3" in t.loc["A", "why"]
        assert "矛盾纠纷 2" in t.loc["B", "why"]

    def test_weights_change_the_order_and_ties_go_by_id(self, three):
        est, inc = three
        t = risk_table(inc, est, window="2021-2021", radius_m=300, weights="theft=0,other_property=0,other_criminal=0,disputes=1")
        assert list(t["estate_id"]) == ["B", "A", "C"]
        assert t.attrs["weights"]["disputes"] == 1.0

    def test_rates_per_units(self, three):
        est, inc = three
        t = risk_table(inc, est, window=(2021, 2021), radius_m=300, per_units=True).set_index("estate_id")
        assert t.loc["A", "theft_per100u"] == pytest.approx(75.0)
        assert t.loc["B", "disputes_per100u"] == pytest.approx(100.0)

    def test_missing_unit_count_gets_no_rate_and_no_rank(self, three):
        est, inc = three
        est = est.assign(units=[4, np.nan, 10])
        t = risk_table(inc, est, window=(2021, 2021), radius_m=300, per_units=True)
        assert t.attrs["missing_units"] == ["B"]
        assert list(t["estate_id"]) == ["A", "C", "B"]
        b = t.set_index("estate_id").loc["B"]
        assert pd.isna(b["rank"]) and pd.isna(b["disputes_per100u"]) and pd.isna(b["score"]) and "no unit count" in b["why"]
        # A and C ranked between themselves: theft per 100 units [75, 0] -> z [+1, -1], weight 2; the rest 0.
        r = t.set_index("estate_id")
        assert r.loc["A", "score"] == pytest.approx(2.0) and r.loc["C", "score"] == pytest.approx(-2.0)
        assert r.loc["A", "rank"] == 1 and r.loc["C", "rank"] == 2

    def test_thirds(self):
        pts = [offset(A, 90, 1000 * i) for i in range(6)]
        est = estates_frame(pts, units=[1] * 6, years=[2022, 2022, 2023, 2023, 2024, 2024])
        rows = [(*p, "2020-06-01 12:00", "盗窃", "110") for i, p in enumerate(pts) for _ in range(i)]
        t = risk_table(incidents(rows), est, window=(2020, 2020), radius_m=100)
        assert list(t["estate_id"]) == ["E5", "E4", "E3", "E2", "E1", "E0"]
        assert list(t["proposed_batch"]) == [1, 1, 2, 2, 3, 3]
        agreement = t.set_index("estate_id")["agreement"].to_dict()
        assert agreement == {"E5": "plan later", "E4": "plan later", "E3": "same", "E2": "same", "E1": "plan earlier", "E0": "plan earlier"}

    def test_cli_rank(self, tmp_path, three, capsys, monkeypatch):
        from geo import io, settings
        from geo.cli.main import main
        from geo.incidents.store import STORE_COLUMNS, write_store

        est, inc = three
        monkeypatch.setattr(settings, "data_dir", tmp_path)
        est_full = est.assign(batch_period="2022年1月至2022年11月", address="x", seq=[1, 2, 3])
        io.write_geojson(est_full, tmp_path / "estates.geojson")
        store = inc.assign(
            incident_id=[f"T{i}" for i in range(len(inc))],
            time=inc["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            subcategory="",
            address="",
            text="",
            synthetic="true",
            x_geocode_quality="given",
        )[list(STORE_COLUMNS)]
        write_store(store, tmp_path / "incidents.csv")
        assert main(["rank", "--window", "2021-2021", "--radius-m", "300", "--out", str(tmp_path / "rank.csv")]) == 0
        out = capsys.readouterr()
        assert "synthetic" in out.err
        ranked = pd.read_csv(tmp_path / "rank.csv", encoding="utf-8-sig")
        assert list(ranked["estate_id"]) == ["A", "B", "C"]
