"""A chunk's cells as Arrow text (geo.incidents.cells), and the helpers that take Arrow text: the answers Python's own gives."""

from __future__ import annotations

import datetime as dt
import random
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from geo.incidents import bulk
from geo.incidents.cells import WHITESPACE, Chunk, as_text, blank, edge_spaces, patched, stripped
from geo.incidents.times import format_time, format_times_text, parse_time, parse_times_bulk, read_common_times
from geo.io.writers import guard_cell

#: Characters next to whitespace in code or in UTF-8 bytes: the same first byte (E2, E3, C2, E1) or the same last byte (80, 85, A0...).
NEIGHBOURS = [*"ab,中文éx\u3001\u2010\u2027\u205e\u1681\u00a1\u0080\u2030\u3080\u4e00\u00c2", "\U0001f600", "\U00020000"]


def random_cells(seed: int, n: int) -> list:
    rng = random.Random(seed)
    alphabet = list(WHITESPACE) + NEIGHBOURS
    cells = []
    for _ in range(n):
        if rng.random() < 0.05:
            cells.append(None)
        else:
            cells.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))))
    return cells


def test_whitespace_is_what_str_strip_removes():
    assert list(WHITESPACE) == [c for c in map(chr, range(0x110000)) if c.isspace()]
    assert all(("x" + c + "x").strip() == "x" + c + "x" and (c + "x" + c).strip() == "x" for c in WHITESPACE)


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_edge_spaces_stripped_and_blank_are_pythons(kind):
    cells = random_cells(1, 60_000)
    arr = pa.array(cells, type=kind)
    want_edges = [v is not None and v != "" and (v[0].isspace() or v[-1].isspace()) for v in cells]
    assert 5_000 < sum(want_edges) < 55_000  # both kinds of cell are common
    assert edge_spaces(arr).tolist() == want_edges
    assert stripped(arr).to_pylist() == [None if v is None else (v.strip() or None) for v in cells]
    assert blank(arr).tolist() == [v is None or not v.strip() for v in cells]
    part = arr.slice(777, 5_000)  # an array that starts inside its buffers
    assert edge_spaces(part).tolist() == want_edges[777:5_777]
    assert stripped(part).to_pylist() == [None if v is None else (v.strip() or None) for v in cells[777:5_777]]


def test_every_whitespace_character_alone_and_at_each_end():
    cells = [s for c in WHITESPACE for s in (c, c + "中", "中" + c, c + "a" + c, "a" + c + "a")] + ["", None, "中", "\u3001"]
    arr = pa.array(cells, type=pa.string())
    assert stripped(arr).to_pylist() == [None if v is None else (v.strip() or None) for v in cells]
    assert blank(arr).tolist() == [v is None or not v.strip() for v in cells]


def test_empty_and_all_null_columns():
    assert edge_spaces(pa.array([], type=pa.string())).tolist() == []
    assert stripped(pa.nulls(3, pa.string())).to_pylist() == [None, None, None]
    assert blank(pa.array(["", None, "x"], type=pa.string())).tolist() == [True, True, False]


def test_patched_replaces_only_the_rows_given():
    rng = np.random.default_rng(5)
    values = [f"v{i}" if i % 7 else None for i in range(1_000)]
    rows = np.sort(rng.choice(1_000, size=100, replace=False))
    new = [None if k % 3 == 0 else f"new{k}" for k in range(100)]
    want = list(values)
    for r, x in zip(rows.tolist(), new, strict=True):
        want[r] = x
    arr = pa.array(values, type=pa.string())
    assert patched(arr, rows, new).to_pylist() == want
    assert patched(arr, [], []) is arr


def test_chunk_of_arrow_and_of_a_frame_give_the_same_cells():
    cells = random_cells(2, 2_000)
    other = [None if i % 5 else " 30.8 " for i in range(2_000)]
    table = pa.table({"a": pa.array(cells, type=pa.string()), "b": pa.array(other, type=pa.string())})
    frame = pd.DataFrame({"a": cells, "b": other}, dtype=object)
    arrow, pandas = Chunk(table), Chunk(frame, text_only=True)
    rows = np.arange(0, 2_000, 3)
    assert len(arrow) == len(pandas) == 2_000
    for name in ("a", "b"):
        assert arrow.text(name).to_pylist() == pandas.text(name).to_pylist()
        assert arrow.blank(name, rows).tolist() == pandas.blank(name, rows).tolist()
        assert arrow.objects(name).tolist() == pandas.objects(name).tolist()
    assert arrow.records(rows) == pandas.records(rows)
    assert bulk.empty_rows(arrow).tolist() == bulk.empty_rows(pandas).tolist()


