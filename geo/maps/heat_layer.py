"""The map's incident heat layer: density classes on a grid masked to the subdistrict, with a year slider and a
category menu that redraw only this layer in the browser.

The numbers come from :func:`geo.incidents.density.density_cube`. Every year and category is sent once, as one
character per cell (its colour class 0-5), so moving the slider or picking a category never asks the server
for anything: the map keeps its pan and zoom and nothing else is redrawn. The cells are drawn on a canvas
clipped to the subdistrict outline, so the layer stops sharply at the boundary instead of fading into a
bright ring, and cells of class 0 (below 10 % of the scale) are not drawn at all.

The grid is square in the metric CRS; the browser places cell corners with an affine map from grid indices
to the displayed latitude/longitude fitted to every corner of the grid (:func:`grid_affine`, its largest
error in metres is kept in the payload as ``fit_error_m``).
"""

from __future__ import annotations

import json

import numpy as np
from folium.map import Layer
from jinja2 import Template

from geo import crs as _crs
from geo.incidents.density import CLASS_BREAKS, DensityCube, density_classes
from geo.incidents.taxonomy import CATEGORY_ENGLISH
from geo.maps import texts
from geo.maps.elements import Macro

#: Colours of classes 1..5 (ColorBrewer YlOrRd, a sequential ramp that reads in grey and for colour-blind eyes).
HEAT_COLOURS: tuple[str, ...] = ("#ffe08a", "#feb24c", "#fd8d3c", "#e31a1c", "#99000d")
#: Fill opacity of the cells.
HEAT_OPACITY = 0.62
#: Leaflet pane of the heat canvas: above the basemap (250), below routes, bands and estates (overlay pane, 400).
HEAT_PANE_Z = 350


def grid_affine(cube: DensityCube, datum: str = "wgs84") -> tuple[list[float], float]:
    """Affine map from grid indices ``(i, j)`` (corner ``(0, 0)`` = south-west) to displayed ``(lat, lng)``.

    Fitted by least squares to every cell corner, projected from the metric CRS to WGS-84 and shifted into
    ``datum``. Returns the six coefficients ``[a, b, c, d, e, f]`` (``lat = a*i + b*j + c``,
    ``lng = d*i + e*j + f``) and the largest error of the fit in metres.
    """
    g = cube.grid
    jj, ii = np.mgrid[0 : g.ny + 1, 0 : g.nx + 1]
    ii, jj = ii.ravel().astype(float), jj.ravel().astype(float)
    lon, lat = _crs.metric_to_lonlat_transformer().transform(g.x0 + ii * g.cell_m, g.y0 + jj * g.cell_m)
    lon, lat = np.asarray(lon), np.asarray(lat)
    if datum != "wgs84":
        lon, lat = (np.asarray(v) for v in _crs.convert(lon, lat, src="wgs84", dst=datum))
    design = np.c_[ii, jj, np.ones_like(ii)]
    (a, b, c), *_ = np.linalg.lstsq(design, lat, rcond=None)
    (d, e, f), *_ = np.linalg.lstsq(design, lon, rcond=None)
    err_lat = (design @ [a, b, c] - lat) * 111_320.0
    err_lon = (design @ [d, e, f] - lon) * 111_320.0 * np.cos(np.radians(lat))
    return [float(v) for v in (a, b, c, d, e, f)], float(np.hypot(err_lat, err_lon).max())


def _runs(mask: np.ndarray) -> list[int]:
    """Runs of True in a flat mask as ``[start, length, start, length, ...]``."""
    m = np.r_[False, np.asarray(mask, dtype=bool), False].astype(np.int8)
    edges = np.flatnonzero(np.diff(m))
    starts, ends = edges[::2], edges[1::2]
    return np.c_[starts, ends - starts].ravel().tolist()


def _rings(area, datum: str) -> list[list[list[float]]]:
    """Exterior and interior rings of ``area`` (WGS-84) as ``[[lat, lng], ...]`` in ``datum``, 6 decimals."""
    if datum != "wgs84":
        area = _crs.convert_geometries([area], src="wgs84", dst=datum)[0]
    out = []
    for poly in getattr(area, "geoms", [area]):
        for ring in [poly.exterior, *poly.interiors]:
            out.append([[round(y, 6), round(x, 6)] for x, y, *_ in ring.coords])
    return out


