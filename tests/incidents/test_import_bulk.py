"""The column-wise import (geo.incidents.bulk, geo.incidents.checks): the same answers as the row-by-row reading, row for row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.import_data import bad_rows, write_export
from geo._validate import blank_mask, parse_degrees
from geo.errors import DataFileError
from geo.incidents import bulk, checks
from geo.incidents.importer import import_incidents
from geo.incidents.times import format_time, format_times_text, parse_time, parse_times_bulk
from geo.io.csv_text import csv_quoted
from geo.io.writers import guard_cell

TIME_TEXTS = [
    "2021-03-04 21:15:00",
    "2021-3-4 21:15:00",
    "2021-03-04 21:15",
    "2021-3-04 9:05",
    "2021-03-04  21:15",
    "2021-03-04T21:15:00",
    "2021-03-04T21:15",
    "2021-03-04T21:15:00+08:00",
    "2021-03-04T13:15:00Z",
    "2021-03-04T13:15:00-0130",
    "2021-03-04T21:15:00+08",
    "2021-03-04t21:15:00",
    "2021-03-04 21:15:00+08:00",
    "2021-03-04 21:15:00Z",
    "2021/3/4 21:15",
    "2021/03/04 21:15:07",
    "2021/3/4",
    "2021-03-04",
    "2021年3月4日 21时15分",
    "2021年3月4日 21时15分3秒",
    "２０２１-０３-０４ ２１:１５",
    "20210304211500",
    "20210304 21:15:00",
    "2021-02-30 10:00:00",
    "2021-03-04 24:00",
    "2021-03-04 21:60",
    "2021-12-31 23:59:60",
    "2021/12/31 23:59:61",
    "2021-12-31T23:59:60+08:00",
    "21:15",
    " 2021-03-04 21:15 ",
    "2021-03-04 21:15:00.5",
    "2021-03-04T21:15:00.000+08:00",
    "1500-01-01 00:00:00",
    "44259.5",
    "2021.03.04 21:15",
    "2021-W09-4",
    "2021-03",
    "2021",
    "yesterday",
    None,
    float("nan"),
]


def row_by_row(value):
    """parse_time's answer, or None where it refuses the value."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


