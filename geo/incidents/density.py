"""Incident density on a square grid masked to the subdistrict: the numbers behind the map's heat layer.

The density at a cell is the quartic (biweight) kernel estimate at the cell's
centre, in incidents per km² (per year when a period is a year), from every
incident within the bandwidth, measured in the metric CRS of
:data:`geo.settings.metric_crs`. Cells whose centre lies outside the
subdistrict (inclusive of its edge) carry no value: the layer is *masked* at the
boundary instead of fading out, and its colours are scaled by a robust
quantile (by default the 95th percentile of the positive cell values), so a
handful of extreme cells cannot wash out the rest and a quiet area is not
painted at all.

Colour classes (:func:`density_classes`) are fractions of that scale:
0 below 10 % (not drawn), then [10 %, 25 %), [25 %, 50 %), [50 %, 75 %),
[75 %, 100 %) and the top class at or above the scale (the hottest 5 % of cells).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo.crs import project_lonlat
from geo.incidents.filters import filter_mask
from geo.incidents.store import as_arrays
from geo.incidents.taxonomy import CATEGORY_NAMES

#: Side of a grid cell in metres.
CELL_M = 100.0
#: Radius of the quartic kernel in metres (an incident counts up to this distance, inclusive).
BANDWIDTH_M = 300.0
#: Quantile of the positive cell values that the top colour class starts at.
SCALE_QUANTILE = 0.95
#: Lower edges of colour classes 1..5 as fractions of the scale; class 0 (below the first) is not drawn.
CLASS_BREAKS: tuple[float, ...] = (0.10, 0.25, 0.50, 0.75, 1.00)


@dataclass(frozen=True)
class Grid:
    """A square grid in the metric CRS: cell (row ``j``, column ``i``) spans
    ``[x0 + i*cell_m, x0 + (i+1)*cell_m] x [y0 + j*cell_m, y0 + (j+1)*cell_m]``; row 0 is the southernmost.
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres (metres), row-major: index ``j * nx + i``."""
        jj, ii = np.divmod(np.arange(self.nx * self.ny), self.nx)
        return self.x0 + (ii + 0.5) * self.cell_m, self.y0 + (jj + 0.5) * self.cell_m


def grid_over(area, *, cell_m: float = CELL_M) -> Grid:
    """The grid of ``cell_m`` cells, aligned on multiples of ``cell_m``, that covers ``area`` (a metric geometry)."""
    if cell_m <= 0:
        msg = f"cell_m must be positive, got {cell_m}"
        raise ValueError(msg)
    west, south, east, north = area.bounds
    x0, y0 = np.floor(west / cell_m) * cell_m, np.floor(south / cell_m) * cell_m
    nx = max(1, int(np.ceil((east - x0) / cell_m)))
    ny = max(1, int(np.ceil((north - y0) / cell_m)))
    return Grid(float(x0), float(y0), float(cell_m), nx, ny)


def inside_mask(grid: Grid, area) -> np.ndarray:
    """True for cells whose centre lies in ``area`` or on its edge (metric geometry), row-major."""
    cx, cy = grid.centres()
    return shapely.intersects_xy(area, cx, cy)


def quartic_kernel(distance_m: np.ndarray, bandwidth_m: float) -> np.ndarray:
    """The quartic kernel ``3 / (pi h²) * (1 - (d/h)²)²`` for ``d <= h`` (else 0), per m²; it integrates to 1."""
    d = np.asarray(distance_m, dtype=float)
    u2 = (d / bandwidth_m) ** 2
    return np.where(d <= bandwidth_m, 3.0 / (np.pi * bandwidth_m**2) * (1.0 - u2) ** 2, 0.0)


def kernel_density(
    cx: np.ndarray, cy: np.ndarray, x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int, *,
    bandwidth_m: float = BANDWIDTH_M, weights: np.ndarray | None = None,
) -> np.ndarray:
    """Kernel density at points ``(cx, cy)`` of the incidents at ``(x, y)``, separately per group.

    Parameters
    ----------
    cx, cy
        Where the density is wanted (metres).
    x, y
        Incidents (metres).
    group
        Integer group of each incident, ``0 <= group < n_groups`` (e.g. year x category).
    n_groups
        Number of groups.
    bandwidth_m
        Kernel radius.
    weights
        Incidents at each point (e.g. a cell's count); None: one each.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_groups, len(cx))``: incidents per km².
    """
    out = np.zeros((n_groups, len(cx)))
    if len(x) == 0 or len(cx) == 0:
        return out
    # "ndarray" output keeps the pairs at distance 0 (an incident exactly at a cell centre), which sparse matrices drop.
    pairs = cKDTree(np.c_[cx, cy]).sparse_distance_matrix(cKDTree(np.c_[x, y]), bandwidth_m, output_type="ndarray")
    weight = quartic_kernel(pairs["v"], bandwidth_m) * 1e6
    if weights is not None:
        weight = weight * np.asarray(weights, dtype=float)[pairs["j"]]
    key = np.asarray(group, dtype=np.int64)[pairs["j"]] * len(cx) + pairs["i"]
    out += np.bincount(key, weights=weight, minlength=n_groups * len(cx)).reshape(n_groups, len(cx))
    return out


def robust_scale(values: np.ndarray, *, q: float = SCALE_QUANTILE) -> float:
    """The ``q`` quantile (linear interpolation) of the positive, finite ``values``; 0 when there are none."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.quantile(v, q)) if len(v) else 0.0


def density_classes(values: np.ndarray, scale: float) -> np.ndarray:
    """Colour class 0..5 of each value: 0 below ``CLASS_BREAKS[0] * scale`` (or when ``scale`` is 0), else the
    number of breaks ``b`` with ``value >= b * scale`` (so values at or above the scale are class 5)."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    if scale <= 0:
        return np.zeros(v.shape, dtype=np.int8)
    edges = np.asarray(CLASS_BREAKS) * scale
    return np.searchsorted(edges, v, side="right").astype(np.int8)


@dataclass
class DensityCube:
    """Kernel density of the filtered incidents by category and year, at the cells inside the area.

    Attributes
    ----------
    grid
        The grid (metric CRS).
    inside
        Row-major mask of the grid's cells kept (centre inside the area, edge inclusive).
    years
        Calendar years from the first to the last incident (local time), every year in between included.
    categories
        Categories present, in :data:`~geo.incidents.CATEGORY_NAMES` order.
    density
        Shape ``(1 + len(categories), 1 + len(years), inside.sum())``, incidents per km² per year:
        index 0 on the first axis is every category together, index 0 on the second the mean over the years.
    scales
        Per first-axis entry: the robust scale (:func:`robust_scale`) of that category's cell values over all
        its years and the mean, so moving between years keeps one colour scale.
    n_incidents
        Incidents that passed the filters and have coordinates (years and categories are theirs; those
        farther than the bandwidth from every cell add nothing to the density).
    """

    grid: Grid
    inside: np.ndarray
    years: list[int]
    categories: list[str]
    density: np.ndarray
    scales: np.ndarray
    n_incidents: int


def density_cube(
    incidents,
    area,
    *,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    hours: Iterable[int] | None = None,
    cell_m: float = CELL_M,
    bandwidth_m: float = BANDWIDTH_M,
    q: float = SCALE_QUANTILE,
) -> DensityCube:
    """Density of the incidents that pass the filters, by category and year, masked to ``area``.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame.
    area
        The subdistrict, a (multi)polygon in WGS-84 degrees.
    categories, sources, start, end, hours
        Filters (see :func:`geo.incidents.filters.filter_mask`).
    cell_m, bandwidth_m
        Grid cell side and kernel radius, metres.
    q
        Quantile of the robust scale.

    Returns
    -------
    DensityCube
    """
    inc = as_arrays(incidents)
    grid, inside = _grid_of(area, cell_m)
    mask = filter_mask(inc, categories=categories, sources=sources, start=start, end=end, hours=hours)
    mask &= np.isfinite(inc.lon) & np.isfinite(inc.lat)
    n = int(mask.sum())
    x, y = project_lonlat(inc.lon[mask], inc.lat[mask]) if n else (np.zeros(0), np.zeros(0))
    year = inc.time_s[mask].astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    return _cube(grid, inside, np.asarray(x, dtype=float), np.asarray(y, dtype=float), inc.category[mask].astype(int), year,
                 np.ones(n), bandwidth_m=bandwidth_m, q=q)


def density_from_cells(
    cells,
    area,
    *,
    cell_m: float = CELL_M,
    bandwidth_m: float = BANDWIDTH_M,
    q: float = SCALE_QUANTILE,
) -> DensityCube:
    """Density as :func:`density_cube`, from incidents already counted per cell, category and year.

    Each cell's count is put at the cell's centre and weighs that many
    incidents in the same quartic kernel (what :func:`geo.store.heat.incident_cells`
    gives, so a big store sends cells, not incidents).

    The approximation is that each incident moves to its cell's centre, at most
    ``cell_m / sqrt(2)`` away (71 m for 100 m cells). The kernel's slope is at
    most ``KERNEL_SLOPE / bandwidth_m**3`` per metre (see :data:`KERNEL_SLOPE`),
    so a density value changes by at most ``1e6 * KERNEL_SLOPE * cell_m / sqrt(2) / bandwidth_m**3``
    incidents per km² per incident within ``bandwidth_m + cell_m / sqrt(2)`` of its
    cell (3.9 per km² per incident for 100 m cells and a 300 m bandwidth);
    :func:`cell_error_bound` gives that bound. ``n_incidents`` is the sum of the counts.

    Parameters
    ----------
    cells
        A frame with ``x_m``, ``y_m`` (cell centres in the metric CRS), ``category`` (name), ``year`` and ``count``.
    area
        The subdistrict, a (multi)polygon in WGS-84 degrees.
    cell_m, bandwidth_m, q
        As in :func:`density_cube` (``cell_m`` is the density grid's; the counting cells may differ).

    Returns
    -------
    DensityCube
    """
    grid, inside = _grid_of(area, cell_m)
    cat_code = {c: k for k, c in enumerate(CATEGORY_NAMES)}
    bad = sorted({str(c) for c in cells["category"]} - set(cat_code))
    if bad:
        msg = f"cells: unknown categories {bad}; use one of {list(CATEGORY_NAMES)}"
        raise ValueError(msg)
    codes = np.asarray([cat_code[c] for c in cells["category"]], dtype=int)
    return _cube(grid, inside, np.asarray(cells["x_m"], dtype=float), np.asarray(cells["y_m"], dtype=float), codes,
                 np.asarray(cells["year"], dtype=int), np.asarray(cells["count"], dtype=float), bandwidth_m=bandwidth_m, q=q)


#: Largest slope of the quartic kernel times ``bandwidth_m**3``: ``max |K'(d)| = 12 / (pi h³) * max u (1 - u²)``
#: over ``0 <= u <= 1``, at ``u = 1/sqrt(3)``: ``8 / (pi sqrt(3) h³)`` per m³.
KERNEL_SLOPE = 8.0 / (np.pi * np.sqrt(3.0))


def cell_error_bound(cell_m: float = CELL_M, bandwidth_m: float = BANDWIDTH_M) -> float:
    """Most a density value (per km²) moves per incident when incidents are put at their ``cell_m`` cell's centre."""
    return 1e6 * KERNEL_SLOPE * (cell_m / np.sqrt(2.0)) / bandwidth_m**3


def _grid_of(area, cell_m: float):
    ax, ay = project_lonlat(*(np.asarray(c, dtype=float) for c in shapely.get_coordinates(area).T))
    area_m = shapely.transform(area, lambda _xy: np.c_[ax, ay])
    grid = grid_over(area_m, cell_m=cell_m)
    return grid, inside_mask(grid, area_m)


def _cube(grid: Grid, inside: np.ndarray, x: np.ndarray, y: np.ndarray, codes: np.ndarray, all_years: np.ndarray, weights: np.ndarray, *,
          bandwidth_m: float, q: float) -> DensityCube:
    """The cube of incidents (or weighted cell centres) at ``(x, y)`` with category codes, years and weights."""
    cx, cy = (c[inside] for c in grid.centres())
    cell_m = grid.cell_m
    n = round(float(weights.sum()))
    # only incidents within the bandwidth of the grid can reach a cell: a district's worth of others is skipped
    west, south = grid.x0 - bandwidth_m, grid.y0 - bandwidth_m
    east, north = grid.x0 + grid.nx * cell_m + bandwidth_m, grid.y0 + grid.ny * cell_m + bandwidth_m
    near = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    x, y, near_codes, year, near_w = x[near], y[near], codes[near], all_years[near], weights[near]
    cats = [c for k, c in enumerate(CATEGORY_NAMES) if (codes == k).any()]
    years = list(range(int(all_years.min()), int(all_years.max()) + 1)) if len(all_years) else []
    ny = max(1, len(years))
    cat_index = np.full(len(CATEGORY_NAMES), -1)
    cat_index[[CATEGORY_NAMES.index(c) for c in cats]] = np.arange(len(cats))
    group = cat_index[near_codes] * ny + (year - (years[0] if years else 0))
    per = kernel_density(cx, cy, x, y, group, max(1, len(cats)) * ny, bandwidth_m=bandwidth_m, weights=near_w)
    per = per.reshape(max(1, len(cats)), ny, len(cx))[: len(cats)]
    by_cat = np.concatenate([per.sum(axis=0, keepdims=True), per], axis=0)  # [0]: every category
    density = np.concatenate([by_cat.mean(axis=1, keepdims=True), by_cat], axis=1)  # [:, 0]: mean year
    scales = np.array([robust_scale(d, q=q) for d in density])
    return DensityCube(grid, inside, years, cats, density, scales, n)
