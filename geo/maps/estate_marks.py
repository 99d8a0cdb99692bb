"""Estate labels that never overlap, and estates at one spot grouped into one symbol with a count.

Both are recomputed in the browser at every zoom level, from the markers :mod:`geo.maps.mapview` draws:

* **Grouping**: estates are taken in order of importance (gaps, then coverable, then covered, then the
  rest; the file's order within each); each estate not yet placed starts a group and takes every other
  unplaced estate within :data:`GROUP_M` metres of it (below zoom :data:`SPLIT_ZOOM`), or whose marker
  centre lies within :data:`GROUP_PX` screen pixels of it at the current zoom. A group of two or
  more is drawn as one symbol at its first (most important) estate, in that estate's colour and ring, with
  the count inside; its member markers are hidden. Clicking the symbol zooms to the members; at the map's
  largest zoom, members still at one spot are spread on a ring around the symbol (with leader lines).
* **Labels**: every visible symbol gets its label ("SH-09 花园小区", or "花园小区（8处）" for a group) at the
  first of eight positions around it (right, left, above, below, then the corners) whose box overlaps
  no label placed before it and no other symbol; labels are placed in the same order of importance, and a
  label that fits nowhere is left out at that zoom (the marker's tooltip still names the estate). Labels
  keep clear of the basemap's place names and of the map's controls where they can; where they cannot, a
  place name gives way (a control stays on top).

Labels sit in their own pane above the lines and below the markers, and take no clicks.
"""

from __future__ import annotations

import json

from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps

from geo.maps import texts
from geo.maps.elements import Macro

#: Estates within this many metres of a group's first estate always join the group ("at one spot")...
GROUP_M = 70.0
#: ...and so do those whose markers lie within this many screen pixels of it (markers drawn on top of each other).
GROUP_PX = 10
#: From this zoom on (1 m per pixel and closer) only the pixel rule holds, so a group opens as the user zooms in.
SPLIT_ZOOM = 17
#: Ring colours of group symbols whose first estate is a gap (solid) or coverable (dashed), as in the CSS below.
RINGS = {"gap": "#d55e00", "coverable": "#e69f00"}
#: Order of importance of the statuses (lower first).
STATUS_RANK = {"gap": 0, "coverable": 1, "covered": 2}

