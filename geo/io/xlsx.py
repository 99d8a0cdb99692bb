"""XLSX bytes of a plain table through openpyxl's write-only workbook: rows streamed, no cell objects kept.

The workbook holds what :meth:`pandas.DataFrame.to_excel` writes (one sheet
``Sheet1``, the header in bold with thin borders, centred; missing values as
empty cells, infinities as ``inf``), about twice as fast. Tables with other
kinds of column (dates, categories, mixed objects) or labels that are not
text are left to pandas.
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pandas as pd

from geo.io.arrow_text import data_view, repeated

__all__ = ["plain_xlsx_bytes"]

#: The sheet pandas names.
SHEET_NAME = "Sheet1"


def plain_xlsx_bytes(df: pd.DataFrame) -> bytes | None:
    """The XLSX bytes of ``df`` as ``df.to_excel(index=False)`` writes them, or None when ``df`` is not plain.

    Plain: text column labels; every column numbers or booleans (NumPy
    dtypes), or objects that are text, None or floats.
    """
    if not all(isinstance(c, str) for c in df.columns):
        return None
    columns = []
    for j in range(df.shape[1]):
        cells = _plain_cells(df.iloc[:, j])
        if cells is None:
            return None
        columns.append(cells)
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_NAME)
    thin = Side(style="thin")
    header = []
    for name in df.columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        cell.alignment = Alignment(horizontal="center", vertical="top")
        header.append(cell)
    sheet.append(header)
    rows = _rows_xml(columns, [c.column_letter for c in header]) if columns and len(columns[0]) else b""
    if rows is None:  # a cell openpyxl writes in its own way (a formula): every row through it
        for row in zip(*columns, strict=True):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return _with_rows(out.getvalue(), rows) if rows else out.getvalue()


def _rows_xml(columns: list[list], letters: list[str]) -> memoryview | None:
    """The ``<row>`` elements of the data rows (from row 2), as openpyxl's write-only sheet writes them, in UTF-8; or None.

    Built a column at a time: each cell's reference and its body (``t="n"``
    with ``%.16g`` as :func:`openpyxl.compat.safe_string` formats numbers,
    ``t="b"``, or an inline string escaped as lxml escapes it, with
    ``xml:space="preserve"`` where openpyxl adds it), the rows put together
    by Arrow (a Python text per cell and per row took 1.1 s of a province-size
    report). None when a text cell would be a formula to openpyxl (``=`` and
    more): those rows are left to it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pa.array(np.arange(2, len(columns[0]) + 2, dtype=np.int64)).cast(pa.large_string())
    parts = [repeated('<row r="'), numbers, repeated('">')]
    for letter, cells in zip(letters, columns, strict=True):
        bodies = _column_bodies(cells)
        if bodies is None:
            return None
        parts += [repeated(f'<c r="{letter}'), numbers, bodies if isinstance(bodies, pa.Array) else pa.array(bodies, pa.large_string())]
    parts.append(repeated("</row>"))
    return data_view(pc.binary_join_element_wise(*parts, repeated("")))


_EMPTY_TEXT = '" t="inlineStr"></c>'


def _column_bodies(cells: list):
    """:func:`_cell_body` of every cell of a column (a list, or Arrow text for whole numbers): whole columns of numbers or of text at once, others cell by cell."""
    kinds = set(map(type, cells))
    if kinds == {int}:
        bodies = _whole_number_bodies(cells)
        if bodies is not None:
            return bodies
    if kinds <= {int, float}:
        return list(map(_number_body, cells))
    if kinds == {str}:
        joined = "\x00".join(cells)
        if joined.count("\x00") == len(cells) - 1:  # no NUL inside a cell: the cells are escaped as one text
            # A formula starts a cell with '=': looked for in the joined text first, cell by cell only when one may be there.
            if (joined[:1] == "=" or "\x00=" in joined) and any(map(_is_formula, cells)):
                return None
            return list(map(_text_body, cells, _xml_text(joined).split("\x00")))
    bodies = list(map(_cell_body, cells))
    return None if None in bodies else bodies


