"""巡防地图: the full map with its layers, and tables that follow the filters."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import streamlit as st

from geo import crs as _crs
from geo.incidents import density
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES
from geo.incidents.times import NIGHT_HOURS
from ui import auth, data, downloads, maps, search, state, tables
from ui import response as response_ui
from ui import tracks as tracks_ui
from ui.context import Context
from ui.i18n import category_label, colon, lang, list_sep, source_label, status_label, t
from ui.tables import md

EARTH_RADIUS_M = 6_371_008.8


def estate_at(table: pd.DataFrame, lat: float, lng: float, *, max_m: float = 60.0) -> str | None:
    """Id of the estate nearest to a clicked point (WGS-84), or None when none lies within ``max_m`` metres.

    The distance is the equirectangular approximation, exact to well under a
    metre at these few tens of metres.
    """
    if table is None or not len(table) or lat is None or lng is None:
        return None
    pts = table.geometry.representative_point()
    dlat = np.radians(pts.y.to_numpy() - lat)
    dlon = np.radians(pts.x.to_numpy() - lng) * math.cos(math.radians(lat))
    dist = EARTH_RADIUS_M * np.hypot(dlat, dlon)
    i = int(np.argmin(dist))
    return str(table["estate_id"].iloc[i]) if dist[i] <= max_m else None


def _heat_filters(ctx: Context) -> tuple[bool, bool, tuple, tuple, tuple, tuple | None]:
    if ctx.incidents is None:
        st.info(t("no_incidents"))
        return False, False, (), (), (0, 0), None
    c1, c2, c3 = st.columns([1, 1, 2])  # the layer switches stay in sight above the map; the filters fold away
    heat_on = c1.toggle(t("heat"), value=False, key=state.HEAT_ON)
    hot_on = c2.toggle(t("hotspots"), value=False, key=state.HOTSPOTS_ON, help=t("hotspots_help"))
    c3.caption(t("synthetic_incidents"))
    with st.expander(t("heat_filters"), expanded=False):
        cats = st.multiselect(t("heat_categories"), CATEGORY_NAMES, key=state.HEAT_CATEGORIES, placeholder=t("all"),
                              format_func=category_label)
        srcs = st.multiselect(t("heat_sources"), SOURCE_NAMES, key=state.HEAT_SOURCES, placeholder=t("all"), format_func=source_label)
        lo, hi = data.incident_years(ctx.incidents)
        years = st.slider(t("heat_years"), lo, hi, (lo, hi), key=state.HEAT_YEARS) if hi > lo else (lo, hi)
        night = st.toggle(t("heat_night"), key=state.HEAT_NIGHT)
        hours = None
        if night:
            hours = NIGHT_HOURS
        else:
            h0, h1 = st.slider(t("heat_hours"), 0, 23, (0, 23), key=state.HEAT_HOURS)
            hours = None if (h0, h1) == (0, 23) else tuple(range(h0, h1 + 1))
    return heat_on, hot_on, tuple(cats), tuple(srcs), tuple(years), hours


def render(ctx: Context) -> None:
    """Draw the planner view."""
    st.header(t("view_map"))
    shown = ctx.shown
    heat_on, hot_on, cats, srcs, years, hours = _heat_filters(ctx)
    inc_key = (str(ctx.incidents_path), ctx.incidents_mtime)
    outline = data.path_of("basemap.geojson")
    heat = (data.heat_density(*inc_key, cats, srcs, years, hours, str(outline), data.mtime_ns(outline))
            if heat_on and ctx.incidents is not None else None)
    cells, note = data.hotspot_layer(*inc_key, cats, srcs, years, hours) if hot_on and ctx.incidents is not None else (None, "")
    if note:
        st.warning(note)
    grid = maps.heat_grid(heat, ctx.filters.basemap)
    if heat is not None:
        kb = len(json.dumps(grid, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) / 1000 if grid else 0.0
        st.caption(t("heat_density_caption", n=heat[0].n_incidents, cell=f"{heat[0].grid.cell_m:g}", r=f"{density.BANDWIDTH_M:g}", kb=kb))
    f = ctx.filters
    found = search.estate_search(shown, key=state.SEARCH_PLANNER, on_change=_search_picked)
    inputs_key = maps.digest("planner", ctx.routes_text, ctx.estates_mtime, f, tuple(shown["estate_id"]),
                             inc_key if (heat or cells is not None) else None, cats, srcs, years, hours, heat_on, hot_on,
                             tracks_ui.store_key(), auth.is_editor(), found)
    _map_and_selection(ctx, grid, cells, found, inputs_key)

    st.subheader(t("estates_table", n=len(shown), total=len(ctx.cov.table)))
    st.dataframe(tables.estate_rows(shown, ctx.cov.teams, radius_m=f.rule.radius_m), hide_index=True, width="stretch", key="planner_estates")
    st.subheader(t("teams"))
    st.dataframe(tables.team_rows(ctx.cov.teams, ctx.routes, set(shown["estate_id"].astype(str)), radius_m=f.rule.radius_m), hide_index=True,
                 width="stretch",
                 key="planner_teams")
    downloads.render(ctx)


@st.fragment
def _map_and_selection(ctx: Context, grid, cells, found, inputs_key: str) -> None:
    """The map, its click handling and the selected estate's detail.

    A fragment: a click on the map or a pick in the selectbox reruns only this
    part of the page, not the filters, tables and downloads around it.
    ``inputs_key`` digests what the map draws; the click generation is added
    here, because the selectbox's callback changes it within the fragment.
    """
    f = ctx.filters
    shown = ctx.shown
    key = maps.digest(inputs_key, st.session_state.get(state.CLICK_GEN, 0))
    resp = response_ui.result(ctx, f.rule.shift)
    layers = [g for g in (tracks_ui.presence_layer(f.basemap), tracks_ui.raw_layer(f.basemap), response_ui.layer(resp, ctx.cov.table, f.basemap))
              if g is not None]
    found_layers, found_controls = search.found_on_map(shown, found, f.basemap)
    m = maps.coverage_map(ctx.cov, ctx.routes, shown, f, routes_text=ctx.routes_text, heat=grid, hotspot_cells=cells,
                          extra_layers=layers + found_layers, controls=found_controls, view_key="planner")
    out = maps.show(m, key=f"planner_map_{key}", returned=["last_object_clicked"])
    _apply_click(out.get("last_object_clicked"), shown, f.basemap)
    response_ui.outside_table(resp)

    ids = list(shown["estate_id"].astype(str))
    if ids:
        labels = dict(zip(shown["estate_id"].astype(str), shown["name"].astype(str), strict=True))
        if st.session_state.get(state.SELECTED_ESTATE) not in ids:
            st.session_state[state.SELECTED_ESTATE] = ids[0]
        sel = st.selectbox(t("select_estate"), ids, key=state.SELECTED_ESTATE, format_func=lambda i: f"{i} {labels.get(i, '')}",
                           help=t("select_help"), on_change=_forget_click)
        _estate_detail(ctx, sel)


def _search_picked() -> None:
    """An estate was found by search: it becomes the selected estate too."""
    found = st.session_state.get(state.SEARCH_PLANNER)
    if found:
        st.session_state[state.SELECTED_ESTATE] = found
        _forget_click()


def _forget_click() -> None:
    """The user picked an estate in the selectbox: forget the last map click and give the map a new key.

    The map component only reports a click that differs from its previous
    report, so without a new map a second click on the estate clicked before
    would never arrive.
    """
    st.session_state[state.CLICK_SEEN] = None
    st.session_state[state.CLICK_GEN] = st.session_state.get(state.CLICK_GEN, 0) + 1


def _apply_click(clicked, shown: pd.DataFrame, basemap: str) -> None:
    """Select the estate the user clicked on the map (only when the click is new)."""
    if not clicked or clicked == st.session_state.get(state.CLICK_SEEN):
        return
    st.session_state[state.CLICK_SEEN] = clicked
    lat, lng = clicked.get("lat"), clicked.get("lng")
    if lat is None or lng is None:
        return
    if basemap == "amap":  # the map shows GCJ-02 there
        lng, lat = (float(v) for v in _crs.convert(lng, lat, src="gcj02", dst="wgs84"))
    hit = estate_at(shown, float(lat), float(lng))
    if hit is not None:
        st.session_state[state.SELECTED_ESTATE] = hit


def _estate_detail(ctx: Context, estate_id: str) -> None:
    row = ctx.cov.table[ctx.cov.table["estate_id"] == estate_id].iloc[0]
    names = tables.team_names(ctx.cov.teams)
    with st.container(border=True):
        c, gap = colon(), "　" if lang() == "zh" else " · "  # one language: full-width colon and space in Chinese only
        st.markdown(gap.join(f"**{t(key)}**{c}{md(value)}" for key, value in (
            ("col_name", row["name"]), ("col_status", status_label(row["status"])), ("col_community", row["community"]),
            ("col_batch", row.get("batch_year", "")))))
        approx = "" if str(row.get("geocode_quality", "")) == "surveyed" else f" · {t('approx_short')}"
        st.caption(f"{t('address')}{c}{md(row.get('address', ''))} · {t('col_quality')}{c}{md(tables.quality_label(row.get('geocode_quality')))}"
                   f"{approx}")
        st.markdown(f"**{t('col_fix')}**{c}{md(tables.fix_text(row, names, radius_m=ctx.filters.rule.radius_m))}")
        pairs = ctx.cov.pairs[ctx.cov.pairs["estate_id"] == estate_id]
        if len(pairs):
            st.dataframe(pd.DataFrame({
                t("col_team"): pairs["team_id"].map(lambda i: f"{names.get(i, i)} ({i})"),
                t("col_route"): pairs["route_id"].astype(str),
                t("col_distance_m"): pairs["distance_m"].round(0),
                t("col_covers"): pairs["covers"].map({True: t("yes"), False: t("no")}),
                t("col_obligation"): pairs["obligation"].map({True: t("must_extend"), False: ""}),
            }), hide_index=True, width="stretch", key=f"pairs_{estate_id}")
        else:
            st.info(t("no_team_nearby", radius=f"{ctx.filters.rule.radius_m:g}"))
        if ctx.incidents is not None:
            counts = data.estate_incidents(str(ctx.incidents_path), ctx.incidents_mtime, str(ctx.estates_path), ctx.estates_mtime)
            if estate_id in counts.index:
                counts_of = counts.loc[estate_id]
                cols = [x for x in CATEGORY_NAMES if x in counts_of.index]
                st.caption(t("incidents_near", r=f"{counts.attrs.get('radius_m', 300):g}") + " · "
                           + list_sep().join(f"{category_label(x)} {int(counts_of[x])}" for x in cols) + f" · {t('total')} {int(counts_of['total'])}")
        tracks_ui.estate_timeline(ctx, estate_id)