_JS = r"""
(function() {
    var map = {{ this._parent.get_name() }}, layer = {{ this.group_name }};
    var R = {{ this.refs_js }}, D = {{ this.data_json }};
    var E = D.map(function(d, i) { return {m: R[i][0], h: R[i][1], s: d[0], r: d[1], t: d[2], n: d[3]}; });
    var C = {{ this.config_json }};
    if (!map.getPane('estateLabelPane')) { var lp = map.createPane('estateLabelPane'); lp.style.zIndex = 450; lp.style.pointerEvents = 'none'; }
    var box = L.DomUtil.create('div', 'estate-labels leaflet-zoom-hide', map.getPane('estateLabelPane'));
    E.forEach(function(e, k) { e.k = k; e.ll = e.m.getLatLng(); });
    var order = E.slice().sort(function(a, b) { return a.r - b.r || a.k - b.k; });
    var badges = L.layerGroup(), spider = L.layerGroup(), spread = null;
    // a group symbol on a canvas: the circle as Leaflet draws it, then its ring (gap: solid, coverable: dashed)
    // and the count on top; its bounds take in the ring, so a partial redraw of the canvas clears and draws it whole
    var CanvasBadge = window.shaheCanvasBadge = window.shaheCanvasBadge || L.CircleMarker.extend({
        _updateBounds: function() {
            var r = this._radius + (this.options.ring ? 7 : 0) + this._clickTolerance(), p = L.point(r, r);
            this._pxBounds = L.bounds(this._point.subtract(p), this._point.add(p));
        },
        _updatePath: function() {
            L.CircleMarker.prototype._updatePath.call(this);
            var rd = this._renderer, ctx = rd && rd._ctx, o = this.options, p = this._point;
            if (!ctx || !rd._drawing || this._empty()) return;
            ctx.save();
            if (o.ring) {
                ctx.beginPath(); ctx.arc(p.x, p.y, this._radius + 4.5, 0, 2 * Math.PI);
                ctx.lineWidth = 3; ctx.strokeStyle = o.ring; ctx.setLineDash(o.dashed ? [5, 3] : []); ctx.stroke();
            }
            ctx.font = 'bold 12px sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
            ctx.lineWidth = 3; ctx.strokeStyle = 'rgba(0,0,0,.6)'; ctx.setLineDash([]); ctx.strokeText(o.count, p.x, p.y + 0.5);
            ctx.fillStyle = '#fff'; ctx.fillText(o.count, p.x, p.y + 0.5);
            ctx.restore();
        }
    });
    function fill(tpl, v) { return tpl.replace(/\{(\w+)\}/g, function(_, k) { return v[k]; }); }
    function hide(e, hidden) {
        e.hidden = hidden;
        [e.m, e.h].forEach(function(x) {
            if (!x) return;
            if (x._path) { x._path.classList.toggle('estate-grouped', hidden); return; }  // SVG: by its class
            if (hidden === !!x._shaheHidden) return;  // on a canvas: drawn clear and taking no clicks
            if (hidden) { x._shaheShown = {o: x.options.opacity, f: x.options.fillOpacity, i: x.options.interactive}; }
            x._shaheHidden = hidden;
            var s = hidden ? {o: 0, f: 0, i: false} : x._shaheShown;
            x.setStyle({opacity: s.o, fillOpacity: s.f});
            x.options.interactive = s.i;
        });
    }
    function unspread() {
        if (!spread) return;
        spread.forEach(function(e) { e.m.setLatLng(e.ll); if (e.h) e.h.setLatLng(e.ll); });
        spider.clearLayers(); spread = null;
    }
    function spreadOut(g) {
        unspread();
        var c = map.latLngToLayerPoint(g.seed.ll), n = g.members.length, rad = Math.max(30, n * 24 / (2 * Math.PI));
        spread = g.members;
        g.members.forEach(function(e, k) {
            var a = 2 * Math.PI * k / n - Math.PI / 2, ll = map.layerPointToLatLng(c.add(L.point(rad * Math.cos(a), rad * Math.sin(a))));
            L.polyline([g.seed.ll, ll], {color: '#555', weight: 1, interactive: false}).addTo(spider);
            e.m.setLatLng(ll); if (e.h) e.h.setLatLng(ll); hide(e, false);
        });
        if (g.badge) { badges.removeLayer(g.badge); }
        var labels = box.querySelectorAll('.estate-label'); for (var i = 0; i < labels.length; i++) labels[i].style.display = 'none';
    }
    function groups() {
        var z = map.getZoom(), pts = E.map(function(e) { return map.project(e.ll, z); }), used = {}, out = [];
        // group_m in pixels at this zoom (Web Mercator: 40,075,016.686 m * cos(lat) per 256 * 2^z pixels)
        var lat = map.getCenter().lat * Math.PI / 180, mpp = 40075016.686 * Math.cos(lat) / Math.pow(2, z + 8);
        var reach = Math.max(C.group_px, z < C.split_zoom ? C.group_m / mpp : 0), cell = Math.max(reach, 1), grid = {};
        E.forEach(function(e) {
            var key = Math.floor(pts[e.k].x / cell) + ':' + Math.floor(pts[e.k].y / cell);
            (grid[key] = grid[key] || []).push(e);
        });
        order.forEach(function(seed) {
            if (used[seed.k]) return;
            var members = [], p = pts[seed.k], gx = Math.floor(p.x / cell), gy = Math.floor(p.y / cell), near = [];
            for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) near = near.concat(grid[(gx + dx) + ':' + (gy + dy)] || []);
            near.sort(function(a, b) { return a.r - b.r || a.k - b.k; });
            near.forEach(function(e) {
                if (used[e.k]) return;
                var d = pts[e.k].distanceTo(p);
                if (d <= C.group_px || (z < C.split_zoom && d <= reach && map.distance(e.ll, seed.ll) <= C.group_m)) { used[e.k] = true; members.push(e); }
            });
            out.push({seed: seed, members: members});
        });
        return out;
    }
    function badgeFor(g) {
        var n = g.members.length, size = n >= 10 ? 30 : 26, s = g.seed.s || 'unknown', canvas = g.seed.m.options.renderer;
        if (canvas instanceof L.Canvas) {
            // markers on the page's canvas: the symbol is drawn there too (hundreds of DOM symbols make a pan stutter)
            var cb = new CanvasBadge(g.seed.ll, {renderer: canvas, radius: size / 2, color: '#fff', weight: 2, opacity: 1,
                fillColor: C.colours[s] || C.colours.unknown, fillOpacity: 1, count: String(n),
                ring: s === 'gap' ? C.rings.gap : s === 'coverable' ? C.rings.coverable : null, dashed: s === 'coverable'});
            cb.bindTooltip(g.text);
            cb.on('click', function() { open(g); });
            return cb;
        }
        var icon = L.divIcon({className: 'estate-group estate-group-' + s, iconSize: [size, size],
            html: '<span style="background:' + (C.colours[s] || C.colours.unknown) + '">' + n + '</span>'});
        var b = L.marker(g.seed.ll, {icon: icon, keyboard: false, zIndexOffset: 1000 - g.seed.r * 100, title: g.text});
        b.on('click', function() { open(g); });
        return b;
    }
    function open(g) {
        if (map.getZoom() >= map.getMaxZoom()) { spreadOut(g); return; }
        map.fitBounds(L.latLngBounds(g.members.map(function(e) { return e.ll; })), {maxZoom: map.getMaxZoom(), padding: [60, 60]});
    }
    function labelOf(g) {
        if (g.members.length === 1) return g.seed.t;
        var same = g.members.every(function(e) { return e.n === g.seed.n; });
        return same ? fill(C.same, {name: g.seed.n, n: g.members.length}) : fill(C.mixed, {label: g.seed.t, n: g.members.length, more: g.members.length - 1});
    }
    function basemapBoxes() {
        // the basemap's place names: DivIcon markers whose html holds a .basemap-label; boxes from their anchor
        var out = [];
        map.eachLayer(function(l) {
            var ic = l.options && l.options.icon && l.options.icon.options;
            if (!ic || typeof ic.html !== 'string' || ic.html.indexOf('basemap-label') < 0 || !l._icon) return;
            var el = l._icon.querySelector('.basemap-label'), range = document.createRange();
            if (!el) return;
            range.selectNodeContents(el);
            var w = range.getBoundingClientRect().width, p = map.latLngToLayerPoint(l.getLatLng()), a = ic.iconAnchor || [0, 0];
            var left = p.x - a[0], top = p.y - a[1];
            out.push({el: el, b: [left, top, left + w, top + (ic.iconSize ? ic.iconSize[1] : 16)]});
        });
        // and the map's controls (layer list, legend, tools) where the view is now
        var c = map.getContainer(), cr = c.getBoundingClientRect(), ctl = c.querySelectorAll('.leaflet-control');
        for (var k = 0; k < ctl.length; k++) {
            var r = ctl[k].getBoundingClientRect();
            if (!r.width) continue;
            var tl = map.containerPointToLayerPoint([r.left - cr.left, r.top - cr.top]);
            out.push({el: null, b: [tl.x, tl.y, tl.x + r.width, tl.y + r.height]});
        }
        return out;
    }
    function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }
    var laid = null;
    function layout(force) {
        // every zoom and every view reset; a plain pan keeps the layout (it depends on layer pixels only)
        var o = map.getPixelOrigin(), key = map.getZoom() + ':' + o.x + ':' + o.y + ':' + map.hasLayer(layer);
        if (force !== true && key === laid) return;
        laid = key;
        unspread();
        badges.clearLayers();
        box.innerHTML = '';
        if (!map.hasLayer(layer)) return;
        var gs = groups(), taken = [], symbols = [];
        gs.forEach(function(g) {
            g.text = labelOf(g);
            var multi = g.members.length > 1;
            g.members.forEach(function(e) { hide(e, multi); });
            if (multi) { g.badge = badgeFor(g); }
            var p = map.latLngToLayerPoint(g.seed.ll), r = multi ? 15 : C.radius[g.seed.s] || 7;
            g.p = p; g.r = r;
            symbols.push([p.x - r, p.y - r, p.x + r, p.y + r]);
        });
        // least important first: on a canvas the symbol drawn last is on top and takes the click
        for (var gi = gs.length - 1; gi >= 0; gi--) { if (gs[gi].badge) badges.addLayer(gs[gi].badge); }
        var base = basemapBoxes();
        // every label into the page first, then every size read at once (one layout pass, not one per label)
        var els = gs.map(function(g) {
            var el = L.DomUtil.create('div', 'estate-label estate-label-' + (g.seed.s || 'unknown'), box);
            el.textContent = g.text;
            if (g.members.length > 1) el.classList.add('estate-label-group');
            return el;
        });
        var sizes = els.map(function(el) { return [el.offsetWidth, el.offsetHeight]; });
        gs.forEach(function(g, gi) {
            var el = els[gi], w = sizes[gi][0], h = sizes[gi][1], r = g.r + 3, x = g.p.x, y = g.p.y;
            var cands = [[x + r, y - h / 2], [x - r - w, y - h / 2], [x - w / 2, y - r - h], [x - w / 2, y + r],
                         [x + r * 0.7, y - r * 0.7 - h], [x + r * 0.7, y + r * 0.7], [x - r * 0.7 - w, y - r * 0.7 - h], [x - r * 0.7 - w, y + r * 0.7]];
            function free(b, withBase) {
                for (var t = 0; t < taken.length; t++) if (overlaps(b, taken[t])) return false;
                for (var s = 0; s < symbols.length; s++) if (s !== gi && overlaps(b, symbols[s])) return false;
                if (withBase) for (var q = 0; q < base.length; q++) if (overlaps(b, base[q].b)) return false;
                return true;
            }
            var spot = null;
            // first around the basemap's own labels; failing that over them (they give way below)
            for (var pass = 0; pass < 2 && !spot; pass++) {
                for (var c = 0; c < cands.length && !spot; c++) {
                    var b = [cands[c][0], cands[c][1], cands[c][0] + w, cands[c][1] + h];
                    if (free(b, pass === 0)) spot = b;
                }
            }
            if (!spot) { el.remove(); return; }
            taken.push(spot);
            L.DomUtil.setPosition(el, L.point(spot[0], spot[1]));
        });
        base.forEach(function(q) {
            if (!q.el) return;
            var hit = taken.some(function(t) { return overlaps(q.b, t); });
            q.el.style.visibility = hit ? 'hidden' : '';
        });
        box.dataset.zoom = map.getZoom();
    }
    badges.addTo(layer);
    spider.addTo(map);
    map.on('zoomend viewreset moveend resize', layout);
    layer.on('add', function() { setTimeout(function() { layout(true); }, 0); });
    layer.on('remove', function() { box.innerHTML = ''; unspread(); laid = null; });
    map.whenReady(function() { setTimeout(function() { layout(true); }, 0); });
    // text sizes change once the CJK font is in: lay out again then
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(function() { layout(true); }); }
    window.shaheEstateMarks = {layout: function() { layout(true); }, groups: function() { return groups().map(function(g) {
        return {seed: g.seed.k, members: g.members.map(function(e) { return e.k; })}; }); },
        // container pixels of the estates shown on their own (not under a group symbol), e.g. to click one
        // the group symbols where the view is now: container pixels, count and status
        symbols: function() { var out = []; badges.eachLayer(function(b) {
            var p = map.latLngToContainerPoint(b.getLatLng()), o = b.options;
            out.push({x: p.x, y: p.y, count: o.count || (b.options.icon && b.options.icon.options.html.replace(/<[^>]*>/g, '')),
                      canvas: b instanceof CanvasBadge}); }); return out; },
        shown: function() { return E.filter(function(e) { return !e.hidden; }).map(function(e) {
            var p = map.latLngToContainerPoint(e.m.getLatLng()); return [p.x, p.y]; }); }};
})();
"""

