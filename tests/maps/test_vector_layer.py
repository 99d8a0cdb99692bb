"""One script per layer (geo/maps/vector_layer.py): the payload the browser draws from."""

from __future__ import annotations

import json
import re

import folium
import pytest
from shapely.geometry import MultiPolygon, Polygon

from geo.maps import vector_layer
from geo.maps.vector_layer import VectorLayer, latlng_rings


def _page(layer: VectorLayer) -> str:
    m = folium.Map(location=[30.84, 108.37], tiles=None)
    group = folium.FeatureGroup(name="g").add_to(m)
    layer.add_to(group)
    return m.get_root().render()


def test_page_features_reads_every_layer_back():
    a, b = VectorLayer(), VectorLayer()
    a.circle(30.0, 108.0, tooltip="甲")
    b.line([[30.0, 108.0], [30.1, 108.1]], class_name="route-line")
    m = folium.Map(location=[30.0, 108.0], tiles=None)
    a.add_to(folium.FeatureGroup(name="a").add_to(m))
    b.add_to(folium.FeatureGroup(name="b").add_to(m))
    got = vector_layer.page_features(m.get_root().render())
    assert [(f["kind"], f["tooltip"], f["options"].get("className")) for f in got] == [("c", "甲", None), ("l", None, "route-line")]


def _payload(page: str) -> dict:
    return json.loads(re.search(r"var P = (\{.*\});\n", page).group(1))


def test_rings_are_lat_lng_with_holes_and_parts():
    square = Polygon([(108.0, 30.0), (108.1, 30.0), (108.1, 30.1), (108.0, 30.0)], holes=[[(108.05, 30.01), (108.06, 30.01), (108.06, 30.02)]])
    assert [r.tolist() for r in latlng_rings(square)] == [
        [[30.0, 108.0], [30.0, 108.1], [30.1, 108.1], [30.0, 108.0]],
        [[30.01, 108.05], [30.01, 108.06], [30.02, 108.06], [30.01, 108.05]],
    ]
    other = Polygon([(109.0, 31.0), (109.1, 31.0), (109.1, 31.1)])
    parts = latlng_rings(MultiPolygon([Polygon(square.exterior), other]))
    assert len(parts) == 2 and [r.tolist() for r in parts[1]] == [[[31.0, 109.0], [31.0, 109.1], [31.1, 109.1], [31.0, 109.0]]]


def test_features_keep_folium_options_texts_and_order():
    layer = VectorLayer()
    a = layer.circle(30.123456789, 108.1, radius=7, color="#ffffff", weight=2, fill=True, fill_color="#d55e00", class_name="estate-marker estate-gap",
                     tooltip="<b>甲</b>", popup="<table></table>", popup_width=380)
    b = layer.circle(30.2, 108.2, radius=13, interactive=False, class_name="estate-halo")
    c = layer.line([[30.0, 108.0], [30.1, 108.1]], color="#1f4e9c", weight=4, class_name="route-line")
    page = _page(layer)
    doc = _payload(page)
    assert (a, b, c) == (0, 1, 2) and len(layer) == 3
    first, second, third = doc["f"]
    assert first[0] == "c" and first[1] == [30.1234568, 108.1]  # 7 decimals, about 1 cm
    assert doc["s"][first[2]] == folium.vector_layers.path_options(line=False, radius=7, color="#ffffff", weight=2, fill=True,
                                                                      fill_color="#d55e00", class_name="estate-marker estate-gap")
    assert first[3:] == ["<b>甲</b>", "<table></table>", 380]
    assert doc["s"][second[2]]["interactive"] is False  # folium's own options would drop it
    assert third[0] == "l" and doc["s"][third[2]]["className"] == "route-line" and third[3] is None
    assert layer.ref(2) == f"{layer.get_name()}[2]"
    assert doc["canvas"] is False


def test_same_options_are_sent_once():
    layer = VectorLayer()
    for k in range(50):
        layer.circle(30.0 + k / 1000, 108.0, radius=7, color="#000")
    assert len(layer.styles) == 1 and len(_payload(_page(layer))["f"]) == 50


def test_no_text_can_end_the_script():
    layer = VectorLayer()
    layer.circle(30.0, 108.0, tooltip="</script><script>alert(1)</script>")
    page = _page(layer)
    assert "</script><script>alert(1)" not in page
    assert _payload(page)["f"][0][3] == "</script><script>alert(1)</script>"


