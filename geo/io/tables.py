"""Reading CSV and XLSX tables: encoding detection, spreadsheet row numbers, one reader for every table.
"""

from __future__ import annotations

import codecs
import csv
import io as io_
import os
from pathlib import Path

import numpy as np
import pandas as pd

from geo._validate import is_blank
from geo.errors import DataFileError, SchemaError

#: Column names accepted as longitude / latitude in tables (case-insensitive).
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")

_TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg"}


# --- low-level readers --------------------------------------------------------


def detect_encoding(path: str | os.PathLike, *, sample_bytes: int = 1 << 20) -> str:
    """Detect the text encoding of a CSV file: UTF-8 (with or without BOM), UTF-16 or GB18030.

    GB18030 is a superset of GBK and GB2312, so files saved by Excel or WPS
    on a Chinese Windows machine decode with it. UTF-16 with a BOM is what
    Excel's "Unicode text" export writes.

    Parameters
    ----------
    path
        The file.
    sample_bytes
        How much of the file to look at.

    Returns
    -------
    str
        ``"utf-8-sig"`` (BOM present), ``"utf-16"``, ``"utf-8"`` or ``"gb18030"``.

    Raises
    ------
    DataFileError
        If the file is neither UTF-8 nor GB18030.
    """
    with open(path, "rb") as fh:
        raw = fh.read(sample_bytes)
        more = fh.read(1) != b""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            # A sample cut in the middle of a multi-byte character is fine.
            codecs.getincrementaldecoder(enc)().decode(raw, final=not more)
        except UnicodeDecodeError:
            continue
        return enc
    msg = f"{path}: the text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 (CSV UTF-8 in Excel/WPS)"
    raise DataFileError(msg)


def read_table(path: str | os.PathLike, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK, detected) or XLSX file as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (comma- or tab-separated) or ``.xlsx``/``.xlsm``
        (first sheet, header in row 1).
    nrows
        Read only this many data rows.

    Returns
    -------
    pandas.DataFrame
        Every cell as a string (empty cells as NaN), header names stripped,
        rows that are wholly empty dropped. ``df.attrs["encoding"]`` says
        which encoding was used, ``df.attrs["rows"]`` the row number of each
        row as a spreadsheet shows it (header = row 1).

    Raises
    ------
    DataFileError
        If the file is missing, empty or not a table.
    SchemaError
        With every malformed row (more cells than the header has) and header problem.
    """
    df, problems = _read_table(Path(path), nrows=nrows)
    if problems:
        msg = f"{path}: {_count(problems)} in this table"
        raise SchemaError(msg, problems)
    return df


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def _read_table(path: Path, *, nrows: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a table as strings; return it with every structural problem (row numbers as a spreadsheet counts)."""
    _check_exists(path)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty; it needs a header row and at least one data row"
        raise DataFileError(msg)
    if suffix in {".xlsx", ".xlsm"}:
        records, encoding = _excel_records(path, nrows), "xlsx"
    elif suffix == ".xls":
        msg = f"{path}: old Excel 97-2003 (.xls) files are not read; save it as .xlsx or CSV UTF-8"
        raise DataFileError(msg)
    else:
        encoding = detect_encoding(path)
        records = _csv_records(path, encoding, nrows)
    if not records or all(is_blank(v) for v in records[0]):
        msg = f"{path}: the first row is empty; row 1 must be the header (column names)"
        raise DataFileError(msg)
    header = [("" if v is None else str(v)).strip().lstrip("\ufeff").strip() for v in records[0]]
    problems: list[str] = []
    width = len(header)
    seen: dict[str, int] = {}
    keep: list[int] = []
    for j, name in enumerate(header):
        if not name:
            if any(j < len(r) and not is_blank(r[j]) for r in records[1:]):
                problems.append(f"column {_column_letter(j)}: has values but no name in the header row (row 1); give it one")
            continue
        if name in seen:
            problems.append(
                f"column {_column_letter(j)}: the name {name!r} is already used by column {_column_letter(seen[name])}; give each column its own name"
            )
            continue
        seen[name] = j
        keep.append(j)
    rows, data = [], []
    for k, rec in enumerate(records[1:], start=2):
        if all(is_blank(v) for v in rec):
            continue
        extra = [v for v in rec[width:] if not is_blank(v)]
        if extra:
            problems.append(f"row {k}: has {len(rec)} cells but the header has {width}; a comma inside a value needs quotes")
        cells = list(rec[:width]) + [None] * (width - len(rec))
        rows.append(k)
        data.append([None if is_blank(cells[j]) else str(cells[j]) for j in keep])
    df = pd.DataFrame(data, columns=[header[j] for j in keep], dtype=object)
    df = df.where(df.notna(), np.nan)
    df.attrs["encoding"] = encoding
    df.attrs["rows"] = rows
    return df, problems


def _column_letter(j: int) -> str:
    """Spreadsheet letter of the 0-based column ``j`` (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _csv_records(path: Path, encoding: str, nrows: int | None) -> list[list[str]]:
    try:
        with open(path, encoding=encoding, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        msg = f"{path}: byte {exc.start} cannot be decoded as {encoding}; save the file as CSV UTF-8"
        raise DataFileError(msg) from exc
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = []
    try:
        for rec in csv.reader(io_.StringIO(text), delimiter=delimiter, strict=True):
            records.append(rec)
            if nrows is not None and len(records) > nrows:
                break
    except csv.Error as exc:
        msg = f"{path}: not a well-formed CSV table at row {len(records) + 1} ({exc}); check the quotes on that row"
        raise DataFileError(msg) from exc
    return records


def _excel_records(path: Path, nrows: int | None) -> list[tuple]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        msg = f"{path}: cannot be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc})"
        raise DataFileError(msg) from exc
    try:
        records = []
        for rec in wb.worksheets[0].iter_rows(values_only=True):
            records.append(tuple(_excel_text(v) for v in rec))
            if nrows is not None and len(records) > nrows:
                break
    finally:
        wb.close()
    while records and all(is_blank(v) for v in records[-1]):
        records.pop()
    return records


def _excel_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_exists(path: Path) -> None:
    if not path.exists():
        msg = f"{path}: no such file"
        raise DataFileError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, not a file"
        raise DataFileError(msg)
