"""CSV text as pandas writes it (``to_csv(index=False, lineterminator="\\r\\n")``), built a column at a time.

The writers (:mod:`geo.io.writers`) and the incident importer share these: a
column of numbers, booleans or text becomes its cells at once, quoted as
:func:`csv.writer` quotes them, and rows are joined a piece of
:data:`_CSV_ROWS` rows at a time by Arrow's compiled string kernels, straight
into UTF-8 bytes. Frames with other kinds of columns go to pandas whole, so the
text is always pandas' own.
"""

from __future__ import annotations

import codecs
import io as io_
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from geo._atomic import atomic_writer
from geo.io.arrow_text import data_view, repeated
from geo.io.formulas import arrow_guarded, guard_formulas, guard_values

__all__ = ["arrow_hundredths", "arrow_quoted", "csv_cells", "csv_pieces", "csv_quoted", "csv_text", "in_order", "rows_bytes", "write_csv"]


#: Characters that make :func:`csv.writer` quote a cell (excel dialect).
_CSV_SPECIAL = re.compile('[,"\r\n]')


def csv_quoted(values: np.ndarray) -> np.ndarray:
    """Text cells as :func:`csv.writer` writes them (excel dialect): quoted when they hold a comma, a quote or a line break.

    The cells are searched as one joined text; each hit is placed in its cell
    by the cells' lengths, so only the cells that need quotes are looked at.
    """
    values = np.asarray(values, dtype=object)
    texts = values.tolist()
    joined = "\x00".join(texts)
    hits = [m.start() for m in _CSV_SPECIAL.finditer(joined)]
    if not hits:
        return values
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.r_[0, np.cumsum(lengths[:-1] + 1)]  # where each cell starts in the joined text
    out = values.copy()
    for i in np.unique(np.searchsorted(starts, hits, side="right") - 1).tolist():
        out[i] = '"' + texts[i].replace('"', '""') + '"'
    return out


#: Rows of a piece of :func:`csv_text`: about 1-3 MB of text for a coverage report, so memory stays bounded.
_CSV_ROWS = 8_192

#: Types of the cells of an object column that :func:`csv_cells` writes itself (as pandas would); others go to pandas.
_CSV_PLAIN_TYPES = frozenset({str, int, bool, float, type(None)})


#: Nullable pandas types whose cells are ``str`` of the value, or empty when missing.
_NULLABLE_PLAIN = (pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype, pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype,
                   pd.UInt64Dtype, pd.BooleanDtype)


def csv_cells(series: pd.Series) -> list[str] | None:
    """The cells of one column as :meth:`pandas.DataFrame.to_csv` writes them, or None for a column left to pandas.

    Booleans, integers (nullable ones too, missing as empty), 64-bit floats
    (``repr``, missing as empty) and object columns of text, numbers and
    missing values (text quoted as :func:`csv.writer` quotes it).
    """
    dtype = series.dtype
    if isinstance(dtype, _NULLABLE_PLAIN):  # nullable integers and booleans: missing as empty
        return ["" if v is pd.NA else str(v) for v in series.tolist()]
    if not isinstance(dtype, np.dtype):  # nullable floats, categorical, string and other pandas types
        return None
    if dtype == np.dtype(bool):
        return ["True" if v else "False" for v in series.tolist()]
    if dtype.kind in "iu":
        return list(map(str, series.tolist()))
    if dtype == np.float64:
        values = series.to_numpy()
        cells = list(map(float.__repr__, values.tolist()))
        for i in np.flatnonzero(np.isnan(values)).tolist():
            cells[i] = ""
        return cells
    if dtype != np.dtype(object):
        return None
    values = series.tolist()
    types = set(map(type, values))
    if not types <= _CSV_PLAIN_TYPES:
        return None
    if types != {str}:
        values = ["" if v is None or (type(v) is float and v != v) else v if type(v) is str else str(v) for v in values]
    return csv_quoted(np.asarray(values, dtype=object)).tolist()


class _LeftToPandas(Exception):
    """A frame :func:`csv_pieces` cannot write in bulk: pandas writes it whole."""


def _arrow_text(values, kind=None):
    import pyarrow as pa

    return pa.array(values, type=pa.large_string()) if kind is None else pa.array(values).cast(pa.large_string())


