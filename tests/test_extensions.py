"""Tests of geo.extensions: straight and network extension proposals."""

import json

import geopandas as gpd
import networkx as nx
import pytest
import shapely

from geo import crs as gcrs
from geo.coverage.model import CoverageModel
from geo.errors import SchemaError
from geo.extensions import RoadNetwork, extension_proposals, read_network
from geo.report import coverage_table, team_table

X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe


def frames(estates, routes, teams, crs="EPSG:4545"):
    eg = gpd.GeoDataFrame({"estate_id": [f"E{i}" for i in range(len(estates))]}, geometry=estates, crs=crs)
    rg = gpd.GeoDataFrame({"route_id": [f"R{i}" for i in range(len(routes))], "team_id": teams}, geometry=routes, crs=crs)
    return eg, rg


class TestStraightExtensions:
    def layout(self):
        estate = shapely.Point(X0 + 50.0, Y0 + 400.0)
        routes = [
            shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)]),  # T0 at 400 m
            shapely.LineString([(X0 + 300.0, Y0 + 400.0), (X0 + 300.0, Y0 + 900.0)]),  # T1 at 250 m
            shapely.LineString([(X0 + 2000.0, Y0), (X0 + 2100.0, Y0)]),  # T2 beyond the radius
        ]
        return frames([estate], routes, ["T0", "T1", "T2"])

    def test_extension_is_there_and_back_beyond_the_cover_distance(self):
        eg, rg = self.layout()
        p = extension_proposals(eg, rg).set_index("team_id")
        assert set(p.index) == {"T0", "T1"}
        assert p.loc["T0", "distance_m"] == 400.0 and p.loc["T0", "extension_m"] == 2 * (400.0 - 100.0)
        assert p.loc["T1", "extension_m"] == 2 * (250.0 - 100.0)
        assert (p["extension_measure"] == "straight").all()

    def test_cheapest_is_ranked_first_and_recommended(self):
        eg, rg = self.layout()
        p = extension_proposals(eg, rg)
        assert list(p["team_id"]) == ["T1", "T0"] and list(p["rank"]) == [1, 2]
        assert list(p["recommended"]) == [True, False]
        t = coverage_table(eg, rg)
        assert t.loc[0, "recommended_team_id"] == "T1" and t.loc[0, "recommended_extension_m"] == 300.0

    def test_equal_extensions_are_ranked_by_team_id_text(self):
        # Two teams 300 m from the estate, either side; the team added first (code 0) has the later id.
        estate = shapely.Point(X0, Y0)
        routes = [shapely.LineString([(X0 - 100.0, Y0 + 300.0), (X0 + 100.0, Y0 + 300.0)]),
                  shapely.LineString([(X0 - 100.0, Y0 - 300.0), (X0 + 100.0, Y0 - 300.0)])]
        for teams in (["队B", "A-2"], ["A-2", "队B"]):
            eg, rg = frames([estate], routes, teams)
            for lines in (True, False):
                p = extension_proposals(eg, rg, lines=lines)
                assert list(p["extension_m"]) == [400.0, 400.0]
                assert list(p["team_id"]) == ["A-2", "队B"] and list(p["rank"]) == [1, 2]
                best = extension_proposals(eg, rg, lines=lines, recommended_only=True)
                assert list(best["team_id"]) == ["A-2"] and list(best["rank"]) == [1]
            assert coverage_table(eg, rg).loc[0, "recommended_team_id"] == "A-2"

    def test_connector_runs_from_the_route_to_the_estate_in_wgs84(self):
        eg, rg = self.layout()
        p = extension_proposals(eg, rg).set_index("team_id")
        assert p.crs.to_epsg() == 4326
        line = gpd.GeoSeries([p.loc["T0", "geometry"]], crs=4326).to_crs(4545).values[0]
        (sx, sy), (ex, ey) = shapely.get_coordinates(line)
        assert (sx, sy) == pytest.approx((X0 + 50.0, Y0), abs=1e-3)  # nearest point of the route
        assert (ex, ey) == pytest.approx((X0 + 50.0, Y0 + 400.0), abs=1e-3)  # the estate

    def test_without_lines_the_figures_are_the_same_and_no_line_is_drawn(self):
        eg, rg = self.layout()
        p = extension_proposals(eg, rg, lines=False).set_index("team_id")
        assert p.loc["T0", "extension_m"] == 2 * (400.0 - 100.0) and p.loc["T1", "extension_m"] == 2 * (250.0 - 100.0)
        assert list(p["rank"]) == [1, 2] and p.geometry.isna().all() and p.crs.to_epsg() == 4326

    def test_no_proposal_when_covered_unless_strict(self):
        estate = shapely.Point(X0 + 50.0, Y0 + 50.0)
        routes = [shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)]), shapely.LineString([(X0, Y0 + 500.0), (X0 + 100.0, Y0 + 500.0)])]
        eg, rg = frames([estate], routes, ["T0", "T1"])
        assert extension_proposals(eg, rg).empty
        strict = extension_proposals(eg, rg, strict=True)
        assert list(strict["team_id"]) == ["T1"] and strict["extension_m"].iloc[0] == 2 * (450.0 - 100.0)

    def test_team_total_sums_its_obligations(self):
        estates = [shapely.Point(X0, Y0 + 300.0), shapely.Point(X0 + 100.0, Y0 - 200.0)]
        eg, rg = frames(estates, [shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])], ["T0"])
        tt = team_table(eg, rg).set_index("team_id")
        assert tt.loc["T0", "obligation_extension_m"] == 2 * 200.0 + 2 * 100.0
        assert tt.loc["T0", "obliged_estate_ids"] == "E0;E1"


