"""Cached loaders and computations of the app, keyed on file contents and parameters.

Each loader takes the file's path and modification time (nanoseconds), so an
edited file is read again and an unchanged one never is. Results that depend on
the sidebar (radius, cover distance, strict mode, shift) are keyed on those
values too, so panning the map or opening a popup never recomputes anything.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import coverage, effect, extensions, heat, hotspots, incidents, io, mapview, offline, risk, routes, settings

#: Default data folder (the repository's data/).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    """The data folder: ``SHAHE_DATA_DIR`` when set (read now), else ``data/``.

    The engine's :data:`geo.settings.data_dir` is set to the same folder, so
    every default path of the engine (overrides, gazetteer, basemap) follows.
    """
    path = Path(os.environ.get("SHAHE_DATA_DIR") or DEFAULT_DATA_DIR)
    settings.data_dir = path
    return path


def path_of(name: str) -> Path:
    """Path of a data file in :func:`data_dir`."""
    return data_dir() / name


def mtime_ns(path: Path) -> int:
    """Modification time of a file (0 when it does not exist), the cache key of its content."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


@st.cache_data(show_spinner=False, max_entries=8)
def load_estates(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    """Estates (WGS-84) of ``path``; ``mtime_ns`` only keys the cache."""
    return io.read_estates(path)


@st.cache_data(show_spinner=False, max_entries=8)
def load_ledger(path: str, mtime_ns: int) -> pd.DataFrame:
    """The register table as text columns."""
    return io.read_table(path)


def read_text(path: Path) -> str:
    """A file's text ('' when missing)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""


@st.cache_data(show_spinner=False, max_entries=16)
def routes_from_text(text: str) -> gpd.GeoDataFrame:
    """Routes from GeoJSON text, with every check of :func:`geo.routes.load_routes`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "patrol_routes.geojson"
        path.write_text(text, encoding="utf-8")
        gdf = routes.load_routes(path)
    gdf.attrs["notices"] = [n.replace(str(path), "patrol_routes.geojson") for n in gdf.attrs.get("notices", [])]
    return gdf


@st.cache_resource(show_spinner=False, max_entries=4)
def load_incidents(path: str, mtime_ns: int) -> incidents.IncidentArrays | None:
    """The incident store as arrays, or None when there is none."""
    if not Path(path).exists():
        return None
    return incidents.load_incidents(path)


@dataclass(frozen=True)
class Rule:
    """The question the coverage answers (sidebar values)."""

    radius_m: float
    cover_m: float
    strict: bool
    shift: str | None


@dataclass
class Coverage:
    """Results of one coverage computation."""

    table: gpd.GeoDataFrame  # geo.coverage.coverage_table, estates' geometry
    teams: pd.DataFrame  # geo.coverage.team_table
    pairs: pd.DataFrame  # CoverageModel.pairs()
    proposals: gpd.GeoDataFrame  # geo.extensions.extension_proposals


def _network(path: Path):
    if not path.exists():
        return None
    try:
        return extensions.read_network(path, crs=settings.metric_crs)
    except (ValueError, OSError):
        return None


@st.cache_data(show_spinner=False, max_entries=32)
def compute_coverage(estates_path: str, estates_mtime: int, routes_text: str, rule: Rule) -> Coverage:
    """Coverage of the estates by the routes in ``routes_text`` under ``rule``."""
    est = load_estates(estates_path, estates_mtime)
    rts = routes_from_text(routes_text)
    model = coverage.CoverageModel.from_geodataframes(
        est, rts, radius_m=rule.radius_m, cover_m=rule.cover_m, shift=rule.shift, strict=rule.strict
    ).solve()
    table = coverage.coverage_table(est, rts, model=model)
    teams = coverage.team_table(est, rts, model=model)
    proposals = extensions.extension_proposals(est, rts, model=model)
    keep = [c for c in ("geocode_quality", "address", "batch_period", "buildings", "units", "synthetic") if c in est.columns]
    for col in keep:
        table[col] = est[col].to_numpy()
    return Coverage(table, teams, model.pairs(), proposals)


@st.cache_data(show_spinner=False, max_entries=16)
def heat_layer(path: str, mtime: int, categories: tuple, sources: tuple, years: tuple, hours: tuple | None) -> heat.HeatPayload | None:
    """The heat layer of the filtered incidents (never larger than the heat budget)."""
    inc = load_incidents(path, mtime)
    if inc is None or len(inc) == 0:
        return None
    return heat.heat_payload(inc, categories=list(categories) or None, sources=list(sources) or None,
                             start=years[0], end=years[1], hours=list(hours) if hours is not None else None)


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
    return sig, ""


def incident_years(inc: incidents.IncidentArrays | None) -> tuple[int, int]:
    """First and last year of the incidents (the current year range when none)."""
    if inc is None or len(inc) == 0:
        return 2019, 2024
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


def with_names(table: pd.DataFrame, teams: pd.DataFrame, column: str) -> pd.Series:
    """Team ids of ``column`` (joined with ';') as 'name (id)' text."""
    names = dict(zip(teams["team_id"].astype(str), teams["team"].astype(str), strict=True)) if len(teams) else {}
    return table[column].fillna("").astype(str).map(
        lambda v: "、".join(f"{names.get(t, t)} ({t})" for t in v.split(";") if t)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def route_bands(routes_text: str, radius_m: float, cover_m: float) -> gpd.GeoDataFrame | None:
    """The rule and cover bands of the routes in ``routes_text`` (WGS-84), or None without routes."""
    rts = routes_from_text(routes_text)
    return mapview.route_bands(rts, radius_m=radius_m, cover_m=cover_m) if len(rts) else None


def localized(m):
    """A folium map with every script and style inline (no request leaves the machine).

    A new map is built on every run that shows one: rendering the same folium
    object twice changes its script, which would make the map component mount
    again. Two maps built from the same inputs give the same component key,
    so a rerun leaves the map where the user panned it.
    """
    offline.localize_map(m, mode="inline")
    return m


def basemap_hosts(basemap: str) -> tuple[str, ...]:
    """Tile hosts an explicitly chosen online basemap contacts (empty for offline)."""
    spec = mapview.ONLINE_BASEMAPS.get(basemap)
    return tuple(spec["hosts"]) if spec else ()
