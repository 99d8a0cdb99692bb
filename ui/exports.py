"""Downloads: the coverage report (CSV/XLSX), estates with status (GeoJSON), the offline map (HTML)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import io, report
from geo.maps import offline
from geo.report import report_columns

SYNTHETIC_NOTE = (
    "Estate positions are approximate (not surveyed) unless geocode_quality is 'surveyed'; "
    "the shipped patrol routes are synthetic demonstration data."
)


def report_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The coverage report as a plain table (distances rounded to 0.1 m, WGS-84 lon/lat of each estate)."""
    out = pd.DataFrame(table[report_columns(table)]).copy()
    for c in ("nearest_distance_m", "recommended_extension_m"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").round(1)
    if isinstance(table, gpd.GeoDataFrame):
        pts = table.geometry.to_crs("EPSG:4326")
        pts = pts.where(pts.geom_type == "Point", pts.representative_point())
        out["lon"], out["lat"] = pts.x.round(7).to_numpy(), pts.y.round(7).to_numpy()
    out["approximate_position"] = report.approximate_positions(table).to_numpy()
    return out.reset_index(drop=True)


def _via_file(suffix: str, write) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"out{suffix}"
        write(path)
        return path.read_bytes()


@st.cache_data(show_spinner=False, max_entries=16)
def report_bytes(_table: pd.DataFrame, fmt: str, key: str) -> bytes:
    """The report as CSV (UTF-8 with BOM, opens in Excel) or XLSX, via :func:`geo.io.write_table`; ``key`` identifies ``_table``."""
    frame = report_frame(_table)
    return _via_file(".csv" if fmt == "csv" else ".xlsx", lambda p: io.write_table(frame, p))


def is_approximate(table: pd.DataFrame) -> bool:
    """Whether any estate of ``table`` is synthetic or not surveyed (also when the table does not say)."""
    return bool(report.approximate_positions(table).any())


@st.cache_data(show_spinner=False, max_entries=16)
def estates_geojson_bytes(_table: gpd.GeoDataFrame, key: str) -> bytes:
    """Estates with their status as RFC 7946 GeoJSON; ``key`` identifies ``_table``.

    The file carries ``"synthetic": true`` and a note while any estate is
    synthetic or not surveyed (see :func:`is_approximate`).
    """
    table = _table
    gdf = gpd.GeoDataFrame(pd.DataFrame(table[report_columns(table)]).reset_index(drop=True), geometry=table.geometry.reset_index(drop=True).values,
                           crs=table.crs)
    meta = {"synthetic": True, "note": SYNTHETIC_NOTE} if is_approximate(table) else None
    return _via_file(".geojson", lambda p: io.write_geojson(gdf, p, metadata=meta))


def map_html_bytes(m, *, allow_hosts: tuple[str, ...] = ()) -> bytes:
    """A map as one self-contained HTML page (every script, style and font inline).

    Raises
    ------
    geo.offline.OfflineAssetError
        If the page would still load anything from another host (a DataFileError).
    """
    return offline.render_offline_html(m, allow_hosts=allow_hosts).encode("utf-8")
