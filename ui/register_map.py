"""The register's map: place or drag an estate's surveyed position, draw its footprint, preview the change.

On the map a click places the pin and a drag moves it; the position read from
the map is in the basemap's datum (WGS-84 offline or on OSM/Tianditu, GCJ-02 on
AMap) and is written to the position fields as WGS-84 with the datum set to
WGS-84. A footprint polygon drawn with Leaflet.draw is converted to WGS-84 and
checked by :func:`geo.geocode.footprints.check_footprint`. Nothing is saved
here: the register's save button records both through the overrides file.
"""

from __future__ import annotations

import shapely
import streamlit as st

from geo import crs as _crs
from geo import settings
from geo.errors import DatumError
from geo.geocode.footprints import FootprintCheck, check_footprint, footprint_from_geojson
from geo.maps import editing
from ui import maps, state
from ui.context import Context
from ui.i18n import lang, t

MODES = ("place", "draw")


def candidate(eid: str) -> tuple[float, float] | None:
    """The position typed or placed for ``eid``, converted to WGS-84 (None when incomplete or the datum unknown)."""
    lon, lat = st.session_state.get(f"{state.REG_LON}:{eid}"), st.session_state.get(f"{state.REG_LAT}:{eid}")
    if lon is None or lat is None:
        return None
    try:
        x, y = _crs.convert(float(lon), float(lat), src=st.session_state.get(state.REG_DATUM, "wgs84"), dst="wgs84")
    except DatumError:
        return None
    return float(x), float(y)


