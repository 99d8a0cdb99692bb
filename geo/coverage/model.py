"""The 1-km rule: which estates are covered, coverable or a gap, and by which teams.

Definitions (see the README section "The 1-km rule, made exact"):

* ``distance(team, estate)`` is the smallest planar distance, in metres of a
  metric CRS (EPSG:4545 for Shahe), between any of the team's active routes
  and the estate's geometry (address point or footprint polygon).
* A team is **nearby** when ``distance <= radius_m`` and **covers** the estate
  when ``distance <= cover_m``. Both tests are inclusive and allow
  :data:`geo.settings.distance_tolerance_m` (2 cm, the most that storing
  positions with 7 decimals can move a distance), so a pair built exactly at
  the radius counts as nearby after a projection round trip and after being
  written to GeoJSON and read back.
* ``cover_m`` defaults to :data:`geo.settings.cover_distance_m` for address
  points and :data:`geo.settings.cover_distance_polygon_m` for footprints.
* Default statuses: **covered** (at least one team covers), **coverable** (no
  team covers, at least one is nearby), **gap** (no team within the radius).
* Strict statuses (the plan's 都应: *every* nearby team must cover):
  **covered** when at least one team is nearby and every nearby team covers;
  **coverable** when at least one nearby team does not cover (even if another
  team covers it: ``covering_count`` still says so); **gap** as above. A team
  that is nearby but does not cover has an **obligation**; in the default mode
  only at estates nobody covers, in strict mode at every estate.
* Shift filter: ``shift="night"`` keeps routes whose shift is ``night`` or
  ``all``; ``shift="day"`` keeps ``day`` and ``all``; None keeps every route.

The heavy path works on arrays. For address points (the usual estate), the
routes are exploded once into straight segments held in an STRtree; each
estate's envelope grown by the radius queries it (a superset of the
``dwithin`` pairs), the point-segment distance is computed in NumPy with the
closed formula (exact for straight segments in a metric CRS; agrees with GEOS
to about 1e-9 m), filtered to ``distance <= radius``, and reduced to the
minimum per (estate, route) and then per (estate, team) by sorts on integer
keys and :func:`numpy.minimum.reduceat`. Footprint polygons take the same
route-tree query with :func:`shapely.distance` on the pair arrays. No Python
loop runs over pairs. Estates are processed in Z-order (neighbours together)
in small pieces, chunks of them in threads. :class:`CoverageModel` keeps the projected
geometries, the trees and the pair table so that
:meth:`CoverageModel.update_route` recomputes only the estates within the
radius of a route's old and new geometry, with exactly the answer a full
recompute gives.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo.coverage.kernels import _explode, _first_equal, _join_groups, _morton, _segment_distance
from geo.coverage.rule import _COVERABLE, _COVERED, _GAP, _SHIFT_ROUTES, STATUSES, _check_shift
from geo.errors import CRSError, SchemaError
from geo.schemas import SHIFTS

#: Rebuild the route tree after this many edited routes (the answer never depends on it).
_REBUILD_AFTER = 256

#: Estates per chunk of the threaded pair query.
_CHUNK = 20_000

#: Point estates per piece of the NumPy distance pass (about 1 MB per temporary array).
_POINT_CHUNK = 1_024

_EMPTY_PAIRS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))



@dataclass
class _Summary:
    """Per-estate results as arrays (index = estate position)."""

    status: np.ndarray
    nearby_count: np.ndarray
    covering_count: np.ndarray
    nearest_team: np.ndarray  # team code, -1 when no team is nearby
    nearest_distance_m: np.ndarray  # NaN when no team is nearby


class CoverageModel:
    """Coverage of estates by patrol teams, on arrays in a metric CRS.

    Build it with :meth:`from_geodataframes` (WGS-84 or any common CRS; it
    projects) or directly from metric geometries (the core: tests and
    benchmarks feed arrays). The question (radius, cover distance, shift,
    strict) is fixed per model; routes can be edited with :meth:`update_route`.

    Parameters
    ----------
    estate_ids
        One id per estate.
    estate_geoms
        Shapely points or polygons in ``crs`` (metres).
    route_ids, route_geoms, route_team_ids
        One entry per route: id, line geometry in ``crs``, team id.
    crs
        The metric CRS of the geometries; degrees or None raise CRSError.
    route_shifts
        ``day``, ``night`` or ``all`` per route (default ``all``).
    radius_m
        Rule radius (default :data:`geo.settings.rule_radius_m`), inclusive.
    cover_m
        Cover distance: a number for every estate, an array per estate, or None
        for :data:`geo.settings.cover_distance_m` (points) and
        :data:`geo.settings.cover_distance_polygon_m` (polygons). Inclusive.
    shift
        None (every route), ``"day"`` or ``"night"``.
    strict
        Strict statuses (every nearby team must cover); see the module text.
    input_crs
        CRS in which :meth:`update_route` receives geometries (default ``crs``).
    """

    def __init__(
        self,
        estate_ids,
        estate_geoms,
        route_ids,
        route_geoms,
        route_team_ids,
        *,
        crs,
        route_shifts=None,
        radius_m: float | None = None,
        cover_m=None,
        shift: str | None = None,
        strict: bool = False,
        input_crs=None,
    ):
        self.crs = _crs.require_metric(crs, what="geometries given to the coverage engine")
        self.input_crs = pyproj.CRS.from_user_input(input_crs) if input_crs is not None else self.crs
        self.radius_m = float(settings.rule_radius_m if radius_m is None else radius_m)
        self.tolerance_m = float(settings.distance_tolerance_m)
        self.shift = _check_shift(shift)
        self.strict = bool(strict)

        self.estate_ids = np.asarray(estate_ids, dtype=object)
        self.estate_geoms = np.asarray(estate_geoms, dtype=object)
        n = len(self.estate_ids)
        if len(self.estate_geoms) != n:
            msg = f"{n} estate ids but {len(self.estate_geoms)} estate geometries"
            raise ValueError(msg)
        _check_estates(self.estate_ids, self.estate_geoms)
        self.estate_cover_m = self._cover_array(cover_m)
        self._estate_tree = shapely.STRtree(self.estate_geoms)
        self._estate_bounds = shapely.bounds(self.estate_geoms)

        route_ids = np.asarray(route_ids, dtype=object)
        route_geoms = np.asarray(route_geoms, dtype=object)
        route_team_ids = np.asarray(route_team_ids, dtype=object)
        if route_shifts is None:
            route_shifts = np.full(len(route_ids), "all", dtype=object)
        route_shifts = np.asarray(route_shifts, dtype=object)
        if not (len(route_ids) == len(route_geoms) == len(route_team_ids) == len(route_shifts)):
            msg = "route ids, geometries, team ids and shifts differ in length"
            raise ValueError(msg)
        _check_routes(route_ids, route_geoms, route_shifts)

        self._team_ids: list[str] = []
        self._team_code: dict[str, int] = {}
        self._team_rank: np.ndarray | None = None
        self.route_ids = route_ids.copy()
        self._route_index = {str(r): i for i, r in enumerate(self.route_ids)}
        self.route_geoms = route_geoms.copy()
        self.route_team = np.array([self._team(t) for t in route_team_ids], dtype=np.int64)
        self.route_shifts = route_shifts.copy()
        self.route_alive = np.ones(len(self.route_ids), dtype=bool)
        self._build_route_tree()

        #: Estate and team attributes for tables (set by from_geodataframes).
        self.estate_attrs: pd.DataFrame | None = None
        self.team_attrs: pd.DataFrame | None = None
        self._summary: _Summary | None = None
        self._base: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # est, route, dist (all routes)
        self._patches: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._team_cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- construction -----------------------------------------------------

    @classmethod
    def from_geodataframes(
        cls,
        estates: gpd.GeoDataFrame,
        routes: gpd.GeoDataFrame,
        *,
        radius_m: float | None = None,
        cover_m: float | None = None,
        shift: str | None = None,
        strict: bool = False,
        metric_crs=None,
    ) -> CoverageModel:
        """Build a model from an estates and a routes GeoDataFrame.

        Parameters
        ----------
        estates
            Columns ``estate_id`` and geometry (points or polygons); other
            columns (``name``, ``community``, ``batch_year``) are kept for tables.
        routes
            Columns ``route_id``, ``team_id``, optional ``shift``, ``team``,
            ``org_type``, and line geometry.
        radius_m, cover_m, shift, strict
            See :class:`CoverageModel`.
        metric_crs
            CRS to measure in; default chosen from the data's bounds
            (EPSG:4545 for Shahe).

        Returns
        -------
        CoverageModel

        Raises
        ------
        CRSError
            If either frame has no CRS, or their CRSs differ (convert both to
            WGS-84 first: :func:`geo.io.read_estates` and :func:`geo.io.read_routes` do).
        SchemaError
            If an id column is missing, or a geometry is empty or of zero length.
        """
        _check_frames(estates, routes)
        if metric_crs is None:
            if estates.crs.is_projected:
                metric_crs = estates.crs  # already metric, or refused just below
            else:
                geoms = np.concatenate(
                    [estates.geometry.to_crs(settings.storage_crs).values, routes.geometry.to_crs(settings.storage_crs).values]
                )
                geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
                bounds = tuple(shapely.total_bounds(geoms)) if len(geoms) else None
                metric_crs = _crs.metric_crs_for_bounds(bounds) if bounds else pyproj.CRS.from_user_input(settings.metric_crs)
        metric_crs = _crs.require_metric(metric_crs, what="the metric CRS")
        est_m = estates.geometry.to_crs(metric_crs).values
        rt_m = routes.geometry.to_crs(metric_crs).values
        shifts = routes["shift"].fillna("all").to_numpy(dtype=object) if "shift" in routes.columns else None
        model = cls(
            estates["estate_id"].astype(str).to_numpy(dtype=object),
            np.asarray(est_m, dtype=object),
            routes["route_id"].astype(str).to_numpy(dtype=object),
            np.asarray(rt_m, dtype=object),
            routes["team_id"].astype(str).to_numpy(dtype=object),
            crs=metric_crs,
            route_shifts=shifts,
            radius_m=radius_m,
            cover_m=cover_m,
            shift=shift,
            strict=strict,
            input_crs=estates.crs,
        )
        model.estate_attrs = pd.DataFrame(estates.drop(columns=estates.geometry.name)).reset_index(drop=True)
        keep = [c for c in ("team_id", "team", "org_type") if c in routes.columns]
        model.team_attrs = pd.DataFrame(routes[keep]).astype(str).drop_duplicates("team_id").set_index("team_id")
        return model

    def _cover_array(self, cover_m) -> np.ndarray:
        n = len(self.estate_ids)
        if cover_m is None:
            types = shapely.get_type_id(self.estate_geoms)
            polygon = (types == 3) | (types == 6)
            return np.where(polygon, float(settings.cover_distance_polygon_m), float(settings.cover_distance_m))
        arr = np.broadcast_to(np.asarray(cover_m, dtype=float), (n,)).copy()
        if (arr < 0).any() or not np.isfinite(arr).all():
            msg = f"cover distance must be a finite number of metres >= 0, got {cover_m!r}"
            raise ValueError(msg)
        return arr

    def _team(self, team_id) -> int:
        key = str(team_id)
        code = self._team_code.get(key)
        if code is None:
            code = len(self._team_ids)
            self._team_ids.append(key)
            self._team_code[key] = code
            self._team_rank = None
        return code

    @property
    def team_ids(self) -> list[str]:
        """Team ids in code order."""
        return list(self._team_ids)

    def _rank(self) -> np.ndarray:
        # Ties between equally near teams are broken by team id, so the answer
        # never depends on the order in which teams were added.
        if self._team_rank is None or len(self._team_rank) != len(self._team_ids):
            order = np.argsort(np.asarray(self._team_ids, dtype=str), kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._team_rank = rank
        return self._team_rank

    def _build_route_tree(self) -> None:
        alive = np.flatnonzero(self.route_alive)
        self._tree_routes = alive
        self._tree = shapely.STRtree(self.route_geoms[alive]) if len(alive) else None
        self._dirty = np.zeros(len(self.route_ids), dtype=bool)
        self._segments = None  # built on first use by _segment_index

    def _segment_index(self):
        """Straight segments of the tree's routes and an STRtree of their boxes (built once per tree).

        Returns
        -------
        tuple
            ``(tree, seg, route)``: the tree, an (n, 4) array x0, y0, x1, y1 in
            metres and the route index of each segment. Zero-length segments are dropped.
        """
        if self._segments is None:
            seg, route = _explode(self.route_geoms, self._tree_routes)
            # Segments in space-filling-curve order: neighbouring estates then read neighbouring memory.
            order = np.argsort(_morton((seg[:, 0] + seg[:, 2]) / 2, (seg[:, 1] + seg[:, 3]) / 2), kind="stable")
            seg, route = seg[order], route[order]
            # The tree holds the segments as two-point lines (cheaper to make than boxes; same envelopes).
            tree = shapely.STRtree(shapely.linestrings(seg.reshape(-1, 2, 2))) if len(seg) else None
            self._segments = (tree, seg, route)
        return self._segments

    # --- queries ------------------------------------------------------------

    def _query(self, estates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        Returned sorted by estate.
        """
        estates = np.asarray(estates, dtype=np.int64)
        if not len(estates):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), np.zeros(0)
        reach = self.radius_m + self.tolerance_m
        dirty = np.flatnonzero(self._dirty & self.route_alive)
        dirty_bounds = shapely.bounds(self.route_geoms[dirty]) if len(dirty) else None

        point = self._estate_is_point
        if point[estates].any():
            self._segment_index()

        def work(chunk: np.ndarray):
            geoms = self.estate_geoms[chunk]
            box = self._estate_bounds[chunk] + np.array([-reach, -reach, reach, reach])
            parts_e, parts_r = [], []
            exact = [_EMPTY_PAIRS]
            is_point = point[chunk]
            if self._tree is not None and is_point.any():
                exact.append(self._point_pairs(chunk, np.flatnonzero(is_point), box, reach))
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
            keep = dist <= reach
            exact.append((local[keep], rte[keep], dist[keep]))
            local = np.concatenate([e[0] for e in exact])
            rte = np.concatenate([e[1] for e in exact])
            dist = np.concatenate([e[2] for e in exact])
            order = np.argsort(local, kind="stable")
            return chunk[local[order]], rte[order], dist[order]

        if len(estates) > _POINT_CHUNK:
            # Estates in space-filling-curve order, so each piece covers a small area.
            eb = self._estate_bounds[estates]
            estates = estates[np.argsort(_morton((eb[:, 0] + eb[:, 2]) / 2, (eb[:, 1] + eb[:, 3]) / 2), kind="stable")]
        workers = settings.coverage_workers or os.cpu_count() or 1
        if workers > 1 and len(estates) >= 2 * _CHUNK:
            chunks = np.array_split(estates, -(-len(estates) // _CHUNK))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(work, chunks))
        else:
            results = [work(estates)]
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
        tree, seg, seg_route = self._segment_index()
        b = box[which]
        xy = shapely.get_coordinates(self.estate_geoms[chunk[which]])
        parts_l, parts_r, parts_d = [], [], []
        if tree is not None:
            li, si = tree.query(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
            r = seg_route[si]
            keep = ~self._dirty[r]
            li, si, r = li[keep], si[keep], r[keep]
            parts_l.append(li)
            parts_r.append(r)
            parts_d.append(_segment_distance(xy[li, 0], xy[li, 1], seg[si]))
        dirty = np.flatnonzero(self._dirty & self.route_alive)
        if len(dirty):
            # Edited routes: the same formula on their segments, so an edit gives exactly a full recompute's numbers.
            dseg, droute = _explode(self.route_geoms, dirty)
            lo, hi = np.minimum(dseg[:, :2], dseg[:, 2:]), np.maximum(dseg[:, :2], dseg[:, 2:])
            hit = (b[:, None, 0] <= hi[None, :, 0]) & (b[:, None, 2] >= lo[None, :, 0]) & (b[:, None, 1] <= hi[None, :, 1]) & (b[:, None, 3] >= lo[None, :, 1])
            li, sj = np.nonzero(hit)
            parts_l.append(li)
            parts_r.append(droute[sj])
            parts_d.append(_segment_distance(xy[li, 0], xy[li, 1], dseg[sj]))
        li, r, dist = np.concatenate(parts_l), np.concatenate(parts_r), np.concatenate(parts_d)
        keep = dist <= reach
        li, r, dist = li[keep], r[keep], dist[keep]
        if not len(li):
            return _EMPTY_PAIRS
        n_routes = len(self.route_ids)
        key = li.astype(np.int64) * n_routes + r
        order = np.argsort(key.astype(np.int32) if len(which) * n_routes < 2**31 else key)
        key, dist = key[order], dist[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        dmin = np.minimum.reduceat(dist, starts)
        key = key[starts]
        return which[key // len(self.route_ids)], key % len(self.route_ids), dmin

    def _active_routes(self) -> np.ndarray:
        allowed = np.isin(self.route_shifts, _SHIFT_ROUTES[self.shift])
        return allowed & self.route_alive

    def _team_min(self, est, rte, dist):
        """Minimum distance per (estate, team) over active routes.

        Returns
        -------
        tuple of arrays
            ``est, team, route, dist`` per (estate, team), sorted by estate then
            team id; ``route`` is the team's nearest route (first of equals).
        """
        keep = self._active_routes()[rte]
        est, rte, dist = est[keep], rte[keep], dist[keep]
        n_teams = max(len(self._team_ids), 1)
        rank = self._rank()
        if not len(est):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy(), np.zeros(0)
        # One integer key per (estate, team id rank): a single stable sort groups the pairs.
        key = est * n_teams + rank[self.route_team[rte]]
        order = np.argsort(key, kind="stable")
        key, rte, dist = key[order], rte[order], dist[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        gmin = np.minimum.reduceat(dist, starts)
        first = _first_equal(dist, gmin, starts)
        by_rank = np.empty(n_teams, dtype=np.int64)
        by_rank[rank] = np.arange(len(rank))
        gkey = key[starts]
        return gkey // n_teams, by_rank[gkey % n_teams], rte[first], gmin

    def _summarise(self, estates: np.ndarray, est, team, dist) -> _Summary:
        """Summary of ``estates`` (sorted unique indices) from their (estate, team) minima sorted by estate."""
        n = len(estates)
        local = np.searchsorted(estates, est)
        covers = dist <= self.estate_cover_m[est] + self.tolerance_m
        nearby_count = np.bincount(local, minlength=n)
        covering_count = np.bincount(local[covers], minlength=n)
        nearest_team = np.full(n, -1, dtype=np.int64)
        nearest_dist = np.full(n, np.nan)
        if len(local):
            # nearest team: smallest distance, ties to the smallest team id (rows are in team id order)
            starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
            emin = np.minimum.reduceat(dist, starts)
            first = _first_equal(dist, emin, starts)
            nearest_team[local[starts]] = team[first]
            nearest_dist[local[starts]] = emin
        if self.strict:
            covered = (nearby_count > 0) & (covering_count == nearby_count)
        else:
            covered = covering_count > 0
        status = np.where(covered, _COVERED, np.where(nearby_count > 0, _COVERABLE, _GAP))
        return _Summary(status, nearby_count, covering_count, nearest_team, nearest_dist)

    # --- solving and editing ------------------------------------------------

    def solve(self) -> CoverageModel:
        """Compute every estate's coverage from scratch; return self."""
        every = np.arange(len(self.estate_ids), dtype=np.int64)
        est, rte, dist = self._query(every)
        self._base = (est, rte, dist)
        self._patches = {}
        e2, t2, r2, d2 = self._team_min(est, rte, dist)
        self._team_cache = (e2, t2, r2, d2)  # table() reuses it until the next edit
        self._summary = self._summarise(every, e2, t2, d2)
        return self

    def _team_pairs(self):
        """:meth:`_team_min` of every pair, from the solve's cache while no route was edited."""
        if self._team_cache is not None and not self._patches:
            return self._team_cache
        return self._team_min(*self._all_pairs())

    def _ensure_solved(self) -> None:
        if self._summary is None:
            self.solve()

    def update_route(self, route_id, geometry, *, team_id=None, shift: str | None = None, crs=None) -> np.ndarray:
        """Change, add or delete one route and recompute only the estates it can affect.

        The estates recomputed are those within the radius of the route's old
        or new geometry; their pairs are queried again against every route, so
        the answer equals a full recompute exactly.

        Parameters
        ----------
        route_id
            Id of the route; a new id adds a route (then ``team_id`` is required).
        geometry
            New line geometry in ``crs`` (default: the CRS the model was built
            from), or None to delete the route.
        team_id
            Team of a new route, or a new team for an existing one.
        shift
            Shift of a new route (default ``all``), or a new shift (ignored
            when the route is deleted).
        crs
            CRS of ``geometry``; default :attr:`input_crs`.

        Returns
        -------
        numpy.ndarray
            Positions of the estates that were recomputed.
        """
        self._ensure_solved()
        self._team_cache = None
        key = str(route_id)
        idx = self._route_index.get(key)
        if idx is None and geometry is None:
            msg = f"route {key!r} does not exist, so it cannot be deleted"
            raise KeyError(msg)
        if idx is None and team_id is None:
            msg = f"route {key!r} is new: give its team_id"
            raise ValueError(msg)
        new_geom = None
        if geometry is not None:
            new_geom = self._project(geometry, crs)
            # The one check of the shift: the given one, else the route's own, else "all" for a new route.
            effective = shift if shift is not None else ("all" if idx is None else self.route_shifts[idx])
            _check_routes(np.array([key], dtype=object), np.array([new_geom], dtype=object), np.array([effective], dtype=object))
        # A 1 m margin makes the set a superset of every estate whose pairs can change;
        # recomputing a few more estates never changes their answer.
        reach = self.radius_m + self.tolerance_m + 1.0
        touched = [np.zeros(0, dtype=np.int64)]
        if idx is not None and self.route_alive[idx]:
            touched.append(self._estate_tree.query(self.route_geoms[idx], predicate="dwithin", distance=reach))
        if new_geom is not None:
            touched.append(self._estate_tree.query(new_geom, predicate="dwithin", distance=reach))
        affected = np.unique(np.concatenate(touched)).astype(np.int64)

        if idx is None:
            idx = len(self.route_ids)
            self.route_ids = np.append(self.route_ids, np.array([key], dtype=object))
            self.route_geoms = np.append(self.route_geoms, np.array([new_geom], dtype=object))
            self.route_team = np.append(self.route_team, self._team(team_id))
            self.route_shifts = np.append(self.route_shifts, np.array([shift or "all"], dtype=object))
            self.route_alive = np.append(self.route_alive, True)
            self._dirty = np.append(self._dirty, True)
            self._route_index[key] = idx
        else:
            if team_id is not None:
                self.route_team[idx] = self._team(team_id)
            if shift is not None and new_geom is not None:  # a deleted route keeps its last shift
                self.route_shifts[idx] = shift
            self.route_geoms[idx] = new_geom
            self.route_alive[idx] = new_geom is not None
            self._dirty[idx] = True
        if self._dirty.sum() > _REBUILD_AFTER:
            self._build_route_tree()

        est, rte, dist = self._query(affected)
        bounds = np.searchsorted(est, affected, side="left"), np.searchsorted(est, affected, side="right")
        for e, lo, hi in zip(affected.tolist(), bounds[0].tolist(), bounds[1].tolist(), strict=True):
            self._patches[e] = (rte[lo:hi], dist[lo:hi])
        e2, t2, _, d2 = self._team_min(est, rte, dist)
        part = self._summarise(affected, e2, t2, d2)
        s = self._summary
        for name in ("status", "nearby_count", "covering_count", "nearest_team", "nearest_distance_m"):
            getattr(s, name)[affected] = getattr(part, name)
        return affected

    def _project(self, geometry, crs) -> shapely.Geometry:
        src = pyproj.CRS.from_user_input(crs) if crs is not None else self.input_crs
        if src.equals(self.crs):
            return geometry
        return gpd.GeoSeries([geometry], crs=src).to_crs(self.crs).values[0]

    # --- results ------------------------------------------------------------

    def _all_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._ensure_solved()
        est, rte, dist = self._base
        if self._patches:
            keys = np.fromiter(self._patches, dtype=np.int64, count=len(self._patches))
            keep = ~np.isin(est, keys)
            parts_e = [est[keep]] + [np.full(len(v[0]), k, dtype=np.int64) for k, v in self._patches.items()]
            parts_r = [rte[keep]] + [v[0] for v in self._patches.values()]
            parts_d = [dist[keep]] + [v[1] for v in self._patches.values()]
            est, rte, dist = np.concatenate(parts_e), np.concatenate(parts_r), np.concatenate(parts_d)
        return est, rte, dist

    def summary_arrays(self) -> dict[str, np.ndarray]:
        """Per-estate result arrays (positions as in :attr:`estate_ids`).

        Returns
        -------
        dict
            ``status`` (codes into :data:`STATUSES`), ``nearby_count``,
            ``covering_count``, ``nearest_team`` (code into :attr:`team_ids`,
            -1 for none) and ``nearest_distance_m`` (NaN for none).
        """
        self._ensure_solved()
        s = self._summary
        return {k: getattr(s, k).copy() for k in ("status", "nearby_count", "covering_count", "nearest_team", "nearest_distance_m")}

    def pairs(self) -> pd.DataFrame:
        """Every nearby (estate, team) pair of the active routes.

        Returns
        -------
        pandas.DataFrame
            ``estate_id``, ``team_id``, ``route_id`` (the team's nearest route),
            ``distance_m`` (planar metres in :attr:`crs`), ``cover_m``,
            ``covers`` and ``obligation`` (nearby, not covering, and the estate
            is ``coverable`` in this model's mode), plus the positions
            ``estate_index`` and ``route_index``. Sorted by estate, then team id.
        """
        est, rte, dist = self._all_pairs()
        est, rte, dist = (a.copy() for a in (est, rte, dist))
        e2, t2, r2, d2 = self._team_min(est, rte, dist)
        cover = self.estate_cover_m[e2]
        covers = d2 <= cover + self.tolerance_m
        status = self._summary.status[e2]
        return pd.DataFrame(
            {
                "estate_id": self.estate_ids[e2],
                "team_id": np.asarray(self._team_ids, dtype=object)[t2] if len(t2) else np.zeros(0, dtype=object),
                "route_id": self.route_ids[r2],
                "distance_m": d2,
                "cover_m": cover,
                "covers": covers,
                "obligation": ~covers & (status == _COVERABLE),
                "estate_index": e2,
                "route_index": r2,
            }
        )

    def table(self) -> pd.DataFrame:
        """One row per estate with its status and teams.

        Returns
        -------
        pandas.DataFrame
            ``estate_id``, ``status``, ``covering_count`` (2+ is cross-patrol),
            ``nearby_count``, ``obligations_count``, ``nearest_team_id``,
            ``nearest_distance_m`` (metres; NaN when no team is within the
            radius), ``covering_team_ids`` and ``nearby_team_ids`` (ids joined
            with ``;`` in team id order), in the order of :attr:`estate_ids`.
        """
        s = self._summary if self._summary is not None else self.solve()._summary
        e2, t2, _, d2 = self._team_pairs()
        covers = d2 <= self.estate_cover_m[e2] + self.tolerance_m
        joined = {
            "nearby_team_ids": _join_groups(e2, t2, self._team_ids, len(self.estate_ids)),
            "covering_team_ids": _join_groups(e2[covers], t2[covers], self._team_ids, len(self.estate_ids)),
        }
        names = np.asarray([*self._team_ids, ""], dtype=object)
        nearest = names[np.where(s.nearest_team >= 0, s.nearest_team, len(self._team_ids))]
        return pd.DataFrame(
            {
                "estate_id": self.estate_ids,
                "status": np.asarray(STATUSES, dtype=object)[s.status],
                "covering_count": s.covering_count.astype(np.int64),
                "nearby_count": s.nearby_count.astype(np.int64),
                "obligations_count": (s.nearby_count - s.covering_count).astype(np.int64) * (s.status == _COVERABLE),
                "nearest_team_id": nearest,
                "nearest_distance_m": s.nearest_distance_m,
                "covering_team_ids": joined["covering_team_ids"],
                "nearby_team_ids": joined["nearby_team_ids"],
            }
        )


# --- checks ---------------------------------------------------------------------


def _check_estates(ids: np.ndarray, geoms: np.ndarray) -> None:
    problems = []
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms)):
        problems.append(f"estate {ids[i]}: has no geometry; give it an address point or a footprint polygon")
    for i in np.flatnonzero(~np.isin(types, (-1, 0, 3, 6)) & ~shapely.is_empty(geoms)):
        problems.append(f"estate {ids[i]}: geometry is a {geoms[i].geom_type}, not a point or polygon")
    if problems:
        msg = f"{len(problems)} estate{'s' if len(problems) != 1 else ''} cannot be measured"
        raise SchemaError(msg, problems)


def _check_routes(ids: np.ndarray, geoms: np.ndarray, shifts: np.ndarray) -> None:
    problems = []
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    lengths = np.where(empty, 0.0, shapely.length(geoms))
    for i in range(len(ids)):
        if empty[i]:
            problems.append(f"route {ids[i]}: has no geometry; draw the route as a line or delete it")
        elif types[i] not in (1, 5):
            problems.append(f"route {ids[i]}: geometry is a {geoms[i].geom_type}; routes are LineString or MultiLineString")
        elif not lengths[i] > 0:
            problems.append(f"route {ids[i]}: the line has zero length; give it at least two different points")
        if shifts[i] not in SHIFTS:
            problems.append(f"route {ids[i]}, field 'shift': {shifts[i]!r} is not one of {', '.join(SHIFTS)}")
    if problems:
        msg = f"{len(problems)} route problem{'s' if len(problems) != 1 else ''}: the coverage cannot be measured"
        raise SchemaError(msg, problems)


def _check_frames(estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame) -> None:
    for what, gdf, col in (("estates", estates, "estate_id"), ("routes", routes, "route_id")):
        if not isinstance(gdf, gpd.GeoDataFrame):
            msg = f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}"
            raise TypeError(msg)
        if gdf.crs is None:
            msg = f"{what} have no CRS: read them with geo.io.read_{what} (WGS-84) or set the CRS the coordinates are in"
            raise CRSError(msg)
        if col not in gdf.columns:
            msg = f"{what}: column '{col}' is missing"
            raise SchemaError(msg, [f"{what}: add a '{col}' column with one id per feature"])
    if "team_id" not in routes.columns:
        raise SchemaError("routes: column 'team_id' is missing", ["routes: add a 'team_id' column naming each route's team"])
    if not estates.crs.equals(routes.crs):
        msg = (
            f"estates are in {estates.crs.to_string()} but routes in {routes.crs.to_string()}: the engine measures only inputs "
            "in one CRS; read both with geo.io (which converts GCJ-02/BD-09 to WGS-84) and try again"
        )
        raise CRSError(msg)
