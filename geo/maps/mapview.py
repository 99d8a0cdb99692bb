"""Build the coverage map as a plain folium object (no Streamlit here).

The default basemap is drawn from the project's own data, so the map needs no
tile server: a light background, the approximate subdistrict outline, water,
river and community labels from ``data/basemap.geojson`` and road centrelines
from ``data/gazetteer.geojson``. Online tiles (OpenStreetMap, Tianditu, AMap)
are used only when chosen explicitly. AMap tiles are in GCJ-02, so every
overlay is shifted into GCJ-02 for display when that basemap is chosen; the
data itself stays WGS-84.

Every text that comes from data is HTML-escaped (and made safe inside the
JavaScript template strings folium writes) before it reaches a popup, tooltip
or legend.

Pass the result through :func:`geo.offline.localize_map` (or
:func:`geo.offline.render_html`) before showing or saving it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from geo import crs as _crs
from geo import settings
from geo._validate import is_blank
from geo.maps import texts
from geo.maps.basemaps import BASEMAPS, ONLINE_BASEMAPS, read_geojson, select_features
from geo.maps.controls import Attribution, FitBounds, FocusWithoutScroll, MetricScale, add_tools
from geo.maps.estate_marks import EstateMarks
from geo.maps.heat_layer import HeatGridLayer
from geo.maps.labels import (
    ORG_STYLE,
    OTHER_ORG,
    STATUS_SHAPE,
    UNKNOWN_STATUS,
    distance_text,
    estate_popup,
    popup_table,
    radius_text,
    route_popup,
    safe_text,
    status_label,
)
from geo.maps.legend import LEGEND_CSS, Legend, legend_html
from geo.maps.vector_layer import VectorLayer, latlng_rings
from geo.report import is_approximate_position

OFFLINE_ATTRIBUTION = texts.text("attribution", "zh")
BACKGROUND_COLOUR = "#f3f1ea"
#: Leaflet pane of the offline basemap (below the heat layer and the data).
BASEMAP_PANE = "basemap"

_CSS = """
<style>
.leaflet-container { background: %(bg)s; }
.basemap-label { color: #5d5a52; font: 12px sans-serif; white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
.map-popup table { border-collapse: collapse; font-size: 12px; }
.map-popup th { text-align: left; padding-right: 8px; color: #555; font-weight: normal; white-space: nowrap; vertical-align: top; }
.map-popup td { vertical-align: top; }
.leaflet-overlay-pane > svg { pointer-events: none; }
%(legend)s</style>
"""


# --- bands around routes ------------------------------------------------------------


def route_bands(routes: gpd.GeoDataFrame, *, radius_m: float | None = None, cover_m: float | None = None) -> gpd.GeoDataFrame:
    """Return each team's rule band and cover band around its routes, in WGS-84.

    Buffers are taken in the metric CRS of :func:`geo.crs.to_metric` and merged
    per team. The lines are first simplified to :data:`geo.settings.display_simplify_m`
    (2 m): the bands are for display, so a 200,000-vertex GPS track costs about
    what its shape needs; the coverage itself always uses the full geometry.

    Parameters
    ----------
    routes
        Patrol routes (any CRS with a CRS set) with ``team_id``; ``team`` and
        ``org_type`` are carried when present.
    radius_m
        Rule radius; default :data:`geo.settings.rule_radius_m` (1000 m).
    cover_m
        Cover distance; default :data:`geo.settings.cover_distance_m`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``team_id, team, org_type, band ("rule" | "cover"), radius_m,
        geometry`` in EPSG:4326, one row per team and band.
    """
    if radius_m is None:
        radius_m = settings.rule_radius_m
    if cover_m is None:
        cover_m = settings.cover_distance_m
    cols = ["team_id", "team", "org_type", "band", "radius_m"]
    if routes is None or len(routes) == 0:
        return gpd.GeoDataFrame(columns=cols, geometry=gpd.GeoSeries([], crs=settings.storage_crs), crs=settings.storage_crs)
    metric = _crs.to_metric(routes)
    rows = []
    for team_id, group in metric.groupby("team_id", sort=True):
        # drawn only: a dense line (a raw GPS track) is simplified first, so its bands cost little; the coverage uses the full lines
        merged = shapely.simplify(shapely.union_all(group.geometry.values), settings.display_simplify_m)
        first = group.iloc[0]
        for band, dist in (("rule", float(radius_m)), ("cover", float(cover_m))):
            rows.append({
                "team_id": team_id,
                "team": first.get("team", team_id),
                "org_type": first.get("org_type", ""),
                "band": band,
                "radius_m": dist,
                "geometry": shapely.buffer(merged, dist, quad_segs=band_quad_segs(dist)),
            })
    out = gpd.GeoDataFrame(rows, columns=[*cols, "geometry"], geometry="geometry", crs=metric.crs)
    return out.to_crs(settings.storage_crs)


def band_quad_segs(radius_m: float, tolerance_m: float | None = None) -> int:
    """Segments per quarter circle of a band's buffer so that its arcs stay within ``tolerance_m`` of the circle.

    A buffer's arc is a polygon inscribed in the circle: with ``q`` segments
    per quarter, each chord lies at most ``radius_m * (1 - cos(pi / (4 q)))``
    inside it. The default tolerance is :data:`geo.settings.display_band_tolerance_m`
    (1 m: 18 segments for 1 km, 6 for 100 m, where a fixed 16 left 1.2 m and
    0.12 m, and a district's cover bands twice the vertices they needed).
    """
    tol = settings.display_band_tolerance_m if tolerance_m is None else float(tolerance_m)
    if radius_m <= tol:
        return 1
    return max(1, math.ceil(math.pi / (4.0 * math.acos(1.0 - tol / radius_m))))


# --- elements -------------------------------------------------------------------


def _layer_key(geoms: np.ndarray, tips: list[str], style: dict) -> bytes:
    """A digest of everything a polygon layer draws: the geometries (as WKB), their tooltips and the options."""
    digest = hashlib.blake2b(digest_size=20)
    for wkb in shapely.to_wkb(geoms).tolist():
        digest.update(len(wkb).to_bytes(8, "little"))
        digest.update(wkb)
    digest.update(json.dumps([tips, style], ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return digest.digest()


def _display(gdf: gpd.GeoDataFrame | None, datum: str) -> gpd.GeoDataFrame | None:
    """Copy of ``gdf`` in WGS-84, shifted into ``datum`` for display."""
    if gdf is None or len(gdf) == 0:
        return gdf
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.storage_crs)
    out = gdf.to_crs(settings.storage_crs)
    if datum != "wgs84":
        out = out.set_geometry(_crs.convert_geometries(out.geometry.values, src="wgs84", dst=datum), crs=out.crs)
    return out


def _to_gdf(features: list[dict], props: Sequence[str], *, src_datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Features as a WGS-84 frame; a file declared GCJ-02 or BD-09 is converted first."""
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    if _crs.normalize_datum(src_datum) != "wgs84":
        geoms = list(_crs.convert_geometries(geoms, src=src_datum, dst="wgs84"))
    data = {p: [safe_text((f.get("properties") or {}).get(p, "")) for f in features] for p in props}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=settings.storage_crs)


def _add_offline_basemap(m: folium.Map, *, basemap_path: Path, gazetteer_path: Path, datum: str, lang: str = "zh") -> list[str]:
    """Draw the project's own basemap layers (one vector layer in their own pane); return notes for the legend."""
    notes = []
    doc = read_geojson(basemap_path)
    group = folium.FeatureGroup(name=texts.text("layer_basemap", lang), control=True, show=True)
    # Its own pane below the overlay pane, so the heat layer's canvas (pane 350) lies between the basemap and the data.
    folium.map.CustomPane(BASEMAP_PANE, z_index=250, pointer_events=True).add_to(m)
    layer = VectorLayer(canvas=False)
    if doc is not None:
        src = str(doc.get("datum") or "wgs84")
        outline = select_features(doc, kinds={"outline"}, geom_types={"Polygon", "MultiPolygon"})
        water = select_features(doc, kinds={"water"}, geom_types={"Polygon", "MultiPolygon"})
        rivers = select_features(doc, kinds={"river"}, geom_types={"LineString", "MultiLineString"})
        labels = select_features(doc, kinds={"label"}, geom_types={"Point"})
        if outline:
            for geom in _display(_to_gdf(outline, ["name"], src_datum=src), datum).geometry:
                layer.polygon(latlng_rings(geom), color="#8c8577", weight=2, dash_array="6 4", fill=True, fill_color="#fbfaf6",
                              fill_opacity=0.7, interactive=False, pane=BASEMAP_PANE)
        if water:
            for geom in _display(_to_gdf(water, ["name"], src_datum=src), datum).geometry:
                layer.polygon(latlng_rings(geom), color="#8fb8d8", weight=1, fill=True, fill_color="#b7d4ea", fill_opacity=0.9,
                              pane=BASEMAP_PANE)
        if rivers:
            for geom in _display(_to_gdf(rivers, ["name"], src_datum=src), datum).geometry:
                for line in _lines(geom):
                    layer.line(line, color="#8fb8d8", weight=4, opacity=0.9, pane=BASEMAP_PANE)
        for feat in labels:
            lon, lat = feat["geometry"]["coordinates"][:2]
            lon, lat = _crs.convert(lon, lat, src=src, dst=datum)
            name = safe_text((feat.get("properties") or {}).get("name", ""))
            layer.label(float(lat), float(lon), f'<div class="basemap-label">{name}</div>', size_px=(120, 16), anchor_px=(60, 8))
        if doc.get("synthetic") or doc.get("approximate"):
            notes.append(texts.text("note_basemap", lang))
    gaz = read_geojson(gazetteer_path)
    roads = select_features(gaz, geom_types={"LineString", "MultiLineString"})
    roads = [f for f in roads if (f.get("properties") or {}).get("road")]
    if roads:
        gdf = _display(_to_gdf(roads, ["road"], src_datum=str(gaz.get("datum") or "wgs84")), datum)
        for geom, road in zip(gdf.geometry, gdf["road"], strict=True):  # names already made safe by _to_gdf
            for line in _lines(geom):
                layer.line(line, color="#c9c2b3", weight=5, opacity=0.9, line_cap="round", tooltip=road, pane=BASEMAP_PANE)
    layer.add_to(group)
    group.add_to(m)
    return notes


# --- the map ----------------------------------------------------------------------


def _records(gdf: gpd.GeoDataFrame):
    """(attributes as a dict, geometry) of each row: plain dicts, far cheaper than ``iterrows`` at thousands of rows."""
    geoms = gdf.geometry.to_numpy()
    return zip(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).to_dict("records"), geoms, strict=True)


def _lines(geom) -> list[np.ndarray]:
    """Leaflet [lat, lon] vertex arrays of a (multi)line."""
    if geom is None or geom.is_empty:
        return []
    parts = getattr(geom, "geoms", [geom])
    return [shapely.get_coordinates(part)[:, ::-1] for part in parts if part.geom_type == "LineString"]


def build_map(
    estates: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame | None = None,
    *,
    extensions: gpd.GeoDataFrame | None = None,
    heat: Sequence[Sequence[float]] | None = None,
    heat_grid: dict | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    bands: gpd.GeoDataFrame | None = None,
    basemap: str = "offline",
    show_bands: bool = True,
    tianditu_key: str | None = None,
    basemap_path: str | Path | None = None,
    gazetteer_path: str | Path | None = None,
    height: str | int = "100%",
    notes: Sequence[str] = (),
    radius_m: float | None = None,
    extra_layers: Sequence[folium.FeatureGroup] = (),
    lang: str = "zh",
    labels: bool = True,
    tools: bool = True,
    view_key: str | None = None,
) -> folium.Map:
    """Build the coverage map.

    Parameters
    ----------
    estates
        WGS-84 estates with ``estate_id, name, community, address, batch_year,
        geocode_quality`` and optionally ``status`` (covered / coverable / gap),
        ``nearest_team_id, nearest_distance_m, covering_team_ids, nearby_team_ids``.
    routes
        Patrol routes with ``route_id, team_id, team, org_type, shift``.
    extensions
        Proposed route extensions (lines); drawn dashed. Optional columns
        ``team_id, team, org_type, estate_id, name, length_m``.
    heat
        Incident points as ``[lat, lon, weight]`` in WGS-84 for a blurred heat layer.
    heat_grid
        A density heat layer from :func:`geo.maps.heat_layer.heat_payload` (made for this map's datum): cells
        masked to the subdistrict, a year slider and category menu in the map, its scale in the legend.
    hotspots
        Hot-spot cells (polygons, WGS-84); a ``category`` column of
        ``hot``/``cold`` (or a signed ``z``/``gi_z``) sets the colour. The tooltip shows
        ``count``, ``gi_z``, ``p_value`` and ``q_value`` (the FDR-corrected value) when present.
    bands
        Bands from :func:`route_bands`; computed from ``routes`` when omitted.
    basemap
        ``"offline"`` (default, no tiles), ``"osm"``, ``"tianditu"`` (needs
        ``tianditu_key``) or ``"amap"`` (GCJ-02 tiles; overlays shifted to GCJ-02).
    show_bands
        Whether the band layers start visible.
    basemap_path, gazetteer_path
        Files of the offline basemap; default ``data/basemap.geojson`` and
        ``data/gazetteer.geojson``. Missing files are skipped.
    height
        Height of the map element.
    notes
        Extra lines for the legend (escaped).
    radius_m
        Rule radius the statuses were computed with, for the legend, the
        popups, the band layer's name and bands computed here; default
        :data:`geo.settings.rule_radius_m`.
    extra_layers
        Feature groups drawn on top (e.g. a draft route), added before the
        legend and the layer control so the control lists them. A group added
        to the returned map instead would be declared after the control that
        names it, and the map's script would stop there.
    lang
        ``"zh"`` (default) or ``"en"``: every label, popup, layer name,
        legend line and the scale bar (metric only) in that one language.
    labels
        Id and name labels on the estates that never overlap, and estates at one spot grouped into one
        symbol with a count (:mod:`geo.maps.estate_marks`).
    tools
        The measure tool and the full-screen button.
    view_key
        A name for this map (e.g. ``"planner"``): the view the user pans or zooms to is kept in the browser tab
        and the next map of that name over the same estates and routes opens there (:class:`FitBounds`).

    Returns
    -------
    folium.Map
        With CDN links still in place: pass it to :func:`geo.offline.localize_map`.
    """
    if basemap not in BASEMAPS:
        msg = f"unknown basemap {basemap!r}: use one of {', '.join(BASEMAPS)} (offline needs no internet)"
        raise ValueError(msg)
    if basemap == "tianditu" and not tianditu_key:
        msg = "the Tianditu basemap needs a key (tianditu_key); get one at the Tianditu developer site, or use basemap='offline'"
        raise ValueError(msg)
    datum = ONLINE_BASEMAPS[basemap]["datum"] if basemap in ONLINE_BASEMAPS else "wgs84"
    if radius_m is None:
        radius_m = settings.rule_radius_m
    texts.check_lang(lang)
    tx = texts.text
    radius_label = radius_text(radius_m)[1 if lang == "en" else 0]
    legend_layers: list[str] = []

    est = _display(estates, datum)
    rts = _display(routes, datum)
    if bands is None and routes is not None and len(routes):
        bands = route_bands(routes, radius_m=radius_m)
    bnd = _display(bands, datum)
    ext = _display(extensions, datum)
    hot = _display(hotspots, datum)

    frames = [g for g in (est, rts) if g is not None and len(g)]
    if frames:
        bounds = np.array([g.total_bounds for g in frames])
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
    else:
        west, south, east, north = settings.shahe_bounds
        if datum != "wgs84":
            (west, east), (south, north) = _crs.convert(np.array([west, east]), np.array([south, north]), src="wgs84", dst=datum)
    centre = [(south + north) / 2.0, (west + east) / 2.0]

    m = folium.Map(location=centre, zoom_start=14, tiles=None, control_scale=False, height=height,
                   attr=None, prefer_canvas=False)
    # Only Leaflet and jQuery: Bootstrap, Font Awesome and awesome-markers are unused here and made up most of
    # the bytes every map sends (inlined for offline use, on every rerun of the app).
    m.default_js = [(name, url) for name, url in m.default_js if name in ("leaflet", "jquery")]  # folium popups use jQuery
    m.default_css = [(name, url) for name, url in m.default_css if name == "leaflet_css"]
    m.get_root().header.add_child(Element(_CSS % {"bg": BACKGROUND_COLOUR, "legend": LEGEND_CSS.lstrip("\n")}), name="shahe_map_css")

    legend_notes = list(notes)
    if basemap == "offline":
        legend_notes += _add_offline_basemap(
            m,
            basemap_path=Path(basemap_path) if basemap_path else settings.data_path("basemap.geojson"),
            gazetteer_path=Path(gazetteer_path) if gazetteer_path else settings.data_path("gazetteer.geojson"),
            datum=datum, lang=lang,
        )
        m.add_child(Attribution(tx("attribution", lang)))
    else:
        spec = ONLINE_BASEMAPS[basemap]
        for i, url in enumerate(spec["tiles"]):
            folium.TileLayer(
                tiles=url.replace("{key}", str(tianditu_key or "")), attr=spec["attr"], name=spec["name"] if i == 0 else f"{spec['name']} {tx('labels_layer', lang)}",
                subdomains=spec["subdomains"], overlay=i > 0, control=i == 0, max_zoom=18,
            ).add_to(m)

    # Bands first, so markers and lines stay clickable on top.
    if bnd is not None and len(bnd):
        # The rule band is a light grey outline with no fill (overlapping fills used to swamp the map); the river
        # stays light blue and police routes dark blue, so the three read apart.
        for band, name, colour, opacity in (("rule", tx("layer_rule_band", lang, radius=radius_label), "#8a8a8a", 0.0),
                                            ("cover", tx("layer_cover_band", lang), "#43a047", 0.12)):
            part = bnd[bnd["band"] == band] if "band" in bnd.columns else bnd
            if not len(part):
                continue
            legend_layers.append(f"{band}_band")
            group = folium.FeatureGroup(name=name, show=show_bands)
            style = {"color": colour, "weight": 1, "opacity": 0.6, "fill": True, "fill_color": colour, "fill_opacity": opacity,
                     "dash_array": "5 5" if band == "rule" else None}
            teams = part["team"].to_numpy() if "team" in part.columns else np.full(len(part), "", dtype=object)
            radii = part["radius_m"].to_numpy() if "radius_m" in part.columns else np.full(len(part), None, dtype=object)
            geoms = part.geometry.to_numpy()
            drawn = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            tips = [f"{safe_text(team)} · {safe_text(name)} {safe_text(distance_text(radius, lang))}"
                    for team, radius in zip(teams[drawn], radii[drawn], strict=True)]

            def fill(layer, geoms=geoms[drawn], tips=tips, style=style):
                for geom, tip in zip(geoms, tips, strict=True):
                    layer.polygon(latlng_rings(geom), tooltip=tip, **style)

            # The bands change only with the routes and the rule: their layer is made once (geo.maps.vector_layer).
            VectorLayer.reused(_layer_key(geoms[drawn], tips, style), fill).add_to(group)
            group.add_to(m)

    if hot is not None and len(hot):
        group = folium.FeatureGroup(name=tx("layer_hotspots", lang), show=True)
        legend_layers.append("hotspots")
        layer = VectorLayer()
        for _, row in hot.iterrows():
            colour = _hotspot_colour(row)
            shown = [(tx(key, lang), _cell_value(k, row.get(k), lang)) for k, key in _CELL_FIELDS if k in row.index]
            if row.geometry is None or row.geometry.is_empty:
                continue
            # _cell_value escapes: '< 0.001' must not become '&amp;lt;'
            layer.polygon(latlng_rings(row.geometry), tooltip=popup_table(shown), color=colour, weight=1, fill=True, fill_color=colour,
                          fill_opacity=0.35)
        layer.add_to(group)
        group.add_to(m)

    if heat:
        pts = np.asarray([list(p)[:3] + [1.0] * (3 - len(list(p)[:3])) for p in heat], dtype=float)
        if datum != "wgs84" and len(pts):
            lon, lat = _crs.convert(pts[:, 1], pts[:, 0], src="wgs84", dst=datum)
            pts[:, 0], pts[:, 1] = lat, lon
        group = folium.FeatureGroup(name=tx("layer_heat", lang), show=True)
        legend_layers.append("heat")
        from folium.plugins import HeatMap

        HeatMap(pts.tolist(), radius=22, blur=18, min_opacity=0.3).add_to(group)
        group.add_to(m)

    if heat_grid:
        HeatGridLayer(heat_grid, name=tx("layer_heat", lang)).add_to(m)
        legend_layers.append("heat_grid")

    org_types: list[str] = []
    team_names: dict[str, str] = {}
    if rts is not None and len(rts):
        org_types = [o for o in ORG_STYLE if o in set(rts["org_type"].astype(str))] + sorted(
            {str(o) for o in rts["org_type"]} - set(ORG_STYLE)
        )
        team_names = {str(r["team_id"]): str(r.get("team", r["team_id"])) for r, _ in _records(rts)}
        group = folium.FeatureGroup(name=tx("layer_routes", lang), show=True)
        layer = VectorLayer()
        for row, geom in _records(rts):
            colour = ORG_STYLE.get(str(row.get("org_type")), OTHER_ORG)[1]
            popup, tip = route_popup(row, lang)
            for line in _lines(geom):
                layer.line(line, color=colour, weight=4, opacity=0.9, class_name="route-line", popup=popup, popup_width=360, tooltip=tip)
        layer.add_to(group)
        group.add_to(m)

    if ext is not None and len(ext):
        group = folium.FeatureGroup(name=tx("layer_extensions", lang), show=True)
        legend_layers.append("extensions")
        layer = VectorLayer()
        for row, geom in _records(ext):
            colour = ORG_STYLE.get(str(row.get("org_type")), OTHER_ORG)[1]
            team = row.get("team", team_names.get(str(row.get("team_id")), row.get("team_id", "")))
            rows = [(tx("p_team", lang), safe_text(team)), (tx("p_estate", lang), safe_text(row.get("name", row.get("estate_id", "")))),
                    (tx("p_length", lang), safe_text(distance_text(row.get("length_m"), lang)))]
            for line in _lines(geom):
                layer.line(line, color=colour, weight=3, dash_array="8 6", opacity=0.95, class_name="extension-line",
                           popup=popup_table(rows), popup_width=320, tooltip=f"{safe_text(tx('layer_extensions', lang))} · {safe_text(team)}")
        layer.add_to(group)
        group.add_to(m)

    statuses: list[str] = []
    has_status = est is not None and "status" in est.columns and est["status"].notna().any()
    if est is not None and len(est):
        group = folium.FeatureGroup(name=tx("layer_estates", lang), show=True)
        layer = VectorLayer()  # SVG on the shipped data; a canvas at district size (grouped markers hidden either way)
        marks = []
        approximate = False
        for row, geom in _records(est):
            status = row.get("status") if has_status else None
            status = None if is_blank(status) else str(status)
            statuses.append(status or "")
            _, colour = status_label(status, radius_m, lang)
            popup, tip = estate_popup(row, team_names, radius_m=radius_m, lang=lang)
            approximate = approximate or is_approximate_position(row.get("geocode_quality"), row.get("synthetic"))
            if geom is None or geom.is_empty:
                continue
            if geom.geom_type != "Point":
                if geom.geom_type in ("Polygon", "MultiPolygon"):  # the footprint under its marker
                    layer.polygon(latlng_rings(geom), color=colour, weight=2, fill=True, fill_color=colour, fill_opacity=0.2)
                geom = geom.representative_point()
            size, ring = STATUS_SHAPE.get(status or "", (7, None))
            halo = None
            if ring is not None:  # a halo that makes gaps and coverable estates stand out (not clickable)
                halo = layer.circle(geom.y, geom.x, radius=size + 6, color=colour, weight=3, dash_array=ring or None, fill=True,
                                    fill_color=colour, fill_opacity=0.15, interactive=False, class_name="estate-halo")
            marker = layer.circle(geom.y, geom.x, radius=size, color="#ffffff", weight=2, fill=True, fill_color=colour, fill_opacity=0.95,
                                  class_name=f"estate-marker estate-{status or 'unknown'}", popup=popup, popup_width=380, tooltip=tip)
            marks.append({"marker": layer.ref(marker), "halo": None if halo is None else layer.ref(halo), "status": status or "",
                          "name": row.get("name", ""), "label": f"{row.get('estate_id', '')} {row.get('name', '')}".strip()})
        layer.add_to(group)
        group.add_to(m)
        if labels and marks:
            colours = {k: status_label(k, radius_m, lang)[1] for k in ("covered", "coverable", "gap")} | {"unknown": UNKNOWN_STATUS[2]}
            m.add_child(EstateMarks(group, marks, colours=colours, radius_px={k: v[0] for k, v in STATUS_SHAPE.items()}, lang=lang))
        if approximate:
            legend_notes.append(tx("note_estates", lang))
    if rts is not None and len(rts) and "synthetic" in rts.columns and rts["synthetic"].astype(str).str.lower().isin({"true", "1"}).any():
        legend_notes.append(tx("note_routes", lang))
    if basemap == "amap":
        legend_notes.append(tx("note_amap", lang))

    for layer in extra_layers:
        layer.add_to(m)

    m.add_child(Legend(legend_html(statuses, org_types, notes=legend_notes, has_status=bool(has_status), radius_m=radius_m,
                                  lang=lang, layers=legend_layers), lang=lang))
    m.add_child(MetricScale())
    if tools:
        add_tools(m, lang)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.add_child(FocusWithoutScroll())
    if frames:
        m.add_child(FitBounds([[south, west], [north, east]], padding_px=20, remember=view_key))
    return m


_CELL_FIELDS = (("cell_id", "p_cell"), ("category", "p_category"), ("count", "p_count"), ("z", "p_z"), ("gi_z", "p_z"),
                ("p", "p_p"), ("p_value", "p_p"), ("q_value", "p_q"))


def _cell_value(column: str, value, lang: str) -> str:
    """A hot-spot cell value as shown: categories translated, z to 2 decimals, p-values as '< 0.001' below it."""
    if is_blank(value):
        return ""
    if column == "category":
        key = {"hot": "hot", "热点": "hot", "cold": "cold", "冷点": "cold"}.get(str(value).lower())
        return safe_text(texts.text(key, lang) if key else value)
    if column in ("z", "gi_z"):
        return f"{float(value):.2f}"
    if column in ("p", "p_value", "q_value"):
        if isinstance(value, str):  # already written for people, e.g. '< 0.001'
            return safe_text(value)
        p = float(value)
        return "&lt; 0.001" if p < 0.001 else f"{p:.3f}"
    return safe_text(value)


def _hotspot_colour(row: pd.Series) -> str:
    category = str(row.get("category", "")).lower()
    if category in {"hot", "热点"}:
        return "#d32f2f"
    if category in {"cold", "冷点"}:
        return "#1976d2"
    for key in ("z", "gi_z"):
        if key in row.index and not is_blank(row.get(key)):
            z = float(row[key])
            return "#d32f2f" if z > 0 else "#1976d2"
    return "#fb8c00"
