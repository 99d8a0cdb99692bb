"""Candidate detours on the road network, and the estates each one brings in.

For every team and every estate within its reach (nearby, in the model's
sense, and not yet covered by that team) a **spur** leaves the team's nearest
route at the point closest to the estate, follows the roads (or a straight
line where the roads do not join the two) and stops
:data:`geo.settings.optimise_overshoot_m` past the point where the estate
comes within its cover distance. The patrol goes there and back, so the spur
costs twice its length (the convention of :mod:`geo.extensions`).

A **joined** spur goes on from one estate to a second one of the same team
(at most :data:`geo.settings.optimise_pair_max_m` apart): one detour that
brings in both estates costs less than two separate ones when the second lies
beyond the first.

What a candidate covers is measured on its geometry, not assumed: every
estate within its cover distance of the drafted line (inclusive, with the
engine's 1 mm tolerance) counts, so a spur along a street can bring in estates
it was not aimed at. The estates it brings within the rule radius without
covering them are kept too (``must``): a plan that chooses it must cover them,
otherwise they would turn ``coverable``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.coverage.model import CoverageModel
from geo.coverage.rule import COVERED as _COVERED
from geo.coverage.rule import GAP as _GAP
from geo.extensions import connectors, network_for

__all__ = ["build_candidates", "cut_line", "cut_lines"]


def cut_line(line: shapely.LineString, length_m: float) -> shapely.LineString:
    """The first ``length_m`` metres of ``line`` (the whole line when it is shorter; a 1 cm stub at least)."""
    return cut_lines(np.array([line], dtype=object), np.array([float(length_m)]))[0]


def cut_lines(lines, length_m) -> np.ndarray:
    """:func:`cut_line` for many lines at once.

    Distances are measured along each line from its start (a line that turns
    back on itself is cut where its own length reaches ``length_m``).

    Parameters
    ----------
    lines
        Array of shapely LineStrings.
    length_m
        Metres to keep of each (at least 1 cm; the whole line when it is shorter).
    """
    lines = np.asarray(lines, dtype=object)
    out = lines.copy()
    if not len(lines):
        return out
    total = shapely.length(lines)
    keep = np.minimum(total, np.maximum(np.asarray(length_m, dtype=float), 0.01))
    cut = np.flatnonzero(keep < total)
    if not len(cut):
        return out
    xy, owner = shapely.get_coordinates(lines[cut], return_index=True)
    step = np.zeros(len(xy))
    same = owner[1:] == owner[:-1]
    step[1:] = np.where(same, np.hypot(*(xy[1:] - xy[:-1]).T), 0.0)
    along = np.cumsum(step)
    first = np.searchsorted(owner, np.arange(len(cut)))
    along -= along[first][owner]  # metres from each line's start
    limit = keep[cut][owner]
    inner = along < limit  # vertices before the cut (the start always)
    # the cut point lies on the segment ending at the first vertex at or beyond the cut
    beyond = np.flatnonzero(~inner & np.r_[False, same] & np.r_[False, inner[:-1]])
    frac = (limit[beyond] - along[beyond - 1]) / np.maximum(along[beyond] - along[beyond - 1], 1e-300)
    end_xy = xy[beyond - 1] + (xy[beyond] - xy[beyond - 1]) * frac[:, None]
    pts = np.vstack([xy[inner], end_xy])
    own = np.concatenate([owner[inner], owner[beyond]])
    order = np.argsort(own, kind="stable")
    out[cut] = shapely.linestrings(pts[order], indices=own[order])
    return out


def _spurs(lines, cover_m) -> np.ndarray:
    """Connectors cut where the estate at their end comes within ``cover_m`` (plus the overshoot)."""
    return cut_lines(lines, shapely.length(lines) - np.asarray(cover_m, dtype=float) + float(settings.optimise_overshoot_m))


def estate_frame(model: CoverageModel, *, k: int, strict: bool) -> pd.DataFrame:
    """Per estate: status, teams nearby and covering (codes), whether the target applies, and the need.

    Parameters
    ----------
    model
        A coverage model (solved here if it is not yet).
    k
        Target number of covering teams.
    strict
        Strict reading: every nearby team must cover (the need is at least the number of obligations).
    """
    pairs = model.pairs()
    codes = {t: i for i, t in enumerate(model.team_ids)}
    n = len(model.estate_ids)
    nearby = [set() for _ in range(n)]
    covering = [set() for _ in range(n)]
    for e, t, c in zip(pairs["estate_index"].tolist(), pairs["team_id"].tolist(), pairs["covers"].tolist(), strict=True):
        nearby[e].add(codes[t])
        if c:
            covering[e].add(codes[t])
    status = model.summary_arrays()["status"]
    in_scope = status != _GAP
    n_cov = np.array([len(c) for c in covering], dtype=np.int64)
    n_near = np.array([len(c) for c in nearby], dtype=np.int64)
    need = np.maximum(0, int(k) - n_cov)
    if strict:
        need = np.maximum(need, n_near - n_cov)
    return pd.DataFrame(
        {
            "estate_id": model.estate_ids,
            "status": status,
            "in_scope": in_scope,
            "need": need * in_scope,
            "nearby_codes": [sorted(s) for s in nearby],
            "covering_codes": [sorted(s) for s in covering],
        }
    )


def build_candidates(
    model: CoverageModel, *, k: int = 1, strict: bool = False, network=None, posts=None, gaps: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Candidate detours of every team towards the estates within its reach.

    Parameters
    ----------
    model
        Coverage model of the current routes (its shift filter decides which routes may be extended).
    k, strict
        Target and reading (see :func:`estate_frame`); in the strict reading
        only teams nearby an estate count for it.
    network
        Road network (path, GeoDataFrame or :class:`geo.extensions.RoadNetwork`), or None for straight detours.
    posts
        Police posts (GeoDataFrame of points with ``post_id`` and ``name``, any CRS), or None.
    gaps
        Also plan for the gaps (estates no team reaches): each gets the
        extension of the nearest team beyond the radius (``gap_extension``) and,
        with ``posts``, a new police patrol loop from the nearest post
        (``new_police_loop``: out and back along the roads); the model takes
        the cheaper, or one that serves several gaps.

    Returns
    -------
    (candidates, estates, notices)
        ``candidates``: one row per detour with ``team_code``, ``team_id``,
        ``route_id``, ``shift`` (of the extended route), ``targets`` (estate
        positions it was aimed at), ``cost_m`` (there and back), ``length_m``,
        ``measure`` (``network``, ``straight``, or ``straight (roads not
        connected)``), ``covers`` and ``must`` (estate positions) and
        ``geometry`` (metric shapely line). ``estates``: :func:`estate_frame`
        with ``forbid_codes`` (teams that do not count for each estate).
        ``notices``: one line per team/estate pair the roads do not join.
    """
    net = network_for(network, model) if network is not None else None
    est = estate_frame(model, k=k, strict=strict)
    n_est = len(est)
    covering = [set(c) for c in est["covering_codes"]]
    nearby = [set(c) for c in est["nearby_codes"]]
    pairs = model.pairs()
    codes = {t: i for i, t in enumerate(model.team_ids)}
    pairs["team_code"] = pairs["team_id"].map(codes)
    if gaps:
        is_gap = est["status"].to_numpy() == _GAP
        est.loc[is_gap, "need"] = 1
        est["in_scope"] = est["in_scope"].to_numpy() | is_gap
    scope = est["in_scope"].to_numpy() & (est["need"].to_numpy() > 0)
    todo = pairs[~pairs["covers"] & scope[pairs["estate_index"].to_numpy()]].reset_index(drop=True)

    notices: list[str] = []
    parts: list[pd.DataFrame] = []
    if len(todo):
        _, lines, measure = connectors(model, todo["estate_index"].to_numpy(), todo["route_index"].to_numpy(), network=net)
        measure = _measures(measure, net, notices, [f"team {t}" for t in todo["team_id"]], todo["estate_id"].tolist(),
                            [f"route {r}" for r in todo["route_id"]])
        e_idx = todo["estate_index"].to_numpy()
        spurs = _spurs(lines, model.estate_cover_m[e_idx])
        parts.append(_frame(model, todo["team_code"].to_numpy(), todo["route_index"].to_numpy(), [(int(e),) for e in e_idx], spurs, measure))
        parts.append(_joined(model, todo, lines, measure, net))
    if gaps:
        gap_frame, gap_notices = _gap_candidates(model, est, net, posts)
        parts.append(gap_frame)
        notices.extend(gap_notices)

    parts = [p for p in parts if len(p)]
    cand = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if cand.empty:
        cols = ["team_code", "team_id", "route_id", "shift", "targets", "geometry", "measure", "length_m", "cost_m", "kind", "post_id", "covers", "must"]
        cand = pd.DataFrame(columns=cols)
    else:
        cand["covers"], cand["must"] = _reach(model, cand, pairs, strict)
    forbid = []
    all_codes = set(range(len(model.team_ids)))
    for e in range(n_est):
        f = set(covering[e])
        if strict:
            f |= all_codes - nearby[e]
        forbid.append(sorted(f))
    est["forbid_codes"] = forbid
    return cand, est, notices


