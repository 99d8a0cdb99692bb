"""Readers of GeoPackage, FlatGeobuf and GeoParquet: Arrow columns and WKB, geometries built in one call.

GeoPackage and FlatGeobuf are read through GDAL with :func:`pyogrio.read_arrow`;
GeoParquet with :mod:`pyarrow.parquet` (the GDAL inside the pyogrio wheels has
no Parquet driver). Features are numbered from 0 (``feature 3``) in messages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo._validate import blank_mask
from geo.errors import DataFileError
from geo.io.parts import ColumnFacts, Parts, find_column, table_datum
from geo.io.tables import Input

__all__ = ["OGR_SUFFIXES", "PARQUET_SUFFIXES", "arrow_column", "read_ogr", "read_parquet", "release_arrow_memory"]


#: Formats read through GDAL (pyogrio, Arrow): GeoPackage and FlatGeobuf.
OGR_SUFFIXES = {".gpkg", ".fgb"}
#: GeoParquet (read with pyarrow: the GDAL of the wheels has no Parquet driver).
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
_FORMAT_NAMES = {".gpkg": "a GeoPackage", ".fgb": "a FlatGeobuf file"}


def read_ogr(path: Input, layer: str | None) -> Parts:
    """Read a GeoPackage or FlatGeobuf layer through pyogrio's Arrow path: columns and WKB, no row objects."""
    import pyogrio

    try:
        meta, table = pyogrio.read_arrow(path.path if path.path is not None else path.data, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ...
        msg = f"{path}: cannot be read as {_FORMAT_NAMES.get(path.suffix, 'a vector file')} ({exc})"
        raise DataFileError(msg) from exc
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    drop = [c for c in (meta.get("fid_column"), "OGC_FID") if c and c in table.column_names]
    parts = _arrow_parts(path, table.drop_columns(drop), geom_col, crs, crs_known=meta.get("crs") is not None)
    del table
    release_arrow_memory()
    return parts


def read_parquet(path: Input) -> Parts:
    """Read a GeoParquet file (WKB geometry column, CRS from its ``geo`` metadata) with pyarrow."""
    import json as json_

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path.path if path.path is not None else pa.BufferReader(path.data))
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        msg = f"{path}: cannot be read as a GeoParquet file ({exc})"
        raise DataFileError(msg) from exc
    geo = (table.schema.metadata or {}).get(b"geo")
    if geo is None:
        msg = f"{path}: a Parquet file without GeoParquet metadata ('geo'); write it with geopandas' to_parquet or GDAL"
        raise DataFileError(msg)
    try:
        info = json_.loads(geo)
        geom_col = info["primary_column"]
        column = info["columns"][geom_col]
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{path}: the GeoParquet metadata ('geo') cannot be read ({type(exc).__name__}: {exc})"
        raise DataFileError(msg) from exc
    if str(column.get("encoding", "WKB")).upper() != "WKB":
        msg = f"{path}: geometry column '{geom_col}' is encoded as {column.get('encoding')}; write it with WKB encoding (geopandas' default)"
        raise DataFileError(msg)
    crs_known = "crs" not in column or column["crs"] is not None  # absent means OGC:CRS84 (GeoParquet 1.0)
    crs = pyproj.CRS.from_user_input(column["crs"]) if column.get("crs") is not None else (pyproj.CRS.from_user_input("OGC:CRS84") if crs_known else None)
    parts = _arrow_parts(path, table, geom_col, crs, crs_known=crs_known)
    del table
    release_arrow_memory()
    return parts


def release_arrow_memory() -> None:
    """Give the pages Arrow's allocator keeps after a table is gone back to the system.

    The values now live as Python objects; the allocator would otherwise hold
    the table's pages (about 60 MB after a province estates and routes file)
    for the rest of the command, and they would count in its peak memory.
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _arrow_parts(path: Input, table, geom_col: str, crs: pyproj.CRS | None, *, crs_known: bool) -> Parts:
    """Properties and geometries of an Arrow table: one column at a time, geometries from WKB in one call."""
    parts = Parts()
    if not crs_known:
        parts.notices.append(f"{path}: the layer has no CRS; its coordinates were taken as WGS-84 lon/lat")
    elif crs is not None and not crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True) and crs.to_epsg() != 4490:
        parts.crs = crs
    wkb = table.column(geom_col).to_numpy(zero_copy_only=False) if geom_col in table.column_names else np.full(table.num_rows, None)
    parts.geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    names = [c for c in table.column_names if c != geom_col]
    datum_col = find_column(names, ("datum", "坐标系"))
    n = table.num_rows
    data = {}
    for c in names:
        if c == datum_col:
            continue
        values, facts = _column(table.column(c))
        if facts is not None:
            parts.facts[c] = facts
        data[c] = values
    if datum_col is not None:
        parts.datum = table_datum(pd.Series(_python_values(table.column(datum_col)), dtype=object), list(range(n)), datum_col, parts.problems)
    parts.props = pd.DataFrame(data, index=pd.RangeIndex(n), columns=list(data), dtype=object)
    return parts


#: The characters :meth:`str.strip` strips (``str.isspace``; none lies above U+3000), for Arrow's ``utf8_trim``.
PY_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def _column(column) -> tuple[np.ndarray, ColumnFacts | None]:
    """An Arrow column as an object array of Python values, blank cells None, and its :class:`ColumnFacts` where its type is plain.

    See :func:`arrow_column`; other types (dates, lists, dictionaries...) are
    left to validation cell by cell.
    """
    values, facts = arrow_column(column)
    values[blank_mask(values) if facts is None else facts.missing] = None
    return values, facts


def arrow_column(column) -> tuple[np.ndarray, ColumnFacts | None]:
    """An Arrow column's cells as Python values (None where null), and its :class:`ColumnFacts` where its type is plain.

    Text is stripped and its blanks found by Arrow's compiled kernels (the
    characters of :data:`PY_WHITESPACE`, so exactly as :meth:`str.strip`);
    integers, floats and booleans are typed from the column's own buffers.
    Other types get no facts (None).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        trimmed = pc.utf8_trim(column, PY_WHITESPACE)
        missing = np.asarray(pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False), dtype=bool)
        values = column.to_numpy(zero_copy_only=False)
        unchanged = pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(column))).as_py() is not False
        text = values.copy() if unchanged else trimmed.to_numpy(zero_copy_only=False)
        text[missing] = None
        return values, ColumnFacts("str", text, missing)
    values = _python_values(column)
    if pa.types.is_integer(kind) and kind != pa.uint64():
        name, typed = "int", column.cast(pa.int64()).fill_null(0)
    elif pa.types.is_floating(kind):
        name, typed = "float", column.cast(pa.float64()).fill_null(np.nan)
    elif pa.types.is_boolean(kind):
        name, typed = "bool", column.fill_null(False)
    else:
        return values, None
    typed = typed.to_numpy(zero_copy_only=False)
    missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if name == "float":
        missing |= np.isnan(typed)
    return values, ColumnFacts(name, typed, missing)


def _python_values(column) -> np.ndarray:
    """An Arrow column as an object array of Python values (ints stay ints, nulls None)."""
    out = np.empty(len(column), dtype=object)
    out[:] = column.to_pylist()
    return out
