"""Before/after comparison of each estate's rectification window (geo.effect), hand-computed."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.incidents.effect import VERDICT_CODES, effect_summary, effect_table, rate_test
from geo.plan import parse_batch_period

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
    from geo.cli.main import main
    from geo.incidents.store import STORE_COLUMNS, write_store

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
    assert main(["effect", "--method", "before-after", "--by", "batch_year", "--radius-m", "100", "--out", str(tmp_path / "e.csv")]) == 0
    out = capsys.readouterr().out
    assert "too short" in out
    table = pd.read_csv(tmp_path / "e.csv", encoding="utf-8-sig")
    assert list(table["batch_year"]) == [2022, 2023]


class TestBatchPeriod:
    def test_custom_period_moves_the_window(self, data):
        # E1's window is March 2021 to February 2022 instead of Jan-Nov 2022.
        estates, inc = data
        estates["batch_period"] = ["2021年3月至2022年2月", None, ""]
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100).set_index("estate_id")
        e1 = t.loc["E1"]
        # Before: 2021-01..2021-02 (2 months, 2 per month); after: 2022-03..2023-12 (22 months):
        # the 5 incidents of 2022-03 plus one per month from 2022-12 to 2023-12.
        assert (e1.window_start, e1.window_end) == ("2021-03", "2022-02")
        assert (e1.months_before, e1.n_before, e1.months_after, e1.n_after) == (2, 4, 22, 5 + 13)
        # Blank periods fall back to January-November of the batch year.
        assert (t.loc["E2", "window_start"], t.loc["E2", "window_end"]) == ("2023-01", "2023-11")
        assert t.loc["E2", "months_after"] == 1
        # The period starts in 2021 while batch_year says 2022: used, and said.
        assert len(t.attrs["warnings"]) == 1 and "E1" in t.attrs["warnings"][0] and "another year" in t.attrs["warnings"][0]

    def test_period_without_batch_year(self, data):
        estates, inc = data
        estates["batch_year"] = [np.nan, 2023, 2022]
        estates["batch_period"] = ["2022年1月-11月", "", ""]
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100).set_index("estate_id")
        assert t.loc["E1", "verdict_code"] != "no_batch_year"
        assert (t.loc["E1", "months_before"], t.loc["E1", "n_after"]) == (12, 13)

    def test_unparsed_period_is_reported_and_falls_back(self, data):
        estates, inc = data
        estates["batch_period"] = ["2022上半年", "2023年5月至2023年1月", None]
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100).set_index("estate_id")
        warnings = t.attrs["warnings"]
        assert len(warnings) == 2
        assert "E1" in warnings[0] and "2022上半年" in warnings[0]
        assert "E2" in warnings[1] and "ends before it starts" in warnings[1]
        assert (t.loc["E1", "window_start"], t.loc["E1", "window_end"]) == ("2022-01", "2022-11")

    @pytest.mark.parametrize(
        ("text", "first", "last"),
        [("2022年1月至2022年11月", (2022, 1), (2022, 11)), ("２０２２年３月至２０２３年２月", (2022, 3), (2023, 2)), ("2022-01至2022-11", (2022, 1), (2022, 11))],
    )
    def test_parse(self, text, first, last):
        def month(y, m):
            return (y - 1970) * 12 + m - 1

        assert parse_batch_period(text) == (month(*first), month(*last))
        assert parse_batch_period("  ") is None


class TestVerdictCodes:
    def test_codes_beside_the_sentences(self, data):
        estates, inc = data
        table = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100)
        t = table.set_index("estate_id")
        assert t.loc["E2", "verdict_code"] == "too_short" and t.loc["E2", "months_after"] == 1
        assert t.loc["E3", "verdict_code"] == "no_incidents"
        assert set(t["verdict_code"]) <= set(VERDICT_CODES)
        s = effect_summary(table, by="batch_year").set_index("batch_year")
        assert s.loc[2023, "verdict_code"] == "too_short" and s.loc[2023, "shortest_after"] == 1
        assert s.loc[2023, "verdict"] == "too short: an estate has only 1 month after its window"

    def test_no_window(self, data):
        estates, inc = data
        estates.loc[2, "batch_year"] = np.nan
        t = effect_table(inc, estates, radius_m=100).set_index("estate_id")
        assert t.loc["E3", "verdict_code"] == "no_batch_year"


class TestVerdictLabel:
    @pytest.fixture
    def zh(self, monkeypatch):
        from ui import tables

        monkeypatch.setattr(tables, "lang", lambda: "zh")
        return tables.verdict_label

    def test_codes(self, zh):
        assert zh("fewer") == "明显下降"
        assert zh("no_data_after") == "整治后尚无数据"
        assert zh("too_short", 2) == "整治后时间太短，暂不判断：整治后仅 2 个月"

    def test_rows(self, zh, data):
        estates, inc = data
        t = effect_table(inc, estates, data_start="2021-01", data_end="2023-12", radius_m=100)
        labels = dict(zip(t["estate_id"], t.apply(zh, axis=1), strict=True))
        assert labels["E2"] == "整治后时间太短，暂不判断：整治后仅 1 个月"
        assert labels["E3"] == "无警情"
        s = effect_summary(t, by="batch_year").set_index("batch_year")
        assert zh(s.loc[2023]) == "整治后时间太短，暂不判断：整治后仅 1 个月"

    def test_old_english_sentences_still_work(self, zh):
        assert zh("no clear change") == "无明显变化"
        assert zh("no data after the window") == "整治后尚无数据"
        assert zh("too short: only 3 months after the window") == "整治后时间太短，暂不判断：整治后仅 3 个月"
        assert zh("something else") == "something else"

    def test_english(self, monkeypatch):
        from ui import tables

        monkeypatch.setattr(tables, "lang", lambda: "en")
        assert tables.verdict_label("too_short", 1) == "too short: only 1 month after the window"
        assert tables.verdict_label("no_clear_change") == "no clear change"
        assert tables.verdict_label("too short: an estate has only 2 months after its window") == "too short: an estate has only 2 months after its window"