class TestTimes:
    def test_every_value_read_in_bulk_is_what_parse_time_reads(self):
        got = parse_times_bulk(np.array(TIME_TEXTS, dtype=object))
        read = 0
        for value, g in zip(TIME_TEXTS, got, strict=True):
            if np.isnat(g):
                continue
            read += 1
            assert g.astype(dt.datetime) == row_by_row(value), value
        assert read >= 14  # the common formats are read in bulk, not left to the row-by-row parser

    def test_random_times_of_the_common_shape_are_read_as_parse_time_reads_them(self):
        rng = np.random.default_rng(8)
        t = np.datetime64("1678-01-01T00:00:00") + rng.integers(0, 583 * 365 * 86400, 20_000).astype("timedelta64[s]")
        valid = [str(x).replace("T", " ") for x in t]  # days of 583 years (pandas' range), leap days included
        digits = "0123456789"
        odd = ["".join(rng.choice(list(digits), 14)) for _ in range(20_000)]  # random digits in the shape: most are no date
        odd = [f"{x[:4]}-{x[4:6]}-{x[6:8]} {x[8:10]}:{x[10:12]}:{x[12:]}" for x in odd]
        near = ["2024-02-29 23:59:59", "2023-02-29 00:00:00", "2000-02-29 12:00:00", "1900-02-29 12:00:00", "2021-04-31 10:00:00",
                "2021-12-31 24:00:00", "2021-12-31 23:60:00", "2021-12-31 23:59:60", "2021-00-10 10:00:00", "2021-10-00 10:00:00",
                "1677-12-31 23:59:59", "1678-01-01 00:00:00", "2261-12-31 23:59:59", "2262-01-01 00:00:00", "2021-03-04 21:15:00 ",
                " 2021-03-04 21:15:00", "2021-03-04T21:15:00", "２０２１-03-04 21:15:00", "2021-03-04 21:15:0", "2021-03-04 21:15:000"]
        values = np.array([*valid, *odd, *near, None, 3.5], dtype=object)
        got = parse_times_bulk(values)
        assert not np.isnat(got[: len(valid)]).any()  # every valid time of the common shape read in bulk
        for value, g in zip(values.tolist(), got, strict=True):
            want = row_by_row(value)
            if want is None:
                assert np.isnat(g), value  # a leap second too, which pandas alone would carry into the next minute
            elif not np.isnat(g):
                assert g.astype(dt.datetime) == want, value

    def test_every_format_is_read_in_bulk_in_a_mixed_column(self):
        """Each format is tried only on texts of its shape: a column mixing all of them is still read whole, as parse_time reads it."""
        rng = np.random.default_rng(21)
        t = (np.datetime64("1990-01-01T00:00:00") + rng.integers(0, 40 * 365 * 86400, 3_000).astype("timedelta64[s]")).astype(dt.datetime)
        shapes = [
            lambda x: x.strftime("%Y-%m-%d %H:%M:%S"), lambda x: x.strftime("%Y-%m-%d %H:%M"), lambda x: x.strftime("%Y-%m-%d"),
            lambda x: f"{x.year}-{x.month}-{x.day} {x.hour}:{x.minute:02d}", lambda x: x.strftime("%Y-%m-%dT%H:%M:%S"),
            lambda x: x.strftime("%Y-%m-%dT%H:%M:%S+08:00"), lambda x: (x - dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            lambda x: f"{x.year}/{x.month}/{x.day} {x.hour}:{x.minute:02d}", lambda x: f"{x.year}/{x.month}/{x.day}",
            lambda x: x.strftime("%Y/%m/%d %H:%M:%S"), lambda x: f"{x.year}年{x.month}月{x.day}日 {x.hour}时{x.minute}分",
        ]
        values = [shapes[k % len(shapes)](x) for k, x in enumerate(t.tolist())]
        got = parse_times_bulk(np.array(values, dtype=object))
        assert not np.isnat(got).any(), [v for v, g in zip(values, got, strict=True) if np.isnat(g)][:5]
        assert [g.astype(dt.datetime) for g in got] == [parse_time(v) for v in values]

    def test_refused_values_are_left_unread(self):
        got = parse_times_bulk(np.array(TIME_TEXTS, dtype=object))
        for value, g in zip(TIME_TEXTS, got, strict=True):
            if row_by_row(value) is None:
                assert np.isnat(g), value

    def test_format_equals_strftime(self):
        rng = np.random.default_rng(3)
        t = np.datetime64("1700-01-01T00:00:00") + rng.integers(0, 17 * 10**9, 5000).astype("timedelta64[s]")
        expected = [format_time(x) for x in t.astype(dt.datetime)]
        assert format_times_text(t).to_pylist() == expected


class TestCells:
    def test_degrees_equal_parse_degrees(self):
        plain = ["108.3701", " 30.84 ", "1e2", "108", "-0.5", None, float("nan")]
        odd = [*plain, "１０８．３７", "108.3°", "30.8N", "nan", "inf", "", "abc"]
        for values in (plain, odd):
            got = bulk.degrees(np.array(values, dtype=object))
            for v, g in zip(values, got, strict=True):
                want = parse_degrees(v)
                assert (np.isnan(g) and want is None) or g == want, v

    def test_degrees_read_by_arrow_are_parse_degrees(self):
        import random

        rng = random.Random(4)
        pieces = ["", " ", "+", "-", "0", "1", "9", "108", ".", "5", "e", "E", "e+", "_", "inf", "nan", "Infinity", "°", "N",
                  "１", "\u3000", "0x", "1e308", "1e-320", ","]
        cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(20_000)]
        cells += [repr(rng.uniform(-200, 200)) for _ in range(5_000)] + [f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 20)}f}" for _ in range(5_000)]
        read = 0
        for start in range(0, len(cells), 7):  # small columns: most hold a cell Arrow refuses, some none
            column = np.array([*cells[start:start + 7], None], dtype=object)
            got = bulk.degrees(column)
            read += bulk._arrow_degrees(column) is not None
            for v, g in zip(column, got, strict=True):
                want = parse_degrees(v)
                assert (np.isnan(g) and want is None) or np.float64(g).tobytes() == np.float64(want).tobytes(), v
        assert read > 200  # Arrow read whole columns, not only the fallbacks

    def test_fixed_is_pythons_text(self):
        from geo import crs

        rng = np.random.default_rng(12)
        lon = np.array([float(f"{x:.7f}") for x in rng.uniform(105, 111, 20_000)])
        lat = np.array([float(f"{x:.7f}") for x in rng.uniform(28, 33, 20_000)])
        edges = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-8, -1e-8, 5e-8, -5e-8, 2.5e-7, 0.1, 9.9999999, 99.99999995,
                          999999.9999999, -999999.9999999, 1e6, 1e300, 123.45678905, 108.99999995, 5e-324])
        values = [lon, lat, -lon, *crs.convert(lon, lat, src="gcj02", dst="wgs84"), rng.normal(0, 1e3, 20_000), edges]
        for v in values:
            assert bulk.fixed_text(v, 7).to_pylist() == [f"{x:.7f}" for x in v.tolist()]
        for decimals in range(10):  # numbers with exactly that many decimals, and any numbers
            v = np.r_[[float(f"{x:.{decimals}f}") for x in rng.uniform(-1e5, 1e5, 5_000)], rng.normal(0, 50, 500), edges]
            assert bulk.fixed_text(v, decimals).to_pylist() == [f"{x:.{decimals}f}" for x in v.tolist()], decimals
        assert bulk.fixed_text(np.zeros(0), 7).to_pylist() == []

    def test_stored_degrees_are_the_numbers_the_text_reads_as(self):
        from geo import crs

        rng = np.random.default_rng(11)
        lon = np.array([float(f"{x:.7f}") for x in rng.uniform(105, 111, 20_000)])
        lat = np.array([float(f"{x:.7f}") for x in rng.uniform(28, 33, 20_000)])
        converted = crs.convert(lon, lat, src="gcj02", dst="wgs84")  # more than 7 decimals: rounded through the text
        edges = np.array([0.0, -0.0, np.nan, 1e-8, -1e-8, 5e-8, -5e-8, 2.5e-7, 999999.9999999, 1e6, 1e300, 123.45678905, 108.99999995])
        for v in (lon, lat, -lon, *converted, rng.normal(0, 1e3, 20_000), edges):
            want = np.array([float(f"{x:.7f}") for x in v.tolist()])
            assert bulk.stored_degrees(v, 7).tobytes() == want.tobytes()  # bit for bit, -0.0 and NaN included
        assert bulk.stored_degrees(np.array([1.25, 2.5]), 0).tolist() == [1.0, 2.0]  # the text's rounding: half to even
        tiny = np.array([float(f"{x:.12f}") for x in rng.uniform(999_000, 999_999, 2_000)])  # 12 decimals: Python's text
        assert bulk.stored_degrees(tiny, 12).tolist() == [float(f"{x:.12f}") for x in tiny.tolist()]

    def test_csv_quoting_equals_csv_writer(self):
        values = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", " lead", "", "中文，逗号"]
        got = csv_quoted(np.array(values, dtype=object)).tolist()
        for v, g in zip(values, got, strict=True):
            buf = io.StringIO()
            csv.writer(buf).writerow(["x", v])
            assert buf.getvalue() == f"x,{g}\r\n", v

    def test_csv_quoting_equals_csv_writer_on_random_cells(self):
        rng = np.random.default_rng(11)
        alphabet = [",", '"', "\r", "\n", "\x00", "a", "中", " ", ";"]
        values = ["".join(rng.choice(alphabet, size=rng.integers(0, 5))) for _ in range(3_000)]
        values[0], values[-1] = "a,", '"'  # hits in the first and the last cell
        got = csv_quoted(np.array(values, dtype=object)).tolist()
        want = []
        for v in values:
            buf = io.StringIO()
            csv.writer(buf).writerow(["x", v])
            want.append(buf.getvalue()[2:-2])
        assert sum(g != v for g, v in zip(got, values, strict=True)) > 1000  # many cells needed quotes
        assert got == want

    def test_formula_guard_equals_guard_cell(self):
        values = ["=1+1", " =1+1", "\xa0@SUM(A1)", "-3", "plain", "\u3000+1", "a=b", ""]
        assert bulk.guard_texts(np.array(values, dtype=object)).tolist() == [guard_cell(v) for v in values]

    def test_blank_cells(self):
        values = np.array([None, float("nan"), "", "  ", "\u3000", "x", " x ", 0.0], dtype=object)
        assert blank_mask(values).tolist() == [True, True, True, True, True, False, False, False]


