"""Many circle markers, lines and polygons drawn in the browser from one JSON payload by one script.

A folium element per feature (each with its tooltip and popup elements) costs
the server a template render for each of them on every rerun of the app: a
few hundred on the shipped 24 estates, tens of thousands at district size.
:class:`VectorLayer` is one element for a whole layer. Each feature is drawn
as Leaflet's ``L.circleMarker`` / ``L.polyline`` / ``L.polygon`` with the
options folium would give it (:func:`folium.vector_layers.path_options`), the
same tooltip (``<div>text</div>``, sticky) and popup (a full-size ``<div>``
with the given maximum width), so the map looks and behaves as before.

Tooltip and popup texts are HTML made safe by the caller
(:func:`geo.maps.labels.safe_text`); the payload is JSON with ``</`` escaped,
so no text can end the script.

Text labels (``L.divIcon`` markers) can join a layer too (:meth:`VectorLayer.label`).

Layers of more than :data:`CANVAS_FROM` features are drawn on one canvas
(shared by every such layer of the page, so clicks reach each of them) instead
of one SVG path each, which keeps panning smooth at district size (their
features then carry no CSS class).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import shapely
from folium.vector_layers import path_options
from jinja2 import Template

from geo.maps.elements import Macro

#: Layers with more features than this are drawn on a canvas (no SVG element per feature).
CANVAS_FROM = 300
#: Decimals of the coordinates sent to the browser (1e-7 degree is about 1 cm).
DECIMALS = 7
#: Layers kept for :meth:`VectorLayer.reused` (each of the app's band layers is a few MB of JSON at district size).
REUSED_LAYERS = 8

_JS = r"""
var {{ this.get_name() }} = (function(group) {
    var P = {{ this.payload }};
    // one canvas for every large layer of the page: Leaflet hit-tests only the topmost canvas, so layers on
    // canvases of their own would take the clicks meant for the layers below
    var canvas = P.canvas ? (window.shaheCanvas = window.shaheCanvas || L.canvas({padding: 0.5})) : null;
    return P.f.map(function(f) {
        var o = Object.assign({}, P.s[f[2]]);
        if (canvas) { o.renderer = canvas; }
        var l = f[0] === 'c' ? L.circleMarker(f[1], o) : f[0] === 'l' ? L.polyline(f[1], o)
            : f[0] === 'm' ? L.marker(f[1], {icon: L.divIcon(o.icon), interactive: o.interactive, pane: o.pane || 'markerPane'})
            : L.polygon(f[1], o);
        if (f[3] != null) { l.bindTooltip('<div>' + f[3] + '</div>', {sticky: true}); }
        if (f[4] != null) { l.bindPopup('<div style="width: 100.0%; height: 100.0%;">' + f[4] + '</div>', {maxWidth: f[5]}); }
        l.addTo(group);
        return l;
    });
})({{ this._parent.get_name() }});
"""


def _round(coords, decimals: int):
    """Coordinates rounded to ``decimals`` as nested lists: arrays in one NumPy call, lists level by level."""
    if isinstance(coords, np.ndarray):
        return np.round(coords.astype(float, copy=False), decimals).tolist()
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (list, tuple, np.ndarray)):
        return [_round(c, decimals) for c in coords]
    return [round(float(v), decimals) for v in coords]


#: Leaflet options that :func:`folium.vector_layers.path_options` leaves out, passed on as given.
_PASSED = {"interactive": "interactive", "pane": "pane"}


def _options(*, line: bool, style: dict, radius: float | None = None) -> tuple:
    """Leaflet options of a feature as ``(name, value)`` pairs: folium's for the same arguments, plus the ones it
    would drop (:data:`_PASSED`)."""
    return _cached_options(line, radius, tuple(style.items()))


@functools.lru_cache(maxsize=1024)
def _cached_options(line: bool, radius: float | None, items: tuple) -> tuple:
    style = dict(items)
    passed = {_PASSED[k]: style.pop(k) for k in list(style) if k in _PASSED}
    return tuple((path_options(line=line, radius=radius, **style) | passed).items())


def latlng_rings(geom) -> list:
    """Leaflet's ``[lat, lng]`` nesting of a (multi)polygon: rings of a polygon, or polygons of rings (rings as arrays)."""
    def rings(poly) -> list:
        return [shapely.get_coordinates(ring)[:, ::-1] for ring in (poly.exterior, *poly.interiors)]

    if geom.geom_type == "Polygon":
        return rings(geom)
    return [rings(p) for p in geom.geoms]


