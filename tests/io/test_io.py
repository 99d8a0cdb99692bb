"""Readers, validation and atomic writers of geo.io (hand-made files under tests/data/io)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo import _atomic, io
from geo._validate import check_frame
from geo.errors import DataFileError, SchemaError
from geo.schemas import ESTATES, INCIDENTS, ROUTES

DATA = Path(__file__).parents[1] / "data" / "io"

# Public GCJ-02 formula (a = 6378245.0, ee = 0.00669342162296594323), written out
# here independently of geo.crs so the datum conversion is checked against it.
_A = 6378245.0
_EE = 0.00669342162296594323


def _public_wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def _estate(fid: str, geometry: dict | None, **extra) -> dict:
    props = {"estate_id": fid, "name": "花园小区", "community": "沙河社区", "address": "沙河路1号", "batch_year": 2022, **extra}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write_doc(path: Path, features: list[dict], **members) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **members, "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def _problems(path, schema=ESTATES, **kwargs) -> list[str]:
    with pytest.raises(SchemaError) as err:
        io.read_features(path, schema, **kwargs)
    return err.value.problems


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def estates_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "estate_id": ["SH-01", "SH-02"],
            "name": ["花园小区", "天子湖小区"],
            "community": ["沙河社区", "申明社区"],
            "address": ["沙河路1号", "天子路2号,附1号"],
            "batch_year": pd.array([2022, 2023], dtype="Int64"),
            "buildings": pd.array([3, None], dtype="Int64"),
            "synthetic": pd.array([True, True], dtype="boolean"),
        },
        geometry=[Point(108.371234567891, 30.840123456789), Polygon([(108.36, 30.84), (108.36, 30.841), (108.361, 30.841), (108.361, 30.84)])],
        crs="EPSG:4326",
    )


class TestGeoJSONReading:
    def test_clean_file_reads_typed(self):
        gdf = io.read_features(DATA / "estates_ok.geojson", ESTATES)
        assert list(gdf["estate_id"]) == ["SH-01", "SH-02"]
        assert gdf.crs.to_epsg() == 4326
        assert gdf["batch_year"].dtype == "Int64"
        assert gdf.loc[1, "x_owner"] == {"单位": "街道"}
        assert gdf.attrs["notices"] == []
        assert gdf.geometry.iloc[0].equals(Point(108.3712345, 30.8401234))

    def test_every_problem_of_a_file_is_reported_at_once(self):
        problems = _problems(DATA / "estates_bad.geojson")
        text = "\n".join(problems)
        assert len(problems) == 11, text
        assert "field 'buildngs': unknown" in text and "did you mean 'buildings'" in text
        assert "feature 3 (SH-04), field 'seq': '二' is not a whole number" in text
        assert "feature 3 (SH-04), field 'name': {'zh': '花园'} is a JSON object, not text" in text
        assert "feature 3 (SH-04), field 'community': missing" in text
        assert "feature 1 (SH-01), field 'batch_year': 2025 is not allowed" in text
        assert "id 'SH-01' is used 2 times (feature 0, feature 1)" in text
        assert "feature 0 (SH-01): latitude and longitude look swapped" in text
        assert "feature 1 (SH-01): coordinate (lon 2.350000, lat 48.850000) lies outside China" in text
        assert "feature 3 (SH-04): geometry is a LineString" in text
        assert "feature 4 (SH-05): has no geometry" in text

    def test_self_intersection_names_reason_and_location(self):
        problems = _problems(DATA / "estates_bad.geojson")
        bowtie = [p for p in problems if p.startswith("feature 2 (SH-03)")]
        # The bow-tie's two diagonals cross at their midpoint, worked out by hand.
        assert bowtie == [bowtie[0]] and "invalid Polygon: Self-intersection at lon 108.365, lat 30.845" in bowtie[0]

    def test_problems_are_sorted_by_feature(self):
        problems = _problems(DATA / "estates_bad.geojson")
        numbers = [int(p.split()[1]) for p in problems if p.startswith("feature ")]
        assert numbers == sorted(numbers)
        assert problems[0].startswith("field 'buildngs'")

    def test_zero_length_lines_and_parts(self):
        problems = _problems(DATA / "routes_zero.geojson", ROUTES)
        assert len(problems) == 2
        assert problems[0].startswith("feature 0 (R1): the line has zero length")
        assert problems[1].startswith("feature 1 (R2), part 1: the line has zero length")

    def test_malformed_json_gives_line_and_column(self):
        with pytest.raises(DataFileError, match=r"malformed JSON at line 3, column 58"):
            io.read_features(DATA / "malformed.geojson", ESTATES)

    @pytest.mark.parametrize("content", [b"", b"  \n\t", b"\xef\xbb\xbf\n"])
    def test_empty_file(self, tmp_path, content):
        path = tmp_path / "e.geojson"
        path.write_bytes(content)
        with pytest.raises(DataFileError, match="the file is empty"):
            io.read_features(path, ESTATES)
        assert path.read_bytes() == content

    def test_utf8_with_bom(self, tmp_path):
        path = tmp_path / "bom.geojson"
        path.write_bytes(b"\xef\xbb\xbf" + (DATA / "estates_ok.geojson").read_bytes())
        assert io.read_features(path, ESTATES)["name"].tolist() == ["花园小区", "天子湖小区"]

    def test_non_utf8_geojson(self, tmp_path):
        path = tmp_path / "gbk.geojson"
        path.write_bytes((DATA / "estates_ok.geojson").read_text(encoding="utf-8").encode("gb18030"))
        with pytest.raises(DataFileError, match="is not UTF-8"):
            io.read_features(path, ESTATES)

    def test_single_feature_is_read_with_a_notice(self, tmp_path):
        path = tmp_path / "one.geojson"
        path.write_text(json.dumps(_estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})), encoding="utf-8")
        gdf = io.read_features(path, ESTATES)
        assert len(gdf) == 1
        assert "single GeoJSON Feature" in gdf.attrs["notices"][0]

    @pytest.mark.parametrize("doc", [[], {"type": "Point", "coordinates": [1, 2]}, {"type": "FeatureCollection"}])
    def test_not_a_feature_collection(self, tmp_path, doc):
        path = tmp_path / "x.geojson"
        path.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(DataFileError, match="not a GeoJSON FeatureCollection"):
            io.read_features(path, ESTATES)

    def test_properties_that_are_not_an_object(self, tmp_path):
        feat = _estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})
        feat["properties"] = ["SH-01"]
        problems = _problems(_write_doc(tmp_path / "p.geojson", [feat]))
        assert problems[0] == "feature 0: 'properties' is list, not a JSON object; write it as {\"name\": value, ...}"

    def test_unbuildable_and_empty_geometry(self, tmp_path):
        feats = [
            _estate("SH-01", {"type": "Polygon", "coordinates": [[[108.37, 30.84], [108.38, 30.84]]]}),
            _estate("SH-02", {"type": "Point", "coordinates": []}),
            _estate("SH-03", {"type": "Point", "coordinates": [108.37, float("nan")]}),
        ]
        problems = _problems(_write_doc(tmp_path / "g.geojson", feats))
        assert problems[0].startswith("feature 0: ring 0 is not closed")
        assert problems[1].startswith("feature 1 (SH-02): has an empty geometry")
        assert problems[2].startswith("feature 2 (SH-03): geometry has a missing (NaN) or infinite coordinate")

    def test_declared_gcj02_is_converted_and_said(self, tmp_path):
        wgs = (108.3712345, 30.8401234)
        gcj = _public_wgs84_to_gcj02(*wgs)
        assert abs(gcj[0] - wgs[0]) > 1e-3  # the offset is real here (hundreds of metres)
        path = _write_doc(tmp_path / "gcj.geojson", [_estate("SH-01", {"type": "Point", "coordinates": list(gcj)})], datum="gcj02")
        gdf = io.read_features(path, ESTATES)
        got = gdf.geometry.iloc[0]
        assert abs(got.x - wgs[0]) < 1e-7 and abs(got.y - wgs[1]) < 1e-7
        assert any("declared GCJ02 and converted to WGS-84" in n for n in gdf.attrs["notices"])

    def test_public_formula_matches_published_vector(self):
        # Shanghai test vector quoted in DOMAIN.md (WGS-84 -> GCJ-02).
        lon, lat = _public_wgs84_to_gcj02(121.5272106, 31.1774276)
        assert abs(lon - 121.531541859215) < 1e-9 and abs(lat - 31.17530398364597) < 1e-9

    def test_datum_argument_conflicting_with_file(self, tmp_path):
        path = _write_doc(tmp_path / "gcj.geojson", [_estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})], datum="gcj02")
        problems = _problems(path, datum="wgs84")
        assert problems == [
            "file: declares datum gcj02 but wgs84 was asked for; remove the file's datum member/column or ask for the datum it declares"
        ]
        assert io.read_features(path, ESTATES, datum="GCJ-02").attrs["notices"]

    def test_unknown_declared_datum_is_a_problem(self, tmp_path):
        path = _write_doc(tmp_path / "d.geojson", [_estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})], datum="xian80")
        assert _problems(path)[0].startswith("file: declared datum: unknown datum 'xian80'")

    def test_crs_member_of_a_projected_crs_is_reprojected(self, tmp_path):
        import pyproj

        x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(108.3712345, 30.8401234)
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}
        path = _write_doc(tmp_path / "m.geojson", [_estate("SH-01", {"type": "Point", "coordinates": [x, y]})], crs=crs)
        gdf = io.read_features(path, ESTATES)
        assert gdf.geometry.iloc[0].distance(Point(108.3712345, 30.8401234)) < 1e-8
        assert "reprojected to WGS-84" in gdf.attrs["notices"][0] and "EPSG:4545" in gdf.attrs["notices"][0]

    def test_crs_member_naming_unknown_crs(self, tmp_path):
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
        path = _write_doc(tmp_path / "m.geojson", [_estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})], crs=crs)
        assert _problems(path) == [
            "file: 'crs' member names 'urn:ogc:def:crs:EPSG::999999', which is not a known CRS; "
            "RFC 7946 GeoJSON is WGS-84 lon/lat: reproject to EPSG:4326 and drop the member"
        ]

    def test_crs84_member_is_accepted(self, tmp_path):
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
        path = _write_doc(tmp_path / "m.geojson", [_estate("SH-01", {"type": "Point", "coordinates": [108.37, 30.84]})], crs=crs)
        assert io.read_features(path, ESTATES).attrs["notices"] == []

    def test_missing_file_and_folder(self, tmp_path):
        with pytest.raises(DataFileError, match="no such file"):
            io.read_features(tmp_path / "nope.geojson", ESTATES)
        with pytest.raises(DataFileError, match="is a folder"):
            io.read_features(tmp_path, ESTATES)
        other = tmp_path / "x.kml"
        other.write_text("<kml/>", encoding="utf-8")
        with pytest.raises(DataFileError, match=r"unsupported file type '\.kml'"):
            io.read_features(other, ESTATES)


class TestTables:
    def test_clean_csv_with_full_width_coordinates(self):
        gdf = io.read_features(DATA / "estates_ok.csv", ESTATES)
        assert gdf.geometry.iloc[1].equals(Point(108.365, 30.841))
        assert gdf.loc[1, "address"] == "天子路2号,附1号"
        assert gdf["synthetic"].tolist() == [True, True]

    def test_half_broken_rows_each_reported_with_spreadsheet_row(self):
        problems = _problems(DATA / "estates_rows.csv")
        # Row numbers counted by hand in the file: header = row 1, the blank line is row 5.
        assert problems == [
            "row 4 (SH-03), field '纬度': 'abc' is not a number of degrees; give decimal degrees such as 108.3712",
            "row 6: has 9 cells but the header has 8; a comma inside a value needs quotes",
            "row 7 (SH-05), field 'name': missing; every estates feature needs estate name as printed (老旧小区名称); several rows may share it",
            "row 7 (SH-05), field 'batch_year': '二〇二二' is not a whole number; expected a whole number",
            "row 8 (SH-06): latitude and longitude look swapped (first vertex 30.850000, 108.380000 lies in China only as lat, lon); "
            "GeoJSON and this project put longitude first: swap the two values",
        ]

    @pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-16"])
    def test_encodings_keep_chinese(self, tmp_path, encoding):
        text = (DATA / "estates_ok.csv").read_text(encoding="utf-8")
        path = tmp_path / "t.csv"
        path.write_bytes(text.encode(encoding))
        gdf = io.read_features(path, ESTATES)
        assert gdf["name"].tolist() == ["花园小区", "天子湖小区"]
        assert gdf["community"].tolist() == ["沙河社区", "申明社区"]

    def test_detect_encoding_sample_cut_inside_a_character(self, tmp_path):
        path = tmp_path / "long.csv"
        path.write_bytes(("名" * 400).encode("utf-8"))  # 1200 bytes; a 1000-byte sample ends mid-character
        assert io.detect_encoding(path, sample_bytes=1000) == "utf-8"
        path.write_bytes(("名" * 400).encode("gb18030"))
        assert io.detect_encoding(path, sample_bytes=999) == "gb18030"

    def test_tab_separated(self, tmp_path):
        text = (DATA / "estates_ok.csv").read_text(encoding="utf-8").replace('"天子路2号,附1号"', "天子路2号附1号").replace(",", "\t")
        path = tmp_path / "t.txt"
        path.write_text(text, encoding="utf-8")
        assert io.read_features(path, ESTATES)["address"].tolist() == ["沙河路1号", "天子路2号附1号"]

    def test_excel_with_chinese_headers(self, tmp_path):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["estate_id", "name", "community", "address", "batch_year", "经度", "纬度", "remarks"])
        ws.append(["SH-01", "花园小区", "沙河社区", "沙河路1号", 2022, 108.3712345, 30.8401234, "无门禁"])
        ws.append([None] * 8)
        ws.append(["SH-02", "天子湖小区", "申明社区", "天子路2号", "2023", "１０８．３６５", "３０．８４１", None])
        ws.append(["SH-03", "玉城小区", "玉城社区", "玉城路3号", 2024, 108.37, None, None])
        path = tmp_path / "estates.xlsx"
        wb.save(path)
        problems = _problems(path)
        assert problems == ["row 5 (SH-03), field '纬度': is empty; give decimal degrees such as 108.3712"]
        ws.delete_rows(5)
        wb.save(path)
        gdf = io.read_features(path, ESTATES)
        assert gdf["name"].tolist() == ["花园小区", "天子湖小区"]
        assert gdf["batch_year"].tolist() == [2022, 2023]
        assert gdf.geometry.iloc[0].equals(Point(108.3712345, 30.8401234))
        assert gdf.geometry.iloc[1].equals(Point(108.365, 30.841))

    def test_not_an_excel_file(self, tmp_path):
        path = tmp_path / "fake.xlsx"
        path.write_text("estate_id\nSH-01\n", encoding="utf-8")
        with pytest.raises(DataFileError, match=r"cannot be read as an Excel \.xlsx workbook"):
            io.read_table(path)

    def test_table_without_coordinates_reports_with_other_problems(self, tmp_path):
        path = tmp_path / "ledger.csv"
        path.write_text("estate_id,name,community,address,batch_year,color\nSH-01,花园小区,沙河社区,沙河路1号,2022,red\n", encoding="utf-8")
        problems = _problems(path)
        assert len(problems) == 2
        assert problems[0].startswith("file: no coordinate columns: add 'lon' and 'lat' (or 经度 and 纬度)")
        assert problems[1].startswith("field 'color': unknown")

    def test_header_problems(self, tmp_path):
        path = tmp_path / "h.csv"
        path.write_text("estate_id,name,name,,lon,lat\nSH-01,a,b,c,108.37,30.84\n", encoding="utf-8")
        with pytest.raises(SchemaError) as err:
            io.read_table(path)
        assert err.value.problems == [
            "column C: the name 'name' is already used by column B; give each column its own name",
            "column D: has values but no name in the header row (row 1); give it one",
        ]

    def test_datum_column(self, tmp_path):
        wgs = (108.3712345, 30.8401234)
        gcj = _public_wgs84_to_gcj02(*wgs)
        path = tmp_path / "gcj.csv"
        path.write_text(
            f"estate_id,name,community,address,batch_year,lon,lat,datum\nSH-01,花园小区,沙河社区,沙河路1号,2022,{gcj[0]!r},{gcj[1]!r},GCJ-02\n",
            encoding="utf-8",
        )
        gdf = io.read_features(path, ESTATES)
        assert abs(gdf.geometry.iloc[0].x - wgs[0]) < 1e-7 and abs(gdf.geometry.iloc[0].y - wgs[1]) < 1e-7
        assert "datum" not in gdf.columns

    def test_mixed_and_unknown_datums(self, tmp_path):
        path = tmp_path / "mixed.csv"
        path.write_text(
            "estate_id,name,community,address,batch_year,lon,lat,datum\n"
            "SH-01,a,b,c,2022,108.37,30.84,gcj02\nSH-02,a,b,c,2022,108.37,30.84,wgs84\nSH-03,a,b,c,2022,108.37,30.84,beijing54\n",
            encoding="utf-8",
        )
        problems = _problems(path)
        assert problems[0] == "field 'datum': the file mixes datums (gcj02 in rows 2; wgs84 in rows 3); split it into one file per datum"
        assert problems[1].startswith("row 4, field 'datum': unknown datum 'beijing54'")

    def test_empty_csv(self, tmp_path):
        path = tmp_path / "e.csv"
        path.write_bytes(b"")
        with pytest.raises(DataFileError, match="the file is empty"):
            io.read_features(path, ESTATES)


class TestGeoPackage:
    def test_read_gpkg_written_with_pyogrio(self, tmp_path):
        import pyogrio

        src = io.read_features(DATA / "estates_ok.geojson", ESTATES)
        path = tmp_path / "estates.gpkg"
        pyogrio.write_dataframe(src.drop(columns=["x_owner"]), path, layer="estates")
        gdf = io.read_features(path, ESTATES)
        assert gdf["name"].tolist() == ["花园小区", "天子湖小区"]
        assert gdf["batch_year"].tolist() == [2022, 2023]
        assert gdf.geometry.iloc[0].equals(src.geometry.iloc[0])

    def test_projected_gpkg_is_reprojected_with_notice(self, tmp_path):
        src = io.read_features(DATA / "estates_ok.geojson", ESTATES).drop(columns=["x_owner"])
        path = tmp_path / "metric.gpkg"
        src.to_crs("EPSG:4545").to_file(path, layer="estates", engine="pyogrio")
        gdf = io.read_features(path, ESTATES)
        assert gdf.geometry.iloc[0].distance(src.geometry.iloc[0]) < 1e-8
        assert "reprojected to WGS-84" in gdf.attrs["notices"][0]

    def test_gpkg_problems_are_reported(self, tmp_path):
        bad = gpd.GeoDataFrame({"incident_id": ["A", "A"], "time": ["2023-01-01T20:00", None]}, geometry=[Point(108.37, 30.84), Point(30.84, 108.37)], crs="EPSG:4326")
        path = tmp_path / "inc.gpkg"
        bad.to_file(path, engine="pyogrio")
        text = "\n".join(_problems(path, INCIDENTS))
        assert "id 'A' is used 2 times" in text and "feature 1 (A): latitude and longitude look swapped" in text
        assert "feature 0 (A), field 'category': missing" in text

    def test_not_a_gpkg(self, tmp_path):
        path = tmp_path / "x.gpkg"
        path.write_text("not a database", encoding="utf-8")
        with pytest.raises(DataFileError, match="cannot be read as a GeoPackage"):
            io.read_features(path, ESTATES)


class TestRoundTrip:
    def test_write_then_read_gives_same_data(self, tmp_path, estates_gdf):
        path = io.write_geojson(estates_gdf, tmp_path / "out.geojson", metadata={"synthetic": True, "note": "虚构位置"})
        back = io.read_features(path, ESTATES)
        assert back["estate_id"].tolist() == ["SH-01", "SH-02"]
        assert back["address"].tolist() == ["沙河路1号", "天子路2号,附1号"]
        assert back["buildings"].tolist()[0] == 3 and pd.isna(back["buildings"].tolist()[1])
        assert back.geometry.iloc[0].equals(Point(108.3712346, 30.8401235))
        assert back.geometry.iloc[1].equals(estates_gdf.geometry.iloc[1])

    def test_file_layout(self, tmp_path, estates_gdf):
        path = io.write_geojson(estates_gdf, tmp_path / "out.geojson", metadata={"synthetic": True, "note": "虚构位置"})
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc["type"] == "FeatureCollection" and doc["synthetic"] is True and doc["note"] == "虚构位置"
        assert "花园小区" in text and "\\u" not in text
        lines = text.splitlines()
        feature_lines = [ln for ln in lines if ln.startswith('{"type":"Feature"')]
        assert len(feature_lines) == len(estates_gdf) == len(doc["features"])
        for ln in feature_lines:
            json.loads(ln.rstrip(","))
        for x, y in shapely.get_coordinates(shapely.from_geojson(json.dumps(doc))):
            assert round(x, 7) == x and round(y, 7) == y

    def test_polygons_are_written_counter_clockwise(self, tmp_path, estates_gdf):
        assert not estates_gdf.geometry.iloc[1].exterior.is_ccw  # the fixture's ring is clockwise
        path = io.write_geojson(estates_gdf, tmp_path / "out.geojson")
        ring = json.loads(path.read_text(encoding="utf-8"))["features"][1]["geometry"]["coordinates"][0]
        assert shapely.LinearRing(ring).is_ccw

    def test_projected_input_is_written_in_wgs84(self, tmp_path, estates_gdf):
        path = io.write_geojson(estates_gdf.to_crs("EPSG:4545"), tmp_path / "out.geojson")
        back = io.read_features(path, ESTATES)
        assert back.geometry.iloc[0].distance(Point(108.3712346, 30.8401235)) < 2e-7

    def test_empty_frame(self, tmp_path, estates_gdf):
        path = io.write_geojson(estates_gdf.iloc[:0], tmp_path / "out.geojson")
        assert json.loads(path.read_text(encoding="utf-8"))["features"] == []

    def test_reserved_metadata_members_are_refused(self, tmp_path, estates_gdf):
        with pytest.raises(DataFileError, match="may not set the member"):
            io.write_geojson(estates_gdf, tmp_path / "out.geojson", metadata={"type": "Feature"})
        assert list(tmp_path.iterdir()) == []


class TestAtomicWrites:
    @pytest.fixture
    def existing(self, tmp_path, estates_gdf) -> Path:
        path = io.write_geojson(estates_gdf, tmp_path / "estates.geojson")
        return path

    def _assert_unchanged(self, folder: Path, before: dict[str, bytes]):
        assert _snapshot(folder) == before  # same bytes, and no temporary file left

    def test_unserialisable_value_leaves_file_alone(self, existing, estates_gdf):
        before = _snapshot(existing.parent)
        bad = estates_gdf.assign(x_blob=[object(), None])
        with pytest.raises(DataFileError, match=r"feature 0, column 'x_blob': a object has no JSON form"):
            io.write_geojson(bad, existing)
        self._assert_unchanged(existing.parent, before)

    def test_infinite_value_and_nan_coordinate(self, existing, estates_gdf):
        before = _snapshot(existing.parent)
        with pytest.raises(DataFileError, match="infinite"):
            io.write_geojson(estates_gdf.assign(x_len=[1.0, float("inf")]), existing)
        nan_geom = estates_gdf.set_geometry([Point(108.37, 30.84), Point(float("nan"), 30.84)], crs="EPSG:4326")
        with pytest.raises(DataFileError, match="feature 1: its geometry has a NaN"):
            io.write_geojson(nan_geom, existing)
        self._assert_unchanged(existing.parent, before)

    def test_failing_rename_leaves_file_alone(self, existing, estates_gdf, monkeypatch):
        before = _snapshot(existing.parent)

        def broken_replace(src, dst):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(_atomic.os, "replace", broken_replace)
        with pytest.raises(DataFileError, match=r"cannot be replaced \(No space left on device\); the old file was left as it was"):
            io.write_geojson(estates_gdf.iloc[:1], existing)
        self._assert_unchanged(existing.parent, before)

    def test_exception_inside_the_writer_body(self, existing):
        before = _snapshot(existing.parent)
        with pytest.raises(RuntimeError, match="boom"), io.atomic_writer(existing) as fh:
            fh.write('{"type": "FeatureCollection", "features": [')
            raise RuntimeError("boom")
        self._assert_unchanged(existing.parent, before)

    def test_failing_fsync_in_table_writer(self, tmp_path, monkeypatch):
        path = tmp_path / "t.csv"
        io.write_table(pd.DataFrame({"a": ["原来"]}), path)
        before = _snapshot(tmp_path)

        def broken_fsync(fd):
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(_atomic.os, "fsync", broken_fsync)
        with pytest.raises(OSError, match="Input/output error"):
            io.write_table(pd.DataFrame({"a": ["新的"]}), path)
        self._assert_unchanged(tmp_path, before)

    def test_new_file_mode_follows_umask_and_existing_mode_is_kept(self, tmp_path):
        new = tmp_path / "n.txt"
        io.atomic_write(new, "x")
        mask = os.umask(0o022)
        os.umask(mask)
        assert new.stat().st_mode & 0o777 == 0o666 & ~mask
        os.chmod(new, 0o600)
        io.atomic_write(new, "y")
        assert new.stat().st_mode & 0o777 == 0o600 and new.read_text() == "y"

    def test_writing_onto_a_folder(self, tmp_path):
        with pytest.raises(DataFileError, match="is a folder"):
            io.atomic_write(tmp_path, "x")


class TestWriteTable:
    def test_csv_has_bom_and_rereads(self, tmp_path):
        df = pd.DataFrame({"estate_id": ["SH-01", "SH-02"], "name": ["花园小区", "天子湖小区"], "address": ["沙河路1号", "a,b \"c\""]})
        path = io.write_table(df, tmp_path / "t.csv")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        back = io.read_table(path)
        assert back.attrs["encoding"] == "utf-8-sig"
        pd.testing.assert_frame_equal(back, df, check_dtype=False)

    def test_csv_line_breaks_inside_cells_stay_in_their_cell(self, tmp_path):
        import csv

        df = pd.DataFrame({"estate_id": ["SH-01", "SH-02", "SH-03"], "remarks": ["门禁\r损坏", "消防\n通道", "无"]})
        path = io.write_table(df, tmp_path / "t.csv")
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows == [["estate_id", "remarks"], ["SH-01", "门禁\r损坏"], ["SH-02", "消防\n通道"], ["SH-03", "无"]]

    def test_xlsx_round_trip(self, tmp_path):
        df = pd.DataFrame({"estate_id": ["SH-01", "SH-02"], "经度": ["108.3712345", "108.37"], "备注": ["无门禁", None]})
        path = io.write_table(df, tmp_path / "t.xlsx")
        back = io.read_table(path)
        assert back.columns.tolist() == ["estate_id", "经度", "备注"]
        assert back["备注"].tolist()[0] == "无门禁" and pd.isna(back["备注"].tolist()[1])
        assert back["经度"].tolist() == ["108.3712345", "108.37"]

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_geodataframe_round_trip_through_a_table(self, tmp_path, estates_gdf, suffix):
        points = estates_gdf.iloc[:1]
        back = io.read_features(io.write_table(points, tmp_path / f"p{suffix}"), ESTATES)
        assert back.geometry.iloc[0].equals(Point(108.3712346, 30.8401235))
        both = io.read_features(io.write_table(estates_gdf, tmp_path / f"g{suffix}"), ESTATES)
        assert both.geometry.iloc[1].equals(estates_gdf.geometry.iloc[1])
        assert both["name"].tolist() == ["花园小区", "天子湖小区"]

    def test_illegal_excel_character_leaves_file_alone(self, tmp_path):
        path = io.write_table(pd.DataFrame({"a": ["ok"]}), tmp_path / "t.xlsx")
        before = _snapshot(tmp_path)
        table = pd.DataFrame({"a": ["ok", "bad\x01"], "b": ["x" * 40000, "ok"]})
        with pytest.raises(SchemaError, match="cannot be written as Excel") as err:
            io.write_table(table, path)
        assert err.value.problems == [
            "cell A3 (column 'a'): has a control character Excel cannot hold; remove it",
            "cell B2 (column 'b'): 40000 characters, more than Excel's 32767; write CSV instead",
        ]
        assert _snapshot(tmp_path) == before

    @staticmethod
    def _risky():
        names = ["=HYPERLINK(\"http://x\",\"a\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "花园小区", "a=b", None]
        return pd.DataFrame({"team": names, "delta_m": [-5.0, 1.0, -2.5, 3.0, 0.0, -1.0, 2.0, 4.0, 5.0]})

    def test_csv_text_cells_never_start_a_formula(self, tmp_path):
        import csv

        df = self._risky()
        df = df[df["team"] != "\rCR"]  # a bare CR inside a CSV cell is not quoted by pandas: a separate problem
        path = io.write_table(df, tmp_path / "t.csv")
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        teams = [r[0] for r in rows]
        assert teams[:5] == ["'=HYPERLINK(\"http://x\",\"a\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tTAB"]
        assert teams[5:] == ["花园小区", "a=b", ""]
        assert [r[1] for r in rows] == ["-5.0", "1.0", "-2.5", "3.0", "0.0", "2.0", "4.0", "5.0"]
        assert df["team"].iloc[0].startswith("=")  # the caller's frame is left as it was

    def test_xlsx_text_cells_are_text_and_numbers_numbers(self, tmp_path):
        import openpyxl

        path = io.write_table(self._risky(), tmp_path / "t.xlsx")
        sheet = openpyxl.load_workbook(path).active
        teams = [sheet.cell(row=r, column=1) for r in range(2, 11)]
        assert all(c.data_type != "f" for c in teams)
        assert [c.value for c in teams[:4]] == ["'=HYPERLINK(\"http://x\",\"a\")", "'+1+2", "'-2+3", "'@SUM(A1)"]
        assert teams[6].value == "花园小区"
        deltas = [sheet.cell(row=r, column=2).value for r in range(2, 11)]
        assert deltas[0] == -5.0 and all(isinstance(v, float | int) for v in deltas)

    def test_unsupported_suffix(self, tmp_path):
        with pytest.raises(DataFileError, match="unsupported table type"):
            io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.ods")


class TestCheckFrameScale:
    def test_large_clean_and_sparse_bad_inputs(self):
        # 20,000 features keep the suite quick; the vectorised path is what 100k uses.
        n = 20_000
        rng = np.random.default_rng(7)
        xs, ys = rng.uniform(108.35, 108.39, n), rng.uniform(30.83, 30.86, n)
        props = [{"incident_id": f"I{i}", "time": "2023-01-01T20:00", "category": "theft", "source": "110"} for i in range(n)]
        geoms = list(shapely.points(xs, ys))
        problems, gdf = check_frame(props, geoms, INCIDENTS, broken=object())
        assert problems == [] and len(gdf) == n
        geoms[123] = Point(ys[123], xs[123])
        geoms[4567] = Point(0.0, 0.0)
        geoms[9999] = LineString([(108.36, 30.84), (108.37, 30.85)])
        props[15000] = {**props[15000], "incident_id": "I0"}
        problems, gdf = check_frame(props, geoms, INCIDENTS, broken=object())
        assert gdf is None and len(problems) == 4
        assert "feature 123 (I123): latitude and longitude look swapped" in problems[1]
        assert "feature 4567 (I4567): coordinate (lon 0.000000, lat 0.000000) lies outside China" in problems[2]
        assert "feature 9999 (I9999): geometry is a LineString" in problems[3]
        assert problems[0].startswith("field 'incident_id': id 'I0' is used 2 times (feature 0, feature 15000)")


class TestSources:
    """Readers take a path, bytes or a binary file object; messages name the user's file."""

    def test_bytes_and_file_objects_read_like_the_path(self):
        import io as stdio

        want = io.read_estates(DATA / "estates_ok.geojson")
        raw = (DATA / "estates_ok.geojson").read_bytes()
        from_bytes = io.read_estates(raw, name="upload.geojson")
        from_file = io.read_estates(stdio.BytesIO(raw), name="upload.geojson")
        for got in (from_bytes, from_file):
            assert list(got["estate_id"]) == list(want["estate_id"])
            assert got.geometry.geom_equals(want.geometry).all()
            assert got.attrs["source"] == "upload.geojson"

    def test_a_bad_upload_is_named_by_its_file_name(self):
        with pytest.raises(SchemaError) as err:
            io.read_estates((DATA / "estates_bad.geojson").read_bytes(), name="我的小区.geojson")
        assert err.value.summary.startswith("我的小区.geojson:")
        assert "tmp" not in str(err.value)

    def test_tables_detect_tabs_from_bytes(self):
        text = "estate_id\tname\tlon\tlat\nA-1\t甲\t108.37\t30.84\n"
        df = io.read_table(text.encode("gb18030"), name="台账.txt")
        assert list(df.columns) == ["estate_id", "name", "lon", "lat"] and df.loc[0, "name"] == "甲"
        assert df.attrs["encoding"] == "gb18030"

    def test_gpx_bytes_name_the_upload(self):
        from geo.routes.load import read_gpx

        with pytest.raises(DataFileError, match=r"^track\.gpx: not a readable GPX file"):
            read_gpx(b"<gpx><trk>", name="track.gpx", team_id="T", team="t", org_type="police")


