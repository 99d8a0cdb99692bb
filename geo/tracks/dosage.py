"""Patrol dosage per estate: visits, minutes present, night presence, stops and time since the last visit.

A *visit* is a stretch of time during which a team's interpolated track stays
within the cover distance of an estate (:data:`geo.settings.cover_distance_m`,
inclusive), broken for at most :data:`geo.settings.visit_merge_gap_s`. A visit
lasting from :data:`geo.settings.stop_min_minutes` to ``stop_max_minutes``
(inclusive) is a *stop*, the dosage the patrol research (the Koper curve) finds
deters crime best; a longer one is a *long stay*. Night is
:data:`geo.settings.night_start_hour` to ``night_end_hour``. A visit belongs to
the day, week (Monday to Sunday) or month in which it starts.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import crs as _crs
from geo import settings
from geo.incidents.times import period_bounds
from geo.tracks import store
from geo.tracks.scan import ScanResult, scan

__all__ = ["BY", "dosage_table", "estate_points", "run_scan", "visit_table"]

BY = ("day", "week", "month")

DOSAGE_COLUMNS = (
    "period", "estate_id", "name", "visits", "teams", "team_ids", "minutes_present", "night_minutes", "night_visits",
    "stops", "long_stays", "last_visit_end", "hours_since_last_visit",
)


def estate_points(estates: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estate points in metres and the cover distance of each.

    A footprint polygon is reduced to its representative point with
    :data:`geo.settings.cover_distance_m` (a documented simplification:
    presence is measured from one point per estate).
    """
    geoms = estates.geometry.values
    pts = np.array([g if g.geom_type == "Point" else g.representative_point() for g in geoms], dtype=object)
    lonlat = np.array([[p.x, p.y] for p in pts]) if len(pts) else np.zeros((0, 2))
    x, y = _crs.project_lonlat(lonlat[:, 0], lonlat[:, 1])
    return x, y, np.full(len(x), float(settings.cover_distance_m))


def _bounds(start, end) -> tuple[int | None, int | None]:
    return period_bounds(start, end)


def run_scan(estates: gpd.GeoDataFrame, *, start=None, end=None, tracks_path: str | os.PathLike | None = None,
             chunk_rows: int | None = None, **kwargs) -> ScanResult:
    """Scan the track store for the estates within ``[start, end]`` (see :func:`geo.incidents.times.period_bounds`)."""
    lo, hi = _bounds(start, end)
    x, y, r = estate_points(estates)
    res = scan(store.iter_chunks(tracks_path, start_s=lo, end_s=hi, chunk_rows=chunk_rows), x, y, radius_m=r, **kwargs)
    res.extra["window"] = (lo, hi)
    return res


