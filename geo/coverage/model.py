"""The 1-km rule: which estates are covered, coverable or a gap, and by which teams.

Definitions (see the README section "The 1-km rule, made exact"):

* ``distance(team, estate)`` is the smallest planar distance, in metres of a
  metric CRS (EPSG:4545 for Shahe), between any of the team's active routes
  and the estate's geometry (address point or footprint polygon). Where the
  CRS's scale factor k departs from 1 by more than
  :data:`geo.settings.scale_correction_from` among the estates (data wider
  than one zone), it is divided by k at the estate: the distance on the ground.
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

import copy
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._gc import collector_paused
from geo.coverage.checks import check_estates, check_frames, check_routes
from geo.coverage.estate_index import EstateIndex, build_estate_index, choose_metric_crs
from geo.coverage.kernels import join_groups
from geo.coverage.pairs import PairQueries, Summary
from geo.coverage.rule import COVERABLE, STATUSES, Rule, as_rule, check_shift, patrols_in

#: Rebuild the route tree after this many edited routes (the answer never depends on it).
_REBUILD_AFTER = 256

#: (Estate, team) rows from which a table joins its two lists of team ids in two threads.
_JOIN_APART_FROM = 100_000


class CoverageModel(PairQueries):
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
    estate_index
        The estates' :class:`~geo.coverage.estate_index.EstateIndex` when it
        was made ahead: taken when it holds ``estate_geoms`` themselves in
        ``crs``, else built here.
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
        estate_index: EstateIndex | None = None,
    ):
        self.crs = _crs.require_metric(crs, what="geometries given to the coverage engine")
        self.input_crs = pyproj.CRS.from_user_input(input_crs) if input_crs is not None else self.crs
        self.radius_m = float(settings.rule_radius_m if radius_m is None else radius_m)
        self.tolerance_m = float(settings.distance_tolerance_m)
        self.shift = check_shift(shift)
        self.strict = bool(strict)

        self.estate_ids = np.asarray(estate_ids, dtype=object)
        self.estate_geoms = np.asarray(estate_geoms, dtype=object)
        n = len(self.estate_ids)
        if len(self.estate_geoms) != n:
            msg = f"{n} estate ids but {len(self.estate_geoms)} estate geometries"
            raise ValueError(msg)
        check_estates(self.estate_ids, self.estate_geoms)
        self.estate_cover_m = self._cover_array(cover_m)
        if estate_index is None or estate_index.geoms is not self.estate_geoms or estate_index.crs != self.crs:
            estate_index = build_estate_index(self.estate_geoms, self.crs)
        self._estate_index = estate_index
        self._estate_bounds = estate_index.bounds
        # k of the CRS at each estate where it stretches distances by more than settings.scale_correction_from
        self.estate_scale = estate_index.scale

        route_ids = np.asarray(route_ids, dtype=object)
        route_geoms = np.asarray(route_geoms, dtype=object)
        route_team_ids = np.asarray(route_team_ids, dtype=object)
        if route_shifts is None:
            route_shifts = np.full(len(route_ids), "all", dtype=object)
        route_shifts = np.asarray(route_shifts, dtype=object)
        if not (len(route_ids) == len(route_geoms) == len(route_team_ids) == len(route_shifts)):
            msg = "route ids, geometries, team ids and shifts differ in length"
            raise ValueError(msg)
        check_routes(route_ids, route_geoms, route_shifts)

        # team codes in order of first appearance, as _team gives them one by one after an edit
        team_codes, teams = pd.factorize(pd.Series(route_team_ids, dtype=object).astype(str).to_numpy(dtype=object))
        self._team_ids: list[str] = list(teams)
        self._team_code: dict[str, int] = {t: i for i, t in enumerate(self._team_ids)}
        self._team_rank: np.ndarray | None = None
        self.route_ids = route_ids.copy()
        self._route_index = {str(r): i for i, r in enumerate(self.route_ids)}
        self.route_geoms = route_geoms.copy()
        self.route_team = team_codes.astype(np.int64)
        self.route_shifts = route_shifts.copy()
        self.route_alive = np.ones(len(self.route_ids), dtype=bool)
        self._build_route_tree()

        #: Estate and team attributes for tables (set by from_geodataframes).
        self.estate_attrs: pd.DataFrame | None = None
        self.team_attrs: pd.DataFrame | None = None
        self._summary: Summary | None = None
        # est, route, dist (all routes): the solve's pieces, joined into one tuple on first use (see _all_pairs)
        self._base: list | tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._patches: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._team_cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- construction -----------------------------------------------------

    @classmethod
    def from_geodataframes(
        cls,
        estates: gpd.GeoDataFrame,
        routes: gpd.GeoDataFrame,
        *,
        rule: Rule | None = None,
        radius_m: float | None = None,
        cover_m: float | None = None,
        shift: str | None = None,
        strict: bool = False,
        metric_crs=None,
        estate_index: EstateIndex | None = None,
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
        rule
            The question (:class:`geo.coverage.rule.Rule`).
        radius_m, cover_m, shift, strict
            The same as separate arguments (see :class:`CoverageModel`), instead of ``rule``.
        metric_crs
            CRS to measure in; default chosen from the data's bounds
            (EPSG:4545 for Shahe; :func:`~geo.coverage.estate_index.choose_metric_crs`).
        estate_index
            The estates' index made ahead by
            :func:`~geo.coverage.estate_index.prepare_estates`: used when it
            was made from these estates in the metric CRS chosen here
            (else the estates are projected and indexed here).

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
        rule = as_rule(rule, radius_m=radius_m, cover_m=cover_m, strict=strict, shift=shift)
        check_frames(estates, routes)
        if metric_crs is None:
            metric_crs = choose_metric_crs(estates, routes)  # a projected CRS is kept, and refused just below if not metric
        metric_crs = _crs.require_metric(metric_crs, what="the metric CRS")
        if estate_index is not None and not estate_index.made_from(estates, metric_crs):
            estate_index = None  # made for other estates, or in another CRS than both layers need
        with collector_paused():  # a projected copy of every geometry (geo._gc)
            est_m = estate_index.geoms if estate_index is not None else estates.geometry.to_crs(metric_crs).values
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
            radius_m=rule.radius_m,
            cover_m=rule.cover_m,
            shift=rule.shift,
            strict=rule.strict,
            input_crs=estates.crs,
            estate_index=estate_index,
        )
        model.estate_attrs = pd.DataFrame(estates.drop(columns=estates.geometry.name)).reset_index(drop=True)
        keep = [c for c in ("team_id", "team", "org_type") if c in routes.columns]
        model.team_attrs = pd.DataFrame(routes[keep]).astype(str).drop_duplicates("team_id").set_index("team_id")
        return model

    @property
    def _estate_tree(self) -> shapely.STRtree:
        """The estates' tree (built on the first edit, see :attr:`EstateIndex.tree`)."""
        return self._estate_index.tree

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

    def team_code(self, team_id) -> int:
        """The code of a team id in :attr:`team_ids`."""
        return self._team_code[team_id]

    def active_routes(self) -> np.ndarray:
        """Boolean mask of the routes that count: present (not deleted) and patrolling in the model's shift."""
        return patrols_in(self.route_shifts, self.shift) & self.route_alive

    # --- solving and editing ------------------------------------------------

    def solve(self) -> CoverageModel:
        """Compute every estate's coverage from scratch; return self."""
        every = np.arange(len(self.estate_ids), dtype=np.int64)
        with collector_paused():  # the query makes a box per estate and arrays of pairs, none with cycles (geo._gc)
            self._base, (e2, t2, r2, d2) = self._solve_pairs(every)  # the pairs in no particular order (see _all_pairs)
        self._patches = {}
        self._team_cache = (e2, t2, r2, d2)  # table() reuses it until the next edit
        self._summary = self._summarise(every, e2, t2, d2)
        return self

    def _team_pairs(self):
        """:meth:`_team_min` of every pair, from the solve's cache while no route was edited."""
        if self._team_cache is not None and not self._patches:
            return self._team_cache
        return self._team_min(*self._all_pairs())

    def with_reading(self, *, strict: bool) -> CoverageModel:
        """This model under the default (``strict=False``) or the strict reading, without measuring again.

        The readings differ only in how the (estate, team) distances are
        summed up, so the new model takes this one's measured pairs and only
        summarises them. Edits made afterwards to either model do not reach
        the other.

        Parameters
        ----------
        strict
            The reading of the new model.

        Returns
        -------
        CoverageModel
            A solved model (``self`` when it already has that reading).
        """
        strict = bool(strict)
        if strict == self.strict:
            return self
        self._ensure_solved()
        other = copy.copy(self)
        other.strict = strict
        # The edit state is copied, so an edit to one model leaves the other as it is.
        for name in ("route_ids", "route_geoms", "route_team", "route_shifts", "route_alive", "_dirty"):
            setattr(other, name, getattr(self, name).copy())
        other._team_ids = list(self._team_ids)
        other._team_code = dict(self._team_code)
        other._route_index = dict(self._route_index)
        other._patches = dict(self._patches)
        # The counts and the nearest team do not depend on the reading (and self's summary is kept current by
        # update_route): only the statuses are new.
        s = self._summary
        other._summary = Summary(other._statuses(s.nearby_count, s.covering_count), s.nearby_count.copy(), s.covering_count.copy(),
                                 s.nearest_team.copy(), s.nearest_distance_m.copy())
        return other

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
            check_routes(np.array([key], dtype=object), np.array([new_geom], dtype=object), np.array([effective], dtype=object))
        # A 1 m margin makes the set a superset of every estate whose pairs can change;
        # recomputing a few more estates never changes their answer.
        reach = (self.radius_m + self.tolerance_m) * self._max_scale() + 1.0
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
        if isinstance(self._base, list):  # a report never needs the pairs joined; an edit does, once
            self._base = tuple(np.concatenate([p[k] for p in self._base]) for k in range(3))
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

    def pairs(self, *, obligations_only: bool = False) -> pd.DataFrame:
        """Every nearby (estate, team) pair of the active routes.

        Parameters
        ----------
        obligations_only
            Only the pairs with an obligation (the rows an extension plan
            needs; the table is then built for those rows alone).

        Returns
        -------
        pandas.DataFrame
            ``estate_id``, ``team_id``, ``route_id`` (the team's nearest route),
            ``distance_m`` (metres in :attr:`crs`, divided by the scale factor
            at the estate where :attr:`estate_scale` is set), ``cover_m``,
            ``covers`` and ``obligation`` (nearby, not covering, and the estate
            is ``coverable`` in this model's mode), plus the positions
            ``estate_index`` and ``route_index``. Sorted by estate, then team id.
        """
        self._ensure_solved()
        e2, t2, r2, d2 = self._team_pairs()  # the solve's per-(estate, team) minimum while no route was edited
        cover = self.estate_cover_m[e2]
        covers = d2 <= cover + self.tolerance_m
        status = self._summary.status[e2]
        if obligations_only:
            keep = ~covers & (status == COVERABLE)
            e2, t2, r2, d2, cover, covers, status = (a[keep] for a in (e2, t2, r2, d2, cover, covers, status))
        else:  # the solve's cache: the frame gets its own arrays, so a change to it never reaches the model
            e2, r2, d2 = e2.copy(), r2.copy(), d2.copy()
        return pd.DataFrame(
            {
                "estate_id": self.estate_ids[e2],
                "team_id": np.asarray(self._team_ids, dtype=object)[t2] if len(t2) else np.zeros(0, dtype=object),
                "route_id": self.route_ids[r2],
                "distance_m": d2,
                "cover_m": cover,
                "covers": covers,
                "obligation": ~covers & (status == COVERABLE),
                "estate_index": e2,
                "route_index": r2,
            },
            copy=False,  # the frame holds the arrays made here; no copy into blocks (2.4 M rows at province size)
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
        groups = {"nearby_team_ids": (e2, t2), "covering_team_ids": (e2[covers], t2[covers])}

        def join(name: str) -> np.ndarray:
            return join_groups(*groups[name], self._team_ids, len(self.estate_ids))

        if settings.coverage_threads() > 1 and len(e2) >= _JOIN_APART_FROM:  # Arrow joins without the GIL: both lists at once
            with ThreadPoolExecutor(max_workers=2) as pool:
                joined = dict(zip(groups, pool.map(join, groups), strict=True))
        else:
            joined = {name: join(name) for name in groups}
        names = np.asarray([*self._team_ids, ""], dtype=object)
        nearest = names[np.where(s.nearest_team >= 0, s.nearest_team, len(self._team_ids))]
        return pd.DataFrame(
            {
                "estate_id": self.estate_ids.copy(),  # the frame's own arrays (copy=False below): a change to it never reaches the model
                "status": np.asarray(STATUSES, dtype=object)[s.status],
                "covering_count": s.covering_count.astype(np.int64),
                "nearby_count": s.nearby_count.astype(np.int64),
                "obligations_count": (s.nearby_count - s.covering_count).astype(np.int64) * (s.status == COVERABLE),
                "nearest_team_id": nearest,
                "nearest_distance_m": s.nearest_distance_m.copy(),
                "covering_team_ids": joined["covering_team_ids"],
                "nearby_team_ids": joined["nearby_team_ids"],
            },
            copy=False,  # no copy into blocks
        )


def solved_model(
    estates: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    *,
    rule: Rule | None = None,
    model: CoverageModel | None = None,
    estate_index: EstateIndex | None = None,
) -> CoverageModel:
    """The solved model of a report: ``model`` when given (solved if it is not yet), else one built from the frames under ``rule``.

    Parameters
    ----------
    estates, routes
        GeoDataFrames in one CRS (unused when ``model`` is given).
    rule
        The question (default :class:`Rule` ``()``: the settings' defaults).
    model
        A model to reuse.
    estate_index
        The estates' index made ahead (see :meth:`CoverageModel.from_geodataframes`).
    """
    if model is None:
        if estates is None or routes is None:
            msg = "give the estates and routes, or a model"
            raise ValueError(msg)
        model = CoverageModel.from_geodataframes(estates, routes, rule=rule or Rule(), estate_index=estate_index)
    model._ensure_solved()
    return model
