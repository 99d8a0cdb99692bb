"""Hot spots of incidents: Getis-Ord Gi* on a metric grid of counts.

Why a grid and not the estates: 24 estates are too few, and too unevenly
spread, for a local statistic on their own (most would have one or two
neighbours), and incidents happen in streets and parks as well as inside
estates. So incidents are counted on square cells of
:data:`geo.settings.hotspot_cell_m` metres in the metric CRS (EPSG:4545 for
Shahe) covering the incidents' extent, empty cells included, and Gi* compares
each cell's neighbourhood (queen contiguity, the cell itself included: the
"star") with the whole grid.

Significance comes from conditional permutations (seeded, so a run is
repeatable): ``p_sim`` is esda's pseudo p-value in the direction of the
observed statistic (one-sided), and a cell is a hot spot when its z-score is
positive and ``p_sim`` is below alpha, a cold spot when negative. With
hundreds of cells some cells pass by chance (about alpha of them): read
isolated hot cells with care, clusters of them with more confidence.
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
from geo.incidents.filters import filter_mask
from geo.incidents.store import as_arrays

#: Largest grid analysed; a larger one asks for bigger cells.
MAX_CELLS = 250_000


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
        Permutation test (defaults :data:`geo.settings.hotspot_permutations`, :data:`geo.settings.hotspot_seed`).
    alpha
        Significance level (default :data:`geo.settings.effect_alpha`).
    bounds
        Area kept, WGS-84 (west, south, east, north); default the heat layer's area.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell of the grid (EPSG:4326 polygons): ``cell``, ``col``,
        ``row``, ``count``, ``gi_z`` (Gi* z-score), ``p_sim``, ``label``
        (``hot``, ``cold`` or ``not significant``). ``attrs`` carry cell size,
        permutations, seed, alpha and the metric CRS.
    """
    import esda
    import libpysal

    inc = as_arrays(incidents)
    cell_m = float(settings.hotspot_cell_m if cell_m is None else cell_m)
    permutations = int(settings.hotspot_permutations if permutations is None else permutations)
    seed = int(settings.hotspot_seed if seed is None else seed)
    alpha = float(settings.effect_alpha if alpha is None else alpha)
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
    w = libpysal.weights.lat2W(nrows, ncols, rook=False)
    if counts.sum() == 0 or np.all(counts == counts[0]):
        z = np.zeros_like(counts)
        p = np.ones_like(counts)
    else:
        with warnings.catch_warnings():
            # esda announces a future change of its default alternative hypothesis; G_Local
            # does not take the argument yet, and p_sim is documented above as one-sided.
            warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization", category=DeprecationWarning)
            g = esda.G_Local(counts, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1)
        z = np.asarray(g.Zs, dtype=float)
        p = np.asarray(g.p_sim, dtype=float) if permutations > 0 else np.asarray(g.p_norm, dtype=float)
    cells = np.arange(nrows * ncols)
    col, row = cells % ncols, cells // ncols
    minx = (col + x0) * cell_m
    miny = (row + y0) * cell_m
    polys = shapely.box(minx, miny, minx + cell_m, miny + cell_m)
    label = np.where((p < alpha) & (z > 0), "hot", np.where((p < alpha) & (z < 0), "cold", "not significant"))
    gdf = gpd.GeoDataFrame(
        pd.DataFrame({"cell": cells, "col": col, "row": row, "count": counts.astype(np.int64), "gi_z": z, "p_sim": p, "label": label}),
        geometry=gpd.GeoSeries(polys, crs=settings.metric_crs),
    ).to_crs(settings.storage_crs)
    gdf.attrs.update(cell_m=cell_m, permutations=permutations, seed=seed, alpha=alpha, metric_crs=settings.metric_crs)
    return gdf


def hotspot_table(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the significant cells of :func:`hotspot_cells` as a table, hottest first, with centre lon/lat."""
    sig = cells[cells["label"] != "not significant"]
    c = sig.geometry.to_crs(settings.metric_crs).centroid.to_crs(settings.storage_crs)
    out = pd.DataFrame(sig.drop(columns=sig.geometry.name))
    out["lon"], out["lat"] = c.x.to_numpy(), c.y.to_numpy()
    return out.sort_values("gi_z", ascending=False).reset_index(drop=True)
