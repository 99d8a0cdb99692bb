"""Validation of features against a schema, collecting every problem before raising.

The readers of :mod:`geo.io` turn a file into one dict of properties and one
shapely geometry per feature, then call :func:`check_frame`, which returns
every problem of the file (missing, unknown and mistyped fields, duplicate
ids, missing, empty, mistyped or invalid geometry, coordinates outside China
or with latitude and longitude swapped) and, when there is none, the typed
GeoDataFrame. Geometry checks run on whole arrays with shapely's vectorised
functions; only features with a problem are looked at one by one.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.crs import in_china
from geo.schemas import Schema

_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}
#: Words read as true / false in a true/false field (lower case, spaces stripped).
TRUE_WORDS, FALSE_WORDS = frozenset(_TRUE), frozenset(_FALSE)

_LINE_TYPES = ("LineString", "MultiLineString")
_AREA_TYPES = ("Polygon", "MultiPolygon")
_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
#: The type name of each shapely type id, indexed by id + 1 (-1: missing).
_TYPE_NAME_OF_ID = np.array(["?"] + [_TYPE_NAMES.get(t, "?") for t in range(max(_TYPE_NAMES) + 1)], dtype=object)
_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>\S+) (?P<y>\S+)\]\s*$")


def is_blank(value) -> bool:
    """Return True for None, NaN, pandas' missing values and whitespace-only text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return isinstance(value, str) and not value.strip()


#: ``isinstance`` of every element of an object array, in one C loop.
_IS_INSTANCE = np.frompyfunc(isinstance, 2, 1)


def text_mask(values) -> np.ndarray:
    """``isinstance(v, str)`` of every cell of a column, as a bool array."""
    values = np.asarray(values, dtype=object)
    return _IS_INSTANCE(values, str).astype(bool) if len(values) else np.zeros(0, dtype=bool)


def blank_mask(values) -> np.ndarray:
    """:func:`is_blank` of every cell of a column (None, NaN, pandas' missing values, whitespace-only text), as a bool array."""
    values = np.asarray(values, dtype=object)
    out = np.asarray(pd.isna(values), dtype=bool).copy()
    text = np.flatnonzero(text_mask(values))
    if len(text):
        out[text] = [not v.strip() for v in values[text].tolist()]
    return out


