"""One validation path for route inputs: `validate`, `routes add` and the app's upload give the same message
(findings 7 and 11 of the attack). Every hostile file is generated here, small."""

from __future__ import annotations

import json
import re

import pyproj
import pytest

from geo.cli.main import main
from geo.errors import GeoError
from geo.routes.edits import lines_from_upload
from tests.conftest import folder_digest

PROPS = {"route_id": "R-X", "team_id": "PS-SMB", "team": "申明坝派出所巡逻组", "org_type": "police", "shift": "night"}
GOOD = [[108.36, 30.84], [108.37, 30.845]]
_TO_4545 = pyproj.Transformer.from_crs(4326, 4545, always_xy=True)


def _doc(geometry: dict | str, **top) -> bytes:
    feature = json.dumps({"type": "Feature", "properties": PROPS, "geometry": "GEOM"}, ensure_ascii=False)
    geom = geometry if isinstance(geometry, str) else json.dumps(geometry)
    text = json.dumps({"type": "FeatureCollection", **top, "features": ["F"]}, ensure_ascii=False)
    return text.replace('"F"', feature.replace('"GEOM"', geom)).encode("utf-8")


CASES = {
    "one_vertex": (_doc({"type": "LineString", "coordinates": [GOOD[0]]}), "the line has 1 point(s)"),
    "mixed_parts": (_doc({"type": "MultiLineString", "coordinates": [GOOD, []]}), "part 1 of the MultiLineString has 0 point(s)"),
    "infinity": (_doc('{"type": "LineString", "coordinates": [[108.36, 30.84], [Infinity, 30.85]]}'), "infinite coordinate"),
    "deep_nesting": (_doc('{"type": "LineString", "coordinates": ' + "[" * 5000 + "]" * 5000 + "}"), "nested too deeply"),
    "four_d": (_doc({"type": "LineString", "coordinates": [[*GOOD[0], 1, 2], [*GOOD[1], 1, 2]]}), "every point has 4 numbers"),
    "huge_int": (_doc('{"type": "LineString", "coordinates": [[1' + "0" * 400 + ', 30.84], [108.37, 30.85]]}'), "too large a number"),
    "1e308": (_doc({"type": "LineString", "coordinates": [[1e308, 1e308], [1e308, -1e308]]}), "lies outside China"),
    "swapped": (_doc({"type": "LineString", "coordinates": [[30.84, 108.36], [30.845, 108.37]]}), "look swapped"),
    "bogus_crs": (_doc({"type": "LineString", "coordinates": GOOD}, crs={"type": "name", "properties": {"name": "EPSG:99999"}}),
                  "not a known CRS"),
    "out_of_china": (_doc({"type": "LineString", "coordinates": [[2.35, 48.85], [2.36, 48.86]]}), "lies outside China"),
}


def _message(text: str) -> str:
    """The problem without its location (file, feature, route id), so messages of different commands compare."""
    text = re.sub(r"^.*?\.geojson[:,] ", "", text.strip().lstrip("- ").removeprefix("error: "))
    return re.sub(r"^(?:feature \d+(?: \([^)]*\))?(?:, part \d+)?|file): ", "", text)


@pytest.mark.parametrize("case", list(CASES))
def test_same_message_from_validate_routes_add_and_upload(case, data_copy, tmp_path, capsys):
    data, fragment = CASES[case]
    path = tmp_path / "我的路线.geojson"
    path.write_bytes(data)
    before = folder_digest(data_copy)

    assert main(["validate", str(path), "--kind", "routes"]) in (1, 2)
    out = capsys.readouterr()
    validate_text = out.out + out.err
    assert fragment in validate_text and "Traceback" not in validate_text

    assert main(["routes", "add", str(path), "--team-id", "PS-SMB", "--shift", "night", "--save", "--author", "a", "--reason", "r"]) == 2
    add_text = capsys.readouterr().err
    assert fragment in add_text and "Traceback" not in add_text
    assert "我的路线.geojson" in add_text  # the user's file, never a temporary copy

    with pytest.raises(GeoError) as err:
        lines_from_upload("我的路线.geojson", data)
    upload_text = str(err.value)
    assert fragment in upload_text and "我的路线.geojson" in upload_text

    def msg(text):
        return {_message(line) for line in text.splitlines() if fragment in line}

    assert msg(validate_text) == msg(add_text) == msg(upload_text)
    assert folder_digest(data_copy) == before


def test_metres_with_a_crs_member_are_reprojected_not_zero_length(data_copy, tmp_path, capsys):
    metres = [list(_TO_4545.transform(*p)) for p in GOOD]
    data = _doc({"type": "LineString", "coordinates": metres}, crs={"type": "name", "properties": {"name": "EPSG:4545"}})
    (line,) = lines_from_upload("metres.geojson", data)
    assert line.coords[0] == pytest.approx(tuple(GOOD[0]), abs=1e-7)
    path = tmp_path / "metres.geojson"
    path.write_bytes(data)
    assert main(["validate", str(path), "--kind", "routes"]) == 0
    assert main(["routes", "add", str(path), "--team-id", "PS-SMB", "--shift", "night"]) == 0
    capsys.readouterr()


def test_unclosed_ring_and_empty_estates_are_errors(tmp_path, capsys):
    ring = [[108.36, 30.84], [108.37, 30.84], [108.37, 30.85]]
    estate = {"estate_id": "SH-01", "name": "a", "community": "c", "address": "x", "batch_year": 2022}
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": estate, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path = tmp_path / "estates.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["validate", str(path), "--kind", "estates"]) == 1
    assert "ring 0 is not closed" in capsys.readouterr().out
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert main(["validate", str(path), "--kind", "estates"]) == 1
    assert "no estates in it" in capsys.readouterr().out
