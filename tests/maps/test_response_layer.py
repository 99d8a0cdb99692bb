"""The response-circle layer against networkx shortest paths on a tiny road grid, and its texts in both languages."""

from __future__ import annotations

import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo import settings
from geo.maps import texts
from geo.maps.response_layer import TIER_COLOURS, legend_html, reach_features, response_layer
from geo.response import response_times

METRIC = "EPSG:4545"
X0, Y0 = 500_000.0, 3_410_000.0
STEP = 400.0
KMH = 1000.0 / 60.0  # metres per minute at 1 km/h


def _gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=METRIC).to_crs(settings.storage_crs)


def _grid():
    """Four streets each way, 400 m apart; the middle two are lanes (slower), the others streets."""
    lines, classes = [], []
    for k in range(4):
        cls = "lane" if k in (1, 2) else "street"
        lines.append(LineString([(X0 + STEP * k, Y0), (X0 + STEP * k, Y0 + 3 * STEP)]))
        lines.append(LineString([(X0, Y0 + STEP * k), (X0 + 3 * STEP, Y0 + STEP * k)]))
        classes += [cls, cls]
    return lines, classes


def _independent_minutes(lines, classes, post_xy, points):
    """Minutes from the post to each point: networkx Dijkstra on the grid with the post's foot leg and the point spliced in."""
    walk = settings.response_access_speed_kmh * KMH
    speed = {c: settings.response_speed_kmh[c] * KMH for c in set(classes)}
    g = nx.Graph()
    edges = []  # (a, b, metres per minute) of every block between crossings
    for line, cls in zip(lines, classes, strict=True):
        (x0, y0), (x1, y1) = line.coords
        for k in range(3):
            a = (x0 + (x1 - x0) * k / 3, y0 + (y1 - y0) * k / 3)
            b = (x0 + (x1 - x0) * (k + 1) / 3, y0 + (y1 - y0) * (k + 1) / 3)
            edges.append((a, b, speed[cls]))

    def splice(graph, xy, name, leg_min):
        """Join ``name`` to the nearest block at its foot point, ``leg_min`` minutes away on foot."""
        best = min(edges, key=lambda e: LineString([e[0], e[1]]).distance(Point(xy)))
        a, b, v = best
        seg = LineString([a, b])
        foot = seg.interpolate(seg.project(Point(xy)))
        graph.add_edge(name, ("foot", name), weight=leg_min(Point(xy).distance(foot)))
        graph.add_edge(("foot", name), a, weight=foot.distance(Point(a)) / v)
        graph.add_edge(("foot", name), b, weight=foot.distance(Point(b)) / v)
        return best

    for a, b, v in edges:
        g.add_edge(a, b, weight=Point(a).distance(Point(b)) / v)
    post_edge = splice(g, post_xy, "post", lambda m: m / walk)
    out = []
    for xy in points:
        h = g.copy()
        edge = splice(h, xy, "pt", lambda m: 0.0)
        if edge == post_edge:  # on the post's own block: straight along it too
            seg = LineString([edge[0], edge[1]])
            p_foot = seg.interpolate(seg.project(Point(post_xy)))
            h.add_edge(("foot", "post"), ("foot", "pt"), weight=p_foot.distance(Point(xy)) / edge[2])
        out.append(nx.shortest_path_length(h, "post", "pt", weight="weight"))
    return np.array(out)


def test_stretches_match_networkx_shortest_paths():
    lines, classes = _grid()
    # In the metric CRS as given: the crossings (T-junctions at the edges) stay exact, so the roads join as drawn.
    roads = gpd.GeoDataFrame({"road_class": classes}, geometry=lines, crs=METRIC)
    post_xy = (X0 + 600.0, Y0 + 410.0)  # 10 m off the second street, between two crossings
    posts = _gdf([Point(post_xy)], post_id=["P1"], name=["岗亭"], kind=["post"])
    estates = _gdf([Point(X0 + 1190, Y0 + 1190)], estate_id=["A"], name=["a"])
    res = response_times(estates, posts, roads, metric_crs=METRIC)
    reach = res.reach.to_crs(METRIC)
    assert sorted(set(reach["tier_min"])) == [1.0, 3.0, 5.0]
    # Points along every block (not at the ends), and where each tier's stretches are.
    pts = []
    for line in lines:
        for f in np.linspace(0.01, 0.99, 45):
            pts.append(tuple(line.interpolate(f, normalized=True).coords[0]))
    minutes = _independent_minutes(lines, classes, post_xy, pts)
    assert minutes.min() < 1.0 < 3.0 < minutes.max()  # the grid crosses tier boundaries
    for tier in (1.0, 3.0, 5.0):
        within = shapely.union_all(reach.loc[reach["tier_min"] == tier].geometry.values)
        on = np.array([within.distance(Point(p)) < 1e-3 for p in pts])
        clear = np.abs(minutes - tier) > 1e-3  # points exactly at the boundary could go either way
        assert (on[clear] == (minutes[clear] <= tier)).all(), tier


def test_features_one_per_tier_longest_first_and_layer_off_by_default():
    lines, classes = _grid()
    posts = _gdf([Point(X0, Y0)], post_id=["P1"], name=["岗亭"], kind=["post"])
    estates = _gdf([Point(X0 + 5000, Y0)], estate_id=["FAR"], name=["远"])  # no road near: outside the target
    res = response_times(estates, posts, gpd.GeoDataFrame({"road_class": classes}, geometry=lines, crs=METRIC), metric_crs=METRIC)
    feats = reach_features(res.reach, lang="en")
    assert [f["properties"]["tier_min"] for f in feats] == [5.0, 3.0, 1.0]
    assert [f["properties"]["colour"] for f in feats] == [TIER_COLOURS[5.0], TIER_COLOURS[3.0], TIER_COLOURS[1.0]]
    assert feats[-1]["properties"]["label"] == "roads reached within 1 min"
    group = response_layer(res, estates, lang="en")
    assert group.show is False
    m = folium.Map(location=[30.8, 108.4])
    group.add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert "1-3-5 minute response circles" in html and "response-legend" in html and "response-outside" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_legend_texts_exist_in_both_languages(lang):
    keys = ["layer_response", "response_within", "response_outside", "response_minutes", "response_not_reached", "response_target",
            "response_note"]
    for key in keys:
        zh, en = texts.TEXTS[key]
        assert zh.strip() and en.strip() and zh != en, key
    html = legend_html([1, 3, 5], lang=lang)
    assert texts.text("layer_response", lang) in html
    for m in ("1", "3", "5"):
        assert texts.text("response_within", lang, m=m) in html
    assert ("分钟" in html) == (lang == "zh")


def test_app_texts_of_the_response_list_exist_in_both_languages():
    from ui.i18n import TEXTS

    keys = [k for k in TEXTS if k.startswith("response_")]
    assert {"response_outside_title", "response_col_time", "response_caption"} <= set(keys)
    for key in keys:
        zh, en = TEXTS[key]
        assert zh.strip() and en.strip() and zh != en, key
