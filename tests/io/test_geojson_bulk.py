"""The GeoJSON writer built a column and a coordinate array at a time against the feature-by-feature one it replaced.

``reference_geojson_text`` below is the earlier writer, kept here only as the
reference: ``json.loads`` of each geometry's GeoJSON, coordinates rounded
recursively with Python's ``round``, each cell converted on its own and each
feature written by ``json.dumps``. On random frames (every geometry kind, empty
and missing geometries, NaN and infinite values, dates, Chinese text, quotes,
backslashes and control characters, large and tiny floats, -0.0) both must give
the same text, or refuse with the same message.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo import io, settings
from geo.errors import DataFileError
from geo.io.writers import round_like_python

DATA = Path(__file__).resolve().parents[2] / "data"


# --- the reference: the feature-by-feature writer ---------------------------------------


def _reference_value(value, where: str):
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            msg = f"cannot write {where}: the value is infinite, which JSON cannot hold; replace it with a number or leave it empty"
            raise DataFileError(msg)
        return value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _reference_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reference_value(v, f"{where}[{k}]") for k, v in enumerate(value)]
    msg = f"cannot write {where}: a {type(value).__name__} has no JSON form; convert the column to text or numbers first"
    raise DataFileError(msg)


def _reference_round(obj, ndigits: int):
    if isinstance(obj, list):
        if obj and not isinstance(obj[0], list):
            return [round(float(v), ndigits) for v in obj]
        return [_reference_round(o, ndigits) for o in obj]
    return obj


def reference_geojson_text(gdf: gpd.GeoDataFrame, *, metadata: dict | None = None) -> str:
    """The earlier writer, feature by feature (without its CRS and metadata-name checks, which did not change)."""
    precision = settings.coordinate_precision
    if not gdf.crs.equals(pyproj.CRS.from_user_input(settings.storage_crs)):
        gdf = gdf.to_crs(settings.storage_crs)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        msg = f"cannot write feature {idx[np.argmax(bad)]}: its geometry has a NaN or infinite coordinate; fix or drop it first"
        raise DataFileError(msg)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    geo_json = shapely.to_geojson(geoms)
    geom_name = gdf.geometry.name
    cols = [c for c in gdf.columns if c != geom_name]
    features = []
    for i, (rec, gj) in enumerate(zip(gdf[cols].itertuples(index=False, name=None), geo_json, strict=True)):
        geometry = None
        if gj is not None:
            geometry = json.loads(gj)
            if "coordinates" in geometry:
                geometry["coordinates"] = _reference_round(geometry["coordinates"], precision)
            elif "geometries" in geometry:
                for member in geometry["geometries"]:
                    member["coordinates"] = _reference_round(member["coordinates"], precision)
        props = {str(c): _reference_value(v, f"feature {i}, column '{c}'") for c, v in zip(cols, rec, strict=True)}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    head = {"type": "FeatureCollection"}
    head.update({str(k): _reference_value(v, f"metadata member '{k}'") for k, v in (metadata or {}).items()})
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in features]
    head_text = json.dumps(head, ensure_ascii=False, indent=1, allow_nan=False)[:-2]
    return head_text + ',\n "features": [\n' + ",\n".join(lines) + ("\n" if lines else "") + " ]\n}\n"


def _outcome(fn, *args, **kwargs):
    try:
        return "text", fn(*args, **kwargs)
    except DataFileError as exc:
        return "error", str(exc)


def assert_same(gdf, *, metadata=None):
    want = _outcome(reference_geojson_text, gdf, metadata=metadata)
    got = _outcome(io.geojson_text, gdf, metadata=metadata)
    assert got == want


# --- random frames -----------------------------------------------------------------------

#: Coordinates that round awkwardly: halves at the 7th decimal (exact in binary or not), -0.0, tiny and huge values.
AWKWARD = [0.0, -0.0, 1e-9, -1e-9, 5e-8, -5e-8, 1.5e-7, 2.5e-7, 0.00390625, -0.00390625, 108.12345675, 30.00000005,
           1e15, 123456789.123456789, 1e300, -1e300, 5e-324, 108.0, -30.0, 0.1, 2.675, 1.0000000499999999]

TEXTS = ["沙河小区", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "cr\rret", "\x00\x01\x1f", "\x7f del", "\u2028\u2029",
         "", "=1+1", "emoji 🚓", "{braces}", "{}{0}", "null", "a'b", "\ud7ff", "日本語/한국어"]


def _coordinate(rng) -> float:
    if rng.random() < 0.15:
        return float(rng.choice(AWKWARD)) * (1 if rng.random() < 0.8 else -1)
    return float(rng.uniform(105, 110) if rng.random() < 0.5 else rng.uniform(28, 32)) + float(rng.integers(0, 3)) * 1e-8


def _ring(rng, cx, cy, r, *, ccw: bool):
    k = int(rng.integers(3, 7))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    if not ccw:
        ang = ang[::-1]
    pts = [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in ang]
    return [*pts, pts[0]]


def _geometry(rng, *, allow_z: bool):
    kind = rng.choice(["point", "line", "polygon", "holes", "mpoint", "mline", "mpoly", "gc", "empty", "none", "point3d", "line3d"])
    x, y = _coordinate(rng), _coordinate(rng)
    if kind == "point":
        return shapely.Point(x, y)
    if kind == "line":
        return shapely.LineString([(x, y)] + [(_coordinate(rng), _coordinate(rng)) for _ in range(int(rng.integers(1, 6)))])
    if kind == "polygon":
        return shapely.Polygon(_ring(rng, 108.3, 30.8, 0.01, ccw=bool(rng.random() < 0.5)))
    if kind == "holes":
        holes = [_ring(rng, 108.3 + dx, 30.8, 0.001, ccw=bool(rng.random() < 0.5)) for dx in (-0.003, 0.003)]
        return shapely.Polygon(_ring(rng, 108.3, 30.8, 0.01, ccw=bool(rng.random() < 0.5)), holes)
    if kind == "mpoint":
        return shapely.MultiPoint([(_coordinate(rng), _coordinate(rng)) for _ in range(int(rng.integers(1, 4)))])
    if kind == "mline":
        return shapely.MultiLineString([[(_coordinate(rng), _coordinate(rng)) for _ in range(3)] for _ in range(2)])
    if kind == "mpoly":
        return shapely.MultiPolygon([shapely.Polygon(_ring(rng, 108.3 + d, 30.8, 0.004, ccw=bool(rng.random() < 0.5))) for d in (0, 0.02)])
    if kind == "gc":
        return shapely.GeometryCollection([shapely.Point(x, y), shapely.LineString([(x, y), (_coordinate(rng), _coordinate(rng))]),
                                           shapely.Polygon(_ring(rng, 108.3, 30.8, 0.01, ccw=False))])
    if kind == "empty":
        return shapely.from_wkt(str(rng.choice(["POINT EMPTY", "LINESTRING EMPTY", "POLYGON EMPTY", "MULTIPOINT EMPTY",
                                                "MULTIPOLYGON EMPTY", "GEOMETRYCOLLECTION EMPTY"])))
    if kind == "none":
        return None
    if not allow_z:
        return shapely.Point(x, y)
    if kind == "point3d":
        return shapely.Point(x, y, _coordinate(rng))
    return shapely.LineString([(x, y, 12.5), (_coordinate(rng), _coordinate(rng), -0.0), (1.0, 2.0, 1e-9)])


def _odd_cell(rng):
    choices = [
        lambda: None, lambda: float("nan"), lambda: pd.NA, lambda: pd.NaT, lambda: 7, lambda: -0.0, lambda: 1e300, lambda: True,
        lambda: str(rng.choice(TEXTS)), lambda: np.int64(-3), lambda: np.float64(2.5), lambda: np.float32(0.1), lambda: np.bool_(False),
        lambda: {"a": 1, 2: [1.5, None, "引号\""], "nested": {"t": pd.Timestamp("2024-05-01 08:30")}}, lambda: (1, "x", float("nan")),
        lambda: [], lambda: {}, lambda: pd.Timestamp("2023-01-02 03:04:05.123456789"), lambda: datetime.date(2024, 2, 29),
        lambda: datetime.time(23, 59, 1), lambda: np.datetime64("2022-03-04T05:06:07"), lambda: 2**70, lambda: np.uint64(2**63 + 5),
    ]
    return choices[int(rng.integers(len(choices)))]()


def random_frame(seed: int, n: int, *, allow_z: bool = True) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1e3, n) * rng.choice([1, 1e-12, 1e12], n)
    floats[rng.random(n) < 0.1] = np.nan
    floats[rng.random(n) < 0.05] = -0.0
    floats[rng.random(n) < 0.05] = np.round(floats[rng.random(n) < 0.05].sum())
    ints = rng.integers(-(2**62), 2**62, n)
    frame = {
        "名称": [str(rng.choice(TEXTS)) + str(k) for k in range(n)],
        "value": floats,
        "whole": np.floor(floats),
        "f32": floats.astype(np.float32),
        "count": ints,
        "u8": rng.integers(0, 255, n).astype(np.uint8),
        "flag": rng.random(n) < 0.5,
        "odd": [_odd_cell(rng) for _ in range(n)],
        "text_or_missing": [None if rng.random() < 0.2 else (np.nan if rng.random() < 0.2 else str(rng.choice(TEXTS))) for _ in range(n)],
        "when": pd.to_datetime(rng.integers(1_500_000_000, 1_800_000_000, n), unit="s").where(rng.random(n) < 0.8),
        "when_tz": pd.to_datetime(rng.integers(1_500_000_000, 1_800_000_000, n), unit="s", utc=True).tz_convert("Asia/Shanghai"),
        "nullable_int": pd.array([None if rng.random() < 0.2 else int(v) for v in ints], dtype="Int64"),
        "nullable_bool": pd.array([None if rng.random() < 0.2 else bool(v) for v in rng.random(n) < 0.5], dtype="boolean"),
        "nullable_float": pd.array([None if rng.random() < 0.2 else float(v) for v in floats], dtype="Float64"),
        "nullable_uint": pd.array([None if rng.random() < 0.2 else int(v) for v in rng.integers(0, 2**63, n, dtype=np.uint64)],
                                  dtype="UInt64"),
        "string_dtype": pd.array([None if rng.random() < 0.2 else str(rng.choice(TEXTS)) for _ in range(n)], dtype="string"),
        "category": pd.Categorical(rng.choice(["甲", "乙", "丙"], n)),
        "numbers_as_objects": pd.Series([float(v) if k % 3 else int(k) for k, v in enumerate(floats)], dtype=object),
        ('tuple', 'label'): rng.integers(0, 9, n),
    }
    geoms = [_geometry(rng, allow_z=allow_z) for _ in range(n)]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


@pytest.mark.parametrize("seed", range(12))
def test_random_frames_give_the_same_text(seed):
    gdf = random_frame(seed, 60)
    assert_same(gdf, metadata={"synthetic": True, "note": "虚构位置 \"引号\"", "radius_m": 500.0, "n": seed})
    assert_same(gdf.iloc[::-1])
    assert_same(gdf[["名称", "geometry"]])
    assert_same(gdf[["名称", "geometry"]].rename(columns={"名称": "k"}).assign(k=1))


@pytest.mark.parametrize("seed", range(3))
def test_the_file_and_the_bytes_are_the_text(seed, tmp_path):
    """write_geojson writes the features straight from Arrow's buffer: the file holds the text, encoded, and nothing else."""
    for gdf in (random_frame(seed, 40, allow_z=False), random_frame(seed, 40).iloc[:0]):
        text = io.geojson_text(gdf, metadata={"n": seed})
        io.write_geojson(gdf, tmp_path / "out.geojson", metadata={"n": seed})
        assert (tmp_path / "out.geojson").read_bytes() == text.encode("utf-8")
        assert io.geojson_bytes(gdf, metadata={"n": seed}) == text.encode("utf-8")


