"""1-3-5 minute response circles on a road whose travel times are worked out by hand."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from geo import io, settings
from geo.cli.main import main as cli_main
from geo.errors import SchemaError
from geo.response import response_times

METRIC = "EPSG:4545"
X0, Y0 = 500_000.0, 3_410_000.0
STREET = settings.response_speed_kmh["street"] * 1000 / 60  # metres per minute
WALK = settings.response_access_speed_kmh * 1000 / 60


def _gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=METRIC).to_crs(settings.storage_crs)


def _roads(classes=("street",)):
    lines = [LineString([(X0, Y0), (X0 + 1000, Y0)]), LineString([(X0 + 5000, Y0), (X0 + 6000, Y0)])][: len(classes)]
    return _gdf(lines, road_class=list(classes), segment_id=[f"S{i}" for i in range(len(classes))])


def test_times_and_tiers_by_hand():
    estates = _gdf([Point(X0 + 300, Y0), Point(X0 + 400, Y0 + 10), Point(X0 + 1000, Y0), Point(X0 + 5500, Y0)],
                   estate_id=["A", "B", "C", "D"], name=["a", "b", "c", "d"])
    posts = _gdf([Point(X0, Y0)], post_id=["P1"], name=["岗亭"], kind=["post"])
    res = response_times(estates, posts, _roads(("street", "street")), metric_crs=METRIC)
    t = res.estates.set_index("estate_id")
    assert t.loc["A", "time_min"] == pytest.approx(300 / STREET, abs=0.01)  # 0.72 min
    assert t.loc["B", "time_min"] == pytest.approx(400 / STREET + 10 / WALK, abs=0.01)  # 0.96 + 0.12
    assert t.loc["C", "time_min"] == pytest.approx(1000 / STREET, abs=0.01)  # 2.4
    assert t["tier"].tolist() == ["1", "3", "3", "none"]
    assert t.loc["D", "post_id"] == "" and bool(t.loc["D", "outside_target"])
    assert res.outside()["estate_id"].tolist() == ["D"]
    assert response_times(estates, posts, _roads(("street", "street")), target_min=1, metric_crs=METRIC).outside()["estate_id"].tolist() == ["D", "C", "B"]


def test_night_keeps_night_posts():
    estates = _gdf([Point(X0 + 1000, Y0)], estate_id=["A"], name=["a"])
    posts = _gdf([Point(X0 + 900, Y0), Point(X0, Y0)], post_id=["DAY", "NIGHT"], name=["d", "n"], kind=["post", "patrol"], shift=["day", "night"])
    assert response_times(estates, posts, _roads(), metric_crs=METRIC).estates["post_id"].tolist() == ["DAY"]
    assert response_times(estates, posts, _roads(), shift="night", metric_crs=METRIC).estates["post_id"].tolist() == ["NIGHT"]


def test_unknown_road_class_is_refused_naming_the_road():
    estates = _gdf([Point(X0 + 300, Y0)], estate_id=["A"], name=["a"])
    posts = _gdf([Point(X0, Y0)], post_id=["P1"], name=["岗亭"], kind=["post"])
    with pytest.raises(SchemaError) as err:
        response_times(estates, posts, _roads(("motorway",)), metric_crs=METRIC)
    assert "feature 0 (S0), field 'road_class': 'motorway' has no speed" in err.value.problems[0]


def test_cli_writes_table_and_layer(tmp_path, capsys):
    out, layer = tmp_path / "response.csv", tmp_path / "circles.geojson"
    rc = cli_main(["response", "--out", str(out), "--layer-out", str(layer)])
    text = capsys.readouterr().out
    assert rc == 0 and "estates per tier" in text and "SYNTHETIC" in text
    table = io.read_table(out)
    assert len(table) == len(io.read_estates())
    assert json.loads(layer.read_text(encoding="utf-8"))["synthetic"] is True


def test_cli_swapped_post_coordinates_write_nothing(tmp_path, capsys):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"post_id": "P1", "name": "岗亭", "kind": "post"},
                                                      "geometry": {"type": "Point", "coordinates": [30.84, 108.37]}}]}
    posts = tmp_path / "posts.geojson"
    posts.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "response.csv"
    rc = cli_main(["response", "--out", str(out), "--posts", str(posts)])
    err = capsys.readouterr().err
    assert rc == 2 and "swapped" in err and not out.exists()
