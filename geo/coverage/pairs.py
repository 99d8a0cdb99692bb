"""The pair queries of :class:`geo.coverage.model.CoverageModel`: which routes lie within the radius of each estate, and the per-estate summary.

:class:`PairQueries` holds the query machinery (route tree, the segment index of
:mod:`geo.coverage.segments`, threaded chunks, the NumPy point-to-segment pass) and the reduction of pairs
to per-(estate, team) minima and per-estate statuses. The model inherits it;
its state (geometries, dirty routes, tolerance) lives on the model.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from geo import settings
from geo._gc import collector_paused
from geo.coverage.kernels import explode, first_equal, morton, segment_distance, text_ranks
from geo.coverage.rule import COVERABLE, COVERED, GAP
from geo.coverage.segments import SegmentIndex

#: Estates per chunk of the threaded pair query.
_CHUNK = 20_000

#: Chunks per thread of the pair query at least: estates cluster in towns, so chunks of equal
#: counts carry unequal work, and a thread that finishes early takes the next chunk.
_CHUNKS_PER_WORKER = 2

#: Groups of segments per thread, each with its own tree (geo.coverage.segments): the first
#: trees stand, and the first chunks start, after a small share of the whole index is built.
_SEGMENT_GROUPS_PER_WORKER = 2

#: Point estates per piece of the NumPy distance pass (about 1 MB per temporary array).
_POINT_CHUNK = 1_024

_EMPTY_PAIRS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


@dataclass
class Summary:
    """Per-estate results as arrays (index = estate position)."""

    status: np.ndarray
    nearby_count: np.ndarray
    covering_count: np.ndarray
    nearest_team: np.ndarray  # team code, -1 when no team is nearby
    nearest_distance_m: np.ndarray  # NaN when no team is nearby


class PairQueries:
    """Pair queries and summaries over the state of a coverage model (see the module text)."""

    def _rank(self) -> np.ndarray:
        # Ties between equally near teams are broken by team id, so the answer
        # never depends on the order in which teams were added.
        if self._team_rank is None or len(self._team_rank) != len(self._team_ids):
            self._team_rank = text_ranks(self._team_ids)
        return self._team_rank

    def _max_scale(self) -> float:
        """Largest scale factor of the CRS at an estate (1 when distances are not corrected, see ``estate_scale``)."""
        return 1.0 if self.estate_scale is None else float(self.estate_scale.max())

    def _build_route_tree(self) -> None:
        alive = np.flatnonzero(self.route_alive)
        self._tree_routes = alive
        self._tree = shapely.STRtree(self.route_geoms[alive]) if len(alive) else None
        self._dirty = np.zeros(len(self.route_ids), dtype=bool)
        self._segments = None  # built on first use by _segment_index

    def _segment_index(self, pool=None, groups: int = 1) -> SegmentIndex:
        """The :class:`~geo.coverage.segments.SegmentIndex` of the tree's routes (built once per tree).

        A new index is made with ``groups`` trees built in ``pool`` (see
        :mod:`geo.coverage.segments`); one already made is returned as it is.
        """
        if self._segments is None:
            with collector_paused():  # hundreds of thousands of lines, no cycles (geo._gc)
                self._segments = SegmentIndex(self.route_geoms, self._tree_routes, groups=groups, pool=pool)
        return self._segments

    # --- queries ------------------------------------------------------------

    def _query(self, estates: np.ndarray, *, per_chunk=None):
        """Pairs (estate index, route index, distance m) with distance <= radius (+ tolerance), every alive route.

        Point estates go through :meth:`_point_pairs` (segments, NumPy). For
        other estates, candidates come from the route tree queried with each estate's
        envelope grown by the radius (a superset of every pair within the
        radius); one :func:`shapely.distance` pass then gives the distances
        and the filter. This is the exact ``dwithin`` set measured once: GEOS's
        ``dwithin`` predicate followed by a distance pass would compute the
        distance of every pair twice (measured at 170,000 estates and 50,000
        routes: 27 s against 17 s on one core). Chunks of estates run in
        threads (shapely releases the GIL), see :data:`geo.settings.coverage_workers`.
        Where the model has ``estate_scale`` (a CRS that stretches distances
        by more than :data:`geo.settings.scale_correction_from`), each planar
        distance is divided by the scale factor at its estate.
        Returned sorted by estate.

        With ``per_chunk`` (a function of one chunk's ``est, rte, dist``,
        sorted by estate), it runs in the chunk's thread and the list of
        ``(est, rte, dist, per_chunk(est, rte, dist))`` per chunk is returned
        instead: the chunks hold disjoint estates, in no particular order.
        """
        estates = np.asarray(estates, dtype=np.int64)
        if not len(estates):
            empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
            return empty if per_chunk is None else [(*empty, per_chunk(*empty))]
        reach = self.radius_m + self.tolerance_m
        dirty = np.flatnonzero(self._dirty & self.route_alive)
        dirty_bounds = shapely.bounds(self.route_geoms[dirty]) if len(dirty) else None

        point = self._estate_is_point
        need_segments = bool(point[estates].any())

        def work(chunk: np.ndarray):
            geoms = self.estate_geoms[chunk]
            # Planar distances are k times those on the ground: query k times as far, then divide (see scale_factors).
            scale = None if self.estate_scale is None else self.estate_scale[chunk]
            far = reach if scale is None else reach * float(scale.max())
            box = self._estate_bounds[chunk] + np.array([-far, -far, far, far])
            parts_e, parts_r = [], []
            exact = [_EMPTY_PAIRS]
            is_point = point[chunk]
            if self._tree is not None and is_point.any():
                exact.append(self._point_pairs(chunk, np.flatnonzero(is_point), box, far))
            if self._tree is not None and not is_point.all():
                other = np.flatnonzero(~is_point)
                ob = box[other]
                li, ti = self._tree.query(shapely.box(ob[:, 0], ob[:, 1], ob[:, 2], ob[:, 3]))
                ri = self._tree_routes[ti]
                keep = ~self._dirty[ri]
                parts_e.append(other[li[keep]])
                parts_r.append(ri[keep])
            if dirty_bounds is not None and not is_point.all():
                other = np.flatnonzero(~is_point)
                ob = box[other]
                hit = (
                    (ob[:, None, 0] <= dirty_bounds[None, :, 2])
                    & (ob[:, None, 2] >= dirty_bounds[None, :, 0])
                    & (ob[:, None, 1] <= dirty_bounds[None, :, 3])
                    & (ob[:, None, 3] >= dirty_bounds[None, :, 1])
                )
                li, dj = np.nonzero(hit)
                parts_e.append(other[li])
                parts_r.append(dirty[dj])
            local = np.concatenate(parts_e).astype(np.int64) if parts_e else np.zeros(0, dtype=np.int64)
            rte = np.concatenate(parts_r).astype(np.int64) if parts_r else np.zeros(0, dtype=np.int64)
            dist = shapely.distance(geoms[local], self.route_geoms[rte])
            keep = dist <= far
            exact.append((local[keep], rte[keep], dist[keep]))
            local = np.concatenate([e[0] for e in exact])
            rte = np.concatenate([e[1] for e in exact])
            dist = np.concatenate([e[2] for e in exact])
            if scale is not None:
                dist = dist / scale[local]
                keep = dist <= reach
                local, rte, dist = local[keep], rte[keep], dist[keep]
            order = np.argsort(local, kind="stable")
            est, rte, dist = chunk[local[order]], rte[order], dist[order]
            if per_chunk is None:
                return est, rte, dist
            return est, rte, dist, per_chunk(est, rte, dist)

        if len(estates) > _POINT_CHUNK:
            # Estates in space-filling-curve order, so each piece covers a small area.
            eb = self._estate_bounds[estates]
            estates = estates[np.argsort(morton((eb[:, 0] + eb[:, 2]) / 2, (eb[:, 1] + eb[:, 3]) / 2), kind="stable")]
        workers = settings.coverage_threads()
        if workers > 1 and len(estates) >= 2 * _CHUNK:
            # Below 40,000 estates one thread: on a busy 2-core machine two threads took more time
            # and 50 % more CPU at 20,000 estates (docs/benchmarks.md, "Engine threads").
            chunks = np.array_split(estates, max(-(-len(estates) // _CHUNK), _CHUNKS_PER_WORKER * workers))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                if need_segments:  # its trees are built by the pool's first task, while the chunks start
                    self._segment_index(pool, groups=_SEGMENT_GROUPS_PER_WORKER * workers)
                results = list(pool.map(work, chunks))
        else:
            if need_segments:
                self._segment_index()
            results = [work(estates)]
        if per_chunk is not None:
            return results
        est = np.concatenate([r[0] for r in results])
        rte = np.concatenate([r[1] for r in results])
        dist = np.concatenate([r[2] for r in results])
        if len(est) > 1 and (np.diff(est) < 0).any():
            order = np.argsort(est, kind="stable")
            est, rte, dist = est[order], rte[order], dist[order]
        return est, rte, dist

    @property
    def _estate_is_point(self) -> np.ndarray:
        if getattr(self, "_is_point", None) is None or len(self._is_point) != len(self.estate_geoms):
            self._is_point = shapely.get_type_id(self.estate_geoms) == 0
        return self._is_point

    def _point_pairs(self, chunk: np.ndarray, which: np.ndarray, box: np.ndarray, reach: float):
        """Pairs (local estate, route, distance) within ``reach`` for point estates, from the segment index.

        Point-to-segment distance is computed in NumPy with the closed formula
        (project onto the segment, clamp to its ends): exact for straight
        segments in a metric CRS, agreeing with GEOS to about 1e-9 m, and
        several times faster than :func:`shapely.distance` on whole lines.
        The minimum over a route's segments comes from one sort and
        :func:`numpy.minimum.reduceat`. Routes edited since the tree was built
        are left to the caller.
        """
        if not len(which):
            return _EMPTY_PAIRS
        if len(which) > _POINT_CHUNK:
            # Small pieces keep every temporary array in cache and out of fresh
            # memory pages (page faults cost more than the arithmetic here).
            parts = [self._point_pairs(chunk, which[i : i + _POINT_CHUNK], box, reach) for i in range(0, len(which), _POINT_CHUNK)]
            return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))
        index = self._segment_index()
        seg, seg_route = index.seg, index.route
        b = box[which]
        xy = shapely.get_coordinates(self.estate_geoms[chunk[which]])
        parts_l, parts_r, parts_d = [], [], []
        if len(index):
            li, si = index.query(b)
            r = seg_route[si]
            keep = ~self._dirty[r]
            li, si, r = li[keep], si[keep], r[keep]
            parts_l.append(li)
            parts_r.append(r)
            parts_d.append(segment_distance(xy[li, 0], xy[li, 1], seg[si]))
        dirty = np.flatnonzero(self._dirty & self.route_alive)
        if len(dirty):
            # Edited routes: the same formula on their segments, so an edit gives exactly a full recompute's numbers.
            dseg, droute = explode(self.route_geoms, dirty)
            lo, hi = np.minimum(dseg[:, :2], dseg[:, 2:]), np.maximum(dseg[:, :2], dseg[:, 2:])
            hit = (b[:, None, 0] <= hi[None, :, 0]) & (b[:, None, 2] >= lo[None, :, 0]) & (b[:, None, 1] <= hi[None, :, 1]) & (b[:, None, 3] >= lo[None, :, 1])
            li, sj = np.nonzero(hit)
            parts_l.append(li)
            parts_r.append(droute[sj])
            parts_d.append(segment_distance(xy[li, 0], xy[li, 1], dseg[sj]))
        li, r, dist = np.concatenate(parts_l), np.concatenate(parts_r), np.concatenate(parts_d)
        keep = dist <= reach
        li, r, dist = li[keep], r[keep], dist[keep]
        if not len(li):
            return _EMPTY_PAIRS
        n_routes = len(self.route_ids)
        key = li.astype(np.int64) * n_routes + r
        # Each tree gives its pairs by estate, so the keys come in a few long ascending runs: a stable sort (timsort)
        # merges them in about half the time of quicksort. The order within a key does not matter (its minimum is taken).
        order = np.argsort(key.astype(np.int32) if len(which) * n_routes < 2**31 else key, kind="stable")
        key, dist = key[order], dist[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        dmin = np.minimum.reduceat(dist, starts)
        key = key[starts]
        return which[key // len(self.route_ids)], key % len(self.route_ids), dmin

    def _team_min(self, est, rte, dist, *, active=None, rank=None):
        """Minimum distance per (estate, team) over active routes.

        ``active`` (:meth:`active_routes`) and ``rank`` (:meth:`_rank`) may be
        given, computed once for calls from several threads.

        Returns
        -------
        tuple of arrays
            ``est, team, route, dist`` per (estate, team), sorted by estate then
            team id; ``route`` is the team's nearest route (first of equals).
        """
        keep = (self.active_routes() if active is None else active)[rte]
        est, rte, dist = est[keep], rte[keep], dist[keep]
        n_teams = max(len(self._team_ids), 1)
        rank = self._rank() if rank is None else rank
        if not len(est):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy(), np.zeros(0)
        # One integer key per (estate, team id rank): a single stable sort groups the pairs.
        key = est * n_teams + rank[self.route_team[rte]]
        order = np.argsort(key, kind="stable")
        key, rte, dist = key[order], rte[order], dist[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        gmin = np.minimum.reduceat(dist, starts)
        first = first_equal(dist, gmin, starts)
        by_rank = np.empty(n_teams, dtype=np.int64)
        by_rank[rank] = np.arange(len(rank))
        gkey = key[starts]
        return gkey // n_teams, by_rank[gkey % n_teams], rte[first], gmin

    def _solve_pairs(self, estates: np.ndarray):
        """The pairs of ``estates`` as a list of ``(est, route, dist)`` pieces, and their :meth:`_team_min` (sorted by estate, then team id).

        The per-(estate, team) minimum runs in each chunk's thread of the pair
        query; the chunks' minima are then put in estate order by one count of
        rows per estate and a placement per chunk, instead of one sort of all rows.
        The pairs stay in their chunks' pieces (one per thread chunk, disjoint
        estates): only an edit or :meth:`pairs` after one needs them joined.
        """
        active, rank = self.active_routes(), self._rank()
        chunks = self._query(estates, per_chunk=lambda e, r, d: self._team_min(e, r, d, active=active, rank=rank))
        base = [c[:3] for c in chunks]
        if len(chunks) == 1:
            return base, chunks[0][3]
        parts = [c[3] for c in chunks]
        counts = np.bincount(np.concatenate([p[0] for p in parts]), minlength=len(self.estate_ids))
        first = np.cumsum(counts) - counts  # where each estate's rows start in the result
        out = [np.empty(int(counts.sum()), dtype=parts[0][k].dtype) for k in range(4)]

        def place(p) -> None:  # the chunks hold disjoint estates: each writes its own rows
            e = p[0]
            if not len(e):
                return
            starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
            within = np.arange(len(e)) - np.repeat(starts, np.diff(np.r_[starts, len(e)]))
            at = first[e] + within
            for k in range(4):
                out[k][at] = p[k]

        workers = min(settings.coverage_threads(), len(parts))
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(place, parts))
        else:
            for p in parts:
                place(p)
        return base, tuple(out)

    def _summarise(self, estates: np.ndarray, est, team, dist) -> Summary:
        """Summary of ``estates`` (sorted unique indices) from their (estate, team) minima sorted by estate."""
        n = len(estates)
        # estates is sorted and unique: when it is a run of consecutive positions (a whole solve), est - first is the place
        contiguous = n > 0 and int(estates[-1]) - int(estates[0]) == n - 1
        local = (est if estates[0] == 0 else est - estates[0]) if contiguous else np.searchsorted(estates, est)
        covers = dist <= self.estate_cover_m[est] + self.tolerance_m
        nearby_count = np.bincount(local, minlength=n)
        covering_count = np.bincount(local[covers], minlength=n)
        nearest_team = np.full(n, -1, dtype=np.int64)
        nearest_dist = np.full(n, np.nan)
        if len(local):
            # nearest team: smallest distance, ties to the smallest team id (rows are in team id order)
            starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
            emin = np.minimum.reduceat(dist, starts)
            first = first_equal(dist, emin, starts)
            nearest_team[local[starts]] = team[first]
            nearest_dist[local[starts]] = emin
        return Summary(self._statuses(nearby_count, covering_count), nearby_count, covering_count, nearest_team, nearest_dist)

    def _statuses(self, nearby_count: np.ndarray, covering_count: np.ndarray) -> np.ndarray:
        """Status codes of estates from their counts of nearby and covering teams, in the model's reading."""
        if self.strict:
            covered = (nearby_count > 0) & (covering_count == nearby_count)
        else:
            covered = covering_count > 0
        return np.where(covered, COVERED, np.where(nearby_count > 0, COVERABLE, GAP))