_CSS = """
<style>
.estate-labels { position: absolute; left: 0; top: 0; }
.estate-label { position: absolute; white-space: nowrap; font: 12px/1.2 "Noto Sans CJK SC", "Noto Sans SC", sans-serif; color: #222;
  padding: 0 2px; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; pointer-events: none; }
.estate-label-gap { font-weight: bold; color: #8d2a00; }
.estate-label-coverable { font-weight: bold; color: #6b4a00; }
.estate-label-group { font-style: italic; }
path.estate-grouped { display: none; }
.estate-group span { display: block; width: 100%; height: 100%; border-radius: 50%; border: 2px solid #fff; box-sizing: border-box;
  color: #fff; font: bold 12px/22px sans-serif; text-align: center; text-shadow: 0 0 2px #000; box-shadow: 0 1px 3px rgba(0,0,0,.5); }
.estate-group { cursor: pointer; }
.estate-group-gap span { outline: 3px solid #d55e00; outline-offset: 2px; }
.estate-group-coverable span { outline: 3px dashed #e69f00; outline-offset: 2px; }
</style>
"""


class EstateMarks(Macro):
    """Grouping and non-overlapping labels of the estate markers of one feature group (see the module text).

    Parameters
    ----------
    group
        The folium FeatureGroup holding the markers (already added to the map).
    entries
        One dict per estate: ``marker`` and ``halo`` (JavaScript expressions of Leaflet circle markers, as
        :meth:`geo.maps.vector_layer.VectorLayer.ref` gives; halo may be None), ``status``
        (``gap`` / ``coverable`` / ``covered`` / ``""``), ``label`` ("id name") and ``name``.
    colours
        Status -> fill colour, with an ``unknown`` entry.
    radius_px
        Status -> marker radius in pixels (the space a label keeps clear of its marker).
    lang
        Language of the group labels.
    """

    _template = Template("{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}{% macro script(this, kwargs) %}" + _JS
                         + "{% endmacro %}")

    def __init__(self, group, entries: list[dict], *, colours: dict[str, str], radius_px: dict[str, int], lang: str = "zh",
                 group_px: int = GROUP_PX, group_m: float = GROUP_M):
        super().__init__()
        self._name = "EstateMarks"
        self.group_name = group.get_name()
        # Rendered once here (not per entry in the template): the markers as JavaScript expressions, the rest as JSON
        # with < > & ' escaped, so no estate name can end the script.
        self.refs_js = "[" + ",".join(f"[{e['marker']},{'null' if e.get('halo') is None else e['halo']}]"
                                      for e in entries) + "]"
        self.data_json = str(htmlsafe_json_dumps([[e.get("status") or "", STATUS_RANK.get(e.get("status") or "", 3), str(e.get("label", "")),
                                                   str(e.get("name", ""))] for e in entries]))
        config = {"group_px": int(group_px), "group_m": float(group_m), "split_zoom": SPLIT_ZOOM, "colours": colours, "radius": radius_px,
                  "rings": RINGS,
                  "same": texts.text("group_same", lang), "mixed": texts.text("group_mixed", lang)}
        self.config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
