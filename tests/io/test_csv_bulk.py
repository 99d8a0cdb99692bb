"""The bulk CSV text (geo.io.csv_text.csv_text) against pandas' own ``to_csv`` on random frames: the same text."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from geo.io.csv_text import arrow_hundredths, csv_cells, csv_text, in_order

TEXTS = ["", "a", "安居小区", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "crlf\r\n", " lead", "trail ", "'=1", "x\x00y",
         "\U0001f600", "-1", "1e5", "nan", "None", "True", "\t"]
FLOATS = [0.0, -0.0, 0.1, 1 / 3, 1e16, 1e-5, 1e22, 123456789012345680.0, 5e-324, 1.7976931348623157e308, np.inf, -np.inf,
          np.nan, 100.0, 2.5, -7.25, 1234567890123456.7]


def pandas_text(df: pd.DataFrame) -> str:
    buf = io.StringIO(newline="")
    df.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue()


def column(kind: str, n: int, rng) -> pd.Series:
    if kind == "int":
        return pd.Series(rng.integers(-10**12, 10**12, n))
    if kind == "int32":
        return pd.Series(rng.integers(-1000, 1000, n).astype(np.int32))
    if kind == "float":
        with np.errstate(over="ignore"):
            return pd.Series(rng.choice(FLOATS, n) * rng.choice([1.0, 3.7, 1e-3], n))
    if kind == "hundredths":  # distances rounded to centimetres, as in the coverage report
        values = np.round(rng.choice([1.0, 1e3, 1e7, 1e12], n) * rng.standard_normal(n), 2)
        values[rng.random(n) < 0.1] = np.nan
        values[rng.random(n) < 0.05] = -0.0
        return pd.Series(values)
    if kind == "float32":
        return pd.Series(rng.random(n).astype(np.float32))
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.5)
    if kind == "text":
        return pd.Series([TEXTS[i] for i in rng.integers(len(TEXTS), size=n)], dtype=object)
    if kind == "mixed":
        pool = [*TEXTS[:6], None, np.nan, 3, -2, 0.5, 1e-7, True, False]
        return pd.Series([pool[i] for i in rng.integers(len(pool), size=n)], dtype=object)
    if kind == "odd":  # objects pandas writes its own way
        return pd.Series([pd.Timestamp("2026-12-01 05:59"), b"x", [1], {"a": 1}][: n] + ["t"] * max(0, n - 4), dtype=object)
    if kind == "nullable":
        return pd.Series(pd.array([1, None, -3, 2**62] * n, dtype="Int64")[:n])
    if kind == "nullable_uint8":
        return pd.Series(pd.array([255, None, 0] * n, dtype="UInt8")[:n])
    if kind == "nullable_bool":
        return pd.Series(pd.array([True, None, False] * n, dtype="boolean")[:n])
    if kind == "nullable_float":
        return pd.Series(pd.array([1.5, None, 1e20] * n, dtype="Float64")[:n])
    if kind == "string":
        return pd.Series(pd.array(["a", None, "b,c"] * n, dtype="string")[:n])
    if kind == "category":
        return pd.Series(pd.Categorical(["x", "y"] * n)[:n])
    if kind == "dates":
        return pd.Series(pd.date_range("2022-01-01", periods=n, freq="37min"))
    raise AssertionError(kind)


#: Kinds written in bulk, then kinds left to pandas.
BULK = ["int", "int32", "float", "hundredths", "float32", "bool", "text", "mixed", "nullable", "nullable_uint8", "nullable_bool"]
KINDS = [*BULK, "odd", "nullable_float", "string", "category", "dates"]


@pytest.mark.parametrize("seed", range(60))
def test_same_text_as_pandas_on_random_frames(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 2, 7, 40, 20_000]))
    width = int(rng.integers(1, 6))
    plain = seed % 3 != 0  # two frames in three hold only the kinds written in bulk
    kinds = rng.choice(BULK if plain else KINDS, size=width)
    names = [f"c{j}" if j % 4 else ["名称", "a,b", 'q"uote', "x"][j % 4] for j in range(width)]
    df = pd.DataFrame({name: column(kind, n, rng).array if kind.startswith("nullable") or kind not in BULK else column(kind, n, rng).to_numpy()
                       for name, kind in zip(names, kinds, strict=True)})
    assert csv_text(df) == pandas_text(df)


@pytest.mark.parametrize("seed", range(6))
def test_floats_in_hundredths_are_written_as_repr_writes_them(seed):
    """Whole numbers of hundredths (any size below 1e13, negative, -0.0, NaN) by integer arithmetic; others by ``repr``."""
    rng = np.random.default_rng(seed)
    k = rng.integers(-10**15, 10**15, 50_000) // rng.choice([1, 10, 100, 10**6, 10**12], 50_000)
    values = k / 100.0
    values[:4] = [-0.0, 0.0, 9999999999999.99, -9999999999999.99]
    values[rng.random(len(values)) < 0.01] = np.nan
    cells = arrow_hundredths(values)
    assert cells is not None
    assert cells.to_pylist() == ["" if v != v else repr(v) for v in values.tolist()]
    for odd in (1 / 3, 0.001, 1e13, np.inf, 5e-324):  # not hundredths, too large, or infinite: left to repr
        assert arrow_hundredths(np.r_[values[:10], odd]) is None


def test_the_report_kinds_are_written_in_bulk():
    df = pd.DataFrame({"estate_id": ["E1", "E2"], "n": [1, 2], "d": [1.5, np.nan], "ok": [True, False], "ids": ["A;B", None],
                       "batch_year": pd.array([2022, None], dtype="Int64")})
    assert all(csv_cells(df[c]) is not None for c in df.columns)
    assert csv_text(df) == pandas_text(df) == "estate_id,n,d,ok,ids,batch_year\r\nE1,1,1.5,True,A;B,2022\r\nE2,2,,False,,\r\n"


def test_shipped_report_is_the_same_text(tmp_path):
    from geo import io as gio
    from geo import settings
    from geo.report import coverage_table

    table = coverage_table(gio.read_estates(settings.data_path("estates.geojson")), gio.read_routes(settings.data_path("patrol_routes.geojson")))
    plain = pd.DataFrame(table.drop(columns=table.geometry.name))
    assert csv_text(plain) == pandas_text(plain)


@pytest.mark.parametrize("rows", [0, 1, 7, 8, 23])
def test_written_file_is_the_text_in_pieces_even_when_a_late_piece_goes_to_pandas(tmp_path, monkeypatch, rows):
    """``write_table`` streams the text a piece at a time; a piece that only pandas can write (a date among the texts of
    the last rows) has the whole file written again by pandas. Pieces of 4 rows here, so most frames span several."""
    from geo.io import csv_text as module
    from geo.io.writers import guard_formulas, write_table

    monkeypatch.setattr(module, "_CSV_ROWS", 4)
    texts = [TEXTS[i % len(TEXTS)] for i in range(rows)]
    plain = pd.DataFrame({"名称": pd.Series(texts, dtype=object), "n": np.arange(rows), "x": np.linspace(0, 1, rows)})
    late = plain.copy()
    if rows:
        late.loc[rows - 1, "名称"] = pd.Timestamp("2024-05-01")  # only the last piece holds a cell pandas must write
    for frame in (plain, late):
        out = write_table(frame, tmp_path / "t.csv")
        # the file is pandas' own text of the guarded frame, with the BOM Excel needs
        assert out.read_bytes() == b"\xef\xbb\xbf" + pandas_text(guard_formulas(frame)).encode("utf-8")
        assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


# --- pieces made in threads, yielded in order --------------------------------------


def test_in_order_keeps_the_order_of_the_items_whatever_finishes_first():
    import time

    def slow_then_fast(i):
        time.sleep(0.002 * (i % 5 == 0))  # every fifth item finishes after the ones submitted behind it
        return i * i

    for workers in (1, 2, 4):
        assert list(in_order(slow_then_fast, range(23), workers=workers)) == [i * i for i in range(23)]


def test_in_order_raises_where_the_failing_result_would_be_and_stops_making():
    import threading

    started, lock = [], threading.Lock()

    def fails_at_5(i):
        with lock:
            started.append(i)
        if i == 5:
            raise ValueError(i)
        return i

    got = []
    with pytest.raises(ValueError, match="5"):
        for value in in_order(fails_at_5, range(1_000), workers=2):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]  # every result before the failure, none after
    assert max(started) <= 5 + 2  # at most two items ahead of the caller were started


def test_the_pieces_of_a_long_frame_are_pandas_text_in_order(monkeypatch):
    from geo.io import csv_text as module

    monkeypatch.setattr(module, "_CSV_ROWS", 3)
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"名称": [TEXTS[i % len(TEXTS)] for i in range(100)], "n": rng.integers(-5, 5, 100), "x": rng.random(100)})
    assert csv_text(df) == pandas_text(df)
