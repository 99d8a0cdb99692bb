"""Writers: RFC 7946 GeoJSON and CSV/XLSX tables, atomic, refusing what JSON or Excel cannot hold.
"""

from __future__ import annotations

import datetime
import io as io_
import json
import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_write, atomic_writer
from geo.errors import DataFileError, SchemaError
from geo.io.arrow_text import data_view, repeated
from geo.io.csv_text import csv_text, write_csv
from geo.io.formulas import FORMULA_STARTS, FORMULA_TRIGGERS, formula_mask, guard_cell, guard_formulas, is_formula_like  # noqa: F401 - the rule lives in formulas; callers import it from here too
from geo.io.tables import column_letter
from geo.io.xlsx import plain_xlsx_bytes

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
    """Build an RFC 7946 FeatureCollection dict from a GeoDataFrame: :func:`geojson_text`, parsed.

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
    return json.loads(_geojson_text(gdf, metadata=metadata, precision=precision))


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
    head, features, tail = _geojson_pieces(gdf, metadata=metadata, precision=None)
    with atomic_writer(path, "wb") as fh:  # the features go to the file from Arrow's buffer, never as one Python text
        fh.write(head)
        fh.write(features)
        fh.write(tail)
    return Path(path)


def geojson_bytes(gdf: gpd.GeoDataFrame, *, metadata: dict | None = None) -> bytes:
    """The UTF-8 bytes :func:`write_geojson` writes (:func:`geojson_text`, encoded), for a store or a download.

    Raises
    ------
    DataFileError
        If a value cannot be written (see :func:`to_geojson_dict`).
    """
    return b"".join(_geojson_pieces(gdf, metadata=metadata, precision=None))


def geojson_text(gdf: gpd.GeoDataFrame, *, metadata: dict | None = None) -> str:
    """The RFC 7946 GeoJSON text :func:`write_geojson` writes (one feature a line), for a download or a check.

    The text is what :func:`json.dumps` writes (compact features, Chinese as
    is, coordinates as Python's ``round`` and ``repr`` give them), built a
    column and a coordinate array at a time, not feature by feature.

    Raises
    ------
    DataFileError
        If a value cannot be written (see :func:`to_geojson_dict`).
    """
    return _geojson_text(gdf, metadata=metadata, precision=None)


def _geojson_text(gdf: gpd.GeoDataFrame, *, metadata: dict | None, precision: int | None) -> str:
    """The text of :func:`geojson_text`, coordinates rounded to ``precision`` decimals (default: the settings')."""
    return b"".join(_geojson_pieces(gdf, metadata=metadata, precision=precision)).decode("utf-8")


def _geojson_pieces(gdf: gpd.GeoDataFrame, *, metadata: dict | None, precision: int | None) -> tuple[bytes, memoryview, bytes]:
    """The UTF-8 text of :func:`geojson_text` in three pieces: the head, the features (one a line, in Arrow's memory), the end.

    Everything is built, and every value checked, before anything is returned.
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
    geometries = _geometry_texts(np.asarray(gdf.geometry.values, dtype=object), precision)
    geom_name = gdf.geometry.name
    table = gdf[[c for c in gdf.columns if c != geom_name]]
    features = _feature_lines(table, geometries)
    head = {"type": "FeatureCollection"}
    head.update({str(k): _json_value(v, f"metadata member '{k}'") for k, v in (metadata or {}).items()})
    head_text = json.dumps(head, ensure_ascii=False, indent=1, allow_nan=False)[:-2] + ',\n "features": [\n'
    # Each feature came with ',\n' after it; the last one's comma goes (the line break stays).
    end = b"\n ]\n}\n" if len(features) else b" ]\n}\n"
    return head_text.encode("utf-8"), features[:-2], end


#: Every coordinate of the template geometries :func:`_geometry_texts` fills in, as GEOS writes it.
_PLACEHOLDER = "0.0"


def _geometry_texts(geoms: np.ndarray, precision: int) -> list[str]:
    """Each geometry as compact GeoJSON text, coordinates rounded to ``precision`` decimals (``"null"`` for None).

    GEOS writes the structure (``shapely.to_geojson`` of the geometries with
    every coordinate set to 0); the numbers, rounded with :func:`round_like_python`
    and written with ``float.__repr__`` as :func:`json.dumps` writes them, go
    in place of the zeros. GEOS writes a z value only where it is not NaN.
    Points alone, or lines alone, in two dimensions (estates, routes) are
    written straight from their coordinates.
    """
    coords, idx = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    bad = ~np.isfinite(coords[:, :2]).all(axis=1) | np.isinf(coords[:, 2])
    if bad.any():
        msg = f"cannot write feature {idx[np.argmax(bad)]}: its geometry has a NaN or infinite coordinate; fix or drop it first"
        raise DataFileError(msg)
    has_z = ~np.isnan(coords[:, 2])
    kinds = shapely.get_type_id(geoms)
    points = bool((kinds == shapely.GeometryType.POINT).all()) and len(coords) == len(geoms)  # none empty
    if (points or (kinds == shapely.GeometryType.LINESTRING).all()) and not has_z.any():
        # Points or lines only (estates, routes): the text is simple enough to write without GEOS.
        xy = round_like_python(coords[:, :2].ravel(), precision).reshape(-1, 2)
        if points:
            return list(map('{{"type":"Point","coordinates":[{!r},{!r}]}}'.format, xy[:, 0].tolist(), xy[:, 1].tolist()))
        pairs = list(map("[{!r},{!r}]".format, xy[:, 0].tolist(), xy[:, 1].tolist()))
        ends = np.cumsum(shapely.get_num_coordinates(geoms)).tolist()
        return ['{"type":"LineString","coordinates":[' + ",".join(pairs[start:end]) + "]}" for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    coords = shapely.get_coordinates(geoms, include_z=True)
    has_z = ~np.isnan(coords[:, 2])
    template = np.zeros_like(coords)
    template[~has_z, 2] = np.nan
    texts = shapely.to_geojson(shapely.set_coordinates(geoms.copy(), template))
    present = np.not_equal(texts, None)
    if has_z.any():
        keep = np.ones(coords.shape, dtype=bool)
        keep[:, 2] = has_z
        numbers = coords[keep]  # row by row: x, y and z where there is one, as GEOS writes them
    else:
        numbers = coords[:, :2]
    numbers = round_like_python(numbers.ravel(), precision)
    pieces = "\n".join(texts[present].tolist()).split(_PLACEHOLDER)
    if len(pieces) != len(numbers) + 1:  # GEOS writes every coordinate once; anything else is a bug, never a wrong file
        msg = f"cannot write GeoJSON: {len(pieces) - 1} coordinates written for {len(numbers)}"
        raise DataFileError(msg)
    merged = [""] * (2 * len(pieces) - 1)
    merged[0::2] = pieces
    merged[1::2] = map(float.__repr__, numbers.tolist())
    out = np.full(len(geoms), "null", dtype=object)
    out[present] = "".join(merged).split("\n") if present.any() else []
    return out.tolist()


def round_like_python(values: np.ndarray, ndigits: int) -> np.ndarray:
    """``round(v, ndigits)`` of every value, exactly as Python rounds a float, in bulk.

    ``rint(v * 10**ndigits) / 10**ndigits`` gives Python's result unless the
    product lies within a few units in the last place of a half (where the
    product's own rounding may pick the other side) or is too large to hold
    every integer; those few values go through :func:`round` itself.
    """
    values = np.asarray(values, dtype=float)
    if not 0 <= ndigits <= 15:
        return np.array([round(v, ndigits) for v in values.tolist()], dtype=float)
    scale = 10.0**ndigits
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * scale
        whole = np.rint(scaled)
        out = whole / scale
        doubtful = ~(np.abs(scaled) < 2.0**52) | (np.abs(np.abs(scaled - whole) - 0.5) <= 4 * np.spacing(np.abs(scaled)))
    if doubtful.any():
        out[doubtful] = [round(v, ndigits) for v in values[doubtful].tolist()]
    return out


#: One JSON value as :func:`json.dumps` writes it in a feature (compact, Chinese as is).
_dump_value = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
#: A text as :func:`json.dumps` writes it with ``ensure_ascii=False`` (the function it calls).
_dump_text = json.encoder.encode_basestring
#: The types of the cells written ``null`` (None, pandas' NA of a nullable column, NaT), as :func:`_json_value` gives them.
_NULL_TYPES = (type(None), type(pd.NA), type(pd.NaT))
#: pandas' nullable numbers and flags: their values as a NumPy array, and a mask of the missing ones.
_MASKED = (pd.arrays.IntegerArray, pd.arrays.BooleanArray, pd.arrays.FloatingArray)
#: The cells of one Python type written a column at a time: text, whole numbers, booleans.
_DUMP_BY_TYPE = {str: _dump_text, int: int.__repr__, bool: {True: "true", False: "false"}.__getitem__}


def _feature_lines(table: pd.DataFrame, geometries: list[str]) -> memoryview:
    """Every feature as compact JSON followed by ``,\\n``, in UTF-8: properties from ``table``'s columns in order, then the geometry.

    Each column is written at once (:func:`_column_texts`); a name given twice
    keeps its first place and its last value, as a dict does. The first cell
    that has no JSON form, in feature order then column order, is refused.
    The features are put together by Arrow, a column at a time (one Python
    text per feature and a 200 MB text encoded again took 1.3 s of a
    province-size report), and come back as the bytes of Arrow's buffer.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    texts, names, first_error = [], {}, None
    for j in range(table.shape[1]):
        label = table.columns[j]
        column, bad_value = _column_texts(table.iloc[:, j], label)
        column, bad_text = _arrow_texts(column, label)
        for error in (bad_value, bad_text):
            if error is not None and (first_error is None or error[0] < first_error[0]):
                first_error = error
        names.setdefault(str(label), len(texts))
        if names[str(label)] == len(texts):
            texts.append(column)
        else:
            texts[names[str(label)]] = column
    if first_error is not None:
        raise first_error[1]
    keys = [_dump_text(name) + ":" for name in names]
    parts = [repeated('{"type":"Feature","properties":{' + (keys[0] if keys else ""))]
    for k, column in enumerate(texts):
        parts += [column, repeated("," + keys[k + 1] if k + 1 < len(keys) else "")]
    parts += [repeated('},"geometry":'), pa.array(geometries, pa.large_string()), repeated("},\n")]
    return data_view(pc.binary_join_element_wise(*parts, repeated("")))


def _arrow_texts(cells: list[str], label):
    """The cells' JSON texts as an Arrow column, and the first cell UTF-8 cannot hold (its row and the error), if any.

    A Python text can hold half of a UTF-16 surrogate pair (the standard
    library reads ``"\\ud800"`` in a JSON file so); no UTF-8 file can.
    """
    import pyarrow as pa

    try:
        return pa.array(cells, pa.large_string()), None
    except (UnicodeEncodeError, pa.ArrowException):
        rows = [k for k, text in enumerate(cells) if any(0xD800 <= ord(c) <= 0xDFFF for c in text)]
        if not rows:
            raise
        row = rows[0]
        half = next(c for c in cells[row] if 0xD800 <= ord(c) <= 0xDFFF)
        msg = (f"cannot write feature {row}, column '{label}': the text holds {half!r}, half of a UTF-16 surrogate pair, "
               "which no UTF-8 file can hold; correct or remove that character")
        return None, (row, DataFileError(msg))


def _column_texts(series: pd.Series, label) -> tuple[list[str], tuple[int, Exception] | None]:
    """Every cell of ``series`` as JSON text, and the first cell that has none (its row and the error), if any.

    Numbers, booleans and text are written a column at a time; other cells
    (dates, objects, lists, dicts) go through :func:`_json_value` one by one.
    """
    dtype = series.dtype
    n = len(series)
    if isinstance(series.array, _MASKED):  # Int64, boolean, Float64: the NumPy column, then null where the mask is
        empty = {"b": False, "f": np.nan}.get(dtype.kind, 0)
        out, error = _column_texts(pd.Series(series.to_numpy(dtype=dtype.numpy_dtype, na_value=empty)), label)
        for k in np.flatnonzero(series.isna().to_numpy()).tolist():
            out[k] = "null"
        return out, error
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        values = series.to_numpy()
        if dtype.kind == "b":
            return np.where(values, "true", "false").tolist(), None
        out = list(map(int.__repr__ if dtype.kind in "iu" else float.__repr__, values.tolist()))
        if dtype.kind == "f":
            inf = np.isinf(values)
            if inf.any():
                row = int(np.argmax(inf))
                return out, (row, _cell_error(values[row].item(), row, label))
            for k in np.flatnonzero(np.isnan(values)).tolist():
                out[k] = "null"
        return out, None
    # the cells as DataFrame.itertuples gives them (the objects themselves for an object column)
    values = series.to_numpy().tolist() if isinstance(dtype, np.dtype) and dtype.kind == "O" else list(series)
    kinds = list(map(type, values))
    present = set(kinds)
    if present <= {str}:
        return list(map(_dump_text, values)), None
    cells = np.fromiter(values, dtype=object, count=n)  # never unpacks a list or tuple cell
    code = {kind: k for k, kind in enumerate(present)}
    code_of = np.fromiter(map(code.__getitem__, kinds), dtype=np.intp, count=n)
    out = np.full(n, "null", dtype=object)
    errors = []
    for kind, k in code.items():
        rows = np.flatnonzero(code_of == k)
        if kind in _NULL_TYPES:
            continue
        if kind in _DUMP_BY_TYPE:
            out[rows] = list(map(_DUMP_BY_TYPE[kind], cells[rows].tolist()))
        elif kind is float:
            numbers = cells[rows].astype(float)
            inf = np.isinf(numbers)
            if inf.any():
                row = int(rows[np.argmax(inf)])
                errors.append((row, _cell_error(cells[row], row, label)))
            ok = ~np.isnan(numbers)
            out[rows[ok]] = list(map(float.__repr__, numbers[ok].tolist()))
        else:
            for row in rows.tolist():
                try:
                    out[row] = _dump_value(_json_value(cells[row], f"feature {row}, column '{label}'"))
                except DataFileError as exc:
                    errors.append((row, exc))
                    break
    return out.tolist(), min(errors, key=lambda e: e[0]) if errors else None


def _cell_error(value, row: int, label) -> DataFileError:
    """The error :func:`_json_value` raises for ``value``, a value it refuses, in feature ``row``, column ``label``."""
    try:
        _json_value(value, f"feature {row}, column '{label}'")
    except DataFileError as exc:
        return exc
    msg = f"cannot write feature {row}, column '{label}': {value!r}"
    raise ValueError(msg)


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
    if path.suffix.lower() == ".csv":
        write_csv(_plain_columns(df), path, guard=True)
    else:
        atomic_write(path, table_bytes(df, path.suffix, name=str(path)))
    return path


def _plain_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as a table file holds it: a GeoDataFrame's geometry as columns (:func:`write_table`)."""
    return _geometry_columns(df) if isinstance(df, gpd.GeoDataFrame) else df


def table_bytes(df: pd.DataFrame, suffix: str, *, name: str = "table") -> bytes:
    """The bytes :func:`write_table` writes for a ``.csv`` or ``.xlsx`` file, for a download.

    Parameters
    ----------
    df
        The table (a GeoDataFrame as in :func:`write_table`).
    suffix
        ``.csv`` or ``.xlsx``.
    name
        The file's name for messages.

    Raises
    ------
    DataFileError
        For another suffix.
    SchemaError
        Listing every cell an Excel file cannot hold.
    """
    suffix = suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        msg = f"{name}: unsupported table type {suffix!r}; use .csv or .xlsx"
        raise DataFileError(msg)
    df = _plain_columns(df)
    if suffix == ".csv":
        # CRLF rows, as Excel writes them; it also makes the csv module quote a bare CR inside a cell.
        return csv_text(df, guard=True).encode("utf-8-sig")
    df = guard_formulas(df)
    problems = _excel_cell_problems(df)
    if problems:
        msg = f"{name}: cannot be written as Excel; the file was left as it was"
        raise SchemaError(msg, problems)
    plain = plain_xlsx_bytes(df)  # streamed rows: about twice as fast for tables of text, numbers and booleans
    if plain is not None:
        return plain
    out = io_.BytesIO()
    df.to_excel(out, index=False, engine="openpyxl")
    return out.getvalue()


def _text_mask(series: pd.Series, pattern: str) -> np.ndarray | None:
    """Where the text cells of ``series`` contain ``pattern``, as a bool array; None when the column holds no text.

    Whole-column string operations: no Python loop over the cells.
    """
    if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
        return None
    try:
        hit = series.str.contains(pattern, regex=True, na=False)
    except (AttributeError, TypeError):  # a column without text (ints, dates... in object dtype)
        return None
    return hit.to_numpy(dtype=bool)


#: Longest text an Excel cell holds; openpyxl would cut longer text silently.
EXCEL_CELL_MAX_CHARS = 32767


def _excel_cell_problems(df: pd.DataFrame) -> list[str]:
    """Every cell that Excel cannot hold: control characters, or text too long (rows as Excel counts them).

    Each column is checked with vectorised string operations; only the cells
    found are looked at one by one, to name them.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    problems = []
    for j, col in enumerate(df.columns):
        series = df[col]
        found = _arrow_cell_checks(series)
        if found is not None:
            illegal, lengths = found
        else:
            illegal = _text_mask(series, ILLEGAL_CHARACTERS_RE.pattern)
            if illegal is None:
                continue
            lengths = series.str.len().to_numpy(dtype=float, na_value=0.0)
        for k in np.flatnonzero(illegal | (lengths > EXCEL_CELL_MAX_CHARS)).tolist():
            value = series.iloc[k]
            cell = f"cell {column_letter(j + 1)}{k + 2} (column '{col}')"
            if illegal[k]:
                problems.append(f"{cell}: has a control character Excel cannot hold; remove it")
            else:
                problems.append(f"{cell}: {len(value)} characters, more than Excel's {EXCEL_CELL_MAX_CHARS}; write CSV instead")
    return problems


#: The characters openpyxl refuses in a cell (``openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE``), as Arrow's RE2 writes them.
_EXCEL_ILLEGAL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


def _arrow_cell_checks(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_excel_cell_problems`' two checks of a column of text (and missing values) by Arrow: control characters, lengths.

    None for a column of anything else (numbers, mixed objects), which the
    pandas string methods check (a column of 170,000 texts took them 0.1 s).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
        return None
    try:
        cells = pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, UnicodeEncodeError):  # not text only, or text UTF-8 cannot hold
        return None
    illegal = pc.match_substring_regex(cells, _EXCEL_ILLEGAL).fill_null(False).to_numpy(zero_copy_only=False)
    lengths = pc.utf8_length(cells).fill_null(0).to_numpy(zero_copy_only=False)
    return illegal, lengths


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
