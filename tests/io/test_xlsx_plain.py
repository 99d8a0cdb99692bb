"""XLSX of plain tables through openpyxl's write-only workbook against ``DataFrame.to_excel``, read back with openpyxl."""

from __future__ import annotations

import io as stdio

import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo import io
from geo.io.xlsx import plain_xlsx_bytes

TEXTS = ["沙河小区", "=1+1", "'=SUM(A1)", "a\"b", "back\\slash", "line\nbreak", "tab\tin", " lead", "trail ", "", "🚓", "x" * 3000]


def _read_back(data: bytes):
    """Everything a user sees in the workbook: sheets, each cell's value, type, format and style, sizes, widths, panes."""
    book = openpyxl.load_workbook(stdio.BytesIO(data))
    sheets = []
    for ws in book.worksheets:
        cells = [[(c.value, c.data_type, c.number_format, repr(c.font), repr(c.border), repr(c.alignment), repr(c.fill), repr(c.protection))
                  for c in row] for row in ws.iter_rows()]
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        merged = [str(r) for r in ws.merged_cells.ranges]
        sheets.append((ws.title, cells, ws.max_row, ws.max_column, widths, ws.freeze_panes, ws.auto_filter.ref, merged))
    return book.sheetnames, sheets


def _pandas_bytes(df: pd.DataFrame) -> bytes:
    out = stdio.BytesIO()
    df.to_excel(out, index=False, engine="openpyxl")
    return out.getvalue()


def random_plain_frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1e3, n)
    floats[rng.random(n) < 0.2] = np.nan
    floats[rng.random(n) < 0.05] = np.inf
    floats[rng.random(n) < 0.05] = -np.inf
    floats[rng.random(n) < 0.05] = -0.0
    text = [str(rng.choice(TEXTS)) for _ in range(n)]
    mixed = [None if rng.random() < 0.2 else (float("nan") if rng.random() < 0.2 else (float(rng.choice([1.5, np.inf, -np.inf]))
             if rng.random() < 0.2 else str(rng.choice(TEXTS)))) for _ in range(n)]
    return pd.DataFrame({
        "estate_id": [f"E{k:06d}" for k in range(n)],
        "名称": text,
        "count": rng.integers(-(2**40), 2**40, n),
        "u8": rng.integers(0, 255, n).astype(np.uint8),
        "distance_m": floats,
        "f32": floats.astype(np.float32),
        "flag": rng.random(n) < 0.5,
        "team_ids": mixed,
    })


@pytest.mark.parametrize("seed", range(5))
def test_plain_frames_give_the_same_workbook(seed):
    df = io.guard_formulas(random_plain_frame(seed, 120))
    got = plain_xlsx_bytes(df)
    assert got is not None
    assert _read_back(got) == _read_back(_pandas_bytes(df))


def test_edge_shapes():
    df = random_plain_frame(9, 10)
    for frame in (df.iloc[:0], df.iloc[:1], df[["flag"]], pd.DataFrame({"a": [None, None]}, dtype=object)):
        assert _read_back(plain_xlsx_bytes(frame)) == _read_back(_pandas_bytes(frame))


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"when": pd.to_datetime(["2024-01-02", None])}),
    pd.DataFrame({1: [1, 2]}),
    pd.DataFrame({"cat": pd.Categorical(["a", "b"])}),
    pd.DataFrame({"obj": [1, "a"]}),
    pd.DataFrame({"obj": [[1], "a"]}),
])
def test_other_tables_are_left_to_pandas(frame):
    assert plain_xlsx_bytes(frame) is None


def test_table_bytes_of_a_report_reads_back_as_written(tmp_path):
    df = random_plain_frame(3, 50)
    path = io.write_table(df, tmp_path / "report.xlsx")
    back = pd.read_excel(path, engine="openpyxl")
    assert back["estate_id"].tolist() == df["estate_id"].tolist()
    guarded = back["名称"][df["名称"].str.startswith("=").to_numpy()]
    assert len(guarded) and guarded.str.startswith("'=").all()
    assert _read_back(path.read_bytes()) == _read_back(_pandas_bytes(io.guard_formulas(df)))


