"""Columns typed by the Arrow readers (GeoParquet, GeoPackage, FlatGeobuf) validate exactly as cell-by-cell validation does.

The Arrow readers strip text, find blanks and type numbers and flags in
compiled kernels (:class:`geo.io.parts.ColumnFacts`); these tests read the same
file both ways, the facts against the Python values of the same Arrow table,
and compare every problem and every typed value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from geo._validate import blank_mask
from geo.io import vector
from geo.io.frames import check_table
from geo.io.tables import as_input
from geo.schemas import ESTATES, Field, Schema

#: Every character str.isspace() calls whitespace, and some that are not (zero-width space, BOM).
_SPACES = [" ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2007", "\u200a",
           "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u200b", "\ufeff"]

_SCHEMA = Schema(
    name="test",
    id_field="fid",
    geometry_types=("Point",),
    fields=(
        Field("fid", "str"),
        Field("label", "str", required=False),
        Field("count", "int", required=False),
        Field("length_m", "float", required=False),
        Field("flag", "bool", required=False),
        Field("kind", "str", required=False, choices=("a", "b")),
        Field("year", "int", required=False, choices=(2022, 2023)),
    ),
)


def _random_text(rng: np.random.Generator, n: int) -> list:
    """Text with whitespace of every kind around it, whitespace-only cells, empty cells and nulls."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.08:
            out.append(None)
        elif r < 0.16:
            out.append("".join(rng.choice(_SPACES, size=rng.integers(0, 4))))
        else:
            core = rng.choice(["SH-01", "沙河", "a", "b", "x y", "=1+2", "\u200b", "1"])
            pad = ["".join(rng.choice(_SPACES, size=rng.integers(0, 3))) for _ in range(2)]
            out.append(pad[0] + str(core) + pad[1])
    return out


def _parquet(tmp_path, columns: dict, n: int) -> str:
    """A GeoParquet file of ``n`` points with ``columns`` (Arrow arrays), written with the GeoParquet metadata geopandas writes."""
    import geopandas as gpd

    points = gpd.GeoDataFrame(geometry=shapely.points(108.37 + np.arange(n) * 1e-4, np.full(n, 30.84)), crs="EPSG:4326")
    path = tmp_path / "t.parquet"
    points.to_parquet(path)  # the geometry column and its GeoParquet metadata, as geopandas writes them
    table = pq.read_table(path)
    for name, array in columns.items():
        table = table.append_column(name, array)
    pq.write_table(table, path)
    return str(path)


def _both_ways(path: str, schema: Schema):
    """check_table with the reader's facts, and cell by cell on the Python values of the same table."""
    parts = vector.read_parquet(as_input(path))
    geoms = np.asarray(parts.geoms, dtype=object)
    fast = check_table(parts.props, geoms, schema, facts=parts.facts)
    table = pq.read_table(path)
    data = {}
    for name in table.column_names:
        if name == "geometry":
            continue
        values = np.empty(table.num_rows, dtype=object)
        values[:] = table.column(name).to_pylist()
        values[blank_mask(values)] = None
        data[name] = values
    slow = check_table(pd.DataFrame(data, dtype=object), geoms, schema)
    return parts, fast, slow


def _assert_same(fast, slow):
    assert fast[0] == slow[0]
    if slow[1] is None:
        assert fast[1] is None
    else:
        pd.testing.assert_frame_equal(fast[1], slow[1])
        for col in slow[1].columns:  # the same Python types in object columns (str stays str, not a NumPy scalar)
            if slow[1][col].dtype == object and col != "geometry":
                assert list(map(type, fast[1][col])) == list(map(type, slow[1][col])), col


def test_python_whitespace_is_every_whitespace_character():
    every = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert vector.PY_WHITESPACE == every


