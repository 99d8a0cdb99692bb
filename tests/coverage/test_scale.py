"""Distances on the ground where the metric CRS stretches them (geo.settings.scale_correction_from).

Expected distances come from geodesics on the WGS-84 ellipsoid (pyproj.Geod), not from the engine's CRS.
"""

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo import crs as _crs
from geo import settings
from geo.coverage.model import CoverageModel

GEOD = pyproj.Geod(ellps="WGS84")


def ground_distance_m(point, line, samples: int = 20001) -> float:
    """Smallest geodesic distance from a lon/lat point to a lon/lat segment, by dense sampling of the segment."""
    (lon0, lat0), (lon1, lat1) = line
    t = np.linspace(0.0, 1.0, samples)
    lons, lats = lon0 + t * (lon1 - lon0), lat0 + t * (lat1 - lat0)
    _, _, d = GEOD.inv(np.full(samples, point[0]), np.full(samples, point[1]), lons, lats)
    return float(d.min())


def east_route(lon: float, lat: float, metres: float):
    """A 600 m north-south route ``metres`` east of (lon, lat) along the ellipsoid, centred on that latitude."""
    mlon, mlat, _ = GEOD.fwd(lon, lat, 90.0, metres)
    _, nlat, _ = GEOD.fwd(mlon, mlat, 0.0, 300.0)
    _, slat, _ = GEOD.fwd(mlon, mlat, 180.0, 300.0)
    return [(mlon, slat), (mlon, nlat)]


def model(points, lines):
    estates = gpd.GeoDataFrame({"estate_id": [f"E{i}" for i in range(len(points))]}, geometry=[shapely.Point(p) for p in points], crs="EPSG:4326")
    routes = gpd.GeoDataFrame({"route_id": [f"R{i}" for i in range(len(lines))], "team_id": [f"T{i}" for i in range(len(lines))]},
                              geometry=[shapely.LineString(line) for line in lines], crs="EPSG:4326")
    return CoverageModel.from_geodataframes(estates, routes).solve()


class TestWideLayout:
    """Estates across all of Chongqing: beyond EPSG:4545's zone, measured in the UTM zone of the centre."""

    # 110.0 E lies 5 degrees from UTM 48N's central meridian (105 E): k is about 1.0027 there
    EAST = (110.0, 30.0)
    WEST = (105.5, 29.0)

    def test_a_team_999_m_away_on_the_ground_is_within_the_radius(self):
        near = east_route(*self.EAST, 999.0)
        m = model([self.EAST, self.WEST], [near, east_route(*self.WEST, 50.0)])
        assert m.crs.to_epsg() == 32648
        assert m.estate_scale is not None and m.estate_scale[0] > 1.002
        expected = ground_distance_m(self.EAST, near)
        assert expected == pytest.approx(999.0, abs=0.01)
        planar = shapely.distance(*gpd.GeoSeries([shapely.Point(self.EAST), shapely.LineString(near)], crs=4326).to_crs(m.crs).values)
        assert planar > settings.rule_radius_m + 1.0  # what the plain planar distance would have said: out of reach
        table = m.table().set_index("estate_id")
        assert table.loc["E0", "nearest_distance_m"] == pytest.approx(expected, abs=0.01)
        assert table.loc["E0", "status"] == "coverable"
        assert table.loc["E1", "status"] == "covered"

    def test_a_team_1001_m_away_on_the_ground_is_out_of_reach(self):
        far = east_route(*self.EAST, 1001.0)
        m = model([self.EAST, self.WEST], [far, east_route(*self.WEST, 50.0)])
        assert m.table().set_index("estate_id").loc["E0", "status"] == "gap"

    def test_covering_distance_is_on_the_ground_too(self):
        # 99.9 m on the ground: 100.2 m planar, still covering
        near = east_route(*self.EAST, settings.cover_distance_m - 0.1)
        m = model([self.EAST, self.WEST], [near])
        row = m.table().set_index("estate_id").loc["E0"]
        assert row["status"] == "covered"
        assert row["nearest_distance_m"] == pytest.approx(ground_distance_m(self.EAST, near), abs=0.01)

    def test_a_route_edit_gives_the_full_recompute_numbers(self):
        m = model([self.EAST, self.WEST], [east_route(*self.WEST, 50.0)])
        near = east_route(*self.EAST, 999.0)
        m.update_route("R9", shapely.LineString(near), team_id="T9")
        fresh = model([self.EAST, self.WEST], [east_route(*self.WEST, 50.0), near])
        a, b = m.table().set_index("estate_id"), fresh.table().set_index("estate_id")
        assert a.loc["E0", "status"] == b.loc["E0", "status"] == "coverable"
        assert a.loc["E0", "nearest_distance_m"] == pytest.approx(b.loc["E0", "nearest_distance_m"], abs=1e-6)


class TestShahe:
    def test_no_correction_inside_the_4545_zone(self):
        # Shahe in EPSG:4545: k - 1 about 1.6e-5, below the threshold: planar metres as documented
        lon, lat = 108.38, 30.81
        m = model([(lon, lat)], [east_route(lon, lat, 500.0)])
        assert m.crs.to_epsg() == 4545
        assert m.estate_scale is None


class TestScaleFactors:
    @pytest.mark.parametrize(("lon", "lat"), [(105.0, 30.0), (108.0, 29.0), (110.2, 32.0), (103.1, 28.3)])
    def test_utm_scale_matches_the_series(self, lon, lat):
        # Transverse Mercator point scale, k0 (1 + (cos(lat) dlon)^2 / 2 ...) to first order with the ellipsoid's e'^2 term
        crs = pyproj.CRS.from_epsg(32648)
        x, y = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
        k = _crs.scale_factors(crs, [x], [y], threshold=0.0)
        phi, dl = math.radians(lat), math.radians(lon - 105.0)
        ep2 = 0.00673949674227
        a2 = (dl * math.cos(phi)) ** 2
        series = 0.9996 * (1 + a2 / 2 * (1 + ep2 * math.cos(phi) ** 2) + a2**2 / 24 * (5 - 4 * math.tan(phi) ** 2))
        assert k[0] == pytest.approx(series, abs=2e-7)

    def test_none_below_the_threshold_and_for_no_positions(self):
        assert _crs.scale_factors("EPSG:4545", [536000.0], [3413000.0]) is None
        assert _crs.scale_factors("EPSG:32648", [], []) is None

    def test_threads_give_the_values_of_the_series(self, monkeypatch, pool_sizes):
        # many positions in threads (parts of 100): each value held to the same series as one position above
        monkeypatch.setattr(_crs, "_FACTOR_PART", 100)
        monkeypatch.setattr(settings, "coverage_workers", 3)
        rng = np.random.default_rng(4)
        lon, lat = rng.uniform(102.0, 108.0, 1_000), rng.uniform(28.0, 32.5, 1_000)
        x, y = pyproj.Transformer.from_crs(4326, 32648, always_xy=True).transform(lon, lat)
        threads = pool_sizes(_crs)
        k = _crs.scale_factors("EPSG:32648", x, y, threshold=0.0)
        assert threads == [3]
        phi, dl = np.radians(lat), np.radians(lon - 105.0)
        a2 = (dl * np.cos(phi)) ** 2
        series = 0.9996 * (1 + a2 / 2 * (1 + 0.00673949674227 * np.cos(phi) ** 2) + a2**2 / 24 * (5 - 4 * np.tan(phi) ** 2))
        assert np.abs(k - series).max() < 2e-7
