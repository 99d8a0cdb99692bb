"""The coverage map's legend: one Leaflet control in the map's language that folds to its title.

On a small screen the legend covers part of the map. Its title folds and
unfolds it (a click, or Enter or Space on the focused title), and the choice is
kept in the tab's ``sessionStorage`` for every map the tab shows after, so a
planner who folded it once does not fold it again on each rerun.
"""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Template

from geo.maps import texts
from geo.maps.elements import Macro
from geo.maps.labels import ORG_STYLE, OTHER_ORG, STATUS_SHAPE, UNKNOWN_STATUS, org_label, radius_text, safe_text, status_label

__all__ = ["FOLDED_KEY", "LEGEND_CSS", "LEGEND_GAP_PX", "LEGEND_MIN_BODY_PX", "Legend", "legend_html"]

#: ``sessionStorage`` key holding ``"1"`` while the tab's legends are folded.
FOLDED_KEY = "shahe-legend-folded"

#: Pixels kept free between the legend's corner and the controls above it.
LEGEND_GAP_PX = 8

#: The legend's body is never cut shorter than this (pixels; it then scrolls, or the user folds it).
LEGEND_MIN_BODY_PX = 48

#: Styles of the legend (the response layer's legend shares the ``map-legend`` class).
LEGEND_CSS = r"""
.map-legend { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px; font: 12px/1.45 sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-width: 260px; }
.map-legend h4 { margin: 2px 0 4px; font-size: 13px; }
.map-legend .sw { display: inline-block; width: 12px; height: 12px; border-radius: 6px; margin-right: 5px; vertical-align: -2px; }
.map-legend .ln { display: inline-block; width: 18px; height: 0; border-top: 3px solid; margin-right: 5px; vertical-align: 3px; }
.map-legend .bx { display: inline-block; width: 14px; height: 10px; border: 1px solid; margin-right: 5px; vertical-align: -1px; }
.map-legend .ramp { display: inline-block; width: 56px; height: 10px; margin-right: 5px; vertical-align: -1px;
  background: linear-gradient(to right, blue, cyan, lime, yellow, red); }
.map-legend .note { color: #8d1c1c; margin-top: 4px; }
.map-legend .legend-body { overflow-y: auto; }
.map-legend .legend-head { cursor: pointer; user-select: none; }
.map-legend .legend-fold::after { content: "\25BE"; margin-left: 6px; color: #666; }
.map-legend.folded .legend-fold::after { content: "\25B8"; }
.map-legend.folded .legend-head { margin: 0; }
.map-legend.folded .legend-body { display: none; }
"""


