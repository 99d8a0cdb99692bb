"""Which estates an incident counts for: every estate within the incident radius, or only the nearest.

An incident counts for an estate when it lies within
:data:`geo.settings.incident_radius_m` of the estate's geometry (mode
``"radius"``: an incident between two estates counts for both), or only for
the nearest estate within that distance (mode ``"nearest"``: every incident
counts once). Distances are planar metres in the metric CRS of
:func:`geo.crs.to_metric`; the distance is inclusive. The risk ranking and the
before/after effect both count incidents this way.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo import settings
from geo.crs import project_lonlat, to_metric
from geo.errors import SchemaError
from geo.incidents.store import as_arrays

#: How incidents are attributed to estates.
ASSIGN_MODES = ("radius", "nearest")


def check_estates(estates: gpd.GeoDataFrame) -> None:
    """Raise SchemaError unless ``estates`` is a GeoDataFrame with an ``estate_id`` column."""
    problems = []
    if not isinstance(estates, gpd.GeoDataFrame):
        problems.append("estates must be a GeoDataFrame (read it with geo.io.read_estates)")
    elif "estate_id" not in estates.columns:
        problems.append("estates need an 'estate_id' column")
    if problems:
        raise SchemaError("estates cannot be used", problems)


def assign_incidents(incidents, estates: gpd.GeoDataFrame, *, radius_m: float | None = None, mode: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pair incidents with the estates they count for.

    Parameters
    ----------
    incidents
        :class:`~geo.incidents.IncidentArrays` or a frame (see :func:`geo.incidents.as_arrays`).
    estates
        GeoDataFrame with ``estate_id`` (points or polygons, any CRS).
    radius_m
        Distance in metres (inclusive); default :data:`geo.settings.incident_radius_m`.
    mode
        ``"radius"`` (every estate within the distance) or ``"nearest"`` (only the
        nearest within it); default :data:`geo.settings.incident_assign_mode`.

    Returns
    -------
    (incident_index, estate_index)
        Two int64 arrays of equal length: positions into the incidents and into ``estates``.
    """
    inc = as_arrays(incidents)
    check_estates(estates)
    radius_m = float(settings.incident_radius_m if radius_m is None else radius_m)
    mode = mode or settings.incident_assign_mode
    if mode not in ASSIGN_MODES:
        msg = f"unknown assignment mode {mode!r}; use one of {', '.join(ASSIGN_MODES)}"
        raise ValueError(msg)
    ok, points, em = _metric_points(inc, estates)
    if len(ok) == 0 or len(em) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(em.geometry.values)
    if mode == "radius":
        pairs = tree.query(points, predicate="dwithin", distance=radius_m)
    else:
        pairs = tree.query_nearest(points, max_distance=radius_m, all_matches=False)
    return ok[pairs[0]].astype(np.int64), pairs[1].astype(np.int64)


def _metric_points(inc, estates: gpd.GeoDataFrame):
    """Positions of the incidents with coordinates, their points and the estates, both in the metric CRS."""
    em = to_metric(estates, crs=settings.metric_crs) if estates.crs is not None else to_metric(estates)
    ok = np.flatnonzero(np.isfinite(inc.lon) & np.isfinite(inc.lat))
    if len(ok) == 0 or len(em) == 0:
        return ok, shapely.points(np.zeros((0, 2))), em
    x, y = project_lonlat(inc.lon[ok], inc.lat[ok], em.crs)
    return ok, shapely.points(x, y), em


def ring_incidents(incidents, estates: gpd.GeoDataFrame, *, inner_m: float, outer_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Incidents in the ring around estates: farther than ``inner_m`` from every estate, within ``outer_m`` of one.

    Returns ``(incident_index, estate_index)``, each incident given to its nearest estate.
    """
    inc = as_arrays(incidents)
    if not outer_m > inner_m:
        msg = f"the ring's outer distance ({outer_m:g} m) must exceed its inner one ({inner_m:g} m)"
        raise ValueError(msg)
    ok, pts, em = _metric_points(inc, estates)
    if len(ok) == 0 or len(em) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs, dist = shapely.STRtree(em.geometry.values).query_nearest(pts, max_distance=outer_m, all_matches=False, return_distance=True)
    keep = dist > inner_m
    return ok[pairs[0][keep]].astype(np.int64), pairs[1][keep].astype(np.int64)
