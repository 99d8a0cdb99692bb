"""Near-repeat victimisation: the Knox test for burglary and theft from cars.

After a burglary, the houses nearby run a raised risk for a few days or weeks
(the offender comes back to what worked). The Knox test measures it: every
pair of cases is put in a spatial band (distance, metres) and a temporal band
(days apart); if space and time were independent, the pairs close in both
would be as many as when the cases' times are shuffled among their places.
The observed count over the mean of shuffled counts is the Knox ratio:
"within X m and Y days of a case, pairs are k times as frequent as if
space and time were unrelated", i.e. the risk near a case in those days is
about k times the baseline. The p-value is the Monte-Carlo share of shuffles
(seeded; :data:`geo.settings.near_repeat_permutations`) with at least as many
close pairs, ``(1 + count) / (permutations + 1)``; the cells of the table are
corrected together with Benjamini-Hochberg. Bands: :data:`geo.settings.near_repeat_bands_m`
and :data:`geo.settings.near_repeat_bands_days` (upper limits, inclusive;
the first starts at 0).

Zones. When the closest band (first distance, first days) is significant and
above 1, every case of the last ``days`` before the data's end gets a zone: a
circle of the band's distance around it, valid until ``days`` after it; the
layer is empty otherwise (``attrs["note"]`` says why).

Caveats: the shuffle keeps each place's count and each time's count, so
trends and seasons do not make a near-repeat; places with repeated cases at
one address (the same flat burgled twice) count as distance 0. A raised
ratio is an association in space and time, not proof of one offender.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.crs import project_lonlat
from geo.incidents.fdr import correct
from geo.incidents.reporting import format_p, method_line
from geo.incidents.store import as_arrays
from geo.incidents.taxonomy import SUBCATEGORY_NAMES

#: Subcategories the near-repeat analysis looks at by default.
NEAR_REPEAT_SUBCATEGORIES: tuple[str, ...] = ("入室盗窃", "盗窃车内物品")
_DAY_S = 86_400.0


def knox_counts(x: np.ndarray, y: np.ndarray, days: np.ndarray, bands_m, bands_days, pairs=None) -> np.ndarray:
    """Pairs of cases per spatial band (rows) and temporal band (columns); pairs beyond the last bands are not counted."""
    bands_m = np.asarray(bands_m, dtype=float)
    bands_days = np.asarray(bands_days, dtype=float)
    i, j, d = _close_pairs(x, y, bands_m[-1]) if pairs is None else pairs
    dt = np.abs(days[i] - days[j])
    return _table(d, dt, bands_m, bands_days)


def _shuffled_counts(i, j, bm, days, bands_days, n_m: int) -> np.ndarray:
    dt = np.abs(days[i] - days[j])
    bt = np.zeros(len(dt), dtype=np.int64)
    for limit in bands_days:
        bt += dt > limit
    ok = bt < len(bands_days)
    return np.bincount(bm[ok] * len(bands_days) + bt[ok], minlength=n_m * len(bands_days)).reshape(n_m, len(bands_days))


def _close_pairs(x: np.ndarray, y: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pts = shapely.points(x, y)
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=max_m)
    keep = a < b
    a, b = a[keep], b[keep]
    return a, b, np.hypot(x[a] - x[b], y[a] - y[b])


def _table(d: np.ndarray, dt: np.ndarray, bands_m: np.ndarray, bands_days: np.ndarray) -> np.ndarray:
    bm = np.searchsorted(bands_m, d, side="left")  # d <= bands_m[k] -> band k
    bt = np.searchsorted(bands_days, dt, side="left")
    ok = (bm < len(bands_m)) & (bt < len(bands_days))
    return np.bincount(bm[ok] * len(bands_days) + bt[ok], minlength=len(bands_m) * len(bands_days)).reshape(len(bands_m), len(bands_days))


def knox_test(
    incidents,
    *,
    subcategories=NEAR_REPEAT_SUBCATEGORIES,
    bands_m=None,
    bands_days=None,
    permutations: int | None = None,
    seed: int | None = None,
    alpha: float | None = None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Knox table of near repeats.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    subcategories
        Subcategory names kept (default burglary and theft from cars).
    bands_m, bands_days
        Upper limits of the bands (defaults in :mod:`geo.settings`).
    permutations, seed
        Monte-Carlo shuffles of the times.
    alpha
        False discovery rate over the table's cells.
    start, end
        Period kept (see :func:`geo.incidents.period_bounds`).

    Returns
    -------
    pandas.DataFrame
        One row per band pair: ``distance_m`` (``"0-100"``), ``days`` (``"0-7"``),
        ``observed``, ``expected`` (mean of the shuffles), ``ratio``, ``p_value``,
        ``q_value`` and ``significant``. ``attrs`` carry ``cases``, the bands,
        permutations, seed, alpha, ``headline`` (a sentence) and ``method``.
    """
    from geo.incidents.times import period_bounds

    inc = as_arrays(incidents)
    bands_m = np.asarray(settings.near_repeat_bands_m if bands_m is None else bands_m, dtype=float)
    bands_days = np.asarray(settings.near_repeat_bands_days if bands_days is None else bands_days, dtype=float)
    if np.any(np.diff(bands_m) <= 0) or np.any(np.diff(bands_days) <= 0) or bands_m[0] <= 0 or bands_days[0] < 0:
        msg = "bands must be increasing positive upper limits, e.g. 100,200,400 metres and 7,14,30 days"
        raise ValueError(msg)
    permutations = int(settings.near_repeat_permutations if permutations is None else permutations)
    seed = int(settings.near_repeat_seed if seed is None else seed)
    alpha = float(settings.effect_alpha if alpha is None else alpha)
    unknown = [s for s in subcategories if s not in SUBCATEGORY_NAMES]
    if unknown:
        msg = f"unknown subcategories {unknown}; use names such as {', '.join(NEAR_REPEAT_SUBCATEGORIES)}"
        raise ValueError(msg)
    keep = np.isin(inc.subcategory, [SUBCATEGORY_NAMES.index(s) for s in subcategories]) & np.isfinite(inc.lon) & np.isfinite(inc.lat)
    lo, hi = period_bounds(start, end)
    if lo is not None:
        keep &= inc.time_s >= lo
    if hi is not None:
        keep &= inc.time_s < hi
    sub = inc.subset(keep)
    if len(sub) < 3:
        msg = f"only {len(sub)} cases of {', '.join(subcategories)}; a near-repeat test needs more"
        raise ValueError(msg)
    x, y = project_lonlat(sub.lon, sub.lat)
    x, y = np.asarray(x), np.asarray(y)
    days = sub.time_s.astype(float) / _DAY_S
    pairs = _close_pairs(x, y, bands_m[-1])
    obs = knox_counts(x, y, days, bands_m, bands_days, pairs)
    rng = np.random.default_rng(seed)
    i, j, d = pairs
    bm = np.searchsorted(bands_m, d, side="left")
    sims = np.empty((permutations, *obs.shape))
    for k in range(permutations):
        sims[k] = _shuffled_counts(i, j, bm, rng.permutation(days), bands_days, len(bands_m))
    expected = sims.mean(axis=0)
    p = (1.0 + (sims >= obs[None]).sum(axis=0)) / (permutations + 1.0)
    sig, q = correct(p.ravel(), alpha)
    rows = []
    lo_m = np.concatenate([[0.0], bands_m[:-1]])
    lo_d = np.concatenate([[0.0], bands_days[:-1]])
    for a in range(len(bands_m)):
        for b in range(len(bands_days)):
            k = a * len(bands_days) + b
            ratio = obs[a, b] / expected[a, b] if expected[a, b] > 0 else float("nan")
            rows.append({"distance_m": f"{lo_m[a]:g}-{bands_m[a]:g}", "days": f"{lo_d[b]:g}-{bands_days[b]:g}", "observed": int(obs[a, b]),
                         "expected": float(expected[a, b]), "ratio": ratio, "p_value": float(p[a, b]), "q_value": float(q[k]),
                         "significant": bool(sig[k])})
    out = pd.DataFrame(rows)
    first = out.iloc[0]
    if first["significant"] and first["ratio"] > 1:
        headline = (f"within {bands_m[0]:g} m and {bands_days[0]:g} days of a case the risk of another is {first['ratio']:.1f} times "
                    f"the baseline (q {format_p(first['q_value'])})")
    else:
        headline = (f"no near-repeat detected: within {bands_m[0]:g} m and {bands_days[0]:g} days the ratio is {first['ratio']:.2f} "
                    f"(p {format_p(first['p_value'])}, q {format_p(first['q_value'])})")
    out.attrs.update(cases=len(sub), bands_m=bands_m.tolist(), bands_days=bands_days.tolist(), permutations=permutations, seed=seed, alpha=alpha,
                     subcategories=list(subcategories), headline=headline, method=method_line(
                         f"Knox test of {len(sub)} cases ({', '.join(subcategories)}), {permutations} shuffles of the times, seed {seed}",
                         f"Benjamini-Hochberg FDR at {alpha:g} over the {len(out)} cells",
                         "association in space and time, not proof of one offender; a repeat at one address counts as 0 m"))
    return out