class TestBulkReading:
    """The bulk paths of reading give what the per-feature paths gave (geometries, values and messages)."""

    RAW = (
        {"type": "Point", "coordinates": [108.37, 30.84]},
        {"type": "Point", "coordinates": [108, 31]},
        {"type": "Point", "coordinates": [108.37, 30.84, 250.0]},
        {"type": "Point", "coordinates": ["108.37", 30.84]},
        {"type": "Point", "coordinates": [True, 30.84]},
        {"type": "Point", "coordinates": []},
        {"type": "LineString", "coordinates": [[108.37, 30.84], [108.38, 30.85], [108.39, 30.85]]},
        {"type": "LineString", "coordinates": [[108.37, 30.84]]},
        {"type": "LineString", "coordinates": [[108.37, 30.84], [108.38]]},
        {"type": "LineString", "coordinates": []},
        {"type": "LineString", "coordinates": [[108.37, 30.84], [float("nan"), 30.85]]},
        {"type": "MultiLineString", "coordinates": [[[108.37, 30.84], [108.38, 30.85]]]},
        {"type": "Polygon", "coordinates": [[[108.37, 30.84], [108.38, 30.84], [108.38, 30.85], [108.37, 30.84]]]},
        {"type": "Circle", "coordinates": [108.37, 30.84]},
        {"coordinates": [108.37, 30.84]},
        "POINT (108.37 30.84)",
        None,
    )

    def test_geometries_and_problems_equal_those_built_one_by_one(self):
        from geo._validate import geometry_from_geojson
        from geo.io.features import BROKEN, build_geometries

        locations = [f"feature {i}" for i in range(len(self.RAW))]
        want_geoms, want_problems = [], []
        for where, g in zip(locations, self.RAW, strict=True):
            if g is None:
                want_geoms.append(None)
                continue
            geom, problem = geometry_from_geojson(g, where)  # the reference: the one-by-one builder every reader shares
            if problem is not None:
                want_problems.append(problem)
                geom = BROKEN
            want_geoms.append(geom)
        problems: list[str] = []
        got = build_geometries(list(self.RAW), locations, problems)
        assert problems == want_problems and len(want_problems) >= 3
        for i, (a, b) in enumerate(zip(got, want_geoms, strict=True)):
            if b is None or b is BROKEN:
                assert a is b, i
            else:
                assert a.geom_type == b.geom_type and a.wkt == b.wkt and a.has_z == b.has_z, i

    @pytest.mark.parametrize(
        ("field", "values"),
        [
            ("batch_year", [2022, 2023.0, "2024", 2021, True, 2022.5, "二〇二二", "２０２３"]),
            ("buildings", [3, 0, -1, 3.0, 2.5, False, "7", float("nan"), float("inf")]),
            ("synthetic", [True, False, 1, 0, 2, "yes", "否", "maybe", 1.0]),
            ("name", ["  甲  ", "", " ", 12, 12.0, 12.5, True]),
        ],
    )
    def test_values_typed_and_reported_as_the_slow_helpers_do(self, field, values):
        from geo._validate import KIND_WORDS, coerce, is_blank

        spec = ESTATES.field_index[field]
        base = {"estate_id": "E1", "name": "甲", "community": "社区", "address": "路1号", "batch_year": 2022}
        for value in values:
            props = [{**base, field: value}]
            problems, gdf = check_frame(props, [Point(108.37, 30.84)], ESTATES, broken=object())
            label = "feature 0 (E1)"
            if is_blank(value):
                want = [f"{label}, field '{field}': missing; every estates feature needs {spec.description}"] if spec.required else []
                assert problems == want, value
                continue
            try:
                typed = coerce(value, spec.kind)
            except ValueError as exc:
                assert problems == [f"{label}, field '{field}': {value!r} {exc}; expected {KIND_WORDS[spec.kind]}"], value
                continue
            if spec.choices is not None and typed not in spec.choices:
                assert problems == [f"{label}, field '{field}': {typed!r} is not allowed; use one of {', '.join(map(str, spec.choices))}"]
                continue
            assert problems == [], value
            got = gdf[field].iloc[0]
            assert got == typed and type(got.item() if hasattr(got, "item") else got) is type(typed), (value, got, typed)