def _frame(model: CoverageModel, team_code, route_index, targets, geoms, measure, *, kind=None) -> pd.DataFrame:
    """Candidate rows of detours from the given routes (``kind`` by default from the number of targets)."""
    team_code = np.asarray(team_code, dtype=np.int64)
    route_index = np.asarray(route_index, dtype=np.int64)
    geoms = np.asarray(geoms, dtype=object)
    length = shapely.length(geoms) if len(geoms) else np.zeros(0)
    n_targets = np.array([len(t) for t in targets], dtype=np.int64)
    return pd.DataFrame(
        {
            "team_code": team_code,
            "team_id": np.asarray(model.team_ids, dtype=object)[team_code] if len(team_code) else np.zeros(0, dtype=object),
            "route_id": np.asarray(model.route_ids, dtype=object)[route_index].astype(str) if len(route_index) else np.zeros(0, dtype=object),
            "shift": np.asarray(model.route_shifts, dtype=object)[route_index].astype(str) if len(route_index) else np.zeros(0, dtype=object),
            "targets": pd.Series(list(targets), dtype=object),
            "geometry": geoms,
            "measure": np.asarray(measure, dtype=object),
            "length_m": length,
            "cost_m": 2.0 * length,
            "kind": kind if kind is not None else np.where(n_targets == 1, "extension", "joined"),
            "post_id": "",
        }
    )