def is_true(value) -> bool:
    """Return True for a true flag: True, 1, or text such as ``true``, ``yes``, ``是`` (blank is False)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_blank(value):
        return False
    return str(value).strip().lower() in _TRUE


def ascii_text(text: str) -> str:
    """Return ``text`` with full-width digits, signs and spaces (typed with a Chinese input method) as ASCII.

    Unicode NFKC folds ``１０８．３`` to ``108.3`` and the ideographic space to
    a space; the minus sign U+2212, which NFKC keeps, becomes ``-``.
    """
    return unicodedata.normalize("NFKC", text).replace("\u2212", "-")


def parse_degrees(value) -> float | None:
    """Read a number of degrees: full-width digits, a degree sign or a trailing E/N are accepted.

    Returns
    -------
    float or None
        None for a blank, a non-number or a non-finite number.
    """
    if is_blank(value):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value) if np.isfinite(value) else None
    text = ascii_text(str(value)).strip().replace("°", "").replace("º", "").rstrip("ENen").strip()
    try:
        out = float(text)
    except ValueError:
        return None
    return out if np.isfinite(out) else None


def lonlat_problem(lon, lat) -> np.ndarray:
    """Classify points by where they lie: ``""`` in China, ``"swapped"`` in China only as (lat, lon), ``"outside"``.

    Parameters
    ----------
    lon, lat
        Degrees (scalars or arrays); NaN counts as outside.

    Returns
    -------
    numpy.ndarray of str
        One code per point (a 0-d array for scalars: compare with ``==``).
    """
    inside, swapped = lonlat_sides(lon, lat)
    return np.where(inside, "", np.where(swapped, "swapped", "outside"))


def lonlat_sides(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lonlat_problem` as booleans, for arrays where its text codes would cost more than the test.

    Returns
    -------
    inside, swapped
        True where a point lies in China, and where it lies there only as
        (lat, lon); never both. NaN is neither.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = in_china(lon, lat)
    return inside, ~inside & in_china(lat, lon)


def coerce(value, kind: str):
    """Convert ``value`` to ``kind`` (``str``, ``int``, ``float`` or ``bool``).

    Text with full-width digits (``１０８．３``) is read as the ASCII number.

    Raises
    ------
    ValueError
        With the reason (e.g. ``"is not a whole number"``) if it cannot.
    """
    if isinstance(value, (dict, list, tuple)):
        what = "a JSON object" if isinstance(value, dict) else "a JSON list"
        msg = f"is {what}, not {KIND_WORDS[kind]}"
        raise ValueError(msg)
    if kind == "str":
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("is a boolean (true/false), not text")
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        return str(value).strip()
    if kind == "int":
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("is a boolean, not a whole number")
        if isinstance(value, (int, np.integer)):
            return int(value)
        f = _to_float(value, "is not a whole number")
        if not f.is_integer():
            raise ValueError("is not a whole number")
        return int(f)
    if kind == "float":
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("is a boolean, not a number")
        return _to_float(value, "is not a number")
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("is not true/false (use true or false)")
    msg = f"unknown field kind {kind!r}"
    raise AssertionError(msg)


KIND_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false"}


def _to_float(value, reason: str) -> float:
    try:
        f = float(ascii_text(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(reason) from None
    if not np.isfinite(f):
        raise ValueError("is not a finite number")
    return f


def describe_reason(reason: str) -> str:
    """Turn a shapely validity reason such as ``Self-intersection[108.37 30.84]`` into words with the location."""
    m = _REASON.match(reason)
    if not m:
        return reason
    return f"{m['what']} at lon {m['x']}, lat {m['y']}"


_DIMENSIONS = re.compile(r"dimension should be 2 or 3, got (\d+)")


def geometry_from_geojson(geom, where: str) -> tuple[shapely.Geometry | None, str | None]:
    """Build a shapely geometry from a GeoJSON geometry object, or say in one line why it cannot be built.

    The one builder behind every reader of GeoJSON geometries (files checked by
    ``validate``, lines added with ``routes add``, uploads, pastes and drawings
    in the app), so the same geometry always gets the same message.

    Parameters
    ----------
    geom
        The ``geometry`` member (a dict).
    where
        Location for the message, e.g. ``"routes.geojson, feature 3"``.

    Returns
    -------
    (geometry, None) or (None, problem)
    """
    if not isinstance(geom, dict) or not isinstance(geom.get("type"), str):
        return None, f"{where}: the geometry is not a GeoJSON geometry object ({{\"type\": ..., \"coordinates\": [...]}})"
    kind = geom["type"]
    coords = geom.get("coordinates")
    if kind in ("Polygon", "MultiPolygon") and isinstance(coords, list):
        polygons = coords if kind == "MultiPolygon" else [coords]
        for p_i, rings in enumerate(polygons):
            for r_i, ring in enumerate(rings if isinstance(rings, list) else []):
                if isinstance(ring, list) and len(ring) >= 2 and ring[0] != ring[-1]:
                    part = f"polygon {p_i}, " if kind == "MultiPolygon" else ""
                    return None, (f"{where}: {part}ring {r_i} is not closed (its first point {ring[0]} differs from its last {ring[-1]}); "
                                  "close it (repeat the first point at the end) in a GIS and save again")
    if kind == "MultiLineString" and isinstance(coords, list):
        for k, part in enumerate(coords):
            if isinstance(part, list) and len(part) < 2:
                return None, (f"{where}: part {k} of the MultiLineString has {len(part)} point(s); "
                              "give every part at least two points or remove it")
    if kind == "LineString" and isinstance(coords, list) and len(coords) < 2:
        return None, f"{where}: the line has {len(coords)} point(s); a line needs at least two different points"
    try:
        return shapely.geometry.shape(geom), None
    except RecursionError:
        return None, f"{where}: the coordinates are nested too deeply to be a {kind}; give [lon, lat] pairs"
    except OverflowError:
        return None, f"{where}: a coordinate is too large a number; give degrees of longitude and latitude"
    except Exception as exc:  # noqa: BLE001 - shapely raises several types on malformed coordinates
        dims = _DIMENSIONS.search(str(exc))
        if dims:
            return None, f"{where}: every point has {dims.group(1)} numbers; give [lon, lat] (or [lon, lat, height])"
        return None, f"{where}: the geometry cannot be built ({type(exc).__name__}: {exc}); check its 'type' and 'coordinates'"


def check_line_caps(lines, source: str) -> None:
    """Refuse route lines beyond :data:`geo.settings.route_max_vertices_per_line` / ``_per_input``.

    Parameters
    ----------
    lines
        Shapely lines of one input.
    source
        The input's name for the message.

    Raises
    ------
    SchemaError
        Naming the first line over the cap, or the total.
    """
    from geo.errors import SchemaError

    counts = shapely.get_num_coordinates(np.asarray(list(lines), dtype=object)) if len(lines) else np.zeros(0, dtype=int)
    per_line, per_input = settings.route_max_vertices_per_line, settings.route_max_vertices_per_input
    over = np.flatnonzero(counts > per_line)
    if len(over):
        i = int(over[0])
        msg = (f"{source}, feature {i}: the line has {int(counts[i]):,} vertices, more than {per_line:,}; "
               "simplify it (e.g. QGIS Simplify, 1-2 m tolerance) or thin the GPS track before adding it")
        raise SchemaError(msg)
    if counts.sum() > per_input:
        msg = (f"{source}: {int(counts.sum()):,} vertices in all, more than {per_input:,} in one input; "
               "add the lines in several files or simplify them")
        raise SchemaError(msg)


def check_geometries(geoms, labels: list[str], schema: Schema) -> list[str]:
    """Return the problems of an array of geometries (already built), in feature order.

    Parameters
    ----------
    geoms
        Array-like of shapely geometries or None, lon/lat degrees.
    labels
        Location of each feature for messages (``"feature 3 (SH-04)"``, ``"row 5"``).
    schema
        Gives the allowed geometry types.

    Returns
    -------
    list of str
        One message per problem; at most one per feature, except for each
        zero-length part of a multi-line.
    """
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    if n == 0:
        return []
    found: dict[int, list[str]] = {}
    allowed = " or ".join(schema.geometry_types)

    missing = shapely.is_missing(arr)
    empty = shapely.is_empty(arr)
    type_ids = shapely.get_type_id(arr)
    names = _TYPE_NAME_OF_ID[np.asarray(type_ids) + 1]  # ids from -1 (missing)
    wrong_type = ~missing & ~empty & ~np.isin(names, schema.geometry_types)
    for i in np.flatnonzero(missing | empty):
        found[i] = [f"{labels[i]}: has {'no' if missing[i] else 'an empty'} geometry; give it a {allowed} in WGS-84 lon/lat"]
    for i in np.flatnonzero(wrong_type):
        found[i] = [f"{labels[i]}: geometry is a {names[i]}; this file takes {allowed}"]
    ok = ~(missing | empty | wrong_type)

    coords, idx = shapely.get_coordinates(arr[ok], return_index=True)
    feature = np.flatnonzero(ok)[idx]
    finite = np.isfinite(coords).all(axis=1)
    count = np.bincount(feature, minlength=n)
    bad_number = np.bincount(feature, weights=~finite, minlength=n) > 0
    safe = np.where(finite[:, None], coords, 0.0)
    inside, inside_swapped = lonlat_sides(safe[:, 0], safe[:, 1])  # booleans: text codes took 0.17 s for a province's route vertices
    inside &= finite
    inside_swapped &= finite
    all_inside = np.bincount(feature, weights=inside, minlength=n) == count
    swapped = ~all_inside & (np.bincount(feature, weights=inside_swapped, minlength=n) == count) & ok & ~bad_number
    outside = ok & ~bad_number & ~swapped & ~all_inside
    first = _first_row(feature, np.ones(len(feature), dtype=bool), n)
    first_outside = _first_row(feature, ~inside, n)
    for i in np.flatnonzero(ok & bad_number):
        found[i] = [f"{labels[i]}: geometry has a missing (NaN) or infinite coordinate; give every vertex two numbers of degrees"]
    for i in np.flatnonzero(swapped):
        x, y = coords[first[i]]
        found[i] = [
            f"{labels[i]}: latitude and longitude look swapped (first vertex {x:.6f}, {y:.6f} lies in China only as lat, lon); "
            "GeoJSON and this project put longitude first: swap the two values"
        ]
    for i in np.flatnonzero(outside):
        x, y = coords[first_outside[i]]
        if abs(x) > 180 or abs(y) > 90:  # no longitude/latitude at all: metres of a projected system such as EPSG:4545
            found[i] = [
                f"{labels[i]}: coordinate (lon {x:.6f}, lat {y:.6f}) lies outside China and is not in degrees (it looks like metres "
                "of a projected system such as EPSG:4545); convert it to degrees of WGS-84, GCJ-02 or BD-09 first"
            ]
            continue
        found[i] = [
            f"{labels[i]}: coordinate (lon {x:.6f}, lat {y:.6f}) lies outside China; "
            "check the numbers and that they are degrees of WGS-84, GCJ-02 or BD-09 (not metres)"
        ]
    ok &= ~(bad_number | swapped | outside)

    is_line = ok & np.isin(names, _LINE_TYPES)
    if is_line.any():
        parts, part_of = shapely.get_parts(arr[is_line], return_index=True)
        owners = np.flatnonzero(is_line)[part_of]
        zero = shapely.length(parts) == 0
        for j in np.flatnonzero(zero):
            i = owners[j]
            label = labels[i] if names[i] == "LineString" else f"{labels[i]}, part {j - np.searchsorted(owners, i)}"
            found.setdefault(i, []).append(f"{label}: the line has zero length (all its vertices are the same point); give it at least two different points")
        ok[owners[zero]] = False

    is_area = ok & np.isin(names, _AREA_TYPES)
    invalid = np.zeros(n, dtype=bool)
    invalid[is_area] = ~shapely.is_valid(arr[is_area])
    for i in np.flatnonzero(invalid):
        reason = describe_reason(shapely.is_valid_reason(arr[i]))
        found[i] = [f"{labels[i]}: invalid {names[i]}: {reason}; fix it in a GIS (e.g. QGIS 'Fix geometries') and save again"]
    return [msg for i in sorted(found) for msg in found[i]]


def _is_text(value) -> bool:
    """True for a ``str`` that is not blank (the common case, without :func:`is_blank`'s checks)."""
    return type(value) is str and not value.isspace() and value != ""


def _first_row(feature: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Index of the first coordinate row of each feature where ``mask`` holds (-1 if none)."""
    out = np.full(n, -1)
    rows = np.flatnonzero(mask)
    owners, first = np.unique(feature[rows], return_index=True)
    out[owners] = rows[first]
    return out


def check_frame(
    props: list[dict],
    geoms: list,
    schema: Schema,
    *,
    broken,
    locations: list[str] | None = None,
    check_coordinates: bool = True,
) -> tuple[list[str], gpd.GeoDataFrame | None]:
    """Validate feature properties and geometries against ``schema``.

    Parameters
    ----------
    props
        One dict of properties per feature.
    geoms
        One shapely geometry (or None, or the ``broken`` marker) per feature.
    schema
        The schema.
    broken
        Marker object for geometries that could not be built (already reported).
    locations
        Where each feature is, as a user finds it (``"row 5"`` in a table,
        header = row 1); default ``"feature i"``, counted from 0.
    check_coordinates
        False to skip the geometry checks (e.g. when the file's coordinates
        are already known to be unusable and that was reported).

    Returns
    -------
    (problems, gdf)
        Every problem, one string each, and the typed GeoDataFrame in
        EPSG:4326 (None when there are problems).
    """
    problems: list[str] = []
    n = len(props)
    if locations is None:
        locations = [f"feature {i}" for i in range(n)]
    ids = [p.get(schema.id_field) for p in props]
    labels = [
        f"{loc} ({fid})" if _is_text(fid) else loc if is_blank(fid) or isinstance(fid, (dict, list)) else f"{loc} ({fid})"
        for loc, fid in zip(locations, ids, strict=True)
    ]

    known = set(schema.field_index)
    unknown = Counter(k for p in props for k in p if k not in known and not str(k).startswith(schema.extra_prefix))
    for name, count in sorted(unknown.items(), key=lambda kv: str(kv[0])):
        close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            f"field '{name}': unknown in this {schema.name} file ({count} feature{'s' if count != 1 else ''}); {hint}"
            f"rename it to a schema field or prefix it with '{schema.extra_prefix}' to keep it as your own"
        )

    columns: dict[str, list] = {f.name: [None] * n for f in schema.fields}
    extras = sorted({k for p in props for k in p if str(k).startswith(schema.extra_prefix)}, key=str)
    for k in extras:
        columns[k] = [p.get(k) for p in props]
    for f in schema.fields:
        col = columns[f.name]
        need = f"every {schema.name} feature needs {f.description or 'it'}"
        values = [p.get(f.name) for p in props]
        if not f.required and all(v is None for v in values):
            continue  # an optional field no feature gives: nothing to check
        for i, value in enumerate(values):
            kind = type(value)
            # Fast paths for the values JSON readers give (same result as coerce).
            if f.kind == "str" and kind is str and value.strip():
                typed = value.strip()
            elif (kind is int and f.kind in ("int", "float")) or (kind is bool and f.kind == "bool"):
                typed = float(value) if f.kind == "float" else value
            elif kind is float and f.kind == "float" and math.isfinite(value):
                typed = value
            elif value is None or is_blank(value):
                if f.required:
                    problems.append(f"{labels[i]}, field '{f.name}': missing; {need}")
                continue
            else:
                try:
                    typed = coerce(value, f.kind)
                except ValueError as exc:
                    problems.append(f"{labels[i]}, field '{f.name}': {value!r} {exc}; expected {KIND_WORDS[f.kind]}")
                    continue
            if f.choices is not None and typed not in f.choices:
                problems.append(f"{labels[i]}, field '{f.name}': {typed!r} is not allowed; use one of {', '.join(map(str, f.choices))}")
                continue
            col[i] = typed

    where: dict[str, list[str]] = {}
    for loc, v in zip(locations, ids, strict=True):
        if _is_text(v) or (not is_blank(v) and not isinstance(v, (dict, list))):
            where.setdefault(str(v).strip(), []).append(loc)
    for fid, locs in sorted(where.items()):
        if len(locs) > 1:
            problems.append(f"field '{schema.id_field}': id {fid!r} is used {len(locs)} times ({', '.join(locs)}); ids must be unique")

    real = np.array([None if g is broken else g for g in geoms], dtype=object)
    if check_coordinates:
        checkable = np.array([g is not broken for g in geoms], dtype=bool)
        problems.extend(check_geometries(real[checkable], [labels[i] for i in np.flatnonzero(checkable)], schema))

    if problems:
        return problems, None
    return [], typed_frame(schema, columns, {k: columns[k] for k in extras}, real)


def typed_frame(schema: Schema, columns: dict, extras: dict, geometries) -> gpd.GeoDataFrame:
    """The checked values as a frame in the storage CRS: each schema field in its pandas dtype (an optional
    field with no value at all is left out), the ``extras`` (extra-prefixed fields) as text, then the geometries."""
    data = {}
    for f in schema.fields:
        col = columns.get(f.name)
        if col is None or (not f.required and all(v is None for v in col)):
            continue
        if f.kind == "int":
            data[f.name] = pd.array(col, dtype="Int64")
        elif f.kind == "float":
            data[f.name] = pd.array(col, dtype="Float64")
        elif f.kind == "bool":
            data[f.name] = pd.array(col, dtype="boolean")
        else:
            data[f.name] = pd.Series(col, dtype=object)
    for k, col in extras.items():
        data[k] = pd.Series(col, dtype=object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometries, crs=settings.storage_crs), crs=settings.storage_crs)