def test_a_spreadsheets_numbers_and_dates_are_not_text():
    frame = pd.DataFrame({"a": ["x", 3.5, dt.datetime(2021, 3, 4), None, float("nan"), " "]}, dtype=object)
    chunk = Chunk(frame)
    assert chunk.other("a").tolist() == [False, True, True, False, False, False]
    assert chunk.text("a").to_pylist() == ["x", None, None, None, None, " "]
    assert Chunk(frame, text_only=True).other("a").tolist() == [False] * 6


def test_labels_found_by_arrow_map_as_objects_do(monkeypatch):
    rng = random.Random(3)
    labels = ["盗窃", " 盗窃", "110", None, "纠纷", ""]
    a = [rng.choice(labels) for _ in range(5_000)]
    b = [rng.choice(labels) for _ in range(5_000)]

    def fn(x, y=None):
        if x == "纠纷":
            raise ValueError(x)
        return f"{x}|{y}"

    for got, want in (
        (bulk.map_unique(as_text(a), fn), bulk.map_unique(np.array(a, dtype=object), fn)),
        (bulk.map_unique_pairs(as_text(a), as_text(b), fn), bulk.map_unique_pairs(np.array(a, dtype=object), np.array(b, dtype=object), fn)),
    ):
        assert got[0].tolist() == want[0].tolist()
        assert got[1].tolist() == want[1].tolist()
        assert want[1].any() and not want[1].all()
    as_arrow, failed = bulk.map_unique_pairs(as_text(a), as_text(b), fn, text=True)  # the answers as Arrow text
    want, want_failed = bulk.map_unique_pairs(np.array(a, dtype=object), np.array(b, dtype=object), fn)
    assert as_arrow.type == pa.string() and as_arrow.to_pylist() == want.tolist()
    assert failed.tolist() == want_failed.tolist()
    (first, second), failed = bulk.map_unique_pairs_text(as_text(a), as_text(b), lambda x, y: (fn(x, y), y), 2)
    assert first.to_pylist() == want.tolist()
    assert second.to_pylist() == [None if f else y for y, f in zip(b, want_failed.tolist(), strict=True)]
    assert failed.tolist() == want_failed.tolist()
    monkeypatch.setattr(bulk, "_PAIR_TABLE_MAX", 0)  # the pairs found by a sort instead of a table: the same answers
    sorted_way, sorted_failed = bulk.map_unique_pairs(as_text(a), as_text(b), fn)
    assert sorted_way.tolist() == want.tolist() and sorted_failed.tolist() == want_failed.tolist()


def test_degrees_of_arrow_text_are_those_of_objects():
    values = ["108.3701", None, "30.84", "1e2", "-0.5"]
    odd = [*values, "１０８．３７", "108.3°", " 30.8N"]
    for column in (values, odd):
        got = bulk.degrees(as_text(column))
        want = bulk.degrees(np.array(column, dtype=object))
        assert got.tobytes() == want.tobytes()


def test_formula_guard_of_arrow_text_is_guard_cell():
    values = ["=1+1", " =1+1", "\xa0@SUM(A1)", "-3", "plain", "\u3000+1", "a=b", "", "\t=x", "中=1"]
    assert bulk.guard_texts(as_text(values)).to_pylist() == [guard_cell(v) for v in values]


def test_fixed_text_is_pythons_text_in_arrow():
    from geo import crs

    rng = np.random.default_rng(12)
    lon = np.array([float(f"{x:.7f}") for x in rng.uniform(105, 111, 5_000)])
    lat = np.array([float(f"{x:.7f}") for x in rng.uniform(28, 33, 5_000)])
    edges = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-8, -5e-8, 999999.9999999, 1e6, 1e300, 108.99999995, 5e-324])
    for v in (lon, -lat, np.r_[lon[:100], crs.convert(lon[:100], lat[:100], src="gcj02", dst="wgs84")[0]], edges, np.zeros(0)):
        for decimals in (0, 1, 7, 9):
            got = bulk.fixed_text(v, decimals)
            assert got.type == pa.large_string()
            assert got.to_pylist() == [f"{x:.{decimals}f}" for x in v.tolist()], decimals


