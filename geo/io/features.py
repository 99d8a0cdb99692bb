"""Validating readers of features: GeoJSON, GeoPackage and lon/lat tables, every problem reported at once.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._gc import collector_paused
from geo._validate import blank_mask, check_geometries, check_line_caps, geometry_from_geojson, is_blank, parse_degrees
from geo.errors import DataFileError, DatumError, SchemaError
from geo.io import geojson_fast
from geo.io.frames import FeatureLabels, check_table
from geo.io.geojson_stream import Text, parse_document, walk_collection
from geo.io.parts import BROKEN, FeatureLocations, Parts, RecordColumns, blank_as_none, find_column, table_datum
from geo.io.tables import LAT_COLUMNS, LON_COLUMNS, TABLE_SUFFIXES, Input, Source, as_input, count_problems, read_table_problems
from geo.io.vector import OGR_SUFFIXES, PARQUET_SUFFIXES, read_ogr, read_parquet
from geo.io.writers import RESERVED_MEMBERS
from geo.schemas import ESTATES, INCIDENTS, PLAN, POSTS, ROUTES, Schema


def _read_geojson(path: Input) -> Parts:
    """Read a GeoJSON file into properties, geometries, its declared datum and CRS, and its problems.

    The common FeatureCollection (strict JSON, up to
    :data:`geo.io.geojson_fast.FAST_MAX_BYTES`) is decoded by msgspec with its
    text held whole (:mod:`geo.io.geojson_fast`). Any other is read block by
    block, walked member by member and its features taken in chunks
    (:func:`geo.io.geojson_stream.walk_collection`), so memory follows the
    table read, not the text or a parse of the whole document; anything else
    (a single Feature, an array, ...) is parsed whole. The parts are the same
    either way.
    """
    fast = _read_geojson_fast(path)
    if fast is not None:
        return fast
    text = Text(path)
    parts = Parts()
    features = _Features()
    top = walk_collection(text, path, features.take)
    whole = top is None or top.members.get("type") == "Feature"
    if whole:
        doc = parse_document(text.whole(), path)
        if isinstance(doc, dict) and doc.get("type") == "Feature":
            doc = {"type": "FeatureCollection", "features": [doc]}
            parts.notices.append(f"{path}: the file is a single GeoJSON Feature, not a FeatureCollection; read as a collection of one")
        collection = isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list)
        members = doc if isinstance(doc, dict) else {}
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
    else:
        members = top.members
        collection = members.get("type") == "FeatureCollection" and top.feature_count is not None
        found = members.get("type")
    if not collection:
        msg = f"{path}: not a GeoJSON FeatureCollection (found {found!r}); the top level must be {{\"type\": \"FeatureCollection\", \"features\": [...]}}"
        raise DataFileError(msg)
    _collection_members(parts, members)
    if whole:  # the whole document was parsed: its features are one chunk
        features = _Features()
        features.take(members["features"], 0)
        del doc, members
    else:
        tail, top.tail = top.tail, []
        features.take(tail, top.tail_start)
        del tail
    features.finish(parts)
    return parts


def _collection_members(parts: Parts, members: dict) -> None:
    """The file-level facts of a FeatureCollection's members: declared datum, other members kept, old-style CRS."""
    declared = members.get("datum")
    if declared is not None and not isinstance(declared, str):
        parts.problems.append(f"file: top-level 'datum' is {declared!r}; give a name: wgs84, gcj02 or bd09")
        declared = None
    parts.datum = declared
    parts.metadata = {k: v for k, v in members.items() if k not in (*RESERVED_MEMBERS, "datum")}
    if members.get("crs") is not None:
        parts.crs = _crs_member(members["crs"], parts.problems)


def _read_geojson_fast(path: Input) -> Parts | None:
    """The common FeatureCollection read by :mod:`geo.io.geojson_fast`; None when the exact reader must read it.

    Nothing of a fast read that stops half-way is kept: the caller then reads
    the whole file the exact way.
    """
    with collector_paused():  # decoded JSON holds no cycles (geo._gc)
        collection = geojson_fast.decode_collection(path)
        if collection is None:
            return None
        features = _Features()
        try:
            for chunk in collection.chunks:
                features.take_decoded(chunk)
        except geojson_fast.NotPlain:
            return None
    parts = Parts()
    _collection_members(parts, collection.members)
    features.finish(parts)
    if collection.columns is not None:  # the properties came as columns from Arrow
        columns = collection.columns
        index = pd.RangeIndex(features.count)
        parts.props = (pd.DataFrame(columns.values, index=index, columns=list(columns.values), dtype=object) if columns.values
                       else pd.DataFrame(index=index))  # as records_frame gives features without properties
        parts.facts = columns.facts
        parts.exact_props = columns.exact
    return parts