def test_half_a_surrogate_pair_is_refused_naming_its_feature_and_nothing_is_written(tmp_path):
    """The standard library reads "\\udc80" in a JSON text as half a surrogate pair; UTF-8 cannot hold it."""
    texts = ["甲", "a\udc80b", "乙", "\ud83d"]
    gdf = gpd.GeoDataFrame({"n": [1.0, 2.0, 3.0, float("inf")], "name": texts}, geometry=[shapely.Point(108, 30)] * 4, crs="EPSG:4326")
    (tmp_path / "out.geojson").write_text("before", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"feature 1, column 'name': the text holds '\\udc80', half of a UTF-16 surrogate pair"):
        io.write_geojson(gdf, tmp_path / "out.geojson")
    assert (tmp_path / "out.geojson").read_text(encoding="utf-8") == "before"
    # One feature with both: the first column is named, whichever it is (as for any two bad cells).
    with pytest.raises(DataFileError, match="feature 1, column 'n': the value is infinite"):
        io.geojson_text(gdf.iloc[2:])
    with pytest.raises(DataFileError, match="feature 1, column 'name': the text holds '\\\\ud83d'"):
        io.geojson_text(gdf[["name", "n", "geometry"]].iloc[2:])


def test_a_frame_without_properties():
    """The earlier writer failed on a frame with only a geometry (``itertuples`` of no columns gives no rows): compare with one column."""
    gdf = random_frame(11, 50)
    one = reference_geojson_text(gdf[["geometry"]].assign(k=1))
    got = io.geojson_text(gdf[["geometry"]])
    assert got == one.replace('"properties":{"k":1}', '"properties":{}')