def test_large_layers_go_on_a_canvas(monkeypatch):
    monkeypatch.setattr(vector_layer, "CANVAS_FROM", 3)
    layer = VectorLayer()
    for k in range(4):
        layer.line([[30.0, 108.0 + k], [30.1, 108.0 + k]])
    assert _payload(_page(layer))["canvas"] is True
    small = VectorLayer()
    small.line([[30.0, 108.0], [30.1, 108.0]])
    assert _payload(_page(small))["canvas"] is False
    forced = VectorLayer(canvas=False)
    for k in range(4):
        forced.circle(30.0, 108.0 + k)
    assert _payload(_page(forced))["canvas"] is False


def test_labels_are_div_icons_that_take_no_clicks():
    layer = VectorLayer()
    layer.label(30.5, 108.5, '<div class="basemap-label">天子湖</div>', size_px=(120, 16), anchor_px=(60, 8), pane="basemap")
    f = _payload(_page(layer))["f"][0]
    assert f[0] == "m" and f[1] == [30.5, 108.5]
    style = layer.styles[0]
    assert style == {"icon": {"className": "empty", "html": '<div class="basemap-label">天子湖</div>', "iconSize": [120, 16], "iconAnchor": [60, 8]},
                     "interactive": False, "pane": "basemap"}


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_coordinate_json_cannot_hold_is_refused(bad):
    layer = VectorLayer()
    layer.circle(bad, 108.0)
    with pytest.raises(ValueError):
        _page(layer)


def _squares(n: int) -> list:
    """``n`` small triangles as Leaflet rings ([lat, lng])."""
    return [[[[30.0 + i * 0.01, 108.0], [30.0 + i * 0.01, 108.005], [30.005 + i * 0.01, 108.0]]] for i in range(n)]


def test_a_reused_layer_is_filled_once_per_key_and_draws_the_same(monkeypatch):
    monkeypatch.setattr(vector_layer, "_REUSED", type(vector_layer._REUSED)())
    calls = []
    rings = _squares(3)

    def fill(layer):
        calls.append(1)
        for i, r in enumerate(rings):
            layer.polygon(r, tooltip=f"第{i}队", color="#43a047", fill=True)

    first = VectorLayer.reused(b"bands-1", fill)
    second = VectorLayer.reused(b"bands-1", fill)
    assert len(calls) == 1
    assert list(second.features()) == list(first.features()) and len(second) == 3
    assert _payload(_page(second)) == _payload(_page(first))
    # a feature added afterwards is the layer's own: neither the first layer nor a later reuse sees it
    second.circle(30.5, 108.5, tooltip="新")
    assert len(second) == 4 and len(first) == 3 and len(VectorLayer.reused(b"bands-1", fill)) == 3
    assert [f["tooltip"] for f in vector_layer.page_features(_page(second))][-1] == "新"
    # another key, or the same key on a canvas, is filled again
    VectorLayer.reused(b"bands-2", fill)
    VectorLayer.reused(b"bands-1", fill, canvas=True)
    assert len(calls) == 3


def test_reused_layers_are_kept_up_to_the_limit_least_recent_first_out(monkeypatch):
    monkeypatch.setattr(vector_layer, "_REUSED", type(vector_layer._REUSED)())
    monkeypatch.setattr(vector_layer, "REUSED_LAYERS", 2)
    calls = []

    def fill(layer):
        calls.append(1)
        layer.circle(30.0, 108.0)

    for key in (b"a", b"b", b"a", b"c"):  # "a" used again before "c" comes: "b" is the least recent and goes
        VectorLayer.reused(key, fill)
    assert len(calls) == 3
    VectorLayer.reused(b"a", fill)
    assert len(calls) == 3
    VectorLayer.reused(b"b", fill)
    assert len(calls) == 4


def test_a_reused_layer_goes_on_a_canvas_when_the_canvas_threshold_says_so(monkeypatch):
    monkeypatch.setattr(vector_layer, "_REUSED", type(vector_layer._REUSED)())

    def fill(layer):
        for r in _squares(3):
            layer.polygon(r)

    assert _payload(_page(VectorLayer.reused(b"k", fill)))["canvas"] is False
    monkeypatch.setattr(vector_layer, "CANVAS_FROM", 0)
    assert _payload(_page(VectorLayer.reused(b"k", fill)))["canvas"] is True