def _joined(model: CoverageModel, todo: pd.DataFrame, lines: np.ndarray, measure: np.ndarray, net) -> pd.DataFrame:
    """Spurs that go on from one estate to a second estate of the same team.

    From each estate a team should reach, the spur may go on to any of the
    three estates of that team nearest to it (within
    :data:`geo.settings.optimise_pair_max_m`) that lies beyond it: a second
    estate nearer to the route than that does better with its own spur.
    """
    pair_max = float(settings.optimise_pair_max_m)
    cover = model.estate_cover_m
    geoms = model.estate_geoms
    conn_len = shapely.length(lines)
    first, second = [], []
    for _, grp in todo.groupby("team_code", sort=True):
        rows = grp.index.to_numpy()
        if len(rows) < 2:
            continue
        idx = grp["estate_index"].to_numpy()
        pts = geoms[idx]
        d = shapely.distance(pts[:, None], pts[None, :])
        near = np.argsort(d, axis=1, kind="stable")[:, 1:4]
        a = np.repeat(np.arange(len(idx)), near.shape[1])
        b = near.ravel()
        db = d[a, b]
        ok = (db <= pair_max) & (db < conn_len[rows[b]] - cover[idx[b]])  # else going via e1 cannot beat the direct spur
        first.append(rows[a[ok]])
        second.append(rows[b[ok]])
    if not first or not sum(len(f) for f in first):
        return pd.DataFrame()
    r1, r2 = np.concatenate(first), np.concatenate(second)
    e1 = todo["estate_index"].to_numpy()[r1]
    e2 = todo["estate_index"].to_numpy()[r2]
    end1 = shapely.get_coordinates(shapely.get_point(lines[r1], -1))
    # one leg per distinct (start point, second estate): teams leaving from the same estate point share it
    keys = np.column_stack([end1, e2.astype(float)])
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    starts = shapely.points(uniq[:, :2])
    target = shapely.centroid(geoms[uniq[:, 2].astype(np.int64)])
    legs = net.paths(starts, target)[1] if net is not None else np.full(len(uniq), None, dtype=object)
    leg_measure = np.where(pd.isna(legs), "straight", "network")
    missing = np.flatnonzero(pd.isna(legs))
    if len(missing):
        legs = legs.copy()
        legs[missing] = shapely.linestrings(np.stack([uniq[missing, :2], shapely.get_coordinates(target[missing])], axis=1))
    paths = _concat(lines[r1], legs[inv])
    m1, m2 = measure[r1], leg_measure[inv]
    spurs = _spurs(paths, cover[e2])
    return _frame(model, todo["team_code"].to_numpy()[r1], todo["route_index"].to_numpy()[r1],
                  [(int(a), int(b)) for a, b in zip(e1, e2, strict=True)], spurs, np.where(m1 == m2, m1, "mixed"))


