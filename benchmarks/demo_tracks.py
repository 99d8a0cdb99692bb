"""Seeded generator of synthetic patrol tracks for the demo teams (none of them real).

Each team of ``data/patrol_routes.geojson`` goes out once or twice a day in the
hours its shift suggests (night teams 20:00-23:00, day teams 08:30-11:00, the
others both), walks (police ride at 4 m/s) each of its routes to the end and
back, with GPS noise of a few metres and one fix every ``step_s`` seconds:

* **Stops.** At each estate within the cover distance of a route the team stops
  for 10-15 minutes with probability :attr:`DemoTrackParams.stop_prob`, and
  checks in at the estate's check-in point when it has one.
* **Skipping at night.** On :attr:`DemoTrackParams.skip_prob` of its nights, a
  team listed in :attr:`DemoTrackParams.skippers` turns back after
  :attr:`DemoTrackParams.skip_fraction` of its route, so the estates further on
  go unvisited those nights.
* **Missed days.** Each session is skipped with probability ``miss_prob``.

Every fix is stored with ``synthetic = true``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as _crs
from geo import settings


@dataclass(frozen=True)
class DemoTrackParams:
    """Parameters of the generator."""

    seed: int = 20261102
    start: str = "2026-11-02"
    days: int = 28
    step_s: int = 30
    walk_mps: float = 1.3
    ride_mps: float = 4.0
    noise_m: float = 4.0
    stop_prob: float = 0.6
    miss_prob: float = 0.1
    skippers: tuple[str, ...] = ("VO-FX", "PS-SMB")
    skip_prob: float = 0.5
    skip_fraction: float = 0.4


def _sessions(shift: str) -> list[tuple[float, float]]:
    """Start hour and length in hours of the daily sessions of a shift."""
    if shift == "night":
        return [(20.0, 3.0)]
    if shift == "day":
        return [(8.5, 2.5)]
    return [(9.0, 2.0), (20.5, 1.5)]


def make_demo_tracks(routes: gpd.GeoDataFrame, estates: gpd.GeoDataFrame, *, points: gpd.GeoDataFrame | None = None,
                     params: DemoTrackParams | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic fixes and check-ins of every team of ``routes``.

    Returns
    -------
    (fixes, checkins)
        ``fixes``: ``team_id``, ``time_s``, ``lon``, ``lat`` (WGS-84); ``checkins``:
        ``point_id``, ``team_id``, ``time`` (text), for the points given.
    """
    p = params or DemoTrackParams()
    rng = np.random.default_rng(p.seed)
    metric = _crs.to_metric(routes)
    ex, ey = _crs.project_lonlat(estates.geometry.x.to_numpy(), estates.geometry.y.to_numpy())
    est_ids = estates["estate_id"].astype(str).to_numpy()
    point_of = {} if points is None else dict(zip(points["estate_id"].astype(str), points["point_id"].astype(str), strict=False))
    day0 = int(np.datetime64(p.start, "s").astype(np.int64))
    out_t, out_x, out_y, out_team, checkins = [], [], [], [], []
    for team_id, group in metric.groupby("team_id", sort=True):
        speed = p.ride_mps if (group["org_type"] == "police").all() else p.walk_mps
        shift = "night" if (group["shift"] == "night").all() else ("day" if (group["shift"] == "day").all() else "all")
        lines = [part for g in group.geometry.values for part in shapely.get_parts(g)]
        for d in range(p.days):
            for start_h, hours in _sessions(shift):
                if rng.random() < p.miss_prob:
                    continue
                t = day0 + d * 86400 + start_h * 3600 + rng.uniform(0, 900)
                end_t = t + hours * 3600
                night = start_h >= settings.night_start_hour or start_h < settings.night_end_hour
                skip = team_id in p.skippers and night and rng.random() < p.skip_prob
                keys_t, keys_line, keys_s = [], [], []
                while t < end_t:
                    for k, line in enumerate(lines):
                        length = line.length
                        reach = length * (p.skip_fraction if skip else 1.0)
                        s_est = shapely.line_locate_point(line, shapely.points(ex, ey))
                        near = (shapely.distance(line, shapely.points(ex, ey)) <= settings.cover_distance_m) & (s_est <= reach)
                        stops = sorted((float(s_est[i]), i) for i in np.flatnonzero(near) if rng.random() < p.stop_prob)
                        s = 0.0
                        keys_t.append(t), keys_line.append(k), keys_s.append(0.0)
                        for s_stop, i in stops:
                            t += (s_stop - s) / speed
                            keys_t.append(t), keys_line.append(k), keys_s.append(s_stop)
                            dwell = rng.uniform(10, 15) * 60
                            if est_ids[i] in point_of:
                                checkins.append((point_of[est_ids[i]], team_id, t + 60))
                            t += dwell
                            keys_t.append(t), keys_line.append(k), keys_s.append(s_stop)
                            s = s_stop
                        t += (reach - s) / speed
                        keys_t.append(t), keys_line.append(k), keys_s.append(reach)
                        t += reach / speed
                        keys_t.append(t), keys_line.append(k), keys_s.append(0.0)
                        t += 60.0  # to the next route
                kt, kl, ks = np.array(keys_t), np.array(keys_line), np.array(keys_s)
                samples = np.arange(kt[0], min(kt[-1], end_t), p.step_s)
                seg = np.clip(np.searchsorted(kt, samples, side="right") - 1, 0, len(kt) - 2)
                same = kl[seg] == kl[seg + 1]
                frac = np.where(kt[seg + 1] > kt[seg], (samples - kt[seg]) / np.maximum(kt[seg + 1] - kt[seg], 1e-9), 0.0)
                s_at = np.where(same, ks[seg] + frac * (ks[seg + 1] - ks[seg]), ks[seg])
                xs, ys = np.empty(len(samples)), np.empty(len(samples))
                for k, line in enumerate(lines):
                    m = kl[seg] == k
                    c = shapely.get_coordinates(shapely.line_interpolate_point(line, s_at[m]))
                    xs[m], ys[m] = c[:, 0], c[:, 1]
                out_t.append(np.round(samples).astype(np.int64))
                out_x.append(xs + rng.normal(0, p.noise_m, len(xs)))
                out_y.append(ys + rng.normal(0, p.noise_m, len(ys)))
                out_team.append(np.full(len(samples), team_id, dtype=object))
    x, y = np.concatenate(out_x), np.concatenate(out_y)
    lon, lat = _crs.metric_to_lonlat_transformer().transform(x, y)
    fixes = pd.DataFrame({"team_id": np.concatenate(out_team), "time_s": np.concatenate(out_t), "lon": np.round(lon, 7), "lat": np.round(lat, 7)})
    fixes = fixes.drop_duplicates(["team_id", "time_s"]).sort_values(["team_id", "time_s"]).reset_index(drop=True)
    ci = pd.DataFrame(checkins, columns=["point_id", "team_id", "time_s"])
    ci["time"] = ci["time_s"].round().astype(np.int64).astype("datetime64[s]").astype(str)
    return fixes, ci.drop(columns="time_s")


def demo_checkin_points(estates: gpd.GeoDataFrame, *, every: int = 2) -> gpd.GeoDataFrame:
    """One synthetic check-in point 15 m north of every ``every``-th estate (the estate's gate, invented)."""
    pick = estates.iloc[::every]
    x, y = _crs.project_lonlat(pick.geometry.x.to_numpy(), pick.geometry.y.to_numpy())
    lon, lat = _crs.metric_to_lonlat_transformer().transform(x, y + 15.0)
    return gpd.GeoDataFrame({
        "point_id": [f"{e}-A" for e in pick["estate_id"]], "estate_id": pick["estate_id"].astype(str).to_numpy(),
        "name": "门岗巡更点（合成）", "synthetic": True,
    }, geometry=shapely.points(np.round(lon, 7), np.round(lat, 7)), crs="EPSG:4326")