@pytest.mark.parametrize("seed", range(6))
def test_random_columns_validate_as_cell_by_cell(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 300
    ids = [f"F{i}" if rng.random() > 0.05 else rng.choice([" F1 ", "F2\u3000", None, " "]) for i in range(n)]
    counts = pa.array([None if rng.random() < 0.1 else int(rng.integers(-5, 10**12)) for _ in range(n)], type=pa.int64())
    lengths = pa.array([None if rng.random() < 0.1 else rng.choice([np.nan, np.inf, -np.inf, 1.5, -0.0, 1e300, 3.0])
                        for _ in range(n)], type=pa.float64())
    flags = pa.array([None if rng.random() < 0.2 else bool(rng.random() < 0.5) for _ in range(n)], type=pa.bool_())
    kinds = pa.array([rng.choice(["a", " b ", "c", "\xa0a", None, ""]) for _ in range(n)], type=pa.string())
    years = pa.array([None if rng.random() < 0.1 else int(rng.choice([2022, 2023, 2021])) for _ in range(n)], type=pa.int32())
    columns = {
        "fid": pa.array(ids, type=pa.string()),
        "label": pa.array(_random_text(rng, n), type=pa.large_string()),
        "count": counts,
        "length_m": lengths,
        "flag": flags,
        "kind": kinds,
        "year": years,
        "x_note": pa.array(_random_text(rng, n), type=pa.string()),
    }
    parts, fast, slow = _both_ways(_parquet(tmp_path, columns, n), _SCHEMA)
    assert set(parts.facts) == set(columns)  # every column here was typed by the reader
    assert slow[0], "the random data should hold problems (duplicate ids, choices, infinities)"
    _assert_same(fast, slow)


@pytest.mark.parametrize("seed", range(3))
def test_clean_random_columns_give_the_same_frame(tmp_path, seed):
    rng = np.random.default_rng(100 + seed)
    n = 200
    columns = {
        "fid": pa.array([f" F{i}\u3000" if i % 7 == 0 else f"F{i}" for i in range(n)], type=pa.string()),
        "label": pa.array(_random_text(rng, n), type=pa.string()),
        "count": pa.array([None if i % 5 == 0 else int(rng.integers(0, 99)) for i in range(n)], type=pa.int16()),
        "length_m": pa.array([None if i % 4 == 0 else float(rng.random()) for i in range(n)], type=pa.float32()),
        "flag": pa.array([None if i % 3 == 0 else bool(i % 2) for i in range(n)], type=pa.bool_()),
        "kind": pa.array([["a", " b", None, "\u3000"][i % 4] for i in range(n)], type=pa.string()),
    }
    _, fast, slow = _both_ways(_parquet(tmp_path, columns, n), _SCHEMA)
    assert not slow[0]
    _assert_same(fast, slow)
    assert fast[1]["fid"].iloc[0] == "F0"  # stripped, U+3000 included


def test_numbers_given_as_text_still_go_through_the_cell_rules(tmp_path):
    """A text column for a whole-number field is not typed by the reader's facts: the cell-by-cell rules read it."""
    n = 4
    columns = {
        "fid": pa.array(["A", "B", "C", "D"]),
        "count": pa.array([" 12 ", "１２", "x", None]),
        "flag": pa.array([1, 0, None, 1], type=pa.int64()),
    }
    _, fast, slow = _both_ways(_parquet(tmp_path, columns, n), _SCHEMA)
    assert any("field 'count': 'x'" in p for p in slow[0])
    _assert_same(fast, slow)


def test_an_estates_file_with_padded_ids_reports_duplicates_as_before(tmp_path):
    n = 3
    columns = {
        "estate_id": pa.array(["SH-01", " SH-01\u3000", "SH-02"]),
        "name": pa.array(["甲", "乙", "\u3000"]),
        "community": pa.array(["沙河社区"] * 3),
        "address": pa.array(["沙河路1号"] * 3),
        "batch_year": pa.array([2022, 2023, 2024]),
    }
    _, fast, slow = _both_ways(_parquet(tmp_path, columns, n), ESTATES)
    assert fast[0] == slow[0]
    assert "field 'estate_id': id 'SH-01' is used 2 times (feature 0, feature 1); ids must be unique" in fast[0]
    assert "feature 2 (SH-02), field 'name': missing; every estates feature needs estate name as printed (老旧小区名称); several rows may share it" in fast[0]
