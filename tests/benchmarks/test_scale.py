"""Tests of the seeded synthetic generator (benchmarks.scale)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from scipy.spatial import cKDTree

from benchmarks import scale
from geo.errors import GeoError
from geo.incidents.store import IncidentArrays

SMALL = scale.ScaleSize("small", 400, 120, 5_000, 6, 8_000.0)


@pytest.fixture(scope="module")
def district():
    return scale.generate("district", seed=7)


class TestCounts:
    def test_district_counts(self, district):
        s = scale.SIZES["district"]
        assert len(district.estate_ids) == len(district.estate_geoms) == s.estates == 2_000
        assert len(district.route_ids) == len(district.route_geoms) == len(district.route_team_ids) == s.routes == 500
        assert len(district.incidents) == s.incidents == 200_000

    def test_sizes_as_specified(self):
        assert [(s.estates, s.routes, s.incidents) for s in scale.SIZES.values()] == [
            (2_000, 500, 200_000),
            (20_000, 5_000, 2_000_000),
            (170_000, 50_000, 10_000_000),
        ]

    def test_ids_unique_and_marked_synthetic(self, district):
        assert len(set(district.estate_ids)) == len(district.estate_ids)
        assert len(set(district.route_ids)) == len(district.route_ids)
        assert district.synthetic and district.attrs["synthetic"] and district.incidents.attrs["synthetic"]
        estates, routes = district.frames()
        assert estates["synthetic"].all() and routes["synthetic"].all()
        assert estates.crs.to_epsg() == 4545

    def test_incidents_are_arrays(self, district):
        inc = district.incidents
        assert isinstance(inc, IncidentArrays)
        assert inc.lon.dtype == np.float64 and inc.time_s.dtype == np.int64 and inc.category.dtype == np.int8


class TestDeterminism:
    def test_same_seed_same_data(self):
        a, b = scale.generate(SMALL, seed=3), scale.generate(SMALL, seed=3)
        assert shapely.equals_exact(a.estate_geoms, b.estate_geoms, tolerance=0).all()
        assert shapely.equals_exact(a.route_geoms, b.route_geoms, tolerance=0).all()
        assert (a.route_team_ids == b.route_team_ids).all()
        np.testing.assert_array_equal(a.incidents.lon, b.incidents.lon)
        np.testing.assert_array_equal(a.incidents.time_s, b.incidents.time_s)

    def test_other_seed_other_data(self):
        a, b = scale.generate(SMALL, seed=3), scale.generate(SMALL, seed=4)
        assert not shapely.equals_exact(a.estate_geoms, b.estate_geoms, tolerance=0).all()

    def test_unknown_size(self):
        with pytest.raises(ValueError, match="district, city, province"):
            scale.generate("planet")


class TestExtent:
    def test_district_box_is_centred_on_wanzhou(self, district):
        xmin, ymin, xmax, ymax = district.bounds_m
        assert xmax - xmin == pytest.approx(24_000) and ymax - ymin == pytest.approx(24_000)
        to_ll = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
        lon, lat = to_ll.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
        assert lon == pytest.approx(108.38, abs=1e-6) and lat == pytest.approx(30.81, abs=1e-6)

    def test_estates_inside_the_box(self, district):
        xmin, ymin, xmax, ymax = district.bounds_m
        xy = shapely.get_coordinates(district.estate_geoms)
        assert (xy[:, 0] >= xmin).all() and (xy[:, 0] <= xmax).all() and (xy[:, 1] >= ymin).all() and (xy[:, 1] <= ymax).all()

    def test_incidents_around_the_area(self, district):
        inc = district.incidents
        # The whole layout lies within about 20 km of Wanzhou (0.25 degrees is about 24 km).
        assert np.abs(inc.lon - 108.38).max() < 0.4 and np.abs(inc.lat - 30.81).max() < 0.35

    def test_province_box_covers_chongqing(self):
        to_m = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
        xmin, ymin, xmax, ymax = scale._box(scale.SIZES["province"], to_m)
        for lon, lat in ((106.55, 29.56), (108.38, 30.81), (109.5, 31.0)):  # Yuzhong, Wanzhou, Wushan
            x, y = to_m.transform(lon, lat)
            assert xmin < x < xmax and ymin < y < ymax
        assert xmax - xmin > 400_000


class TestClustering:
    def test_estates_cluster_more_than_uniform(self, district):
        # Index of dispersion of counts in 1-km cells: about 1 for a uniform (Poisson) pattern, far above for towns.
        xy = shapely.get_coordinates(district.estate_geoms)
        xmin, ymin, xmax, ymax = district.bounds_m
        counts, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=24, range=[[xmin, xmax], [ymin, ymax]])
        assert counts.var() / counts.mean() > 5.0

    def test_nearest_neighbours_closer_than_uniform(self, district):
        # Clark-Evans ratio below 1: mean nearest-neighbour distance under its uniform expectation.
        xy = shapely.get_coordinates(district.estate_geoms)
        d, _ = cKDTree(xy).query(xy, k=2)
        xmin, ymin, xmax, ymax = district.bounds_m
        expected = 0.5 / np.sqrt(len(xy) / ((xmax - xmin) * (ymax - ymin)))
        assert d[:, 1].mean() / expected < 0.9

    def test_routes_near_estates(self, district):
        tree = shapely.STRtree(district.estate_geoms)
        near = tree.query(district.route_geoms, predicate="dwithin", distance=1_000.0)
        assert len(np.unique(near[0])) > 0.9 * len(district.route_geoms)


class TestRoutes:
    def test_lengths_a_few_km(self, district):
        lengths = shapely.length(district.route_geoms)
        assert lengths.min() >= 2_000.0 - 1e-6 and lengths.max() <= 6_000.0 + 1e-6

    def test_grid_like_segments(self, district):
        for line in district.route_geoms[:50]:
            xy = shapely.get_coordinates(line)
            v = np.diff(xy, axis=0)
            seg = np.hypot(v[:, 0], v[:, 1])
            # Blocks of 150-600 m; the last one is cut or stretched (by under 50 m) to reach the route's length.
            assert seg.min() >= 50.0 - 1e-6 and seg.max() <= 650.0 + 1e-6
            cos = (v[1:] * v[:-1]).sum(axis=1) / (seg[1:] * seg[:-1])
            # Consecutive blocks go straight on (cos 1), turn by 90 degrees (0) or back (-1).
            assert np.all(np.min(np.abs(cos[:, None] - np.array([-1.0, 0.0, 1.0])), axis=1) < 1e-9)


class TestMemory:
    def test_estimate_grows_with_size(self):
        est = [scale.estimate_bytes(s) for s in scale.SIZES]
        assert est[0] < est[1] < est[2]

    def test_refused_up_front_with_estimate(self, monkeypatch):
        monkeypatch.setattr(scale, "available_memory_bytes", lambda: 1_000_000_000)
        with pytest.raises(GeoError, match=r"needs about .* GB .* only 1.0 GB"):
            scale.check_memory("province")

    def test_fits_returns_estimate(self, monkeypatch):
        monkeypatch.setattr(scale, "available_memory_bytes", lambda: 10**15)
        assert scale.check_memory("district") == scale.estimate_bytes("district")
