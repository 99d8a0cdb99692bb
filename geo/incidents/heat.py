"""Heat-layer payloads that stay small whatever the number of incidents.

Up to :data:`geo.settings.heat_max_points` incidents, the payload is the
weighted points ``[lat, lon, weight]`` that folium's ``HeatMap`` takes. Above
that, incidents are aggregated on the server onto a square grid in the metric
CRS (EPSG:4545 for Shahe) and the payload is the cell centres with their
counts; the cell size starts at :data:`geo.settings.heat_min_cell_m` and
doubles until the JSON fits :data:`geo.settings.heat_budget_bytes`. Rows with
NaN coordinates or outside the area (:data:`geo.settings.heat_bounds`, default
the approximate :data:`geo.settings.shahe_bounds`) never reach the browser.

Everything runs on NumPy arrays (:class:`~geo.incidents.IncidentArrays`):
filters are boolean masks, projection is :class:`pyproj.Transformer` calls
(two threads for large inputs), aggregation is floor division and
:func:`numpy.bincount` (or :func:`numpy.unique` for very large grids). Only
the first grid level is summed from the incidents; each doubling is summed
from the previous level's cells, and levels that cannot fit are skipped (see
:func:`_first_level`). No shapely object is made per incident.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyproj

from geo import settings
from geo.crs import metric_to_lonlat_transformer, project_lonlat
from geo.incidents.filters import filter_mask
from geo.incidents.store import as_arrays

#: Decimals of lat/lon in a payload (about 1 m).
PAYLOAD_DECIMALS = 5
#: Largest dense grid aggregated with bincount; larger grids use np.unique.
_DENSE_CELLS = 4_000_000
#: Incidents from which the projection runs in two threads.
_THREAD_MIN = 500_000


@dataclass
class HeatPayload:
    """A heat layer ready for the browser.

    Attributes
    ----------
    data
        ``[[lat, lon, weight], ...]`` (WGS-84 degrees; weight = incidents).
    json
        ``data`` as compact JSON text, the bytes actually sent.
    bytes
        Size of ``json`` in UTF-8 bytes.
    kind
        ``"points"`` or ``"grid"``.
    cell_size_m
        Grid cell size in metres (None for points).
    n_incidents
        Incidents that passed the filters and lie in the area.
    n_dropped
        Incidents that passed the filters but had NaN coordinates or lay outside the area.
    max_weight
        Largest weight (for HeatMap's ``max_val``).
    description
        One line saying what the layer shows.
    """

    data: list
    json: str
    bytes: int
    kind: str
    cell_size_m: float | None
    n_incidents: int
    n_dropped: int
    max_weight: float
    description: str


def _dumps(lat: np.ndarray, lon: np.ndarray, w: np.ndarray) -> tuple[list, str]:
    lat_r = np.round(lat, PAYLOAD_DECIMALS)
    lon_r = np.round(lon, PAYLOAD_DECIMALS)
    w_list = [int(v) if float(v).is_integer() else round(float(v), 3) for v in w.tolist()]
    data = [[a, b, c] for a, b, c in zip(lat_r.tolist(), lon_r.tolist(), w_list, strict=True)]
    return data, json.dumps(data, separators=(",", ":"))


def aggregate_grid(x: np.ndarray, y: np.ndarray, cell_m: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum points into square cells of ``cell_m`` metres.

    Parameters
    ----------
    x, y
        Metric coordinates (metres).
    cell_m
        Cell size in metres; cells are aligned on multiples of it.
    weights
        Weight per point (default 1).

    Returns
    -------
    (cx, cy, total)
        Centres of non-empty cells (metres) and their summed weights.
    """
    if len(x) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    x0, y0 = int(np.floor(x.min() / cell_m)), int(np.floor(y.min() / cell_m))
    # Offsets from the lowest cell are non-negative, so truncation is floor division (and faster).
    # int32 indices: casting floats to int32 is several times faster than to int64 here.
    ix = ((x - x0 * cell_m) * (1.0 / cell_m)).astype(np.int32)
    iy = ((y - y0 * cell_m) * (1.0 / cell_m)).astype(np.int32)
    nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
    key = ix * np.int32(ny) + iy if nx * ny < 2**31 else ix.astype(np.int64) * ny + iy
    if nx * ny <= _DENSE_CELLS:
        total = np.bincount(key, weights=weights, minlength=nx * ny)
        cells = np.flatnonzero(total)
        total = total[cells]
    else:
        cells, inverse = np.unique(key, return_inverse=True)
        total = np.bincount(inverse, weights=weights)
    cx = (cells // ny + x0 + 0.5) * cell_m
    cy = (cells % ny + y0 + 0.5) * cell_m
    return cx, cy, total


def _project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to :data:`geo.settings.metric_crs`, in two threads for large inputs (PROJ runs without the GIL)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or len(lon) < _THREAD_MIN:
        return project_lonlat(lon, lat)
    x, y = np.empty_like(lon), np.empty_like(lat)
    bounds = np.linspace(0, len(lon), workers + 1).astype(int)

    def work(k: int) -> None:
        # A Transformer made in each thread, not the shared cached one of geo.crs: each thread then
        # owns its PROJ context outright, with no shared object between the two halves.
        t = pyproj.Transformer.from_crs(settings.storage_crs, settings.metric_crs, always_xy=True)
        sl = slice(bounds[k], bounds[k + 1])
        x[sl], y[sl] = t.transform(lon[sl], lat[sl])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, range(workers)))
    return x, y


