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

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_write, atomic_writer
from geo._validate import check_frame
from geo.errors import DataFileError, SchemaError
from geo.schemas import ESTATES, INCIDENTS, ROUTES, Schema

__all__ = [
    "atomic_write",
    "atomic_writer",
    "detect_encoding",
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
    """Detect the text encoding of a CSV file: UTF-8 (with or without BOM) or GB18030.

    GB18030 is a superset of GBK and GB2312, so files saved by Excel or WPS
    on a Chinese Windows machine decode with it.

    Parameters
    ----------
    path
        The file.
    sample_bytes
        How much of the file to look at.

    Returns
    -------
    str
        ``"utf-8-sig"`` (BOM present), ``"utf-8"`` or ``"gb18030"``.

    Raises
    ------
    DataFileError
        If the file is neither UTF-8 nor GB18030.
    """
    with open(path, "rb") as fh:
        raw = fh.read(sample_bytes)
        more = fh.read(1) != b""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for enc in ("utf-8", "gb18030"):
        try:
            raw.decode(enc)
        except UnicodeDecodeError as exc:
            # A cut in the middle of a multi-byte character at the sample's end is fine.
            if more and exc.start >= len(raw) - 4:
                return enc
            continue
        return enc
    msg = f"{path}: the text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 (CSV UTF-8 in Excel/WPS)"
    raise DataFileError(msg)


def read_table(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM or GB18030/GBK, detected) or XLSX file as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` or ``.xlsx``/``.xlsm``.
    **kwargs
        Passed to :func:`pandas.read_csv` or :func:`pandas.read_excel`.

    Returns
    -------
    pandas.DataFrame
        Every cell as a string (empty cells as NaN), header names stripped.
        ``df.attrs["encoding"]`` says which encoding was used.
    """
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty; it needs a header row and at least one data row"
        raise DataFileError(msg)
    try:
        if suffix in {".xlsx", ".xlsm"}:
            df = pd.read_excel(path, dtype=str, **kwargs)
            df.attrs["encoding"] = "xlsx"
        else:
            enc = detect_encoding(path)
            df = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False, na_values=[""], **kwargs)
            df.attrs["encoding"] = enc
    except pd.errors.ParserError as exc:
        msg = f"{path}: not a well-formed CSV table ({exc}); check quoting and the number of columns on that line"
        raise DataFileError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{path}: the file has no header row; it needs one"
        raise DataFileError(msg) from exc
    except (ValueError, OSError) as exc:
        if isinstance(exc, DataFileError):
            raise
        msg = f"{path}: cannot be read as a table ({exc})"
        raise DataFileError(msg) from exc
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


def _check_exists(path: Path) -> None:
    if not path.exists():
        msg = f"{path}: no such file"
        raise DataFileError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, not a file"
        raise DataFileError(msg)


def _read_geojson(path: Path) -> tuple[list[dict], list[object], str | None, list[str]]:
    """Return (properties list, geometry list, declared datum, problems) of a GeoJSON file."""
    if path.stat().st_size == 0:
        msg = f"{path}: the file is empty; a GeoJSON FeatureCollection is expected"
        raise DataFileError(msg)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as exc:
        msg = f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise DataFileError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"{path}: GeoJSON must be UTF-8 (RFC 7946); re-save the file as UTF-8"
        raise DataFileError(msg) from exc
    problems: list[str] = []
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        msg = f"{path}: not a GeoJSON FeatureCollection (top-level 'type' must be 'FeatureCollection' with a 'features' list)"
        raise DataFileError(msg)
    datum = doc.get("datum")
    crs_member = doc.get("crs")
    if crs_member is not None:
        name = str((crs_member.get("properties") or {}).get("name", "")) if isinstance(crs_member, dict) else str(crs_member)
        if not any(tag in name.upper() for tag in ("4326", "CRS84", "4490")):
            problems.append(f"file: 'crs' member names {name!r}; RFC 7946 GeoJSON is WGS-84 lon/lat only: reproject to EPSG:4326 and drop the member")
    props, geoms = [], []
    for i, feat in enumerate(doc["features"]):
        where = _feature_label(i, feat)
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append(f"{where}: not a GeoJSON Feature object")
            props.append({})
            geoms.append(None)
            continue
        p = feat.get("properties")
        props.append(p if isinstance(p, dict) else {})
        g = feat.get("geometry")
        if g is None:
            geoms.append(None)
            continue
        try:
            geoms.append(shapely.geometry.shape(g))
        except Exception as exc:  # noqa: BLE001 - shapely raises several types on malformed coordinates
            problems.append(f"{where}: geometry cannot be built ({type(exc).__name__}: {exc}); check its 'type' and 'coordinates'")
            geoms.append(_BROKEN)
    return props, geoms, datum, problems


class _Broken:
    """Marker for a geometry that could not be built (already reported)."""


_BROKEN = _Broken()


def _feature_label(i: int, feat) -> str:
    fid = None
    if isinstance(feat, dict):
        fid = feat.get("id")
        p = feat.get("properties")
        if fid is None and isinstance(p, dict):
            fid = next((p[k] for k in ("estate_id", "route_id", "incident_id", "id") if k in p), None)
    return f"feature {i}" + (f" ({fid})" if fid is not None else "")


def _find_column(columns, candidates) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _table_to_parts(path: Path, df: pd.DataFrame) -> tuple[list[dict], list[object], list[str]]:
    problems: list[str] = []
    lon_col = _find_column(df.columns, LON_COLUMNS)
    lat_col = _find_column(df.columns, LAT_COLUMNS)
    wkt_col = _find_column(df.columns, ("geometry", "wkt"))
    if wkt_col is None and (lon_col is None or lat_col is None):
        msg = f"{path}: no coordinate columns: add 'lon' and 'lat' (or 经度 and 纬度) columns in degrees, or a 'geometry' column of WKT"
        raise SchemaError(msg)
    geoms: list[object] = []
    coord_cols = {c for c in (lon_col, lat_col, wkt_col) if c is not None}
    props = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        rec = dict(zip(df.columns, row, strict=False))
        where = f"row {i}"
        if wkt_col is not None:
            text = rec.get(wkt_col)
            try:
                geoms.append(None if _blank(text) else shapely.from_wkt(str(text)))
            except shapely.errors.GEOSException as exc:
                problems.append(f"{where}, field '{wkt_col}': not valid WKT ({exc})")
                geoms.append(_BROKEN)
        else:
            lon, lat = _parse_number(rec.get(lon_col)), _parse_number(rec.get(lat_col))
            if _blank(rec.get(lon_col)) and _blank(rec.get(lat_col)):
                geoms.append(None)
            elif lon is None or lat is None:
                bad = lon_col if lon is None else lat_col
                problems.append(f"{where}, field '{bad}': {rec.get(bad)!r} is not a number of degrees")
                geoms.append(_BROKEN)
            else:
                geoms.append(shapely.Point(lon, lat))
        props.append({k: (None if _blank(v) else v) for k, v in rec.items() if k not in coord_cols})
    return props, geoms, problems


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and value.strip() == "")


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,")


def _parse_number(value) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).translate(_FULLWIDTH).strip().replace("°", "")
    try:
        out = float(text)
    except ValueError:
        return None
    return out if np.isfinite(out) else None


def read_features(path: str | os.PathLike, schema: Schema, *, datum: str | None = None, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read and validate a vector file against ``schema``.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, CSV or XLSX.
    schema
        One of :data:`geo.schemas.SCHEMAS`.
    datum
        Datum of the coordinates when the file does not declare it
        (``wgs84``, ``gcj02``, ``bd09``); a datum the file declares wins
        only when this is None.
    layer
        GeoPackage layer name (default: the first layer).

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS-84 (EPSG:4326), properties typed as the schema says.
        ``attrs["notices"]`` lists conversions made (e.g. GCJ-02 to WGS-84),
        ``attrs["source"]`` the path.

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
    notices: list[str] = []
    if suffix in {".geojson", ".json"}:
        props, geoms, declared, problems = _read_geojson(path)
    elif suffix == ".gpkg":
        props, geoms, declared, problems = _read_gpkg(path, layer)
    elif suffix in _TABLE_SUFFIXES:
        df = read_table(path)
        props, geoms, problems = _table_to_parts(path, df)
        declared = None
        if "datum" in df.columns:
            values = {str(v).strip() for v in df["datum"].dropna()}
            if len(values) > 1:
                problems.append(f"field 'datum': the file mixes datums {sorted(values)}; split it into one file per datum")
            declared = next(iter(values)) if len(values) == 1 else None
            for p in props:
                p.pop("datum", None)
    else:
        msg = f"{path}: unsupported file type {suffix!r}; use .geojson, .gpkg, .csv or .xlsx"
        raise DataFileError(msg)

    src_datum = datum if datum is not None else declared
    src_datum = _crs.normalize_datum(src_datum) if src_datum else "wgs84"

    frame_problems, gdf = check_frame(props, geoms, schema, broken=_BROKEN, datum=src_datum)
    problems.extend(frame_problems)
    if problems:
        msg = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in this {schema.name} file"
        raise SchemaError(msg, problems)
    if src_datum != "wgs84" and len(gdf):
        gdf = gdf.set_geometry(_crs.convert_geometries(gdf.geometry.values, src=src_datum, dst="wgs84"), crs=settings.storage_crs)
        notices.append(f"{path}: coordinates were declared {src_datum.upper()} and converted to WGS-84")
    gdf.attrs["notices"] = notices
    gdf.attrs["source"] = str(path)
    return gdf


def _read_gpkg(path: Path, layer: str | None):
    import pyogrio

    try:
        raw = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        msg = f"{path}: cannot be read as a GeoPackage ({exc})"
        raise DataFileError(msg) from exc
    problems = []
    if raw.crs is not None and not raw.crs.is_geographic:
        raw = raw.to_crs(settings.storage_crs)
    elif raw.crs is not None and raw.crs.to_epsg() not in (4326, 4490, None):
        problems.append(f"layer CRS {raw.crs.to_string()} is not WGS-84; reproject to EPSG:4326")
    props = raw.drop(columns=raw.geometry.name).to_dict("records")
    props = [{k: (None if _blank(v) else v) for k, v in p.items()} for p in props]
    return props, list(raw.geometry.values), None, problems


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


def _round_coords(obj, ndigits: int):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), ndigits) for v in obj]
        return [_round_coords(o, ndigits) for o in obj]
    return obj


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def to_geojson_dict(gdf: gpd.GeoDataFrame, *, metadata: dict | None = None, precision: int | None = None) -> dict:
    """Build an RFC 7946 FeatureCollection dict from a GeoDataFrame.

    Parameters
    ----------
    gdf
        Any CRS; it is converted to WGS-84 first.
    metadata
        Extra top-level members (e.g. ``{"synthetic": True, "note": "..."}``).
    precision
        Decimals of lon/lat (default :data:`geo.settings.coordinate_precision`).

    Returns
    -------
    dict
    """
    if precision is None:
        precision = settings.coordinate_precision
    if gdf.crs is None:
        msg = "cannot write GeoJSON: the data has no CRS; set it (EPSG:4326 for lon/lat) first"
        raise _crs.CRSError(msg)
    if not gdf.crs.equals(gdf.crs.from_user_input(settings.storage_crs)):
        gdf = gdf.to_crs(settings.storage_crs)
    geom_name = gdf.geometry.name
    cols = [c for c in gdf.columns if c != geom_name]
    features = []
    geo_json = shapely.to_geojson(gdf.geometry.values)
    for rec, gj in zip(gdf[cols].itertuples(index=False, name=None), geo_json, strict=False):
        geometry = None
        if gj is not None and gj != "null":
            g = json.loads(gj)
            if "coordinates" in g:
                g["coordinates"] = _round_coords(g["coordinates"], precision)
            geometry = g
        features.append({"type": "Feature", "properties": {c: _json_value(v) for c, v in zip(cols, rec, strict=False)}, "geometry": geometry})
    doc = {"type": "FeatureCollection"}
    doc.update(metadata or {})
    doc["features"] = features
    return doc


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Write ``gdf`` as RFC 7946 GeoJSON, atomically.

    One feature per line, so diffs of data files stay readable.

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
    """
    doc = to_geojson_dict(gdf, metadata=metadata)
    head = {k: v for k, v in doc.items() if k != "features"}
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc["features"]]
    head_text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    text = head_text + ',\n "features": [\n' + ",\n".join(lines) + "\n ]\n}\n"
    atomic_write(path, text)
    return Path(path)


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as CSV (UTF-8 with BOM, so Excel and WPS show Chinese) or XLSX, atomically.

    Parameters
    ----------
    df
        The table; a geometry column is dropped.
    path
        ``.csv`` or ``.xlsx``.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with atomic_writer(path, "w", encoding="utf-8-sig", newline="") as fh:
            df.to_csv(fh, index=False)
    elif suffix == ".xlsx":
        with atomic_writer(path, "wb") as fh:
            df.to_excel(fh, index=False, engine="openpyxl")
    else:
        msg = f"{path}: unsupported table type {suffix!r}; use .csv or .xlsx"
        raise DataFileError(msg)
    return path
