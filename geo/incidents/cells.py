"""The cells of one chunk of an import, as Arrow text: blanks and surrounding spaces found from the bytes, cells patched in place.

A CSV export read by Arrow (:func:`geo.io.tables.csv_tables`) stays in
Arrow's memory: the checks ask for a column as Arrow text, and only the
columns that Python must read (times, and the rows checked one by one) become
Python objects. Chunks of other sources (XLSX, Parquet archives, the row
reader) are pandas frames of objects; their text cells are turned into Arrow
text the same way, so the checks have one path.

Whitespace is Python's (:meth:`str.isspace`, what :meth:`str.strip` removes):
a cell whose first and last characters are not whitespace is its own stripped
text, and those two characters are read from the UTF-8 bytes in NumPy, so
only the few cells with surrounding spaces go through :meth:`str.strip`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._validate import blank_mask, text_mask
from geo.io.arrow_text import cell_ends, patched

__all__ = ["WHITESPACE", "Chunk", "as_text", "blank", "edge_spaces", "missing", "stripped"]

#: The characters of :meth:`str.isspace` (what :meth:`str.strip` removes), in code-point order.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

#: The UTF-8 bytes of each character of :data:`WHITESPACE` as one number (big-endian), by length (1, 2 or 3 bytes).
_SPACE_CODES = {k: np.array([int.from_bytes(c.encode("utf-8"), "big") for c in WHITESPACE if len(c.encode("utf-8")) == k]) for k in (1, 2, 3)}
#: Bytes that the encoding of a whitespace character starts with, and ends with (as tables of 256).
_FIRST_BYTES = np.zeros(256, dtype=bool)
_FIRST_BYTES[[c.encode("utf-8")[0] for c in WHITESPACE]] = True
_LAST_BYTES = np.zeros(256, dtype=bool)
_LAST_BYTES[[c.encode("utf-8")[-1] for c in WHITESPACE]] = True


class Chunk:
    """The cells of one chunk: an Arrow table of text (every cell text or null) or a pandas frame of objects.

    Parameters
    ----------
    data
        A :class:`pyarrow.Table` whose columns are ``string``, or a :class:`pandas.DataFrame`.
    text_only
        For a frame: True when every cell is text or missing (a CSV read row by row).
    """

    def __init__(self, data, *, text_only: bool = False):
        self.data = data
        self.is_arrow = not isinstance(data, pd.DataFrame)
        self.text_only = self.is_arrow or text_only
        self.names = list(data.column_names if self.is_arrow else data.columns)
        self._objects: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.data.num_rows if self.is_arrow else len(self.data)

    def objects(self, name: str) -> np.ndarray:
        """A column as an object array: text, None for a missing cell (a frame's own cells as they are)."""
        if name not in self._objects:
            if self.is_arrow:
                self._objects[name] = self.data.column(name).to_numpy(zero_copy_only=False)
            else:
                self._objects[name] = self.data[name].to_numpy(dtype=object)
        return self._objects[name]

    def other(self, name: str) -> np.ndarray:
        """True for the cells that are neither text nor missing (a spreadsheet's numbers and dates)."""
        if self.text_only:
            return np.zeros(len(self), dtype=bool)
        a = self.objects(name)
        return ~text_mask(a) & ~np.asarray(pd.isna(a), dtype=bool)

    def text(self, name: str):
        """A column as Arrow text: its text cells, null for missing ones and for those :meth:`other` marks."""
        if self.is_arrow:
            return _single(self.data.column(name))
        a = self.objects(name)
        return as_text(np.where(self.other(name) | np.asarray(pd.isna(a), dtype=bool), None, a))

    def blank(self, name: str, rows: np.ndarray) -> np.ndarray:
        """:func:`geo._validate.is_blank` of the column's cells on ``rows``."""
        if self.is_arrow:
            return blank(self.text(name))[rows]
        return blank_mask(self.objects(name)[rows])

    def records(self, rows: np.ndarray) -> list[dict]:
        """The rows as ``{header: cell}``, missing CSV cells None (the cells the row-by-row checks read)."""
        if self.is_arrow:
            import pyarrow as pa

            return self.data.take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()
        return self.data.iloc[rows].to_dict("records")


def as_text(values):
    """Arrow ``string`` array of text cells (object array of str and None, or Arrow text)."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _single(values).cast(pa.string())
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def _single(values):
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def missing(cells) -> np.ndarray:
    """True for null cells of Arrow text."""
    return cells.is_null().to_numpy(zero_copy_only=False)


def edge_spaces(cells) -> np.ndarray:
    """True for the cells (not null, not empty) whose first or last character is whitespace (:data:`WHITESPACE`).

    The first and last one to three bytes of every cell are read from the
    UTF-8 data (:func:`geo.io.arrow_text.cell_ends`) and compared with the
    encodings of the whitespace characters: first by a table of the bytes
    such an encoding starts (or ends) with, then exactly on the few cells that
    pass. In valid UTF-8 (Arrow checks it) a cell starting with such a byte
    sequence starts with that character, and one ending with it ends with it:
    a character's first byte is one no other position can hold.
    """
    ends = cell_ends(cells)
    out = np.zeros(len(cells), dtype=bool)
    for at, table, from_end in ((ends.first, _FIRST_BYTES, False), (ends.last, _LAST_BYTES, True)):
        rows = np.flatnonzero(ends.full & table[ends.data[at]])
        code = np.zeros(len(rows), dtype=np.int64)
        for k in (1, 2, 3):
            # the k bytes at the cell's start (or end), in reading order, as one number
            byte = ends.at(rows, k - 1, from_end=from_end).astype(np.int64)
            code = code + (byte << (8 * (k - 1))) if from_end else code * 256 + byte
            out[rows] |= np.isin(code, _SPACE_CODES[k])
    return out


def stripped(cells):
    """The cells stripped of surrounding whitespace (:meth:`str.strip`), null for blank and missing ones."""
    rows = np.flatnonzero(edge_spaces(cells) | _empty(cells))
    if not len(rows):
        return cells
    return patched(cells, rows, [v.strip() or None for v in cells.take(rows).to_pylist()])


def blank(cells) -> np.ndarray:
    """True for missing cells and cells of whitespace only (:func:`geo._validate.is_blank` of text)."""
    out = missing(cells) | _empty(cells)
    rows = np.flatnonzero(edge_spaces(cells))
    if len(rows):
        out[rows] = [not v.strip() for v in cells.take(rows).to_pylist()]
    return out


def _empty(cells) -> np.ndarray:
    """True for cells of empty text (not null)."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.equal(pc.binary_length(cells), 0), False).to_numpy(zero_copy_only=False)
