"""Map pieces for editing: an estate found by search (zoom and highlight), a surveyed-position pin that can be
clicked or dragged, and Leaflet.draw set up for lines, footprint polygons or the vertices of an existing route.

Everything here takes coordinates already in the datum the basemap shows
(WGS-84, or GCJ-02 on AMap) and returns folium elements; the caller adds the
layers through :func:`geo.maps.mapview.build_map`'s ``extra_layers`` (so the
layer control can name them) and the controls to the built map, before
:func:`geo.maps.offline.localize_map`.
"""

from __future__ import annotations

import folium
import numpy as np
from folium.plugins import Draw
from jinja2 import Template

from geo import crs as _crs
from geo.maps import texts
from geo.maps.controls import DrawLocale, FitBounds
from geo.maps.elements import Macro
from geo.maps.labels import safe_text

__all__ = ["DRAW_COLOUR", "PlacePin", "draw_controls", "editable_group", "focus_bounds", "highlight_group", "pin_group"]

#: Colour of drawn and edited lines and polygons (the draft's magenta).
DRAW_COLOUR = "#d81b60"
#: Half-width in metres of the box a found estate is zoomed to.
FOCUS_HALF_WIDTH_M = 250.0


def focus_bounds(lon: float, lat: float, *, half_width_m: float = FOCUS_HALF_WIDTH_M) -> FitBounds:
    """A :class:`FitBounds` onto ``half_width_m`` around a point (degrees in the map's datum).

    Added after the map's own fit, it wins on load and on every resize until the user pans or zooms.
    """
    x, y = _crs.project_lonlat(lon, lat)
    tr = _crs.metric_to_lonlat_transformer()
    lons, lats = tr.transform(np.array([x - half_width_m, x + half_width_m]), np.array([y - half_width_m, y + half_width_m]))
    dlon, dlat = float(lons[1] - lons[0]) / 2.0, float(lats[1] - lats[0]) / 2.0
    return FitBounds([[lat - dlat, lon - dlon], [lat + dlat, lon + dlon]], padding_px=0)


def highlight_group(geom, label: str, *, lang: str = "zh") -> folium.FeatureGroup:
    """A layer that rings the found estate (``geom`` in the map's datum) and names it."""
    group = folium.FeatureGroup(name=texts.text("layer_found", lang), show=True)
    pt = geom.representative_point() if geom.geom_type != "Point" else geom
    if geom.geom_type != "Point":
        folium.GeoJson(geom.__geo_interface__, style_function=lambda _f: {"color": "#ffab00", "weight": 4, "fill": False},
                       interactive=False).add_to(group)
    folium.CircleMarker([pt.y, pt.x], radius=20, color="#ffab00", weight=5, fill=False, interactive=False,
                        class_name="estate-highlight", tooltip=safe_text(label)).add_to(group)
    return group


def pin_group(lon: float, lat: float, *, lang: str = "zh", previous: tuple[float, float] | None = None) -> folium.FeatureGroup:
    """The estate's current position (grey ring) and, when given, a dashed line to ``previous`` (degrees, map datum)."""
    group = folium.FeatureGroup(name=texts.text("layer_pin", lang), show=True)
    if previous is not None:
        folium.PolyLine([[previous[1], previous[0]], [lat, lon]], color="#555", weight=2, dash_array="4 6",
                        interactive=False, class_name="pin-move").add_to(group)
        folium.CircleMarker([previous[1], previous[0]], radius=6, color="#555", weight=2, fill=True, fill_color="#fff",
                            interactive=False, class_name="pin-before").add_to(group)
    return group


class PlacePin(Macro):
    """A draggable pin at the position being surveyed; a click on the map moves it there.

    Leaflet's own marker image is not used (the map is offline): the pin is a
    styled ``div``. When it is dropped after a drag, a map click is fired at its
    new position, so the page learns of a drag as of a click.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .survey-pin { width: 18px; height: 18px; margin: -9px 0 0 -9px; border-radius: 9px 9px 9px 0; transform: rotate(-45deg);
          background: #d81b60; border: 3px solid #fff; box-shadow: 0 0 0 2px #d81b60, 0 2px 6px rgba(0,0,0,.5); cursor: move; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var icon = L.divIcon({className: '', html: '<div class="survey-pin"></div>', iconSize: [18, 18], iconAnchor: [0, 0]});
            var pin = L.marker({{ this.latlng|tojson }}, {draggable: true, icon: icon, title: {{ this.title|tojson }},
                                keyboard: false, autoPan: true}).addTo(map);
            pin.on('dragend', function() { map.fire('click', {latlng: pin.getLatLng()}); });
            map.on('click', function(e) { if (e.latlng) { pin.setLatLng(e.latlng); } });
            window.surveyPin = pin;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lon: float, lat: float, *, title: str = ""):
        super().__init__()
        self._name = "PlacePin"
        self.latlng = [float(lat), float(lon)]
        self.title = safe_text(title)


class _EditableLines(Macro):
    """Polylines added to their group in the page's script, each with Leaflet.draw's edit handler attached."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var group = {{ this._parent.get_name() }};
            {{ this.lines|tojson }}.forEach(function(coords) {
                var line = L.polyline(coords, {color: {{ this.colour|tojson }}, weight: 5, className: 'editable-route'});
                if (!line.editing && L.Edit && L.Edit.Poly) { line.editing = new L.Edit.Poly(line); }
                group.addLayer(line);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lines, colour: str):
        super().__init__()
        self._name = "EditableLines"
        self.lines = lines
        self.colour = colour


def editable_group(lines_latlon: list[list[list[float]]]) -> folium.FeatureGroup:
    """A group of polylines (Leaflet ``[lat, lon]`` vertex lists) that Leaflet.draw's edit tool may move.

    It is not listed in the layer control (``control=False``): it is declared
    after the control, which must only name layers declared before it.
    """
    group = folium.FeatureGroup(name="editable", control=False, show=True)
    group.add_child(_EditableLines([[[float(a), float(b)] for a, b in line] for line in lines_latlon], DRAW_COLOUR))
    return group


def draw_controls(lang: str, *, polyline: bool = False, polygon: bool = False, editable: folium.FeatureGroup | None = None,
                  remove: bool = True) -> list:
    """Leaflet.draw in ``lang`` for the tools asked for; with ``editable``, its lines can be edited in place.

    Returns the elements to add to the map in order (the locale first).
    """
    style = {"shapeOptions": {"color": DRAW_COLOUR, "weight": 5}}
    draw_options = {"polyline": style if polyline else False,
                    "polygon": {**style, "allowIntersection": False, "showArea": False} if polygon else False,
                    "rectangle": False, "circle": False, "marker": False, "circlemarker": False}
    out = [DrawLocale(lang)]
    if editable is not None:
        out.append(editable)
    # "edit" as options, not ``true``: Leaflet.draw 1.0 copies its default selectedPathOptions only into an object, and
    # without them the edit tool fails on the first line ("reading 'className'") and shows no vertex handles.
    selected = {"dashArray": "10, 10", "fill": False, "maintainColor": True}
    out.append(Draw(export=False, position="topleft", feature_group=editable, draw_options=draw_options,
                    edit_options={"edit": {"selectedPathOptions": selected}, "remove": remove}, show_geometry_on_click=False))
    return out
