"""Leaflet behaviours and controls added to the project's maps: focus without scrolling, fitting bounds,
a metric-only scale bar, Leaflet.draw in Chinese, the attribution line, and the measure and full-screen tools."""

from __future__ import annotations

from jinja2 import Template

from geo.maps import texts
from geo.maps.elements import Macro
from geo.maps.labels import safe_text

__all__ = ["Attribution", "DrawLocale", "FitBounds", "FocusWithoutScroll", "MetricScale", "add_tools"]


class FocusWithoutScroll(Macro):
    """Let the first press on the map focus it without scrolling its frame.

    Leaflet's keyboard handler focuses the map on the first mouse press; the
    focus scrolled the map's frame, so the press and the release landed on
    different elements, the browser sent the click to their common parent and
    the first click on an estate was lost. Keyboard panning and zooming stay.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var kb = {{ this._parent.get_name() }}.keyboard;
            if (!kb) return;
            kb.disable();
            kb._onMouseDown = function() { if (!this._focused) { this._map.getContainer().focus({preventScroll: true}); } };
            kb.enable();
        })();
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "FocusWithoutScroll"


class FitBounds(Macro):
    """Fit the map to bounds now, and again whenever its frame is resized until the user pans or zooms.

    A map created while its frame has no size yet (a frame being replaced when
    a layer is switched on) would otherwise stay zoomed out to a blob in one
    corner once the frame gets its size; fitting a zero-size map also yields
    NaN coordinates.

    With ``remember`` (a name for the map, e.g. ``"planner"``), the view the user
    pans or zooms to is kept in the tab's ``sessionStorage``, and the next map of
    that name over the same bounds (the app rebuilds its map when a layer is
    switched on in the page) opens at that view instead of the fitted one.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }}, box = map.getContainer(), bounds = {{ this.bounds|tojson }};
            // no animation: a zoom still running when the user clicks (or a script reads the map) takes the click nowhere
            var opts = {padding: [{{ this.padding }}, {{ this.padding }}], animate: false}, touched = false, key = {{ this.remember|tojson }};
            var store = null, saved = null, extent = JSON.stringify(bounds);
            try { store = key ? window.sessionStorage : null; } catch (e) { store = null; }
            if (store) {
                try { saved = JSON.parse(store.getItem('shahe-view:' + key) || 'null'); } catch (e) { saved = null; }
                if (!saved || saved.b !== extent) saved = null;
            }
            function fit() {
                if (touched || !box.clientWidth || !box.clientHeight) return;
                map.invalidateSize({pan: false});
                if (saved) { map.setView(saved.c, saved.z, {animate: false}); } else { map.fitBounds(bounds, opts); }
            }
            ['mousedown', 'wheel', 'touchstart', 'keydown'].forEach(function(ev) {
                box.addEventListener(ev, function() { touched = true; }, {passive: true});
            });
            if (store) {
                map.on('moveend', function() {
                    if (!touched || !box.clientWidth) return;
                    var c = map.getCenter();
                    try { store.setItem('shahe-view:' + key, JSON.stringify({b: extent, c: [c.lat, c.lng], z: map.getZoom()})); } catch (e) {}
                });
            }
            fit();
            if (window.ResizeObserver) { new ResizeObserver(fit).observe(box); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds, *, padding_px: int = 20, remember: str | None = None):
        super().__init__()
        self._name = "FitBounds"
        self.bounds = [[float(v) for v in corner] for corner in bounds]
        self.padding = int(padding_px)
        self.remember = remember


#: Hot-spot cell columns shown in the tooltip -> text keys.


class MetricScale(Macro):
    """A metric-only scale bar (Leaflet's default also shows feet and miles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class DrawLocale(Macro):
    """Leaflet.draw's toolbar and hints in Chinese (``lang="zh"``); English is Leaflet.draw's own text.

    Add it to the map before the :class:`folium.plugins.Draw` control.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            function merge(dst, src) { for (var k in src) { if (src[k] && typeof src[k] === 'object') { dst[k] = dst[k] || {}; merge(dst[k], src[k]); } else { dst[k] = src[k]; } } }
            if (window.L && L.drawLocal) { merge(L.drawLocal, {{ this.strings|tojson }}); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, lang: str = "zh"):
        super().__init__()
        self._name = "DrawLocale"
        self.strings = texts.DRAW_ZH if lang == "zh" else {}


class Attribution(Macro):
    """Add a fixed attribution text to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = safe_text(text)


def add_tools(m, lang: str = "zh") -> None:
    """Add the measure tool (metres and square metres, hectares for large areas; no feet, miles or acres) and the
    full-screen button to ``m``, labelled in ``lang`` only. Their scripts are vendored (see :mod:`geo.maps.offline`)."""
    from folium.plugins import Fullscreen, MeasureControl

    texts.check_lang(lang)
    MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                   primary_area_unit="sqmeters", secondary_area_unit="hectares", localization="cn" if lang == "zh" else "en",
                   ).add_to(m)
    Fullscreen(position="topleft", title=texts.text("fullscreen", lang), title_cancel=texts.text("fullscreen_exit", lang)).add_to(m)