def _period_start(t_s: np.ndarray, by: str) -> np.ndarray:
    t = np.asarray(t_s, dtype=float).astype(np.int64).astype("datetime64[s]")
    if by == "day":
        return t.astype("datetime64[D]")
    if by == "month":
        return t.astype("datetime64[M]").astype("datetime64[D]")
    if by == "week":
        d = t.astype("datetime64[D]")
        # 1970-01-01 was a Thursday: Monday-based weekday is (days + 3) % 7.
        return d - ((d.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    msg = f"unknown period {by!r}: use one of {', '.join(BY)}"
    raise ValueError(msg)


def _next_period(p: np.ndarray, by: str) -> np.ndarray:
    if by == "day":
        return p + np.timedelta64(1, "D")
    if by == "week":
        return p + np.timedelta64(7, "D")
    return (p.astype("datetime64[M]") + 1).astype("datetime64[D]")


def _is_night(t_s: np.ndarray) -> np.ndarray:
    hour = (np.asarray(t_s, dtype=float) % 86400) // 3600
    sh, eh = settings.night_start_hour, settings.night_end_hour
    return (hour >= sh) | (hour < eh) if sh > eh else (hour >= sh) & (hour < eh)


def visit_table(res: ScanResult, estates: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every visit as a row: estate, team, start, end, minutes, night minutes, stop or long stay."""
    v = res.visits
    ids = estates["estate_id"].astype(str).to_numpy()
    dur_min = (v.end_s - v.start_s) / 60.0
    return pd.DataFrame({
        "estate_id": ids[v.estate] if len(v) else np.zeros(0, dtype=object),
        "team_id": np.asarray(res.team_ids, dtype=object)[v.team] if len(v) else np.zeros(0, dtype=object),
        "start": v.start_s.round().astype(np.int64).astype("datetime64[s]"),
        "end": v.end_s.round().astype(np.int64).astype("datetime64[s]"),
        "start_s": v.start_s, "end_s": v.end_s,
        "duration_min": dur_min,
        "present_min": v.present_s / 60.0,
        "night_min": v.night_s / 60.0,
        "night": (v.night_s > 0) | _is_night(v.start_s),
        "stop": (dur_min >= settings.stop_min_minutes - 1e-9) & (dur_min <= settings.stop_max_minutes + 1e-9),
        "long_stay": dur_min > settings.stop_max_minutes + 1e-9,
    }).sort_values(["estate_id", "start_s"], kind="stable").reset_index(drop=True)


def dosage_table(res: ScanResult, estates: gpd.GeoDataFrame, *, by: str = "day", night: bool = False,
                 start=None, end=None) -> pd.DataFrame:
    """Dosage per estate and period.

    Parameters
    ----------
    res
        Result of :func:`run_scan` (or :func:`geo.tracks.scan.scan`) over the same estates.
    estates
        The estates (``estate_id``, ``name``).
    by
        ``"day"``, ``"week"`` or ``"month"``.
    night
        Count only night presence: visits that start at night or overlap it, with
        ``minutes_present`` their night minutes.
    start, end
        The periods listed (default: the scan's window, else the span of the fixes).

    Returns
    -------
    pandas.DataFrame
        One row per estate and period (estates with no visit too), columns
        :data:`DOSAGE_COLUMNS`. ``hours_since_last_visit`` is measured at the
        period's end (or the last fix, if earlier) from the end of the last
        visit up to then, in any earlier period too; NaN when there was none.
    """
    if by not in BY:
        msg = f"unknown period {by!r}: use one of {', '.join(BY)}"
        raise ValueError(msg)
    vt = visit_table(res, estates)
    if night:
        vt = vt[vt["night"]].assign(present_min=lambda d: d["night_min"])
    lo, hi = _bounds(start, end) if (start is not None or end is not None) else res.extra.get("window", (None, None))
    lo = lo if lo is not None else res.first_s
    hi = hi if hi is not None else (res.last_s + 1 if res.last_s is not None else None)
    ids = estates["estate_id"].astype(str).to_numpy()
    names = estates["name"].astype(str).to_numpy() if "name" in estates else np.full(len(ids), "")
    if lo is None or hi is None:
        return pd.DataFrame(columns=list(DOSAGE_COLUMNS))
    first_p = _period_start(np.array([lo]), by)[0]
    last_p = _period_start(np.array([hi - 1]), by)[0]
    periods = [first_p]
    while periods[-1] < last_p:
        periods.append(_next_period(np.array([periods[-1]]), by)[0])
    periods = np.array(periods)
    ends_s = _next_period(periods, by).astype("datetime64[s]").astype(np.int64)
    as_of = np.minimum(ends_s, res.last_s + 1 if res.last_s is not None else ends_s)
    vt = vt.assign(period=_period_start(vt["start_s"].to_numpy(), by))
    grid = pd.MultiIndex.from_product([periods, ids], names=["period", "estate_id"])
    agg = vt.groupby(["period", "estate_id"]).agg(
        visits=("start_s", "size"), teams=("team_id", "nunique"),
        team_ids=("team_id", lambda s: ";".join(sorted(set(s)))),
        minutes_present=("present_min", "sum"), night_minutes=("night_min", "sum"), night_visits=("night", "sum"),
        stops=("stop", "sum"), long_stays=("long_stay", "sum"), last_visit_end=("end_s", "max"),
    )
    out = agg.reindex(grid).reset_index()
    for c in ("visits", "teams", "night_visits", "stops", "long_stays"):
        out[c] = out[c].fillna(0).astype(np.int64)
    for c in ("minutes_present", "night_minutes"):
        out[c] = out[c].fillna(0.0)
    out["team_ids"] = out["team_ids"].fillna("")
    # Time since the last visit at each period's end, looking back over every visit.
    since = np.full(len(out), np.nan)
    ends_by_estate = {e: np.sort(g.to_numpy()) for e, g in vt.groupby("estate_id")["end_s"]}
    pi = np.searchsorted(periods, out["period"].to_numpy())
    for e, ends in ends_by_estate.items():
        rows = np.flatnonzero(out["estate_id"].to_numpy() == e)
        at = as_of[pi[rows]].astype(float)
        k = np.searchsorted(ends, at, side="right") - 1
        has = k >= 0
        since[rows[has]] = (at[has] - ends[k[has]]) / 3600.0
    out["hours_since_last_visit"] = since
    out["last_visit_end"] = pd.to_datetime(out["last_visit_end"].round(), unit="s")
    out["name"] = pd.Series(names, index=ids).reindex(out["estate_id"]).to_numpy()
    out["period"] = out["period"].astype(str)
    out["minutes_present"] = out["minutes_present"].round(2)
    out["night_minutes"] = out["night_minutes"].round(2)
    out["hours_since_last_visit"] = out["hours_since_last_visit"].round(2)
    out = out[list(DOSAGE_COLUMNS)]
    out.attrs["night"] = night
    out.attrs["by"] = by
    return out