class VectorLayer(Macro):
    """One layer of circle markers, lines and polygons, drawn from one JSON payload.

    Add features with :meth:`circle`, :meth:`line` and :meth:`polygon` (each
    returns the feature's index), then add the layer to a feature group. In the
    page the element's variable holds the Leaflet layers in the order added, so
    other scripts can refer to feature ``i`` as ``<name>[i]`` (:meth:`ref`).
    """

    _template = Template("{% macro script(this, kwargs) %}" + _JS + "{% endmacro %}")

    def __init__(self, *, canvas: bool | None = None):
        super().__init__()
        self._name = "VectorLayer"
        self._features: list[list] = []
        self._styles: list[dict] = []
        self._style_index: dict[str, int] = {}
        self._canvas = canvas
        self._payload: str | None = None  # the JSON text, made once (the page is rendered two or three times)

    def __len__(self) -> int:
        return len(self._features)

    @classmethod
    def reused(cls, key: bytes, fill: Callable[[VectorLayer], None], *, canvas: bool | None = None) -> VectorLayer:
        """A new layer of the features ``fill`` adds to it, made once per ``key`` and then reused.

        ``key`` must name everything ``fill`` draws (geometries, texts,
        options): a layer made before with the same key and ``canvas`` gives
        the new one its features, option sets and JSON text without ``fill``
        being called, so a layer of many vertices (a district's bands: 110,000)
        is rounded and serialised once, not on every rerun of the app. The last
        :data:`REUSED_LAYERS` layers are kept. Features added to the returned
        layer afterwards are its own.
        """
        layer = cls(canvas=canvas)
        slot = (key, canvas, CANVAS_FROM)  # the JSON says whether the layer goes on a canvas: decided by CANVAS_FROM too
        with _REUSED_LOCK:
            made = _REUSED.get(slot)
            if made is not None:
                _REUSED.move_to_end(slot)
        if made is None:
            fill(layer)
            made = (layer._features, layer._styles, layer._style_index, layer.payload)
            with _REUSED_LOCK:
                _REUSED[slot] = made
                while len(_REUSED) > REUSED_LAYERS:
                    _REUSED.popitem(last=False)
        features, styles, index, payload = made
        layer._features, layer._styles, layer._style_index = list(features), [dict(st) for st in styles], dict(index)
        layer._payload = payload
        return layer

    def _style(self, options: tuple | dict) -> int:
        """Index of the option set (pairs from :func:`_options`, or a dict), each distinct set sent once."""
        key = options if isinstance(options, tuple) else json.dumps(options, sort_keys=True, default=str)
        if key not in self._style_index:
            self._style_index[key] = len(self._styles)
            self._styles.append(dict(options) if isinstance(options, tuple) else options)
        return self._style_index[key]

    def _add(self, kind: str, coords, options: tuple | dict, tooltip: str | None, popup: str | None, popup_width: int | str) -> int:
        feature = [kind, _round(coords, DECIMALS), self._style(options), tooltip, popup]
        if popup is not None:
            feature.append(popup_width)
        self._features.append(feature)
        self._payload = None
        return len(self._features) - 1

    def circle(self, lat: float, lng: float, *, tooltip: str | None = None, popup: str | None = None, popup_width: int | str = 300,
               **style) -> int:
        """A circle marker of ``radius`` pixels at (``lat``, ``lng``); ``style`` as for :class:`folium.CircleMarker`."""
        return self._add("c", [lat, lng], _options(line=False, radius=style.pop("radius", 10), style=style), tooltip, popup, popup_width)

    def line(self, latlngs: Sequence, *, tooltip: str | None = None, popup: str | None = None, popup_width: int | str = 300,
             **style) -> int:
        """A polyline through ``[lat, lng]`` points; ``style`` as for :class:`folium.PolyLine`."""
        return self._add("l", latlngs, _options(line=True, style=style), tooltip, popup, popup_width)

    def polygon(self, rings: Sequence, *, tooltip: str | None = None, popup: str | None = None, popup_width: int | str = 300,
                **style) -> int:
        """A polygon from :func:`latlng_rings` (holes and multi-polygons too); ``style`` as for :class:`folium.Polygon`."""
        return self._add("p", rings, _options(line=False, style=style), tooltip, popup, popup_width)

    def label(self, lat: float, lng: float, html: str, *, size_px: tuple[int, int], anchor_px: tuple[int, int],
              class_name: str = "empty", pane: str | None = None) -> int:
        """A text label: a non-interactive marker with a ``L.divIcon`` of ``html`` (made safe by the caller)."""
        options = {"icon": {"className": class_name, "html": html, "iconSize": list(size_px), "iconAnchor": list(anchor_px)},
                   "interactive": False}
        if pane is not None:
            options["pane"] = pane
        return self._add("m", [lat, lng], options, None, None, 0)

    def ref(self, index: int) -> str:
        """The JavaScript expression of feature ``index`` in the page."""
        return f"{self.get_name()}[{int(index)}]"

    @property
    def payload(self) -> str:
        if self._payload is None:
            canvas = len(self._features) > CANVAS_FROM if self._canvas is None else self._canvas
            doc = {"canvas": bool(canvas), "s": self._styles, "f": self._features}
            self._payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
        return self._payload

    @property
    def styles(self) -> list[dict]:
        """The distinct option sets of the features (Leaflet path options)."""
        return list(self._styles)

    def features(self) -> Iterable[dict]:
        """The features as dicts (``kind``, ``coords``, ``options``, ``tooltip``, ``popup``), for checks."""
        for f in self._features:
            yield {"kind": f[0], "coords": f[1], "options": self._styles[f[2]], "tooltip": f[3], "popup": f[4]}


#: Layers made by :meth:`VectorLayer.reused`: (key, canvas, CANVAS_FROM) -> (features, option sets, their index, JSON text).
_REUSED: OrderedDict = OrderedDict()
_REUSED_LOCK = threading.Lock()  # the app's sessions build maps in threads of their own

_PAYLOAD = re.compile(r"var P = (\{.*\});\n")


def page_features(page: str) -> list[dict]:
    """Every feature the vector layers of a rendered page draw, as :meth:`VectorLayer.features` gives them.

    For checks of a written map (a test, or counting what a page shows) without a browser.
    """
    out = []
    for text in _PAYLOAD.findall(page):
        payload = json.loads(text)
        out += [{"kind": f[0], "coords": f[1], "options": payload["s"][f[2]], "tooltip": f[3], "popup": f[4]} for f in payload["f"]]
    return out
