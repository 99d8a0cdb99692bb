"""Read and write estates, routes and incidents.

Canonical files are RFC 7946 GeoJSON: WGS-84 longitude/latitude with at most
:data:`geo.settings.coordinate_precision` decimals. Readers also take
GeoPackage, and CSV/XLSX tables with longitude/latitude columns.

Every reader validates against a schema of :mod:`geo.schemas` and reports
**all** problems of a file in one :class:`~geo.errors.SchemaError`. A file that
declares a datum other than WGS-84 (a top-level ``"datum"`` member in GeoJSON,
a ``datum`` column in a table, or the ``datum`` argument) is converted to
WGS-84 and a notice says so in ``gdf.attrs["notices"]``.

Writers are atomic: a temporary file in the same folder, fsync, rename.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io as io_
import json
import math
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_write, atomic_writer
from geo._validate import FULLWIDTH, check_frame, is_blank
from geo.errors import DataFileError, DatumError, SchemaError
from geo.schemas import ESTATES, INCIDENTS, ROUTES, Schema

__all__ = [
    "atomic_write",
    "atomic_writer",
    "detect_encoding",
    "guard_formulas",
    "read_estates",
    "read_features",
    "read_incidents",
    "read_routes",
    "read_table",
    "to_geojson_dict",
    "write_geojson",
    "write_table",
]

#: Column names accepted as longitude / latitude in tables (case-insensitive).
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")

_TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg"}


# --- low-level readers --------------------------------------------------------


def detect_encoding(path: str | os.PathLike, *, sample_bytes: int = 1 << 20) -> str:
    """Detect the text encoding of a CSV file: UTF-8 (with or without BOM), UTF-16 or GB18030.

    GB18030 is a superset of GBK and GB2312, so files saved by Excel or WPS
    on a Chinese Windows machine decode with it. UTF-16 with a BOM is what
    Excel's "Unicode text" export writes.

    Parameters
    ----------
    path
        The file.
    sample_bytes
        How much of the file to look at.

    Returns
    -------
    str
        ``"utf-8-sig"`` (BOM present), ``"utf-16"``, ``"utf-8"`` or ``"gb18030"``.

    Raises
    ------
    DataFileError
        If the file is neither UTF-8 nor GB18030.
    """
    with open(path, "rb") as fh:
        raw = fh.read(sample_bytes)
        more = fh.read(1) != b""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            # A sample cut in the middle of a multi-byte character is fine.
            codecs.getincrementaldecoder(enc)().decode(raw, final=not more)
        except UnicodeDecodeError:
            continue
        return enc
    msg = f"{path}: the text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 (CSV UTF-8 in Excel/WPS)"
    raise DataFileError(msg)


def read_table(path: str | os.PathLike, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK, detected) or XLSX file as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (comma- or tab-separated) or ``.xlsx``/``.xlsm``
        (first sheet, header in row 1).
    nrows
        Read only this many data rows.

    Returns
    -------
    pandas.DataFrame
        Every cell as a string (empty cells as NaN), header names stripped,
        rows that are wholly empty dropped. ``df.attrs["encoding"]`` says
        which encoding was used, ``df.attrs["rows"]`` the row number of each
        row as a spreadsheet shows it (header = row 1).

    Raises
    ------
    DataFileError
        If the file is missing, empty or not a table.
    SchemaError
        With every malformed row (more cells than the header has) and header problem.
    """
    df, problems = _read_table(Path(path), nrows=nrows)
    if problems:
        msg = f"{path}: {_count(problems)} in this table"
        raise SchemaError(msg, problems)
    return df


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def _read_table(path: Path, *, nrows: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a table as strings; return it with every structural problem (row numbers as a spreadsheet counts)."""
    _check_exists(path)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty; it needs a header row and at least one data row"
        raise DataFileError(msg)
    if suffix in {".xlsx", ".xlsm"}:
        records, encoding = _excel_records(path, nrows), "xlsx"
    elif suffix == ".xls":
        msg = f"{path}: old Excel 97-2003 (.xls) files are not read; save it as .xlsx or CSV UTF-8"
        raise DataFileError(msg)
    else:
        encoding = detect_encoding(path)
        records = _csv_records(path, encoding, nrows)
    if not records or all(_blank(v) for v in records[0]):
        msg = f"{path}: the first row is empty; row 1 must be the header (column names)"
        raise DataFileError(msg)
    header = [("" if v is None else str(v)).strip().lstrip("\ufeff").strip() for v in records[0]]
    problems: list[str] = []
    width = len(header)
    seen: dict[str, int] = {}
    keep: list[int] = []
    for j, name in enumerate(header):
        if not name:
            if any(j < len(r) and not _blank(r[j]) for r in records[1:]):
                problems.append(f"column {_column_letter(j)}: has values but no name in the header row (row 1); give it one")
            continue
        if name in seen:
            problems.append(
                f"column {_column_letter(j)}: the name {name!r} is already used by column {_column_letter(seen[name])}; give each column its own name"
            )
            continue
        seen[name] = j
        keep.append(j)
    rows, data = [], []
    for k, rec in enumerate(records[1:], start=2):
        if all(_blank(v) for v in rec):
            continue
        extra = [v for v in rec[width:] if not _blank(v)]
        if extra:
            problems.append(f"row {k}: has {len(rec)} cells but the header has {width}; a comma inside a value needs quotes")
        cells = list(rec[:width]) + [None] * (width - len(rec))
        rows.append(k)
        data.append([None if _blank(cells[j]) else str(cells[j]) for j in keep])
    df = pd.DataFrame(data, columns=[header[j] for j in keep], dtype=object)
    df = df.where(df.notna(), np.nan)
    df.attrs["encoding"] = encoding
    df.attrs["rows"] = rows
    return df, problems


def _column_letter(j: int) -> str:
    """Spreadsheet letter of the 0-based column ``j`` (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _csv_records(path: Path, encoding: str, nrows: int | None) -> list[list[str]]:
    try:
        with open(path, encoding=encoding, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        msg = f"{path}: byte {exc.start} cannot be decoded as {encoding}; save the file as CSV UTF-8"
        raise DataFileError(msg) from exc
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = []
    try:
        for rec in csv.reader(io_.StringIO(text), delimiter=delimiter, strict=True):
            records.append(rec)
            if nrows is not None and len(records) > nrows:
                break
    except csv.Error as exc:
        msg = f"{path}: not a well-formed CSV table at row {len(records) + 1} ({exc}); check the quotes on that row"
        raise DataFileError(msg) from exc
    return records


def _excel_records(path: Path, nrows: int | None) -> list[tuple]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        msg = f"{path}: cannot be read as an Excel .xlsx workbook ({type(exc).__name__}: {exc})"
        raise DataFileError(msg) from exc
    try:
        records = []
        for rec in wb.worksheets[0].iter_rows(values_only=True):
            records.append(tuple(_excel_text(v) for v in rec))
            if nrows is not None and len(records) > nrows:
                break
    finally:
        wb.close()
    while records and all(_blank(v) for v in records[-1]):
        records.pop()
    return records


def _excel_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_exists(path: Path) -> None:
    if not path.exists():
        msg = f"{path}: no such file"
        raise DataFileError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, not a file"
        raise DataFileError(msg)


def _read_geojson(path: Path) -> _Parts:
    """Read a GeoJSON file into properties, geometries, its declared datum and CRS, and its problems."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
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
            parts.add({}, _BROKEN, where)
            continue
        p = feat.get("properties")
        if p is not None and not isinstance(p, dict):
            parts.problems.append(f"{where}: 'properties' is {type(p).__name__}, not a JSON object; write it as {{\"name\": value, ...}}")
            p = None
        g = feat.get("geometry")
        geom = None
        if g is not None:
            try:
                geom = shapely.geometry.shape(g)
            except Exception as exc:  # noqa: BLE001 - shapely raises several types on malformed coordinates
                parts.problems.append(f"{where}: geometry cannot be built ({type(exc).__name__}: {exc}); check its 'type' and 'coordinates'")
                geom = _BROKEN
        parts.add(p or {}, geom, where)
    return parts


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


_BROKEN = _Broken()


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


def _read_table_parts(path: Path, id_field: str) -> _Parts:
    df, problems = _read_table(path)
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
        where = loc if _blank(rec.get(id_field)) else f"{loc} ({rec[id_field]})"
        props = {c: (None if _blank(v) else v) for c, v in rec.items() if c not in coord_cols}
        if not parts.check_coordinates:
            parts.add(props, _BROKEN, loc)
        elif wkt_col is not None:
            text = rec.get(wkt_col)
            try:
                geom = None if _blank(text) else shapely.from_wkt(str(text))
            except shapely.errors.GEOSException as exc:
                parts.problems.append(f"{where}, field '{wkt_col}': not valid WKT ({exc})")
                geom = _BROKEN
            parts.add(props, geom, loc)
        else:
            raw_lon, raw_lat = rec.get(lon_col), rec.get(lat_col)
            lon, lat = _parse_degrees(raw_lon), _parse_degrees(raw_lat)
            if _blank(raw_lon) and _blank(raw_lat):
                geom = None
            elif lon is None or lat is None:
                for col, raw, val in ((lon_col, raw_lon, lon), (lat_col, raw_lat, lat)):
                    if val is None:
                        what = "is empty" if _blank(raw) else f"{raw!r} is not a number of degrees"
                        parts.problems.append(f"{where}, field '{col}': {what}; give decimal degrees such as 108.3712")
                geom = _BROKEN
            else:
                geom = shapely.Point(lon, lat)
            parts.add(props, geom, loc)
    return parts


def _table_datum(values: pd.Series, rows: list[int], column: str, problems: list[str]) -> str | None:
    """Return the one datum a table's datum column names; report unknown or mixed values."""
    found: dict[str, list[int]] = {}
    for k, v in zip(rows, values, strict=True):
        if _blank(v):
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


def _blank(value) -> bool:
    return is_blank(value)


def _parse_degrees(value) -> float | None:
    """Read a number of degrees written as text: full-width digits, a degree sign or a trailing E/N are accepted."""
    if _blank(value):
        return None
    if isinstance(value, (int, float)):
        return float(value) if np.isfinite(value) else None
    text = str(value).translate(FULLWIDTH).strip().replace("°", "").replace("º", "").rstrip("ENen").strip()
    try:
        out = float(text)
    except ValueError:
        return None
    return out if np.isfinite(out) else None


def read_features(
    path: str | os.PathLike, schema: Schema, *, datum: str | None = None, layer: str | None = None, extra_checks=None
) -> gpd.GeoDataFrame:
    """Read and validate a vector file against ``schema``.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, CSV or XLSX.
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

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS-84 (EPSG:4326), properties typed as the schema says.
        ``attrs["notices"]`` lists what was done to the data on reading
        (datum or CRS conversions), ``attrs["source"]`` the path,
        ``attrs["metadata"]`` the other top-level members of a GeoJSON file
        (e.g. ``synthetic``, ``note``, ``version``).

    Raises
    ------
    DataFileError
        If the file is missing, empty or not of its format.
    SchemaError
        With every problem of the file, one per line.
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in {".geojson", ".json"}:
        parts = _read_geojson(path)
    elif suffix == ".gpkg":
        parts = _read_gpkg(path, layer)
    elif suffix in _TABLE_SUFFIXES:
        parts = _read_table_parts(path, schema.id_field)
    else:
        msg = f"{path}: unsupported file type {suffix!r}; use .geojson, .gpkg, .csv or .xlsx"
        raise DataFileError(msg)
    problems, notices = parts.problems, parts.notices

    src_datum = _source_datum(datum, parts.datum, problems)
    geoms = parts.geoms
    if parts.crs is not None:
        geoms = _reproject(geoms, parts.crs)
        notices.append(f"{path}: coordinates were in {parts.crs.name} ({parts.crs.to_string()}) and were reprojected to WGS-84 lon/lat")

    frame_problems, gdf = check_frame(
        parts.props, geoms, schema, broken=_BROKEN, locations=parts.locations, check_coordinates=parts.check_coordinates
    )
    problems.extend(frame_problems)
    if extra_checks is not None:
        problems.extend(extra_checks(parts.props, geoms, parts.locations))
    problems.sort(key=_problem_order)
    if problems:
        msg = f"{path}: {_count(problems)} in this {schema.name} file"
        raise SchemaError(msg, problems)
    if src_datum != "wgs84" and len(gdf):
        gdf = gdf.set_geometry(_crs.convert_geometries(gdf.geometry.values, src=src_datum, dst="wgs84"), crs=settings.storage_crs)
        notices.append(f"{path}: coordinates were declared {src_datum.upper()} and converted to WGS-84")
    gdf.attrs["notices"] = notices
    gdf.attrs["source"] = str(path)
    gdf.attrs["metadata"] = parts.metadata
    return gdf


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

    return [g if g is None or g is _BROKEN else shapely.transform(g, _transform) for g in geoms]


def _read_gpkg(path: Path, layer: str | None) -> _Parts:
    import pyogrio

    try:
        raw = pyogrio.read_dataframe(path, layer=layer)
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
        parts.add({k: (None if _blank(v) else v) for k, v in p.items()}, g, f"feature {i}")
    return parts


def read_estates(path: str | os.PathLike | None = None, *, datum: str | None = None) -> gpd.GeoDataFrame:
    """Read the estates file (default ``data/estates.geojson``), validated; see :func:`read_features`."""
    return read_features(path or settings.data_path("estates.geojson"), ESTATES, datum=datum)


def read_routes(path: str | os.PathLike | None = None, *, datum: str | None = None) -> gpd.GeoDataFrame:
    """Read patrol routes (default ``data/patrol_routes.geojson``), validated; see :func:`read_features`."""
    return read_features(path or settings.data_path("patrol_routes.geojson"), ROUTES, datum=datum)


def read_incidents(path: str | os.PathLike, *, datum: str | None = None) -> gpd.GeoDataFrame:
    """Read an incidents vector file, validated; see :func:`read_features`."""
    return read_features(path, INCIDENTS, datum=datum)


# --- writers -------------------------------------------------------------------

#: Top-level GeoJSON members a caller's metadata may not set.
RESERVED_MEMBERS = ("type", "features", "crs", "bbox")


def _json_value(value, where: str):
    """Return ``value`` as something :func:`json.dumps` writes as valid JSON; raise DataFileError otherwise."""
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
        return {str(k): _json_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{where}[{k}]") for k, v in enumerate(value)]
    msg = f"cannot write {where}: a {type(value).__name__} has no JSON form; convert the column to text or numbers first"
    raise DataFileError(msg)


def to_geojson_dict(gdf: gpd.GeoDataFrame, *, metadata: dict | None = None, precision: int | None = None) -> dict:
    """Build an RFC 7946 FeatureCollection dict from a GeoDataFrame.

    Polygons are oriented as RFC 7946 asks (exterior rings counter-clockwise)
    and coordinates rounded to ``precision`` decimals.

    Parameters
    ----------
    gdf
        Any CRS; it is converted to WGS-84 first.
    metadata
        Extra top-level members (e.g. ``{"synthetic": True, "note": "..."}``);
        ``type``, ``features``, ``crs`` and ``bbox`` are refused.
    precision
        Decimals of lon/lat (default :data:`geo.settings.coordinate_precision`).

    Returns
    -------
    dict

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS.
    DataFileError
        If a value or coordinate has no JSON form (infinite, NaN, an object), naming the feature and column.
    """
    if precision is None:
        precision = settings.coordinate_precision
    if gdf.crs is None:
        msg = "cannot write GeoJSON: the data has no CRS; set it (EPSG:4326 for lon/lat) first"
        raise _crs.CRSError(msg)
    bad_keys = sorted(set(metadata or {}) & set(RESERVED_MEMBERS))
    if bad_keys:
        msg = f"cannot write GeoJSON: metadata may not set the member(s) {', '.join(bad_keys)}; they are part of the format"
        raise DataFileError(msg)
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
                geometry["coordinates"] = _round_coords(geometry["coordinates"], precision)
            elif "geometries" in geometry:
                for member in geometry["geometries"]:
                    member["coordinates"] = _round_coords(member["coordinates"], precision)
        props = {str(c): _json_value(v, f"feature {i}, column '{c}'") for c, v in zip(cols, rec, strict=True)}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    doc = {"type": "FeatureCollection"}
    doc.update({str(k): _json_value(v, f"metadata member '{k}'") for k, v in (metadata or {}).items()})
    doc["features"] = features
    return doc


def _round_coords(obj, ndigits: int):
    if isinstance(obj, list):
        if obj and not isinstance(obj[0], list):
            return [round(float(v), ndigits) for v in obj]
        return [_round_coords(o, ndigits) for o in obj]
    return obj


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Write ``gdf`` as RFC 7946 GeoJSON, atomically.

    UTF-8 with Chinese text as is, one feature per line, so diffs of data
    files stay readable. Nothing is written unless the whole document can be
    built: a bad value leaves an existing file byte-for-byte as it was.

    Parameters
    ----------
    gdf
        Data in any CRS (converted to WGS-84).
    path
        Destination; replaced only when the whole write succeeds.
    metadata
        Extra top-level members, e.g. ``{"synthetic": True}``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    DataFileError
        If a value cannot be written (see :func:`to_geojson_dict`) or the file cannot be replaced.
    """
    doc = to_geojson_dict(gdf, metadata=metadata)
    head = {k: v for k, v in doc.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for f in doc["features"]]
    head_text = json.dumps(head, ensure_ascii=False, indent=1, allow_nan=False)[:-2]
    text = head_text + ',\n "features": [\n' + ",\n".join(lines) + ("\n" if lines else "") + " ]\n}\n"
    atomic_write(path, text)
    return Path(path)


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as CSV (UTF-8 with BOM, so Excel and WPS show Chinese) or XLSX, atomically.

    Parameters
    ----------
    df
        The table. A GeoDataFrame's geometry is written in WGS-84 as ``lon``
        and ``lat`` columns when every geometry is a point, else as a
        ``geometry`` column of WKT; either way :func:`read_features` reads it back.
    path
        ``.csv`` or ``.xlsx``.

    Text cells that Excel or WPS would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) are written with a leading
    ``'`` (see :func:`guard_formulas`); numbers stay numbers.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataFileError
        For another suffix, or when the file cannot be replaced.
    SchemaError
        Listing every cell an Excel file cannot hold (nothing is changed on disk then).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        msg = f"{path}: unsupported table type {suffix!r}; use .csv or .xlsx"
        raise DataFileError(msg)
    if isinstance(df, gpd.GeoDataFrame):
        df = _geometry_columns(df)
    df = guard_formulas(df)
    if suffix == ".csv":
        with atomic_writer(path, "w", encoding="utf-8-sig", newline="") as fh:
            # CRLF rows, as Excel writes them; it also makes the csv module quote a bare CR inside a cell.
            df.to_csv(fh, index=False, lineterminator="\r\n")
    else:
        problems = _excel_cell_problems(df)
        if problems:
            msg = f"{path}: cannot be written as Excel; the file was left as it was"
            raise SchemaError(msg, problems)
        with atomic_writer(path, "wb") as fh:
            df.to_excel(fh, index=False, engine="openpyxl")
    return path


#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def guard_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    Names of teams and estates come from data files; a cell such as
    ``=HYPERLINK(...)`` or ``@SUM(...)`` would otherwise run when the table is
    opened in Excel or WPS. Only ``str`` values are changed (numbers, including
    negative ones, stay numbers); ``df`` itself is not modified.
    """
    out = None
    for col in df.columns:
        series = df[col]
        if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
            continue
        values = series.to_numpy(dtype=object)
        risky = [isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) for v in values]
        if any(risky):
            if out is None:
                out = df.copy()
            guarded = [f"'{v}" if r else v for v, r in zip(values, risky, strict=True)]
            out[col] = pd.Series(guarded, index=series.index, dtype=series.dtype)
    return df if out is None else out


#: Longest text an Excel cell holds; openpyxl would cut longer text silently.
EXCEL_CELL_MAX_CHARS = 32767


def _excel_cell_problems(df: pd.DataFrame) -> list[str]:
    """Every cell that Excel cannot hold: control characters, or text too long (rows as Excel counts them)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    problems = []
    for j, col in enumerate(df.columns):
        for k, value in enumerate(df[col].tolist(), start=2):
            if not isinstance(value, str):
                continue
            cell = f"cell {_column_letter(j)}{k} (column '{col}')"
            if ILLEGAL_CHARACTERS_RE.search(value):
                problems.append(f"{cell}: has a control character Excel cannot hold; remove it")
            elif len(value) > EXCEL_CELL_MAX_CHARS:
                problems.append(f"{cell}: {len(value)} characters, more than Excel's {EXCEL_CELL_MAX_CHARS}; write CSV instead")
    return problems


def _geometry_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return a plain table with the geometry as lon/lat (all points) or WKT, in WGS-84."""
    if gdf.crs is not None and not gdf.crs.equals(pyproj.CRS.from_user_input(settings.storage_crs)):
        gdf = gdf.to_crs(settings.storage_crs)
    geoms = gdf.geometry
    out = pd.DataFrame(gdf.drop(columns=geoms.name))
    digits = settings.coordinate_precision
    if len(gdf) and (geoms.geom_type == "Point").all() and not geoms.is_empty.any():
        out["lon"] = np.round(geoms.x.to_numpy(), digits)
        out["lat"] = np.round(geoms.y.to_numpy(), digits)
    else:
        out["geometry"] = shapely.to_wkt(np.asarray(geoms.values, dtype=object), rounding_precision=digits, trim=True)
    return out
