"""1-3-5 minute response circles: network travel time from police posts and patrol positions to every estate.

Definitions:

* Travel runs along the road network (:class:`geo.extensions.RoadNetwork`) at
  a speed per road class (the ``road_class`` property of the road file;
  :data:`geo.settings.response_speed_kmh`, a road without a class at
  :data:`geo.settings.response_default_speed_kmh`). A road class the settings
  do not know is refused, naming the feature, so no estate gets a time from a
  guessed speed.
* From a post to its nearest road and from the road to the estate the
  responder goes on foot (:data:`geo.settings.response_access_speed_kmh`),
  along the straight snap leg.
* An estate's time is the least over every post manned in the shift asked for
  (``night`` keeps ``night`` and ``all`` posts), in minutes; its **tier** is the
  first of :data:`geo.settings.response_tiers_min` (1, 3, 5) the time is within
  (inclusive), or ``none``. Estates whose time is above the target
  (:data:`geo.settings.response_target_min`) are listed as outside the tier they
  should be in. An estate the roads do not join to any post is not reached.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from geo import crs as _crs
from geo import io, settings
from geo.errors import SchemaError
from geo.extensions import RoadNetwork
from geo.schemas import ROADS

__all__ = ["ResponseResult", "reach_stretches", "response_times", "road_speeds"]

_KMH = 1000.0 / 60.0  # metres per minute at 1 km/h


class ResponseResult:
    """Per-estate response times and the road layer of the circles.

    Attributes
    ----------
    estates
        DataFrame: ``estate_id``, ``name``, ``community``, ``time_min``
        (NaN when not reached), ``tier`` (``1``, ``3``, ``5`` as text, or
        ``none``), ``post_id`` and ``post_name`` of the first responder,
        ``target_min`` and ``outside_target``.
    layer
        GeoDataFrame (WGS-84) of road segments with ``time_min`` at their
        middle and ``tier``: the circles along the roads.
    reach
        GeoDataFrame (WGS-84) of the stretches of road reached within each
        tier, cut where the time crosses it: ``tier_min`` (1, 3, 5) and the
        line; the stretches of a tier include those of the shorter ones (draw
        the longest first). See :func:`reach_stretches`.
    """

    def __init__(self, estates: pd.DataFrame, layer: gpd.GeoDataFrame, reach: gpd.GeoDataFrame | None = None):
        self.estates = estates
        self.layer = layer
        self.reach = reach

    def outside(self) -> pd.DataFrame:
        """Estates outside the tier they should be in, slowest first."""
        out = self.estates[self.estates["outside_target"]]
        return out.sort_values("time_min", ascending=False, na_position="first", kind="stable").reset_index(drop=True)


def road_speeds(roads: gpd.GeoDataFrame, *, source: str = "road network") -> np.ndarray:
    """Speed in km/h of every road feature from its ``road_class``.

    Raises
    ------
    SchemaError
        Listing every feature whose road class has no speed in :data:`geo.settings.response_speed_kmh`.
    """
    speeds = dict(settings.response_speed_kmh)
    classes = roads["road_class"] if "road_class" in roads.columns else pd.Series([None] * len(roads), index=roads.index)
    problems, out = [], np.empty(len(roads))
    for i, c in enumerate(classes.tolist()):
        if c is None or (isinstance(c, float) and np.isnan(c)) or str(c).strip() == "":
            out[i] = float(settings.response_default_speed_kmh)
        elif str(c) in speeds:
            out[i] = float(speeds[str(c)])
        else:
            sid = roads["segment_id"].iloc[i] if "segment_id" in roads.columns else None
            label = f"feature {i}" + (f" ({sid})" if sid is not None and not pd.isna(sid) else "")
            problems.append(f"{label}, field 'road_class': {c!r} has no speed; use one of {', '.join(speeds)} "
                            f"or set geo.settings.response_speed_kmh for it")
    if problems:
        raise SchemaError(f"{source}: {len(problems)} road(s) of an unknown road class", problems)
    if not (out > 0).all():
        msg = f"{source}: every road speed must be greater than 0 km/h"
        raise SchemaError(msg)
    return out


def response_times(
    estates: gpd.GeoDataFrame,
    posts: gpd.GeoDataFrame,
    roads,
    *,
    shift: str | None = None,
    target_min: float | None = None,
    metric_crs=None,
) -> ResponseResult:
    """Travel time from the nearest manned post to every estate, its tier and whether it meets the target.

    Parameters
    ----------
    estates
        WGS-84 estates (:func:`geo.io.read_estates`); footprints use their centroid.
    posts
        WGS-84 posts (:func:`geo.io.read_posts`).
    roads
        Path of a road file (read with :data:`geo.schemas.ROADS`, datum honoured) or a GeoDataFrame with a CRS.
    shift
        ``day`` or ``night``: only posts manned then (and ``all``); None: every post.
    target_min
        Minutes every estate should be reached within (default :data:`geo.settings.response_target_min`).
    metric_crs
        CRS to measure in (default :data:`geo.settings.metric_crs`).
    """
    target = float(settings.response_target_min if target_min is None else target_min)
    if not target > 0:
        msg = f"target {target!r} min: give the response target in minutes, greater than 0"
        raise SchemaError(msg)
    if shift not in (None, "day", "night"):
        msg = f"unknown shift {shift!r}: use 'day', 'night' or leave it out"
        raise SchemaError(msg)
    gdf = io.read_features(roads, ROADS) if not isinstance(roads, gpd.GeoDataFrame) else roads
    name = str(roads) if not isinstance(roads, gpd.GeoDataFrame) else "road network"
    lines = gdf[gdf.geometry.geom_type.isin(["LineString", "MultiLineString"])].reset_index(drop=True)
    speed_kmh = road_speeds(lines, source=name)
    crs = _crs.require_metric(metric_crs or settings.metric_crs, what="the response circles")
    geoms = np.asarray(lines.geometry.to_crs(crs).values, dtype=object)
    net = RoadNetwork(geoms, crs=crs)
    # The speed of each noded segment is that of the road it lies on (its middle is on that road).
    mid = shapely.line_interpolate_point(net.segments, 0.5, normalized=True)
    owner = shapely.STRtree(geoms).query_nearest(mid, all_matches=False)[1]
    seg_speed = speed_kmh[owner] * _KMH  # metres per minute
    seg_min = net.seg_len / seg_speed

    if shift is not None and "shift" in posts.columns:
        posts = posts[posts["shift"].fillna("all").isin([shift, "all"])]
    posts = posts.reset_index(drop=True)
    n_nodes, n_posts = len(net.node_xy), len(posts)
    walk = float(settings.response_access_speed_kmh) * _KMH
    # Graph: road nodes, then one source node per post joined to the two ends of its road segment.
    rows = np.concatenate([net.seg_u, net.seg_v])
    cols = np.concatenate([net.seg_v, net.seg_u])
    vals = np.concatenate([seg_min, seg_min])
    post_xy = np.asarray(shapely.get_coordinates(posts.geometry.to_crs(crs).values)) if n_posts else np.zeros((0, 2))
    post_snap = [net._snap(shapely.Point(xy)) for xy in post_xy]
    extra_r, extra_c, extra_v = [], [], []
    for p, (seg, along, sxy) in enumerate(post_snap):
        leg = float(np.hypot(*(sxy - post_xy[p]))) / walk
        extra_r += [n_nodes + p, n_nodes + p]
        extra_c += [int(net.seg_u[seg]), int(net.seg_v[seg])]
        extra_v += [leg + along / seg_speed[seg], leg + (net.seg_len[seg] - along) / seg_speed[seg]]
    size = n_nodes + n_posts
    graph = sp.csr_matrix((np.concatenate([vals, extra_v]) + 1e-12, (np.concatenate([rows, extra_r]).astype(np.int64),
                                                                     np.concatenate([cols, extra_c]).astype(np.int64))), shape=(size, size))
    times = dijkstra(graph, directed=True, indices=np.arange(n_nodes, size)) if n_posts else np.full((0, size), np.inf)

    est_pts = shapely.centroid(np.asarray(estates.geometry.to_crs(crs).values, dtype=object))
    est_xy = shapely.get_coordinates(est_pts)
    best = np.full(len(estates), np.inf)
    who = np.full(len(estates), -1, dtype=np.int64)
    for i, pt in enumerate(est_pts):
        seg, along, sxy = net._snap(pt)
        leg = float(np.hypot(*(sxy - est_xy[i]))) / walk
        u, v = int(net.seg_u[seg]), int(net.seg_v[seg])
        per_post = np.minimum(times[:, u] + along / seg_speed[seg], times[:, v] + (net.seg_len[seg] - along) / seg_speed[seg]) + leg
        for p, (pseg, palong, psxy) in enumerate(post_snap):
            if pseg == seg:  # same segment: straight along it
                pleg = float(np.hypot(*(psxy - post_xy[p]))) / walk
                per_post[p] = min(per_post[p], pleg + abs(palong - along) / seg_speed[seg] + leg)
        if n_posts and np.isfinite(per_post).any():
            who[i] = int(np.argmin(per_post))
            best[i] = float(per_post[who[i]])
    tiers = tuple(sorted(float(t) for t in settings.response_tiers_min))
    table = pd.DataFrame(
        {
            "estate_id": estates["estate_id"].astype(str).to_numpy(),
            "name": estates["name"].to_numpy() if "name" in estates.columns else "",
            "community": estates["community"].to_numpy() if "community" in estates.columns else "",
            "time_min": np.where(np.isfinite(best), np.round(best, 2), np.nan),
            "tier": _tier(best, tiers),
            "post_id": [str(posts["post_id"].iloc[w]) if w >= 0 else "" for w in who],
            "post_name": [str(posts["name"].iloc[w]) if w >= 0 and "name" in posts.columns else "" for w in who],
            "target_min": target,
            "outside_target": ~(best <= target),
        }
    )
    node_best = times[:, :n_nodes].min(axis=0) if n_posts else np.full(n_nodes, np.inf)
    seg_mid = np.minimum(node_best[net.seg_u], node_best[net.seg_v]) + seg_min / 2.0
    layer = gpd.GeoDataFrame(
        {"time_min": np.where(np.isfinite(seg_mid), np.round(seg_mid, 2), np.nan), "tier": _tier(seg_mid, tiers)},
        geometry=gpd.GeoSeries(net.segments, crs=crs).to_crs(settings.storage_crs).values,
        crs=settings.storage_crs,
    )
    layer = layer[layer["tier"] != "none"].reset_index(drop=True)
    on_road = [(int(seg), float(along), float(np.hypot(*(sxy - post_xy[p]))) / walk) for p, (seg, along, sxy) in enumerate(post_snap)]
    pieces = reach_stretches(net, seg_speed, node_best, on_road, tiers)
    reach = gpd.GeoDataFrame(pieces.drop(columns="geometry"), geometry=gpd.GeoSeries(pieces["geometry"].to_numpy(), crs=crs).to_crs(settings.storage_crs).values,
                             crs=settings.storage_crs)
    return ResponseResult(table, layer, reach)


def reach_stretches(net: RoadNetwork, speed_m_min: np.ndarray, node_min: np.ndarray, posts_on_road, tiers) -> pd.DataFrame:
    """The stretches of every road segment reached within each tier.

    Along segment ``s`` (from node ``u`` to node ``v``, ``L`` metres at
    ``speed`` metres a minute) the time at ``x`` metres from ``u`` is the least of
    ``node_min[u] + x / speed``, ``node_min[v] + (L - x) / speed`` and, for each
    post that steps onto ``s`` at ``a`` metres after ``w`` minutes on foot,
    ``w + |x - a| / speed``. The stretch within ``T`` minutes is the union of
    the intervals where each term is at most ``T``.

    Parameters
    ----------
    net
        The road network (metric).
    speed_m_min
        Speed on each segment, metres per minute.
    node_min
        Minutes to each node from the nearest post (inf where not reached).
    posts_on_road
        ``(segment, metres along it, minutes on foot to it)`` of each post.
    tiers
        Minutes of the tiers, ascending.

    Returns
    -------
    pandas.DataFrame
        ``tier_min``, ``segment`` and ``geometry`` (metric lines), tier by tier.
    """
    length = net.seg_len
    spans = []  # (segment, from, to) in metres from u, per tier
    rows = []
    for tier in tiers:
        reach_u = np.clip((tier - node_min[net.seg_u]) * speed_m_min, -1.0, None)
        reach_v = np.clip((tier - node_min[net.seg_v]) * speed_m_min, -1.0, None)
        seg = np.arange(len(length))
        lo = [np.zeros(len(seg)), np.maximum(length - reach_v, 0.0)]
        hi = [np.minimum(reach_u, length), np.where(reach_v >= 0, length, -1.0)]
        segs = [seg, seg]
        for s, a, w in posts_on_road:
            left = (tier - w) * speed_m_min[s]
            if left >= 0:
                segs.append(np.array([s]))
                lo.append(np.array([max(a - left, 0.0)]))
                hi.append(np.array([min(a + left, length[s])]))
        seg_a, lo_a, hi_a = np.concatenate(segs), np.concatenate(lo), np.concatenate(hi)
        keep = hi_a >= lo_a
        spans.append((tier, *_union(seg_a[keep], lo_a[keep], hi_a[keep])))
    for tier, seg, lo, hi in spans:
        ok = hi - lo > 1e-9
        seg, lo, hi = seg[ok], lo[ok], hi[ok]
        d = (net.seg_b[seg] - net.seg_a[seg]) / length[seg][:, None]
        a = net.seg_a[seg] + d * lo[:, None]
        b = net.seg_a[seg] + d * hi[:, None]
        rows.append(pd.DataFrame({"tier_min": float(tier), "segment": seg, "geometry": shapely.linestrings(np.stack([a, b], axis=1)) if len(seg) else []}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["tier_min", "segment", "geometry"])


def _union(seg: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping intervals of each segment."""
    order = np.lexsort((lo, seg))
    seg, lo, hi = seg[order], lo[order], hi[order]
    out_s, out_lo, out_hi = [], [], []
    for s, a, b in zip(seg.tolist(), lo.tolist(), hi.tolist(), strict=True):
        if out_s and out_s[-1] == s and a <= out_hi[-1]:
            out_hi[-1] = max(out_hi[-1], b)
        else:
            out_s.append(s)
            out_lo.append(a)
            out_hi.append(b)
    return np.asarray(out_s, dtype=np.int64), np.asarray(out_lo, dtype=float), np.asarray(out_hi, dtype=float)


def _tier(minutes: np.ndarray, tiers: tuple[float, ...]) -> np.ndarray:
    out = np.full(len(minutes), "none", dtype=object)
    for t in reversed(tiers):
        out[minutes <= t] = f"{t:g}"
    return out
