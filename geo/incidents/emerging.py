"""Emerging hot spots: Gi* per cell and period on a space-time neighbourhood, then a trend per cell.

The incidents are counted in a space-time cube: square cells of
:data:`geo.settings.hotspot_cell_m` metres (as :mod:`geo.incidents.hotspots`)
by period (calendar year, or quarter). Each bin's Gi* is computed over its
space-time neighbourhood: the cell and its queen neighbours in the same period
and in the period before (binary weights; the bin itself included), against
the mean and spread of the whole cube. P-values come from the normal
approximation of Gi* (as ESRI's Emerging Hot Spot Analysis does), two-sided,
and hot and cold bins are corrected separately with Benjamini-Hochberg at
``alpha/2`` each over the whole cube (:mod:`geo.incidents.fdr`).

Then each cell's series of Gi* z-scores is tested for a monotonic trend with
Mann-Kendall (:mod:`geo.incidents.trend`), and the cell is classified with
ESRI's definitions (for cold spots read "cold" for "hot"; "90 %" is of the
periods, so with 6 yearly periods it means all 6):

* **new**: hot in the final period only, never before;
* **consecutive**: one uninterrupted run of hot periods ending in the final
  one, never hot before the run, hot in less than 90 % of periods;
* **intensifying**: hot in at least 90 % of periods including the final one,
  and the z-scores rise significantly (Mann-Kendall);
* **persistent**: hot in at least 90 % of periods, no significant trend;
* **diminishing**: hot in at least 90 % of periods including the final one,
  the z-scores fall significantly;
* **sporadic**: hot in the final period, on and off before, in less than
  90 % of periods, never cold;
* **oscillating**: hot in the final period, cold in some earlier period, hot
  in less than 90 % of periods;
* **historical**: not hot in the final period, but hot in at least 90 % of
  periods;
* otherwise **no pattern**.

Caveats: the normal approximation is rough on sparse cubes (few incidents per
bin); a trend over six yearly values is weak evidence (Mann-Kendall cannot
reach p < 0.05 with fewer than five values); patterns say where incidents
gather and how that changed, not why.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.stats import norm

from geo import settings
from geo.incidents.fdr import correct
from geo.incidents.filters import filter_mask
from geo.incidents.hotspots import cell_polygons, grid_cells, neighbourhood_sums
from geo.incidents.reporting import method_line
from geo.incidents.store import as_arrays
from geo.incidents.trend import mann_kendall

PERIODS = ("year", "quarter")
PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")


def space_time_gi(cube: np.ndarray, nrows: int, ncols: int) -> np.ndarray:
    """Gi* z-scores of a cube of counts (periods x cells, row-major cells) over the space-time neighbourhood.

    The neighbourhood of bin (t, c) is the cell ``c`` and its queen neighbours in periods ``t`` and ``t - 1``
    (only ``t`` for the first period); binary weights; mean and spread of the whole cube.
    """
    cube = np.asarray(cube, dtype=float)
    n_t = cube.shape[0]
    n = cube.size
    mean = cube.mean()
    s = np.sqrt((cube**2).mean() - mean**2)
    ones = np.ones((nrows, ncols))
    k_space = neighbourhood_sums(ones).ravel()
    z = np.zeros_like(cube)
    if not s > 0:
        return z
    sums = np.stack([neighbourhood_sums(cube[t].reshape(nrows, ncols)).ravel() for t in range(n_t)])
    for t in range(n_t):
        total = sums[t] + (sums[t - 1] if t > 0 else 0.0)
        w = k_space * (2 if t > 0 else 1)
        z[t] = (total - mean * w) / (s * np.sqrt((n * w - w**2) / (n - 1)))
    return z


def classify(hot: np.ndarray, cold: np.ndarray, trend_p: float, trend_z: float, *, alpha: float) -> str:
    """ESRI pattern of one cell from its per-period hot and cold flags and its Mann-Kendall trend (see the module docstring).

    Hot patterns are checked first; a cell never hot is classified on its cold flags with "cold" names.
    """
    for flags, other, kind, sign in ((hot, cold, "hot", 1.0), (cold, hot, "cold", -1.0)):
        name = _pattern(np.asarray(flags, dtype=bool), np.asarray(other, dtype=bool), trend_p, sign * trend_z, alpha=alpha)
        if name:
            return f"{name} {kind} spot"
    return "no pattern"


def _pattern(flags: np.ndarray, other: np.ndarray, trend_p: float, trend_z: float, *, alpha: float) -> str:
    n = len(flags)
    if not flags.any():
        return ""
    share = flags.sum() / n
    final = bool(flags[-1])
    rising = np.isfinite(trend_p) and trend_p < alpha and trend_z > 0
    falling = np.isfinite(trend_p) and trend_p < alpha and trend_z < 0
    if share >= 0.9:
        if not final:
            return "historical"
        if rising:
            return "intensifying"
        if falling:
            return "diminishing"
        return "persistent"
    if not final:
        return ""
    if flags.sum() == 1:
        return "new"
    first = int(np.flatnonzero(flags)[0])
    if flags[first:].all():
        return "consecutive"
    if other[:-1].any():
        return "oscillating"
    return "sporadic"


def emerging_hotspots(
    incidents,
    *,
    period: str = "year",
    cell_m: float | None = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    alpha: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Emerging hot-spot pattern of each grid cell.

    Parameters
    ----------
    period
        ``"year"`` or ``"quarter"``.
    cell_m, categories, sources, start, end, bounds
        As :func:`geo.incidents.hotspots.hotspot_cells`.
    alpha
        False discovery rate of the bins, and level of the Mann-Kendall trend (default :data:`geo.settings.effect_alpha`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell with at least one incident (EPSG:4326 polygons): ``cell``, ``count``,
        ``hot_periods``, ``cold_periods``, ``final_z``, ``trend_tau``, ``trend_p``, ``pattern``
        and ``series`` (z-score per period, text). ``attrs`` carry the periods, cell size, alpha
        and ``method``.
    """
    if period not in PERIODS:
        msg = f"period must be one of {', '.join(PERIODS)}, not {period!r}"
        raise ValueError(msg)
    inc = as_arrays(incidents)
    cell_m = float(settings.hotspot_cell_m if cell_m is None else cell_m)
    alpha = float(settings.effect_alpha if alpha is None else alpha)
    area = bounds or settings.heat_bounds or settings.shahe_bounds
    mask = filter_mask(inc, categories=categories, sources=sources, start=start, end=end, hours=None)
    cell, (x0, y0, ncols, nrows), kept = grid_cells(inc, mask, cell_m=cell_m, bounds=area)
    months = inc.time_s[kept].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    step = 12 if period == "year" else 3
    pidx = months // step
    first = int(pidx.min())
    n_t = int(pidx.max()) - first + 1
    if n_t < 4:
        msg = f"only {n_t} {period}s of incidents; an emerging hot-spot analysis needs at least 4 periods (try --period quarter)"
        raise ValueError(msg)
    m = nrows * ncols
    cube = np.bincount((pidx - first) * m + cell, minlength=n_t * m).reshape(n_t, m).astype(float)
    z = space_time_gi(cube, nrows, ncols)
    p = norm.sf(np.abs(z))  # one-sided in the direction of z
    sig_hot, _ = correct(np.where(z > 0, p, 1.0).ravel(), alpha / 2.0)
    sig_cold, _ = correct(np.where(z < 0, p, 1.0).ravel(), alpha / 2.0)
    hot = sig_hot.reshape(z.shape) & (z > 0)
    cold = sig_cold.reshape(z.shape) & (z < 0)
    labels = [_label(first + t, period) for t in range(n_t)]
    used = np.flatnonzero(cube.sum(axis=0) > 0)
    rows = []
    for c in used:
        mk = mann_kendall(z[:, c])
        rows.append({
            "cell": int(c), "count": int(cube[:, c].sum()), "hot_periods": int(hot[:, c].sum()), "cold_periods": int(cold[:, c].sum()),
            "final_z": float(z[-1, c]), "trend_tau": mk.tau, "trend_p": mk.p_value,
            "pattern": classify(hot[:, c], cold[:, c], mk.p_value, mk.z, alpha=alpha),
            "series": " ".join(f"{v:+.1f}" for v in z[:, c]),
        })
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=cell_polygons(x0, y0, ncols, nrows, cell_m).iloc[used].reset_index(drop=True))
    out.attrs.update(periods=labels, period=period, cell_m=cell_m, alpha=alpha, method=method_line(
        f"emerging hot spots: Gi* per {cell_m:g} m cell and {period} over the cell, its neighbours and the previous {period} "
        f"(normal approximation), Mann-Kendall trend of each cell's z-scores, ESRI's patterns",
        f"Benjamini-Hochberg FDR at {alpha:g} over all {n_t * m} bins (hot and cold at {alpha / 2:g} each); trend at {alpha:g}",
        "normal approximation rough on sparse bins; few periods give weak trends; where incidents gather, not why"))
    return out


def _label(p: int, period: str) -> str:
    if period == "year":
        return str(1970 + p)
    return f"{1970 + p // 4}Q{p % 4 + 1}"
