"""Incident archives in (Geo)Parquet as an import source.

An archive is imported like a CSV export: its columns are turned into the
text cells the importer checks, with positions from ``lon``/``lat`` columns or
from the GeoParquet point geometry (converted to WGS-84 from the file's CRS
with pyproj on whole arrays). Rows are numbered as in a CSV export of the
archive: the first record is row 2. The Parquet store itself is in
:mod:`geo.incidents.store`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pandas as pd

from geo.errors import DataFileError
from geo.io.tables import Input

# --- Parquet archives as an import source -----------------------------------------


def parquet_frames(path: Input, chunksize: int) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """The headers and text chunks of a (Geo)Parquet incident archive, for the importer.

    Text columns stay text; numbers become their shortest text (``repr``);
    timestamps become local wall-clock text (time-zone aware ones converted to
    Asia/Shanghai). A GeoParquet point geometry gives ``lon``/``lat`` columns
    (WGS-84, converted from the file's CRS) when the file has none.

    Raises
    ------
    DataFileError
        If the file is not Parquet, or its geometry is not points.
    """
    import pyarrow.parquet as pq

    source = str(path.path) if path.path is not None else _buffer(path.data)
    try:
        pf = pq.ParquetFile(source)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        msg = f"{path}: cannot be read as Parquet ({exc})"
        raise DataFileError(msg) from exc
    meta = pf.schema_arrow.metadata or {}
    geo = json.loads(meta[b"geo"]) if b"geo" in meta else None
    geom_col = geo.get("primary_column") if geo else None
    names = [n for n in pf.schema_arrow.names if n != geom_col]
    lower = {n.lower() for n in names}
    add_xy = geom_col is not None and not ({"lon", "lng", "longitude", "经度"} & lower)
    headers = names + (["lon", "lat"] if add_xy else [])
    transformer = _to_wgs84(geo["columns"][geom_col].get("crs")) if add_xy else None

    def frames() -> Iterator[pd.DataFrame]:
        first_row = 2
        for batch in pf.iter_batches(batch_size=chunksize):
            cols = {n: _as_text(batch.column(batch.schema.get_field_index(n))) for n in names}
            if add_xy:
                lon, lat = _points(batch.column(batch.schema.get_field_index(geom_col)), path, transformer, first_row)
                cols["lon"], cols["lat"] = _floats_text(lon), _floats_text(lat)
            frame = pd.DataFrame(cols, columns=headers, dtype=object)
            frame.attrs["text_only"] = True
            first_row += len(frame)
            yield frame

    return headers, frames()


def _buffer(data: bytes):
    import pyarrow as pa

    return pa.BufferReader(data)


def _as_text(array) -> np.ndarray:
    import pyarrow as pa

    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array.to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(t):
        # Aware times come out as UTC instants: shift them to Shanghai wall-clock time (UTC+8, no daylight saving).
        values = array.to_numpy(zero_copy_only=False).astype("datetime64[s]")
        if t.tz is not None:
            values = values + np.timedelta64(8 * 3600, "s")
        text = np.char.replace(np.datetime_as_string(values, unit="s"), "T", " ").astype(object)
        text[np.isnat(values)] = None
        return text
    if pa.types.is_date(t):
        values = array.to_numpy(zero_copy_only=False).astype("datetime64[D]")
        text = np.datetime_as_string(values, unit="D").astype(object)
        text[np.isnat(values)] = None
        return text
    if pa.types.is_floating(t):
        return _floats_text(array.to_numpy(zero_copy_only=False))
    values = array.to_pylist()
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def _floats_text(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    out = np.array([repr(v) for v in values.tolist()], dtype=object)
    out[np.isnan(values)] = None
    return out


def _to_wgs84(crs_json):
    """A pyproj transformer from the GeoParquet CRS to WGS-84 lon/lat, or None when the CRS is already lon/lat on WGS-84/CGCS2000."""
    import pyproj

    if crs_json is None:
        return None  # GeoParquet's default: OGC:CRS84, lon/lat on WGS-84
    crs = pyproj.CRS.from_user_input(crs_json)
    if crs.is_geographic and crs.to_epsg() in (4326, 4490):
        return None
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _points(array, path: Input, transformer, first_row: int) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    geoms = shapely.from_wkb(array.to_numpy(zero_copy_only=False))
    bad = np.flatnonzero((shapely.get_type_id(geoms) != 0) & ~shapely.is_missing(geoms))
    if len(bad):
        rows = ", ".join(str(first_row + int(i)) for i in bad[:10])
        what = f"row {rows} has a {geoms[bad[0]].geom_type}" if len(bad) == 1 else f"rows {rows} have geometries that are not points (first a {geoms[bad[0]].geom_type})"
        msg = f"{path}: {what}; an incident is a point: give each row a point geometry or lon/lat columns"
        raise DataFileError(msg)
    x = np.where(shapely.is_missing(geoms) | shapely.is_empty(geoms), np.nan, shapely.get_x(geoms))
    y = np.where(shapely.is_missing(geoms) | shapely.is_empty(geoms), np.nan, shapely.get_y(geoms))
    if transformer is not None:
        x, y = transformer.transform(x, y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