def test_projected_frames_are_converted_the_same_way():
    gdf = random_frame(99, 60, allow_z=False)
    coords, index = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    outside = np.unique(index[~((np.abs(coords[:, 0]) <= 180) & (np.abs(coords[:, 1]) <= 90)).reshape(-1)])
    lonlat = gdf.drop(gdf.index[outside])
    assert len(lonlat) > 20
    assert_same(lonlat.to_crs("EPSG:4545"))


def test_edge_values_one_by_one():
    """Each awkward coordinate and cell value on its own, so a difference names its value."""
    for v in AWKWARD + [-v for v in AWKWARD]:
        assert_same(gpd.GeoDataFrame({"v": [v], "o": pd.Series([v], dtype=object)}, geometry=[shapely.Point(v, -v)], crs="EPSG:4326"))
    for text in TEXTS:
        assert_same(gpd.GeoDataFrame({text or "empty": [text]}, geometry=[shapely.Point(108, 30)], crs="EPSG:4326"))


def test_columns_whose_names_meet_as_text_keep_the_first_place_and_the_last_value():
    gdf = gpd.GeoDataFrame({1: [1, 2], "a": ["x", "y"], "1": [3.5, None]}, geometry=[shapely.Point(108, 30)] * 2, crs="EPSG:4326")
    assert_same(gdf)
    assert json.loads(io.geojson_text(gdf))["features"][0]["properties"] == {"1": 3.5, "a": "x"}


