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

__all__ = ["build_candidates", "cut_line"]


def cut_line(line: shapely.LineString, length_m: float) -> shapely.LineString:
    """The first ``length_m`` metres of ``line`` (the whole line when it is shorter; a 1 cm stub at least)."""
    total = float(line.length)
    keep = min(total, max(float(length_m), 0.01))
    if keep >= total:
        return line
    return shapely.ops.substring(line, 0.0, keep)


def _spur(line: shapely.LineString, cover_m: float) -> shapely.LineString:
    """The connector cut where the estate at its end comes within ``cover_m`` (plus the overshoot)."""
    return cut_line(line, float(line.length) - cover_m + float(settings.optimise_overshoot_m))


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
    rows: list[dict] = []
    if len(todo):
        _, lines, measure = connectors(model, todo["estate_index"].to_numpy(), todo["route_index"].to_numpy(), network=net)
        measure = np.array([_measure(m, net, notices, f"team {t}", eid, f"route {rid}")
                            for m, t, eid, rid in zip(measure, todo["team_id"], todo["estate_id"], todo["route_id"], strict=True)], dtype=object)
        cover = model.estate_cover_m
        full = {}
        for i, r in enumerate(todo.itertuples(index=False)):
            e = int(r.estate_index)
            full[(int(r.team_code), e)] = (lines[i], measure[i], r.route_index)
            rows.append(_row(model, r.team_code, r.route_index, (e,), _spur(lines[i], cover[e]), measure[i]))
        rows.extend(_joined(model, todo, full, net))
    if gaps:
        gap_rows, gap_notices = _gap_candidates(model, est, net, posts)
        rows.extend(gap_rows)
        notices.extend(gap_notices)

    cand = pd.DataFrame(rows)
    if cand.empty:
        cols = ["team_code", "team_id", "route_id", "shift", "targets", "geometry", "measure", "length_m", "cost_m", "kind", "post_id", "covers", "must"]
        cand = pd.DataFrame(columns=cols)
    else:
        cand["covers"], cand["must"] = _reach(model, cand, nearby, covering, strict)
    forbid = []
    all_codes = set(range(len(model.team_ids)))
    for e in range(n_est):
        f = set(covering[e])
        if strict:
            f |= all_codes - nearby[e]
        forbid.append(sorted(f))
    est["forbid_codes"] = forbid
    return cand, est, notices


def _row(model: CoverageModel, team_code, route_index, targets, geom, measure) -> dict:
    length = float(geom.length)
    return {
        "team_code": int(team_code),
        "team_id": model.team_ids[int(team_code)],
        "route_id": str(model.route_ids[int(route_index)]),
        "shift": str(model.route_shifts[int(route_index)]),
        "targets": tuple(int(t) for t in targets),
        "geometry": geom,
        "measure": measure,
        "length_m": length,
        "cost_m": 2.0 * length,
        "kind": "extension" if len(targets) == 1 else "joined",
        "post_id": "",
    }


def _joined(model: CoverageModel, todo: pd.DataFrame, full: dict, net) -> list[dict]:
    """Spurs that go on from one estate to a second estate of the same team."""
    pair_max = float(settings.optimise_pair_max_m)
    cover = model.estate_cover_m
    geoms = model.estate_geoms
    jobs = []
    for team, grp in todo.groupby("team_code", sort=True):
        idx = grp["estate_index"].to_numpy()
        if len(idx) < 2:
            continue
        pts = geoms[idx]
        for a in range(len(idx)):
            d = shapely.distance(pts[a], pts)
            for b in np.argsort(d, kind="stable")[1:4]:
                e1, e2 = int(idx[a]), int(idx[b])
                line2 = full[(int(team), e2)][0]
                if d[b] <= pair_max and d[b] < line2.length - cover[e2]:  # else going via e1 cannot beat the direct spur
                    jobs.append((int(team), e1, e2))
    if not jobs:
        return []
    end1 = np.array([shapely.get_point(full[(t, e1)][0], -1) for t, e1, _ in jobs], dtype=object)
    target = shapely.centroid(geoms[np.array([e2 for _, _, e2 in jobs])])
    if net is not None:
        _, legs = net.paths(end1, target)
    else:
        legs = np.full(len(jobs), None, dtype=object)
    rows = []
    for i, (team, e1, e2) in enumerate(jobs):
        line1, m1, route = full[(team, e1)]
        leg, m2 = (legs[i], "network") if legs[i] is not None else (shapely.LineString([end1[i], target[i]]), "straight")
        path = shapely.LineString(np.vstack([shapely.get_coordinates(line1), shapely.get_coordinates(leg)[1:]]))
        rows.append(_row(model, team, route, (e1, e2), _spur(path, cover[e2]), m1 if m1 == m2 else "mixed"))
    return rows


