"""Tests of geo.roadends: road ends that stop just short of another road are joined."""

from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import io, settings
from geo.extensions import RoadNetwork, read_network
from geo.schemas import ROADS

X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe
GAZETTEER = Path(__file__).resolve().parent.parent / "data" / "gazetteer.geojson"


def t_junction(gap_m, join_m):
    """A 100 m road along x and a 50 m road going north from its 30 m mark, ending ``gap_m`` short of it."""
    main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
    stub = shapely.LineString([(X0 + 30.0, Y0 + 50.0), (X0 + 30.0, Y0 + gap_m)])
    return RoadNetwork([main, stub], crs="EPSG:4545", join_m=join_m)


def unjoined_within(segments, join_m):
    """Dangling ends within ``join_m`` of a segment that is not theirs nor next to theirs, by brute-force shapely distances."""
    xy = shapely.get_coordinates(segments).reshape(-1, 2, 2)
    ends = xy.reshape(-1, 2)
    pts = shapely.points(ends)
    touching = shapely.distance(pts[:, None], segments[None, :]) <= 1e-6  # end point x segment
    count = 0
    for k in np.flatnonzero(touching.sum(axis=1) == 1):
        seg, other = k // 2, xy[k // 2, 1 - k % 2]
        beside = shapely.distance(shapely.points(other), segments) <= 1e-6  # segments that share the other node
        d = shapely.distance(pts[k], segments)
        d[touching[k] | beside] = np.inf
        d[seg] = np.inf
        count += int(d.min() <= join_m)
    return count


class TestTJunction:
    def test_end_0_4_m_short_is_joined_and_the_path_crosses_the_junction(self):
        net = t_junction(0.4, 1.0)
        assert net.ends_joined == 1
        # By hand: the stub's end is moved 0.4 m onto the road, the road is split at 30 m.
        far_end = shapely.Point(X0 + 30.0, Y0 + 50.0)
        length, line = net.path(shapely.Point(X0, Y0), far_end)
        assert length == pytest.approx(30.0 + 50.0, abs=1e-9)
        length, _ = net.path(shapely.Point(X0 + 100.0, Y0), far_end)
        assert length == pytest.approx(70.0 + 50.0, abs=1e-9)
        assert shapely.get_coordinates(line)[1].tolist() == pytest.approx([X0 + 30.0, Y0])
        assert sorted(np.round(net.seg_len, 6).tolist()) == [30.0, 50.0, 70.0]

    def test_end_1_5_m_short_stays_unjoined_with_a_1_m_tolerance(self):
        net = t_junction(1.5, 1.0)
        assert net.ends_joined == 0
        assert net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 30.0, Y0 + 50.0)) is None
        assert len(net.seg_len) == 2

    def test_tolerance_is_inclusive(self):
        net = t_junction(1.0, 1.0)
        assert net.ends_joined == 1
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 30.0, Y0 + 50.0))
        assert length == pytest.approx(80.0, abs=1e-9)

    def test_zero_tolerance_joins_nothing(self):
        assert t_junction(0.4, 0.0).ends_joined == 0

    def test_default_is_the_setting_read_at_build_time(self, monkeypatch):
        main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        stub = shapely.LineString([(X0 + 30.0, Y0 + 50.0), (X0 + 30.0, Y0 + 1.5)])
        assert RoadNetwork([main, stub], crs="EPSG:4545").ends_joined == 0
        monkeypatch.setattr(settings, "road_join_m", 2.0)
        assert RoadNetwork([main, stub], crs="EPSG:4545").ends_joined == 1

    def test_slanted_end_is_snapped_to_the_nearest_point(self):
        main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        stub = shapely.LineString([(X0 + 60.0, Y0 + 40.0), (X0 + 30.0, Y0 + 0.7)])
        net = RoadNetwork([main, stub], crs="EPSG:4545", join_m=1.0)
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 60.0, Y0 + 40.0))
        assert length == pytest.approx(30.0 + float(np.hypot(30.0, 40.0)), abs=1e-9)  # 30 m, then (30, 40) -> 50 m

    def test_two_side_roads_split_one_segment_twice(self):
        main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        north = shapely.LineString([(X0 + 70.0, Y0 + 20.0), (X0 + 70.0, Y0 + 0.5)])
        south = shapely.LineString([(X0 + 20.0, Y0 - 30.0), (X0 + 20.0, Y0 - 0.8)])
        net = RoadNetwork([main, north, south], crs="EPSG:4545", join_m=1.0)
        assert net.ends_joined == 2
        assert sorted(np.round(net.seg_len, 6).tolist()) == [20.0, 20.0, 30.0, 30.0, 50.0]
        length, _ = net.path(shapely.Point(X0 + 20.0, Y0 - 30.0), shapely.Point(X0 + 70.0, Y0 + 20.0))
        assert length == pytest.approx(30.0 + 50.0 + 20.0, abs=1e-9)

    def test_end_just_past_a_crossing_is_left_as_drawn(self):
        main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        side = shapely.LineString([(X0 + 30.0, Y0 + 50.0), (X0 + 30.0, Y0 - 0.3)])  # overshoots the road by 0.3 m
        net = RoadNetwork([main, side], crs="EPSG:4545", join_m=1.0)
        assert net.ends_joined == 0
        assert sorted(np.round(net.seg_len, 6).tolist()) == [0.3, 30.0, 50.0, 70.0]


