"""Hot spots of incidents: Getis-Ord Gi* on a metric grid of counts.

Why a grid and not the estates: 24 estates are too few, and too unevenly
spread, for a local statistic on their own (most would have one or two
neighbours), and incidents happen in streets and parks as well as inside
estates. So incidents are counted on square cells of
:data:`geo.settings.hotspot_cell_m` metres in the metric CRS (EPSG:4545 for
Shahe) covering the incidents' extent, empty cells included, and Gi* compares
each cell's neighbourhood (queen contiguity, the cell itself included: the
"star") with the whole grid.

Significance (``p_sim`` one-sided in the direction of the observed
statistic, ``p_value`` two-sided, ``min(1, 2 * p_sim)``), two ways:

* ``inference="permutation"`` (default): total randomisation (the observed
  counts shuffled between cells, seeded; see :func:`gi_star`). It asks "is
  this neighbourhood high among the grid's own cells": with a few very busy
  cells anywhere on the grid, a single busy cell on its own is not flagged
  (a random neighbourhood of k of m cells holds the busiest cell with
  probability k/m, so its p-value cannot fall below that),
  only clusters of busy cells.
* ``inference="normal"``: the normal approximation of the Gi* z-score (fast,
  but too many false alarms on pure noise: 7.5 % of 200 noise grids had a
  flagged cell after FDR, against 5 % allowed).

Multiple testing. Hundreds of cells are tested at once: at a plain 5 % level
about 5 % of cells on pure noise pass by chance (19 % of cells on 6,000 random
incidents over 3 km were flagged that way). By default the cells' p-values
are corrected with Benjamini-Hochberg (:mod:`geo.incidents.fdr`), so that at
most ``alpha`` of the reported cells are expected to be false findings
(``q_value`` is the adjusted p-value, doubled as the two-sided p-value is; hot
and cold cells are two families of one-sided tests, each held at ``alpha/2``);
``correction="none"`` gives the old
uncorrected map. The smallest pseudo p-value ``P`` permutations can give is
``1/(P+1)``, which must be below ``alpha/m`` for any of ``m`` cells to pass, so
the permutations are raised to ``2m/alpha`` when needed (at most
:data:`MAX_PERMUTATIONS`; ``attrs["resolution_note"]`` says when that is not
enough).

Cold spots. A cell is called cold only where its neighbourhood (the cell and
its up to eight neighbours) expects at least
:data:`geo.settings.hotspot_cold_min_expected` incidents (grid mean times the
neighbourhood's cells; 5 by default: a neighbourhood expecting 5 and holding
none happens with Poisson probability e^-5 = 0.7 %). Below that, even an
empty neighbourhood is ordinary, and "fewer than expected" means nothing;
``cold_testable`` says which cells qualify.

Hot and cold cells are associations in space: they say where incidents
gather, not why.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.crs import project_lonlat
from geo.incidents.fdr import CORRECTIONS, correct
from geo.incidents.filters import filter_mask
from geo.incidents.reporting import method_line
from geo.incidents.store import as_arrays

#: Largest grid analysed; a larger one asks for bigger cells.
MAX_CELLS = 250_000
#: Most permutations the automatic raise (see the module docstring) goes to.
MAX_PERMUTATIONS = 999_999
INFERENCES = ("permutation", "normal")


def needed_permutations(n_cells: int, alpha: float) -> int:
    """Fewest permutations whose smallest two-sided p-value, ``2/(P+1)``, can pass BH among ``n_cells`` cells."""
    return int(np.ceil(2.0 * n_cells / alpha))


def gi_star(counts: np.ndarray, nrows: int, ncols: int, *, permutations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and one-sided p-values (in the direction of z) of a row-major grid of counts.

    ``permutations=0`` gives normal-approximation p-values. Otherwise the
    p-values come from total randomisation: under "no spatial pattern" the
    counts are exchangeable between cells, so a neighbourhood of ``k`` cells
    holds the sum of ``k`` counts drawn without replacement from the grid; that
    null distribution depends only on ``k`` (4, 6 or 9), is simulated
    ``permutations`` times per ``k`` (seeded) and gives
    ``p = (1 + #{simulated sums as extreme}) / (permutations + 1)``. Gi* is an
    increasing function of the neighbourhood sum for a given ``k``, so this is
    a permutation test of Gi* itself. (esda's conditional permutation keeps the
    cell's own count fixed, so with the cell in its own neighbourhood a single
    cell of many incidents is never tested against anything; total
    randomisation does not have that blind spot.)
    """
    import esda
    import libpysal

    counts = np.asarray(counts, dtype=float)
    if counts.sum() == 0 or np.all(counts == counts[0]):
        return np.zeros_like(counts), np.ones_like(counts)
    w = libpysal.weights.lat2W(nrows, ncols, rook=False)
    with np.errstate(invalid="ignore", divide="ignore"):  # esda's unused permutation fields on 0 permutations
        g = esda.G_Local(counts, w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs, dtype=float) if not np.all(counts == counts[0]) else np.zeros_like(counts)
    if permutations == 0:
        return z, np.asarray(g.p_norm, dtype=float)
    k_of = neighbourhood_cells(nrows, ncols)
    sums = _neighbourhood_sums(counts.reshape(nrows, ncols)).ravel()
    p = np.ones_like(counts)
    rng = np.random.default_rng(seed)
    for k in np.unique(k_of):
        sim = np.sort(draw_sums(counts, int(k), permutations, rng))
        here = k_of == k
        obs = sums[here]
        above = permutations - np.searchsorted(sim, obs - 1e-9, side="left")  # simulated >= observed
        below = np.searchsorted(sim, obs + 1e-9, side="right")  # simulated <= observed
        p[here] = (1.0 + np.where(z[here] >= 0, above, below)) / (permutations + 1.0)
    return z, p


