"""Route extensions the 1-km rule asks for, and what they cost.

For every **obligation** (a team nearby an estate whose routes do not cover
it, at an estate that is ``coverable`` in the chosen mode; see
:mod:`geo.coverage`), the proposal is the shortest detour that makes the team
cover the estate:

* the **connector** runs from the nearest point of the team's nearest route
  to the estate (:func:`shapely.shortest_line`); with a road network it runs
  along the roads instead (the route's nearest point and the estate are
  snapped to the nearest road, and the snap legs are counted);
* ``connector_m`` is the connector's length in metres;
* the patrol must get within the cover distance of the estate and come back
  to its route, so ``extension_m = 2 * max(0, connector_m - cover_m)``
  (there and back). Along a network this treats the last ``cover_m`` metres of
  the road path as not needed, which is exact for a straight connector and a
  close approximation on roads;
* ``extension_measure`` says which measure was used: ``straight`` or
  ``network`` (``straight`` also when the two ends are not joined by roads).

Per estate the proposals are ranked by ``extension_m`` (then team id) and the
cheapest one is ``recommended``.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import io, settings
from geo.coverage.kernels import first_least, text_ranks
from geo.coverage.model import CoverageModel, solved_model
from geo.coverage.rule import Rule, as_rule
from geo.errors import CRSError, SchemaError
from geo.roadends import join_ends, node_ids
from geo.schemas import ROADS

__all__ = ["RoadNetwork", "connectors", "extension_proposals", "extension_totals", "network_for", "read_network"]

_COLUMNS = [
    "estate_id",
    "team_id",
    "route_id",
    "distance_m",
    "cover_m",
    "connector_m",
    "extension_m",
    "extension_measure",
    "rank",
    "recommended",
]


class RoadNetwork:
    """A road network as a weighted graph in a metric CRS.

    Lines are noded where they cross, split into straight segments, and their
    end points merged when they agree to 1 cm. A road end that stops within
    ``join_m`` metres (inclusive) of another road is joined to it: snapped onto
    that road's nearest point, which becomes a node (:func:`geo.roadends.join_ends`).
    Build it with :func:`read_network`.

    Parameters
    ----------
    lines
        Shapely LineStrings / MultiLineStrings in ``crs`` (metres).
    crs
        Metric CRS of ``lines``.
    join_m
        Tolerance of the joins, metres (default :data:`geo.settings.road_join_m`);
        0 joins nothing. :attr:`ends_joined` counts the ends joined.

    Shortest-path trees are kept per source node (the last
    :attr:`tree_cache_size` of them), so obligations whose connectors start on
    the same road segment share one Dijkstra run.
    """

    tree_cache_size = 256

    def __init__(self, lines, *, crs, join_m: float | None = None):
        from geo.crs import require_metric

        self.crs = require_metric(crs, what="road network lines")
        lines = np.asarray(lines, dtype=object)
        lines = lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))]
        if not len(lines):
            msg = "the road network has no lines"
            raise SchemaError(msg, ["give a GeoJSON of LineString/MultiLineString road centrelines"])
        noded = shapely.node(shapely.union_all(lines))
        parts = shapely.get_parts(noded)
        coords, index = shapely.get_coordinates(parts, return_index=True)
        same = index[1:] == index[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        keep = np.any(a != b, axis=1)
        join_m = float(settings.road_join_m if join_m is None else join_m)
        a, b, self.ends_joined = join_ends(a[keep], b[keep], join_m=join_m)
        self.join_m = join_m
        self.seg_u, self.seg_v, self.node_xy = node_ids(a, b)
        self.seg_a, self.seg_b, self.seg_len = a, b, np.hypot(*(b - a).T)
        self.segments = shapely.linestrings(np.stack([a, b], axis=1))
        self.tree = shapely.STRtree(self.segments)
        self._graph = None
        self._csr = None
        self._trees: OrderedDict[int, tuple[dict, dict]] = OrderedDict()
        self._trees_lock = threading.Lock()

    def _tree(self, source: int) -> tuple[dict, dict]:
        """Distances and paths from node ``source`` to every reachable node (memoised)."""
        with self._trees_lock:
            found = self._trees.get(source)
            if found is not None:
                self._trees.move_to_end(source)
                return found
        import networkx as nx

        found = nx.single_source_dijkstra(self.graph, source, weight="weight")
        with self._trees_lock:
            self._trees[source] = found
            while len(self._trees) > self.tree_cache_size:
                self._trees.popitem(last=False)
        return found

    def _snap(self, point: shapely.Point) -> tuple[int, float, np.ndarray]:
        seg = int(self.tree.query_nearest(point)[0])
        along = float(shapely.line_locate_point(self.segments[seg], point))
        xy = np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(self.segments[seg], along))[0])
        return seg, along, xy

    def path(self, start: shapely.Point, end: shapely.Point) -> tuple[float, shapely.LineString] | None:
        """Shortest path from ``start`` to ``end`` along the roads.

        Both points are snapped to their nearest road segment; the straight
        snap legs are part of the path and its length.

        Returns
        -------
        tuple or None
            ``(length_m, line)`` in :attr:`crs`, or None when the two snapped
            points lie on parts of the network that are not connected.
        """
        s0, a0, p0 = self._snap(start)
        s1, a1, p1 = self._snap(end)
        sxy = np.asarray(shapely.get_coordinates(start)[0])
        exy = np.asarray(shapely.get_coordinates(end)[0])
        legs = float(np.hypot(*(p0 - sxy)) + np.hypot(*(exy - p1)))
        best: tuple[float, list] | None = None
        if s0 == s1:
            best = (abs(a1 - a0), [])
        ends0 = ((self.seg_u[s0], a0), (self.seg_v[s0], self.seg_len[s0] - a0))
        ends1 = ((self.seg_u[s1], a1), (self.seg_v[s1], self.seg_len[s1] - a1))
        for n0, d0 in ends0:
            dist, paths = self._tree(int(n0))
            for n1, d1 in ends1:
                if int(n1) in dist:
                    total = d0 + dist[int(n1)] + d1
                    if best is None or total < best[0]:
                        best = (total, paths[int(n1)])
        if best is None:
            return None
        nodes = self.node_xy[np.asarray(best[1], dtype=np.int64)] if best[1] else np.zeros((0, 2))
        pts = np.vstack([sxy, p0, nodes, p1, exy])
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1)
        pts = pts[keep]
        if len(pts) < 2:
            pts = np.vstack([sxy, exy])
        return legs + best[0], shapely.LineString(pts)

    @property
    def graph(self):
        """The network as a :class:`networkx.Graph` (built on first use: only :meth:`path` needs it)."""
        if self._graph is None:
            import networkx as nx  # only single paths need it: not imported by every command

            g = nx.Graph()
            g.add_weighted_edges_from(zip(self.seg_u.tolist(), self.seg_v.tolist(), self.seg_len.tolist(), strict=True))
            self._graph = g
        return self._graph

    def _matrix(self):
        """Symmetric sparse adjacency matrix of segment lengths (built once)."""
        if self._csr is None:
            import scipy.sparse as sp

            n_nodes = len(self.node_xy)
            w = np.concatenate([self.seg_len, self.seg_len]) + 1e-12
            self._csr = sp.csr_matrix((w, (np.concatenate([self.seg_u, self.seg_v]), np.concatenate([self.seg_v, self.seg_u]))), shape=(n_nodes, n_nodes))
        return self._csr

    def paths(self, starts, ends, *, chunk: int = 64, limit_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`path` for many pairs at once, with one Dijkstra run per distinct end segment.

        The runs are bounded: from a batch of end segments, Dijkstra searches
        only the roads within ``limit_m`` of them (a path no longer than that
        cannot leave that neighbourhood), so the answer is exact for every
        pair whose path is at most ``limit_m`` long; the other pairs are
        searched again over the whole network.

        Parameters
        ----------
        starts, ends
            Arrays of shapely points in :attr:`crs`, one pair per position.
        chunk
            End segments per batch of the shortest-path computation (bounds memory).
        limit_m
            Bound of the first search, metres (default: three times the 98th
            percentile of the straight distances, plus 500 m).

        Returns
        -------
        (length_m, lines)
            Per pair the length in metres and the line (start to end), or NaN and
            None where the two points lie on parts of the network that are not connected.
        """
        starts = np.asarray(starts, dtype=object)
        ends = np.asarray(ends, dtype=object)
        n = len(starts)
        out_len = np.full(n, np.nan)
        out_lines = np.full(n, None, dtype=object)
        if not n:
            return out_len, out_lines
        s_seg, s_along, s_xy = self._snap_many(starts)
        e_seg, e_along, e_xy = self._snap_many(ends)
        sxy = shapely.get_coordinates(starts)
        exy = shapely.get_coordinates(ends)
        legs = np.hypot(*(s_xy - sxy).T) + np.hypot(*(exy - e_xy).T)
        if limit_m is None:
            limit_m = 3.0 * float(np.quantile(np.hypot(*(exy - sxy).T), 0.98)) + 500.0
        best = np.full(n, np.inf)
        nodes_of = np.full(n, None, dtype=object)
        todo = np.arange(n)
        for bound in (float(limit_m), None):
            if not len(todo):
                break
            self._search(todo, bound, chunk, (s_seg, s_along, e_seg, e_along), best, nodes_of)
            if bound is not None:
                todo = todo[~(best[todo] <= bound)]  # beyond the bound: searched again over the whole network
        ok = np.flatnonzero(np.isfinite(best))
        if len(ok):
            walks = [nodes_of[i] if nodes_of[i] is not None else np.zeros(0, dtype=np.int64) for i in ok.tolist()]
            n_mid = np.array([len(w) for w in walks], dtype=np.int64)
            size = n_mid + 4  # start, its snap, the nodes, the end's snap, the end
            first = np.cumsum(size) - size
            pts = np.empty((int(size.sum()), 2))
            pts[first], pts[first + 1] = sxy[ok], s_xy[ok]
            pts[first + size - 2], pts[first + size - 1] = e_xy[ok], exy[ok]
            if n_mid.sum():
                mid = np.repeat(first + 2 - (np.cumsum(n_mid) - n_mid), n_mid) + np.arange(int(n_mid.sum()))
                pts[mid] = self.node_xy[np.concatenate(walks)]
            own = np.repeat(ok, size)
            keep = np.ones(len(pts), dtype=bool)
            keep[1:] = np.any(np.diff(pts, axis=0) != 0, axis=1) | (own[1:] != own[:-1])
            pts, own = pts[keep], own[keep]
            count = np.bincount(own, minlength=n)
            short = np.flatnonzero(count[ok] < 2)
            if len(short):  # start and end coincide: a two-point line of length 0
                extra_i = ok[short]
                pts = np.vstack([pts, exy[extra_i]])
                own = np.concatenate([own, extra_i])
                order = np.argsort(own, kind="stable")
                pts, own = pts[order], own[order]
            out_lines[ok] = shapely.linestrings(pts, indices=np.searchsorted(ok, own))
            out_len[ok] = legs[ok] + best[ok]
        return out_len, out_lines

    def _search(self, todo, bound, chunk, snaps, best, nodes_of) -> None:
        """Shortest paths of the pairs ``todo`` (within ``bound`` metres, or over the whole network for None), in place."""
        from scipy.sparse.csgraph import dijkstra

        s_seg, s_along, e_seg, e_along = snaps
        csr = self._matrix()
        seg_mid = (self.seg_a + self.seg_b) / 2.0
        segs = np.unique(e_seg[todo])
        if bound is not None:  # batches of nearby end segments share a small neighbourhood
            cell = np.floor(seg_mid[segs] / max(bound, 1.0)).astype(np.int64)
            segs = segs[np.lexsort((seg_mid[segs, 1], seg_mid[segs, 0], cell[:, 1], cell[:, 0]))]
        pending = todo[np.argsort(e_seg[todo], kind="stable")]
        pend_seg = e_seg[pending]
        for lo in range(0, len(segs), chunk):
            block = segs[lo : lo + chunk]
            roots = np.concatenate([self.seg_u[block], self.seg_v[block]])
            if bound is not None:
                xy0 = self.node_xy[roots].min(axis=0) - bound
                xy1 = self.node_xy[roots].max(axis=0) + bound
                inside = np.flatnonzero(np.all((self.node_xy >= xy0) & (self.node_xy <= xy1), axis=1))
                local = np.full(len(self.node_xy), -1, dtype=np.int64)
                local[inside] = np.arange(len(inside))
                graph = csr[inside][:, inside]
                dist, pred = dijkstra(graph, directed=False, indices=local[roots], return_predecessors=True, limit=bound)
            else:
                inside = np.arange(len(self.node_xy))
                local = inside
                dist, pred = dijkstra(csr, directed=False, indices=roots, return_predecessors=True)
            sel = np.isin(pend_seg, block)
            idx = pending[sel]
            row_of = np.full(int(block.max()) + 1, -1, dtype=np.int64)
            row_of[block] = np.arange(len(block))
            r = row_of[e_seg[idx]]
            s0, a0, s1, a1 = s_seg[idx], s_along[idx], e_seg[idx], e_along[idx]
            n_block = len(block)
            # The four ways through the road network, in the order of :meth:`path` (first minimum wins), after "same segment".
            cand = np.full((len(idx), 5), np.inf)
            cand[s0 == s1, 0] = np.abs(a1 - a0)[s0 == s1]
            ways = []
            for n0, d0 in ((self.seg_u[s0], a0), (self.seg_v[s0], self.seg_len[s0] - a0)):
                ln0 = local[n0]
                for row, d1 in ((r, a1), (r + n_block, self.seg_len[s1] - a1)):
                    d = np.where(ln0 >= 0, dist[row, np.maximum(ln0, 0)], np.inf)
                    cand[:, len(ways) + 1] = d0 + d + d1
                    ways.append((row, ln0))
            k = np.argmin(cand, axis=1)
            total = cand[np.arange(len(idx)), k]
            better = total < best[idx]
            for j in np.flatnonzero(better).tolist():
                i = int(idx[j])
                best[i] = total[j]
                if k[j] == 0:
                    nodes_of[i] = None
                    continue
                row, ln0 = ways[k[j] - 1]
                rr, node, walk = int(row[j]), int(ln0[j]), []
                while node >= 0:
                    walk.append(node)
                    node = int(pred[rr, node])
                nodes_of[i] = inside[np.asarray(walk, dtype=np.int64)]

    def snap_points(self, points) -> np.ndarray:
        """The nearest point on the roads of each shapely point (in :attr:`crs`), as an (n, 2) array."""
        return self._snap_many(np.asarray(points, dtype=object))[2]

    def _snap_many(self, points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment, distance along it and the snapped point (n, 2) of each point."""
        seg = self.tree.query_nearest(points, all_matches=False)[1]
        along = shapely.line_locate_point(self.segments[seg], points)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(self.segments[seg], along))
        return seg, along, xy


def read_network(network, *, crs) -> RoadNetwork:
    """Read a road network (GeoJSON path or GeoDataFrame of lines) into a :class:`RoadNetwork`.

    Parameters
    ----------
    network
        Path of a GeoJSON/GeoPackage file of road lines (e.g.
        ``data/gazetteer.geojson``), read through :func:`geo.io.read_features`
        with :data:`geo.schemas.ROADS`: a top-level ``"datum": "gcj02"`` (or
        ``bd09``) is honoured and the lines converted to WGS-84. Or a
        GeoDataFrame with a CRS (non-line geometries are ignored).
    crs
        Metric CRS to build the graph in (the coverage model's).

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.
    CRSError
        If a GeoDataFrame has no CRS.
    SchemaError
        If the file's features are not lines or carry mistyped properties, or
        there is no line to build a network from.
    """
    if isinstance(network, (str, os.PathLike)):
        gdf = io.read_features(network, ROADS)  # converts a declared GCJ-02/BD-09 datum to WGS-84
    else:
        gdf = network
        if gdf.crs is None:
            msg = "road network has no CRS: set it (EPSG:4326 for lon/lat)"
            raise CRSError(msg)
    types = gdf.geometry.geom_type
    lines = gdf[types.isin(["LineString", "MultiLineString"])]
    if lines.empty:
        msg = "the road network has no lines"
        raise SchemaError(msg, ["give a GeoJSON of LineString/MultiLineString road centrelines"])
    return RoadNetwork(lines.geometry.to_crs(crs).values, crs=crs)


def extension_proposals(
    estates: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    *,
    rule: Rule | None = None,
    network=None,
    model: CoverageModel | None = None,
    lines: bool = True,
    recommended_only: bool = False,
    **rule_args,
) -> gpd.GeoDataFrame:
    """Propose, for every obligation, the extension that makes the team cover the estate.

    Parameters
    ----------
    estates, routes
        GeoDataFrames in one CRS (ignored when ``model`` is given).
    rule
        The question (:class:`geo.coverage.rule.Rule`; default the settings').
    network
        None for straight connectors, or a road network (path, GeoDataFrame or
        :class:`RoadNetwork` in the model's metric CRS) to measure along.
    model
        A model to reuse (solved if it is not yet).
    lines
        False to leave the connector geometry out (every geometry None), for
        tables that need only the figures: no line is built or reprojected to
        WGS-84 (the slowest steps at scale). Straight connectors then take
        their length from the distance the engine measured (the same figure).
    recommended_only
        True to return only the recommended row of each estate (rank 1), as
        the coverage table needs: the same rows as filtering the whole
        result, without making the others.
    **rule_args
        ``radius_m``, ``cover_m``, ``strict``, ``shift``: the rule as separate
        arguments instead of ``rule`` (kept for callers of earlier versions).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per obligation: ``estate_id``, ``team_id``, ``route_id`` (the
        team's nearest route), ``distance_m`` (straight, metres),
        ``cover_m``, ``connector_m``, ``extension_m`` (there and back:
        ``2 * max(0, connector_m - cover_m)``), ``extension_measure``
        (``straight`` or ``network``), ``rank`` (1 = cheapest for the estate),
        ``recommended`` (rank 1), and the connector line in WGS-84.
    """
    model = solved_model(estates, routes, rule=as_rule(rule, **rule_args), model=model)
    ob, connector, segs, measure, extension = _obligation_figures(model, network, lines)
    if ob.empty:
        kinds = {"distance_m": float, "cover_m": float, "connector_m": float, "extension_m": float, "rank": np.int64, "recommended": bool}
        empty = {c: pd.Series([], dtype=kinds.get(c, object)) for c in _COLUMNS}
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=settings.storage_crs))
    estate_index = ob["estate_index"].to_numpy()
    distance = ob["distance_m"].to_numpy(dtype=float)
    cover = ob["cover_m"].to_numpy()
    team = ob["team_id"].to_numpy(dtype=object)
    # Ranked per estate: cheapest first, then by team id: rank 1 alone from group minima, every rank from one sort.
    # (a team's place among the model's team ids in text order: no text compared per row)
    team_rank = text_ranks(model.team_ids)[model.route_team[ob["route_index"].to_numpy()]]
    if recommended_only and not np.isnan(extension).any() and (np.diff(estate_index) >= 0).all():
        # each estate's first row in that order, by group minima: the pairs come by estate (0.1 s less at province size)
        order = first_least(np.flatnonzero(np.r_[True, estate_index[1:] != estate_index[:-1]]), len(estate_index), extension, team_rank)
        rank = np.ones(len(order), dtype=np.int64)
    else:
        order = np.lexsort((team_rank, extension, estate_index))
        est_sorted = estate_index[order]
        starts = np.flatnonzero(np.r_[True, est_sorted[1:] != est_sorted[:-1]])
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)])) + 1
        if recommended_only:
            order, rank = order[rank == 1], rank[rank == 1]
    out = pd.DataFrame(
        {
            "estate_id": ob["estate_id"].to_numpy(dtype=object)[order],
            "team_id": team[order],
            "route_id": ob["route_id"].to_numpy(dtype=object)[order],
            "distance_m": distance[order],
            "cover_m": cover[order],
            "connector_m": connector[order],
            "extension_m": extension[order],
            "extension_measure": measure[order],
            "rank": rank.astype(np.int64),
            "recommended": rank == 1,
        },
        copy=False,  # the frame holds the arrays made here; no copy into blocks (millions of rows at province size)
    )
    if lines:
        geoms = gpd.GeoSeries(segs[order], crs=model.crs).to_crs(settings.storage_crs).values
    else:
        geoms = gpd.GeoSeries(np.full(len(out), None, dtype=object), crs=settings.storage_crs).values
    return gpd.GeoDataFrame(out, geometry=geoms, crs=settings.storage_crs, copy=False)


def _obligation_figures(model: CoverageModel, network, lines: bool):
    """The obligation pairs of a solved model (:meth:`CoverageModel.pairs`) and, per pair, the connector's length
    (metres), line (or None) and measure, and the extension (metres there and back: ``2 * max(0, connector_m - cover_m)``)."""
    ob = model.pairs(obligations_only=True)
    if ob.empty:
        return ob, np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros(0)
    distance = ob["distance_m"].to_numpy(dtype=float)
    if network is None and not lines:
        # A straight connector is the shortest line from the team's nearest route to the
        # estate: its length is the distance the engine measured, so no geometry is built.
        connector, segs, measure = distance.copy(), np.full(len(ob), None, dtype=object), np.full(len(ob), "straight", dtype=object)
    else:
        connector, segs, measure = connectors(model, ob["estate_index"].to_numpy(), ob["route_index"].to_numpy(), network=network)
        straight = measure == "straight"
        connector[straight] = distance[straight]  # the same figure with or without lines
    return ob, connector, segs, measure, 2.0 * np.maximum(0.0, connector - ob["cover_m"].to_numpy())


def extension_totals(model: CoverageModel, *, network=None) -> pd.Series:
    """Per team id, the extension metres of all its obligations: the sum of :func:`extension_proposals`' ``extension_m`` per team.

    The figures are those of the proposals (same connectors, same sum) without
    making a row per obligation (millions under the strict reading at province size).

    Parameters
    ----------
    model
        A solved model.
    network
        As in :func:`extension_proposals`.

    Returns
    -------
    pandas.Series
        Metres, indexed by team id (teams without obligations left out), in team id order.
    """
    ob, _, _, _, extension = _obligation_figures(solved_model(model=model), network, lines=False)
    if ob.empty:
        return pd.Series([], dtype=float, index=pd.Index([], dtype=object, name="team_id"), name="extension_m")
    # Within a team the pairs come in estate order, as in the proposals: the same figures summed in the same order.
    by_team = pd.Series(extension).groupby(model.route_team[ob["route_index"].to_numpy()]).sum()
    names = np.asarray(model.team_ids, dtype=object)[by_team.index.to_numpy()]
    return pd.Series(by_team.to_numpy(), index=pd.Index(names, name="team_id"), name="extension_m").sort_index()


def network_for(network, model: CoverageModel) -> RoadNetwork:
    """The road network ``network`` (path, GeoDataFrame or :class:`RoadNetwork`) in ``model``'s metric CRS.

    Raises
    ------
    CRSError
        If a given :class:`RoadNetwork` measures in another CRS than the model.
    """
    net = network if isinstance(network, RoadNetwork) else read_network(network, crs=model.crs)
    if not pyproj.CRS(net.crs).equals(model.crs):
        msg = f"road network is in {net.crs.to_string()} but the coverage model measures in {model.crs.to_string()}"
        raise CRSError(msg)
    return net


def connectors(model: CoverageModel, estate_index, route_index, *, network=None, starts=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortest connectors from routes to estates, straight or along the roads.

    Parameters
    ----------
    model
        The coverage model whose metric geometries are used.
    estate_index, route_index
        Positions of the estate and the route of each connector.
    network
        None for straight connectors, or a road network (see :func:`network_for`).
    starts
        Optional start points (metric) instead of the routes' nearest points.

    Returns
    -------
    (connector_m, lines, measure)
        Lengths in metres, the lines in the model's metric CRS (from the route
        end to the estate end) and ``straight`` or ``network`` per connector;
        ``straight`` also where the roads do not join the two ends.
    """
    est_g = model.estate_geoms[np.asarray(estate_index, dtype=np.int64)]
    if starts is None:
        rte_g = model.route_geoms[np.asarray(route_index, dtype=np.int64)]
        lines = shapely.shortest_line(rte_g, est_g)
    else:
        lines = shapely.shortest_line(np.asarray(starts, dtype=object), est_g)
    connector = shapely.length(lines)
    measure = np.full(len(lines), "straight", dtype=object)
    if network is not None and len(lines):
        net = network_for(network, model)
        length, paths = net.paths(shapely.get_point(lines, 0), shapely.get_point(lines, 1))
        ok = np.isfinite(length)
        connector[ok] = length[ok]
        lines[ok] = paths[ok]
        measure[ok] = "network"
    return connector, lines, measure