class _Features:
    """The features of a FeatureCollection taken chunk by chunk: properties into columns, geometries built, problems in file order."""

    def __init__(self):
        self.count = 0
        self.columns = RecordColumns()
        self.geoms: list = []
        self.shape_problems: list[str] = []  # not a Feature, properties not an object: reported before geometry problems, as ever
        self.geometry_problems: list[str] = []

    def take(self, feats: list, start: int) -> None:
        """Take features ``start``, ``start + 1``, ... (the chunk's dicts are not kept)."""
        if all(type(f) is dict and f.get("type") == "Feature" and type(f.get("properties")) in _PROPERTY_TYPES for f in feats):
            records = [f.get("properties") or {} for f in feats]  # the common case: every feature well formed
            raw = [f.get("geometry") for f in feats]
        else:
            records, raw = [], []
            for i, feat in enumerate(feats, start):
                where = f"feature {i}"
                if not isinstance(feat, dict) or feat.get("type") != "Feature":
                    self.shape_problems.append(f"{where}: not a GeoJSON Feature object ({{\"type\": \"Feature\", \"properties\": ..., \"geometry\": ...}})")
                    records.append({})
                    raw.append(BROKEN)
                    continue
                p = feat.get("properties")
                if p is not None and not isinstance(p, dict):
                    self.shape_problems.append(f"{where}: 'properties' is {type(p).__name__}, not a JSON object; write it as {{\"name\": value, ...}}")
                    p = None
                records.append(p or {})
                raw.append(feat.get("geometry"))
        self.columns.add(records)
        del records  # the columns hold the values; the dicts go
        self.geoms.extend(build_geometries(raw, FeatureLocations(len(raw), start=start), self.geometry_problems))
        self.count = start + len(raw)

    def take_decoded(self, chunk: geojson_fast.Chunk) -> None:
        """Take a chunk of the fast path: plain geometries come built, the others go through :func:`build_geometries`."""
        if chunk.records is not None:
            self.columns.add(chunk.records)
        geoms = chunk.geoms
        general = [i for i, g in enumerate(geoms) if g is not None and not isinstance(g, shapely.Geometry)]
        if general:
            where = [f"feature {chunk.start + i}" for i in general]
            for i, geom in zip(general, build_geometries([geoms[i] for i in general], where, self.geometry_problems), strict=True):
                geoms[i] = geom
        self.geoms.extend(geoms)
        self.count = chunk.start + len(geoms)

    def finish(self, parts: Parts) -> None:
        """Put the features into ``parts``."""
        parts.locations = FeatureLocations(self.count)
        parts.props = self.columns.frame()
        parts.as_read = True
        parts.geoms = self.geoms
        parts.problems += self.shape_problems + self.geometry_problems


_PROPERTY_TYPES = (dict, type(None))


def _plain_number(value) -> bool:
    """A finite float, or an int a float can hold exactly enough (huge ints take the one-by-one path and its message)."""
    if type(value) is float:
        return math.isfinite(value)
    return type(value) is int and abs(value) <= 10**15


def _plain_xy(pair) -> bool:
    """True for a GeoJSON position of exactly two finite JSON numbers (``[lon, lat]``)."""
    return type(pair) is list and len(pair) == 2 and _plain_number(pair[0]) and _plain_number(pair[1])


