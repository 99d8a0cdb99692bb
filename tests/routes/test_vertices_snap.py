"""A route's vertices replaced in place, and a drawn line snapped to the gazetteer roads."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo import io as gio
from geo.errors import SchemaError
from geo.routes.edits import replace_route_geometry
from geo.routes.snap import road_network, snap_line

DATA = Path(__file__).resolve().parents[2] / "data"


def test_replace_keeps_id_team_and_shift():
    routes = gio.read_routes(DATA / "patrol_routes.geojson")
    rid = str(routes["route_id"].iloc[0])
    coords = shapely.get_coordinates(routes.geometry.iloc[0])
    line = shapely.LineString([coords[0], (coords[0][0] + 0.001, coords[0][1] + 0.001), coords[-1]])
    out = replace_route_geometry(routes, rid, [line])
    assert len(out) == len(routes) and list(out["route_id"]) == list(routes["route_id"])
    row = out.iloc[0]
    assert row["team_id"] == routes["team_id"].iloc[0] and row["shift"] == routes["shift"].iloc[0]
    assert row.geometry.equals_exact(line, 1e-9)
    with pytest.raises(SchemaError, match="not in the routes file"):
        replace_route_geometry(routes, "NO-SUCH", [line])


def test_snapped_line_lies_on_the_roads_and_follows_them():
    net = road_network(DATA / "gazetteer.geojson")
    roads = gpd.read_file(DATA / "gazetteer.geojson").to_crs("EPSG:4545")
    union = shapely.union_all(roads.geometry.values)
    w, s, e, n = roads.to_crs("EPSG:4326").total_bounds
    drawn = shapely.LineString([(w + 0.3 * (e - w), s + 0.3 * (n - s)), (w + 0.6 * (e - w), s + 0.5 * (n - s))])
    res = snap_line(drawn, net)
    metric = gpd.GeoSeries([res.line], crs="EPSG:4326").to_crs("EPSG:4545").iloc[0]
    assert max(shapely.Point(p).distance(union) for p in shapely.get_coordinates(metric)) < 0.01
    # every leg runs along a road: the line's midpoints of segments are on the network too
    mids = [metric.interpolate(f, normalized=True) for f in (0.1, 0.3, 0.5, 0.7, 0.9)]
    assert max(m.distance(union) for m in mids) < 0.01
    assert abs(res.length_m - metric.length) < 0.01
