"""Cached loaders and computations of the app, keyed on data versions and parameters.

The app reads estates, routes and incidents from the store (:mod:`geo.store.sources`):
the embedded ``shahe.gpkg`` of the data folder, made from the shipped files on
first start (:func:`ensure_store`), or the shared PostGIS of ``SHAHE_STORE``.
Each loader takes the file's path and a token (:func:`token`: the layer's
version in the store, or the file's modification time without a store), so
changed data is read again and unchanged data never is. Results that depend on
the sidebar (radius, cover distance, strict mode, shift) are keyed on those
values too, so panning the map or opening a popup never recomputes anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import extensions, incidents, report, routes, settings
from geo._atomic import clean_leftovers
from geo.coverage.model import solved_model
from geo.coverage.rule import Rule, patrols_in
from geo.errors import GeoError
from geo.incidents import density, effect, hotspots, risk
from geo.maps import basemaps, mapview, offline
from geo.routes.shared import open_route_store
from geo.store import sources
from geo.store.api import EMBEDDED_NAME

#: Default data folder (the repository's data/).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    """The data folder (:func:`data_folder`), its leftovers of killed writes removed once per process.

    The app passes this folder's files to every engine function it calls; it
    sets no engine setting.
    """
    path = data_folder()
    _clean_once(str(path))
    return path


def data_folder() -> Path:
    """The data folder: ``SHAHE_DATA_DIR`` when set (read now), else ``data/``."""
    return Path(os.environ.get("SHAHE_DATA_DIR") or DEFAULT_DATA_DIR)


@st.cache_resource(show_spinner=False)
def _clean_once(folder: str) -> int:
    """Remove temporary files of writes killed earlier, once per app process and data folder."""
    return len(clean_leftovers(folder))


def path_of(name: str) -> Path:
    """Path of a data file in :func:`data_dir`."""
    return data_dir() / name


def mtime_ns(path: Path) -> int:
    """Modification time of a file (0 when it does not exist), the cache key of its content."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def ensure_store(folder: Path | None = None) -> None:
    """Create and fill the embedded store of the data folder on first start (no-op when there is one, or with ``SHAHE_STORE``).

    Two sessions starting at once (or a session and the server's warm-up,
    :mod:`ui.serve`) queue on the store's lock; the shipped files are only
    read. When a file is not valid the store is not made yet: the views read
    the files and show the problem, and the next run tries again.
    """
    if os.environ.get("SHAHE_STORE"):
        return
    folder = data_dir() if folder is None else folder
    if (folder / EMBEDDED_NAME).exists():
        return
    with contextlib.suppress(GeoError):
        sources.store_in_use(folder, create=True).close()


def token(layer: str, file_name: str) -> int:
    """Cache key of a layer's content: its version in the store in use, else the file's modification time (0 when missing)."""
    return sources.layer_token(layer, file_name, data_dir=data_dir())


