"""Hot spots of incidents: Getis-Ord Gi* on a metric grid of counts.

Why a grid and not the estates: 24 estates are too few, and too unevenly
spread, for a local statistic on their own (most would have one or two
neighbours), and incidents happen in streets and parks as well as inside
estates. So incidents are counted on square cells of
:data:`geo.settings.hotspot_cell_m` metres in the metric CRS (EPSG:4545 for
Shahe) covering the incidents' extent, empty cells included, and Gi* compares
each cell's neighbourhood (queen contiguity, the cell itself included: the
"star") with the whole grid.

Statistic. Gi* is computed (``esda.G_Local``, ``star=True``, binary
weights) on the cells' counts after the Anscombe transform
``2 * sqrt(count + 3/8)`` (:func:`stabilise`). Gi* standardises every
neighbourhood with one variance for the whole grid, but the variance of a
count grows with its mean: on raw counts a few very busy cells (one estate's
hundreds of incidents in one cell) inflate that variance and hide a
diffuse hot spot such as a park, and on pure noise the neighbourhood sums of
Poisson counts are what the normal reference expects only after the transform
makes their variance about 1 whatever the mean. ``gi_z`` is that z-score.

Significance (``p_sim`` one-sided in the direction of the statistic,
``p_value`` two-sided, ``min(1, 2 * p_sim)``), two ways:

* ``inference="normal"`` (default): the analytical z-score of Gi* against the
  standard normal (esda's ``p_norm``). On pure spatial noise (6,000 uniform
  incidents over a 3 km square, 200 m cells) these p-values are uniform and,
  after the correction below, 3.4 % of 4,000 noise grids had a flagged cell
  (seeds 5000-8999).
* ``inference="permutation"``: esda's conditional permutation (the cell's own
  value fixed, the other values shuffled over its neighbours; seeded). Because
  the cell itself is in its Gi* neighbourhood and stays fixed, a single busy
  cell with ordinary neighbours is never extreme under it: isolated hot
  estates are missed, which is why it is not the default.

Multiple testing. Hundreds of cells are tested at once: at a plain 5 % level
about 5 % of cells on pure noise pass by chance (19 % of cells on 6,000 random
incidents over 3 km were flagged that way). By default the cells' two-sided
p-values are corrected together with Benjamini-Hochberg
(:mod:`geo.incidents.fdr`; ``q_value`` is the adjusted p-value, the FDR-
corrected value the map shows), so that at most ``alpha`` of the reported
cells are expected to be false findings, and on pure noise (every cell null)
a map with any flagged cell appears in at most about ``alpha`` of grids.
Cold-looking cells where cold is not testable (below) are not tested at all,
so they do not dilute the correction. ``correction="none"`` gives the
uncorrected map. With permutations, the smallest pseudo p-value ``P``
permutations can give is ``1/(P+1)``, which must be below ``alpha/m`` for any
of ``m`` cells to pass, so the permutations are raised to ``2m/alpha`` when
needed (at most :data:`MAX_PERMUTATIONS`; ``attrs["resolution_note"]`` says
when that is not enough).

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

import warnings
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
MAX_PERMUTATIONS = 99_999
INFERENCES = ("normal", "permutation")


def needed_permutations(n_cells: int, alpha: float) -> int:
    """Fewest permutations whose smallest two-sided p-value, ``2/(P+1)``, can pass BH among ``n_cells`` cells."""
    return int(np.ceil(2.0 * n_cells / alpha))


def stabilise(counts) -> np.ndarray:
    """Anscombe's variance-stabilising transform of counts, ``2 * sqrt(count + 3/8)`` (variance about 1 for Poisson counts)."""
    return 2.0 * np.sqrt(np.asarray(counts, dtype=float) + 0.375)


