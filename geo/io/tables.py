"""Reading CSV and XLSX tables: encoding detection, spreadsheet row numbers, one reader for every table.
"""

from __future__ import annotations

import codecs
import csv
import io as io_
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from geo._validate import is_blank
from geo.errors import DataFileError, SchemaError

#: Column names accepted as longitude / latitude in tables (case-insensitive).
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}

#: What every reader takes: a path, the bytes of a file, or a binary file object (an upload).
Source = str | os.PathLike | bytes | bytearray | BinaryIO


# --- sources --------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """A file to read, given as a path or in memory, with the name that messages use.

    Build it with :func:`as_input`.

    Attributes
    ----------
    label
        The name messages give the file: the path as given, or the user's file name.
    suffix
        Lower-case suffix of the file name (``.csv``), which decides the format.
    path
        The file on disk, or None for data in memory.
    data
        The bytes, or None for a file on disk.
    """

    label: str
    suffix: str
    path: Path | None = None
    data: bytes | None = None

    def open(self) -> BinaryIO:
        """Open the data for reading in binary."""
        return open(self.path, "rb") if self.path is not None else io_.BytesIO(self.data)

    def size(self) -> int:
        """Size in bytes."""
        return self.path.stat().st_size if self.path is not None else len(self.data)

    def __str__(self) -> str:
        return self.label


def column_letter(index: int) -> str:
    """The spreadsheet name of a column: 1 -> ``A``, 26 -> ``Z``, 27 -> ``AA`` (counted from 1).

    Written here so reading a CSV does not import openpyxl.
    """
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters

def as_input(source: Source | Input, *, name: str | None = None) -> Input:
    """Wrap a path, bytes or binary file object as an :class:`Input`.

    Parameters
    ----------
    source
        Path (str or PathLike), bytes, or a binary file object such as an
        uploaded file.
    name
        The file's name for messages and to tell its format by suffix; by
        default the path, or the file object's ``name``.

    Raises
    ------
    DataFileError
        If a path names no file, or a folder.
    """
    if isinstance(source, Input):
        return source if name is None else Input(name, Path(name).suffix.lower(), source.path, source.data)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or str(source)
        if not path.exists():
            msg = f"{label}: no such file"
            raise DataFileError(msg)
        if path.is_dir():
            msg = f"{label}: is a folder, not a file"
            raise DataFileError(msg)
        return Input(label, Path(name or path.name).suffix.lower(), path=path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = name or getattr(source, "name", None)
    else:
        msg = f"cannot read {type(source).__name__}: give a path, bytes or a binary file object"
        raise TypeError(msg)
    label = str(name) if name else "uploaded file"
    return Input(label, Path(label).suffix.lower(), data=data)


# --- low-level readers --------------------------------------------------------


def detect_encoding(path: Source | Input, *, sample_bytes: int = 1 << 20, name: str | None = None) -> str:
    """Detect the text encoding of a CSV file: UTF-8 (with or without BOM), UTF-16, GB18030 or Big5.

    GB18030 is a superset of GBK and GB2312, so files saved by Excel or WPS
    on a Chinese Windows machine decode with it. UTF-16 with a BOM is what
    Excel's "Unicode text" export writes; UTF-16 without a BOM is told by its
    zero bytes. Big5 (Traditional Chinese) also decodes as GB18030, into rare
    characters; it is told by how few of them are common GB2312 characters.

    Parameters
    ----------
    path
        The file: a path, bytes or a binary file object.
    sample_bytes
        How much of the file to look at.
    name
        The file's name for messages (default the path).

    Returns
    -------
    str
        ``"utf-8-sig"`` (BOM present), ``"utf-16"``, ``"utf-16-le"``/``"utf-16-be"``
        (no BOM), ``"utf-8"``, ``"gb18030"`` or ``"cp950"`` (Big5).

    Raises
    ------
    DataFileError
        If the file is neither UTF-8, UTF-16, GB18030 nor Big5, or holds NUL bytes
        without being UTF-16.
    """
    inp = as_input(path, name=name)
    with inp.open() as fh:
        raw = fh.read(sample_bytes)
        more = fh.read(1) != b""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw:
        return _utf16_without_bom(raw, inp)
    for enc in ("utf-8", "gb18030"):
        try:
            # A sample cut in the middle of a multi-byte character is fine.
            text = codecs.getincrementaldecoder(enc)().decode(raw, final=not more)
        except UnicodeDecodeError:
            continue
        if enc == "gb18030" and _looks_like_big5(raw, text, final=not more):
            return "cp950"
        return enc
    msg = f"{inp}: the text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 (CSV UTF-8 in Excel/WPS)"
    raise DataFileError(msg)


def _utf16_without_bom(raw: bytes, inp: Input) -> str:
    """UTF-16 saved without its byte-order mark: most ASCII characters have a zero byte on one side."""
    even, odd = raw[0::2], raw[1::2]
    zeros_even, zeros_odd = even.count(0) / max(len(even), 1), odd.count(0) / max(len(odd), 1)
    if zeros_odd >= 0.3 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even >= 0.3 and zeros_odd < 0.05:
        return "utf-16-be"
    msg = f"{inp}: contains NUL bytes, so it is not a text CSV (a binary file, or a damaged export); save it as CSV UTF-8"
    raise DataFileError(msg)


def _looks_like_big5(raw: bytes, gb_text: str, *, final: bool) -> bool:
    """True when bytes that decode as GB18030 are really Big5 (Traditional Chinese, Taiwan/Hong Kong exports).

    Big5 text read as GB18030 turns into rare GBK extension characters: about
    half of Big5's second bytes lie below 0x7F, outside GB2312. Real GB text is
    nearly all GB2312 characters.
    """
    hanzi = [c for c in gb_text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"]
    if len(hanzi) < 4:
        return False
    common = 0
    for c in hanzi:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    if common / len(hanzi) >= 0.8:
        return False
    try:
        codecs.getincrementaldecoder("cp950")().decode(raw, final=final)
    except UnicodeDecodeError:
        return False
    return True


def read_table(path: Source | Input, *, nrows: int | None = None, name: str | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK, detected) or XLSX file as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (comma- or tab-separated) or ``.xlsx``/``.xlsm``
        (first sheet, header in row 1): a path, bytes or a binary file object.
    nrows
        Read only this many data rows.
    name
        The file's name for messages and its format (needed for bytes).

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
    inp = as_input(path, name=name)
    df, problems = read_table_problems(inp, nrows=nrows)
    if problems:
        msg = f"{inp}: {count_problems(problems)} in this table"
        raise SchemaError(msg, problems)
    return df


def count_problems(problems: list[str]) -> str:
    """``"1 problem"``, ``"3 problems"``."""
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def read_table_problems(path: Source | Input, *, nrows: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a table as strings; return it with every structural problem (row numbers as a spreadsheet counts)."""
    path = as_input(path)
    if path.size() == 0:
        msg = f"{path}: the file is empty; it needs a header row and at least one data row"
        raise DataFileError(msg)
    encoding, stream = iter_records(path)
    records = list(itertools.islice(stream, None if nrows is None else nrows + 1))
    stream.close()
    while records and all(is_blank(v) for v in records[-1]):
        records.pop()
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
                problems.append(f"column {column_letter(j + 1)}: has values but no name in the header row (row 1); give it one")
            continue
        if name in seen:
            problems.append(
                f"column {column_letter(j + 1)}: the name {name!r} is already used by column {column_letter(seen[name] + 1)}; give each column its own name"
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


def iter_records(path: Source | Input, *, raw: bool = False) -> tuple[str, Iterator[tuple]]:
    """Stream the rows of a CSV or XLSX table, the header row first: the one low-level table reader.

    CSV files are decoded with :func:`detect_encoding` and split on tabs when
    the first line has tabs and no comma, else on commas. XLSX files are read
    from their first sheet.

    Parameters
    ----------
    path
        A path, bytes or a binary file object (see :func:`as_input`).
    raw
        Keep XLSX cell values as openpyxl gives them (numbers, datetimes)
        instead of text.

    Returns
    -------
    encoding : str
        The CSV encoding, or ``"xlsx"``.
    rows : iterator of tuple
        Each record as a tuple of cells (CSV cells are text); close it to
        release the file early.

    Raises
    ------
    DataFileError
        If the file is an old .xls workbook, not a workbook, not decodable
        text or not well-formed CSV (while iterating).
    """
    path = as_input(path)
    if path.suffix in EXCEL_SUFFIXES:
        return "xlsx", _excel_rows(path, raw=raw)
    if path.suffix == ".xls":
        msg = f"{path}: old Excel 97-2003 (.xls) files are not read; save it as .xlsx or CSV UTF-8"
        raise DataFileError(msg)
    encoding = detect_encoding(path)
    return encoding, _csv_rows(path, encoding)


def csv_delimiter(first_line: str) -> str:
    """The delimiter of a CSV table from its first line: a tab when it has tabs and no comma, else a comma."""
    return "\t" if "\t" in first_line and "," not in first_line else ","


def csv_frames(path: Source | Input, names: list[str], *, encoding: str, chunksize: int) -> Iterator[pd.DataFrame]:
    """Read the data rows of a regular CSV table in chunks with Arrow's reader: the fast path for large tables.

    Every cell is text, empty cells are missing (None), an empty line is a
    row of missing cells; the header row is skipped and ``names`` given
    instead (the caller read it with :func:`iter_records`). Row ``k`` of the
    chunks is row ``k + 2`` of the file. Only a regular table is read: every
    other row with exactly one cell per name. The chunks are those of
    :func:`csv_tables` as pandas frames of objects.

    Raises
    ------
    pandas.errors.ParserError
        While iterating, on the first row that is not regular (more or fewer
        cells than ``names``) or text that cannot be decoded:
        :func:`iter_records` then reads the file, with the rules of the one
        table reader and its messages.
    """
    for table in csv_tables(path, names, encoding=encoding, chunksize=chunksize):
        yield pd.DataFrame({name: table.column(j).to_numpy(zero_copy_only=False) for j, name in enumerate(names)}, dtype=object)


def csv_tables(path: Source | Input, names: list[str], *, encoding: str, chunksize: int) -> Iterator:
    """The chunks of :func:`csv_frames` as Arrow tables: one ``string`` column per name, missing cells null.

    Each table holds at most ``chunksize`` rows (in the pieces Arrow read them
    in), so a caller can work on its text without making Python strings.

    Raises
    ------
    pandas.errors.ParserError
        As :func:`csv_frames`.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    path = as_input(path)
    with io_.TextIOWrapper(path.open(), encoding=encoding, newline="") as fh:
        delimiter = csv_delimiter(fh.readline())
    source = str(path.path) if path.path is not None else pa.BufferReader(path.data)
    try:
        reader = pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, encoding=encoding.removesuffix("-sig"), block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]
            ),
        )
        buffered, held = [], 0
        for batch in reader:
            buffered.append(batch)
            held += batch.num_rows
            if held < chunksize:
                continue
            table = pa.Table.from_batches(buffered)
            start = 0
            while held - start >= chunksize:
                yield table.slice(start, chunksize)
                start += chunksize
            buffered, held = table.slice(start).to_batches(), held - start
        if held:
            yield pa.Table.from_batches(buffered, schema=reader.schema)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        msg = f"{path}: {exc}"
        raise pd.errors.ParserError(msg) from exc


def _csv_rows(path: Input, encoding: str) -> Iterator[tuple]:
    fh = io_.TextIOWrapper(path.open(), encoding=encoding, newline="")
    count = 0
    try:
        first = fh.readline()
        delimiter = csv_delimiter(first)
        for rec in csv.reader(itertools.chain([first], fh), delimiter=delimiter, strict=True):
            count += 1
            yield tuple(rec)
    except UnicodeDecodeError as exc:
        msg = f"{path}: the text after row {count} cannot be decoded as {encoding}; save the file as CSV UTF-8"
        raise DataFileError(msg) from exc
    except csv.Error as exc:
        msg = f"{path}: not a well-formed CSV table at row {count + 1} ({exc}); check the quotes on that row"
        raise DataFileError(msg) from exc
    finally:
        fh.close()


def _excel_rows(path: Input, *, raw: bool) -> Iterator[tuple]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path.path if path.path is not None else path.open(), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        msg = f"{path}: cannot be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc})"
        raise DataFileError(msg) from exc

    def rows() -> Iterator[tuple]:
        try:
            for rec in wb.worksheets[0].iter_rows(values_only=True):
                yield rec if raw else tuple(_excel_text(v) for v in rec)
        finally:
            wb.close()

    return rows()


def _excel_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
