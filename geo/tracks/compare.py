"""Plan against actual per team: metres planned and patrolled, share of each route covered, 1-km-rule obligations met.

* ``planned_m``: total length of the team's planned routes (metres in EPSG:4545).
* ``patrolled_m``: length of the team's cleaned track in the window, segment by
  segment, nothing counted across a gap (:data:`geo.settings.track_gap_s`).
* ``route_share``: for each route, the share of points sampled every
  :data:`geo.settings.plan_sample_step_m` along it that the team's own track
  passes within :data:`geo.settings.plan_tolerance_m` of (inclusive).
* obligations: the estates the plan makes the team's (those its routes cover,
  and those the 1-km rule obliges it to bring in, from :func:`geo.report.team_table`);
  one is *met* when the team visited it (within the cover distance) in the window.
* :func:`unvisited_estates`: estates the plan covers that no team visited at
  night in the last N nights.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as _crs
from geo import report, settings
from geo.tracks import store
from geo.tracks.dosage import _bounds, estate_points, visit_table
from geo.tracks.scan import ScanResult, scan

__all__ = ["plan_vs_actual", "route_samples", "unvisited_estates"]


def route_samples(routes: gpd.GeoDataFrame, *, step_m: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points evenly spaced along each route (ends included), in metres.

    Returns
    -------
    (x, y, route_index, length_m)
        Sample coordinates, the row of ``routes`` each belongs to, and each route's length.
    """
    step = settings.plan_sample_step_m if step_m is None else step_m
    metric = _crs.to_metric(routes)
    xs, ys, owner = [], [], []
    lengths = np.zeros(len(metric))
    for i, geom in enumerate(metric.geometry.values):
        for part in shapely.get_parts(geom):
            length = float(part.length)
            lengths[i] += length
            n = max(int(np.ceil(length / step - 1e-6)), 1) + 1  # a route of 800.0000001 m is 160 steps, not 161
            pts = shapely.line_interpolate_point(part, np.linspace(0.0, length, n))
            c = shapely.get_coordinates(pts)
            xs.append(c[:, 0])
            ys.append(c[:, 1])
            owner.append(np.full(len(c), i))
    if not xs:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), lengths
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owner).astype(np.int64), lengths


