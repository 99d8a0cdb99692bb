"""The fast GeoJSON path (geo.io.geojson_fast) against the exact streaming reader: the same parts, or no fast read at all.

Random FeatureCollections mix the common case (points and lines of decimal
numbers, text and numbers in properties) with what the fast path must hand to
the exact reader or to the general geometry builder: integer and exponent
coordinates, -0, 3-D positions, huge and non-finite numbers, NaN, lone
surrogates, null and missing members, other geometry types, short lines,
top-level members. Whenever the fast path reads a file, every part it gives
must equal the exact reader's.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import settings
from geo.errors import SchemaError
from geo.io import features, geojson_fast
from geo.io.parts import BROKEN
from geo.io.tables import as_input
from geo.schemas import ESTATES

_NUMBERS = ["108.37", "30.84", "108.3712345678901234", "-0.0", "0.5e1", "108.4E+0", "3084e-2", "108", "-0", "30",
            "1e400", "12345678901234567890", "1.0e-7"]
_TEXTS = ['"沙河"', '"SH-01"', '" pad "', '"\\u3000x"', '"a\\"b"', '"\\ud83d\\ude00"', '""', '"\\n"', '"\\u0000"']
#: Property values the fast path reads itself.
_VALUES = [*_TEXTS, "1", "-0", "2022", "1.5", "-0.0", "1E2", "true", "false", "null", "[1, 2]", '{"k": 1}', "123456789012345678901234567890"]
#: Values the standard library reads and msgspec refuses: the whole file goes to the exact reader.
_REFUSED = ["1e400", "NaN", "-Infinity", '"\\ud800"']


def _position(rng: random.Random, *, odd: bool) -> str:
    if not odd:
        return f"[{rng.uniform(108.3, 108.4)!r}, {rng.uniform(30.8, 30.9)!r}]"
    pick = rng.random()
    if pick < 0.2:
        return f"[{rng.choice(_NUMBERS)}, {rng.choice(_NUMBERS)}]"
    if pick < 0.3:
        return f"[{rng.uniform(108.3, 108.4)!r}, {rng.uniform(30.8, 30.9)!r}, 5.0]"
    if pick < 0.35:
        return f"[{rng.uniform(108.3, 108.4)!r}]"
    if pick < 0.4:
        return '["108.3", 30.8]'
    return f"[{rng.uniform(108.3, 108.4)!r}, {rng.uniform(30.8, 30.9)!r}]"


#: Odd geometries, each drawn below its share of a random number (a null one 5 % of odd features, ...).
_ODD_GEOMETRIES = [
    (0.05, "null"),
    (0.08, '{"type": "MultiPoint", "coordinates": [[108.37, 30.84], [108.38, 30.85]]}'),
    (0.10, '{"type": "GeometryCollection", "geometries": []}'),
    (0.12, '{"type": "Point"}'),
    (0.14, '{"type": "LineString", "coordinates": [[108.37, 30.84]]}'),
    (0.16, '{"type": "Point", "coordinates": [108.37, 30.84], "bbox": [1, 2, 3, 4]}'),
]


def _geometry(rng: random.Random, kind: str, odd: float) -> str:
    bad = rng.random() < odd
    pick = rng.random()
    if bad:
        for share, text in _ODD_GEOMETRIES:
            if pick < share:
                return text
    if kind == "Point":
        return '{"type": "Point", "coordinates": ' + _position(rng, odd=bad) + "}"
    n = rng.randint(2, 6)
    return '{"type": "LineString", "coordinates": [' + ", ".join(_position(rng, odd=bad and rng.random() < 0.5) for _ in range(n)) + "]}"


def _document(seed: int, n: int, kind: str, odd: float, *, refused: bool = False) -> str:
    rng = random.Random(seed)
    names = ["estate_id", "name", "community", "address", "batch_year"] if kind == "Point" else [
        "route_id", "team_id", "team", "org_type", "shift"]
    feats = []
    for i in range(n):
        props = {}
        for name in names:
            if rng.random() < odd / 3:
                continue
            values = _VALUES + _REFUSED if refused else _VALUES
            props[name] = rng.choice(values) if rng.random() < odd else json.dumps(f"{name}-{i}", ensure_ascii=False)
        text = "{" + ", ".join(f'"{k}": {v}' for k, v in props.items()) + "}"
        if rng.random() < odd / 5:
            text = "null"
        members = ['"type": "Feature"', f'"properties": {text}', f'"geometry": {_geometry(rng, kind, odd)}']
        if rng.random() < odd / 5:
            members.append('"id": 7')
        rng.shuffle(members)
        feats.append("{" + ", ".join(members) + "}")
    top = ['"type": "FeatureCollection"', '"features": [' + ",\n".join(feats) + "]"]
    if rng.random() < odd:
        top.append(rng.choice(['"name": "演示"', '"datum": "gcj02"', '"datum": 5', '"crs": {"type": "name", "properties": {"name": "EPSG:4326"}}',
                               '"note": 1e400']))
    return "{" + ", ".join(top) + "}"


def _exact(path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(geojson_fast, "decode_collection", lambda source: None)
        return features._read_geojson(as_input(path))


def _same_geometry(a, b) -> bool:
    if a is None or b is None or a is BROKEN or b is BROKEN:
        return a is b
    return shapely.to_wkb(a) == shapely.to_wkb(b)


def _assert_same_parts(fast, exact):
    assert fast.problems == exact.problems
    assert fast.notices == exact.notices
    assert fast.datum == exact.datum and fast.metadata == exact.metadata
    assert (fast.crs is None) == (exact.crs is None)
    # props read by Arrow hold NaN for null too; as_read_props tells the two apart as the exact reader does (below)
    pd.testing.assert_frame_equal(fast.props.where(fast.props.notna(), np.nan), exact.props.where(exact.props.notna(), np.nan))
    for col in exact.props.columns:  # the same Python types cell by cell (an int stays an int, -0 stays 0)
        got, want = fast.as_read_props()[col].tolist(), exact.props[col].tolist()
        assert [type(v) for v in got] == [type(v) for v in want], col
        assert [repr(v) for v in got] == [repr(v) for v in want], col
    assert list(fast.location_list()) == list(exact.location_list())
    assert len(fast.geoms) == len(exact.geoms)
    assert all(_same_geometry(a, b) for a, b in zip(fast.geoms, exact.geoms, strict=True))


@pytest.mark.parametrize("kind", ["Point", "LineString"])
@pytest.mark.parametrize("seed", range(12))
def test_random_collections_read_as_the_exact_reader_reads_them(tmp_path, monkeypatch, kind, seed):
    odd = [0.0, 0.02, 0.1, 0.4][seed % 4]
    path = tmp_path / "f.geojson"
    path.write_text(_document(seed, 120, kind, odd), encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None  # odd coordinates and values, but nothing msgspec refuses: the fast path reads it
    _assert_same_parts(fast, _exact(path, monkeypatch))


@pytest.mark.parametrize("seed", range(6))
def test_values_msgspec_refuses_send_the_file_to_the_exact_reader(tmp_path, monkeypatch, seed):
    path = tmp_path / "f.geojson"
    path.write_text(_document(200 + seed, 40, "Point", 0.3, refused=True), encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    exact = _exact(path, monkeypatch)
    if fast is not None:  # no refused value happened to be drawn
        _assert_same_parts(fast, exact)
    assert features._read_geojson(as_input(path)).props.equals(exact.props)  # either way, what users get is the exact read


@pytest.mark.parametrize("seed", range(4))
def test_chunks_across_a_collection_read_the_same(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(geojson_fast, "CHUNK", 7)
    path = tmp_path / "f.geojson"
    path.write_text(_document(100 + seed, 60, "LineString", 0.05), encoding="utf-8")
    exact = _exact(path, monkeypatch)
    fast = features._read_geojson_fast(as_input(path))
    if fast is not None:
        _assert_same_parts(fast, exact)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"x": 1e400}, "geometry": null}]}', "beyond a float"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"x": NaN}, "geometry": null}]}', "NaN"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"x": "\\ud800"}, "geometry": null}]}', "lone surrogate"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1], "geometry": null}]}', "properties not an object"),
        ('{"type": "FeatureCollection", "features": [{"type": "feature", "properties": {}, "geometry": null}]}', "not a Feature"),
        ('{"type": "FeatureCollection", "features": [1]}', "a number for a feature"),
        ('{"type": "Feature", "properties": {}, "geometry": null}', "a single Feature"),
        ('{"type": "FeatureCollection", "features": [], }', "malformed"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "\xff", "properties": {}, "geometry": null}]}', "not UTF-8"),
    ],
)
def test_what_the_standard_library_reads_otherwise_goes_to_the_exact_reader(tmp_path, body, why):
    path = tmp_path / "f.geojson"
    path.write_bytes(body.encode("utf-8", "surrogateescape") if "\xff" not in body else body.encode("latin-1"))
    assert features._read_geojson_fast(as_input(path)) is None, why


def test_integer_and_exponent_coordinates_are_built_from_the_standard_library_values(tmp_path, monkeypatch):
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"estate_id": "A"}, "geometry": {"type": "Point", "coordinates": [108, 30]}},
        {"type": "Feature", "properties": {"estate_id": "B"}, "geometry": {"type": "Point", "coordinates": [108.5, 30.5]}},
    ]}
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(body).replace("[108, 30]", "[-0, 3084e-2]"), encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None
    _assert_same_parts(fast, _exact(path, monkeypatch))
    assert shapely.get_coordinates(fast.geoms[0]).tolist() == [[0.0, 30.84]]
    assert str(np.signbit(shapely.get_coordinates(fast.geoms[0])[0, 0])) == "False"  # JSON -0 is the integer 0


@pytest.mark.parametrize("name", ["estates.geojson", "patrol_routes.geojson"])
def test_shipped_files_take_the_fast_path_and_read_the_same(monkeypatch, name):
    path = settings.data_path(name)
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None
    _assert_same_parts(fast, _exact(path, monkeypatch))


def test_bad_features_are_reported_the_same_through_the_fast_path(tmp_path, monkeypatch):
    feats = [
        {"type": "Feature", "properties": {"estate_id": f"SH-{i:02d}", "name": f"小区{i}", "community": "沙河社区", "address": "沙河路",
                                           "batch_year": 2022}, "geometry": {"type": "Point", "coordinates": [108.37 + i * 1e-4, 30.84]}}
        for i in range(30)
    ]
    del feats[3]["properties"]["name"]  # missing
    feats[5]["properties"]["estate_id"] = "SH-06"  # used twice
    feats[7]["geometry"]["coordinates"] = [30.84, 108.37]  # swapped
    feats[9]["geometry"]["coordinates"] = [108, 30]  # integers: the general builder
    feats[11]["geometry"] = None
    feats[13]["properties"]["batch_year"] = "二〇二二"
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    assert features._read_geojson_fast(as_input(path)) is not None
    messages = []
    for fast_path in (True, False):
        with monkeypatch.context() as m:
            if not fast_path:
                m.setattr(geojson_fast, "decode_collection", lambda source: None)
            with pytest.raises(SchemaError) as err:
                features.read_features(path, ESTATES)
            messages.append((str(err.value), err.value.problems))
    assert messages[0] == messages[1]
    assert len(messages[0][1]) >= 5


def test_an_empty_collection_reads_the_same(tmp_path, monkeypatch):
    path = tmp_path / "f.geojson"
    path.write_text('{"type": "FeatureCollection", "name": "空", "features": []}', encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None and len(fast.props) == 0
    _assert_same_parts(fast, _exact(path, monkeypatch))


def test_a_file_above_the_limit_is_streamed(tmp_path, monkeypatch):
    path = settings.data_path("estates.geojson")
    monkeypatch.setattr(geojson_fast, "FAST_MAX_BYTES", path.stat().st_size - 1)
    assert features._read_geojson_fast(as_input(path)) is None


def test_bytes_in_memory_take_the_fast_path(monkeypatch):
    data = settings.data_path("patrol_routes.geojson").read_bytes()
    fast = features._read_geojson_fast(as_input(data, name="upload.geojson"))
    assert fast is not None
    _assert_same_parts(fast, _exact(settings.data_path("patrol_routes.geojson"), monkeypatch))


#: Bytes that start, continue or break UTF-8 sequences (overlong forms, surrogates, beyond U+10FFFF, cut sequences).
_UTF8_PIECES = [b"a", b"\x00", b"\x80", b"\x8f", b"\x90", b"\x9f", b"\xa0", b"\xbf", b"\xc0", b"\xc1", b"\xc2", b"\xdf",
                b"\xe0", b"\xed", b"\xef", b"\xf0", b"\xf4", b"\xf5", b"\xff", "沙".encode(), "😀".encode()]


@pytest.mark.parametrize("seed", range(4))
def test_the_utf8_check_agrees_with_the_strict_decoder(seed):
    rng = random.Random(seed)
    for _ in range(20_000):
        data = b"".join(rng.choice(_UTF8_PIECES) for _ in range(rng.randint(0, 7)))
        try:
            data.decode("utf-8")
            strict = True
        except UnicodeDecodeError:
            strict = False
        assert geojson_fast._utf8(data) is strict, data


#: Property values of one kind each, as JSON text: what the Arrow columns of the fast path read themselves.
_KINDS = {
    "text": ['"SH-01"', '" pad "', '""', '"   "', '"\\u3000x\\u3000"', '"沙河"', '"a\\"b"', '"\\ud83d\\ude00"', '"\\n"', '"x\\u0000y"',
             '"2022"', '"true"', '"1.5"', '"\\u00a0"'],
    "int": ["0", "-0", "2022", "-7", "9223372036854775807", "-9223372036854775808", "1"],
    "float": ["1.5", "-0.25", "2022.5", "1.5e-7", "0.1", "-3.75E1"],
    "flag": ["true", "false"],
}


def _columns_document(seed: int, n: int) -> tuple[str, dict]:
    """A collection whose property names hold one kind each (some given null, some absent, some features' properties null)."""
    rng = random.Random(seed)
    names = ["estate_id", "name", "community", "address", "batch_year", "synthetic", "x_note", "x_size", "remarks"]
    kinds = {name: rng.choice(list(_KINDS)) for name in names}
    if rng.random() < 0.7:  # mostly the estates schema's own kinds, so some files are valid
        kinds.update(estate_id="text", name="text", community="text", batch_year="int", synthetic="flag")
    nulls, absent, odd = rng.choice([0.0, 0.05]), rng.choice([0.0, 0.1]), rng.choice([0.0, 0.3])
    spaces = ["", " ", "\n", "\r\n"] if seed % 2 else ["", " "]  # line breaks in the properties' JSON in half the files
    feats = []
    for i in range(n):
        props = []
        for name in rng.sample(names, len(names)) if rng.random() < 0.2 else names:
            pick = rng.random()
            if pick < absent:
                continue
            if pick < absent + nulls:
                value = "null"
            elif name == "estate_id" and kinds[name] == "text" and rng.random() > odd:
                value = json.dumps(f"E{i:05d}")
            else:
                value = rng.choice(_KINDS[kinds[name]])
            props.append(f'"{name}":{rng.choice(spaces)}{value}')
        text = "null" if rng.random() < nulls else "{" + ", ".join(props) + "}"
        geometry = f'{{"type": "Point", "coordinates": [{rng.uniform(108.3, 108.4)!r}, {rng.uniform(30.8, 30.9)!r}]}}'
        feats.append(f'{{"type": "Feature", "properties": {text}, "geometry": {geometry}}}')
    return '{"type": "FeatureCollection", "features": [' + ",\n".join(feats) + "]}", kinds


def _read(path, **kw):
    try:
        return features.read_features(path, ESTATES, **kw), None
    except SchemaError as exc:
        return None, exc.problems


@pytest.mark.parametrize("seed", range(40))
def test_properties_read_by_arrow_read_as_the_exact_reader_reads_them(tmp_path, monkeypatch, seed):
    """Columns of one kind each are read by Arrow: the same parts, the same counts and records, the same typed table or problems."""
    body, _ = _columns_document(seed, 60)
    path = tmp_path / "f.geojson"
    path.write_text(body, encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None and fast.facts  # read by Arrow
    exact = _exact(path, monkeypatch)
    _assert_same_parts(fast, exact)
    for name in exact.props.columns:
        assert fast.key_count(name) == exact.key_count(name), name
    assert fast.record_list() == exact.record_list()
    got, got_problems = _read(path)
    with monkeypatch.context() as m:
        m.setattr(geojson_fast, "decode_collection", lambda source: None)
        want, want_problems = _read(path)
    assert got_problems == want_problems
    if want is not None:
        pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry")))
        for col in got.columns.drop("geometry"):  # the same Python types cell by cell
            assert [type(v) for v in got[col].tolist()] == [type(v) for v in want[col].tolist()], col


def test_features_without_properties_read_the_same(tmp_path, monkeypatch):
    feats = [{"type": "Feature", "properties": p, "geometry": None} for p in ({}, None, {}, None, None)]
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None and fast.props.shape == (5, 0)
    _assert_same_parts(fast, _exact(path, monkeypatch))


def test_a_property_given_only_as_null_is_read_by_arrow(tmp_path, monkeypatch):
    feats = [{"type": "Feature", "properties": {"estate_id": f"E{i}", "remarks": None}, "geometry": None} for i in range(3)]
    feats[1]["properties"].pop("remarks")
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None and "estate_id" in fast.facts and "remarks" not in fast.facts  # read by Arrow; no type to tell
    exact = _exact(path, monkeypatch)
    _assert_same_parts(fast, exact)
    assert fast.key_count("remarks") == exact.key_count("remarks") == 2
    assert fast.record_list() == exact.record_list() == [{"estate_id": "E0", "remarks": None}, {"estate_id": "E1"}, {"estate_id": "E2", "remarks": None}]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (["1.5", "2.0"], "a whole number in a number column: written 2 or 2.0, Arrow cannot tell"),
        (["1", "2.5"], "integers and floats in one column"),
        (['"a"', "1"], "text and numbers in one column"),
        (["true", "1"], "flags and numbers in one column"),
        (["[1, 2]", "[3]"], "lists"),
        (['{"k": 1}', '{"k": 2}'], "objects"),
        (["12345678901234567890", "1"], "an integer beyond 64 bits"),
        (["1E2", "2.5"], "an exponent without a point is a whole number"),
        (['"2022-01-01"', '"2022-02-01"'], "text Arrow would read as dates"),
    ],
)
def test_properties_arrow_cannot_read_exactly_are_decoded_one_by_one(tmp_path, monkeypatch, values, why):
    feats = [{"type": "Feature", "properties": {"estate_id": f"E{i}", "x_value": "@"}, "geometry": None} for i in range(len(values))]
    body = json.dumps({"type": "FeatureCollection", "features": feats})
    for v in values:
        body = body.replace('"@"', v, 1)
    path = tmp_path / "f.geojson"
    path.write_text(body, encoding="utf-8")
    assert geojson_fast.arrow_properties(geojson_fast._DECODERS["features"].decode(json.dumps(json.loads(body)["features"]).encode())) is None, why
    fast = features._read_geojson_fast(as_input(path))
    assert fast is not None and not fast.facts, why  # read, but property by property
    _assert_same_parts(fast, _exact(path, monkeypatch))


