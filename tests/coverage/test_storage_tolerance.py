"""The rule's distance allowance survives storing positions (geo.settings.distance_tolerance_m, geo.io)."""

import math

import geopandas as gpd
import pyproj
import pytest
import shapely

from geo import io, settings
from geo.coverage.model import CoverageModel

TO_LONLAT = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
TO_METRIC = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe


def stored(x, y):
    """EPSG:4545 metres after a trip through 7-decimal WGS-84, computed here with round(), not geo.io."""
    lon, lat = TO_LONLAT.transform(x, y)
    return TO_METRIC.transform(round(lon, 7), round(lat, 7))


def stored_distance_m(estate_xy, route_xy):
    return shapely.distance(shapely.Point(stored(*estate_xy)), shapely.LineString([stored(*p) for p in route_xy]))


def layout(dx_m, gap_m):
    """A 400 m east-west route and an estate exactly ``gap_m`` north of its middle, in EPSG:4545."""
    route = [(X0 + dx_m, Y0), (X0 + dx_m + 400.0, Y0)]
    estate = (X0 + dx_m + 200.0, Y0 + gap_m)
    return estate, route


def write_and_read(tmp_path, estate, route):
    est = gpd.GeoDataFrame(
        {"estate_id": ["E1"], "name": ["测试小区"], "community": ["凤仙路社区"], "address": ["凤仙路1号"], "batch_year": [2022]},
        geometry=[shapely.Point(estate)],
        crs="EPSG:4545",
    )
    rt = gpd.GeoDataFrame(
        {"route_id": ["R1"], "team_id": ["T1"], "team": ["测试队"], "org_type": ["police"], "shift": ["all"]},
        geometry=[shapely.LineString(route)],
        crs="EPSG:4545",
    )
    io.write_geojson(est, tmp_path / "estates.geojson")
    io.write_geojson(rt, tmp_path / "routes.geojson")
    return io.read_estates(tmp_path / "estates.geojson"), io.read_routes(tmp_path / "routes.geojson")


class TestWorstCase:
    def test_allowance_covers_the_worst_rounding_at_shahe(self):
        # Half a unit of the 7th decimal, in metres of EPSG:4545, at the corners of Shahe's extent.
        half = 0.5 * 10.0 ** -settings.coordinate_precision
        west, south, east, north = settings.shahe_bounds
        worst = 0.0
        for lon, lat in ((west, south), (west, north), (east, south), (east, north)):
            x, y = TO_METRIC.transform(lon, lat)
            xe, ye = TO_METRIC.transform(lon + half, lat)
            xn, yn = TO_METRIC.transform(lon, lat + half)
            east_m, north_m = math.hypot(xe - x, ye - y), math.hypot(xn - x, yn - y)
            # One degree of latitude is about 110.9 km, of longitude 111.3 km x cos(30.84 deg) = 95.6 km.
            assert east_m == pytest.approx(111_320 * math.cos(math.radians(lat)) * half, rel=0.01)
            assert north_m == pytest.approx(110_860 * half, rel=0.01)
            worst = max(worst, 2 * math.hypot(east_m, north_m))  # both ends of a distance move
        assert 0.014 < worst < 0.015
        assert settings.distance_tolerance_m >= worst


class TestWrittenAndReadBack:
    def test_pair_built_at_the_radius_is_nearby_after_storage(self, tmp_path):
        # Pick a placement whose stored distance exceeds the radius by more than the old 1 mm allowance,
        # so the test fails with it; the rounding is computed here independently of geo.io.
        for k in range(200):
            estate, route = layout(0.173 * k, 1000.0)
            d = stored_distance_m(estate, route)
            if d > 1000.001:
                break
        else:  # pragma: no cover - the search always finds one
            pytest.fail("no placement pushed past 1 mm")
        assert shapely.distance(shapely.Point(estate), shapely.LineString(route)) == pytest.approx(1000.0, abs=1e-9)
        assert 1000.001 < d <= 1000.0 + 0.0147
        estates, routes = write_and_read(tmp_path, estate, route)
        table = CoverageModel.from_geodataframes(estates, routes).solve().table()
        assert table.loc[0, "nearby_team_ids"] == "T1"
        assert table.loc[0, "status"] == "coverable"
        assert table.loc[0, "nearest_distance_m"] == pytest.approx(d, abs=1e-4)

    def test_pair_five_centimetres_beyond_is_not_nearby(self, tmp_path):
        for k in range(200):  # the placement that rounds closest, so the allowance is tested hardest
            estate, route = layout(0.173 * k, 1000.05)
            if stored_distance_m(estate, route) < 1000.05 - 0.005:
                break
        estates, routes = write_and_read(tmp_path, estate, route)
        table = CoverageModel.from_geodataframes(estates, routes).solve().table()
        assert table.loc[0, "status"] == "gap"
        assert table.loc[0, "nearby_team_ids"] == ""