def import_to(tmp_path: Path, src: Path, name: str, **kw):
    out = tmp_path / f"{name}.csv"
    res = import_incidents(src, out=out, rejects=tmp_path / f"{name}_rejects.csv", geocoder=lambda a: None, **kw)
    return res, out


ODD_ROWS = """110-9001,2021年3月4日 21时15分,盗窃,,110,108.3701,30.8402,,
110-9002,2021/3/4 21:15,盗窃,,110,１０８．３７２０,３０．８４２０,,
110-9003,20210304211500,盗窃,,110,108.3703,30.8403,gcj02,
110-9004,44259.885416667,盗窃,,110,108.3704,30.8404,bd09,
110-9005,2021-03-04T13:15:00Z,盗窃,,110,108.3705°E,30.8405N,,
110-9006,2021-03-04 21:15:00,UFO,,110,108.3706,30.8406,,
110-9007,2021-03-04 21:15:00,盗窃,,火星,108.3707,30.8407,,
110-9008,2021-03-04 21:15:00,盗窃,,110,108.3708,30.8408,mars2000,
110-9009,2021-03-04 21:15:00,盗窃,,110,200,30.8409,,
110-9010,2021-03-04 21:15:00,盗窃,,110,,,,
,2021-03-05 21:15:00,邻里,,110,108.371,30.841,,
, 2021-03-05 21:15:00 ,邻里,,110,108.372,30.842,WGS84,
"=cmd|' /C calc'!A0",2021-03-05 21:15:00,邻里,,110,108.373,30.843,,
"110-9011 ",2021-03-06 21:15:00,其他,,110,108.374,30.844,,
110-9011,2021-03-06 21:15:00,其他,,110,108.374,30.844,,
"""