def _openpyxl_parts(df: pd.DataFrame) -> dict[str, bytes]:
    """The parts of the workbook openpyxl's write-only sheet makes of ``df``, a row at a time (the header styled as pandas does)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    thin = Side(style="thin")
    header = []
    for name in df.columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="center", vertical="top")
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        header.append(cell)
    sheet.append(header)
    for row in zip(*[df[c].tolist() for c in df.columns], strict=True):
        sheet.append(["" if v is None or (isinstance(v, float) and v != v) else ("inf" if v == np.inf else "-inf" if v == -np.inf else v)
                      for v in row])
    out = stdio.BytesIO()
    book.save(out)
    return _parts(out.getvalue())


def _parts(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(stdio.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core.xml holds the time it was written


@pytest.mark.parametrize("seed", range(4))
def test_rows_written_in_bulk_are_openpyxls_own_xml(seed):
    # Every part byte for byte, the sheet's rows included: text with markup characters, line breaks, carriage
    # returns, leading and trailing spaces, characters beyond ASCII and beyond 16 bits; numbers as %.16g.
    df = io.guard_formulas(random_plain_frame(seed, 200))
    df["raw"] = [str(t) + "\r<&>" if k % 3 else " " for k, t in enumerate(df["名称"])]
    assert _parts(plain_xlsx_bytes(df)) == _openpyxl_parts(df)


def test_nullable_integers_as_pandas_writes_them():
    # the report's batch_year: whole numbers, and an empty cell where the year is missing
    df = pd.DataFrame({"batch_year": pd.array([2022, None, 2024, -(2**40)], dtype="Int64"), "u": pd.array([1, 2, None, 3], dtype="UInt16")})
    got = plain_xlsx_bytes(df)
    assert got is not None
    assert _read_back(got) == _read_back(_pandas_bytes(df))
    assert pd.read_excel(stdio.BytesIO(got))["batch_year"].tolist()[::2] == [2022, 2024]


def test_whole_numbers_at_the_edges_of_their_digits_are_openpyxls_own_xml():
    # Whole numbers are written from their digits up to 2**53; beyond, %.16g (of the number as a float) may round.
    edge = [2**53, -(2**53), 2**53 + 1, 10**16 - 1, -(10**16 - 1), 10**16, 2**62, -(2**63), 0, 7]
    df = pd.DataFrame({"edge": np.array(edge, dtype=np.int64), "small": np.arange(len(edge), dtype=np.int16),
                       "beyond_int64": np.array([2**63 + 5] + [1] * (len(edge) - 1), dtype=np.uint64)})
    assert _parts(plain_xlsx_bytes(df)) == _openpyxl_parts(df)
    for k in range(len(edge)):  # each alone too, so that one number decides the column's path
        one = df.iloc[[k]].reset_index(drop=True)
        assert _parts(plain_xlsx_bytes(one)) == _openpyxl_parts(one)


@pytest.mark.parametrize("texts", [["a", "=", "b"], ["a", "=1+1", "b"], ["=SUM(A1)", "a"], ["a=1", "b ="]])
def test_a_formula_anywhere_in_a_column_is_written_as_openpyxl_writes_it(texts):
    # '=' alone is text to openpyxl; '=...' a formula, wherever the cell is (looked for in the joined column first).
    df = pd.DataFrame({"t": texts, "n": np.arange(len(texts))})
    assert _parts(plain_xlsx_bytes(df)) == _openpyxl_parts(df)


def _reference_cell_problems(df: pd.DataFrame) -> list[str]:
    """Every text cell checked on its own with openpyxl's own pattern and Python's len, in column then row order."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from geo.io.tables import column_letter

    problems = []
    for j, col in enumerate(df.columns):
        for k, value in enumerate(df[col].tolist()):
            if not isinstance(value, str):
                continue
            cell = f"cell {column_letter(j + 1)}{k + 2} (column '{col}')"
            if ILLEGAL_CHARACTERS_RE.search(value):
                problems.append(f"{cell}: has a control character Excel cannot hold; remove it")
            elif len(value) > 32767:
                problems.append(f"{cell}: {len(value)} characters, more than Excel's 32767; write CSV instead")
    return problems


@pytest.mark.parametrize("seed", range(4))
def test_cells_excel_cannot_hold_are_found_in_every_kind_of_column(seed):
    # Text columns are checked by Arrow, others by pandas' string methods: both against a cell-by-cell check of the
    # cells as written (formulas guarded first).
    from geo.errors import SchemaError

    rng = np.random.default_rng(seed)
    pool = [chr(c) for c in range(0x20)] + ["a", "沙", "🚓", "\x7f", "\u2028", "\ud800", " "]

    def text():
        if rng.random() < 0.03:
            return "长" * int(rng.choice([32766, 32767, 32768, 40000]))
        if rng.random() < 0.03:
            return "🚓" * int(rng.choice([32767, 32768]))  # beyond 16 bits: one character each
        return "".join(rng.choice(pool, int(rng.integers(0, 6)), p=None))

    n = 80
    df = pd.DataFrame({
        "text": [text() for _ in range(n)],
        "one_character": [pool[(k + seed) % len(pool)] for k in range(n)],  # each control character on its own too
        "with_missing": [None if rng.random() < 0.2 else (float("nan") if rng.random() < 0.2 else text()) for _ in range(n)],
        "string_dtype": pd.array([None if rng.random() < 0.2 else text() for _ in range(n)], dtype="string"),
        "mixed": [text() if rng.random() < 0.5 else int(rng.integers(9)) for _ in range(n)],
        "numbers": rng.normal(size=n),
    })
    for col in ("text", "one_character", "with_missing", "string_dtype"):  # half a surrogate pair: a column Arrow cannot take, left to pandas
        if rng.random() < 0.5:
            df[col] = df[col].map(lambda v: v.replace("\ud800", "") if isinstance(v, str) else v)
    want = _reference_cell_problems(io.guard_formulas(df))
    assert want  # the random columns hold cells Excel cannot take
    with pytest.raises(SchemaError) as err:
        io.table_bytes(df, ".xlsx")
    assert err.value.problems == want