def heat_payload(cube: DensityCube, area, *, datum: str = "wgs84", lang: str = "zh") -> dict:
    """The data the browser needs to draw every year and category of ``cube``.

    Parameters
    ----------
    cube
        From :func:`geo.incidents.density.density_cube`.
    area
        The subdistrict (WGS-84), the clip of the canvas.
    datum
        Datum the map shows (``"wgs84"`` or ``"gcj02"`` on the AMap basemap).
    lang
        Language of the category names and texts.
    """
    texts.check_lang(lang)
    affine, fit_error_m = grid_affine(cube, datum)
    codes = [["".join(map(str, density_classes(cube.density[k, p], cube.scales[k]).tolist())) for p in range(cube.density.shape[1])]
             for k in range(cube.density.shape[0])]
    names = [texts.text("heat_all_categories", lang)] + [CATEGORY_ENGLISH.get(c, c) if lang == "en" else c for c in cube.categories]
    return {
        "nx": cube.grid.nx, "ny": cube.grid.ny, "affine": affine, "fit_error_m": round(fit_error_m, 2),
        "cells": _runs(cube.inside), "clip": _rings(area, datum),
        "years": cube.years, "cats": names, "scales": [round(float(s), 3) for s in cube.scales], "classes": codes,
        "breaks": list(CLASS_BREAKS), "colours": list(HEAT_COLOURS), "opacity": HEAT_OPACITY,
        "text": {k: texts.text(f"heat_{k}", lang) for k in ("all_years", "period", "category", "title", "unit", "top_note")},
    }