class TestSameAsRowByRow:
    """The store and rejects of the column-wise import are those of checking every row alone."""

    @pytest.fixture
    def export(self, tmp_path):
        src = tmp_path / "export.csv"
        write_export(src, 3000, seed=7)
        with open(src, "a", encoding="utf-8", newline="") as fh:
            fh.write("".join(line + ",,true\r\n" for line in ODD_ROWS.splitlines()))
        return src

    def test_store_and_rejects_equal(self, tmp_path, export, monkeypatch):
        fast, out_fast = import_to(tmp_path, export, "fast", chunksize=1000)
        # Without the column pass for times every row is checked alone, as every import used to be.
        monkeypatch.setattr(checks, "parse_times_bulk", lambda values: np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]"))
        slow, out_slow = import_to(tmp_path, export, "slow", chunksize=1000)
        assert out_fast.read_bytes() == out_slow.read_bytes()
        assert (tmp_path / "fast_rejects.csv").read_bytes() == (tmp_path / "slow_rejects.csv").read_bytes()
        assert fast.summary().replace("fast", "slow") == slow.summary()
        assert fast.imported > 3000 - 20 and fast.rejected >= len(bad_rows(3000)) + 6

    def test_planted_rows_all_reported(self, tmp_path, export):
        res, _ = import_to(tmp_path, export, "s")
        reasons = dict(res.rejects)
        for row, words in bad_rows(3000).items():
            assert words in reasons[row], (row, reasons.get(row))
        odd = {3002 + k: r for k, r in enumerate(ODD_ROWS.splitlines())}
        by_id = {r.split(",")[0]: row for row, r in odd.items()}
        assert "UFO" in reasons[by_id["110-9006"]]
        assert "火星" in reasons[by_id["110-9007"]]
        assert "mars2000" in reasons[by_id["110-9008"]]
        assert "outside China" in reasons[by_id["110-9009"]]
        assert "no location" in reasons[by_id["110-9010"]]
        assert "duplicate id '110-9011'" in reasons[max(odd)]
        assert len(res.rejects) == len(bad_rows(3000)) + 6

    def test_odd_rows_are_stored_as_the_row_by_row_reading_gives(self, tmp_path, export):
        _, out = import_to(tmp_path, export, "s")
        store = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False).set_index("incident_id")
        assert store.loc["110-9001", "time"] == "2021-03-04T21:15:00+08:00"
        assert store.loc["110-9002", ["lon", "lat"]].tolist() == ["108.3720000", "30.8420000"]
        assert store.loc["110-9004", "x_geocode_quality"] == "given_bd09"
        assert store.loc["110-9005", "time"] == "2021-03-04T21:15:00+08:00"
        assert store.loc["'=cmd|' /C calc'!A0", "category"] == "矛盾纠纷"


class TestStructure:
    def test_blank_extra_cells_are_read_like_the_rest(self, tmp_path):
        src = tmp_path / "x.csv"
        src.write_text("id,time,category,lon,lat\nA,2021-03-04 21:15,盗窃,108.37,30.84\nB,2021-03-04 21:16,盗窃,108.37,30.84,,\n", encoding="utf-8")
        res, out = import_to(tmp_path, src, "s", source="110")
        assert res.imported == 2 and len(pd.read_csv(out)) == 2

    def test_extra_cells_with_values_name_the_row(self, tmp_path):
        src = tmp_path / "x.csv"
        rows = "".join(f"A{k},2021-03-04 21:15,盗窃,108.37,30.84\n" for k in range(50))
        src.write_text("id,time,category,lon,lat\n" + rows + "B,2021-03-04 21:16,盗窃,108,37,30.84\n", encoding="utf-8")
        with pytest.raises(DataFileError, match=r"row 52 has 6 cells but the header has 5"):
            import_to(tmp_path, src, "s", source="110", chunksize=10)
        assert not (tmp_path / "s.csv").exists()

    def test_empty_lines_keep_row_numbers(self, tmp_path):
        src = tmp_path / "x.csv"
        src.write_text("id,time,category,lon,lat\nA,2021-03-04 21:15,盗窃,108.37,30.84\n\n,,,,\nB,21:15,盗窃,108.37,30.84\n", encoding="utf-8")
        res, _ = import_to(tmp_path, src, "s", source="110")
        assert (res.read, res.empty, res.imported) == (4, 2, 1)
        assert res.rejects[0][0] == 5


