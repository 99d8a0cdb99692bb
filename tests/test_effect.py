"""Before/after comparison of each estate's rectification window (geo.effect), hand-computed."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.effect import effect_summary, effect_table, rate_test

A = (108.360, 30.840)
B = (108.370, 30.840)  # about 950 m east of A
C = (108.380, 30.840)


def binom_two_sided(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial p-value: the total probability of outcomes no likelier than k."""
    pmf = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(x for x in pmf if x <= pmf[k] * (1 + 1e-7)))


def monthly(point, first: str, last: str, per_month: int, category="盗窃"):
    months = pd.period_range(first, last, freq="M")
    return [(point[0], point[1], f"{m.year}-{m.month:02d}-{5 + j:02d} 10:00", category, "110") for m in months for j in range(per_month)]


@pytest.fixture
def data():
    estates = gpd.GeoDataFrame(
        {"estate_id": ["E1", "E2", "E3"], "name": ["一", "二", "三"], "community": ["甲", "甲", "乙"], "batch_year": [2022, 2023, 2022]},
        geometry=[shapely.Point(A), shapely.Point(B), shapely.Point(C)],
        crs="EPSG:4326",
    )
    rows = (
        monthly(A, "2021-01", "2021-12", 2)  # 24 before
        + [(A[0], A[1], "2022-03-01 10:00", "盗窃", "110")] * 5  # inside the window: not counted
        + monthly(A, "2022-12", "2023-12", 1)  # 13 after
        + [(A[0], A[1], "2020-06-01 10:00", "盗窃", "110")]  # before the data period
        + monthly(B, "2021-01", "2022-12", 1)  # 24 before
        + [(B[0], B[1], "2023-12-01 10:00", "矛盾纠纷", "110")] * 2  # 2 in the only month after
    )
    inc = pd.DataFrame(rows, columns=["lon", "lat", "time", "category", "source"])
    inc["time"] = pd.to_datetime(inc["time"])
    return estates, inc


class TestEffectTable:
    def test_hand_computed(self, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100).set_index("estate_id")
        e1 = t.loc["E1"]
        assert (e1.months_before, e1.n_before, e1.months_after, e1.n_after) == (12, 24, 13, 13)
        assert e1.rate_before == pytest.approx(2.0) and e1.rate_after == pytest.approx(1.0)
        assert e1.change_pct == pytest.approx(-50.0)
        p = binom_two_sided(13, 37, 13 / 25)
        assert e1.p_value == pytest.approx(p, rel=1e-9)
        assert e1.verdict == ("fewer" if p < 0.05 else "no clear change")
        e2 = t.loc["E2"]
        assert (e2.months_before, e2.n_before, e2.months_after, e2.n_after) == (24, 24, 1, 2)
        assert e2.verdict == "too short: only 1 month after the window"
        e3 = t.loc["E3"]
        assert (e3.n_before, e3.n_after) == (0, 0) and e3.verdict == "no incidents"
        assert t.attrs["data_months"] == ("2021-01", "2023-12")

    def test_default_period_is_the_data(self, data):
        estates, inc = data
        t = effect_table(inc, estates, radius_m=100)
        assert t.attrs["data_months"] == ("2020-06", "2023-12")
        assert t.set_index("estate_id").loc["E1", "months_before"] == 12 + 7  # 2020-06 .. 2021-12

    def test_category_filter(self, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100, categories=["矛盾纠纷"]).set_index("estate_id")
        assert (t.loc["E2", "n_before"], t.loc["E2", "n_after"]) == (0, 2)
        with pytest.raises(ValueError, match="unknown categories"):
            effect_table(inc, estates, categories=["UFO"])

    def test_no_data_after_the_window(self, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2022-11", radius_m=100).set_index("estate_id")
        assert t.loc["E1", "months_after"] == 0 and t.loc["E1", "verdict"] == "no data after the window"
        assert np.isnan(t.loc["E1", "p_value"])

    def test_estate_without_batch_year(self, data):
        estates, inc = data
        estates.loc[2, "batch_year"] = np.nan
        t = effect_table(inc, estates, radius_m=100)
        assert t.set_index("estate_id").loc["E3", "verdict"] == "no batch year"


class TestSummary:
    def test_per_batch_pools_counts_and_estate_months(self, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100)
        s = effect_summary(t, by="batch_year").set_index("batch_year")
        b = s.loc[2022]
        assert (b.estates, b.months_before, b.n_before, b.months_after, b.n_after) == (2, 24, 24, 26, 13)
        assert b.rate_after == pytest.approx(0.5)
        assert b.p_value == pytest.approx(binom_two_sided(13, 37, 26 / 50), rel=1e-9)
        assert s.loc[2023, "verdict"].startswith("too short")

    def test_per_community(self, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100)
        s = effect_summary(t, by="community").set_index("community")
        assert s.loc["甲", "n_before"] == 48 and s.loc["甲", "verdict"].startswith("too short")
        assert s.loc["乙", "verdict"] == "no incidents"


def test_rate_test_equal_rates_is_not_significant():
    assert rate_test(10, 10, 10, 10) == pytest.approx(1.0)
    assert math.isnan(rate_test(0, 10, 0, 10))


def test_cli_effect_by_batch(tmp_path, data, capsys, monkeypatch):
    from geo import io, settings
    from geo.cli import main
    from geo.incidents import STORE_COLUMNS, write_store

    estates, inc = data
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    io.write_geojson(estates.assign(address="x"), tmp_path / "estates.geojson")
    store = inc.assign(
        incident_id=[f"T{i}" for i in range(len(inc))],
        time=inc["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        subcategory="",
        address="",
        text="",
        synthetic="false",
        x_geocode_quality="given",
    )[list(STORE_COLUMNS)]
    write_store(store, tmp_path / "incidents.csv")
    assert main(["effect", "--by", "batch_year", "--radius-m", "100", "--out", str(tmp_path / "e.csv")]) == 0
    out = capsys.readouterr().out
    assert "too short" in out
    table = pd.read_csv(tmp_path / "e.csv", encoding="utf-8-sig")
    assert list(table["batch_year"]) == [2022, 2023]
