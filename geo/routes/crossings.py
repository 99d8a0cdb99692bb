"""Where a route's line crosses or touches itself.

A patrol loop may cross itself; a GPS track that crosses itself many times is
suspect. :func:`count_self_crossings` counts the distinct points for every
line at once: :func:`shapely.is_simple` picks the lines that need a look, and
only their segments are paired and tested.

Segments are paired within one line only. A line of up to
:data:`DENSE_SEGMENTS` segments (a drawn route) has all its pairs listed in
arrays, every line of one length at once, and kept where the bounding boxes
meet. The segments of the longer lines (GPS tracks of thousands of points) go
into one tree, and of its pairs only those within a line are kept. Both ways
keep exactly the pairs whose boxes meet (edges touching included), so a line's
count does not depend on which way paired it. Segments of no length (a point
repeated, as a GPS track repeats a fix while the patrol stands still) are left
out: the segments on either side of one are consecutive, not crossing.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["DENSE_SEGMENTS", "count_self_crossings"]

#: Lines with up to this many segments are paired in arrays (n (n - 1) / 2 pairs each); longer ones through a tree.
DENSE_SEGMENTS = 48


def count_self_crossings(geoms) -> np.ndarray:
    """Count the distinct points where each line crosses or touches itself (shared vertices of consecutive segments excluded).

    Parameters
    ----------
    geoms
        Array-like of LineString / MultiLineString (any CRS; only topology matters).

    Returns
    -------
    numpy.ndarray of int
        Number of self-intersections per line (0 for a simple line). A closed
        loop (end at the start) is not counted; the parts of a MultiLineString
        count where they cross or touch one another.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=np.int64)
    simple = shapely.is_simple(geoms) | shapely.is_empty(geoms) | shapely.is_missing(geoms)
    bad = np.flatnonzero(~simple)
    if not len(bad):
        return out
    from geo.coverage.kernels import explode  # (only when a line needs a look: the routes' commands need no engine)

    # Every segment of every line that is not simple, in one array (only those lines are looked at); a line's segments are
    # consecutive, part after part. explode leaves out segments of no length (a GPS fix repeated while the patrol stands
    # still), so the segments on either side of one count as consecutive and their shared vertex is not a crossing.
    parts, part_line = shapely.get_parts(geoms[bad], return_index=True)
    seg, seg_part = explode(parts, np.arange(len(parts)))
    first_seg = np.searchsorted(seg_part, np.arange(len(parts)))
    seq = np.arange(len(seg)) - first_seg[seg_part]  # place of a segment in its part (segments of no length not counted)
    n_seg = np.bincount(seg_part, minlength=len(parts))
    seg_line = part_line[seg_part]
    ends = seg.reshape(-1, 2, 2)  # (segment, end, xy)
    left, right = _box_pairs(seg_line, len(bad), ends)
    # Consecutive segments of a part always share their vertex, and so do a closed part's first and last: not crossings.
    same_part = seg_part[left] == seg_part[right]
    neighbour = same_part & (np.abs(seq[left] - seq[right]) == 1)
    closed = shapely.is_closed(parts)
    closing = same_part & closed[seg_part[left]] & (seq[left] == 0) & (seq[right] == n_seg[seg_part[left]] - 1)
    keep = ~neighbour & ~closing
    left, right = left[keep], right[keep]
    # Only the segments still in a pair are made shapely lines, and tested exactly.
    used, at = np.unique(np.concatenate([left, right]), return_inverse=True)
    segments = shapely.linestrings(ends[used])
    a, b = segments[at[:len(left)]], segments[at[len(left):]]
    hit = shapely.intersects(a, b)
    left, a, b = left[hit], a[hit], b[hit]
    # A crossing through a vertex touches up to four segments: count distinct points per line.
    points, pair = shapely.get_coordinates(shapely.intersection(a, b), return_index=True)
    if len(points):
        rows = np.column_stack([seg_line[left][pair].astype(float), np.round(points, 9)])
        distinct = np.unique(rows, axis=0)
        out[bad] = np.bincount(distinct[:, 0].astype(np.int64), minlength=len(bad))
    return out


def _box_pairs(seg_line: np.ndarray, n_lines: int, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``left < right`` of segments of one line whose bounding boxes meet (edges touching included).

    ``seg_line`` gives each segment's line (segments of a line consecutive);
    ``ends`` each segment's two ends (segment, end, xy).
    """
    xlo, ylo = ends.min(axis=1).T.copy()
    xhi, yhi = ends.max(axis=1).T.copy()
    first = np.searchsorted(seg_line, np.arange(n_lines))
    count = np.bincount(seg_line, minlength=n_lines)
    lefts, rights = [], []
    for n in np.unique(count[(count >= 2) & (count <= DENSE_SEGMENTS)]):
        # every line of n segments at once: its first segment plus each pair of places
        i, j = np.triu_indices(n, k=1)
        base = first[count == n][:, None]
        left, right = (base + i).ravel(), (base + j).ravel()
        meet = (xlo[left] <= xhi[right]) & (xlo[right] <= xhi[left]) & (ylo[left] <= yhi[right]) & (ylo[right] <= yhi[left])
        lefts.append(left[meet])
        rights.append(right[meet])
    long = np.flatnonzero(count[seg_line] > DENSE_SEGMENTS)  # GPS tracks: one tree of their segments, pairs kept within a line
    if len(long):
        lines = shapely.linestrings(ends[long])
        left, right = shapely.STRtree(lines).query(lines)
        left, right = long[left], long[right]
        keep = (left < right) & (seg_line[left] == seg_line[right])
        lefts.append(left[keep])
        rights.append(right[keep])
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)
