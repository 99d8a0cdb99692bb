"""Tests of geo.crs: datum conversions and metric projection."""

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo import crs
from geo.errors import CRSError, DatumError

# Public test vectors (WGS-84 lat, lng -> GCJ-02 lat, lng), see shared DOMAIN.md.
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]
GEOD = pyproj.Geod(ellps="WGS84")


class TestGcj02:
    @pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
    def test_forward_matches_public_vectors(self, wgs, gcj):
        lon, lat = crs.wgs84_to_gcj02(wgs[1], wgs[0])
        assert lon == pytest.approx(gcj[1], abs=1e-12)
        assert lat == pytest.approx(gcj[0], abs=1e-12)

    @pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
    def test_inverse_recovers_wgs84_within_1e7_degrees(self, wgs, gcj):
        lon, lat = crs.gcj02_to_wgs84(gcj[1], gcj[0])
        assert abs(lon - wgs[1]) < 1e-7
        assert abs(lat - wgs[0]) < 1e-7

    def test_offset_near_wanzhou_is_about_500_m(self):
        lon, lat = 108.3757, 30.8101
        glon, glat = crs.wgs84_to_gcj02(lon, lat)
        _, _, dist_m = GEOD.inv(lon, lat, glon, glat)
        east_m = GEOD.inv(lon, lat, glon, lat)[2]
        south_m = GEOD.inv(lon, lat, lon, glat)[2]
        assert 450 < dist_m < 560
        assert glon > lon and glat < lat  # east and south, as published
        assert 400 < east_m < 480 and 220 < south_m < 290

    def test_vectorised_round_trip_on_random_points(self):
        rng = np.random.default_rng(7)
        lon = rng.uniform(74, 134, 2000)
        lat = rng.uniform(19, 53, 2000)
        back_lon, back_lat = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
        assert np.max(np.abs(back_lon - lon)) < 1e-7
        assert np.max(np.abs(back_lat - lat)) < 1e-7

    def test_points_outside_china_pass_through(self):
        lon = np.array([2.35, -74.0, 108.3757])
        lat = np.array([48.85, 40.7, 30.8101])
        out_lon, out_lat = crs.wgs84_to_gcj02(lon, lat)
        assert out_lon[:2].tolist() == lon[:2].tolist()
        assert out_lat[:2].tolist() == lat[:2].tolist()
        assert out_lon[2] != lon[2]
        assert crs.gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)

    def test_input_arrays_are_not_modified(self):
        lon, lat = np.array([108.37]), np.array([30.84])
        crs.wgs84_to_gcj02(lon, lat)
        assert lon[0] == 108.37 and lat[0] == 30.84


class TestBd09:
    def test_bd09_is_about_1_1_km_from_wgs84_near_wanzhou(self):
        lon, lat = 108.3757, 30.8101
        blon, blat = crs.wgs84_to_bd09(lon, lat)
        assert 900 < GEOD.inv(lon, lat, blon, blat)[2] < 1300

    def test_bd09_round_trip_within_1_mm(self):
        lon, lat = 108.3757, 30.8101
        back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
        assert GEOD.inv(lon, lat, *back)[2] < 0.001


class TestConvert:
    def test_aliases(self):
        assert crs.normalize_datum("GCJ-02") == "gcj02"
        assert crs.normalize_datum("CGCS2000") == "wgs84"
        assert crs.normalize_datum("Baidu") == "bd09"

    def test_unknown_datum_is_refused(self):
        with pytest.raises(DatumError, match="unknown datum 'wgs72'"):
            crs.normalize_datum("wgs72")

    def test_convert_geometries_moves_every_vertex(self):
        line = shapely.LineString([(108.37, 30.84), (108.38, 30.85)])
        (out,) = crs.convert_geometries([line], src="wgs84", dst="gcj02")
        expected = [crs.wgs84_to_gcj02(x, y) for x, y in line.coords]
        assert np.allclose(np.asarray(out.coords), expected, atol=1e-12)


class TestMetric:
    def test_shahe_uses_epsg_4545(self):
        gdf = gpd.GeoDataFrame(geometry=[shapely.Point(108.37, 30.84)], crs="EPSG:4326")
        assert crs.to_metric(gdf).crs.to_epsg() == 4545

    def test_elsewhere_a_utm_zone_is_chosen(self):
        gdf = gpd.GeoDataFrame(geometry=[shapely.Point(116.39, 39.9)], crs="EPSG:4326")
        assert crs.to_metric(gdf).crs.to_epsg() == 32650

    def test_projected_distance_matches_geodesic_to_the_centimetre(self):
        a, b = (108.365, 30.835), (108.372, 30.842)
        gdf = gpd.GeoDataFrame(geometry=[shapely.Point(a), shapely.Point(b)], crs="EPSG:4326")
        m = crs.to_metric(gdf)
        planar_m = m.geometry.iloc[0].distance(m.geometry.iloc[1])
        geodesic_m = GEOD.inv(*a, *b)[2]
        # Gauss-Kruger scale near CM 108E is ~1.00002: 2 cm per km at most.
        assert abs(planar_m - geodesic_m) < 0.03

    def test_geographic_crs_is_refused(self):
        with pytest.raises(CRSError, match="degrees"):
            crs.require_metric("EPSG:4326", what="routes")

    def test_missing_crs_is_refused(self):
        gdf = gpd.GeoDataFrame(geometry=[shapely.Point(108.37, 30.84)])
        with pytest.raises(CRSError, match="no CRS"):
            crs.to_metric(gdf)


class TestCachedTransformers:
    def test_one_cached_transformer_per_crs(self):
        a = crs.lonlat_to_metric_transformer()
        assert crs.lonlat_to_metric_transformer("EPSG:4545") is a
        assert crs.lonlat_to_metric_transformer(pyproj.CRS("EPSG:4545")) is a
        assert crs.lonlat_to_metric_transformer("EPSG:32648") is not a

    def test_project_lonlat_matches_pyproj(self):
        lon, lat = np.array([108.36, 108.39]), np.array([30.83, 30.85])
        want_x, want_y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(lon, lat)
        x, y = crs.project_lonlat(lon, lat)
        np.testing.assert_allclose(x, want_x, atol=1e-6)
        np.testing.assert_allclose(y, want_y, atol=1e-6)
        # Round trip through the inverse comes back within a micro-degree.
        back_lon, back_lat = crs.metric_to_lonlat_transformer().transform(x, y)
        np.testing.assert_allclose(back_lon, lon, atol=1e-9)
        np.testing.assert_allclose(back_lat, lat, atol=1e-9)

    def test_distance_agrees_with_geodesic(self):
        x, y = crs.project_lonlat([108.36, 108.37], [30.84, 30.84])
        _, _, geodesic_m = GEOD.inv(108.36, 30.84, 108.37, 30.84)
        assert math.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(geodesic_m, rel=1e-3)

    def test_degrees_are_refused(self):
        with pytest.raises(CRSError):
            crs.lonlat_to_metric_transformer("EPSG:4326")
