"""The coverage map of the planner and editor views, built once per set of inputs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np

from geo import crs as _crs
from geo.maps import editing, heat_layer, mapview
from ui import data
from ui.i18n import lang, t
from ui.sidebar import Filters

MAP_HEIGHT = 620


def _estates_for_map(cov: data.Coverage, shown: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Estates with status and teams, limited to the rows that pass the filters."""
    cols = [c for c in shown.columns if c != "geometry"]
    return gpd.GeoDataFrame(shown[cols].copy(), geometry=shown.geometry.values, crs=cov.table.crs)


def digest(*parts) -> str:
    """Short hash of the inputs of a map (cache key and component key)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(repr(p).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def draft_lines_for_map(lines: list, basemap: str) -> list:
    """Draft lines (WGS-84) in the datum the map shows: GCJ-02 on the AMap basemap, else unchanged."""
    if not lines or basemap != "amap":
        return list(lines or [])
    return list(_crs.convert_geometries(lines, src="wgs84", dst="gcj02"))


@dataclass
class MapInputs:
    """What a coverage map draws for one rule: the shift's routes, their bands and the extensions."""

    routes: gpd.GeoDataFrame
    bands: gpd.GeoDataFrame | None
    extensions: gpd.GeoDataFrame | None


def map_inputs(cov: data.Coverage, routes: gpd.GeoDataFrame, estate_ids, rule: data.Rule, *, routes_text: str) -> MapInputs:
    """The routes that patrol in ``rule.shift``, their (cached) bands and the recommended extensions of ``estate_ids``.

    Used by the app's map and by the downloaded HTML map, so both show the same.
    ``routes_text`` is the GeoJSON of ``routes``: it keys the cached bands.
    """
    ext = cov.proposals[cov.proposals["recommended"]] if len(cov.proposals) else None
    if ext is not None and len(ext):
        names = dict(zip(routes["team_id"].astype(str), routes["team"].astype(str), strict=False))
        orgs = dict(zip(routes["team_id"].astype(str), routes["org_type"].astype(str), strict=False))
        est_names = dict(zip(cov.table["estate_id"], cov.table["name"], strict=False))
        ext = ext.assign(team=ext["team_id"].map(names), org_type=ext["team_id"].map(orgs),
                         name=ext["estate_id"].map(est_names), length_m=ext["extension_m"])
        ext = ext[ext["estate_id"].isin(list(estate_ids))]
    bands = data.route_bands(routes_text, rule.radius_m, rule.cover_m, rule.shift) if routes_text else None
    return MapInputs(data.shift_routes(routes, rule.shift), bands, ext)


def build(estates: gpd.GeoDataFrame, inputs: MapInputs, rule: data.Rule, **kwargs) -> folium.Map:
    """:func:`geo.mapview.build_map` of prepared inputs; band, legend and popup texts name the rule radius."""
    kwargs.setdefault("basemap_path", data.path_of("basemap.geojson"))
    kwargs.setdefault("gazetteer_path", data.path_of("gazetteer.geojson"))
    return mapview.build_map(estates, inputs.routes, extensions=inputs.extensions, bands=inputs.bands, radius_m=rule.radius_m,
                             **kwargs)


def heat_grid(heat, basemap: str) -> dict | None:
    """The heat layer's payload for the map (in the basemap's datum and the page's language) from ``(cube, area)``
    of :func:`ui.data.heat_density`; None when no incident passed the filters."""
    if heat is None or not heat[0].n_incidents:
        return None
    return heat_layer.heat_payload(heat[0], heat[1], datum="gcj02" if basemap == "amap" else "wgs84", lang=lang())


def coverage_map(
    cov: data.Coverage,
    routes: gpd.GeoDataFrame,
    shown: gpd.GeoDataFrame,
    filters: Filters,
    *,
    routes_text: str,
    heat=None,
    hotspot_cells=None,
    draw: bool = False,
    extra_lines: list | None = None,
    extra_layers: list | None = None,
    controls: list | None = None,
    view_key: str | None = None,
) -> folium.Map:
    """Build the localized map (a new object on every call; see :func:`ui.data.localized`).

    ``routes_text`` is the GeoJSON of ``routes``: it keys the cached bands.
    ``extra_lines`` (WGS-84) are drawn as a draft, shifted to GCJ-02 on the AMap basemap.
    ``extra_layers`` (folium layers already in the basemap's datum) are added as they are.
    ``heat`` is a payload of :func:`heat_grid`: the density layer with its year slider and category menu,
    which switch in the browser without rebuilding the map.
    ``controls`` (elements of :mod:`geo.maps.editing`: Leaflet.draw, a pin, a focus) are added after the map is built.
    ``view_key`` names the map so the view the user chose survives a rebuild (a layer switched on in the page).
    """
    inputs = map_inputs(cov, routes, shown["estate_id"], filters.rule, routes_text=routes_text)
    notes = []
    if heat:
        notes.append(t("heat_note"))
    extra = []
    if extra_lines:
        group = folium.FeatureGroup(name=t("draft_layer"), show=True)
        for geom in draft_lines_for_map(extra_lines, filters.basemap):
            for part in getattr(geom, "geoms", [geom]):
                coords = np.asarray(part.coords)
                folium.PolyLine([[y, x] for x, y in coords[:, :2]], color="#d81b60", weight=5, dash_array="2 8",
                                class_name="draft-line", tooltip=t("draft_layer")).add_to(group)
        extra.append(group)
    extra += list(extra_layers or [])  # before the layer control, which must be declared after every layer it names
    m = build(
        _estates_for_map(cov, shown), inputs, filters.rule, heat_grid=heat or None,
        hotspots=hotspot_cells, basemap=filters.basemap, show_bands=filters.show_bands,
        tianditu_key=filters.tianditu_key or None, notes=notes, extra_layers=extra, lang=lang(), view_key=view_key,
    )
    if draw:
        for element in editing.draw_controls(lang(), polyline=True):
            m.add_child(element)
    for element in controls or ():
        m.add_child(element)
    return data.localized(m)


def show(m: folium.Map, *, key: str, returned: list[str], height: int = MAP_HEIGHT) -> dict:
    """Show a map with st_folium, returning only ``returned`` (so panning never reruns the script)."""
    from streamlit_folium import st_folium

    return st_folium(m, key=key, height=height, use_container_width=True, returned_objects=returned) or {}