def draw_sums(values: np.ndarray, k: int, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Sums of ``k`` values drawn without replacement from ``values``, ``n_draws`` times."""
    n = len(values)
    if k > n:
        msg = f"cannot draw {k} of {n} values without replacement"
        raise ValueError(msg)
    if k * k > n:  # duplicates would be common: take the k smallest of random keys instead
        idx = np.argpartition(rng.random((n_draws, n)), k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (n_draws, 1))
        return values[idx].sum(axis=1)
    idx = rng.integers(0, n, size=(n_draws, k))
    while True:
        s = np.sort(idx, axis=1)
        dup = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1)) if k > 1 else np.zeros(0, dtype=np.int64)
        if len(dup) == 0:
            break
        idx[dup] = rng.integers(0, n, size=(len(dup), k))
    return values[idx].sum(axis=1)


def _neighbourhood_sums(grid: np.ndarray) -> np.ndarray:
    padded = np.pad(grid, 1)
    nrows, ncols = grid.shape
    return sum(padded[1 + dr : 1 + dr + nrows, 1 + dc : 1 + dc + ncols] for dr in (-1, 0, 1) for dc in (-1, 0, 1))


def neighbourhood_cells(nrows: int, ncols: int) -> np.ndarray:
    """Cells in each cell's queen neighbourhood, itself included (9 inside, 6 on an edge, 4 in a corner)."""
    r = np.arange(nrows)
    c = np.arange(ncols)
    nr = np.minimum(r + 1, nrows - 1) - np.maximum(r - 1, 0) + 1
    nc = np.minimum(c + 1, ncols - 1) - np.maximum(c - 1, 0) + 1
    return (nr[:, None] * nc[None, :]).ravel()


def hotspot_cells(
    incidents,
    *,
    cell_m: float | None = None,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    hours: Iterable[int] | None = None,
    permutations: int | None = None,
    seed: int | None = None,
    alpha: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    correction: str = "fdr",
    inference: str = "permutation",
    cold_min_expected: float | None = None,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* of incident counts on a square grid.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    cell_m
        Cell size in metres (default :data:`geo.settings.hotspot_cell_m`).
    categories, sources, start, end, hours
        Filters (see :func:`geo.incidents.filters.filter_mask`).
    permutations, seed
        Permutation test (defaults :data:`geo.settings.hotspot_permutations`, :data:`geo.settings.hotspot_seed`);
        the permutations are raised as the module docstring says.
    alpha
        False discovery rate (``correction="fdr"``) or per-cell level (``"none"``);
        default :data:`geo.settings.effect_alpha`.
    bounds
        Area kept, WGS-84 (west, south, east, north); default the heat layer's area.
    correction
        ``"fdr"`` (Benjamini-Hochberg, default) or ``"none"``.
    inference
        ``"permutation"`` (default) or ``"normal"`` (see the module docstring).
    cold_min_expected
        Fewest expected incidents in a neighbourhood for a cold spot
        (default :data:`geo.settings.hotspot_cold_min_expected`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell of the grid (EPSG:4326 polygons): ``cell``, ``col``,
        ``row``, ``count``, ``expected`` (neighbourhood's expected count),
        ``gi_z`` (Gi* z-score), ``p_sim`` (one-sided), ``p_value`` (two-sided),
        ``q_value`` (adjusted by the correction), ``cold_testable``, ``label``
        (``hot``, ``cold`` or ``not significant``) and ``label_uncorrected``
        (the label at ``alpha`` without correction, for comparison). ``attrs``
        carry cell size, permutations, seed, alpha, correction, inference,
        the metric CRS, ``method`` (:func:`geo.incidents.reporting.method_line`)
        and ``resolution_note``.
    """
    if inference not in INFERENCES:
        msg = f"unknown inference {inference!r}; use one of {', '.join(INFERENCES)}"
        raise ValueError(msg)
    if correction not in CORRECTIONS:
        msg = f"unknown correction {correction!r}; use one of {', '.join(CORRECTIONS)}"
        raise ValueError(msg)
    inc = as_arrays(incidents)
    cell_m = float(settings.hotspot_cell_m if cell_m is None else cell_m)
    permutations = int(settings.hotspot_permutations if permutations is None else permutations)
    seed = int(settings.hotspot_seed if seed is None else seed)
    alpha = float(settings.effect_alpha if alpha is None else alpha)
    cold_min = float(settings.hotspot_cold_min_expected if cold_min_expected is None else cold_min_expected)
    west, south, east, north = bounds or settings.heat_bounds or settings.shahe_bounds
    mask = filter_mask(inc, categories=categories, sources=sources, start=start, end=end, hours=hours)
    lon, lat = inc.lon[mask], inc.lat[mask]
    inside = np.isfinite(lon) & np.isfinite(lat) & (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    lon, lat = lon[inside], lat[inside]
    if len(lon) == 0:
        msg = "no incidents pass the filters inside the area; widen the filters"
        raise ValueError(msg)
    x, y = project_lonlat(lon, lat)
    ix = np.floor_divide(np.asarray(x), cell_m).astype(np.int64)
    iy = np.floor_divide(np.asarray(y), cell_m).astype(np.int64)
    x0, y0 = int(ix.min()), int(iy.min())
    ncols, nrows = int(ix.max()) - x0 + 1, int(iy.max()) - y0 + 1
    if ncols * nrows > MAX_CELLS:
        msg = f"a grid of {ncols} x {nrows} cells of {cell_m:g} m is too large for Gi*; use larger cells"
        raise ValueError(msg)
    if ncols * nrows < 9:
        msg = f"the incidents span only {ncols} x {nrows} cells of {cell_m:g} m; use smaller cells for a hot-spot map"
        raise ValueError(msg)
    # lat2W numbers cells row by row: id = row * ncols + col.
    counts = np.bincount((iy - y0) * ncols + (ix - x0), minlength=nrows * ncols).astype(float)
    m = nrows * ncols
    note = ""
    if inference == "permutation":
        if correction == "fdr":
            permutations = min(max(permutations, needed_permutations(m, alpha)), max(permutations, MAX_PERMUTATIONS))
            if 2.0 / (permutations + 1) > alpha / m:
                note = f"{permutations} permutations cannot resolve p-values small enough for {m} cells; use inference='normal' or larger cells"
        permutations = max(permutations, 1)
    else:
        permutations = 0
    z, p = gi_star(counts, nrows, ncols, permutations=permutations, seed=seed)
    p_two = np.minimum(1.0, 2.0 * p)
    # Hot and cold are two families, each corrected at alpha/2 on its one-sided p-values: one-sided
    # Gi* tests of overlapping neighbourhoods are positively dependent, where BH holds, and the two
    # halves add up to alpha. (One family of two-sided p-values let 6.5 % of noise grids through.)
    p_hot = np.where(z > 0, p, 1.0)
    p_cold = np.where(z < 0, p, 1.0)
    sig_hot, q_hot = correct(p_hot, alpha / 2.0, correction)
    sig_cold, q_cold = correct(p_cold, alpha / 2.0, correction)
    significant = np.where(z > 0, sig_hot, sig_cold)
    q = np.minimum(1.0, 2.0 * np.where(z > 0, q_hot, q_cold))
    expected = counts.mean() * neighbourhood_cells(nrows, ncols)
    cold_ok = expected >= cold_min
    cells = np.arange(nrows * ncols)
    col, row = cells % ncols, cells // ncols
    minx = (col + x0) * cell_m
    miny = (row + y0) * cell_m
    polys = shapely.box(minx, miny, minx + cell_m, miny + cell_m)
    label = _labels(significant, z, cold_ok)
    raw = _labels(p_two <= alpha, z, cold_ok)
    gdf = gpd.GeoDataFrame(
        pd.DataFrame({
            "cell": cells, "col": col, "row": row, "count": counts.astype(np.int64), "expected": expected, "gi_z": z,
            "p_sim": p, "p_value": p_two, "q_value": q, "cold_testable": cold_ok, "label": label, "label_uncorrected": raw,
        }),
        geometry=gpd.GeoSeries(polys, crs=settings.metric_crs),
    ).to_crs(settings.storage_crs)
    tests = {"permutation": f"{permutations} total-randomisation permutations, seed {seed}", "normal": "normal approximation"}
    how = f"Getis-Ord Gi* on {cell_m:g} m cells (queen neighbourhood with the cell), {tests[inference]}"
    fix = f"{CORRECTIONS[correction]} at {alpha:g}" if correction == "fdr" else CORRECTIONS[correction]
    caveat = f"cold spots only where a neighbourhood expects >= {cold_min:g} incidents; where incidents gather, not why"
    gdf.attrs.update(cell_m=cell_m, permutations=permutations, seed=seed, alpha=alpha, metric_crs=settings.metric_crs, correction=correction,
                     inference=inference, cold_min_expected=cold_min, resolution_note=note, method=method_line(how, fix, caveat))
    return gdf


def _labels(significant: np.ndarray, z: np.ndarray, cold_ok: np.ndarray) -> np.ndarray:
    return np.where(significant & (z > 0), "hot", np.where(significant & (z < 0) & cold_ok, "cold", "not significant"))


def hotspot_table(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the significant cells of :func:`hotspot_cells` as a table, hottest first, with centre lon/lat."""
    sig = cells[cells["label"] != "not significant"]
    c = sig.geometry.to_crs(settings.metric_crs).centroid.to_crs(settings.storage_crs)
    out = pd.DataFrame(sig.drop(columns=sig.geometry.name))
    out["lon"], out["lat"] = c.x.to_numpy(), c.y.to_numpy()
    return out.sort_values("gi_z", ascending=False).reset_index(drop=True)