def _arrow_cells(series: pd.Series, *, guard: bool = False):
    """The cells of :func:`csv_cells` as an Arrow array of text (no nulls), or None for a column left to pandas.

    Integers, booleans and columns of text only are turned into cells by Arrow
    (text quoted by :func:`arrow_quoted`); other plain kinds by :func:`csv_cells`.
    ``guard``: text a spreadsheet would run as a formula gets a leading ``'``
    first (:mod:`geo.io.formulas`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        values = series.to_numpy()
        if dtype == np.dtype(bool):
            return pc.if_else(pa.array(values), repeated("True"), repeated("False"))
        if dtype.kind in "iu":
            return _arrow_text(values, dtype.kind)
        if dtype == np.float64:
            cells = arrow_hundredths(values)
            if cells is not None:
                return cells
        if dtype == np.dtype(object) and set(map(type, values.tolist())) == {str}:
            cells = _arrow_text(values)
            return arrow_quoted(arrow_guarded(cells) if guard else cells)
        if guard and dtype == np.dtype(object):
            series = pd.Series(guard_values(values), index=series.index, dtype=object)
    cells = csv_cells(series)
    return None if cells is None else _arrow_text(cells)


#: The decimals of ``repr`` of a float that is a whole number of hundredths, by hundredths (0 -> ".0", 50 -> ".5", 25 -> ".25").
_DECIMALS = ["." + (f"{k:02d}".rstrip("0") or "0") for k in range(100)]

#: Magnitudes up to which a float written in hundredths is written without an exponent and apart from its neighbours.
_HUNDREDTHS_MAX = 1e13


def arrow_hundredths(values: np.ndarray):
    """``repr`` of each float (empty for NaN) as Arrow text when every finite value is a whole number of hundredths, else None.

    Columns rounded to centimetres (the report's distances) are formatted by
    integer arithmetic. When ``k / 100 == v`` for the integer ``k`` nearest
    ``100 * v``, the decimal ``k / 100`` is the shortest text that reads back
    as ``v`` (below :data:`_HUNDREDTHS_MAX` neighbouring hundredths are far more
    than a float's step apart, and any shorter text is itself a hundredth), so
    ``repr(v)`` is its digits, without an exponent: the whole part, a point,
    and the hundredths without trailing zeros (``"3.0"``, ``"3.5"``, ``"3.25"``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    finite = np.isfinite(values)
    if (np.isinf(values)).any():
        return None
    given = values[finite]
    if len(given) and not np.abs(given).max() < _HUNDREDTHS_MAX:
        return None
    k = np.rint(values * 100.0)
    k[~finite] = 0.0
    if not (k[finite] / 100.0 == given).all():
        return None
    whole = np.abs(k).astype(np.int64)
    sign = pc.if_else(pa.array(np.signbit(values)), repeated("-"), repeated(""))
    digits = pa.array(whole // 100).cast(pa.large_string())
    decimals = pa.array(_DECIMALS, type=pa.large_string()).take(pa.array(whole % 100))
    cells = pc.binary_join_element_wise(sign, digits, decimals, repeated(""))
    if finite.all():
        return cells
    return pc.if_else(pa.array(finite), cells, repeated(""))


def arrow_quoted(cells):
    """Text cells (Arrow) as :func:`csv_quoted` writes them: quoted when they hold a comma, a quote or a line break."""
    import pyarrow.compute as pc

    if not _any_special(cells):
        return cells
    need = pc.match_substring_regex(cells, _CSV_SPECIAL.pattern)
    quote = repeated('"')
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(cells, '"', '""'), quote, repeated(""))
    return pc.if_else(need, quoted, cells)


def _any_special(cells) -> bool:
    """Whether any cell of Arrow text holds a comma, a quote or a line break: a byte search of the cells' data (no text made)."""
    text = data_view(cells).tobytes()
    return any(text.find(ch) >= 0 for ch in (b",", b'"', b"\r", b"\n"))


def rows_bytes(columns: list) -> memoryview:
    """The rows of Arrow ``large_string`` columns as CSV bytes: cells joined by commas, each row ended by CRLF.

    Raises
    ------
    ValueError
        If a cell is null: Arrow would drop its whole row, so the caller must give every cell as text.
    """
    import pyarrow.compute as pc

    *head, last = columns
    last = pc.binary_join_element_wise(last, repeated("\r\n"), repeated(""))  # the last cell + CRLF: the rows are joined once
    rows = pc.binary_join_element_wise(*head, last, repeated(","))
    if rows.null_count:
        missing = [j for j, c in enumerate(columns) if c.null_count]
        msg = f"rows_bytes: columns {missing} have null cells; give them as text (empty for missing)"
        raise ValueError(msg)
    return data_view(rows)


def csv_pieces(df: pd.DataFrame, *, guard: bool = False) -> Iterator[bytes]:
    """The UTF-8 bytes of :func:`csv_text` in pieces: the header, then :data:`_CSV_ROWS` rows at a time.

    ``guard``: cells guarded as :func:`geo.io.formulas.guard_formulas` guards them.

    Raises
    ------
    _LeftToPandas
        Before the header for a frame of one column or with non-text column
        names; at the first piece with a column of another kind (dates,
        categories, nullable floats, mixed objects). The caller then has
        pandas write the whole frame.
    """
    if df.shape[1] <= 1 or not all(isinstance(c, str) for c in df.columns):
        raise _LeftToPandas
    yield (",".join(csv_quoted(np.asarray(list(df.columns), dtype=object)).tolist()) + "\r\n").encode("utf-8")

    def piece_bytes(piece: pd.DataFrame) -> memoryview:
        columns = [_arrow_cells(piece.iloc[:, j], guard=guard) for j in range(piece.shape[1])]
        if any(c is None for c in columns):
            raise _LeftToPandas
        return rows_bytes(columns)

    pieces = (df.iloc[start : start + _CSV_ROWS] for start in range(0, len(df), _CSV_ROWS))  # sliced here, each made in one thread
    yield from in_order(piece_bytes, pieces, workers=_PIECE_WORKERS if len(df) > _CSV_ROWS else 1)


#: Threads making the pieces of a long CSV: Arrow's kernels, which make most of a piece, release the interpreter lock.
_PIECE_WORKERS = min(2, os.cpu_count() or 1)


def in_order(fn: Callable, items: Iterable, *, workers: int) -> Iterator:
    """``fn(item)`` for each item, in order, made by up to ``workers`` threads, at most ``workers`` ahead of the caller.

    An exception of ``fn`` is raised where its result would have been
    yielded (the results before it are yielded first); the items not yet
    started are then not made.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers)
    ahead: deque = deque()
    try:
        for item in items:
            ahead.append(pool.submit(fn, item))
            if len(ahead) > workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        for future in ahead:
            future.cancel()
        pool.shutdown(wait=True)


def _pandas_csv(df: pd.DataFrame) -> str:
    buf = io_.StringIO(newline="")
    df.to_csv(buf, index=False, lineterminator="\r\n")
    return buf.getvalue()


def csv_text(df: pd.DataFrame, *, guard: bool = False) -> str:
    """``df.to_csv(index=False, lineterminator="\r\n")``, the same text, with columns of plain values written in bulk.

    pandas writes each row through the :mod:`csv` module; here a column of
    numbers, booleans or text becomes its cells at once, and :data:`_CSV_ROWS`
    rows at a time are joined by Arrow's string kernels into UTF-8 bytes. A
    frame with another kind of column (dates, categories, nullable floats,
    other objects), with one column only (the :mod:`csv` module quotes
    a lone empty cell) or with non-text column names goes to pandas as a whole.
    ``guard``: the text of :func:`geo.io.formulas.guard_formulas` of ``df``.
    """
    try:
        return b"".join(csv_pieces(df, guard=guard)).decode("utf-8")
    except _LeftToPandas:
        return _pandas_csv(guard_formulas(df) if guard else df)


def write_csv(df: pd.DataFrame, path: Path, *, guard: bool = False) -> None:
    """Write :func:`csv_text` of ``df`` as UTF-8 with BOM, atomically, one piece at a time.

    The text of a whole report is never held at once (a province report is
    about 170 MB as Python text, Chinese names making each character four
    bytes); a frame left to pandas is written again from the start.
    """
    with atomic_writer(path, "wb") as fh:
        fh.write(codecs.BOM_UTF8)
        try:
            for piece in csv_pieces(df, guard=guard):
                fh.write(piece)
        except _LeftToPandas:
            fh.seek(0)
            fh.truncate()
            fh.write(codecs.BOM_UTF8 + _pandas_csv(guard_formulas(df) if guard else df).encode("utf-8"))
