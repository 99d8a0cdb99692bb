"""Reading GeoJSON feature by feature (geo/io/geojson_stream.py) gives what parsing the whole document gave.

The reference is the reader as it was before the walk: ``json.loads`` of the
whole text, then the features taken in one go. It is kept here, and only
here, to compare against on many randomly corrupted files.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import tracemalloc

import numpy as np
import pytest

from geo import io
from geo.errors import DataFileError, SchemaError
from geo.io import features as current
from geo.io import geojson_stream
from geo.io.features import BROKEN, build_geometries
from geo.io.parts import FeatureLocations, Parts, records_frame
from geo.io.tables import as_input
from geo.io.writers import RESERVED_MEMBERS

NAME = "fuzz.geojson"


def _reference_read(path) -> Parts:
    """The GeoJSON reader before the walk: the whole document parsed by json.loads, its features taken at once."""
    with path.open() as fh:
        try:
            text = fh.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"{path}: byte {exc.start} is not UTF-8; GeoJSON must be UTF-8 (RFC 7946): re-save the file as UTF-8"
            raise DataFileError(msg) from exc
    if not text or text.isspace():
        msg = f"{path}: the file is empty; a GeoJSON FeatureCollection is expected"
        raise DataFileError(msg)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise DataFileError(msg) from exc
    except RecursionError as exc:
        msg = f"{path}: the JSON is nested too deeply to be GeoJSON; give a Feature or FeatureCollection with [lon, lat] coordinates"
        raise DataFileError(msg) from exc
    parts = Parts()
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
        parts.notices.append(f"{path}: the file is a single GeoJSON Feature, not a FeatureCollection; read as a collection of one")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        msg = f"{path}: not a GeoJSON FeatureCollection (found {found!r}); the top level must be {{\"type\": \"FeatureCollection\", \"features\": [...]}}"
        raise DataFileError(msg)
    declared = doc.get("datum")
    if declared is not None and not isinstance(declared, str):
        parts.problems.append(f"file: top-level 'datum' is {declared!r}; give a name: wgs84, gcj02 or bd09")
        declared = None
    parts.datum = declared
    parts.metadata = {k: v for k, v in doc.items() if k not in (*RESERVED_MEMBERS, "datum")}
    if doc.get("crs") is not None:
        parts.crs = current._crs_member(doc["crs"], parts.problems)  # the CRS lookup is not what is compared
    feats = doc["features"]
    parts.locations = FeatureLocations(len(feats))
    records, raw = [], []
    for i, feat in enumerate(feats):
        where = f"feature {i}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            parts.problems.append(f"{where}: not a GeoJSON Feature object ({{\"type\": \"Feature\", \"properties\": ..., \"geometry\": ...}})")
            records.append({})
            raw.append(BROKEN)
            continue
        p = feat.get("properties")
        if p is not None and not isinstance(p, dict):
            parts.problems.append(f"{where}: 'properties' is {type(p).__name__}, not a JSON object; write it as {{\"name\": value, ...}}")
            p = None
        records.append(p or {})
        raw.append(feat.get("geometry"))
    parts.props = records_frame(records)
    parts.as_read = True
    parts.geoms = build_geometries(raw, parts.locations, parts.problems)
    return parts


def _outcome(reader, data: bytes):
    """Everything a reader gives for a file, in a form that compares exactly (value types, NaN, order)."""
    try:
        parts = reader(as_input(data, name=NAME))
    except DataFileError as exc:
        return ("error", str(exc))
    props = parts.as_read_props()  # null told from absent (props read by Arrow hold NaN for both)
    return (
        "parts",
        parts.problems,
        parts.notices,
        parts.datum,
        None if parts.crs is None else parts.crs.to_wkt(),
        repr(parts.metadata),
        parts.as_read,
        list(props.columns),
        len(props),
        [repr(props[c].tolist()) for c in props.columns],
        [None if g is None else "broken" if g is BROKEN else f"{g.geom_type} {g.wkt}" for g in parts.geoms],
        parts.location_list(),
    )


# --- random files ------------------------------------------------------------------

_GEOMETRIES = (
    lambda r: {"type": "Point", "coordinates": [round(108.3 + r.random() / 10, 6), round(30.8 + r.random() / 10, 6)]},
    lambda r: {"type": "Point", "coordinates": [108, 31]},
    lambda r: {"type": "LineString", "coordinates": [[108.37, 30.84], [108.38 + r.random() / 100, 30.85], [108.39, 30.86]]},
    lambda r: {"type": "LineString", "coordinates": [[108.37, 30.84]]},
    lambda r: {"type": "Polygon", "coordinates": [[[108.37, 30.84], [108.38, 30.84], [108.38, 30.85], [108.37, 30.84]]]},
    lambda r: {"type": "Point", "coordinates": ["108.37", 30.84]},
    lambda r: {"type": "Circle", "coordinates": [108.37, 30.84]},
    lambda r: None,
    lambda r: {"type": "MultiPoint", "coordinates": [[108.37, 30.84, 2.0]]},
)
_VALUES = ("花园小区", "", " ", 2022, 2023.0, "2024", True, False, None, 3.5, [1, 2], {"a": 1}, "二〇二二", -0.0, 10**20)


def _feature(r: np.random.Generator, i: int):
    kind = r.random()
    if kind < 0.05:
        return [1, 2] if r.random() < 0.5 else "Feature"
    if kind < 0.08:
        return {"type": "feature", "properties": {}, "geometry": None}
    props = {"estate_id": f"E{i}", "name": f"小区{i}"}
    for key in ("community", "address", "batch_year", "note", f"extra{int(r.integers(0, 4))}"):
        if r.random() < 0.7:
            props[key] = _VALUES[int(r.integers(0, len(_VALUES)))]
    feat = {"type": "Feature", "properties": props, "geometry": _GEOMETRIES[int(r.integers(0, len(_GEOMETRIES)))](r)}
    if kind < 0.12:
        feat["properties"] = ["a", 1] if r.random() < 0.5 else "名字"
    elif kind < 0.15:
        feat["properties"] = None
    elif kind < 0.17:
        del feat["properties"]
    return feat


def _document(r: np.random.Generator) -> dict:
    members = [("type", "FeatureCollection"), ("features", [_feature(r, i) for i in range(int(r.integers(0, 12)))])]
    for key, value in (("name", "沙河"), ("synthetic", True), ("note", "合成"), ("datum", "gcj02"), ("datum", 5),
                       ("crs", {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}), ("crs", "EPSG:4545"),
                       ("bbox", [1, 2, 3, 4]), ("type", "Feature"), ("version", [1, {"x": None}])):
        if r.random() < 0.15:
            members.append((key, value))
    order = r.permutation(len(members))
    return dict(members[k] for k in order)


def _text(r: np.random.Generator, doc) -> str:
    indent = [None, 1, 2, "\t"][int(r.integers(0, 4))]
    separators = [None, (",", ":"), (" , ", " : ")][int(r.integers(0, 3))]
    text = json.dumps(doc, ensure_ascii=bool(r.random() < 0.3), indent=indent, separators=separators)
    return text.replace("\n", "\r\n") if r.random() < 0.1 else text


def _corrupt(r: np.random.Generator, text: str) -> str:
    """One random slip of an editor or a transfer, more often next to a bracket, comma or colon."""
    marks = [k for k, c in enumerate(text) if c in "{}[],:\""]
    at = int(r.choice(marks)) if marks and r.random() < 0.7 else int(r.integers(0, len(text) + 1))
    op = int(r.integers(0, 9))
    if op == 0:
        return text[:at] + text[at + 1:]
    if op == 1:
        return text[:at] + "{}[],:\" \n-tnfx0N"[int(r.integers(0, 16))] + text[at:]
    if op == 2:
        return text[:at] + "{}[],:\"x"[int(r.integers(0, 8))] + text[at + 1:]
    if op == 3:
        return text[:at]
    if op == 4:
        span = int(r.integers(1, 40))
        return text[:at] + text[at:at + span] + text[at:]
    if op == 5:
        return text[:at] + ", " + text[at:]
    if op == 6:
        return text + [" x", "{}", "\n\n", "]", ", {}"][int(r.integers(0, 5))]
    if op == 7:
        return "\ufeff" * int(r.integers(0, 2)) + [" ", "[", "\n", ""][int(r.integers(0, 4))] + text
    return text.replace('"features"', '"features": [], "features"', 1) if r.random() < 0.5 else text.replace("FeatureCollection", "Feature", 1)


def _files(n: int, seed: int):
    r = np.random.default_rng(seed)
    for _ in range(n):
        text = _text(r, _document(r))
        for _ in range(int(r.integers(0, 3))):
            text = _corrupt(r, text)
        data = text.encode("utf-8")
        if r.random() < 0.05:
            data = b"\xef\xbb\xbf" + data
        elif r.random() < 0.02:
            data = data.replace("小".encode(), b"\xd0", 1)
        yield int(r.integers(1, 6)), int(r.integers(1, 12)), data


class TestSameAsTheWholeDocument:
    def test_800_random_and_corrupted_files(self, monkeypatch):
        kinds = {"error": 0, "parts": 0}
        messages = set()
        for chunk, block, data in _files(800, seed=12):
            monkeypatch.setattr(geojson_stream, "FEATURE_CHUNK", chunk)  # features fall in several chunks
            monkeypatch.setattr(geojson_stream, "READ_BYTES", block)  # and the text in many windows, characters cut in two
            want = _outcome(_reference_read, data)
            got = _outcome(current._read_geojson, data)
            assert got == want, data.decode("utf-8", "replace")
            kinds[want[0]] += 1
            if want[0] == "error":
                messages.add(want[1].split(" at line")[0].split("(found")[0])
        # the files cover both outcomes and the kinds of refusal
        assert kinds["error"] >= 150 and kinds["parts"] >= 150, kinds
        assert {f"{NAME}: malformed JSON", f"{NAME}: not a GeoJSON FeatureCollection "} <= messages, messages

    @pytest.mark.parametrize(
        "text",
        [
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": null}, ]}',
            '{"type": "FeatureCollection", "features": [], }',
            '{"type": "FeatureCollection", "features": [{}  {}]}',
            '{"type": "FeatureCollection", "features": [{}, {}\n',
            '{"type": "FeatureCollection" "features": []}',
            '{"type" "FeatureCollection", "features": []}',
            '{"type": "FeatureCollection", "features": [1, 2}',
            '{"features": [], "type": "FeatureCollection"} {}',
            '{"features": [, ], "type": "FeatureCollection"}',
            '{"features": [{"type": "Feature", "properties": {"a": [1, 2,]}}], "type": "FeatureCollection"}',
            '{"features": [{"type": "Feature", "properties": {"a": "\x01"}}], "type": "FeatureCollection"}',
            '{"features": [{"type": "Feature", "properties": {"a": "unterminated}}]}',
            '{"features": [], "type": ',
            '{',
            '{,}',
            '  \n{"type": "FeatureCollection",\r\n "features": [\n  {"type": "Feature"},\n  -\n]}',
            '{"type": "FeatureCollection", "features": [' + "[" * 5000 + "]" * 5000 + "]}",
        ],
    )
    @pytest.mark.parametrize("block", [1, 5, 1 << 22])
    def test_malformed_json_is_worded_as_json_loads_words_it(self, text, block, monkeypatch):
        monkeypatch.setattr(geojson_stream, "READ_BYTES", block)
        data = text.encode("utf-8")
        want = _outcome(_reference_read, data)
        assert want[0] == "error"
        assert _outcome(current._read_geojson, data) == want


def _point(i: int, **props) -> dict:
    return {"type": "Feature", "properties": {"estate_id": f"E{i:02d}", "name": f"小区{i}", "community": "沙河社区",
                                              "address": f"沙河路{i}号", "batch_year": 2022, **props},
            "geometry": {"type": "Point", "coordinates": [108.37 + i / 1000, 30.84]}}


class TestChunks:
    def test_bad_features_in_different_chunks_keep_their_numbers(self, monkeypatch):
        feats = [_point(i) for i in range(11)]
        feats[2] = "not a feature"
        feats[3]["properties"] = ["E03"]
        feats[7]["geometry"] = {"type": "Point", "coordinates": [108.37]}
        feats[9]["properties"]["batch_year"] = "二〇二二"
        feats[10]["properties"]["estate_id"] = "E00"
        data = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")
        # written by hand: with chunks of 3 the bad features 2, 3, 7, 9 and 10 lie in four different chunks
        whole_file = "field 'estate_id': id 'E00' is used 2 times (feature 0, feature 10); ids must be unique"
        not_feature = 'feature 2: not a GeoJSON Feature object ({"type": "Feature", "properties": ..., "geometry": ...})'
        not_object = "feature 3: 'properties' is list, not a JSON object; write it as {\"name\": value, ...}"
        year = "feature 9 (E09), field 'batch_year': '二〇二二' is not a whole number; expected a whole number"
        numbers = [None] + [2] * 6 + [3] * 6 + [7, 9]  # features 2 and 3 also lack all five required fields
        for chunk in (1, 3, 4, 50_000):
            monkeypatch.setattr(geojson_stream, "FEATURE_CHUNK", chunk)
            monkeypatch.setattr(geojson_stream, "READ_BYTES", 7 * chunk)
            with pytest.raises(SchemaError) as err:
                io.read_estates(data, name="chunks.geojson")
            problems = err.value.problems
            found = [int(m[1]) if (m := re.match(r"feature (\d+)\b", p)) else None for p in problems]
            assert found == numbers, (chunk, problems)
            assert problems[0] == whole_file and problems[1] == not_feature and problems[7] == not_object and problems[-1] == year
            assert problems[2] == "feature 2, field 'estate_id': missing; every estates feature needs stable id of the ledger row, e.g. SH-01"
            assert problems[-2].startswith("feature 7: the geometry cannot be built")

    def test_names_first_seen_in_a_later_chunk(self, monkeypatch):
        feats = [_point(i) for i in range(7)]
        feats[5]["properties"]["x_note"] = "后来的字段"
        feats[1]["properties"]["x_floors"] = 6
        doc = {"type": "FeatureCollection", "features": feats}
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        monkeypatch.setattr(geojson_stream, "FEATURE_CHUNK", 2)
        parts = current._read_geojson(as_input(data, name="late.geojson"))
        assert list(parts.props.columns) == ["estate_id", "name", "community", "address", "batch_year", "x_floors", "x_note"]
        note = parts.props["x_note"].tolist()
        assert note[5] == "后来的字段" and all(isinstance(v, float) and math.isnan(v) for k, v in enumerate(note) if k != 5)
        assert parts.props["x_floors"].tolist()[1] == 6 and parts.record_list()[5] == feats[5]["properties"]
        gdf = io.read_estates(data, name="late.geojson")
        assert list(gdf["estate_id"]) == [f"E{i:02d}" for i in range(7)] and gdf["x_note"].iloc[5] == "后来的字段"

    def test_members_in_any_order(self, monkeypatch):
        monkeypatch.setattr(geojson_stream, "FEATURE_CHUNK", 2)
        feats = [_point(i) for i in range(5)]
        text = json.dumps({"features": feats, "note": "附注", "datum": "gcj02", "type": "FeatureCollection"}, ensure_ascii=False)
        gdf = io.read_estates(text.encode("utf-8"), name="late-type.geojson")
        assert len(gdf) == 5 and gdf.attrs["metadata"] == {"note": "附注"}
        assert any("declared GCJ02 and converted" in n for n in gdf.attrs["notices"])


class TestMemory:
    def test_the_walk_holds_one_chunk_not_the_text_or_the_document(self, monkeypatch):
        feats = [_point(i, synthetic=True) for i in range(20_000)]
        data = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")
        del feats
        monkeypatch.setattr(geojson_stream, "FEATURE_CHUNK", 1000)
        monkeypatch.setattr(geojson_stream, "READ_BYTES", 64_000)
        text = geojson_stream.Text(as_input(data, name="big.geojson"))
        tracemalloc.start()
        try:
            json.loads(data.decode("utf-8"))
            whole = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            seen = []
            top = geojson_stream.walk_collection(text, "big.geojson", lambda chunk, start: seen.append((start, len(chunk))))
            walked = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert top.feature_count == 20_000 and seen[0][0] == 0 and all(n >= 1000 for _, n in seen)  # chunks of at least 1000
        assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(seen))  # one after the other
        assert seen[-1][0] + seen[-1][1] == top.tail_start == 20_000 - len(top.tail)
        assert walked < whole / 10 and walked < len(data), (walked, whole, len(data))  # less than the file itself