def test_times_as_arrow_text_are_format_time():
    rng = np.random.default_rng(3)
    t = np.datetime64("1700-01-01T00:00:00") + rng.integers(0, 17 * 10**9, 5_000).astype("timedelta64[s]")
    want = [format_time(x) for x in t.astype(dt.datetime)]
    assert format_times_text(t).to_pylist() == want
    valid = rng.random(5_000) < 0.7
    assert format_times_text(t, valid).to_pylist() == [w if ok else None for w, ok in zip(want, valid.tolist(), strict=True)]
    assert format_times_text(t[:0]).to_pylist() == []


def test_seen_ids_answer_as_one_dict_does():
    from geo.incidents.checks import SeenIds

    rng = random.Random(8)
    for trial in range(200):
        seen, model = SeenIds(), {}
        row = 2
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            if op < 0.6:  # a chunk: kept whole only when no id was kept before and none repeats
                ids = [f"id{rng.randint(0, 60 if trial % 2 else 10_000)}" for _ in range(rng.randint(0, 6))]
                rows = np.arange(row, row + len(ids))
                row += len(ids)
                fresh = model.keys().isdisjoint(ids) and len(set(ids)) == len(ids)
                assert seen.add_new(ids, rows) == fresh
                if fresh:
                    model.update(zip(ids, rows.tolist(), strict=True))
            elif op < 0.8:
                iid = f"id{rng.randint(0, 60)}"
                if iid not in model:
                    seen.add(iid, row)
                    model[iid] = row
                    row += 1
            elif model:
                iid = rng.choice(sorted(model))
                seen.release(iid)
                del model[iid]
            for k in range(61):
                assert (f"id{k}" in seen) == (f"id{k}" in model)
            if rng.random() < 0.2:  # asking a row turns the set into a dict: most steps leave it a set
                assert all(seen.row(iid) == r for iid, r in model.items())
        assert all(seen.row(iid) == r for iid, r in model.items())


def test_common_times_read_from_bytes_are_parse_times():
    rng = random.Random(9)

    def two(lo, hi):
        return f"{rng.randint(lo, hi):02d}"

    cells = []
    for _ in range(30_000):
        year = rng.choice([str(rng.randint(1600, 2300)), "0000", "2021", "2020", "1900", "2000", "2261", "2262", "1677", "1678"])
        cells.append(f"{year}-{two(0, 13)}-{two(0, 32)} {two(0, 25)}:{two(0, 61)}:{two(0, 61)}")
    for _ in range(5_000):  # a character changed anywhere
        text = list(cells[rng.randrange(len(cells))])
        text[rng.randrange(19)] = rng.choice(["/", " ", "T", "a", "9", "-", ":", "\u3000", "１"])
        cells.append("".join(text))
    cells += ["2021-03-04 21:15:00", "2020-02-29 00:00:00", "2021-02-29 00:00:00", "2021-12-31 23:59:60", " 2021-03-04 21:15:0", None, ""]
    got = read_common_times(as_text(cells))
    read = ~np.isnat(got)
    assert got[read].astype(dt.datetime).tolist() == [parse_time(c) for c, r in zip(cells, read.tolist(), strict=True) if r]
    assert read.sum() > 3_000 and not np.isnat(got[-7]) and not np.isnat(got[-6]) and np.isnat(got[-5]) and np.isnat(got[-4])
    # every one read in bulk is read from the bytes, except years outside 1678-2261, which pandas alone reads
    bulk_read = parse_times_bulk(np.array(cells, dtype=object))
    common = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
    missed = [c for c, g, b in zip(cells, got, bulk_read, strict=True) if np.isnat(g) and not np.isnat(b) and common.fullmatch(c)]
    assert missed and all(not 1678 <= int(c[:4]) <= 2261 for c in missed), [c for c in missed if 1678 <= int(c[:4]) <= 2261][:5]


def test_csv_rows_refuse_a_null_cell_instead_of_dropping_its_row():
    from geo.io.csv_text import rows_bytes

    a = pa.array(["x", "y"], type=pa.large_string())
    assert bytes(rows_bytes([a, a])) == b"x,x\r\ny,y\r\n"
    with pytest.raises(ValueError, match=r"columns \[1\]"):
        rows_bytes([a, pa.array(["x", None], type=pa.large_string())])