class TestNetworkExtensions:
    def layout(self):
        # Route ends at (X0+100, Y0); the estate is 300 m east in a straight line, but the only road
        # goes 200 m north, 300 m east and 200 m south: 700 m along the network.
        estate = shapely.Point(X0 + 400.0, Y0)
        route = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        road = shapely.LineString([(X0 + 100, Y0), (X0 + 100, Y0 + 200), (X0 + 400, Y0 + 200), (X0 + 400, Y0)])
        eg, rg = frames([estate], [route], ["T0"])
        return eg, rg, road

    def test_network_measure_follows_the_roads(self):
        eg, rg, road = self.layout()
        net = gpd.GeoDataFrame({"road": ["测试路"]}, geometry=[road], crs="EPSG:4545").to_crs(4326)
        p = extension_proposals(eg, rg, network=net)
        assert p["extension_measure"].iloc[0] == "network"
        assert p["connector_m"].iloc[0] == pytest.approx(700.0, abs=1e-3)
        assert p["extension_m"].iloc[0] == pytest.approx(2 * (700.0 - 100.0), abs=1e-3)
        assert p["distance_m"].iloc[0] == pytest.approx(300.0)

    def test_snap_legs_are_counted(self):
        _, _, road = self.layout()
        shifted = shapely.affinity.translate(road, 10.0, 0.0)  # road 10 m east of both ends
        net = RoadNetwork([shifted], crs="EPSG:4545")
        length, line = net.path(shapely.Point(X0 + 100, Y0), shapely.Point(X0 + 400, Y0))
        assert length == pytest.approx(10 + 200 + 300 + 200 + 10)
        assert line.length == pytest.approx(length)

    def test_crossing_roads_are_joined(self):
        a = shapely.LineString([(X0, Y0), (X0 + 200, Y0)])
        b = shapely.LineString([(X0 + 100, Y0 - 100), (X0 + 100, Y0 + 100)])  # crosses a mid-segment
        net = RoadNetwork([a, b], crs="EPSG:4545")
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 100, Y0 + 100))
        assert length == pytest.approx(200.0)

    def test_unconnected_network_falls_back_to_straight(self):
        eg, rg, _ = self.layout()
        roads = [shapely.LineString([(X0, Y0 + 10), (X0 + 150, Y0 + 10)]), shapely.LineString([(X0 + 350, Y0 + 10), (X0 + 450, Y0 + 10)])]
        net = gpd.GeoDataFrame(geometry=roads, crs="EPSG:4545")
        p = extension_proposals(eg, rg, network=net)
        assert p["extension_measure"].iloc[0] == "straight" and p["extension_m"].iloc[0] == 2 * (300.0 - 100.0)

    def test_model_is_reused(self):
        eg, rg, road = self.layout()
        model = CoverageModel.from_geodataframes(eg, rg, cover_m=0.0).solve()
        p = extension_proposals(model=model, network=RoadNetwork([road], crs=model.crs))
        assert p["extension_m"].iloc[0] == pytest.approx(1400.0)