def _concat(first, second) -> np.ndarray:
    """Lines that run along ``first`` and go on along ``second`` (whose first point is the end of ``first``)."""
    xy1, o1 = shapely.get_coordinates(first, return_index=True)
    xy2, o2 = shapely.get_coordinates(second, return_index=True)
    skip = np.r_[True, o2[1:] != o2[:-1]]  # the first point of each second line
    xy2, o2 = xy2[~skip], o2[~skip]
    pts = np.vstack([xy1, xy2])
    own = np.concatenate([o1, o2])
    order = np.argsort(own, kind="stable")
    return shapely.linestrings(pts[order], indices=own[order])


def _reach(model: CoverageModel, cand: pd.DataFrame, pairs: pd.DataFrame, strict: bool):
    """Estates each candidate covers, and those it brings within the radius without covering (that matter)."""
    geoms = np.asarray(cand["geometry"].to_list(), dtype=object)
    tol = model.tolerance_m
    cover = model.estate_cover_m
    team = cand["team_code"].to_numpy(dtype=np.int64)
    g_idx, e_idx = model._estate_tree.query(geoms, predicate="dwithin", distance=float(cover.max()) + tol)
    dist = shapely.distance(geoms[g_idx], model.estate_geoms[e_idx])
    hit = dist <= cover[e_idx] + tol
    covers = _split(g_idx[hit], e_idx[hit], len(cand))
    # A new nearby team: a new obligation in the strict reading; in the default one only
    # where nobody covers the estate (it would turn coverable).
    status = model.summary_arrays()["status"]
    watch = np.arange(len(model.estate_ids)) if strict else np.flatnonzero(status != _COVERED)
    if not len(watch):
        return covers, [np.zeros(0, dtype=np.int64) for _ in range(len(cand))]
    g_idx, w_idx = shapely.STRtree(model.estate_geoms[watch]).query(geoms, predicate="dwithin", distance=model.radius_m + tol)
    e_idx = watch[w_idx]
    span = max(int(team.max()), len(model.team_ids)) + 1
    codes = {tid: i for i, tid in enumerate(model.team_ids)}
    near_keys = pairs["estate_index"].to_numpy(dtype=np.int64) * span + pairs["team_id"].map(codes).to_numpy(dtype=np.int64)
    fresh = ~np.isin(e_idx * span + team[g_idx], near_keys)
    g_idx, e_idx = g_idx[fresh], e_idx[fresh]
    far = shapely.distance(geoms[g_idx], model.estate_geoms[e_idx]) > cover[e_idx] + tol
    return covers, _split(g_idx[far], e_idx[far], len(cand))


