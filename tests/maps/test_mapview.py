"""Tests of geo.mapview (the folium map builder) and the `map` subcommand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point

from geo import io
from geo.cli.main import main
from geo.errors import DataFileError
from geo.maps import labels, mapview, offline
from geo.maps.export import write_map
from geo.maps.vector_layer import page_features

DATA = Path(__file__).resolve().parents[1] / "data" / "map"
ROOT = Path(__file__).resolve().parents[2]
GEOD = Geod(ellps="WGS84")
HOSTILE = ("<img src=x onerror=alert(1)>", "<script>alert(3)</script>", "${alert(2)}")
needs_vendor = pytest.mark.skipif(not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists(), reason="assets not vendored (run ./run setup)")


@pytest.fixture
def estates() -> gpd.GeoDataFrame:
    gdf = io.read_estates(DATA / "estates.geojson")
    gdf["status"] = gdf["x_status"]
    gdf["nearest_team_id"] = "TM-X"
    gdf["nearest_distance_m"] = 123.4
    gdf["covering_team_ids"] = "TM-X;TM-P"
    gdf["nearby_team_ids"] = "TM-X;TM-P;TM-S"
    return gdf


@pytest.fixture
def routes() -> gpd.GeoDataFrame:
    return io.read_routes(DATA / "routes.geojson")


def _script(m: folium.Map) -> str:
    """The rendered page with CDN links left in place (only the map's own text matters here)."""
    return m.get_root().render()


def _marker_classes(page: str) -> list[str]:
    return [f["options"]["className"].removeprefix("estate-marker estate-") for f in page_features(page)
            if f["kind"] == "c" and f["options"].get("className", "").startswith("estate-marker ")]


def _has(page: str, text: str) -> bool:
    """Text is in the page as is, or as folium writes it inside JSON (with \\u escapes)."""
    return text in page or json.dumps(text)[1:-1] in page


class TestEscaping:
    def test_safe_text(self):
        assert labels.safe_text('<b a="1">`${x}`\\') == "&lt;b a=&quot;1&quot;&gt;&#96;&#36;{x}&#96;&#92;"
        assert labels.safe_text(None) == ""
        assert labels.safe_text(float("nan")) == ""

    def test_hostile_names_never_reach_the_page_raw(self, estates, routes):
        page = _script(mapview.build_map(estates, routes, notes=["<img src=x onerror=alert(5)>"]))
        for raw in (*HOSTILE, "<img src=x onerror=alert(4)>", "<img src=x onerror=alert(5)>", "`${alert"):
            assert raw not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&lt;img src=x onerror=alert(4)&gt;" in page  # the hostile team name, in the route popup


class TestBuildMap:
    def test_one_marker_per_estate_with_status_class(self, estates, routes):
        page = _script(mapview.build_map(estates, routes))
        assert sorted(_marker_classes(page)) == sorted(estates["status"])

    def test_legend_is_chinese_only_by_default(self, estates, routes):
        page = _script(mapview.build_map(estates, routes))
        legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
        for label in ("图例", "已覆盖", "应延伸覆盖", "盲区", "派出所巡逻路线", "学校保安巡逻路线", "近似", "1公里范围", "覆盖范围"):
            assert label in legend, label
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", legend)), legend  # no English words in Chinese mode

    def test_english_map_has_no_chinese_but_the_data(self, estates, routes):
        page = _script(mapview.build_map(estates, routes, lang="en"))
        legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
        for label in ("Legend", "covered", "gap: no team within 1 km", "police station patrol route", "1 km band", "cover band"):
            assert label in legend, label
        assert not re.search(r"[\u4e00-\u9fff]", legend), legend
        names = set(estates["name"]) | set(routes["team"]) | set(estates["community"]) | set(estates["address"].astype(str))
        rest = page
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(labels.safe_text(name), "")
        # every Chinese character left comes from the basemap's own names (water, roads, labels: proper nouns)
        basemap_names = set(re.findall(r"[\u4e00-\u9fff]+", (ROOT / "data" / "basemap.geojson").read_text(encoding="utf-8")))
        basemap_names |= set(re.findall(r"[\u4e00-\u9fff]+", (ROOT / "data" / "gazetteer.geojson").read_text(encoding="utf-8")))
        left = set(re.findall(r"[\u4e00-\u9fff]+", rest)) - basemap_names
        assert not left, sorted(left)[:20]
        assert "imperial: false" in page

    def test_unknown_language_is_refused(self, estates):
        with pytest.raises(ValueError, match="unknown map language 'fr'"):
            mapview.build_map(estates, lang="fr")

    def test_popup_shows_ledger_fields_distances_and_team_names(self, estates, routes):
        page = _script(mapview.build_map(estates, routes))
        for text in ("测试小区甲", "沙河社区", "测试路1号", "2022", "123 米", "申明坝派出所巡逻组 (TM-P)", "1公里内队伍"):
            assert text in page

    def test_radius_is_written_as_given(self, estates, routes):
        page = _script(mapview.build_map(estates, routes, radius_m=800))
        legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");", page).group(1))
        assert "盲区：800米内无队伍" in legend
        assert "gap: no team within 800 m" in _script(mapview.build_map(estates, routes, radius_m=800, lang="en"))
        for text in ("800米内队伍", "800米范围"):
            assert _has(page, text), text
        for text in ("1公里", "1 km"):
            assert not _has(page, text), text
        bands = mapview.route_bands(routes, radius_m=800)
        rule = bands[bands["band"] == "rule"]
        assert (rule["radius_m"] == 800).all()

    def test_band_layers_follow_the_routes_when_made_again(self, estates, routes):
        # The band layers are reused while the bands are the same (geo.maps.vector_layer): a map of moved routes must
        # draw the moved bands, and a map of the first routes again the first ones.
        def band_rings(routes_):
            page = mapview.build_map(estates, routes_).get_root().render()
            return [f["coords"] for f in page_features(page) if f["kind"] == "p" and "范围" in (f["tooltip"] or "")]

        moved = routes.copy()
        moved["geometry"] = routes.geometry.translate(0.003, 0.0)  # about 290 m east
        first, other, again = band_rings(routes), band_rings(moved), band_rings(routes)
        assert first and again == first
        assert len(other) == len(first) and other != first
        lng = [p[1] for ring in other[0] for p in ring]
        lng0 = [p[1] for ring in first[0] for p in ring]
        assert min(lng) - min(lng0) == pytest.approx(0.003, abs=2e-5)

    def test_default_radius_is_the_setting(self, estates, routes):
        page = _script(mapview.build_map(estates, routes))
        for text in ("1公里内队伍", "1公里范围", "盲区：1公里内无队伍"):
            assert _has(page, text), text

    def test_status_labels_are_the_engines(self):
        from geo.coverage.rule import STATUS_LABELS_ZH

        assert {k: v[0] for k, v in labels.status_style(800).items()} == STATUS_LABELS_ZH

    def test_offline_basemap_has_no_tiles(self, estates, routes):
        page = _script(mapview.build_map(estates, routes))
        assert "L.tileLayer" not in page
        assert _has(page, "天子湖")  # water from data/basemap.geojson
        assert _has(page, labels.safe_text(mapview.OFFLINE_ATTRIBUTION))

    def test_basemap_files_declared_gcj02_are_drawn_in_wgs84(self, estates, tmp_path):
        from geo.crs import wgs84_to_gcj02

        a, b = (108.3601234, 30.8401234), (108.3701234, 30.8451234)
        gcj = [list(wgs84_to_gcj02(*a)), list(wgs84_to_gcj02(*b))]
        road = {"type": "FeatureCollection", "datum": "gcj02",
                "features": [{"type": "Feature", "properties": {"road": "测试路"}, "geometry": {"type": "LineString", "coordinates": gcj}}]}
        gaz = tmp_path / "gaz.geojson"
        gaz.write_text(json.dumps(road), encoding="utf-8")
        page = _script(mapview.build_map(estates, basemap_path=tmp_path / "none.geojson", gazetteer_path=gaz))
        pairs = [(x, y) for f in page_features(page) if f["kind"] == "l" for y, x in f["coords"]]
        assert any(abs(x - a[0]) < 1e-7 and abs(y - a[1]) < 1e-7 for x, y in pairs)
        assert not any(abs(x - gcj[0][0]) < 1e-7 and abs(y - gcj[0][1]) < 1e-7 for x, y in pairs)

    def test_missing_basemap_files_are_skipped(self, estates, tmp_path):
        m = mapview.build_map(estates, basemap_path=tmp_path / "none.geojson", gazetteer_path=tmp_path / "none2.geojson")
        assert len(_marker_classes(_script(m))) == len(estates)

    def test_without_status_markers_are_unknown(self, estates):
        page = _script(mapview.build_map(estates.drop(columns=["status"])))
        assert set(_marker_classes(page)) == {"unknown"}
        assert "未计算" in page

    def test_layers_and_extras(self, estates, routes):
        ext = gpd.GeoDataFrame({"team_id": ["TM-P"], "estate_id": ["T-02"], "length_m": [250.0]},
                               geometry=[LineString([(108.3740, 30.8460), (108.3760, 30.8480)])], crs="EPSG:4326")
        hot = gpd.GeoDataFrame({"cell_id": ["c1"], "category": ["hot"], "count": [7]},
                               geometry=[shapely.box(108.369, 30.841, 108.371, 30.843)], crs="EPSG:4326")
        page = _script(mapview.build_map(estates, routes, extensions=ext, hotspots=hot, heat=[[30.842, 108.37, 2.0]], show_bands=False))
        for name in ("老旧小区", "巡逻路线", "1公里范围", "覆盖范围", "延伸建议", "热点网格（Gi*）", "警情热力", "底图（近似）", "警情密度"):
            assert _has(page, name)
        assert "L.heatLayer" in page
        dashed = [f for f in page_features(page) if f["options"].get("className") == "extension-line"]
        assert len(dashed) == 1 and dashed[0]["options"]["dashArray"] == "8 6"

    def test_hot_cell_tooltip_shows_the_corrected_value(self, estates):
        hot = gpd.GeoDataFrame({"category": ["hot"], "count": [7], "gi_z": [4.1], "q_value": [0.0004]},
                               geometry=[shapely.box(108.369, 30.841, 108.371, 30.843)], crs="EPSG:4326")
        page = _script(mapview.build_map(estates, hotspots=hot, show_bands=False))
        assert _has(page, "q 值（FDR 校正后）") and "&lt; 0.001" in page and not _has(page, "p 值")
        page = _script(mapview.build_map(estates, hotspots=hot, show_bands=False, lang="en"))
        assert _has(page, "q-value (after FDR correction)")

    def test_unknown_basemap_and_missing_key(self, estates):
        with pytest.raises(ValueError, match="unknown basemap"):
            mapview.build_map(estates, basemap="google")
        with pytest.raises(ValueError, match="key"):
            mapview.build_map(estates, basemap="tianditu")

    def test_amap_shifts_overlays_to_gcj02(self, estates):
        page = _script(mapview.build_map(estates, basemap="amap"))
        assert "autonavi.com" in page and "GCJ-02" in page
        row = estates.iloc[0]
        lat, lon = next(f["coords"] for f in page_features(page) if f["options"].get("className", "").startswith("estate-marker"))
        _, _, shift_m = GEOD.inv(row.geometry.x, row.geometry.y, lon, lat)
        assert 400 < shift_m < 600  # GCJ-02 is about 500 m off near Wanzhou
        assert lon > row.geometry.x and lat < row.geometry.y  # east and south