def build_geometries(raw: list, locations: list[str], problems: list[str]) -> list:
    """Build the geometries of GeoJSON features in bulk.

    Plain 2-D points and line strings (the bulk of any real file) are built
    with one :func:`shapely.points` / :func:`shapely.linestrings` call each;
    every other geometry goes through :func:`shapely.geometry.shape` one by
    one, so anything odd is built, or reported, exactly as before.

    Parameters
    ----------
    raw
        The ``geometry`` member of each feature (None, or the broken marker, kept).
    locations, problems
        Where each feature is, and the list that collects problems.
    """
    out = list(raw)
    kinds = [g.get("type") if type(g) is dict else None for g in raw]
    point_at = np.array([i for i, k in enumerate(kinds) if k == "Point"], dtype=np.int64)
    line_at = np.array([i for i, k in enumerate(kinds) if k == "LineString"], dtype=np.int64)
    done = np.zeros(len(raw), dtype=bool)
    if len(point_at):
        plain, xy = _plain_positions([raw[i].get("coordinates") for i in point_at.tolist()])
        for i, geom in zip(point_at[plain].tolist(), shapely.points(xy[plain]).tolist(), strict=True):
            out[i] = geom
        done[point_at[plain]] = True
    if len(line_at):
        coords = [raw[i].get("coordinates") for i in line_at.tolist()]
        listed = np.fromiter((type(c) is list and len(c) >= 2 for c in coords), dtype=bool, count=len(coords))
        counts = np.array([len(c) for c in coords], dtype=np.int64) * listed
        plain, xy = _plain_positions([v for c, ok in zip(coords, listed.tolist(), strict=True) if ok for v in c])
        owner = np.repeat(np.arange(len(coords)), counts)
        whole = listed & (np.bincount(owner, weights=~plain, minlength=len(coords)) == 0)
        keep = whole[owner]
        lines = shapely.linestrings(xy[keep], indices=np.repeat(np.arange(int(whole.sum())), counts[whole]))
        for i, geom in zip(line_at[whole].tolist(), lines.tolist(), strict=True):
            out[i] = geom
        done[line_at[whole]] = True
    for i in np.flatnonzero(~done).tolist():
        g = raw[i]
        if g is None or g is BROKEN:
            continue
        geom, problem = geometry_from_geojson(g, locations[i])  # the one builder: same message as every other reader
        if problem is not None:
            problems.append(problem)
            geom = BROKEN
        out[i] = geom
    return out


def _plain_positions(positions: list) -> tuple[np.ndarray, np.ndarray]:
    """Which GeoJSON positions are plain ``[lon, lat]`` pairs of finite JSON numbers, and their (n, 2) coordinates.

    Checked on whole arrays; a list that is not all pairs is checked one by one
    (:func:`_plain_xy`). Coordinates of positions that are not plain are 0.
    """
    n = len(positions)
    try:
        arr = np.array(positions, dtype=object)
        if arr.shape == (n, 2):
            return _plain_array(arr)
    except (ValueError, OverflowError):  # ragged deeper down, or a number beyond a float
        pass
    plain = np.fromiter(map(_plain_xy, positions), dtype=bool, count=n)
    xy = np.zeros((n, 2))
    if plain.any():
        xy[plain] = np.array([p for p, ok in zip(positions, plain.tolist(), strict=True) if ok], dtype=float)
    return plain, xy