def _first_level(x: np.ndarray, y: np.ndarray, min_cell_m: float, budget: int) -> tuple[int, tuple | None]:
    """Smallest doubling level (cell = min_cell_m * 2**level) that can possibly fit the budget, and its cells if summed.

    Occupied cells never increase with the cell size (a cell of 2c is the
    union of four aligned cells of c). So if the first level whose grid is
    small enough for :func:`numpy.bincount` already has too many occupied
    cells to fit (at least ~20 bytes each), every finer level is skipped
    without the sort :func:`numpy.unique` would need for it. The answer is
    the one the plain doubling loop gives.
    """
    if not len(x):
        return 0, None
    span = max(float(x.max() - x.min()), float(y.max() - y.min()), 0.0)
    level = 0
    while ((span / (min_cell_m * 2.0**level)) + 2) ** 2 > _DENSE_CELLS and level < 39:
        level += 1
    if level == 0:
        return 0, None
    cells = aggregate_grid(x, y, min_cell_m * 2.0**level)
    return (level, cells) if len(cells[0]) * 20 > budget else (0, None)


def heat_payload(
    incidents,
    *,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    hours: Iterable[int] | None = None,
    budget_bytes: int | None = None,
    max_points: int | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> HeatPayload:
    """Build the heat layer of the incidents that pass the filters.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` (fast) or a frame.
    categories, sources, start, end, hours
        Filters (see :func:`geo.incidents.filters.filter_mask`).
    budget_bytes
        Largest JSON payload (default :data:`geo.settings.heat_budget_bytes`).
    max_points
        Most incidents sent as points (default :data:`geo.settings.heat_max_points`).
    bounds
        Area kept, WGS-84 (west, south, east, north); default :data:`geo.settings.heat_bounds`
        or :data:`geo.settings.shahe_bounds`.

    Returns
    -------
    HeatPayload
        Its ``bytes`` never exceed ``budget_bytes``.
    """
    inc = as_arrays(incidents)
    budget = int(settings.heat_budget_bytes if budget_bytes is None else budget_bytes)
    max_points = int(settings.heat_max_points if max_points is None else max_points)
    west, south, east, north = bounds or settings.heat_bounds or settings.shahe_bounds
    mask = filter_mask(inc, categories=categories, sources=sources, start=start, end=end, hours=hours)
    n_filtered = int(mask.sum())
    # Comparisons with NaN are False, so the box test also drops NaN coordinates.
    mask &= (inc.lon >= west) & (inc.lon <= east) & (inc.lat >= south) & (inc.lat <= north)
    n = int(mask.sum())
    lon, lat = (inc.lon, inc.lat) if n == len(inc) else (inc.lon[mask], inc.lat[mask])
    dropped = n_filtered - n
    if n <= max_points:
        data, text = _dumps(lat, lon, np.ones(n))
        size = len(text.encode("utf-8"))
        if size <= budget:
            return HeatPayload(data, text, size, "points", None, n, dropped, 1.0 if n else 0.0, f"{n} incidents as points")
    x, y = _project(lon, lat)
    inv = metric_to_lonlat_transformer()
    cell = float(settings.heat_min_cell_m)
    level, first = _first_level(x, y, cell, budget)
    cell *= 2.0**level
    px, py, pw = x, y, None
    for _ in range(40 - level):
        cx, cy, total = first if first is not None else aggregate_grid(px, py, cell, weights=pw)
        first = None
        # Cells of 2c are unions of aligned cells of c, so the next level can be summed from these
        # cells' centres (half a cell from any edge: no rounding question) instead of every incident.
        px, py, pw = cx, cy, total
        # Each cell costs at least ~20 bytes ("[30.84123,108.36123,1],"); skip the JSON when it cannot fit.
        if len(cx) * 20 <= budget:
            clon, clat = inv.transform(cx, cy)
            data, text = _dumps(np.asarray(clat), np.asarray(clon), total)
            size = len(text.encode("utf-8"))
            if size <= budget:
                desc = f"{n} incidents in {len(cx)} cells of {cell:g} m ({settings.metric_crs})"
                return HeatPayload(data, text, size, "grid", cell, n, dropped, float(total.max()) if len(total) else 0.0, desc)
        cell *= 2.0
    msg = f"cannot fit the heat layer into {budget} bytes; raise settings.heat_budget_bytes"
    raise ValueError(msg)
