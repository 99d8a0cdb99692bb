"""Taxonomy, time parsing, the importer and the incident store (geo.incidents)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from geo import crs as _crs
from geo.errors import DataFileError, SchemaError
from geo.incidents.importer import import_incidents, read_mapping, resolve_columns
from geo.incidents.store import STORE_COLUMNS, IncidentArrays, as_arrays, load_incidents
from geo.incidents.taxonomy import CATEGORIES, LABEL_TABLE, classify, map_label
from geo.incidents.times import NIGHT_HOURS, parse_time, period_bounds

DATA = Path(__file__).parents[1] / "data" / "incidents"


@dataclass
class FakeResult:
    lon: float | None
    lat: float | None
    quality: str = "exact"
    source: str = "fake"
    note: str = ""


class FakeGeocoder:
    """Knows one address; records every call."""

    def __init__(self):
        self.known = {"凤仙路459号": (108.371, 30.841)}
        self.calls: list[str] = []

    def __call__(self, address: str) -> FakeResult:
        self.calls.append(address)
        if address in self.known:
            return FakeResult(*self.known[address])
        return FakeResult(None, None, "failed", "fake", "road not in the gazetteer")


def local_seconds(*args) -> int:
    """Seconds since 1970-01-01 of a wall-clock time, computed with the calendar module."""
    return calendar.timegm(dt.datetime(*args).timetuple())


def read_store(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_rejects(path: Path) -> dict[int, str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {int(r["row"]): r["reason"] for r in csv.DictReader(fh)}


class TestTaxonomy:
    def test_documented_aliases(self):
        assert map_label("入户盗窃") == ("盗窃", "入室盗窃")
        assert map_label("电诈") == ("侵财", "电信网络诈骗")
        assert map_label("Burglary") == ("盗窃", "入室盗窃")
        assert map_label(" telecom  fraud ") == ("侵财", "电信网络诈骗")
        assert map_label("邻里") == ("矛盾纠纷", "邻里纠纷")
        assert map_label("ＴＨＥＦＴ") == ("盗窃", None)  # full-width letters

    def test_every_canonical_name_maps_to_itself(self):
        for cat, subs in CATEGORIES.items():
            assert LABEL_TABLE[cat][0] == cat
            for sub in subs:
                assert map_label(sub) == (cat, sub)

    def test_unknown_label_is_reported_not_guessed(self):
        assert map_label("飞碟") is None
        with pytest.raises(ValueError, match="飞碟"):
            classify("飞碟", None)
        with pytest.raises(ValueError, match="subcategory label"):
            classify("盗窃", "不明物体")

    def test_nested_categories_accept_a_finer_subcategory(self):
        # The plan counts burglary among property crimes (侵财类案件).
        assert classify("侵财", "入室盗窃") == ("盗窃", "入室盗窃")
        assert classify("刑事", "抢劫") == ("侵财", "抢劫")

    def test_disagreeing_labels_are_rejected(self):
        with pytest.raises(ValueError, match="disagree"):
            classify("theft", "robbery")
        with pytest.raises(ValueError, match="disagree"):
            classify("矛盾纠纷", "入室盗窃")

    def test_missing_category(self):
        with pytest.raises(ValueError, match="no category"):
            classify(None, "  ")


class TestParseTime:
    @pytest.mark.parametrize(
        "text",
        [
            "2021-03-04 21:15",
            "2021/3/4 21:15",
            "2021年3月4日 21时15分",
            "2021-03-04T21:15:00+08:00",
            "2021-03-04T13:15:00Z",
            "20210304211500",
            "２０２１-０３-０４ ２１:１５",
            44259.885416667,
            "44259.885416667",
            dt.datetime(2021, 3, 4, 21, 15),
        ],
    )
    def test_formats(self, text):
        assert parse_time(text) == dt.datetime(2021, 3, 4, 21, 15)

    @pytest.mark.parametrize("text", ["21:15", "21时15分", dt.time(21, 15)])
    def test_time_without_date(self, text):
        with pytest.raises(ValueError, match="without a date"):
            parse_time(text)

    @pytest.mark.parametrize("text", ["yesterday", "12345", "2021-13-01 10:00"])
    def test_not_a_date(self, text):
        with pytest.raises(ValueError):
            parse_time(text)

    def test_period_bounds(self):
        lo, hi = period_bounds(2019, 2021)
        assert lo == local_seconds(2019, 1, 1)
        assert hi == local_seconds(2022, 1, 1)
        lo, hi = period_bounds("2022-02", "2022-12")
        assert (lo, hi) == (local_seconds(2022, 2, 1), local_seconds(2023, 1, 1))


class TestColumns:
    def test_chinese_and_english_headers(self):
        zh = resolve_columns(["警情编号", "报警时间", "警情类别", "发案地址", "经度", "纬度"])
        assert zh == {"incident_id": "警情编号", "time": "报警时间", "category": "警情类别", "address": "发案地址", "lon": "经度", "lat": "纬度"}
        en = resolve_columns(["ID", "Time", "Category", "Longitude", "Latitude"])
        assert en["time"] == "Time" and en["lon"] == "Longitude"

    def test_missing_columns_are_all_reported(self):
        with pytest.raises(SchemaError) as info:
            resolve_columns(["单号", "案别"])
        text = str(info.value)
        assert "no time column" in text and "no category column" in text and "no location" in text

    def test_mapping_names_unknown_header(self):
        with pytest.raises(SchemaError, match="not in the file"):
            resolve_columns(["a", "b"], {"c": "time"})


def run_calls(tmp_path: Path, src: Path, **kw):
    geo = FakeGeocoder()
    out = tmp_path / "store.csv"
    res = import_incidents(src, out=out, source="110", geocoder=geo, rejects=tmp_path / "rejects.csv", **kw)
    return res, out, geo


EXPECTED_REJECT_WORDS = {
    6: "without a date",
    7: "swapped",
    8: "飞碟",
    9: "duplicate id '110-0001': first used on row 2",
    13: "could not be geocoded",
    14: "latitude: missing",
}


class TestImportCalls:
    """The hand-made 110 export: 13 data rows, one empty, six bad."""

    def check(self, res, out, rejects_path):
        assert (res.read, res.imported, res.rejected, res.empty, res.duplicates, res.geocoded) == (13, 6, 6, 1, 1, 1)
        rows = read_store(out)
        assert [r["incident_id"] for r in rows] == ["110-0001", "110-0002", "110-0003", "110-0004", "110-0008", "110-0009"]
        assert {r["time"] for r in rows[:4]} == {"2021-03-04T21:15:00+08:00"}
        assert (rows[0]["category"], rows[0]["subcategory"]) == ("盗窃", "入室盗窃")
        assert (rows[1]["category"], rows[1]["subcategory"]) == ("侵财", "电信网络诈骗")
        assert (float(rows[2]["lon"]), float(rows[2]["lat"])) == (108.372, 30.842)  # full-width digits
        assert rows[5]["x_geocode_quality"] == "exact" and (float(rows[5]["lon"]), float(rows[5]["lat"])) == (108.371, 30.841)
        assert all(r["source"] == "110" for r in rows)
        rej = read_rejects(rejects_path)
        assert sorted(rej) == sorted(EXPECTED_REJECT_WORDS)
        for row, words in EXPECTED_REJECT_WORDS.items():
            assert words in rej[row]

    def test_utf8(self, tmp_path):
        res, out, geo = run_calls(tmp_path, DATA / "calls_zh.csv")
        self.check(res, out, tmp_path / "rejects.csv")
        assert "read 13 rows: imported 6, rejected 6 (1 duplicate ids), skipped 1 empty" in res.summary()
        assert sorted(geo.calls) == ["凤仙路459号", "查无此路1号"]

    @pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "gbk"])
    def test_other_encodings(self, tmp_path, encoding):
        text = (DATA / "calls_zh.csv").read_text(encoding="utf-8")
        if encoding == "gbk":
            text = text.replace("１０８．３７２０", "108.3720").replace("３０．８４２０", "30.8420")  # keep to GBK's repertoire
        src = tmp_path / f"calls_{encoding}.csv"
        src.write_bytes(text.encode(encoding))
        res, out, _ = run_calls(tmp_path, src)
        self.check(res, out, tmp_path / "rejects.csv")

    def test_small_chunks_give_the_same_store(self, tmp_path):
        a, out_a, _ = run_calls(tmp_path / "a", DATA / "calls_zh.csv")
        b, out_b, _ = run_calls(tmp_path / "b", DATA / "calls_zh.csv", chunksize=2)
        assert out_a.read_bytes() == out_b.read_bytes()
        assert sorted(a.rejects) == sorted(b.rejects)

    def test_bytes_import_like_the_file_and_reject_under_its_name(self, tmp_path):
        a, out_a, _ = run_calls(tmp_path / "a", DATA / "calls_zh.csv")
        (tmp_path / "b").mkdir()
        b, out_b, _ = run_calls(tmp_path / "b", (DATA / "calls_zh.csv").read_bytes(), name="calls_zh.csv")
        assert out_a.read_bytes() == out_b.read_bytes()
        assert sorted(a.rejects) == sorted(b.rejects)
        with pytest.raises(DataFileError, match=r"^报警\.csv: the file is empty"):
            import_incidents(b"", name="报警.csv", out=tmp_path / "c.csv")

    def test_gcj02_row_is_converted(self, tmp_path):
        _, out, _ = run_calls(tmp_path, DATA / "calls_zh.csv")
        row = next(r for r in read_store(out) if r["incident_id"] == "110-0008")
        back = _crs.wgs84_to_gcj02(float(row["lon"]), float(row["lat"]))
        assert back == pytest.approx((108.3821, 30.8378), abs=2e-7)
        assert abs(float(row["lon"]) - 108.3821) > 0.003  # the offset (~440 m east) was removed
        assert row["x_geocode_quality"] == "given_gcj02"

    def test_datum_option_applies_to_rows_without_a_datum(self, tmp_path):
        out = tmp_path / "s.csv"
        import_incidents(DATA / "custom_headers.csv", out=out, mapping=read_mapping(DATA / "custom_mapping.json"), source="110", datum="gcj02")
        row = read_store(out)[0]
        assert _crs.wgs84_to_gcj02(float(row["lon"]), float(row["lat"])) == pytest.approx((108.37, 30.84), abs=2e-7)


class TestImportOtherFiles:
    def test_english_headers_and_labels(self, tmp_path):
        out = tmp_path / "s.csv"
        res = import_incidents(DATA / "cases_en.csv", out=out, geocoder=FakeGeocoder())
        assert (res.imported, res.rejected) == (4, 2)
        rows = {r["incident_id"]: r for r in read_store(out)}
        assert (rows["C-1"]["category"], rows["C-1"]["subcategory"], rows["C-1"]["source"]) == ("盗窃", "入室盗窃", "criminal_case")
        assert (rows["C-3"]["category"], rows["C-3"]["subcategory"], rows["C-3"]["source"]) == ("矛盾纠纷", "债务纠纷", "dispute_register")
        assert rows["C-4"]["time"] == "2022-01-13T11:00:00+08:00"  # 03:00 UTC is 11:00 in Shanghai
        reasons = dict(res.rejects)
        assert "disagree" in reasons[6] and "police" in reasons[7]

    def test_mapping_file(self, tmp_path):
        with pytest.raises(SchemaError, match="no time column"):
            import_incidents(DATA / "custom_headers.csv", out=tmp_path / "s.csv", source="110")
        res = import_incidents(DATA / "custom_headers.csv", out=tmp_path / "s.csv", source="110", mapping=read_mapping(DATA / "custom_mapping.json"))
        assert res.imported == 2
        assert [r["subcategory"] for r in read_store(tmp_path / "s.csv")] == ["入室盗窃", "其他盗窃"]

    def test_own_label_table(self, tmp_path):
        mapping = read_mapping(DATA / "labels_mapping.json")
        res = import_incidents(DATA / "odd_labels.csv", out=tmp_path / "s.csv", source="110", mapping=mapping)
        assert res.imported == 1 and read_store(tmp_path / "s.csv")[0]["subcategory"] == "其他盗窃"
        assert res.rejects[0][0] == 3 and "飞碟" in res.rejects[0][1]
        with pytest.raises(SchemaError, match="taxonomy"):
            import_incidents(DATA / "odd_labels.csv", out=tmp_path / "t.csv", source="110", mapping={"labels": {"x": "盗窃/飞碟"}})

    def test_separate_date_and_clock_columns(self, tmp_path):
        res = import_incidents(DATA / "date_and_clock.csv", out=tmp_path / "s.csv", source="dispute_register")
        assert [r["time"] for r in read_store(tmp_path / "s.csv")] == ["2020-07-08T23:40:00+08:00", "2020-07-09T00:00:00+08:00"]
        assert res.rejected == 1 and "without a date" in res.rejects[0][1]

    def test_no_source_is_rejected_with_reason(self, tmp_path):
        res = import_incidents(DATA / "custom_headers.csv", out=tmp_path / "s.csv", mapping=read_mapping(DATA / "custom_mapping.json"))
        assert res.imported == 0 and all("no source" in r for _, r in res.rejects)

    def test_xlsx_with_cells_of_every_type(self, tmp_path):
        openpyxl = pytest.importorskip("openpyxl")
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["警情编号", "报警时间", "警情类别", "经度", "纬度"])
        ws.append(["X1", dt.datetime(2021, 3, 4, 21, 15), "入户盗窃", 108.37, 30.84])
        ws.append(["X2", 44259.885416667, "电诈", "108.371", "30.841"])
        ws.append(["X3", "2021年3月4日 21时15分", "债务", 108.372, 30.842])
        ws.append([None, None, None, None, None])
        ws.append(["X4", dt.time(21, 15), "盗窃", 108.373, 30.843])
        ws.append([1005, "2021-03-05 10:00", "其他", 108.374, 30.844])
        src = tmp_path / "calls.xlsx"
        wb.save(src)
        for chunksize in (None, 2):
            out = tmp_path / f"s{chunksize}.csv"
            res = import_incidents(src, out=out, source="110", chunksize=chunksize)
            assert (res.read, res.imported, res.rejected, res.empty) == (6, 4, 1, 1)
            rows = read_store(out)
            assert [r["incident_id"] for r in rows] == ["X1", "X2", "X3", "1005"]
            assert {r["time"] for r in rows[:3]} == {"2021-03-04T21:15:00+08:00"}
            assert res.rejects[0][0] == 6 and "without a date" in res.rejects[0][1]

    def test_missing_file(self, tmp_path):
        with pytest.raises(DataFileError, match="no such file"):
            import_incidents(tmp_path / "nope.csv", out=tmp_path / "s.csv")


class TestStore:
    def test_merge_reports_duplicates_and_keeps_the_store(self, tmp_path):
        out = tmp_path / "s.csv"
        first = import_incidents(DATA / "cases_en.csv", out=out)
        before = out.read_bytes()
        again = import_incidents(DATA / "cases_en.csv", out=out, rejects=tmp_path / "r.csv")
        assert again.imported == 0 and again.duplicates == first.imported
        assert again.store_total == first.imported
        assert out.read_bytes() == before
        assert sum("already in the store" in r for r in read_rejects(tmp_path / "r.csv").values()) == first.imported

    def test_merge_appends_new_rows(self, tmp_path):
        out = tmp_path / "s.csv"
        import_incidents(DATA / "cases_en.csv", out=out)
        res = import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=FakeGeocoder())
        assert res.store_total == 4 + 6
        rows = read_store(out)
        assert len(rows) == 10 and list(rows[0]) == list(STORE_COLUMNS)

    def test_failure_leaves_the_store_untouched(self, tmp_path):
        out = tmp_path / "s.csv"
        import_incidents(DATA / "cases_en.csv", out=out)
        before = out.read_bytes()

        def broken(address):
            raise RuntimeError("geocoder crashed")

        with pytest.raises(RuntimeError):
            import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=broken, chunksize=2)
        assert out.read_bytes() == before
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary file left (the lock file stays)

    def test_not_a_store_is_refused(self, tmp_path):
        out = tmp_path / "s.csv"
        shutil.copy(DATA / "cases_en.csv", out)
        with pytest.raises(DataFileError, match="not an incident store"):
            import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=FakeGeocoder())

    def test_load_arrays(self, tmp_path):
        out = tmp_path / "s.csv"
        import_incidents(DATA / "calls_zh.csv", out=out, source="110", geocoder=FakeGeocoder())
        inc = load_incidents(out)
        assert len(inc) == 6
        assert inc.time_s[0] == local_seconds(2021, 3, 4, 21, 15)
        assert inc.hour[0] == 21
        assert inc.lon.dtype == np.float64 and inc.time_s.dtype == np.int64
        frame = inc.to_frame()
        assert list(frame["category"]) == ["盗窃", "侵财", "矛盾纠纷", "其他警情", "刑事", "矛盾纠纷"]
        again = IncidentArrays.from_frame(frame)
        np.testing.assert_array_equal(again.time_s, inc.time_s)
        np.testing.assert_array_equal(again.subcategory, inc.subcategory)

    def test_from_frame_reports_bad_values(self):
        df = pd.DataFrame({"time": ["2021-01-01T00:00:00+08:00"], "category": ["UFO"], "source": ["110"], "lon": [108.37], "lat": [30.84]})
        with pytest.raises(SchemaError) as info:
            IncidentArrays.from_frame(df)
        assert "UFO" in str(info.value)


def wall_seconds_in_shanghai(instant: dt.datetime) -> int:
    """Local Asia/Shanghai wall-clock seconds since 1970-01-01 of an aware instant, via zoneinfo."""
    local = instant.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return calendar.timegm(local.timetuple())


class TestFrameTimes:
    """Times in a frame: naive values are Shanghai wall-clock time, aware ones are converted."""

    def frame(self, times) -> pd.DataFrame:
        n = len(times)
        return pd.DataFrame({"time": times, "category": ["盗窃"] * n, "source": ["110"] * n, "lon": [108.37] * n, "lat": [30.84] * n})

    def test_naive_text_is_local_time(self):
        # Fails when naive text is read as UTC: 21:15 became 05:15 of the next day.
        inc = IncidentArrays.from_frame(self.frame(["2021-03-04 21:15:00", "2021-03-05 02:30"]))
        assert list(inc.hour) == [21, 2]
        assert list(inc.time_s) == [local_seconds(2021, 3, 4, 21, 15), local_seconds(2021, 3, 5, 2, 30)]

    def test_aware_text_is_converted(self):
        instant = dt.datetime(2021, 3, 4, 13, 15, tzinfo=dt.UTC)
        want = wall_seconds_in_shanghai(instant)
        for times in (["2021-03-04T21:15:00+08:00"], ["2021-03-04T13:15:00Z"], ["2021-03-04T21:15:00+08:00", "2021-03-04T13:15:00Z"]):
            inc = IncidentArrays.from_frame(self.frame(times))
            assert list(inc.time_s) == [want] * len(times)
            assert list(inc.hour) == [21] * len(times)

    def test_naive_and_aware_text_mixed(self):
        inc = IncidentArrays.from_frame(self.frame(["2021-03-04 21:15:00", "2021-03-04T13:15:00Z", "2021/3/4 21:15"]))
        assert list(inc.time_s) == [local_seconds(2021, 3, 4, 21, 15)] * 3

    def test_datetime64_values(self):
        naive = pd.Series(pd.to_datetime(["2021-03-04 21:15:00"]))
        aware = naive.dt.tz_localize("UTC")  # 21:15 UTC is 05:15 next day in Shanghai
        assert IncidentArrays.from_frame(self.frame(naive)).time_s[0] == local_seconds(2021, 3, 4, 21, 15)
        inc = IncidentArrays.from_frame(self.frame(aware))
        assert inc.time_s[0] == wall_seconds_in_shanghai(dt.datetime(2021, 3, 4, 21, 15, tzinfo=dt.UTC))
        assert inc.hour[0] == 5

    def test_as_arrays_of_a_frame(self):
        assert as_arrays(self.frame(["2021-03-04 21:15:00"])).hour[0] == 21


def test_night_hours_are_one_constant():
    from benchmarks import demo_incidents

    assert demo_incidents.NIGHT_HOURS is NIGHT_HOURS
    assert set(NIGHT_HOURS) == {20, 21, 22, 23, 0, 1, 2, 3, 4, 5}


class TestCommandLine:
    def test_cli_import(self, tmp_path, capsys):
        from geo.cli.main import main

        out = tmp_path / "s.csv"
        mapping = tmp_path / "m.json"
        mapping.write_text(json.dumps({"案发时刻": "time", "案别": "category", "X坐标": "lon", "Y坐标": "lat", "单号": "incident_id"}), encoding="utf-8")
        code = main(["incidents", "import", str(DATA / "custom_headers.csv"), "--mapping", str(mapping), "--source", "110", "--out", str(out)])
        assert code == 0
        assert "read 2 rows: imported 2, rejected 0" in capsys.readouterr().out
        assert len(read_store(out)) == 2


def demo_estates(n: int, units, years):
    """n estates at seeded random points inside the Shahe box."""
    import geopandas as gpd
    import shapely

    from geo import settings

    rng = np.random.default_rng(99)
    west, south, east, north = settings.shahe_bounds
    xs, ys = rng.uniform(west + 0.005, east - 0.005, n), rng.uniform(south + 0.005, north - 0.005, n)
    pts = [shapely.Point(x, y) for x, y in zip(xs, ys, strict=True)]
    return gpd.GeoDataFrame({"estate_id": [f"T-{i:02d}" for i in range(n)], "units": units, "batch_year": years}, geometry=pts, crs="EPSG:4326")


@pytest.fixture(scope="module")
def demo():
    from benchmarks.demo_incidents import DemoParams, make_demo_incidents

    est = demo_estates(6, [1, 2, 4, 8, 16, 2], [2022, 2022, 2023, 2023, 2022, 2023])
    return est, make_demo_incidents(est, params=DemoParams(seed=11))


class TestDemoGenerator:
    """The generator's documented properties, on tiny estate frames built here."""

    def test_every_row_is_synthetic_and_valid(self, demo):
        _, df = demo
        assert list(df.columns[: len(STORE_COLUMNS)]) == list(STORE_COLUMNS)
        assert (df["synthetic"] == "true").all() and df["incident_id"].is_unique
        assert df["time"].min() >= "2019-01-01" and df["time"].max() < "2025-01-01"
        inc = IncidentArrays.from_frame(df)  # raises on any value outside the taxonomy
        assert len(inc) == len(df)

    def test_thefts_happen_more_at_night(self, demo):
        _, df = demo
        hours = pd.to_datetime(df["time"].str[:19]).dt.hour
        theft = df["category"] == "盗窃"
        night = hours.isin([20, 21, 22, 23, 0, 1, 2, 3, 4, 5])
        assert (theft & night).sum() / theft.sum() > 0.5
        # per hour, a night hour sees more thefts than a day hour
        assert (theft & night).sum() / 10 > (theft & ~night).sum() / 14

    def test_effective_estates_drop_after_their_window(self, demo):
        est, df = demo
        months = pd.to_datetime(df["time"].str[:19]).dt.to_period("M")
        ratios = {}
        for eid, year in zip(est["estate_id"], est["batch_year"], strict=True):
            mine = df["origin"] == eid
            before = (mine & (months < pd.Period(f"{year}-01", "M"))).sum() / ((year - 2019) * 12)
            after = (mine & (months > pd.Period(f"{year}-11", "M"))).sum() / ((2024 - year) * 12 + 1)
            ratios[eid] = after / before
        effective = set(df.attrs["effective"])
        for year in (2022, 2023):  # about half of each batch, never none or all
            members = set(est.loc[est["batch_year"] == year, "estate_id"])
            assert 0 < len(members & effective) < len(members)
        eff = np.mean([r for e, r in ratios.items() if e in effective])
        rest = np.mean([r for e, r in ratios.items() if e not in effective])
        assert eff < 0.7 < 0.8 < rest

    def test_one_compound_shares_one_draw(self):
        # A and B (same batch) 10 m apart are one compound; C 60 m from B links in (steps of at most 90 m); D is 10 m
        # from A but of another batch; E is 500 m away. compounds() labels each with its compound's first estate.
        import shapely

        from benchmarks.demo_incidents import DemoParams, compounds, make_demo_incidents

        x = np.array([0.0, 10.0, 70.0, 0.0, 500.0])
        y = np.zeros(5)
        batch = np.array([2022.0, 2022, 2022, 2023, 2022])
        assert compounds(x, y, batch, 90.0).tolist() == [0, 0, 0, 3, 4]
        est = demo_estates(3, [2, 2, 2], [2022, 2022, 2022])
        pts = [est.geometry.iloc[0], shapely.Point(est.geometry.iloc[0].x + 0.0001, est.geometry.iloc[0].y), est.geometry.iloc[2]]
        est = est.set_geometry(pts)  # T-00 and T-01 about 10 m apart
        for seed in range(6):
            eff = set(make_demo_incidents(est, params=DemoParams(seed=seed, first_year=2021, last_year=2023)).attrs["effective"])
            assert ("T-00" in eff) == ("T-01" in eff)

    def test_disputes_grow_with_units(self, demo):
        _, df = demo
        disputes = df[df["category"] == "矛盾纠纷"]["origin"].value_counts()
        assert disputes["T-04"] > 4 * disputes["T-00"]  # 16 units against 1

    def test_seeded(self, demo):
        from benchmarks.demo_incidents import DemoParams, make_demo_incidents

        est, df = demo
        again = make_demo_incidents(est, params=DemoParams(seed=11))
        pd.testing.assert_frame_equal(df, again)
        other = make_demo_incidents(est, params=DemoParams(seed=12))
        assert len(other) != len(df) or not other["time"].equals(df["time"])

    def test_a_24_estate_store_stays_small(self, tmp_path):
        from benchmarks.demo_incidents import make_demo_incidents
        from geo.incidents.store import write_store

        units = [7, 2, 2, 11, 4, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 19, 17, 5, 1, 1, 1, 2, 4]
        est = demo_estates(24, units, [2022] * 8 + [2023] * 8 + [2024] * 8)
        out = write_store(make_demo_incidents(est), tmp_path / "incidents.csv")
        assert out.stat().st_size < 3 * 1024 * 1024
        assert load_incidents(out).attrs["synthetic"] is True