class Legend(Macro):
    """A Leaflet control holding a fixed HTML legend (built from escaped text only) that folds to its title.

    Parameters
    ----------
    html_text
        The legend's HTML as :func:`legend_html` writes it: a ``.legend-head``
        title, then a ``.legend-body``.
    lang
        ``"zh"`` or ``"en"``: the language of the title's tooltip.
    position
        The Leaflet corner of the control.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'map-legend');
                div.innerHTML = {{ this.html_text|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                var head = div.querySelector('.legend-head');
                if (!head) { return div; }
                var key = {{ this.folded_key|tojson }};
                function show(folded) {
                    div.classList.toggle('folded', folded);
                    head.setAttribute('aria-expanded', folded ? 'false' : 'true');
                    head.title = folded ? {{ this.unfold_title|tojson }} : {{ this.fold_title|tojson }};
                }
                function flip() {
                    var folded = !div.classList.contains('folded');
                    show(folded);
                    try { window.sessionStorage.setItem(key, folded ? '1' : '0'); } catch (e) {}
                }
                head.addEventListener('click', flip);
                head.addEventListener('keydown', function(ev) {
                    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); flip(); }
                });
                var folded = false;
                try { folded = window.sessionStorage.getItem(key) === '1'; } catch (e) {}
                show(folded);
                return div;
            };
            var map = {{ this._parent.get_name() }};
            legend.addTo(map);
            // The legend's body scrolls within the room its corner leaves below the controls above it (zoom, tools),
            // so that on a short map neither the legend nor the scale bar above it covers them.
            var div = legend.getContainer(), pending = false;
            function fit() {
                pending = false;
                var body = div.querySelector('.legend-body'), corner = div.parentNode;
                if (!body || !corner) { return; }
                var box = map.getContainer().getBoundingClientRect();
                var above = map.getContainer().querySelector('.leaflet-top.' + (corner.classList.contains('leaflet-right') ? 'leaflet-right' : 'leaflet-left'));
                var top = above ? above.getBoundingClientRect().bottom : box.top;
                var others = corner.getBoundingClientRect().height - div.getBoundingClientRect().height;  // the scale bar, the margins
                var frame = div.getBoundingClientRect().height - body.getBoundingClientRect().height;  // the title, the padding
                body.style.maxHeight = Math.floor(Math.max(box.bottom - top - others - frame - {{ this.gap_px }}, {{ this.min_body_px }})) + 'px';
            }
            function later() { if (!pending) { pending = true; window.requestAnimationFrame(fit); } }
            map.whenReady(later);
            map.on('resize', later);
            if (window.ResizeObserver) {  // controls added later, fonts arriving, the legend unfolded
                var watch = new ResizeObserver(later);
                map.getContainer().querySelectorAll('.leaflet-top, .leaflet-bottom').forEach(function(c) { watch.observe(c); });
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, lang: str = "zh", position: str = "bottomleft"):
        super().__init__()
        self._name = "Legend"
        self.html_text = html_text
        self.position = position
        self.folded_key = FOLDED_KEY
        self.fold_title = texts.text("legend_fold", lang)
        self.unfold_title = texts.text("legend_unfold", lang)
        self.gap_px = LEGEND_GAP_PX
        self.min_body_px = LEGEND_MIN_BODY_PX


def legend_html(
    statuses: Sequence[str], org_types: Sequence[str], *, notes: Sequence[str], has_status: bool, radius_m: float | None = None,
    lang: str = "zh", layers: Sequence[str] = (),
) -> str:
    """The legend in ``lang``: estate statuses, route types and every other layer drawn (``layers``), then notes."""
    tx = texts.text
    parts = []
    if has_status:
        keys = ["covered", "coverable", "gap"] + (["unknown"] if any(s not in ("covered", "coverable", "gap") for s in statuses) else [])
        for key in keys:
            label, colour = status_label(key if key != "unknown" else None, radius_m, lang)
            size, ring = STATUS_SHAPE.get(key, (7, None))
            halo = "" if ring is None else f";box-shadow:0 0 0 3px #fff,0 0 0 5px {colour}"
            dim = f"width:{size + 4}px;height:{size + 4}px;border-radius:{size}px"
            parts.append(f'<div><span class="sw" style="background:{colour};{dim}{halo}"></span>{safe_text(label)}</div>')
    else:
        parts.append(f'<div><span class="sw" style="background:{UNKNOWN_STATUS[2]}"></span>{safe_text(tx("estate", lang))}</div>')
    for org in org_types:
        colour = ORG_STYLE.get(org, OTHER_ORG)[1]
        parts.append(f'<div><span class="ln" style="border-color:{colour}"></span>{safe_text(tx("routes_of", lang, org=org_label(org, lang)))}</div>')
    radius = radius_text(radius_m)[1 if lang == "en" else 0]
    swatches = {
        "extensions": f'<span class="ln" style="border-top-style:dashed;border-color:#555"></span>{safe_text(tx("extension_line", lang))}',
        "rule_band": f'<span class="bx" style="border-color:#8a8a8a;border-style:dashed"></span>'
                     f'{safe_text(tx("layer_rule_band", lang, radius=radius))}',
        "cover_band": f'<span class="bx" style="border-color:#43a047;background:rgba(67,160,71,0.2)"></span>{safe_text(tx("layer_cover_band", lang))}',
        "hotspots": f'<span class="bx" style="border-color:#d32f2f;background:rgba(211,47,47,0.35)"></span>{safe_text(tx("hot", lang))} '
                    f'<span class="bx" style="border-color:#1976d2;background:rgba(25,118,210,0.35)"></span>{safe_text(tx("cold", lang))}'
                    f' <small>{safe_text(tx("layer_hotspots", lang))}</small>',
        "heat": f'<span class="ramp"></span>{safe_text(tx("heat_scale", lang))}',
        "heat_grid": '<div class="heat-legend"></div>',  # filled in the browser for the year and category shown
    }
    for layer in layers:
        if layer in swatches:
            parts.append(f"<div>{swatches[layer]}</div>")
    for note in notes:
        parts.append(f'<div class="note">{safe_text(note)}</div>')
    head = (f'<h4 class="legend-head" role="button" tabindex="0" aria-expanded="true">{safe_text(tx("legend", lang))}'
            '<span class="legend-fold" aria-hidden="true"></span></h4>')
    return head + '<div class="legend-body">' + "".join(parts) + "</div>"