class TestNetworkReading:
    def test_gcj02_network_is_converted_to_wgs84(self, tmp_path):
        _, _, road = TestNetworkExtensions().layout()
        wgs = gpd.GeoSeries([road], crs="EPSG:4545").to_crs(4326).values[0]
        lon, lat = shapely.get_coordinates(wgs).T
        glon, glat = gcrs.convert(lon, lat, src="wgs84", dst="gcj02")
        assert abs(glon[0] - lon[0]) > 1e-3  # the offset is hundreds of metres here
        doc = {
            "type": "FeatureCollection",
            "datum": "gcj02",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"road": "测试路", "segment_id": "测试路/1", "road_class": "street", "approximate": True},
                    "geometry": {"type": "LineString", "coordinates": [[float(a), float(b)] for a, b in zip(glon, glat, strict=True)]},
                }
            ],
        }
        path = tmp_path / "roads_gcj02.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        net = read_network(path, crs="EPSG:4545")
        length, _ = net.path(shapely.Point(X0 + 100, Y0), shapely.Point(X0 + 400, Y0))
        assert length == pytest.approx(700.0, abs=0.5)  # no snap legs: the road is back where it is

    def test_points_in_a_network_file_are_reported(self, tmp_path):
        path = tmp_path / "roads.geojson"
        feature = {"type": "Feature", "properties": {"road": "x"}, "geometry": {"type": "Point", "coordinates": [108.37, 30.84]}}
        path.write_text('{"type": "FeatureCollection", "features": [' + json.dumps(feature) + "]}", encoding="utf-8")
        with pytest.raises(SchemaError, match=r"feature 0.*geometry is a Point"):
            read_network(path, crs="EPSG:4545")


class TestShortestPathTrees:
    def grid(self):
        lines = [shapely.LineString([(X0, Y0 + 100 * k), (X0 + 400, Y0 + 100 * k)]) for k in range(5)]
        lines += [shapely.LineString([(X0 + 100 * k, Y0), (X0 + 100 * k, Y0 + 400)]) for k in range(5)]
        return lines

    def pairs(self):
        starts = [(X0 + 30, Y0 + 2), (X0 + 30, Y0 + 2), (X0 + 30, Y0 + 2), (X0 + 260, Y0 + 101), (X0 + 260, Y0 + 101)]
        ends = [(X0 + 400, Y0 + 400), (X0 + 170, Y0 + 300), (X0 + 30, Y0 + 2), (X0, Y0), (X0 + 399, Y0 + 250)]
        return [(shapely.Point(a), shapely.Point(b)) for a, b in zip(starts, ends, strict=True)]

    def test_each_source_node_is_searched_once(self, monkeypatch):
        calls = []
        real = nx.single_source_dijkstra

        def counting(graph, source, **kw):
            calls.append(source)
            return real(graph, source, **kw)

        monkeypatch.setattr(nx, "single_source_dijkstra", counting)
        net = RoadNetwork(self.grid(), crs="EPSG:4545")
        for a, b in self.pairs():
            net.path(a, b)
        assert len(calls) == len(set(calls)) == 4  # two segments, two end nodes each

    def test_results_equal_those_without_memo(self):
        memo = RoadNetwork(self.grid(), crs="EPSG:4545")
        fresh = RoadNetwork(self.grid(), crs="EPSG:4545")
        fresh.tree_cache_size = 0
        for a, b in self.pairs():
            (m_len, m_line), (f_len, f_line) = memo.path(a, b), fresh.path(a, b)
            assert m_len == f_len and m_line.equals_exact(f_line, 0.0)
        # an independent check: from (30, 2) to the far corner is the snap leg plus Manhattan distance
        length, _ = memo.path(*self.pairs()[0])
        assert length == pytest.approx(2 + 370 + 400)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lines", [False, True])
def test_recommended_only_gives_the_recommended_rows_of_the_whole_result(seed, lines):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    estates = list(shapely.points(X0 + rng.uniform(0, 3000, 60), Y0 + rng.uniform(0, 3000, 60)))
    starts = rng.uniform(0, 3000, (25, 2))
    routes = [shapely.LineString([(X0 + x, Y0 + y), (X0 + x + rng.uniform(-600, 600), Y0 + y + rng.uniform(-600, 600))]) for x, y in starts]
    teams = [f"T{int(t)}" for t in rng.integers(0, 8, len(routes))]  # equal extensions tie across teams now and then
    eg, rg = frames(estates, routes, teams)
    whole = extension_proposals(eg, rg, lines=lines)
    best = extension_proposals(eg, rg, lines=lines, recommended_only=True)
    want = whole[whole["recommended"]].reset_index(drop=True)
    assert len(want) > 0 and len(whole) > len(want)
    pd.testing.assert_frame_equal(pd.DataFrame(best.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry")))
    assert list(best.geometry.to_wkb()) == list(want.geometry.to_wkb())