_JS = r"""
var {{ this.get_name() }} = (function() {
    var map = {{ this._parent.get_name() }}, P = {{ this.payload_json }};
    if (!map.getPane('heatPane')) { var pane = map.createPane('heatPane'); pane.style.zIndex = {{ this.pane_z }}; pane.style.pointerEvents = 'none'; }
    var kept = [];
    for (var r = 0; r < P.cells.length; r += 2) { for (var c = P.cells[r]; c < P.cells[r] + P.cells[r + 1]; c++) kept.push(c); }
    function ll(i, j) { var a = P.affine; return L.latLng(a[0] * i + a[1] * j + a[2], a[3] * i + a[4] * j + a[5]); }
    var Heat = L.Layer.extend({
        options: {pane: 'heatPane'},
        initialize: function() { this.cat = 0; this.period = 0; },
        onAdd: function(m) {
            this._canvas = L.DomUtil.create('canvas', 'heat-grid leaflet-zoom-hide');
            this.getPane().appendChild(this._canvas);
            m.on('moveend zoomend resize viewreset', this.redraw, this);
            this.redraw();
        },
        onRemove: function(m) { m.off('moveend zoomend resize viewreset', this.redraw, this); L.DomUtil.remove(this._canvas); },
        show: function(cat, period) { this.cat = cat; this.period = period; this.redraw(); },
        redraw: function() {
            if (!this._map || !this._canvas) return;
            var m = this._map, size = m.getSize(), cv = this._canvas, ctx = cv.getContext('2d');
            L.DomUtil.setPosition(cv, m.containerPointToLayerPoint([0, 0]));
            cv.width = size.x; cv.height = size.y;
            ctx.clearRect(0, 0, size.x, size.y);
            ctx.save();
            ctx.beginPath();
            P.clip.forEach(function(ring) {
                ring.forEach(function(p, k) { var q = m.latLngToContainerPoint(p); if (k) ctx.lineTo(q.x, q.y); else ctx.moveTo(q.x, q.y); });
                ctx.closePath();
            });
            ctx.clip('evenodd');
            ctx.globalAlpha = P.opacity;
            var code = P.classes[this.cat][this.period], drawn = 0;
            for (var k = 0; k < kept.length; k++) {
                var cls = code.charCodeAt(k) - 48;
                if (cls <= 0) continue;
                var i = kept[k] % P.nx, j = (kept[k] - i) / P.nx;
                var p0 = m.latLngToContainerPoint(ll(i, j)), p1 = m.latLngToContainerPoint(ll(i + 1, j)),
                    p2 = m.latLngToContainerPoint(ll(i + 1, j + 1)), p3 = m.latLngToContainerPoint(ll(i, j + 1));
                ctx.fillStyle = P.colours[cls - 1];
                ctx.beginPath(); ctx.moveTo(p0.x, p0.y); ctx.lineTo(p1.x, p1.y); ctx.lineTo(p2.x, p2.y); ctx.lineTo(p3.x, p3.y); ctx.closePath();
                ctx.fill();
                drawn++;
            }
            ctx.restore();
            cv.dataset.cells = drawn; cv.dataset.cat = this.cat; cv.dataset.period = this.period;
        }
    });
    var layer = new Heat();
    function num(v) { return v >= 100 ? Math.round(v).toLocaleString('en') : (v >= 10 ? v.toFixed(0) : v.toFixed(1)); }
    function legend() {
        var s = P.scales[layer.cat], cells = '', ticks = '';
        for (var c = 1; c <= P.colours.length; c++) {
            cells += '<span class="heat-sw" style="background:' + P.colours[c - 1] + ';opacity:' + P.opacity + '"></span>';
            ticks += '<span class="heat-tick">' + (c === P.colours.length ? '&ge;' : '') + num(P.breaks[c - 1] * s) + '</span>';
        }
        var html = '<div class="heat-title">' + P.text.title + ' <small>' + P.text.unit + '</small></div>' +
                   '<div class="heat-ramp">' + cells + '</div><div class="heat-ticks">' + ticks + '</div>' +
                   '<div class="heat-note">' + P.text.top_note + '</div>';
        var box = map.getContainer().querySelectorAll('.heat-legend');
        for (var b = 0; b < box.length; b++) { box[b].innerHTML = html; box[b].dataset.scale = s; }
    }
    var ctl = L.control({position: 'bottomright'});
    ctl.onAdd = function() {
        var div = L.DomUtil.create('div', 'heat-control');
        var opts = P.cats.map(function(n, k) { return '<option value="' + k + '">' + n + '</option>'; }).join('');
        div.innerHTML = '<div class="heat-control-title">' + P.text.title + '</div>' +
            '<label>' + P.text.period + '<b class="heat-period-label"></b></label>' +
            '<input class="heat-period" type="range" min="0" max="' + P.years.length + '" step="1" value="0">' +
            '<label>' + P.text.category + ' <select class="heat-category">' + opts + '</select></label>';
        L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
        var range = div.querySelector('.heat-period'), sel = div.querySelector('.heat-category'), lab = div.querySelector('.heat-period-label');
        function update() {
            var p = parseInt(range.value, 10), k = parseInt(sel.value, 10);
            lab.textContent = p === 0 ? P.text.all_years : String(P.years[p - 1]);
            layer.show(k, p); legend();
        }
        range.addEventListener('input', update); sel.addEventListener('change', update);
        setTimeout(update, 0);
        return div;
    };
    function legendShown(on) {
        var box = map.getContainer().querySelectorAll('.heat-legend');
        for (var b = 0; b < box.length; b++) box[b].style.display = on ? '' : 'none';
    }
    map.on('overlayadd', function(e) { if (e.layer === layer) { ctl.addTo(map); legendShown(true); } });
    map.on('overlayremove', function(e) { if (e.layer === layer) { ctl.remove(); legendShown(false); } });
    layer.on('add', function() { if (!ctl._map) ctl.addTo(map); });
    window.shaheHeat = {layer: layer, payload: P};
    return layer;
})();
"""


_CSS = """
<style>
.heat-legend .heat-sw { display: inline-block; width: 36px; height: 10px; }
.heat-legend .heat-tick { display: inline-block; width: 36px; font-size: 10px; color: #444; }
.heat-legend .heat-ramp, .heat-legend .heat-ticks { white-space: nowrap; line-height: 1.2; }
.heat-legend .heat-title { margin-top: 3px; } .heat-legend .heat-note { color: #555; font-size: 11px; }
.heat-control { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 4px; font: 12px/1.5 sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); width: 190px; }
.heat-control input[type=range] { width: 100%; margin: 2px 0 4px; } .heat-control-title { font-weight: bold; }
</style>
"""


class HeatGridLayer(Layer, Macro):
    """The heat layer (an overlay in the layer control) with its year slider, category menu and legend rows.

    Add it to the map before the legend and the layer control. The legend shows its scale in every element
    of class ``heat-legend`` inside the map.
    """

    _template = Template("{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}{% macro script(this, kwargs) %}" + _JS
                         + "{% endmacro %}")

    def __init__(self, payload: dict, *, name: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "HeatGridLayer"
        self.payload_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        self.pane_z = HEAT_PANE_Z

