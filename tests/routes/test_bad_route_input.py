"""Bad route input, one clear message each: wrong datum or place, one point, a polygon, GPX waypoints only, a 50 MB file."""

from __future__ import annotations

import json
from pathlib import Path

import pyproj
import pytest

from geo import io, settings
from geo.cli.main import main
from geo.errors import DataFileError, GeoError, SchemaError
from geo.routes import edits
from tests.conftest import folder_digest

DATA = Path(__file__).resolve().parents[2] / "data"
GEOD = pyproj.Geod(ellps="WGS84")
TO_4545 = pyproj.Transformer.from_crs(4326, 4545, always_xy=True)


@pytest.fixture(scope="module")
def estates():
    return io.read_estates(DATA / "estates.geojson")


def _north_line(estates, north_m: float) -> dict:
    """A 400 m east-west line ``north_m`` metres (geodesic) due north of the northernmost estate."""
    top = estates.geometry.iloc[int(estates.geometry.y.argmax())]
    lon, lat, _ = GEOD.fwd(top.x, top.y, 0.0, north_m)
    west = GEOD.fwd(lon, lat, 270.0, 200.0)
    east = GEOD.fwd(lon, lat, 90.0, 200.0)
    return {"type": "LineString", "coordinates": [[west[0], west[1]], [east[0], east[1]]]}


def _message(exc: GeoError) -> str:
    return str(exc)


def test_a_line_far_outside_shahe_is_refused_with_its_distance(estates):
    # 6 km due north of the northernmost estate: the hull's nearest point is that estate, 6.0 km away.
    lines = edits.lines_from_geojson(json.dumps(_north_line(estates, 6000.0)), source="pasted text")
    with pytest.raises(SchemaError) as err:
        edits.check_lines_near(lines, estates, source="pasted text")
    text = _message(err.value)
    assert "pasted text, line 0: lies 6.0 km from the nearest estate, more than 5 km" in text
    assert "check the datum" in text and "far from Shahe" in err.value.summary


def test_a_line_within_the_offset_is_taken(estates):
    lines = edits.lines_from_geojson(json.dumps(_north_line(estates, 4000.0)), source="pasted text")
    edits.check_lines_near(lines, estates, source="pasted text")  # 4 km <= 5 km: no error
    assert settings.route_max_offset_m == 5000.0


def test_a_line_in_beijing_is_refused(estates):
    lines = edits.lines_from_geojson('{"type": "LineString", "coordinates": [[116.39, 39.90], [116.40, 39.91]]}', source="x.geojson")
    with pytest.raises(SchemaError, match="far from Shahe"):
        edits.check_lines_near(lines, estates, source="x.geojson")


def test_coordinates_in_epsg4545_metres_are_named_as_metres(estates):
    x0, y0 = TO_4545.transform(108.37, 30.84)
    doc = json.dumps({"type": "LineString", "coordinates": [[x0, y0], [x0 + 300.0, y0 + 200.0]]})
    with pytest.raises(SchemaError) as err:
        edits.lines_from_geojson(doc, source="pasted text")
    assert "it looks like metres of a projected system such as EPSG:4545" in str(err.value)
    assert len(err.value.problems) == 1


def test_a_line_of_one_point_is_refused():
    with pytest.raises(SchemaError) as err:
        edits.lines_from_geojson('{"type": "LineString", "coordinates": [[108.37, 30.84]]}', source="pasted text")
    assert err.value.problems == ["pasted text, feature 0: the line has 1 point(s); a line needs at least two different points"]


def test_a_polygon_is_refused():
    ring = [[108.37, 30.84], [108.371, 30.84], [108.371, 30.841], [108.37, 30.84]]
    with pytest.raises(SchemaError) as err:
        edits.lines_from_geojson(json.dumps({"type": "Polygon", "coordinates": [ring]}), source="pasted text")
    assert err.value.problems == ["pasted text, feature 0: geometry is a Polygon; this file takes LineString or MultiLineString"]


def test_gpx_with_only_waypoints_is_refused():
    gpx = (b'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
           b'<wpt lat="30.84" lon="108.37"/><wpt lat="30.845" lon="108.372"/></gpx>')
    with pytest.raises(GeoError, match=r"walk.gpx: the GPX file has no track \(<trk>\) or route \(<rte>\)"):
        edits.lines_from_upload("walk.gpx", gpx)


def test_a_50_mb_upload_is_refused_before_it_is_read():
    size = 50 * 1024 * 1024
    with pytest.raises(DataFileError) as err:
        edits.check_input_size(size, "big.geojson")
    assert str(err.value) == ("big.geojson: 52.4 MB, more than the 5.0 MB a route input may have; "
                              "simplify the lines or split the file")


def test_routes_add_refuses_a_far_line_in_one_line_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("estates.geojson", "patrol_routes.geojson"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    line = tmp_path / "far.geojson"
    line.write_text(json.dumps({"type": "LineString", "coordinates": [[116.39, 39.90], [116.40, 39.91]]}), encoding="utf-8")
    before = folder_digest(folder)
    rc = main(["routes", "add", str(line), "--team-id", "PS-SMB", "--shift", "night", "--routes", str(folder / "patrol_routes.geojson"),
               "--estates", str(folder / "estates.geojson"), "--save", "--author", "a", "--reason", "r"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "far from Shahe" in err and "Traceback" not in err
    assert folder_digest(folder) == before