def _split(group: np.ndarray, values: np.ndarray, n: int) -> list[np.ndarray]:
    """``values`` grouped by ``group`` into ``n`` arrays (ascending within each)."""
    order = np.lexsort((values, group))
    group, values = group[order], values[order].astype(np.int64)
    bounds = np.searchsorted(group, np.arange(n + 1))
    return [values[bounds[i] : bounds[i + 1]] for i in range(n)]


def _gap_candidates(model: CoverageModel, est: pd.DataFrame, net, posts) -> tuple[pd.DataFrame, list[str]]:
    """For each gap: the nearest team's extension beyond the radius, and a new police loop from the nearest post."""
    parts, notices = [], []
    gaps = np.flatnonzero(est["status"].to_numpy() == _GAP)
    alive = np.flatnonzero(model.active_routes()) if len(gaps) else np.zeros(0, dtype=np.int64)
    cover = model.estate_cover_m
    targets = [(int(e),) for e in gaps]
    if len(gaps) and len(alive):
        tree = shapely.STRtree(model.route_geoms[alive])
        nearest = alive[tree.query_nearest(model.estate_geoms[gaps], all_matches=False)[1]]
        _, lines, measure = connectors(model, gaps, nearest, network=net)
        team = np.asarray(model.route_team)[nearest]
        measure = _measures(measure, net, notices, [f"team {model.team_ids[t]}" for t in team], [model.estate_ids[e] for e in gaps],
                            [f"route {model.route_ids[r]}" for r in nearest])
        parts.append(_frame(model, team, nearest, targets, _spurs(lines, cover[gaps]), measure, kind="gap_extension"))
    if len(gaps) and posts is not None and len(posts):
        pts = np.asarray(posts.geometry.to_crs(model.crs).values, dtype=object)
        tree = shapely.STRtree(pts)
        near = tree.query_nearest(model.estate_geoms[gaps], all_matches=False)[1]
        _, lines, measure = connectors(model, gaps, near, network=net, starts=pts[near])
        post_ids = posts["post_id"].astype(str).to_numpy()[near]
        measure = _measures(measure, net, notices, [f"post {p}" for p in post_ids], [model.estate_ids[e] for e in gaps], ["the post"] * len(gaps))
        geoms = _spurs(lines, cover[gaps])
        length = shapely.length(geoms)
        parts.append(
            pd.DataFrame(
                {
                    "team_code": len(model.team_ids) + near,
                    "team_id": [f"NEW-{p}" for p in post_ids],
                    "route_id": "",
                    "shift": "all",
                    "targets": pd.Series(targets, dtype=object),
                    "geometry": geoms,
                    "measure": measure,
                    "length_m": length,
                    "cost_m": 2.0 * length,
                    "kind": "new_police_loop",
                    "post_id": post_ids,
                }
            )
        )
    parts = [p for p in parts if len(p)]
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), notices


def _measures(measure: np.ndarray, net, notices: list[str], who: list[str], estate_ids: list, start: list[str]) -> np.ndarray:
    """Measures with ``straight (roads not connected)`` where a road network was given but does not join the two ends (one notice each)."""
    out = np.asarray(measure, dtype=object).copy()
    if net is None:
        return out
    for i in np.flatnonzero(out == "straight").tolist():
        notices.append(f"{who[i]} -> estate {estate_ids[i]}: the road network does not join {start[i]} to the estate; a straight line is used")
        out[i] = "straight (roads not connected)"
    return out