#: The largest whole number whose ``%.16g`` is its digits: ``%.16g`` formats an int as a float, exact up to 2**53
#: (16 digits at most); beyond it the float may round (10**16 - 1 is written ``1e+16``).
_DIGITS_MAX = 2**53


def _whole_number_bodies(cells: list[int]):
    """:func:`_number_body` of Python ints as Arrow text (their digits), or None for a number beyond :data:`_DIGITS_MAX`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pa.array(cells, pa.int64())
    except (OverflowError, pa.ArrowException):
        return None
    ends = pc.min_max(values)
    if len(values) and not -_DIGITS_MAX <= ends["min"].as_py() <= ends["max"].as_py() <= _DIGITS_MAX:
        return None
    return pc.binary_join_element_wise(repeated('" t="n"><v>'), values.cast(pa.large_string()), repeated("</v></c>"), repeated(""))


def _cell_body(value) -> str | None:
    """The rest of a cell after its reference, as openpyxl's write-only sheet writes it (see :func:`_rows_xml`)."""
    kind = type(value)
    if kind is str:
        return None if _is_formula(value) else _text_body(value, _xml_text(value))
    if kind is bool:
        return f'" t="b"><v>{int(value)}</v></c>'
    return _number_body(value)


def _number_body(value) -> str:
    """A number's cell body, formatted as :func:`openpyxl.compat.safe_string` formats it."""
    return f'" t="n"><v>{value:.16g}</v></c>'


def _is_formula(text: str) -> bool:
    """Whether openpyxl would write ``text`` as a formula."""
    return text[:1] == "=" and len(text) > 1


def _xml_text(text: str) -> str:
    """``text`` as lxml writes it in a cell: markup characters and carriage returns escaped, beyond ASCII as character references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _text_body(value: str, escaped: str) -> str:
    """A text cell's body (``escaped`` is :func:`_xml_text` of ``value``), spaces kept where openpyxl keeps them."""
    if not value:
        return _EMPTY_TEXT
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def _with_rows(book: bytes, rows: memoryview) -> bytes:
    """The workbook ``book`` (written with the header row alone) with ``rows`` after its header, every other part as it was."""
    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, data)
                continue
            head, end = data.split(b"</sheetData>")
            pieces = (head, rows, b"</sheetData>" + end)
            info.file_size = sum(map(len, pieces))  # as writestr sets it (Zip64 is chosen by it)
            with dst.open(info, "w") as member:  # what writestr does, without joining the pieces first
                for piece in pieces:
                    member.write(piece)
    return out.getvalue()


def _plain_cells(series: pd.Series) -> list | None:
    """The cells of one column as pandas gives them to openpyxl ("" for missing, "inf" for infinite), or None.

    Columns of NumPy numbers or booleans, pandas' nullable integers, and objects that are text, None or floats.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):  # Int64 & co.: missing as ""
        return ["" if v is pd.NA else v for v in series.tolist()]
    if not isinstance(dtype, np.dtype):
        return None
    values = series.to_numpy()
    if dtype.kind in "biu":
        return values.tolist()
    if dtype.kind == "f":
        cells = values.tolist()
        for k in np.flatnonzero(~np.isfinite(values)).tolist():
            cells[k] = "" if math.isnan(cells[k]) else ("inf" if cells[k] > 0 else "-inf")
        return cells
    if dtype.kind != "O":
        return None
    cells = values.tolist()
    kinds = set(map(type, cells))
    if not kinds <= {str, float, type(None)}:
        return None
    if kinds != {str}:
        for k, v in enumerate(cells):
            if v is None or (type(v) is float and math.isnan(v)):
                cells[k] = ""
            elif type(v) is float and math.isinf(v):
                cells[k] = "inf" if v > 0 else "-inf"
    return cells
