"""Arrow text read and changed in NumPy: the bytes at each cell's ends, and cells replaced in place.

Checks that look only at a cell's first or last characters (surrounding
spaces, a formula's leading ``=``) read those bytes straight from the UTF-8
data of an Arrow array, so a column of a million cells is looked at without
a Python string per cell; only the few cells that could match are looked at
closely.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["CellEnds", "byte_bounds", "cell_ends", "data_view", "patched", "repeated"]


class CellEnds(NamedTuple):
    """Where each cell of Arrow text starts and ends in ``data``, its UTF-8 bytes with :data:`PAD` zero bytes on both sides."""

    data: np.ndarray
    first: np.ndarray
    last: np.ndarray
    full: np.ndarray

    def at(self, rows: np.ndarray, k: int, *, from_end: bool = False) -> np.ndarray:
        """The ``k``-th byte (0-based) of each cell on ``rows``, counted from its start, or from its end."""
        return self.data[self.last[rows] - k] if from_end else self.data[self.first[rows] + k]


#: Zero bytes on both sides of :attr:`CellEnds.data`: up to this many bytes past a cell's ends can be read.
PAD = 3


def byte_bounds(cells) -> np.ndarray:
    """Where each cell of Arrow text (``string`` or ``large_string``) starts in its data buffer, and where the last ends (int64, ``len + 1``)."""
    import pyarrow as pa

    offsets = cells.buffers()[1]
    if offsets is None or not len(cells):
        return np.zeros(1, dtype=np.int64)
    width = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    return np.frombuffer(offsets, dtype=width)[cells.offset : cells.offset + len(cells) + 1].astype(np.int64, copy=False)


def data_view(cells) -> memoryview:
    """The UTF-8 bytes of every cell of Arrow text, one after the other, as a view of its data buffer (no copy)."""
    data = cells.buffers()[2]
    if data is None or not len(cells):
        return memoryview(b"")
    bounds = byte_bounds(cells)
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def repeated(text: str):
    """``text`` as an Arrow ``large_string`` scalar: the same piece on every row of :func:`pyarrow.compute.binary_join_element_wise`."""
    import pyarrow as pa

    return pa.scalar(text, type=pa.large_string())


def cell_ends(cells) -> CellEnds:
    """The bytes of Arrow text (``string`` or ``large_string``) with each cell's first and last byte.

    Returns
    -------
    CellEnds
        ``first`` and ``last`` index each cell's first and last byte in
        ``data``; ``full`` is True for cells that are neither null nor empty
        (the others' indexes point at neighbouring bytes).
    """
    n = len(cells)
    data = cells.buffers()[2]
    if data is None or not n:
        zero = np.zeros(n, dtype=np.int64)
        return CellEnds(np.zeros(2 * PAD, dtype=np.uint8), zero + PAD, zero + PAD, np.zeros(n, dtype=bool))
    bounds = byte_bounds(cells)
    raw = np.frombuffer(data, dtype=np.uint8)[int(bounds[0]) : int(bounds[-1])]
    padded = np.concatenate([np.zeros(PAD, dtype=np.uint8), raw, np.zeros(PAD, dtype=np.uint8)])
    full = (bounds[1:] > bounds[:-1]) & cells.is_valid().to_numpy(zero_copy_only=False)
    return CellEnds(padded, bounds[:-1] - bounds[0] + PAD, bounds[1:] - bounds[0] + PAD - 1, full)


def patched(cells, rows, values):
    """``cells`` with the cells at ``rows`` (ascending) replaced by ``values`` (text or None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return cells
    mask = np.zeros(len(cells), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(cells, pa.array(mask), pa.array(list(values), type=cells.type))
