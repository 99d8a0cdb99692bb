"""The hostile-input corpus: small broken and malicious files, generated for each test session."""

from __future__ import annotations

import codecs
import json
import random
import zipfile
from pathlib import Path

import pytest

_LINE = {"route_id": "R-X", "team_id": "PS-SMB", "team": "申明坝派出所巡逻组", "org_type": "police", "shift": "night"}


def _collection(geometry_text: str, **top) -> str:
    head = json.dumps({"type": "FeatureCollection", **top})[:-1]
    return head + ', "features": [{"type": "Feature", "properties": ' + json.dumps(_LINE, ensure_ascii=False) + ', "geometry": ' + geometry_text + "}]}"


def build_corpus(folder: Path) -> dict[str, Path]:
    """Write every hostile file into ``folder`` and return them by name."""
    rnd = random.Random(18)
    files: dict[str, bytes | str] = {
        # tables
        "unbalanced_quote.csv": 'estate_id,name,address,lon,lat\nSH-01,"幸福小区,凤仙路1号,108.36,30.85\nSH-02,b,c,108.37,30.85\n',
        "nul_bytes.csv": b"estate_id,name\nSH-01,\x00\x00\x00\x00\x00\x00a\n\x00\x00",
        "binary.csv": bytes(rnd.randrange(256) for _ in range(400)),
        "empty.csv": b"",
        "header_only.csv": "estate_id,name,address,lon,lat\n",
        "formula.csv": 'id,time,category,source,lon,lat,address\n=1+1,=HYPERLINK("http://x"),=cmd|x,110,=1,=2,@SUM(A1)\n',
        "truncated_utf8.csv": "estate_id,name\nSH-01,幸福小区\n".encode()[:-3],
        "garbage.xlsx": bytes(rnd.randrange(256) for _ in range(300)),
        "zip_not_xlsx.xlsx": b"",  # filled below: a zip without a workbook
        # GeoJSON
        "empty.geojson": b"",
        "binary.geojson": bytes(rnd.randrange(256) for _ in range(300)),
        "not_json.geojson": "{this is not json",
        "top_list.geojson": "[1, 2, 3]",
        "no_features.geojson": '{"type": "FeatureCollection", "features": []}',
        "deep.geojson": _collection('{"type": "LineString", "coordinates": ' + "[" * 3000 + "]" * 3000 + "}"),
        "infinity.geojson": _collection('{"type": "LineString", "coordinates": [[108.36, 30.84], [Infinity, 30.85]]}'),
        "huge_int.geojson": _collection('{"type": "LineString", "coordinates": [[1' + "0" * 400 + ", 30.84], [108.37, 30.85]]}"),
        "one_vertex.geojson": _collection('{"type": "LineString", "coordinates": [[108.36, 30.84]]}'),
        "four_d.geojson": _collection('{"type": "LineString", "coordinates": [[108.36, 30.84, 1, 2], [108.37, 30.85, 1, 2]]}'),
        "mixed_parts.geojson": _collection('{"type": "MultiLineString", "coordinates": [[[108.36, 30.84], [108.37, 30.85]], []]}'),
        "swapped.geojson": _collection('{"type": "LineString", "coordinates": [[30.84, 108.36], [30.85, 108.37]]}'),
        "bogus_crs.geojson": _collection('{"type": "LineString", "coordinates": [[108.36, 30.84], [108.37, 30.85]]}',
                                         crs={"type": "name", "properties": {"name": "EPSG:99999"}}),
        "unclosed_ring.geojson": _collection('{"type": "Polygon", "coordinates": [[[108.36, 30.84], [108.37, 30.84], [108.37, 30.85]]]}'),
        "string_coords.geojson": _collection('{"type": "LineString", "coordinates": "108.36,30.84"}'),
        "utf16_geojson.geojson": codecs.BOM_UTF16_LE + _collection('{"type": "Point", "coordinates": [108.36, 30.84]}').encode("utf-16-le"),
        # GPX
        "broken.gpx": "<gpx><trk><trkseg><trkpt lat=",
        "xxe.gpx": '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]><gpx><trk><name>&x;</name></trk></gpx>',
        "laughs.gpx": '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><gpx><trk><name>&c;</name></trk></gpx>',
        "one_point.gpx": '<gpx><trk><trkseg><trkpt lat="30.84" lon="108.36"/></trkseg></trk></gpx>',
    }
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        out[name] = path
    with zipfile.ZipFile(out["zip_not_xlsx.xlsx"], "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return out


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    """Every hostile file, by name (the folder is private to the session)."""
    return build_corpus(tmp_path_factory.mktemp("hostile"))