@pytest.mark.parametrize("seed", range(6))
def test_bad_cells_are_refused_with_the_same_message(seed):
    rng = np.random.default_rng(100 + seed)
    gdf = random_frame(seed, 30, allow_z=False)
    bads = [float("inf"), -float("inf"), object(), {"deep": [1, float("inf")]}, np.float64("-inf"), shapely.Point(0, 0), 1j]
    for _ in range(3):  # a few bad cells in random places: the first in feature order, then column order, is named
        row, col = int(rng.integers(len(gdf))), str(rng.choice(["value", "nullable_float", "odd", "numbers_as_objects", "名称"]))
        bad = bads[int(rng.integers(len(bads)))]
        numeric = col in ("value", "nullable_float")
        if numeric and not isinstance(bad, float):
            bad = float("inf")
        column = gdf[col].copy() if numeric else gdf[col].astype(object)
        column.iloc[row] = bad
        gdf[col] = column
        assert_same(gdf)
        with pytest.raises(DataFileError):
            io.geojson_text(gdf)


def test_bad_coordinates_are_refused_with_the_same_message():
    gdf = random_frame(7, 20, allow_z=False)
    geoms = gdf.geometry.to_numpy().copy()
    with np.errstate(invalid="ignore"):  # GEOS warns of the NaN it is asked to hold
        geoms[13] = shapely.from_wkt("LINESTRING (108 30, NaN 30)")
    geoms[15] = shapely.Point(float("inf"), 30)
    assert_same(gdf.set_geometry(list(geoms), crs="EPSG:4326"))
    with pytest.raises(DataFileError, match="feature 13: its geometry has a NaN or infinite coordinate"):
        io.geojson_text(gdf.set_geometry(list(geoms), crs="EPSG:4326"))


