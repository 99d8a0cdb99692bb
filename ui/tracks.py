"""Plan versus reality in the app: presence layer, an estate's visit timeline, the plan-vs-actual table, raw tracks for editors.

Everything is computed by :mod:`geo.tracks` and cached on the track store's
month files and their modification times, so a new import is picked up and an
unchanged store is never scanned twice.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo import crs as _crs
from geo import io, settings
from geo.maps.labels import safe_text
from geo.maps.vector_layer import VectorLayer, latlng_rings
from geo.tracks import plan_vs_actual, store, unvisited_estates, visit_table
from geo.tracks.dosage import run_scan
from geo.tracks.presence import presence_cells
from ui import auth, data, tables
from ui.i18n import list_sep, t

#: Grid cell of the presence layer, metres.
PRESENCE_CELL_M = 100.0
#: Days of raw tracks an editor sees.
RAW_DAYS = 2


def store_key() -> tuple:
    """Month files of the track store and their modification times (the cache key); empty when there is none."""
    root = data.path_of("tracks")
    files = store.month_files(root)
    return tuple((str(f), data.mtime_ns(f)) for f in files)


def synthetic() -> bool:
    """True when the store says its tracks are synthetic (``README.json`` or the ``synthetic`` column)."""
    readme = data.path_of("tracks") / "README.json"
    try:
        return bool(json.loads(readme.read_text(encoding="utf-8")).get("synthetic"))
    except (OSError, ValueError):
        return False


@st.cache_data(show_spinner=False, max_entries=4)
def _presence(key: tuple) -> gpd.GeoDataFrame:
    return presence_cells(store.iter_chunks(data.path_of("tracks")), cell_m=PRESENCE_CELL_M)


@st.cache_data(show_spinner=False, max_entries=4)
def _visits(key: tuple, estates_path: str, estates_mtime: int) -> pd.DataFrame:
    estates = io.read_estates(estates_path)
    res = run_scan(estates, tracks_path=data.path_of("tracks"))
    vt = visit_table(res, estates)
    vt.attrs["last_s"] = res.last_s
    return vt


@st.cache_data(show_spinner=False, max_entries=4)
def _plan_actual(key: tuple, estates_path: str, estates_mtime: int, routes_text: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    estates = io.read_estates(estates_path)
    routes = data.routes_from_text(routes_text)
    teams, _, res = plan_vs_actual(estates, routes, tracks_path=data.path_of("tracks"))
    return teams, unvisited_estates(res, estates, routes, nights=7)


def presence_layer(basemap: str) -> folium.FeatureGroup | None:
    """The aggregated presence layer (minutes per cell), or None without tracks; never raw positions."""
    key = store_key()
    if not key:
        return None
    cells = _presence(key)
    if not len(cells):
        return None
    geoms = cells.geometry.values
    if basemap == "amap":
        geoms = _crs.convert_geometries(geoms, src="wgs84", dst="gcj02")
    top = float(np.quantile(cells["minutes"], 0.95)) or 1.0
    name = t("presence_layer") + (f" · {t('synthetic_tracks_short')}" if synthetic() else "")
    group = folium.FeatureGroup(name=name, show=True)
    layer = VectorLayer()
    for geom, minutes, teams in zip(geoms, cells["minutes"], cells["teams"], strict=True):
        layer.polygon(latlng_rings(geom), weight=0, fill=True, fill_color="#1565c0", fill_opacity=0.15 + 0.55 * min(float(minutes) / top, 1.0),
                      class_name="presence-cell", tooltip=safe_text(t("presence_tip", minutes=f"{minutes:.0f}", teams=int(teams))))
    layer.add_to(group)
    return group


def raw_layer(basemap: str) -> folium.FeatureGroup | None:
    """Raw tracks of the last days, for the editor role only (they show where staff were)."""
    key = store_key()
    if not key or not auth.is_editor():
        return None
    fixes = store.read_fixes(data.path_of("tracks"))
    if not len(fixes):
        return None
    fixes = fixes[fixes["time_s"] >= fixes["time_s"].max() - RAW_DAYS * 86400]
    group = folium.FeatureGroup(name=t("raw_layer", days=RAW_DAYS), show=False)
    layer = VectorLayer()
    for team, g in fixes.groupby("team_id"):
        lon, lat = g["lon"].to_numpy(), g["lat"].to_numpy()
        if basemap == "amap":
            lon, lat = _crs.convert(lon, lat, src="wgs84", dst="gcj02")
        breaks = np.flatnonzero(np.diff(g["time_s"].to_numpy()) > settings.track_gap_s) + 1
        for part in np.split(np.arange(len(lon)), breaks):
            if len(part) >= 2:
                layer.line(np.column_stack([lat[part], lon[part]]).tolist(), color="#6a1b9a", weight=2, opacity=0.7,
                           class_name="raw-track", tooltip=safe_text(team))
    layer.add_to(group)
    return group


def estate_timeline(ctx, estate_id: str) -> None:
    """Visits to one estate: minutes per day (chart) and the latest visits (table)."""
    key = store_key()
    if not key:
        return
    vt = _visits(key, str(ctx.estates_path), ctx.estates_mtime)
    mine = vt[vt["estate_id"] == estate_id]
    st.markdown(f"**{t('visits_title')}**" + (f" · {t('synthetic_tracks_short')}" if synthetic() else ""))
    if not len(mine):
        st.info(t("no_visits"))
        return
    per_day = mine.assign(day=mine["start"].dt.strftime("%Y-%m-%d")).groupby("day")["present_min"].sum()
    st.bar_chart(per_day.rename(t("col_minutes")), height=160, x_label=t("col_day"), y_label=t("col_minutes"))
    last = vt.attrs.get("last_s")
    since = (last - mine["end_s"].max()) / 3600.0 if last is not None else float("nan")
    st.caption(t("visits_caption", n=len(mine), stops=int(mine["stop"].sum()), night=int(mine["night"].sum()),
                 hours=f"{since:.1f}", lo=settings.stop_min_minutes, hi=settings.stop_max_minutes))
    recent = mine.sort_values("start_s", ascending=False).head(20)
    st.dataframe(pd.DataFrame({
        t("col_team"): recent["team_id"], t("col_start"): recent["start"].dt.strftime("%m-%d %H:%M"),
        t("col_minutes"): recent["duration_min"].round(1), t("col_night"): recent["night"].map({True: t("yes"), False: ""}),
        t("col_stop", lo=f"{settings.stop_min_minutes:g}", hi=f"{settings.stop_max_minutes:g}"): recent["stop"].map({True: t("yes"), False: ""}),
    }), hide_index=True, width="stretch", key=f"visits_{estate_id}")


def plan_actual_section(ctx) -> None:
    """The leadership overview's plan-vs-actual table and the covered estates unvisited at night."""
    st.subheader(t("plan_actual"))
    key = store_key()
    if not key:
        st.info(t("no_tracks"))
        return
    if synthetic():
        st.warning(t("synthetic_tracks"))
    teams, unvisited = _plan_actual(key, str(ctx.estates_path), ctx.estates_mtime, ctx.routes_text)
    tables.show_wrapped(pd.DataFrame({
        t("col_team"): teams["team"].astype(str) + " (" + teams["team_id"].astype(str) + ")",
        t("col_planned_m"): teams["planned_m"].round(0).astype("Int64"),
        t("col_patrolled_day"): teams["patrolled_m_per_day"].round(0).astype("Int64"),
        t("col_route_share"): (teams["route_share"] * 100).round(0).astype("Int64"),
        t("col_obligations"): teams["obligations_met"].astype(str) + " / " + teams["obligations"].astype(str),
        t("col_unmet"): teams["unmet_estate_ids"].str.replace(";", list_sep()),
    }), wide=t("col_unmet"), key="overview_plan_actual")
    st.caption(t("plan_actual_caption", tol=f"{teams.attrs.get('tolerance_m', settings.plan_tolerance_m):g}",
                 days=teams.attrs.get("days", 0), cover=f"{settings.cover_distance_m:g}"))
    if len(unvisited):
        st.warning(t("unvisited_nights", nights=7, ids=list_sep().join(unvisited["estate_id"])))