def _decimal(rng: random.Random) -> str:
    """A JSON number with a decimal point: short, long (beyond 17 digits), tiny, large, negative, -0.0."""
    whole = rng.choice(["0", "108", "30", str(rng.randint(1, 10**rng.randint(1, 25)))])
    frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, rng.choice([3, 17, 40]))))
    sign = "-" if rng.random() < 0.3 else ""
    return f"{sign}{whole}.{frac}"


@pytest.mark.parametrize("seed", range(4))
def test_coordinates_parsed_by_arrow_are_the_standard_librarys_doubles(seed):
    rng = random.Random(seed)
    spaces = ["", " ", "\n  ", "\t"]
    texts, want = [], []
    for _ in range(2_000):
        n = rng.randint(2, 9)
        line = [[_decimal(rng), _decimal(rng)] for _ in range(n)]
        s = rng.choice(spaces)
        texts.append(("[" + s + f",{s}".join(f"[{a},{s}{b}]" for a, b in line) + s + "]").encode())
        want.append(json.loads(texts[-1]))
    xy, counts = geojson_fast.arrow_coordinates(texts, lines=True)
    assert counts.tolist() == [len(line) for line in want]
    expected = np.array([p for line in want for p in line], dtype=float)
    assert xy.tobytes() == expected.tobytes()  # bit for bit, -0.0 included
    points = [f"[{_decimal(rng)},{_decimal(rng)}]".encode() for _ in range(5_000)]
    xy, counts = geojson_fast.arrow_coordinates(points, lines=False)
    assert xy.tobytes() == np.array([json.loads(p) for p in points], dtype=float).tobytes() and counts.tolist() == [1] * 5_000


