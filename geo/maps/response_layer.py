"""The 1-3-5 minute response circles as a map layer: the roads reached within each tier, and the estates outside the target.

The stretches come from :func:`geo.response.response_times` (``reach``): each
tier's stretches are drawn as one GeoJSON feature, the longest tier first so
the shorter ones lie on top. Estates outside the target get a ring. The layer
carries its own legend, shown only while the layer is on (it is off by
default, switched in the layer control).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Template

from geo import crs as _crs
from geo.maps import texts
from geo.maps.elements import Macro
from geo.maps.labels import safe_text

__all__ = ["TIER_COLOURS", "legend_html", "reach_features", "response_layer"]

#: Colour of each tier (minutes), strongest for the quickest.
TIER_COLOURS = {1.0: "#08519c", 3.0: "#3182bd", 5.0: "#9ecae1"}
OUTSIDE_COLOUR = "#c2185b"


def _colour(tier: float) -> str:
    return TIER_COLOURS.get(float(tier), "#6baed6")


def reach_features(reach: gpd.GeoDataFrame, *, lang: str = "zh", datum: str = "wgs84") -> list[dict]:
    """One GeoJSON feature per tier (a MultiLineString of its stretches), longest tier first.

    Parameters
    ----------
    reach
        :attr:`geo.response.ResponseResult.reach` (WGS-84).
    lang
        Language of the ``label`` property.
    datum
        ``wgs84``, or ``gcj02`` for a GCJ-02 basemap (the lines are shifted to match).
    """
    out = []
    if reach is None or not len(reach):
        return out
    for tier in sorted(set(reach["tier_min"].astype(float)), reverse=True):
        lines = np.asarray(reach.loc[reach["tier_min"].astype(float) == tier].geometry.values, dtype=object)
        if datum != "wgs84":
            lines = np.asarray(_crs.convert_geometries(list(lines), src="wgs84", dst=datum), dtype=object)
        geom = shapely.multilinestrings(list(lines))
        out.append(
            {
                "type": "Feature",
                "properties": {"tier_min": tier, "colour": _colour(tier), "label": texts.text("response_within", lang, m=f"{tier:g}")},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return out


def legend_html(tiers, *, lang: str = "zh", outside: bool = True) -> str:
    """The layer's legend: one swatch per tier, and the ring of the estates outside the target."""
    parts = [f"<h4>{safe_text(texts.text('layer_response', lang))}</h4>"]
    for tier in sorted(float(t) for t in tiers):
        parts.append(f'<div><span class="ln" style="border-color:{_colour(tier)};border-top-width:4px"></span>'
                     f'{safe_text(texts.text("response_within", lang, m=f"{tier:g}"))}</div>')
    if outside:
        parts.append(f'<div><span class="sw" style="background:#fff;border:3px solid {OUTSIDE_COLOUR};width:10px;height:10px;'
                     f'border-radius:8px"></span>{safe_text(texts.text("response_outside", lang))}</div>')
    parts.append(f'<div class="note">{safe_text(texts.text("response_note", lang))}</div>')
    return "".join(parts)


class _LayerLegend(Macro):
    """A legend control that is on the map exactly while its parent layer is."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var group = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'map-legend response-legend');
                div.innerHTML = {{ this.html_text|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            group.on('add', function() { if (group._map) { legend.addTo(group._map); } });
            group.on('remove', function() { legend.remove(); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright"):
        super().__init__()
        self._name = "ResponseLegend"
        self.html_text = html_text
        self.position = position


def response_layer(result, estates: gpd.GeoDataFrame | None = None, *, lang: str = "zh", datum: str = "wgs84",
                   show: bool = False) -> folium.FeatureGroup:
    """The response circles as a folium layer for :func:`geo.maps.mapview.build_map` (``extra_layers``).

    Parameters
    ----------
    result
        :class:`geo.response.ResponseResult`.
    estates
        WGS-84 estates with ``estate_id`` (for the rings of those outside the target), or None.
    lang
        ``zh`` or ``en``.
    datum
        Datum of the basemap (``wgs84``, or ``gcj02`` for AMap).
    show
        Whether the layer is on when the map opens (off by default).
    """
    lang = texts.check_lang(lang)
    group = folium.FeatureGroup(name=texts.text("layer_response", lang), show=show)
    feats = reach_features(result.reach, lang=lang, datum=datum)
    if feats:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            style_function=lambda f: {"color": f["properties"]["colour"], "weight": 5, "opacity": 0.85},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            class_name="response-reach",
        ).add_to(group)
    outside = result.outside()
    if estates is not None and len(outside):
        pts = estates.set_index(estates["estate_id"].astype(str)).geometry
        target = float(outside["target_min"].iloc[0])
        for row in outside.itertuples(index=False):
            if str(row.estate_id) not in pts.index:
                continue
            geom = pts.loc[str(row.estate_id)]
            geom = geom if geom.geom_type == "Point" else geom.representative_point()
            if datum != "wgs84":
                geom = _crs.convert_geometries([geom], src="wgs84", dst=datum)[0]
            when = (texts.text("response_not_reached", lang) if not np.isfinite(row.time_min)
                    else texts.text("response_minutes", lang, m=f"{row.time_min:.1f}"))
            tip = f"{row.estate_id} {row.name}: {when} ({texts.text('response_target', lang, m=f'{target:g}')})"
            folium.CircleMarker([geom.y, geom.x], radius=13, color=OUTSIDE_COLOUR, weight=3, fill=False,
                                class_name="response-outside", tooltip=folium.Tooltip(safe_text(tip))).add_to(group)
    tiers = sorted(set(result.reach["tier_min"].astype(float))) if result.reach is not None and len(result.reach) else []
    group.add_child(_LayerLegend(legend_html(tiers, lang=lang, outside=bool(len(outside)))))
    return group
