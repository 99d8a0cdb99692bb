"""Array kernels of the coverage engine: segment explosion, Z-order keys, point-segment distances, group joins and minima.
"""

from __future__ import annotations

import numpy as np
import shapely


def join_groups(est: np.ndarray, team: np.ndarray, team_ids: list[str], n: int) -> np.ndarray:
    """Team ids joined with ';' per estate (rows sorted by estate); '' for estates without rows.

    Arrow takes every row's id and joins each estate's list in compiled code
    (the texts are made once, one per estate); ids Arrow cannot hold as UTF-8
    (lone surrogates) are joined in Python instead, by character offsets into
    one text of all the ids.
    """
    out = np.full(n, "", dtype=object)
    if not len(est):
        return out
    starts = np.flatnonzero(np.r_[True, est[1:] != est[:-1]])
    try:
        out[est[starts]] = _arrow_joined(starts, team, team_ids, len(est))
        return out
    except (UnicodeError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        pass
    ids = np.asarray(team_ids, dtype=object)
    text = ";".join(ids[team].tolist())
    width = np.fromiter(map(len, ids.tolist()), dtype=np.int64, count=len(ids))[team] + 1
    offset = np.r_[0, np.cumsum(width)]  # character where each row's id starts
    ends = np.r_[starts[1:], len(est)]
    out[est[starts]] = [text[a:b] for a, b in zip(offset[starts].tolist(), (offset[ends] - 1).tolist(), strict=True)]
    return out


def _arrow_joined(starts: np.ndarray, team: np.ndarray, team_ids: list[str], rows: int) -> np.ndarray:
    """Each group's ids joined with ';' (groups start at ``starts`` in rows of team codes ``team``), as Python text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = pa.array(team_ids, type=pa.large_string()).take(pa.array(team, type=pa.int64()))
    lists = pa.LargeListArray.from_arrays(pa.array(np.r_[starts, rows], type=pa.int64()), names)
    return pc.binary_join(lists, pa.scalar(";", type=pa.large_string())).to_numpy(zero_copy_only=False)


def text_ranks(names) -> np.ndarray:
    """The place of each name when ``names`` are put in text order (code point by code point; equal names keep their order)."""
    order = np.argsort(np.asarray(names, dtype=str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def first_equal(values: np.ndarray, group_min: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of the first element equal to its group's minimum, per group (groups start at ``starts``)."""
    counts = np.diff(np.r_[starts, len(values)])
    hits = np.flatnonzero(values == np.repeat(group_min, counts))
    group = np.searchsorted(starts, hits, side="right") - 1
    return hits[np.r_[True, group[1:] != group[:-1]]]



def first_least(starts: np.ndarray, n: int, *keys: np.ndarray) -> np.ndarray:
    """Position of each group's first row among its rows with the least keys, compared key by key.

    Rows ``starts[i]`` to ``starts[i + 1] - 1`` (the last to ``n - 1``) form
    group ``i``; ``starts`` rises strictly from 0. The rows are those that
    ``numpy.lexsort`` (a stable sort, keys given here most significant first)
    puts first in each group, found by a group minimum per key instead of a
    sort. No key may hold NaN (no row would equal its group's least).
    """
    if not n:
        return np.zeros(0, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    group = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.r_[starts, n]))
    for key in keys:
        values = np.asarray(key)[rows]
        begin = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])  # every group keeps at least one row
        keep = values == np.repeat(np.minimum.reduceat(values, begin), np.diff(np.r_[begin, len(rows)]))
        rows, group = rows[keep], group[keep]
    return rows[np.r_[True, group[1:] != group[:-1]]]


def explode(route_geoms: np.ndarray, routes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight segments (n, 4: x0, y0, x1, y1) of ``route_geoms[routes]`` and each one's route index; no zero-length ones."""
    parts, owner = shapely.get_parts(route_geoms[routes], return_index=True)
    xy, part = shapely.get_coordinates(parts, return_index=True)
    x, y = xy[:, 0], xy[:, 1]
    # A segment from each vertex to the next one of its part, unless the two coincide; the (n, 4) array is made
    # once, from the vertices' positions (stacking and masking made three arrays of every segment).
    start = np.flatnonzero((part[1:] == part[:-1]) & ((x[1:] != x[:-1]) | (y[1:] != y[:-1])))
    seg = np.empty((len(start), 4))
    seg[:, :2] = xy[start]
    seg[:, 2:] = xy[start + 1]
    return seg, np.asarray(routes, dtype=np.int64)[owner[part[start]]]


def morton(x: np.ndarray, y: np.ndarray, cell_m: float = 250.0) -> np.ndarray:
    """Z-order (Morton) key of points on a grid of ``cell_m`` metres (16 bits per axis, wrapping)."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFF)
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    if not len(x):
        return np.zeros(0, dtype=np.uint64)
    ix = np.floor((x - np.min(x)) / cell_m)
    iy = np.floor((y - np.min(y)) / cell_m)
    return spread(ix) | (spread(iy) << np.uint64(1))


def segment_distance(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Planar distance from points to segments (row by row): project onto the segment, clamp to its ends."""
    ax, ay = seg[:, 0], seg[:, 1]
    dx, dy = seg[:, 2] - ax, seg[:, 3] - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    np.clip(t, 0.0, 1.0, out=t)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))