class TestRouteBands:
    @pytest.mark.parametrize("radius_m", [1000.0, 100.0, 30.0])
    def test_band_arcs_stay_within_the_display_tolerance(self, radius_m):
        # Around the end of a line the band is a half circle: every point 1 m (the tolerance) plus a margin inside the
        # radius is in the drawn band, every point a margin beyond it is not, all the way round (measured on the
        # ellipsoid; EPSG:4545's scale at Shahe adds at most 2 cm at 1 km).
        from geo import settings

        line = LineString([(108.360, 30.840), (108.370, 30.840)])
        routes = gpd.GeoDataFrame({"team_id": ["A"], "team": ["甲"], "org_type": ["police"]}, geometry=[line], crs="EPSG:4326")
        bands = mapview.route_bands(routes, radius_m=radius_m, cover_m=radius_m)
        band = bands.geometry.iloc[0]
        tol = settings.display_band_tolerance_m
        for bearing in range(0, 181, 3):  # north, east, south of the east end
            lon, lat, _ = GEOD.fwd(108.370, 30.840, float(bearing), radius_m - tol - 0.05)
            assert band.contains(Point(lon, lat)), bearing
            lon, lat, _ = GEOD.fwd(108.370, 30.840, float(bearing), radius_m + 0.05)
            assert not band.contains(Point(lon, lat)), bearing
        # and no finer than it needs: a chord's middle lies more than a tenth of the tolerance inside the circle somewhere
        inside = [GEOD.fwd(108.370, 30.840, float(b), radius_m - tol / 10)[:2] for b in np.arange(0.0, 180.0, 0.25)]
        assert not all(band.contains(Point(x, y)) for x, y in inside)

    def test_band_edges_match_geodesic_distance(self):
        line = LineString([(108.360, 30.840), (108.380, 30.840)])
        routes = gpd.GeoDataFrame({"team_id": ["A"], "team": ["甲"], "org_type": ["police"]}, geometry=[line], crs="EPSG:4326")
        bands = mapview.route_bands(routes, radius_m=1000.0, cover_m=100.0)
        assert bands.crs.to_epsg() == 4326
        assert sorted(bands["band"]) == ["cover", "rule"]
        rule = bands.loc[bands["band"] == "rule"].geometry.iloc[0]
        cover = bands.loc[bands["band"] == "cover"].geometry.iloc[0]
        for dist, inside_rule, inside_cover in ((990.0, True, False), (1010.0, False, False), (95.0, True, True), (105.0, True, False)):
            lon, lat, _ = GEOD.fwd(108.370, 30.840, 0.0, dist)  # due north of the middle of the line
            assert rule.contains(Point(lon, lat)) is inside_rule, dist
            assert cover.contains(Point(lon, lat)) is inside_cover, dist

    def test_one_row_per_team_and_band(self, routes):
        bands = mapview.route_bands(routes)
        assert len(bands) == 2 * routes["team_id"].nunique()


class TestMapCommand:
    @needs_vendor
    def test_writes_an_offline_page(self, tmp_path, capsys):
        out = tmp_path / "map.html"
        assert main(["map", "--out", str(out), "--estates", str(DATA / "estates.geojson"), "--routes", str(DATA / "routes.geojson")]) == 0
        page = out.read_text(encoding="utf-8")
        assert offline.find_remote_urls(page) == []
        assert len(_marker_classes(page)) == 5
        assert "5 estates" in capsys.readouterr().out

    @needs_vendor
    def test_refuses_a_page_that_needs_the_internet(self, estates, tmp_path):
        m = mapview.build_map(estates)
        folium.TileLayer("OpenStreetMap").add_to(m)
        out = tmp_path / "map.html"
        with pytest.raises(DataFileError, match="not written"):
            write_map(m, out)
        assert not out.exists()

    def test_missing_estates_file(self, tmp_path, capsys):
        assert main(["map", "--out", str(tmp_path / "m.html"), "--estates", str(tmp_path / "none.geojson")]) == 2
        assert "estates" in capsys.readouterr().err