@pytest.mark.parametrize(
    ("texts", "lines", "why"),
    [
        ([b"[[1.5,2.5],[3.5,4.5]]", b"[[1.5,2.5],[3,4.5]]"], True, "a JSON integer (an int to the standard library)"),
        ([b"[[1.5,2.5],[3.5,4.5e1]]"], True, "an exponent"),
        ([b"[[1.5,2.5]]"], True, "a line of one position"),
        ([b"[[1.5,2.5],[3.5,4.5,5.5]]"], True, "a 3-D position"),
        ([b"[[1.5],[2.5,3.5,4.5]]"], True, "numbers in the wrong positions"),
        ([b"[[[1.5,2.5],[3.5,4.5]]]"], True, "a polygon's rings"),
        ([b"[[1.5,2.5],[]]"], True, "an empty position"),
        ([b'[[1.5,2.5],["3.5",4.5]]'], True, "text for a number"),
        ([b'[[1.5,2.5],[3.5,4.5]],"a;b"'], True, "a ';' inside text"),
        ([b"[1.5,2.5,3.5]"], False, "a 3-D point"),
        ([b"[1.5]"], False, "one number"),
        ([b"[[1.5,2.5]]"], False, "a line for a point"),
        ([b"[1" + b"0" * 400 + b".5,2.5]"], False, "a number beyond a float"),
        ([], False, "nothing"),
    ],
)
def test_coordinates_arrow_cannot_read_exactly_are_left_to_the_decoder(texts, lines, why):
    assert geojson_fast.arrow_coordinates(texts, lines=lines) is None, why


def test_coordinates_with_json_whitespace_are_read_in_bulk():
    xy, counts = geojson_fast.arrow_coordinates([b"[ [ 108.5 , 30.25 ],\n\t[108.75,30.5] ]", b"[[1.0,-0.0],[2.0,3.0],[4.0,5.0]]"], lines=True)
    assert counts.tolist() == [2, 3]
    assert xy.tolist() == [[108.5, 30.25], [108.75, 30.5], [1.0, 0.0], [2.0, 3.0], [4.0, 5.0]]
    assert np.signbit(xy[2, 1])  # -0.0 stays negative, as float("-0.0")
    tiny = [b"[0." + b"0" * 320 + b"25,0." + b"0" * 400 + b"1]"]  # a subnormal double and one below the smallest: 0.0
    xy, _ = geojson_fast.arrow_coordinates(tiny, lines=False)
    assert xy.tobytes() == np.array(json.loads(tiny[0]), dtype=float).tobytes()