class TestBulkReader:
    """geo.io.tables.csv_frames reads regular tables like iter_records and stops on anything else."""

    def test_regular_table_reads_like_the_table_reader(self, tmp_path):
        from geo.io.tables import csv_frames, iter_records

        src = tmp_path / "export.csv"
        write_export(src, 500, seed=3)
        with open(src, "a", encoding="utf-8", newline="") as fh:
            fh.write('"a, quoted ""cell""",x,,,,,,,"two\nlines",,true\r\n')
        encoding, records = iter_records(src, raw=True)
        header, *rows = list(records)
        frames = list(csv_frames(src, list(header), encoding=encoding, chunksize=120))
        assert [len(f) for f in frames] == [120, 120, 120, 120, 21]
        got = [tuple(r) for f in frames for r in f.itertuples(index=False)]
        assert got == [tuple(None if v == "" else v for v in r) for r in rows]

    @pytest.mark.parametrize(
        "tail", ["B,1,2,3,4,5\n", "B,1,2\n", "B,1,2,3,4,\n"], ids=["extra cell", "short row", "blank extra cell"]
    )
    def test_irregular_rows_stop_it(self, tmp_path, tail):
        from geo.io.tables import csv_frames

        src = tmp_path / "x.csv"
        src.write_text("a,b,c,d,e\n" + "A,1,2,3,4\n" * 30 + tail + "A,1,2,3,4\n" * 30, encoding="utf-8")
        with pytest.raises(pd.errors.ParserError):
            list(csv_frames(src, list("abcde"), encoding="utf-8", chunksize=10))

    def test_empty_lines_are_rows_of_missing_cells(self, tmp_path):
        from geo.io.tables import csv_frames

        src = tmp_path / "x.csv"
        src.write_text("a,b,c\nA,1,2\n\nB,3,4\n\n", encoding="utf-8")
        (frame,) = csv_frames(src, list("abc"), encoding="utf-8", chunksize=10)
        assert frame.to_numpy().tolist() == [["A", "1", "2"], [None] * 3, ["B", "3", "4"], [None] * 3]


class TestRowNumbersAcrossChunks:
    def test_bad_rows_at_chunk_edges_keep_their_numbers(self, tmp_path):
        lines = [f"A{k},2021-03-04 21:15,盗窃,108.37,30.84" for k in range(30)]
        bad = {0: "飞碟", 9: "21:15", 10: "飞碟", 29: "21:15"}  # first and last rows of the chunks of 10
        for i, what in bad.items():
            lines[i] = f"B{i},2021-03-04 21:15,飞碟,108.37,30.84" if what == "飞碟" else f"B{i},21:15,盗窃,108.37,30.84"
        src = tmp_path / "x.csv"
        src.write_text("id,time,category,lon,lat\n" + "\n".join(lines) + "\n", encoding="utf-8")
        res, _ = import_to(tmp_path, src, "s", source="110", chunksize=10)
        got = dict(res.rejects)
        assert sorted(got) == [i + 2 for i in bad]
        for i, what in bad.items():
            assert ("飞碟" if what == "飞碟" else "without a date") in got[i + 2]


def test_every_row_with_extra_cells_is_named_and_nothing_is_written(tmp_path):
    src = tmp_path / "x.csv"
    rows = [f"A{k},2021-03-04 21:15,盗窃,108.37,30.84" for k in range(40)]
    rows[5] = "B5,2021-03-04 21:15,盗窃,108,37,30.84"
    rows[30] = "B30,2021-03-04 21:15,盗窃,108.37,30,84,x"
    src.write_text("id,time,category,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"x\.csv: 2 rows have more cells than the header's 5: rows 7 \(6 cells\), 32 \(7 cells\)"):
        import_to(tmp_path, src, "s", source="110", chunksize=10)
    assert not (tmp_path / "s.csv").exists()
