"""The segment index of the pair query: every straight segment of the routes, and trees of their envelopes.

The point pass of :class:`geo.coverage.pairs.PairQueries` asks, for each
estate's box, which segments have an envelope that meets it. Building the
trees that answer this (one shapely line per segment, then GEOS's STRtree)
holds the GIL, so on many threads it would run alone while every other
thread waits. With a pool, the segments are therefore cut into groups along
a space-filling curve, and one task of the pool builds the groups' trees one
after another while the other threads already query the trees that are
ready: each chunk of estates waits only for the groups its boxes reach, and
the chunks come in the same curve order as the groups. A box meets the same
segments in the groups' trees as in one tree of all of them, so the answer
never depends on the number of groups.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

import numpy as np
import shapely

from geo.coverage.kernels import explode, morton

__all__ = ["SegmentIndex"]


class SegmentIndex:
    """Straight segments of routes, in groups along a Z-order curve, each with an STRtree.

    Parameters
    ----------
    route_geoms
        Object array of the model's route geometries (metric CRS).
    routes
        Indices into ``route_geoms`` of the routes to index.
    groups
        Groups of segments, each with its own tree (1: one tree of all).
    pool
        Where the trees are built: one task of this pool builds them in
        order, and :meth:`query` waits for those it needs; ``None`` builds
        them here, before returning.

    Attributes
    ----------
    seg
        ``(n, 4)`` array x0, y0, x1, y1 in metres, in Z-order of their
        midpoints (neighbouring estates then read neighbouring memory);
        zero-length segments are dropped.
    route
        Route index of each segment.
    """

    def __init__(self, route_geoms: np.ndarray, routes: np.ndarray, *, groups: int = 1, pool: Executor | None = None):
        seg, route = explode(route_geoms, routes)
        order = np.argsort(morton((seg[:, 0] + seg[:, 2]) / 2, (seg[:, 1] + seg[:, 3]) / 2), kind="stable")
        self.seg, self.route = seg[order], route[order]
        groups = max(1, min(int(groups), len(self.seg)))
        cuts = np.linspace(0, len(self.seg), groups + 1).astype(np.int64) if len(self.seg) else np.zeros(1, dtype=np.int64)
        self._starts, self._ends = cuts[:-1], cuts[1:]
        self._envelopes = np.array([self._envelope(a, b) for a, b in zip(self._starts, self._ends, strict=True)]).reshape(-1, 4)
        self._trees: list[Future] = [Future() for _ in self._starts]
        if pool is None:
            self._build()
        else:
            pool.submit(self._build)

    def _envelope(self, a: int, b: int) -> np.ndarray:
        part = self.seg[a:b]
        lo, hi = np.minimum(part[:, :2], part[:, 2:]), np.maximum(part[:, :2], part[:, 2:])
        return np.r_[lo.min(axis=0), hi.max(axis=0)]

    def _build(self) -> None:
        """Build the groups' trees in order, handing each over as soon as it stands."""
        for g, (a, b) in enumerate(zip(self._starts, self._ends, strict=True)):
            try:
                tree = shapely.STRtree(shapely.linestrings(self.seg[a:b].reshape(-1, 2, 2)))
            except BaseException as exc:  # every waiting query gets the error: nothing waits forever
                for future in self._trees[g:]:
                    future.set_exception(exc)
                raise
            self._trees[g].set_result(tree)

    def __len__(self) -> int:
        return len(self.seg)

    def query(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (box, segment) pair whose box and segment envelope meet (edges included).

        Parameters
        ----------
        boxes
            ``(m, 4)`` array minx, miny, maxx, maxy in metres.

        Returns
        -------
        tuple of numpy.ndarray
            Box positions and segment positions (into :attr:`seg`), in no
            particular order.
        """
        empty = np.zeros(0, dtype=np.int64)
        if not len(boxes) or not len(self.seg):
            return empty, empty.copy()
        lo, hi = boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)
        env = self._envelopes
        near = np.flatnonzero((env[:, 0] <= hi[0]) & (env[:, 2] >= lo[0]) & (env[:, 1] <= hi[1]) & (env[:, 3] >= lo[1]))
        if not len(near):
            return empty, empty.copy()
        geoms = shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3])
        parts_b, parts_s = [], []
        for g in near.tolist():
            b, s = self._trees[g].result().query(geoms)
            parts_b.append(b)
            parts_s.append(s + self._starts[g])
        return np.concatenate(parts_b), np.concatenate(parts_s)
