"""Incidents counted per grid cell, category and year in the database: what the density layer needs from a big store.

With millions of incidents in a shared PostGIS store, reading every incident
into Python to draw the density layer is the slow part. :func:`incident_cells`
applies the layer's filters (categories, sources, period, hours of day) as
WHERE clauses and counts the incidents per square cell of the metric CRS
(:data:`geo.settings.metric_crs`), per category and per calendar year (local
time), so only the cells travel; :func:`geo.incidents.density.density_from_cells`
turns them into the layer.

Cells are aligned on multiples of ``cell_m`` and include their lower and left
edges: the index is ``floor(x / cell_m)``, as :meth:`geo.store.layers.LayersMixin.heat_cells`
and not ``ST_SnapToGrid``, which rounds a point at a cell's edge half to even.
Times follow :func:`geo.incidents.store.IncidentArrays.from_frame`: a time with an
offset is converted to Asia/Shanghai, a naive one is local wall-clock time.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyproj
import sqlalchemy as sa

from geo import settings
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES
from geo.incidents.times import TIMEZONE, period_bounds

__all__ = ["incident_cells", "incident_count"]

# Local wall-clock time of the text column "time" (see the module docstring).
_LOCAL_TIME = (
    "CASE WHEN \"time\"::text ~ '[T ][0-9:.]+(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' "
    f"THEN (\"time\"::text)::timestamptz AT TIME ZONE '{TIMEZONE}' ELSE (\"time\"::text)::timestamp END"
)


def incident_count(store, *, layer: str = "incidents") -> int:
    """Rows of the incident layer (0 when the store holds none)."""
    if store.layer_version(layer) == 0:
        return 0
    with store._errors(), store._engine.connect() as conn:
        return int(conn.execute(sa.text(f'SELECT count(*) FROM "{layer}"')).scalar())


def _names(values: Iterable[str] | None, known: tuple[str, ...], what: str) -> list[str] | None:
    if values is None:
        return None
    names = [str(v) for v in values]
    bad = [v for v in names if v not in known]
    if bad:
        msg = f"unknown {what} {bad}; use one of {list(known)}"
        raise ValueError(msg)
    return names


def incident_cells(
    store,
    *,
    cell_m: float,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    hours: Iterable[int] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> pd.DataFrame:
    """Count the filtered incidents of a PostGIS store per cell, category and year, in SQL.

    Parameters
    ----------
    store
        An open :class:`~geo.store.Store` on PostGIS.
    cell_m
        Cell side, metres (> 0).
    categories, sources, start, end, hours
        Filters as in :func:`geo.incidents.filters.filter_mask` (``end`` inclusive of its year, month or day).
    bounds
        Only incidents in this WGS-84 box (west, south, east, north; edges inclusive; ``ST_Intersects``,
        which uses the spatial index, and not ``&&`` alone, whose index boxes are rounded); None: everywhere.

    Returns
    -------
    pandas.DataFrame
        ``x_m``, ``y_m`` (cell centres in the metric CRS), ``category`` (name), ``year`` and ``count``;
        incidents without coordinates are left out.
    """
    if store.kind != "postgis":
        msg = f"incident cells are counted in SQL on PostGIS only; the store at {store.url} is {store.kind}"
        raise ValueError(msg)
    if not cell_m > 0:
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
        raise ValueError(msg)
    cats = _names(categories, CATEGORY_NAMES, "categories")
    srcs = _names(sources, SOURCE_NAMES, "sources")
    lo, hi = period_bounds(start, end)
    where, params = ['geometry IS NOT NULL'], {"cell": float(cell_m)}
    if bounds is not None:
        where.append("ST_Intersects(geometry, ST_MakeEnvelope(:w, :s, :e, :n, 4326))")
        params.update(zip(("w", "s", "e", "n"), (float(b) for b in bounds), strict=True))
    if cats is not None:
        where.append("category::text = ANY(:cats)")
        params["cats"] = cats
    if srcs is not None:
        where.append("source::text = ANY(:srcs)")
        params["srcs"] = srcs
    outer = []
    if lo is not None:
        outer.append("t >= :lo")
        params["lo"] = int(lo)
    if hi is not None:
        outer.append("t < :hi")
        params["hi"] = int(hi)
    if hours is not None:
        hs = sorted({int(h) for h in hours})
        if any(h < 0 or h > 23 for h in hs):
            msg = f"hours must lie in 0-23, got {hs}"
            raise ValueError(msg)
        outer.append("((floor(t / 3600.0)::bigint % 24) + 24) % 24 = ANY(:hours)")
        params["hours"] = hs
    epsg = int(pyproj.CRS(settings.metric_crs).to_epsg())
    sql = sa.text(
        "SELECT floor(ST_X(p) / :cell) AS ix, floor(ST_Y(p) / :cell) AS iy, cat, yr, count(*) AS n FROM ("
        f"SELECT ST_Transform(geometry, {epsg}) AS p, category::text AS cat, extract(epoch FROM lt)::bigint AS t, "
        "extract(year FROM lt)::int AS yr FROM ("
        f"SELECT geometry, category, {_LOCAL_TIME} AS lt FROM \"incidents\" WHERE {' AND '.join(where)}) a) q"
        + (f" WHERE {' AND '.join(outer)}" if outer else "")
        + " GROUP BY 1, 2, 3, 4"
    )
    with store._errors(), store._engine.connect() as conn:
        rows = conn.execute(sql, params).all()
    frame = pd.DataFrame(rows, columns=["ix", "iy", "category", "year", "count"])
    cell = float(cell_m)
    out = pd.DataFrame({
        "x_m": (frame["ix"].to_numpy(dtype=float) + 0.5) * cell,
        "y_m": (frame["iy"].to_numpy(dtype=float) + 0.5) * cell,
        "category": frame["category"].astype(str).to_numpy(dtype=object),
        "year": frame["year"].to_numpy(dtype=np.int64),
        "count": frame["count"].to_numpy(dtype=np.int64),
    })
    return out.sort_values(["year", "category", "x_m", "y_m"], ignore_index=True)
