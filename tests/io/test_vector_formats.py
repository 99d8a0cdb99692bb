"""FlatGeobuf and GeoParquet inputs, and bad features in the middle of a large file (every one reported, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geo import io
from geo.errors import DataFileError, SchemaError
from geo.routes.load import load_routes
from geo.schemas import ESTATES

ROOT = Path(__file__).resolve().parents[2]


def _estates() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "estate_id": ["SH-01", "SH-02", "SH-03"],
            "name": ["花园小区", "天子湖小区", "沙河小区"],
            "community": ["沙河社区", "申明社区", "沙河社区"],
            "address": ["沙河路1号", "天子路2号", "沙河路3号"],
            "batch_year": [2022, 2023, 2024],
        },
        geometry=[Point(108.3712, 30.8401), Point(108.3722, 30.8411), Point(108.3732, 30.8421)],
        crs="EPSG:4326",
    )


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        gdf.to_parquet(path)
    elif path.suffix == ".fgb":
        # Without a spatial index GDAL keeps the features in the order given (an index stores them in its own order).
        gdf.to_file(path, engine="pyogrio", SPATIAL_INDEX="NO")
    else:
        gdf.to_file(path, engine="pyogrio")
    return path


@pytest.mark.parametrize("suffix", [".fgb", ".parquet", ".gpkg"])
def test_clean_file_reads_typed(tmp_path, suffix):
    gdf = io.read_features(_write(_estates(), tmp_path / f"estates{suffix}"), ESTATES)
    assert gdf["estate_id"].tolist() == ["SH-01", "SH-02", "SH-03"]
    assert gdf["name"].tolist() == ["花园小区", "天子湖小区", "沙河小区"]
    assert gdf["batch_year"].dtype == "Int64" and gdf["batch_year"].tolist() == [2022, 2023, 2024]
    assert [(p.x, p.y) for p in gdf.geometry] == [(108.3712, 30.8401), (108.3722, 30.8411), (108.3732, 30.8421)]
    assert gdf.crs.to_epsg() == 4326


@pytest.mark.parametrize("suffix", [".fgb", ".parquet"])
def test_problems_are_reported_with_feature_numbers(tmp_path, suffix):
    bad = _estates()
    bad.loc[1, "estate_id"] = "SH-01"
    bad.loc[2, "geometry"] = Point(30.8421, 108.3732)
    bad.loc[0, "batch_year"] = 1999
    with pytest.raises(SchemaError) as err:
        io.read_features(_write(bad, tmp_path / f"bad{suffix}"), ESTATES)
    problems = err.value.problems
    assert problems[0] == "field 'estate_id': id 'SH-01' is used 2 times (feature 0, feature 1); ids must be unique"
    assert problems[1].startswith("feature 0 (SH-01), field 'batch_year': 1999 is not allowed; use one of ")
    assert problems[2].startswith(
        "feature 2 (SH-03): latitude and longitude look swapped (first vertex 30.842100, 108.373200 lies in China only as lat, lon)"
    )
    assert len(problems) == 3


@pytest.mark.parametrize("suffix", [".fgb", ".parquet"])
def test_metric_coordinates_are_reprojected_with_a_notice(tmp_path, suffix):
    src = _estates()
    gdf = io.read_features(_write(src.to_crs("EPSG:4545"), tmp_path / f"metric{suffix}"), ESTATES)
    assert max(a.distance(b) for a, b in zip(gdf.geometry, src.geometry, strict=True)) < 1e-8
    assert "reprojected to WGS-84" in gdf.attrs["notices"][0]


def test_routes_from_geoparquet_and_a_declared_datum_column(tmp_path):
    routes = gpd.GeoDataFrame(
        {"route_id": ["R1"], "team_id": ["T1"], "team": ["巡逻一队"], "org_type": ["police"], "shift": ["all"], "datum": ["gcj02"]},
        geometry=[LineString([(108.37, 30.84), (108.38, 30.85)])],
        crs="EPSG:4326",
    )
    gdf = load_routes(_write(routes, tmp_path / "routes.parquet"))
    assert gdf["route_id"].tolist() == ["R1"]
    assert any("declared GCJ02 and converted to WGS-84" in n for n in gdf.attrs["notices"])
    # GCJ-02 is WGS-84 shifted by a few hundred metres in China (up to about 700 m).
    x0, y0 = gdf.geometry.iloc[0].coords[0]
    shift_m = np.hypot((x0 - 108.37) * 111_320 * np.cos(np.radians(30.84)), (y0 - 30.84) * 110_574)
    assert 100 < shift_m < 1000


def test_parquet_without_geo_metadata_is_refused(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"estate_id": ["SH-01"], "lon": [108.37], "lat": [30.84]}).to_parquet(path)
    with pytest.raises(DataFileError, match="without GeoParquet metadata"):
        io.read_features(path, ESTATES)


def test_not_a_flatgeobuf(tmp_path):
    path = tmp_path / "x.fgb"
    path.write_bytes(b"not a flatgeobuf")
    with pytest.raises(DataFileError, match="cannot be read as a FlatGeobuf file"):
        io.read_features(path, ESTATES)


def _large_with_three_bad(path: Path, n: int) -> tuple[Path, list[int]]:
    """A GeoJSON of ``n`` estates on a grid with three bad features in the middle."""
    feats = []
    for i in range(n):
        lon, lat = 108.30 + (i % 100) * 1e-3, 30.80 + (i // 100) * 1e-3
        props = {"estate_id": f"E{i:05d}", "name": f"小区{i}", "community": "沙河社区", "address": f"沙河路{i}号", "batch_year": 2022}
        feats.append({"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    bad = [n // 2 - 7, n // 2, n // 2 + 11]
    feats[bad[0]]["geometry"]["coordinates"] = feats[bad[0]]["geometry"]["coordinates"][::-1]
    feats[bad[1]]["properties"]["batch_year"] = "二〇二二"
    feats[bad[2]]["properties"]["estate_id"] = "E00000"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return path, bad


def test_three_bad_features_in_a_large_file_are_all_reported(tmp_path):
    path, (a, b, c) = _large_with_three_bad(tmp_path / "estates.geojson", 3000)
    with pytest.raises(SchemaError) as err:
        io.read_features(path, ESTATES)
    assert err.value.problems == [
        f"field 'estate_id': id 'E00000' is used 2 times (feature 0, feature {c}); ids must be unique",
        f"feature {a} (E{a:05d}): latitude and longitude look swapped (first vertex 30.814000, 108.393000 lies in China only as lat, lon); "
        "GeoJSON and this project put longitude first: swap the two values",
        f"feature {b} (E{b:05d}), field 'batch_year': '二〇二二' is not a whole number; expected a whole number",
    ]
    assert str(err.value).startswith(f"{path}: 3 problems in this estates file")


def test_the_coverage_command_writes_nothing_for_a_large_bad_file(tmp_path):
    estates, _ = _large_with_three_bad(tmp_path / "estates.geojson", 3000)
    out = tmp_path / "report.csv"
    done = subprocess.run(
        [sys.executable, "-m", "geo", "coverage", "--estates", str(estates), "--routes", str(ROOT / "data" / "patrol_routes.geojson"),
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert not out.exists()
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert sum("feature 1493" in s or "feature 1500" in s or "feature 1511" in s for s in lines) == 3, done.stderr
    assert np.sum(["lies in China only as lat, lon" in s for s in lines]) == 1