def test_an_infinite_height_is_refused_too():
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(108, 30, float("inf"))], crs="EPSG:4326")
    with pytest.raises(DataFileError, match="feature 0: its geometry has a NaN or infinite coordinate"):
        io.geojson_text(gdf)


@pytest.mark.parametrize("name", ["estates.geojson", "patrol_routes.geojson", "police_posts.geojson", "gazetteer.geojson",
                                  "checkin_points.geojson", "basemap.geojson"])
def test_shipped_data_gives_the_same_text(name):
    gdf = gpd.read_file(DATA / name)
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    meta = {k: v for k, v in doc.items() if k not in {"type", "features", "crs", "bbox"}}
    assert_same(gdf, metadata=meta)


def test_to_geojson_dict_is_the_text_parsed():
    gdf = random_frame(3, 40)
    want = json.loads(reference_geojson_text(gdf, metadata={"synthetic": True}))
    got = io.to_geojson_dict(gdf, metadata={"synthetic": True})
    assert got == want
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)  # -0.0, key order and types too


def test_round_like_python_on_values_near_a_half():
    rng = np.random.default_rng(5)
    k = rng.integers(-(10**12), 10**12, 200_000)
    near_half = (k + 0.5) / 1e7 + rng.choice([-1, 0, 1], k.size) * np.spacing((k + 0.5) / 1e7) * rng.integers(0, 3, k.size)
    values = np.concatenate([near_half, rng.normal(0, 200, 100_000), rng.uniform(-1e-6, 1e-6, 10_000), np.asarray(AWKWARD)])
    for digits in (0, 2, 7, 12, 15, 16, -1):
        want = [round(v, digits) for v in values.tolist()]
        got = round_like_python(values, digits).tolist()
        assert list(map(repr, got)) == list(map(repr, want)), digits


@pytest.mark.parametrize("seed", range(4))
def test_frames_of_points_only(seed):
    """Points alone take a shorter path (no GEOS text needed): the same text all the same."""
    rng = np.random.default_rng(seed)
    gdf = random_frame(seed, 80)
    points = [shapely.Point(_coordinate(rng), _coordinate(rng)) for _ in range(len(gdf))]
    assert_same(gdf.set_geometry(points, crs="EPSG:4326"), metadata={"synthetic": True})
    assert_same(gdf.set_geometry(points, crs="EPSG:4326").iloc[:0])


@pytest.mark.parametrize("seed", range(4))
def test_frames_of_lines_only(seed):
    """Lines alone take a shorter path too, empty lines included."""
    rng = np.random.default_rng(seed)
    gdf = random_frame(seed, 80)
    lines = [shapely.LineString([(_coordinate(rng), _coordinate(rng)) for _ in range(int(rng.integers(2, 9)))]) for _ in range(len(gdf))]
    lines[3] = shapely.from_wkt("LINESTRING EMPTY")
    assert_same(gdf.set_geometry(lines, crs="EPSG:4326"), metadata={"synthetic": True})
