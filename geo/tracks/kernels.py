"""Array kernels of the track engine: segments near points, time within a radius, night seconds.

Everything here works on NumPy arrays of planar metres (EPSG:4545) and local
times in int64/float seconds since 1970-01-01 00:00 (Asia/Shanghai wall clock,
as :mod:`geo.incidents.times`). A patrol moves in a straight line at constant
speed between two consecutive fixes, so a drive-past between two fixes is
found even when no fix lies near the estate.
"""

from __future__ import annotations

import numpy as np

from geo import settings

__all__ = ["PointGrid", "night_seconds_before", "segment_intervals"]

_DAY_S = 86400


class PointGrid:
    """A grid index of fixed points (estates, samples of a planned route) for segment queries.

    Segments are dispatched by their half length to one of several grid levels
    (:data:`LEVELS_M`), so short segments (a walk, most fixes) look at few points
    and long ones (a fast drive with sparse fixes) are still served exactly.

    Parameters
    ----------
    x, y
        Points, metres.
    radius_m
        Query radius, metres (scalar or one per point).
    levels_m
        Largest segment half length served by each level, metres, ascending;
        longer segments are compared with every point.
    """

    def __init__(self, x, y, radius_m, *, levels_m=None):
        levels = LEVELS_M if levels_m is None else tuple(levels_m)
        self.levels = [_Level(x, y, radius_m, max_half_m=h) for h in levels]
        self.x, self.y, self.radius_m = self.levels[0].x, self.levels[0].y, self.levels[0].radius_m

    def candidates(self, ax, ay, bx, by, *, half=None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(segment, point)`` index pairs that may lie within the radius (a superset, exact pairs included).

        ``half`` gives the segments' half lengths when the caller has them.
        """
        ax, ay, bx, by = (np.asarray(v, dtype=float) for v in (ax, ay, bx, by))
        if half is None:
            half = 0.5 * np.hypot(bx - ax, by - ay)
        if not len(half) or half.max() <= self.levels[0].max_half_m:
            return self.levels[0].candidates(ax, ay, bx, by, all_short=True)
        segs, pts = [], []
        lower = -1.0
        for k, level in enumerate(self.levels):
            last = k == len(self.levels) - 1
            pick = np.flatnonzero((half > lower) & ((half <= level.max_half_m) | last))
            lower = level.max_half_m
            if not len(pick):
                continue
            s, p = level.candidates(ax[pick], ay[pick], bx[pick], by[pick], half=half[pick], all_short=not last)
            segs.append(pick[s])
            pts.append(p)
        if not segs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(segs), np.concatenate(pts)


#: Half lengths of segments served by each level of :class:`PointGrid`, metres.
LEVELS_M: tuple[float, ...] = (30.0, 120.0, 500.0)


class _Level:
    """One grid level of :class:`PointGrid`.

    Each point is registered in every grid cell within ``radius_m + 2 * max_half_m``
    of it, so a segment no longer than ``2 * max_half_m`` finds every point it
    may pass within ``radius_m`` of by looking up the cell of its start. The grid
    has one empty cell of padding on every side: a start outside the grid is
    clipped onto the padding, which holds no point. Longer segments are compared
    with every point (they are rare: a gap in a track is not a segment).

    Parameters
    ----------
    x, y
        Points, metres.
    radius_m
        Query radius, metres (scalar or one per point).
    max_half_m
        Largest segment half length served by the grid, metres.
    """

    def __init__(self, x, y, radius_m, *, max_half_m: float = 250.0):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.radius_m = np.broadcast_to(np.asarray(radius_m, dtype=float), self.x.shape).copy()
        self.max_half_m = float(max_half_m)
        n = len(self.x)
        reach = (self.radius_m.max() if n else 0.0) + 2.0 * self.max_half_m
        self.cell_m = max(reach, 50.0)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.nx = self.ny = 1
            self.starts = np.zeros(2, dtype=np.int64)
            self.counts = np.zeros(1, dtype=np.int64)
            self.members = np.zeros(0, dtype=np.int64)
            return
        self.x0 = float(self.x.min() - reach - self.cell_m)
        self.y0 = float(self.y.min() - reach - self.cell_m)
        self.nx = int((self.x.max() + reach - self.x0) // self.cell_m) + 2
        self.ny = int((self.y.max() + reach - self.y0) // self.cell_m) + 2
        pr = self.radius_m + 2.0 * self.max_half_m
        cx0 = np.floor((self.x - pr - self.x0) / self.cell_m).astype(np.int64)
        cx1 = np.floor((self.x + pr - self.x0) / self.cell_m).astype(np.int64)
        cy0 = np.floor((self.y - pr - self.y0) / self.cell_m).astype(np.int64)
        cy1 = np.floor((self.y + pr - self.y0) / self.cell_m).astype(np.int64)
        cells, owners = [], []
        for i in range(n):
            gx, gy = np.meshgrid(np.arange(cx0[i], cx1[i] + 1), np.arange(cy0[i], cy1[i] + 1))
            c = (gy * self.nx + gx).ravel()
            cells.append(c)
            owners.append(np.full(len(c), i, dtype=np.int64))
        cells_a, owners_a = np.concatenate(cells), np.concatenate(owners)
        order = np.argsort(cells_a, kind="stable")
        self.members = owners_a[order]
        self.counts = np.bincount(cells_a, minlength=self.nx * self.ny)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)])

    def candidates(self, ax, ay, bx, by, *, half=None, all_short: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(segment, point)`` index pairs that may lie within the radius (a superset).

        Parameters
        ----------
        ax, ay, bx, by
            Segment ends, metres.
        half
            Half lengths of the segments, when already known.
        all_short
            The caller knows every segment is served by this level (no half length over ``max_half_m``).
        """
        n_pts = len(self.x)
        if n_pts == 0 or len(ax) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        long_seg = np.zeros(0, dtype=np.int64)
        if not all_short:
            if half is None:
                half = 0.5 * np.hypot(np.asarray(bx) - ax, np.asarray(by) - ay)
            long_seg = np.flatnonzero(half > self.max_half_m)
            if len(long_seg):
                short = np.flatnonzero(half <= self.max_half_m)
                s, p = self.candidates(ax[short], ay[short], bx[short], by[short], all_short=True)
                return (np.concatenate([short[s], np.repeat(long_seg, n_pts)]),
                        np.concatenate([p, np.tile(np.arange(n_pts, dtype=np.int64), len(long_seg))]))
        inv = 1.0 / self.cell_m
        gx = np.clip((np.asarray(ax) - self.x0) * inv, 0, self.nx - 1).astype(np.int64)
        gy = np.clip((np.asarray(ay) - self.y0) * inv, 0, self.ny - 1).astype(np.int64)
        gy *= self.nx
        gy += gx
        cnt = self.counts[gy]
        seg = np.flatnonzero(cnt)
        cnt = cnt[seg]
        lo = self.starts[gy[seg]]
        seg_rep = np.repeat(seg, cnt)
        offs = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        pt = self.members[np.repeat(lo, cnt) + offs]
        return seg_rep, pt


def segment_intervals(ax, ay, bx, by, px, py, radius_m, *, tolerance_m: float | None = None):
    """Fraction of each segment during which a point moving along it is within ``radius_m`` of a fixed point.

    Solves ``|a + u (b - a) - p|^2 <= r^2`` for ``u`` in [0, 1] (inclusive,
    with :data:`geo.settings.distance_tolerance_m` added to ``r``).

    Parameters
    ----------
    ax, ay, bx, by
        Segment ends, metres (one pair per row).
    px, py
        The fixed point of each row, metres.
    radius_m
        Radius, scalar or one per row.
    tolerance_m
        Allowance added to the radius (default the setting).

    Returns
    -------
    (hit, u0, u1)
        ``hit`` is True where the segment comes within the radius; ``u0 <= u1``
        bound the part within it, as fractions of the segment (0 at ``a``).
        A zero-length segment (a team standing still) is within for all of it
        or none.
    """
    tol = settings.distance_tolerance_m if tolerance_m is None else tolerance_m
    r = np.asarray(radius_m, dtype=float) + tol
    dx, dy = np.asarray(bx) - ax, np.asarray(by) - ay
    fx, fy = np.asarray(ax) - px, np.asarray(ay) - py
    a = dx * dx + dy * dy
    b = 2.0 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - r * r
    still = a <= 1e-12
    disc = b * b - 4.0 * a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(np.maximum(disc, 0.0))
        u0 = np.where(still, 0.0, (-b - sq) / (2.0 * a))
        u1 = np.where(still, 1.0, (-b + sq) / (2.0 * a))
    u0 = np.clip(u0, 0.0, 1.0)
    u1 = np.clip(u1, 0.0, 1.0)
    hit = np.where(still, c <= 0.0, (disc >= 0.0) & (u1 >= u0) & ((-b + sq) >= 0.0) & ((-b - sq) <= 2.0 * a))
    return hit, u0, u1


def night_seconds_before(t_s, *, start_hour: int | None = None, end_hour: int | None = None) -> np.ndarray:
    """Night seconds from 1970-01-01 00:00 local up to each time: ``N(b) - N(a)`` is the night part of ``[a, b]``.

    Parameters
    ----------
    t_s
        Local times, seconds (float or int).
    start_hour, end_hour
        Night from ``start_hour`` to ``end_hour`` (next morning when smaller);
        defaults :data:`geo.settings.night_start_hour` and ``night_end_hour``.

    Returns
    -------
    numpy.ndarray of float
    """
    sh = settings.night_start_hour if start_hour is None else start_hour
    eh = settings.night_end_hour if end_hour is None else end_hour
    s0, s1 = 3600.0 * sh, 3600.0 * eh
    t = np.asarray(t_s, dtype=float)
    day = np.floor(t / _DAY_S)
    sod = t - day * _DAY_S
    if s0 > s1:  # wraps midnight: [0, s1) and [s0, 24h)
        per_day = s1 + (_DAY_S - s0)
        within = np.minimum(sod, s1) + np.maximum(sod - s0, 0.0)
    else:
        per_day = s1 - s0
        within = np.clip(sod - s0, 0.0, per_day)
    return day * per_day + within