def _reach(model: CoverageModel, cand: pd.DataFrame, nearby, covering, strict: bool):
    """Estates each candidate covers, and those it brings within the radius without covering (that matter)."""
    geoms = np.asarray(cand["geometry"].to_list(), dtype=object)
    tol = model.tolerance_m
    cover = model.estate_cover_m
    status = model.summary_arrays()["status"]
    g_idx, e_idx = model._estate_tree.query(geoms, predicate="dwithin", distance=model.radius_m + tol)
    dist = shapely.distance(geoms[g_idx], model.estate_geoms[e_idx])
    covers = [[] for _ in range(len(cand))]
    must = [[] for _ in range(len(cand))]
    team = cand["team_code"].to_numpy()
    for g, e, d in zip(g_idx.tolist(), e_idx.tolist(), dist.tolist(), strict=True):
        t = int(team[g])
        if d <= cover[e] + tol:
            covers[g].append(e)
        elif t not in covering[e] and t not in nearby[e]:
            # A new nearby team: a new obligation in the strict reading; in the default one only
            # where nobody covers the estate (it would turn coverable).
            if strict or status[e] != _COVERED:
                must[g].append(e)
    return [np.asarray(c, dtype=np.int64) for c in covers], [np.asarray(m, dtype=np.int64) for m in must]


def _gap_candidates(model: CoverageModel, est: pd.DataFrame, net, posts) -> tuple[list[dict], list[str]]:
    """For each gap: the nearest team's extension beyond the radius, and a new police loop from the nearest post."""
    rows, notices = [], []
    gaps = np.flatnonzero(est["status"].to_numpy() == _GAP)
    alive = np.flatnonzero(model.active_routes()) if len(gaps) else np.zeros(0, dtype=np.int64)
    cover = model.estate_cover_m
    if len(gaps) and len(alive):
        tree = shapely.STRtree(model.route_geoms[alive])
        nearest = alive[tree.query_nearest(model.estate_geoms[gaps], all_matches=False)[1]]
        _, lines, measure = connectors(model, gaps, nearest, network=net)
        for i, (e, r) in enumerate(zip(gaps.tolist(), nearest.tolist(), strict=True)):
            m = _measure(measure[i], net, notices, f"team {model.team_ids[model.route_team[r]]}", model.estate_ids[e], f"route {model.route_ids[r]}")
            row = _row(model, model.route_team[r], r, (e,), _spur(lines[i], cover[e]), m)
            row["kind"] = "gap_extension"
            rows.append(row)
    if len(gaps) and posts is not None and len(posts):
        pts = np.asarray(posts.geometry.to_crs(model.crs).values, dtype=object)
        tree = shapely.STRtree(pts)
        near = tree.query_nearest(model.estate_geoms[gaps], all_matches=False)[1]
        _, lines, measure = connectors(model, gaps, near, network=net, starts=pts[near])
        n_teams = len(model.team_ids)
        for i, (e, p) in enumerate(zip(gaps.tolist(), near.tolist(), strict=True)):
            post_id = str(posts["post_id"].iloc[p])
            m = _measure(measure[i], net, notices, f"post {post_id}", model.estate_ids[e], "the post")
            geom = _spur(lines[i], cover[e])
            rows.append(
                {
                    "team_code": n_teams + p,
                    "team_id": f"NEW-{post_id}",
                    "route_id": "",
                    "shift": "all",
                    "targets": (e,),
                    "geometry": geom,
                    "measure": m,
                    "length_m": float(geom.length),
                    "cost_m": 2.0 * float(geom.length),
                    "kind": "new_police_loop",
                    "post_id": post_id,
                }
            )
    return rows, notices


def _measure(measure: str, net, notices: list[str], who: str, estate_id, start: str) -> str:
    if net is not None and measure == "straight":
        notices.append(f"{who} -> estate {estate_id}: the road network does not join {start} to the estate; a straight line is used")
        return "straight (roads not connected)"
    return measure
