"""What every view needs for one run: files, the sidebar's choices and the coverage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.incidents.store import IncidentArrays
from geo.routes.shared import sync_routes_file
from ui import data
from ui.sidebar import Filters


@dataclass
class Context:
    """Inputs and results shared by the views during one run."""

    estates_path: Path
    estates_mtime: int  # data.token of the estates: their version in the store, or the file's mtime
    routes_path: Path
    routes_text: str
    routes_sha256: str  # of the routes file's bytes when routes_text was read ('' when missing)
    routes: gpd.GeoDataFrame
    incidents_path: Path
    incidents_mtime: int
    incidents: IncidentArrays | None
    filters: Filters
    cov: data.Coverage

    @property
    def shown(self) -> gpd.GeoDataFrame:
        """Rows of the coverage table that pass the sidebar's filters."""
        return self.filters.apply(self.cov.table)


def base_inputs() -> tuple[Path, int, gpd.GeoDataFrame, Path, str, str]:
    """Estates path, mtime, estates, routes path, routes text and the SHA-256 of the routes file of the current data folder."""
    data.ensure_store()  # first start: the embedded store is made from the shipped files
    estates_path = data.path_of("estates.geojson")
    mtime = data.token("estates", "estates.geojson")
    estates = data.load_estates(str(estates_path), mtime)
    routes_path = data.path_of("patrol_routes.geojson")
    sync_routes_file(routes_path)  # with a store in use, the file shows the store's current routes
    routes_text, routes_sha256 = data.read_text_sha256(routes_path)
    return estates_path, mtime, estates, routes_path, routes_text, routes_sha256


def build(filters: Filters, estates_path: Path, estates_mtime: int, routes_path: Path, routes_text: str,
          routes_sha256: str = "") -> Context:
    """Compute (or fetch from the cache) the coverage for the sidebar's choices."""
    routes = data.routes_from_text(routes_text, routes_path.name)
    cov = data.compute_coverage(str(estates_path), estates_mtime, routes_text, filters.rule)
    inc_path = data.path_of("incidents.csv")
    inc_mtime = data.token("incidents", "incidents.csv")
    inc = data.load_incidents(str(inc_path), inc_mtime)
    return Context(estates_path, estates_mtime, routes_path, routes_text, routes_sha256, routes, inc_path, inc_mtime, inc, filters, cov)