class TestEndsMerged:
    def test_two_ends_0_6_m_apart_become_one_node(self):
        west = shapely.LineString([(X0, Y0), (X0 + 50.0, Y0)])
        east = shapely.LineString([(X0 + 50.6, Y0), (X0 + 100.0, Y0)])
        net = RoadNetwork([west, east], crs="EPSG:4545", join_m=1.0)
        assert len(net.node_xy) == 3
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 100.0, Y0))
        assert length == pytest.approx(100.0, abs=1e-9)

    def test_end_near_a_junction_is_merged_into_it(self):
        a = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        b = shapely.LineString([(X0 + 100.0, Y0), (X0 + 100.0, Y0 + 100.0)])
        c = shapely.LineString([(X0 + 100.5, Y0 - 0.3), (X0 + 200.0, Y0 - 0.3)])
        net = RoadNetwork([a, b, c], crs="EPSG:4545", join_m=1.0)
        assert net.ends_joined == 1
        assert len(net.node_xy) == 4  # west, corner, north, east: c's end is the corner now
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 200.0, Y0 - 0.3))
        assert length == pytest.approx(100.0 + float(np.hypot(100.0, 0.3)), abs=1e-9)

    def test_two_ends_near_each_other_and_a_road_are_joined_to_the_road(self):
        main = shapely.LineString([(X0, Y0), (X0 + 100.0, Y0)])
        west = shapely.LineString([(X0 + 40.0, Y0 + 30.0), (X0 + 49.85, Y0 + 0.5)])  # 0.5 m short of the road
        east = shapely.LineString([(X0 + 60.0, Y0 + 30.0), (X0 + 50.15, Y0 + 0.6)])  # 0.6 m short, 0.32 m from west's end
        net = RoadNetwork([main, west, east], crs="EPSG:4545", join_m=1.0)
        assert net.ends_joined == 2
        # By hand: both ends meet on the road below the nearer one, at 49.85 m.
        length, _ = net.path(shapely.Point(X0, Y0), shapely.Point(X0 + 60.0, Y0 + 30.0))
        assert length == pytest.approx(49.85 + float(np.hypot(60.0 - 49.85, 30.0)), abs=1e-6)
        length, _ = net.path(shapely.Point(X0 + 100.0, Y0), shapely.Point(X0 + 40.0, Y0 + 30.0))
        assert length == pytest.approx(100.0 - 49.85 + float(np.hypot(49.85 - 40.0, 30.0)), abs=1e-6)


class TestShippedGazetteer:
    def test_no_end_within_the_tolerance_is_left_unjoined(self):
        lines = io.read_features(GAZETTEER, ROADS).geometry.to_crs(settings.metric_crs).values
        before = RoadNetwork(lines, crs=settings.metric_crs, join_m=0.0)
        after = read_network(GAZETTEER, crs=settings.metric_crs)
        assert unjoined_within(before.segments, settings.road_join_m) >= 1
        assert unjoined_within(after.segments, settings.road_join_m) == 0
        assert after.ends_joined >= 1
        # Nothing else moved: the total length changes by no more than the gaps closed.
        assert abs(after.seg_len.sum() - before.seg_len.sum()) <= settings.road_join_m * after.ends_joined