def plan_vs_actual(estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, start=None, end=None,
                   tracks_path: str | os.PathLike | None = None, tolerance_m: float | None = None,
                   chunk_rows: int | None = None, chunks=None) -> tuple[pd.DataFrame, pd.DataFrame, ScanResult]:
    """Compare each team's plan with its tracks in ``[start, end]``.

    Parameters
    ----------
    estates, routes
        As read by :mod:`geo.io` (WGS-84).
    start, end
        Window (see :func:`geo.incidents.times.period_bounds`); default all fixes.
    tracks_path
        Track store folder (default :func:`geo.tracks.store.store_dir`).
    tolerance_m
        Default :data:`geo.settings.plan_tolerance_m`.
    chunks
        Fixes to use instead of the store (chunks sorted by team and time).

    Returns
    -------
    (teams, routes_table, scan_result)
        ``teams``: one row per team of the plan with ``team_id``, ``team``,
        ``planned_m`` (one pass over its routes), ``patrolled_m``,
        ``patrolled_m_per_day`` (over the days of the window), ``patrolled_ratio``
        (metres patrolled per planned metre: passes over the plan), ``route_share``
        (length-weighted over its routes), ``obligations``, ``obligations_met``,
        ``unmet_estate_ids``, ``visited_estate_ids``. ``routes_table``: one row
        per route with ``route_id``, ``team_id``, ``length_m``, ``share_covered``.
    """
    tol = settings.plan_tolerance_m if tolerance_m is None else tolerance_m
    lo, hi = _bounds(start, end)
    sx, sy, owner, lengths = route_samples(routes)
    route_team = routes["team_id"].astype(str).to_numpy()
    ex, ey, er = estate_points(estates)
    if chunks is None:
        chunks = store.iter_chunks(tracks_path, start_s=lo, end_s=hi, chunk_rows=chunk_rows)
    res = scan(chunks, ex, ey, radius_m=er, sample_x=sx, sample_y=sy, sample_team=list(route_team[owner]), tolerance_m=tol)
    res.extra["window"] = (lo, hi)
    per_route = np.array([res.samples_reached[owner == i].mean() if (owner == i).any() else np.nan for i in range(len(routes))])
    routes_table = pd.DataFrame({
        "route_id": routes["route_id"].astype(str).to_numpy(), "team_id": route_team,
        "length_m": lengths.round(1), "share_covered": per_route.round(4),
    })
    vt = visit_table(res, estates)
    visited = {t: set(g) for t, g in vt.groupby("team_id")["estate_id"]}
    plan = report.team_table(estates, routes)
    metres = res.team_metres()
    lo_s = lo if lo is not None else res.first_s
    hi_s = hi if hi is not None else (res.last_s + 1 if res.last_s is not None else None)
    days = max(int(np.ceil((hi_s - lo_s) / 86400.0)), 1) if lo_s is not None and hi_s is not None else 0
    rows = []
    for _, p in plan.iterrows():
        tid = str(p["team_id"])
        mine = route_team == tid
        planned = float(lengths[mine].sum())
        share = float((per_route[mine] * lengths[mine]).sum() / planned) if planned > 0 else np.nan
        owed = sorted({e for e in f"{p['covered_estate_ids']};{p['obliged_estate_ids']}".split(";") if e})
        seen = visited.get(tid, set())
        met = [e for e in owed if e in seen]
        done = metres.get(tid, 0.0)
        rows.append({
            "team_id": tid, "team": p["team"], "planned_m": round(planned, 1), "patrolled_m": round(done, 1),
            "patrolled_m_per_day": round(done / days, 1) if days else np.nan,
            "patrolled_ratio": round(done / planned, 4) if planned > 0 else np.nan, "route_share": round(share, 4),
            "obligations": len(owed), "obligations_met": len(met),
            "unmet_estate_ids": ";".join(e for e in owed if e not in seen), "visited_estate_ids": ";".join(sorted(seen)),
        })
    teams = pd.DataFrame(rows, columns=["team_id", "team", "planned_m", "patrolled_m", "patrolled_m_per_day", "patrolled_ratio", "route_share",
                                        "obligations", "obligations_met", "unmet_estate_ids", "visited_estate_ids"])
    teams.attrs["tolerance_m"] = tol
    teams.attrs["days"] = days
    return teams, routes_table, res


def unvisited_estates(res: ScanResult, estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, nights: int = 7,
                      as_of_s: float | None = None) -> pd.DataFrame:
    """Estates the plan covers (status ``covered``) that no team visited at night in the last ``nights`` nights.

    Parameters
    ----------
    res
        A scan over the same estates.
    nights
        How many nights to look back from ``as_of_s``.
    as_of_s
        Local seconds; default the end of the scan's window, else just after the last fix.

    Returns
    -------
    pandas.DataFrame
        ``estate_id``, ``name``, ``covering_team_ids``, ``last_night_visit`` (NaT when none in the data).
    """
    table = report.coverage_table(estates, routes)
    covered = table[table["status"] == "covered"]
    if as_of_s is None:
        hi = res.extra.get("window", (None, None))[1]
        as_of_s = hi if hi is not None else (res.last_s + 1 if res.last_s is not None else 0)
    vt = visit_table(res, estates)
    night = vt[vt["night"]]
    last = night.groupby("estate_id")["end_s"].max()
    since = float(as_of_s) - nights * 86400.0
    rows = []
    for _, r in covered.iterrows():
        e = str(r["estate_id"])
        t = last.get(e)
        if t is None or t < since:
            rows.append({"estate_id": e, "name": r.get("name", ""), "covering_team_ids": r.get("covering_team_ids", ""),
                         "last_night_visit": pd.NaT if t is None else pd.Timestamp(round(t), unit="s")})
    return pd.DataFrame(rows, columns=["estate_id", "name", "covering_team_ids", "last_night_visit"])