def gi_star(values: np.ndarray, nrows: int, ncols: int, *, permutations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and one-sided p-values (in the direction of z) of a row-major grid of values (esda.G_Local, star).

    ``permutations=0`` gives the normal-approximation p-values (esda's ``p_norm``); otherwise esda's
    conditional permutation p-values (``p_sim``, seeded). A grid of equal values has z 0 and p 1.
    """
    import esda
    import libpysal

    values = np.asarray(values, dtype=float)
    if np.all(values == values[0]):
        return np.zeros_like(values), np.ones_like(values)
    w = libpysal.weights.lat2W(nrows, ncols, rook=False)
    # esda warns that its conditional randomisation will default to two-sided p-values; G_Local takes no
    # 'alternative' yet and gives the directed (one-sided) p-value this function documents and the caller doubles.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():  # and unused fields on 0 permutations
        warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization", category=DeprecationWarning)
        g = esda.G_Local(values, w, transform="B", star=True, permutations=permutations, seed=seed if permutations else None, n_jobs=1)
    z = np.asarray(g.Zs, dtype=float)
    p = np.asarray(g.p_norm if permutations == 0 else g.p_sim, dtype=float)
    return z, p


def neighbourhood_sums(grid: np.ndarray) -> np.ndarray:
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
    inference: str = "normal",
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
        Conditional permutation test, ``inference="permutation"`` only (defaults
        :data:`geo.settings.hotspot_permutations`, :data:`geo.settings.hotspot_seed`);
        the permutations are raised as the module docstring says.
    alpha
        False discovery rate (``correction="fdr"``) or per-cell level (``"none"``);
        default :data:`geo.settings.effect_alpha`.
    bounds
        Area kept, WGS-84 (west, south, east, north); default the heat layer's area.
    correction
        ``"fdr"`` (Benjamini-Hochberg, default) or ``"none"``.
    inference
        ``"normal"`` (default: analytical Gi* z) or ``"permutation"`` (see the module docstring).
    cold_min_expected
        Fewest expected incidents in a neighbourhood for a cold spot
        (default :data:`geo.settings.hotspot_cold_min_expected`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell of the grid (EPSG:4326 polygons): ``cell``, ``col``,
        ``row``, ``count``, ``expected`` (neighbourhood's expected count),
        ``gi_z`` (Gi* z-score of the stabilised counts), ``p_sim`` (one-sided),
        ``p_value`` (two-sided, uncorrected), ``q_value`` (adjusted by the correction; NaN where a
        cell was not tested: cold-looking and not cold-testable), ``cold_testable``, ``label``
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
    cell, (x0, y0, ncols, nrows), _ = grid_cells(inc, mask, cell_m=cell_m, bounds=(west, south, east, north))
    # lat2W numbers cells row by row: id = row * ncols + col.
    counts = np.bincount(cell, minlength=nrows * ncols).astype(float)
    r = test_cells(counts, nrows, ncols, alpha=alpha, correction=correction, inference=inference, permutations=permutations, seed=seed,
                   cold_min_expected=cold_min)
    z, p, p_two, q, expected, cold_ok, tested, label, raw = (r[k] for k in ("gi_z", "p_sim", "p_value", "q_value", "expected", "cold_testable",
                                                                          "tested", "label", "label_uncorrected"))
    permutations, note = r["permutations"], r["resolution_note"]
    cells = np.arange(nrows * ncols)
    col, row = cells % ncols, cells // ncols
    minx = (col + x0) * cell_m
    miny = (row + y0) * cell_m
    polys = shapely.box(minx, miny, minx + cell_m, miny + cell_m)
    gdf = gpd.GeoDataFrame(
        pd.DataFrame({
            "cell": cells, "col": col, "row": row, "count": counts.astype(np.int64), "expected": expected, "gi_z": z,
            "p_sim": p, "p_value": p_two, "q_value": q, "cold_testable": cold_ok, "label": label, "label_uncorrected": raw,
        }),
        geometry=gpd.GeoSeries(polys, crs=settings.metric_crs),
    ).to_crs(settings.storage_crs)
    tests = {"permutation": f"esda conditional permutation ({permutations}, seed {seed})", "normal": "analytical z (normal)"}
    how = f"Getis-Ord Gi* (esda, star) on {cell_m:g} m cells of Anscombe-stabilised counts, queen neighbourhood with the cell, {tests[inference]}"
    fix = (f"{CORRECTIONS[correction]} at {alpha:g} over the {int(tested.sum())} tested cells (q shown)" if correction == "fdr"
           else CORRECTIONS[correction])
    caveat = f"cold spots only where a neighbourhood expects >= {cold_min:g} incidents; where incidents gather, not why"
    gdf.attrs.update(cell_m=cell_m, permutations=permutations, seed=seed, alpha=alpha, metric_crs=settings.metric_crs, correction=correction,
                     inference=inference, cold_min_expected=cold_min, resolution_note=note, method=method_line(how, fix, caveat))
    return gdf


def test_cells(counts: np.ndarray, nrows: int, ncols: int, *, alpha: float, correction: str = "fdr", inference: str = "normal",
               permutations: int = 0, seed: int = 0, cold_min_expected: float = 5.0) -> dict:
    """Gi* and its corrected test for a row-major grid of counts (the statistics of :func:`hotspot_cells`, without geometry).

    Returns
    -------
    dict
        Arrays ``gi_z``, ``p_sim``, ``p_value``, ``q_value``, ``expected``, ``cold_testable``, ``tested``,
        ``label``, ``label_uncorrected``, and ``permutations`` (as run) and ``resolution_note``.
    """
    counts = np.asarray(counts, dtype=float)
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
    z, p = gi_star(stabilise(counts), nrows, ncols, permutations=permutations, seed=seed)
    p_two = np.minimum(1.0, 2.0 * p)
    expected = counts.mean() * neighbourhood_cells(nrows, ncols)
    cold_ok = expected >= cold_min_expected
    # One family: every hot-looking cell and every cold-looking cell where cold means something, two-sided p-values.
    tested = (z > 0) | ((z < 0) & cold_ok)
    significant, q = correct(np.where(tested, p_two, np.nan), alpha, correction)
    return {"gi_z": z, "p_sim": p, "p_value": p_two, "q_value": q, "expected": expected, "cold_testable": cold_ok, "tested": tested,
            "label": _labels(significant, z, cold_ok), "label_uncorrected": _labels(tested & (p_two <= alpha), z, cold_ok),
            "permutations": permutations, "resolution_note": note}


def _labels(significant: np.ndarray, z: np.ndarray, cold_ok: np.ndarray) -> np.ndarray:
    return np.where(significant & (z > 0), "hot", np.where(significant & (z < 0) & cold_ok, "cold", "not significant"))


def grid_cells(inc, mask: np.ndarray, *, cell_m: float, bounds: tuple[float, float, float, float]):
    """Grid cell of each kept incident.

    Returns
    -------
    (cell, (x0, y0, ncols, nrows), kept)
        Row-major cell number of each kept incident, the grid's origin (in cells) and size,
        and the indices of the kept incidents (passing ``mask``, inside ``bounds``).

    Raises
    ------
    ValueError
        No incident kept, or a grid too large or too small.
    """
    west, south, east, north = bounds
    lon, lat = inc.lon, inc.lat
    kept = np.flatnonzero(mask & np.isfinite(lon) & np.isfinite(lat) & (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
    if len(kept) == 0:
        msg = "no incidents pass the filters inside the area; widen the filters"
        raise ValueError(msg)
    x, y = project_lonlat(lon[kept], lat[kept])
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
    return (iy - y0) * ncols + (ix - x0), (x0, y0, ncols, nrows), kept


def cell_polygons(x0: int, y0: int, ncols: int, nrows: int, cell_m: float) -> gpd.GeoSeries:
    """Square polygons of a row-major grid, in the storage CRS."""
    cells = np.arange(nrows * ncols)
    minx = (cells % ncols + x0) * cell_m
    miny = (cells // ncols + y0) * cell_m
    return gpd.GeoSeries(shapely.box(minx, miny, minx + cell_m, miny + cell_m), crs=settings.metric_crs).to_crs(settings.storage_crs)


def hotspot_table(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the significant cells of :func:`hotspot_cells` as a table, hottest first, with centre lon/lat."""
    sig = cells[cells["label"] != "not significant"]
    c = sig.geometry.to_crs(settings.metric_crs).centroid.to_crs(settings.storage_crs)
    out = pd.DataFrame(sig.drop(columns=sig.geometry.name))
    out["lon"], out["lat"] = c.x.to_numpy(), c.y.to_numpy()
    return out.sort_values("gi_z", ascending=False).reset_index(drop=True)
