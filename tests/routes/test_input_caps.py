"""Caps a viewer cannot exceed, and dense lines simplified for display only (finding 6 of the attack)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import settings
from geo.errors import DataFileError, SchemaError
from geo.maps.mapview import route_bands
from geo.routes.edits import lines_from_geojson, lines_from_upload


def _dense_line(n: int) -> list[list[float]]:
    t = np.linspace(0.0, 1.0, n)
    return np.column_stack([108.355 + 0.03 * t, 30.84 + 0.002 * np.sin(t * 40)]).round(7).tolist()


def test_dense_upload_is_refused_by_vertex_count(monkeypatch):
    monkeypatch.setattr(settings, "route_max_input_bytes", 50_000_000)
    doc = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": _dense_line(200_000)}}
    with pytest.raises(SchemaError, match=r"track\.geojson, feature 0: the line has 200,000 vertices, more than 20,000"):
        lines_from_upload("track.geojson", json.dumps(doc).encode())


def test_many_lines_are_refused_by_their_total(monkeypatch):
    monkeypatch.setattr(settings, "route_max_vertices_per_input", 1_000)
    feats = [{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": _dense_line(600)}}] * 2
    with pytest.raises(SchemaError, match=r"1,200 vertices in all, more than 1,000"):
        lines_from_geojson(feats, source="drawing")


@pytest.mark.parametrize("channel", ["upload", "paste", "draw"])
def test_bytes_cap_holds_for_every_channel(channel, monkeypatch):
    monkeypatch.setattr(settings, "route_max_input_bytes", 10_000)
    feature = {"type": "Feature", "properties": {"note": "x" * 20_000}, "geometry": {"type": "LineString", "coordinates": _dense_line(10)}}
    with pytest.raises(DataFileError, match=r"more than the 0\.0 MB|MB a route input may have"):
        if channel == "upload":
            lines_from_upload("big.geojson", json.dumps(feature).encode())
        elif channel == "paste":
            lines_from_geojson(json.dumps(feature), source="paste")
        else:
            lines_from_geojson([{"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": _dense_line(2_000)}}],
                               source="drawing")


def test_display_bands_come_from_a_simplified_line_within_tolerance():
    dense = shapely.LineString(_dense_line(50_000))
    routes = gpd.GeoDataFrame({"team_id": ["T"], "team": ["t"], "org_type": ["police"]}, geometry=[dense], crs="EPSG:4326")
    bands = route_bands(routes).to_crs(settings.metric_crs)
    cover = bands.loc[bands["band"] == "cover"].geometry.iloc[0]
    exact = gpd.GeoSeries([dense], crs="EPSG:4326").to_crs(settings.metric_crs).buffer(settings.cover_distance_m, quad_segs=16).iloc[0]
    # the simplified band lies within the display tolerance of the exact band (plus the arc approximation)
    slack = settings.display_simplify_m + 0.5
    assert exact.buffer(slack).contains(cover) and cover.buffer(slack).contains(exact)
    assert shapely.get_num_coordinates(cover) < shapely.get_num_coordinates(exact) / 5
