"""The coverage engine's checks of its inputs: every problem named, or a clear error for frames it cannot take."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import CRSError, SchemaError
from geo.schemas import SHIFTS


def check_estates(ids: np.ndarray, geoms: np.ndarray) -> None:
    """Refuse estates the engine cannot measure (no geometry, or not a point or polygon), naming each."""
    problems = []
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms)):
        problems.append(f"estate {ids[i]}: has no geometry; give it an address point or a footprint polygon")
    for i in np.flatnonzero(~np.isin(types, (-1, 0, 3, 6)) & ~shapely.is_empty(geoms)):
        problems.append(f"estate {ids[i]}: geometry is a {geoms[i].geom_type}, not a point or polygon")
    if problems:
        msg = f"{len(problems)} estate{'s' if len(problems) != 1 else ''} cannot be measured"
        raise SchemaError(msg, problems)


def check_routes(ids: np.ndarray, geoms: np.ndarray, shifts: np.ndarray) -> None:
    """Refuse routes the engine cannot measure (no geometry, not a line, zero length, unknown shift), naming each."""
    problems = []
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    lengths = np.where(empty, 0.0, shapely.length(geoms))
    for i in range(len(ids)):
        if empty[i]:
            problems.append(f"route {ids[i]}: has no geometry; draw the route as a line or delete it")
        elif types[i] not in (1, 5):
            problems.append(f"route {ids[i]}: geometry is a {geoms[i].geom_type}; routes are LineString or MultiLineString")
        elif not lengths[i] > 0:
            problems.append(f"route {ids[i]}: the line has zero length; give it at least two different points")
        if shifts[i] not in SHIFTS:
            problems.append(f"route {ids[i]}, field 'shift': {shifts[i]!r} is not one of {', '.join(SHIFTS)}")
    if problems:
        msg = f"{len(problems)} route problem{'s' if len(problems) != 1 else ''}: the coverage cannot be measured"
        raise SchemaError(msg, problems)


def check_frames(estates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame) -> None:
    """Refuse frames without a CRS, without their id columns, or in two different CRSs."""
    for what, gdf, col in (("estates", estates, "estate_id"), ("routes", routes, "route_id")):
        if not isinstance(gdf, gpd.GeoDataFrame):
            msg = f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}"
            raise TypeError(msg)
        if gdf.crs is None:
            msg = f"{what} have no CRS: read them with geo.io.read_{what} (WGS-84) or set the CRS the coordinates are in"
            raise CRSError(msg)
        if col not in gdf.columns:
            msg = f"{what}: column '{col}' is missing"
            raise SchemaError(msg, [f"{what}: add a '{col}' column with one id per feature"])
    if "team_id" not in routes.columns:
        raise SchemaError("routes: column 'team_id' is missing", ["routes: add a 'team_id' column naming each route's team"])
    if not estates.crs.equals(routes.crs):
        msg = (
            f"estates are in {estates.crs.to_string()} but routes in {routes.crs.to_string()}: the engine measures only inputs "
            "in one CRS; read both with geo.io (which converts GCJ-02/BD-09 to WGS-84) and try again"
        )
        raise CRSError(msg)
