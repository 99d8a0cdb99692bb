"""The coverage map of the planner and editor views, built once per set of inputs."""

from __future__ import annotations

import hashlib

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import Draw

from geo import mapview
from ui import data
from ui.i18n import t
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
) -> folium.Map:
    """Build the localized map (a new object on every call; see :func:`ui.data.localized`).

    ``routes_text`` is the GeoJSON of ``routes``: it keys the cached bands.
    """
    ext = cov.proposals[cov.proposals["recommended"]] if len(cov.proposals) else None
    if ext is not None and len(ext):
        names = dict(zip(routes["team_id"].astype(str), routes["team"].astype(str), strict=False))
        orgs = dict(zip(routes["team_id"].astype(str), routes["org_type"].astype(str), strict=False))
        est_names = dict(zip(cov.table["estate_id"], cov.table["name"], strict=False))
        ext = ext.assign(team=ext["team_id"].map(names), org_type=ext["team_id"].map(orgs),
                         name=ext["estate_id"].map(est_names), length_m=ext["extension_m"])
        ext = ext[ext["estate_id"].isin(shown["estate_id"])]
    if filters.rule.shift and len(routes):  # only the routes that patrol in the chosen shift
        routes = routes[routes["shift"].isin([filters.rule.shift, "all"])]
        bands = mapview.route_bands(routes, radius_m=filters.rule.radius_m, cover_m=filters.rule.cover_m) if len(routes) else None
    else:
        bands = data.route_bands(routes_text, filters.rule.radius_m, filters.rule.cover_m) if routes_text else None
    notes = []
    if heat is not None and heat.n_incidents:
        notes.append(t("heat_note"))
    m = mapview.build_map(
        _estates_for_map(cov, shown), routes, extensions=ext, heat=heat.data if heat is not None and heat.n_incidents else None,
        hotspots=hotspot_cells, bands=bands, basemap=filters.basemap, show_bands=filters.show_bands,
        tianditu_key=filters.tianditu_key or None, notes=notes,
    )
    if extra_lines:
        group = folium.FeatureGroup(name=t("draft_layer"), show=True)
        for geom in extra_lines:
            for part in getattr(geom, "geoms", [geom]):
                coords = np.asarray(part.coords)
                folium.PolyLine([[y, x] for x, y in coords[:, :2]], color="#d81b60", weight=5, dash_array="2 8",
                                class_name="draft-line", tooltip=t("draft_layer")).add_to(group)
        group.add_to(m)
    if draw:
        Draw(
            export=False, position="topleft",
            draw_options={"polyline": {"shapeOptions": {"color": "#d81b60", "weight": 5}}, "polygon": False, "rectangle": False,
                          "circle": False, "marker": False, "circlemarker": False},
            edit_options={"edit": True, "remove": True},
        ).add_to(m)
    return data.localized(m)


def show(m: folium.Map, *, key: str, returned: list[str]) -> dict:
    """Show a map with st_folium, returning only ``returned`` (so panning never reruns the script)."""
    from streamlit_folium import st_folium

    return st_folium(m, key=key, height=MAP_HEIGHT, use_container_width=True, returned_objects=returned) or {}