def moved_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two WGS-84 positions, measured in :data:`geo.settings.metric_crs`."""
    x, y = _crs.project_lonlat([a[0], b[0]], [a[1], b[1]])
    return float(((x[1] - x[0]) ** 2 + (y[1] - y[0]) ** 2) ** 0.5)


def footprint(eid: str):
    """The footprint drawn for ``eid`` in this session (WGS-84 polygon) or None."""
    text = st.session_state.get(f"{state.REG_FOOTPRINT}:{eid}")
    return shapely.from_wkt(text) if text else None


def _to_map(geoms: list, basemap: str) -> list:
    return maps.draft_lines_for_map(geoms, basemap)


def render(ctx: Context, eid: str, current: tuple[float, float], *, editor: bool) -> None:
    """The map of the estate being corrected; clicks, drags and drawings update the session (before the fields are drawn)."""
    basemap = ctx.filters.basemap
    mode = st.radio(t("reg_map_mode"), MODES, horizontal=True, key=state.REG_MAP_MODE, format_func=lambda m: t(f"reg_mode_{m}"),
                    disabled=not editor)
    st.caption(t(f"reg_mode_{mode}_help"))
    pos = candidate(eid) or current
    (pin,) = _to_map([shapely.Point(*pos)], basemap)
    (before,) = _to_map([shapely.Point(*current)], basemap)
    table = ctx.cov.table
    found_layers, found_controls = [], []
    row = table[table["estate_id"].astype(str) == eid]
    if len(row):
        (geom,) = _to_map([row.geometry.iloc[0]], basemap)
        found_layers = [editing.highlight_group(geom, f"{eid} {row['name'].iloc[0]}", lang=lang())]
    found_controls = [editing.focus_bounds(pin.x, pin.y)]
    layers = [*found_layers, editing.pin_group(pin.x, pin.y, lang=lang(), previous=(before.x, before.y) if moved_m(pos, current) > 0.05 else None)]
    drawn = footprint(eid)
    if drawn is not None:
        (shown,) = _to_map([drawn], basemap)
        layers.append(_footprint_layer(shown))
    controls: list = list(found_controls)
    if mode == "place" or not editor:
        if editor:
            controls.append(editing.PlacePin(pin.x, pin.y, title=t("reg_pin_title")))
        returned = ["last_clicked"]
    else:
        controls += editing.draw_controls(lang(), polygon=True)
        returned = ["all_drawings"]
    key = maps.digest("register", eid, round(pin.x, 7), round(pin.y, 7), basemap, mode, editor, ctx.estates_mtime,
                      st.session_state.get(f"{state.REG_FOOTPRINT}:{eid}"))
    m = maps.coverage_map(ctx.cov, ctx.routes, ctx.cov.table, ctx.filters, routes_text=ctx.routes_text, extra_layers=layers, controls=controls, view_key="register")
    out = maps.show(m, key=f"register_map_{key}", returned=returned, height=maps.MAP_HEIGHT)  # the legend and the drawing tools both fit
    if not editor:
        return
    datum = "gcj02" if basemap == "amap" else "wgs84"
    if mode == "place":
        _apply_click(out.get("last_clicked"), eid, datum)
    else:
        _apply_drawing(out.get("all_drawings"), eid, datum)


def _footprint_layer(geom):
    import folium

    group = folium.FeatureGroup(name=t("reg_footprint_layer"), show=True)
    folium.GeoJson(geom.__geo_interface__, style_function=lambda _f: {"color": editing.DRAW_COLOUR, "weight": 3, "fillOpacity": 0.15,
                                                                        "className": "footprint-draft"}).add_to(group)
    return group


def _apply_click(clicked, eid: str, datum: str) -> None:
    """A click or a drop on the map: the position fields take it as WGS-84."""
    if not clicked or clicked == st.session_state.get(state.REG_CLICK_SEEN):
        return
    st.session_state[state.REG_CLICK_SEEN] = clicked
    lat, lng = clicked.get("lat"), clicked.get("lng")
    if lat is None or lng is None:
        return
    lon, lat = _crs.convert(float(lng), float(lat), src=datum, dst="wgs84")
    st.session_state[f"{state.REG_LON}:{eid}"] = round(float(lon), 7)
    st.session_state[f"{state.REG_LAT}:{eid}"] = round(float(lat), 7)
    st.session_state[state.REG_DATUM] = "wgs84"  # read from the map, converted: recorded as WGS-84
    st.rerun()  # the pin and the fields show the new position


def _apply_drawing(drawings, eid: str, datum: str) -> None:
    """A polygon drawn (or edited) on the map becomes the estate's footprint draft."""
    geom = footprint_from_geojson(drawings or [], datum=datum)
    if geom is None:
        return
    text = shapely.to_wkt(geom, rounding_precision=7)
    if st.session_state.get(f"{state.REG_FOOTPRINT}:{eid}") != text:
        st.session_state[f"{state.REG_FOOTPRINT}:{eid}"] = text


def preview(eid: str, current: tuple[float, float]) -> FootprintCheck | None:
    """What saving would change: the distance the point moves and the footprint's checks; None when there is no footprint."""
    pos = candidate(eid)
    if pos is not None:
        st.metric(t("reg_moved"), f"{moved_m(pos, current):,.1f} {t('unit_m')}")
    drawn = footprint(eid)
    if drawn is None:
        return None
    at = pos or current
    check = check_footprint(drawn, *at)
    if check.ok:
        st.success(t("reg_footprint_ok", area=f"{check.area_m2:,.0f}", d=f"{check.distance_m:,.0f}"))
    else:
        problems = [] if check.valid else [t("reg_fp_invalid")]
        if not settings.footprint_min_area_m2 <= check.area_m2 <= settings.footprint_max_area_m2:
            problems.append(t("reg_fp_area", area=f"{check.area_m2:,.0f}", lo=f"{settings.footprint_min_area_m2:,.0f}",
                              hi=f"{settings.footprint_max_area_m2:,.0f}"))
        if check.distance_m > settings.footprint_near_m:
            problems.append(t("reg_fp_far", d=f"{check.distance_m:,.0f}", near=f"{settings.footprint_near_m:g}"))
        st.error("\n\n".join(problems))
    st.button(t("reg_footprint_clear"), key=f"clear_footprint_{eid}", on_click=st.session_state.pop, args=(f"{state.REG_FOOTPRINT}:{eid}", None))
    return check