def test_column_letters_are_those_of_openpyxl():
    from openpyxl.utils import get_column_letter

    from geo.io.tables import column_letter

    assert [column_letter(i) for i in range(1, 16_385)] == [get_column_letter(i) for i in range(1, 16_385)]


def test_blank_mask_and_text_mask_agree_with_the_cell_rules_on_random_cells():
    """The column forms against is_blank and isinstance(v, str) of each cell."""
    from geo._validate import blank_mask, is_blank, text_mask

    rng = np.random.default_rng(3)
    alphabet = [" ", "\t", "\u3000", "\xa0", "\x1c", "\x00", "a", "安", "\n"]
    kinds = [None, np.nan, pd.NA, pd.NaT, 0.0, 3, True, np.float64("nan"), np.str_(" "), np.str_("x"), b" "]
    cells = [kinds[rng.integers(len(kinds))] if rng.integers(4) == 0 else "".join(rng.choice(alphabet, size=rng.integers(0, 4)))
             for _ in range(5_000)]
    want_blank = [is_blank(v) for v in cells]
    assert 500 < sum(want_blank) < 4_500
    assert blank_mask(np.array(cells, dtype=object)).tolist() == want_blank
    assert text_mask(np.array(cells, dtype=object)).tolist() == [isinstance(v, str) for v in cells]
    assert blank_mask(np.array([], dtype=object)).tolist() == []