def near_repeat_zones(incidents, table: pd.DataFrame, *, as_of=None) -> gpd.GeoDataFrame:
    """Zones of raised risk after the recent cases, from a :func:`knox_test` table.

    Parameters
    ----------
    incidents
        The incidents the table was computed on.
    table
        :func:`knox_test` result; zones only when its first cell is significant and above 1.
    as_of
        The day the zones are for (``"2024-12-31"``); default the last case's time.

    Returns
    -------
    geopandas.GeoDataFrame
        One circle per case in the ``days`` before ``as_of`` (EPSG:4326): ``incident_id``
        (row number when the incidents have none), ``time``, ``until``, ``radius_m``,
        ``days``, ``ratio``. ``attrs["note"]`` says why it is empty when it is.
    """
    inc = as_arrays(incidents)
    a = table.attrs
    radius, days = float(a["bands_m"][0]), float(a["bands_days"][0])
    first = table.iloc[0]
    empty = gpd.GeoDataFrame({"incident_id": [], "time": [], "until": [], "radius_m": [], "days": [], "ratio": []},
                             geometry=gpd.GeoSeries([], crs=settings.storage_crs))
    if not (first["significant"] and first["ratio"] > 1):
        empty.attrs["note"] = "no zones: no significant near-repeat in the closest band"
        return empty
    keep = np.isin(inc.subcategory, [SUBCATEGORY_NAMES.index(s) for s in a["subcategories"]]) & np.isfinite(inc.lon)
    idx = np.flatnonzero(keep)
    t = inc.time_s[idx]
    now = int(t.max()) if as_of is None else int(pd.Timestamp(as_of, tz="Asia/Shanghai").timestamp())
    recent = idx[(t <= now) & (t > now - days * _DAY_S)]
    if len(recent) == 0:
        empty.attrs["note"] = f"no case in the {days:g} days before {pd.Timestamp(now, unit='s', tz='Asia/Shanghai'):%Y-%m-%d}"
        return empty
    x, y = project_lonlat(inc.lon[recent], inc.lat[recent])
    circles = gpd.GeoSeries(shapely.buffer(shapely.points(np.asarray(x), np.asarray(y)), radius), crs=settings.metric_crs).to_crs(settings.storage_crs)
    times = pd.to_datetime(inc.time_s[recent], unit="s", utc=True).tz_convert("Asia/Shanghai")
    ids = inc.ids
    out = gpd.GeoDataFrame({
        "incident_id": [str(ids[i]) for i in recent] if ids is not None else [str(i) for i in recent],
        "time": times.strftime("%Y-%m-%d %H:%M"),
        "until": (times + pd.Timedelta(days=days)).strftime("%Y-%m-%d %H:%M"),
        "radius_m": radius, "days": days, "ratio": float(first["ratio"]),
    }, geometry=circles.reset_index(drop=True))
    out.attrs["note"] = ""
    return out
