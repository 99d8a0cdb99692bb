"""Validating readers of features: GeoJSON, GeoPackage and lon/lat tables, every problem reported at once.
"""

from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._validate import check_frame, check_geometries, check_line_caps, geometry_from_geojson, is_blank, parse_degrees
from geo.errors import DataFileError, DatumError, SchemaError
from geo.io.tables import LAT_COLUMNS, LON_COLUMNS, TABLE_SUFFIXES, Input, Source, as_input, count_problems, read_table_problems
from geo.io.writers import RESERVED_MEMBERS
from geo.schemas import ESTATES, INCIDENTS, PLAN, POSTS, ROUTES, Schema


def _read_geojson(path: Input) -> _Parts:
    """Read a GeoJSON file into properties, geometries, its declared datum and CRS, and its problems."""
    try:
        with path.open() as fh:
            text = fh.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{path}: byte {exc.start} is not UTF-8; GeoJSON must be UTF-8 (RFC 7946): re-save the file as UTF-8"
        raise DataFileError(msg) from exc
    if not text.strip():
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
    parts = _Parts()
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
        parts.crs = _crs_member(doc["crs"], parts.problems)
    for i, feat in enumerate(doc["features"]):
        where = f"feature {i}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            parts.problems.append(f"{where}: not a GeoJSON Feature object ({{\"type\": \"Feature\", \"properties\": ..., \"geometry\": ...}})")
            parts.add({}, BROKEN, where)
            continue
        p = feat.get("properties")
        if p is not None and not isinstance(p, dict):
            parts.problems.append(f"{where}: 'properties' is {type(p).__name__}, not a JSON object; write it as {{\"name\": value, ...}}")
            p = None
        parts.add(p or {}, feat.get("geometry"), where)
    parts.geoms = build_geometries(parts.geoms, parts.locations, parts.problems)
    return parts


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
    point_at, point_xy = [], []
    line_at, line_xy, line_len = [], [], []
    for i, g in enumerate(raw):
        if g is None or g is BROKEN:
            continue
        kind = g.get("type") if type(g) is dict else None
        coords = g.get("coordinates") if kind is not None else None
        if kind == "Point" and _plain_xy(coords):
            point_at.append(i)
            point_xy.append(coords)
            continue
        if kind == "LineString" and type(coords) is list and len(coords) >= 2 and all(map(_plain_xy, coords)):
            line_at.append(i)
            line_xy.extend(coords)
            line_len.append(len(coords))
            continue
        geom, problem = geometry_from_geojson(g, locations[i])  # the one builder: same message as every other reader
        if problem is not None:
            problems.append(problem)
            geom = BROKEN
        out[i] = geom
    if point_at:
        for i, geom in zip(point_at, shapely.points(np.asarray(point_xy, dtype=float)).tolist(), strict=True):
            out[i] = geom
    if line_at:
        lines = shapely.linestrings(np.asarray(line_xy, dtype=float), indices=np.repeat(np.arange(len(line_at)), line_len))
        for i, geom in zip(line_at, lines.tolist(), strict=True):
            out[i] = geom
    return out


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


class _Broken:
    """Marker for a geometry that could not be built (already reported)."""


BROKEN = _Broken()


class _Parts:
    """What a format reader found: one entry per feature, plus file-level facts."""

    def __init__(self):
        self.props: list[dict] = []
        self.geoms: list = []
        self.locations: list[str] = []
        self.problems: list[str] = []
        self.notices: list[str] = []
        self.datum: str | None = None
        self.crs: pyproj.CRS | None = None
        self.check_coordinates = True
        self.metadata: dict = {}

    def add(self, props: dict, geom, location: str) -> None:
        self.props.append(props)
        self.geoms.append(geom)
        self.locations.append(location)


def _find_column(columns, candidates) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _read_table_parts(path: Input, id_field: str) -> _Parts:
    df, problems = read_table_problems(path)
    parts = _Parts()
    parts.problems.extend(problems)
    rows = df.attrs["rows"]
    lon_col = _find_column(df.columns, LON_COLUMNS)
    lat_col = _find_column(df.columns, LAT_COLUMNS)
    wkt_col = _find_column(df.columns, ("geometry", "wkt"))
    datum_col = _find_column(df.columns, ("datum", "坐标系"))
    if wkt_col is None and (lon_col is None or lat_col is None):
        parts.problems.append(
            "file: no coordinate columns: add 'lon' and 'lat' (or 经度 and 纬度) columns in degrees, or a 'geometry' column of WKT "
            f"(columns found: {', '.join(map(str, df.columns)) or 'none'})"
        )
        parts.check_coordinates = False
    if datum_col is not None:
        parts.datum = _table_datum(df[datum_col], rows, datum_col, parts.problems)
    coord_cols = {c for c in (lon_col, lat_col, wkt_col, datum_col) if c is not None}
    for k, rec in zip(rows, df.to_dict("records"), strict=True):
        loc = f"row {k}"
        where = loc if is_blank(rec.get(id_field)) else f"{loc} ({rec[id_field]})"
        props = {c: (None if is_blank(v) else v) for c, v in rec.items() if c not in coord_cols}
        if not parts.check_coordinates:
            parts.add(props, BROKEN, loc)
        elif wkt_col is not None:
            text = rec.get(wkt_col)
            try:
                geom = None if is_blank(text) else shapely.from_wkt(str(text))
            except shapely.errors.GEOSException as exc:
                parts.problems.append(f"{where}, field '{wkt_col}': not valid WKT ({exc})")
                geom = BROKEN
            parts.add(props, geom, loc)
        else:
            raw_lon, raw_lat = rec.get(lon_col), rec.get(lat_col)
            lon, lat = parse_degrees(raw_lon), parse_degrees(raw_lat)
            if is_blank(raw_lon) and is_blank(raw_lat):
                geom = None
            elif lon is None or lat is None:
                for col, raw, val in ((lon_col, raw_lon, lon), (lat_col, raw_lat, lat)):
                    if val is None:
                        what = "is empty" if is_blank(raw) else f"{raw!r} is not a number of degrees"
                        parts.problems.append(f"{where}, field '{col}': {what}; give decimal degrees such as 108.3712")
                geom = BROKEN
            else:
                geom = shapely.Point(lon, lat)
            parts.add(props, geom, loc)
    return parts


def _table_datum(values: pd.Series, rows: list[int], column: str, problems: list[str]) -> str | None:
    """Return the one datum a table's datum column names; report unknown or mixed values."""
    found: dict[str, list[int]] = {}
    for k, v in zip(rows, values, strict=True):
        if is_blank(v):
            continue
        try:
            found.setdefault(_crs.normalize_datum(v), []).append(k)
        except DatumError:
            problems.append(f"row {k}, field '{column}': unknown datum {v!r}; use wgs84, gcj02 (AMap, Tencent) or bd09 (Baidu)")
    if len(found) > 1:
        where = "; ".join(f"{d} in rows {_row_list(ks)}" for d, ks in sorted(found.items()))
        problems.append(f"field '{column}': the file mixes datums ({where}); split it into one file per datum")
        return None
    return next(iter(found), None)


def _row_list(rows: list[int], limit: int = 10) -> str:
    text = ", ".join(map(str, rows[:limit]))
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


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
    elif suffix == ".gpkg":
        parts = _read_gpkg(path, layer)
    elif suffix in TABLE_SUFFIXES:
        parts = _read_table_parts(path, schema.id_field)
    else:
        msg = f"{path}: unsupported file type {suffix!r}; use .geojson, .gpkg, .csv or .xlsx"
        raise DataFileError(msg)
    problems, notices = parts.problems, parts.notices
    if schema is ESTATES and not parts.geoms and not problems:
        problems.append(f"file: no estates in it; an estates file needs one feature or row per estate ({schema.id_field} SH-01, ...)")

    src_datum = _source_datum(datum, parts.datum, problems)
    geoms = parts.geoms
    if parts.crs is not None:
        geoms = _reproject(geoms, parts.crs)
        notices.append(f"{path}: coordinates were in {parts.crs.name} ({parts.crs.to_string()}) and were reprojected to WGS-84 lon/lat")

    frame_problems, gdf = check_frame(
        parts.props, geoms, schema, broken=BROKEN, locations=parts.locations, check_coordinates=parts.check_coordinates
    )
    problems.extend(frame_problems)
    if extra_checks is not None:
        problems.extend(extra_checks(parts.props, geoms, parts.locations))
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


def _reproject(geoms: list, crs: pyproj.CRS) -> list:
    transformer = pyproj.Transformer.from_crs(crs, settings.storage_crs, always_xy=True)

    def _transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return [g if g is None or g is BROKEN else shapely.transform(g, _transform) for g in geoms]


def _read_gpkg(path: Input, layer: str | None) -> _Parts:
    import pyogrio

    try:
        raw = pyogrio.read_dataframe(path.path if path.path is not None else path.data, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        msg = f"{path}: cannot be read as a GeoPackage ({exc})"
        raise DataFileError(msg) from exc
    parts = _Parts()
    if raw.crs is None:
        parts.notices.append(f"{path}: the layer has no CRS; its coordinates were taken as WGS-84 lon/lat")
    elif not raw.crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True) and raw.crs.to_epsg() != 4490:
        parts.crs = pyproj.CRS(raw.crs)
    datum_col = _find_column(raw.columns, ("datum", "坐标系"))
    rows = list(range(len(raw)))
    if datum_col is not None:
        parts.datum = _table_datum(raw[datum_col], rows, datum_col, parts.problems)
    props = raw.drop(columns=[c for c in (raw.geometry.name, datum_col) if c is not None]).to_dict("records")
    for i, (p, g) in enumerate(zip(props, raw.geometry.values, strict=True)):
        parts.add({k: (None if is_blank(v) else v) for k, v in p.items()}, g, f"feature {i}")
    return parts


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
