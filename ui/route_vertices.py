"""Editing an existing route on the map (Leaflet.draw's edit tool on the loaded route), and snapping lines to the roads.

The edited route keeps its id, team and shift (:func:`geo.routes.edits.replace_route_geometry`);
the draft flows into the editor's preview, save and history like any other edit.
"""

from __future__ import annotations

import shapely
import streamlit as st

from geo import crs as _crs
from geo.errors import GeoError
from geo.maps import editing
from geo.maps.controls import FitBounds
from geo.routes import edits
from geo.routes.snap import road_network, snap_line
from ui import data, maps, search, state, tables
from ui.context import Context
from ui.i18n import lang, t


@st.cache_resource(show_spinner=False, max_entries=4)
def _network(path: str, mtime_ns: int):
    """The road network of the gazetteer (built once per file version)."""
    return road_network(path)


def snap_box(where: str) -> bool:
    """The "snap to roads" checkbox (one per place it is offered)."""
    return st.checkbox(t("snap_roads"), key=f"{state.SNAP_ROADS}_{where}", help=t("snap_help"))


def snap_lines(lines: list) -> list:
    """``lines`` (WGS-84) with every vertex moved onto the gazetteer roads and each leg following them; a caption says how."""
    path = data.path_of("gazetteer.geojson")
    net = _network(str(path), data.mtime_ns(path))
    out = []
    for line in lines:
        res = snap_line(line, net)
        st.caption(t("snapped", m=f"{res.length_m:,.0f}", shift=f"{res.max_shift_m:,.0f}", n=res.straight_legs))
        out.append(res.line)
    return out


def _latlon_parts(geom, basemap: str) -> list[list[list[float]]]:
    (shown,) = maps.draft_lines_for_map([geom], basemap)
    return [[[y, x] for x, y, *_ in part.coords] for part in shapely.get_parts(shown)]


def render(ctx: Context) -> tuple[str | None, list]:
    """Pick a route, move its vertices on the map; returns (draft GeoJSON text or None, the edited lines in WGS-84)."""
    routes = ctx.routes
    ids = list(routes["route_id"].astype(str))
    names = {str(r["route_id"]): f"{r['route_id']} · {r.get('team', r['team_id'])} · {tables.shift_label(r.get('shift', ''))}"
             for _, r in routes.iterrows()}
    c1, c2 = st.columns([2, 1])
    rid = c1.selectbox(t("vertex_route"), ids, index=None, key=state.VERTEX_ROUTE, placeholder=t("vertex_pick"), format_func=lambda i: names.get(i, i))
    with c2:
        snap = snap_box("vertices")
    if rid is None:
        return None, []
    st.caption(t("vertex_help"))
    basemap = ctx.filters.basemap
    geom = routes.loc[routes["route_id"].astype(str) == rid].geometry.iloc[0]
    group = editing.editable_group(_latlon_parts(geom, basemap))
    controls = editing.draw_controls(lang(), editable=group, remove=False)
    found = search.estate_search(ctx.cov.table, key=state.SEARCH_EDITOR)
    found_layers, found_controls = search.found_on_map(ctx.cov.table, found, basemap)
    if not found_controls:
        (shown,) = maps.draft_lines_for_map([geom], basemap)
        w, s, e, n = shown.bounds
        found_controls = [FitBounds([[s, w], [n, e]], padding_px=40)]
    key = maps.digest("vertices", ctx.routes_text, ctx.estates_mtime, ctx.filters, rid, found, st.session_state.get(state.DRAW_GEN, 0))
    m = maps.coverage_map(ctx.cov, routes, ctx.cov.table, ctx.filters, routes_text=ctx.routes_text, extra_layers=found_layers,
                          controls=[*found_controls, *controls], view_key="vertices")
    out = maps.show(m, key=f"vertex_map_{key}", returned=["all_drawings"])
    drawn = out.get("all_drawings") or []
    if not drawn:
        st.info(t("vertex_waiting"))
        return None, []
    try:
        datum = "gcj02" if basemap == "amap" else "wgs84"  # the map's datum
        lines = edits.lines_from_geojson(drawn, datum=datum, source=t("vertex_source"))
        if snap:
            lines = snap_lines(lines)
        draft = edits.replace_route_geometry(routes, rid, lines)
    except GeoError as exc:
        st.error(tables.error_text(exc))
        return None, []
    moved = _moved_vertices(geom, lines)
    st.success(t("vertex_changed", id=rid, n=moved))
    return edits.routes_to_text(draft, metadata=edits.file_metadata(ctx.routes_text)), lines


def _moved_vertices(before, after_lines: list) -> int:
    """How many vertices of the edited route are not within 0.5 m of a vertex of the route before."""
    a = shapely.get_coordinates(before)
    b = shapely.get_coordinates(shapely.MultiLineString([p for line in after_lines for p in shapely.get_parts(line)]))
    ax, ay = _crs.project_lonlat(a[:, 0], a[:, 1])
    bx, by = _crs.project_lonlat(b[:, 0], b[:, 1])
    old = shapely.points(ax, ay)
    tree = shapely.STRtree(old)
    _, dist = tree.query_nearest(shapely.points(bx, by), return_distance=True, all_matches=False)
    return int((dist > 0.5).sum())