@st.cache_data(show_spinner=False, max_entries=8)
def load_estates(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    """Estates (WGS-84) of the data folder of ``path``: from the store in use, else the file; ``mtime_ns`` (:func:`token`) only keys the cache."""
    return sources.read_estates(data_dir=Path(path).parent)


def read_text_sha256(path: Path) -> tuple[str, str]:
    """A file's text and the SHA-256 of its bytes as read (``('', '')`` when missing).

    The hash is what a save compares against, so a file changed since it was
    read is never overwritten by a draft built from the old text.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return "", ""
    return raw.decode("utf-8-sig"), hashlib.sha256(raw).hexdigest()


@st.cache_data(show_spinner=False, max_entries=16)
def routes_from_text(text: str, name: str = "patrol_routes.geojson") -> gpd.GeoDataFrame:
    """Routes from GeoJSON text, with every check of :func:`geo.routes.load_routes`; messages name the file ``name``."""
    return routes.load_routes(text.encode("utf-8"), name=name)


@st.cache_resource(show_spinner=False, max_entries=4)
def load_incidents(path: str, mtime_ns: int) -> incidents.IncidentArrays | None:
    """The incidents of the data folder of ``path`` as arrays (from the store in use, else the file), or None when there are none."""
    folder = Path(path).parent
    store = sources.store_in_use(folder)
    if store is None:
        return incidents.load_incidents(path) if Path(path).exists() else None
    with store:
        if store.layer_version("incidents") == 0:
            return None
    return sources.read_incidents(data_dir=folder)


@dataclass
class Coverage:
    """Results of one coverage computation."""

    table: gpd.GeoDataFrame  # geo.report.coverage_table, estates' geometry
    teams: pd.DataFrame  # geo.report.team_table
    pairs: pd.DataFrame  # CoverageModel.pairs()
    proposals: gpd.GeoDataFrame  # geo.extensions.extension_proposals


@st.cache_data(show_spinner=False, max_entries=32)
def compute_coverage(estates_path: str, estates_mtime: int, routes_text: str, rule: Rule) -> Coverage:
    """Coverage of the estates by the routes in ``routes_text`` under ``rule``."""
    est = load_estates(estates_path, estates_mtime)
    rts = routes_from_text(routes_text)
    model = solved_model(est, rts, rule=rule)
    proposals = extensions.extension_proposals(est, rts, model=model)  # computed once, reused by both tables
    table = report.coverage_table(est, rts, model=model, proposals=proposals)
    teams = report.team_table(est, rts, model=model, proposals=proposals)
    keep = [c for c in ("geocode_quality", "address", "batch_period", "buildings", "units", "synthetic") if c in est.columns]
    for col in keep:
        table[col] = est[col].to_numpy()
    return Coverage(table, teams, model.pairs(), proposals)


@st.cache_data(show_spinner=False, max_entries=16)
def heat_density(path: str, mtime: int, categories: tuple, sources: tuple, years: tuple, hours: tuple | None,
                 outline_path: str, outline_mtime: int):
    """Density of the filtered incidents by category and year, masked to the subdistrict outline of the basemap
    (the shipped area's box when the basemap has none), and that area: ``(cube, area)``, or None with no incidents.

    With a PostGIS store holding more than :data:`geo.settings.heat_sql_min_incidents` incidents, the filtered
    incidents are counted per grid cell in SQL and only the cells travel (:func:`geo.incidents.density.density_from_cells`:
    each incident at its cell's centre); only incidents within about 1 km of the area's box are counted, so
    the years and the number shown are those of the incidents near the subdistrict."""
    area = basemaps.subdistrict_outline(Path(outline_path))
    if area is None:
        import shapely

        area = shapely.box(*settings.shahe_bounds)
    cells = _heat_cells_in_sql(Path(path).parent, categories, sources, years, hours, area.bounds)
    if cells is not None:
        return (density.density_from_cells(cells, area), area) if len(cells) else None
    inc = load_incidents(path, mtime)
    if inc is None or len(inc) == 0:
        return None
    cube = density.density_cube(inc, area, categories=list(categories) or None, sources=list(sources) or None,
                                start=years[0], end=years[1], hours=list(hours) if hours is not None else None)
    return cube, area


def _heat_cells_in_sql(folder: Path, categories: tuple, sources_: tuple, years: tuple, hours: tuple | None,
                       bounds: tuple[float, float, float, float]) -> pd.DataFrame | None:
    """The filtered incidents per density cell, category and year, counted by a big PostGIS store; None otherwise."""
    from geo.store.heat import incident_cells, incident_count

    store = sources.store_in_use(folder)
    if store is None:
        return None
    with store:
        if store.kind != "postgis" or incident_count(store) <= settings.heat_sql_min_incidents:
            return None
        return incident_cells(store, cell_m=density.CELL_M, categories=list(categories) or None, sources=list(sources_) or None,
                              start=years[0], end=years[1], hours=list(hours) if hours is not None else None,
                              bounds=(bounds[0] - 0.01, bounds[1] - 0.01, bounds[2] + 0.01, bounds[3] + 0.01))


@st.cache_data(show_spinner=False, max_entries=16)
def hotspot_layer(path: str, mtime: int, categories: tuple, sources: tuple, years: tuple, hours: tuple | None) -> tuple[gpd.GeoDataFrame | None, str]:
    """Significant Gi* cells of the filtered incidents and a note ('' when fine)."""
    inc = load_incidents(path, mtime)
    if inc is None or len(inc) == 0:
        return None, ""
    try:
        cells = hotspots.hotspot_cells(inc, categories=list(categories) or None, sources=list(sources) or None,
                                       start=years[0], end=years[1], hours=list(hours) if hours is not None else None)
    except ValueError as exc:
        return None, str(exc)
    sig = cells[cells["label"] != "not significant"].reset_index(drop=True)
    # The map's tooltip shows the class and the corrected value (q after Benjamini-Hochberg), written as
    # everywhere else (< 0.001); the uncorrected p-value is left out so it cannot be read as the finding.
    from geo.incidents.reporting import format_p

    sig = sig.drop(columns=["p_value", "p_sim"]).assign(category=sig["label"], q_value=sig["q_value"].map(format_p))
    return sig, ""


def incident_years(inc: incidents.IncidentArrays) -> tuple[int, int]:
    """First and last year of the incidents."""
    years = inc.times.astype("datetime64[Y]").astype(int) + 1970
    return int(years.min()), int(years.max())


@st.cache_data(show_spinner=False, max_entries=8)
def incident_trend(path: str, mtime: int) -> pd.DataFrame:
    """Incidents per month and category (rows: month 'YYYY-MM', columns: categories)."""
    inc = load_incidents(path, mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame()
    df = inc.to_frame()
    df["month"] = df["time"].dt.to_period("M").astype(str)
    return df.pivot_table(index="month", columns="category", values="incident_id", aggfunc="count", fill_value=0)


@st.cache_data(show_spinner=False, max_entries=8)
def effect_tables(path: str, mtime: int, estates_path: str, estates_mtime: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Before/after table per estate and pooled per batch."""
    inc = load_incidents(path, mtime)
    est = load_estates(estates_path, estates_mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame(), pd.DataFrame()
    table = effect.effect_table(inc, est)
    return table, effect.effect_summary(table, by="batch_year")


@st.cache_data(show_spinner=False, max_entries=8)
def did_batches(path: str, mtime: int, estates_path: str, estates_mtime: int) -> pd.DataFrame:
    """Difference-in-differences per batch (:func:`geo.incidents.did.did_table`, ``by="batch"``)."""
    from geo.incidents.did import did_table

    inc = load_incidents(path, mtime)
    est = load_estates(estates_path, estates_mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame(columns=["batch", "verdict_code", "change_pct", "q_value"])
    return did_table(inc, est, by="batch")


@st.cache_data(show_spinner=False, max_entries=8)
def estate_incidents(path: str, mtime: int, estates_path: str, estates_mtime: int) -> pd.DataFrame:
    """Incident counts per estate and category (index estate_id)."""
    inc = load_incidents(path, mtime)
    est = load_estates(estates_path, estates_mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame()
    return risk.estate_measures(inc, est)


@st.cache_data(show_spinner=False, max_entries=8)
def risk_ranking(path: str, mtime: int, estates_path: str, estates_mtime: int) -> pd.DataFrame:
    """The composite risk ranking of :func:`geo.risk.risk_table`."""
    inc = load_incidents(path, mtime)
    est = load_estates(estates_path, estates_mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame()
    return risk.risk_table(inc, est)


def shift_routes(rts: gpd.GeoDataFrame, shift: str | None) -> gpd.GeoDataFrame:
    """The routes that patrol in ``shift`` (those of that shift and of every shift); all when None."""
    if not shift or not len(rts):
        return rts
    return rts[patrols_in(rts["shift"].fillna("all"), shift)]


@st.cache_data(show_spinner=False, max_entries=16)
def route_bands(routes_text: str, radius_m: float, cover_m: float | None, shift: str | None = None) -> gpd.GeoDataFrame | None:
    """The rule and cover bands of the routes in ``routes_text`` that patrol in ``shift`` (WGS-84), or None without routes."""
    rts = shift_routes(routes_from_text(routes_text), shift)
    return mapview.route_bands(rts, radius_m=radius_m, cover_m=cover_m) if len(rts) else None


@st.cache_data(show_spinner=False, max_entries=8)
def store_problems(routes_path: str, log_mtime_ns: int) -> list[str]:
    """:meth:`geo.route_store.RouteStore.check` of the routes file; ``log_mtime_ns`` (of log.jsonl) keys the cache."""
    return open_route_store(routes_path).check()


@st.cache_data(show_spinner=False, max_entries=8)
def overrides_view(folder: str, token: int) -> tuple[pd.DataFrame, list[str]]:
    """The overrides table and the problems of its rows (from the store in use, else the file), read once per ``token`` (:func:`token`)."""
    return sources.read_overrides(data_dir=folder)


def localized(m):
    """A folium map with every script and style inline (no request leaves the machine).

    A new map is built on every run that shows one: rendering the same folium
    object twice changes its script, which would make the map component mount
    again. Two maps built from the same inputs give the same component key,
    so a rerun leaves the map where the user panned it.
    """
    offline.localize_map(m, mode="inline")
    return m