def _plain_array(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_plain_positions` of an (n, 2) object array."""
    n = len(arr)
    types = _TYPE_OF(arr)
    is_float, is_int = types == float, types == int  # noqa: E721 - element-wise on an array of types
    numbers = is_float | is_int
    values = np.zeros((n, 2))
    values[numbers] = arr[numbers].astype(float)
    ok = numbers & np.isfinite(values) & (~is_int | (np.abs(values) <= 1e15))
    plain = ok.all(axis=1)
    return plain, np.where(plain[:, None], values, 0.0)


_TYPE_OF = np.frompyfunc(type, 1, 1)


def _crs_member(member, problems: list[str]) -> pyproj.CRS | None:
    """Return the CRS named by an old-style GeoJSON ``crs`` member, or None when it is WGS-84 lon/lat."""
    name = member.get("properties", {}).get("name") if isinstance(member, dict) and isinstance(member.get("properties"), dict) else member
    text = str(name)
    if any(tag in text.upper() for tag in ("CRS84", "EPSG::4326", "EPSG:4326", "EPSG::4490", "EPSG:4490")):
        return None
    try:
        found = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        problems.append(f"file: 'crs' member names {text!r}, which is not a known CRS; RFC 7946 GeoJSON is WGS-84 lon/lat: reproject to EPSG:4326 and drop the member")
        return None
    if found.is_geographic and found.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    return found


def _read_table_parts(path: Input, id_field: str) -> Parts:
    df, problems = read_table_problems(path)
    parts = Parts()
    parts.problems.extend(problems)
    rows = df.attrs["rows"]
    n = len(df)
    parts.locations = [f"row {k}" for k in rows]
    lon_col = find_column(df.columns, LON_COLUMNS)
    lat_col = find_column(df.columns, LAT_COLUMNS)
    wkt_col = find_column(df.columns, ("geometry", "wkt"))
    datum_col = find_column(df.columns, ("datum", "坐标系"))
    if wkt_col is None and (lon_col is None or lat_col is None):
        parts.problems.append(
            "file: no coordinate columns: add 'lon' and 'lat' (or 经度 and 纬度) columns in degrees, or a 'geometry' column of WKT "
            f"(columns found: {', '.join(map(str, df.columns)) or 'none'})"
        )
        parts.check_coordinates = False
    if datum_col is not None:
        parts.datum = table_datum(df[datum_col], rows, datum_col, parts.problems)
    coord_cols = [c for c in (lon_col, lat_col, wkt_col, datum_col) if c is not None]
    parts.props = blank_as_none(df.drop(columns=coord_cols))
    ids = parts.props[id_field].to_numpy(dtype=object) if id_field in parts.props.columns else np.full(n, None, dtype=object)
    labels = FeatureLabels(ids, parts.locations)
    geoms = np.full(n, None, dtype=object)
    broken = np.zeros(n, dtype=bool)
    found: list[tuple[int, str]] = []
    if not parts.check_coordinates:
        broken[:] = True
    elif wkt_col is not None:
        text = df[wkt_col].to_numpy(dtype=object)
        given = ~blank_mask(text)
        geoms[given] = shapely.from_wkt(text[given].astype(str), on_invalid="ignore")
        for i in np.flatnonzero(given & shapely.is_missing(geoms)).tolist():  # only the failures, for their message
            try:
                geoms[i] = shapely.from_wkt(str(text[i]))
            except shapely.errors.GEOSException as exc:
                found.append((i, f"{labels[i]}, field '{wkt_col}': not valid WKT ({exc})"))
                broken[i] = True
    else:
        raw_lon, raw_lat = df[lon_col].to_numpy(dtype=object), df[lat_col].to_numpy(dtype=object)
        lon, lat = _degrees(raw_lon), _degrees(raw_lat)
        both_blank = blank_mask(raw_lon) & blank_mask(raw_lat)
        bad = ~both_blank & (np.isnan(lon) | np.isnan(lat))
        for i in np.flatnonzero(bad).tolist():
            for col, raw, val in ((lon_col, raw_lon[i], lon[i]), (lat_col, raw_lat[i], lat[i])):
                if np.isnan(val):
                    what = "is empty" if is_blank(raw) else f"{raw!r} is not a number of degrees"
                    found.append((i, f"{labels[i]}, field '{col}': {what}; give decimal degrees such as 108.3712"))
        broken |= bad
        ok = ~both_blank & ~bad
        geoms[ok] = shapely.points(np.column_stack([lon[ok], lat[ok]]))
    found.sort(key=lambda p: p[0])
    parts.problems += [m for _, m in found]
    geoms[broken] = BROKEN
    parts.geoms = geoms
    return parts


def _degrees(values: np.ndarray) -> np.ndarray:
    """:func:`geo._validate.parse_degrees` of a whole column: float degrees, NaN where there is no number."""
    out = np.full(len(values), np.nan)
    text = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
    plain = text.copy()
    if text.any():
        cells = pd.Series(values[text], dtype=object)
        plain[text] = cells.map(str.isascii).to_numpy(dtype=bool)
        try:
            out[plain] = pd.Series(values[plain], dtype=object).str.strip().to_numpy(dtype=object).astype(float)
        except (ValueError, OverflowError):  # degree signs, 'E'/'N', junk: the one-by-one reader
            plain[:] = False
    for i in np.flatnonzero(~plain).tolist():
        v = parse_degrees(values[i])
        out[i] = np.nan if v is None else v
    out[~np.isfinite(out)] = np.nan
    return out


def read_features(
    path: Source | Input,
    schema: Schema,
    *,
    datum: str | None = None,
    layer: str | None = None,
    extra_checks=None,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate a vector file against ``schema``.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, CSV or XLSX: a path, the file's bytes or a
        binary file object (an upload).
    schema
        One of :data:`geo.schemas.SCHEMAS`.
    datum
        Datum of the coordinates (``wgs84``, ``gcj02``, ``bd09``) when the
        file does not declare one. A file that declares a different datum is
        reported as a problem rather than guessed at.
    layer
        GeoPackage layer name (default: the first layer).
    extra_checks
        Optional ``f(props, geoms, locations) -> list[str]`` for checks only one
        kind of file needs (e.g. house-number ranges of a gazetteer). It sees the
        raw properties and geometries, one entry per feature, and its problems are
        reported together with the schema's, so a file is fixed in one pass.
    name
        The file's name for messages and to tell its format (needed for
        bytes; default the path or the file object's ``name``).

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS-84 (EPSG:4326), properties typed as the schema says.
        ``attrs["notices"]`` lists what was done to the data on reading
        (datum or CRS conversions), ``attrs["source"]`` the file's name,
        ``attrs["metadata"]`` the other top-level members of a GeoJSON file
        (e.g. ``synthetic``, ``note``, ``version``).

    Raises
    ------
    DataFileError
        If the file is missing, empty or not of its format.
    SchemaError
        With every problem of the file, one per line.
    """
    path = as_input(path, name=name)
    suffix = path.suffix
    if suffix in {".geojson", ".json"}:
        parts = _read_geojson(path)
    elif suffix in OGR_SUFFIXES:
        parts = read_ogr(path, layer)
    elif suffix in PARQUET_SUFFIXES:
        parts = read_parquet(path)
    elif suffix in TABLE_SUFFIXES:
        parts = _read_table_parts(path, schema.id_field)
    else:
        msg = f"{path}: unsupported file type {suffix!r}; use .geojson, .gpkg, .fgb, .parquet, .csv or .xlsx"
        raise DataFileError(msg)
    problems, notices = parts.problems, parts.notices
    if schema is ESTATES and not len(parts.geoms) and not problems:
        problems.append(f"file: no estates in it; an estates file needs one feature or row per estate ({schema.id_field} SH-01, ...)")

    src_datum = _source_datum(datum, parts.datum, problems)
    geoms, checkable = _geometry_array(parts.geoms)
    if parts.crs is not None:
        geoms = _reproject(geoms, parts.crs)
        notices.append(f"{path}: coordinates were in {parts.crs.name} ({parts.crs.to_string()}) and were reprojected to WGS-84 lon/lat")

    frame_problems, gdf = check_table(
        parts.props, geoms, schema, checkable=checkable, locations=parts.locations,
        check_coordinates=parts.check_coordinates, key_count=parts.key_count, facts=parts.facts,
    )
    problems.extend(frame_problems)
    if extra_checks is not None:
        as_list = [g if ok else BROKEN for g, ok in zip(geoms.tolist(), checkable.tolist(), strict=True)]
        problems.extend(extra_checks(parts.record_list(), as_list, parts.location_list()))
    problems.sort(key=_problem_order)
    if problems:
        msg = f"{path}: {count_problems(problems)} in this {schema.name} file"
        raise SchemaError(msg, problems)
    if src_datum != "wgs84" and len(gdf):
        gdf = gdf.set_geometry(_crs.convert_geometries(gdf.geometry.values, src=src_datum, dst="wgs84"), crs=settings.storage_crs)
        notices.append(f"{path}: coordinates were declared {src_datum.upper()} and converted to WGS-84")
    gdf.attrs["notices"] = notices
    gdf.attrs["source"] = str(path)
    gdf.attrs["metadata"] = parts.metadata
    return gdf


def read_lines(path: Source | Input, *, datum: str | None = None, name: str | None = None) -> list[shapely.Geometry]:
    """Read the lines of a GeoJSON file (or its bytes) with the checks ``validate`` applies to a routes file.

    The one path for route lines from any source: ``routes add``, the app's
    upload, paste and drawing (:func:`geo.routes.edits.lines_from_geojson`).
    Geometries are built by :func:`geo._validate.geometry_from_geojson` and
    checked by :func:`geo._validate.check_geometries`, as :func:`read_features`
    does, so the same file always gets the same message.

    Parameters
    ----------
    path
        GeoJSON FeatureCollection or Feature: a path, bytes or a file object.
    datum
        Datum of the coordinates when the file does not declare one (default
        wgs84); a file's own ``datum`` member wins.
    name
        The user's name of the file, for messages.

    Returns
    -------
    list of shapely LineString / MultiLineString in WGS-84 degrees.

    Raises
    ------
    DataFileError
        If the file is not JSON or not GeoJSON.
    SchemaError
        With every problem (feature numbered from 0), or when there is no line.
    """
    path = as_input(path, name=name)
    parts = _read_geojson(path)
    problems = parts.problems
    src_datum = _source_datum(None, parts.datum, problems) if parts.datum is not None else _crs.normalize_datum(datum or "wgs84")
    geoms = parts.geoms
    if parts.crs is not None:
        geoms = _reproject(geoms, parts.crs)
    usable = [i for i, g in enumerate(geoms) if g is not BROKEN]
    arr = np.empty(len(usable), dtype=object)
    arr[:] = [geoms[i] for i in usable]
    problems.extend(check_geometries(arr, [f"{path}, {parts.locations[i]}" for i in usable], ROUTES))
    problems = [p if p.startswith(str(path)) else f"{path}, {p}" for p in problems]
    if problems:
        msg = f"{path}: {count_problems(problems)}; no line was taken"
        raise SchemaError(msg, problems)
    lines = [geoms[i] for i in usable]
    check_line_caps(lines, str(path))
    if not lines:
        msg = f"{path}: no line found"
        raise SchemaError(msg, [f"{path}: draw or give at least one LineString"])
    if src_datum != "wgs84":
        lines = list(_crs.convert_geometries(lines, src=src_datum, dst="wgs84"))
    return lines


_LOCATION = re.compile(r"^(row|feature) (\d+)\b")


def _problem_order(problem: str) -> tuple[int, int]:
    """Sort key: problems of the whole file first, then by row or feature (the sort is stable)."""
    m = _LOCATION.match(problem)
    return (1, int(m[2])) if m else (0, 0)


def _source_datum(given: str | None, declared: str | None, problems: list[str]) -> str:
    """Return the datum of a file's coordinates from the caller's and the file's word."""
    names = {}
    if given is not None:
        names["given"] = _crs.normalize_datum(given)  # the caller's mistake: raise at once
    if declared is not None:
        try:
            names["declared"] = _crs.normalize_datum(declared)
        except DatumError as exc:
            problems.append(f"file: declared datum: {exc}")
    if len(set(names.values())) > 1:
        problems.append(
            f"file: declares datum {names['declared']} but {names['given']} was asked for; "
            "remove the file's datum member/column or ask for the datum it declares"
        )
    return names.get("declared", names.get("given", "wgs84"))


def _geometry_array(geoms) -> tuple[np.ndarray, np.ndarray]:
    """The geometries as an object array (None where missing or broken) and which of them can be checked (not broken)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms) if not isinstance(geoms, np.ndarray) else geoms
    checkable = np.fromiter((g is not BROKEN for g in arr), dtype=bool, count=len(arr))
    arr[~checkable] = None
    return arr, checkable


def _reproject(geoms, crs: pyproj.CRS) -> np.ndarray:
    """The geometries from ``crs`` to WGS-84 lon/lat, every coordinate in one transform (None and broken ones kept)."""
    transformer = pyproj.Transformer.from_crs(crs, settings.storage_crs, always_xy=True)

    def _transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = np.empty(len(geoms), dtype=object)
    out[:] = list(geoms)
    real = np.fromiter((g is not None and g is not BROKEN for g in out), dtype=bool, count=len(out))
    out[real] = shapely.transform(out[real], _transform)
    return out


def read_estates(path: Source | None = None, *, datum: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read the estates file (default ``data/estates.geojson``), validated; see :func:`read_features`."""
    return read_features(settings.data_path("estates.geojson") if path is None else path, ESTATES, datum=datum, name=name)


def read_routes(path: Source | None = None, *, datum: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read patrol routes (default ``data/patrol_routes.geojson``), validated; see :func:`read_features`."""
    return read_features(settings.data_path("patrol_routes.geojson") if path is None else path, ROUTES, datum=datum, name=name)


def read_incidents(path: Source, *, datum: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read an incidents vector file, validated; see :func:`read_features`."""
    return read_features(path, INCIDENTS, datum=datum, name=name)


def read_plan(path: Source, *, datum: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read an extension plan (``python -m geo optimise --out``), validated; see :func:`read_features`."""
    return read_features(path, PLAN, datum=datum, name=name)


def read_posts(path: Source | None = None, *, datum: str | None = None, name: str | None = None) -> gpd.GeoDataFrame:
    """Read police posts (default ``data/police_posts.geojson``), validated; see :func:`read_features`."""
    return read_features(settings.data_path("police_posts.geojson") if path is None else path, POSTS, datum=datum, name=name)
