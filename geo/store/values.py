"""Column kinds and the conversion of values and frames to rows and back.

A column has one of five kinds: ``text``, ``int``, ``float``, ``bool`` or
``json`` (a dict or list, stored as JSON text). Geometries travel as WKB in
WGS-84 (EPSG:4326); frames are converted column by column (NumPy/shapely
vectorised), never a row at a time.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pandas.api import types as ptypes

from geo.errors import CRSError, SchemaError

__all__ = ["KINDS", "dumps", "frame_from_columns", "frame_kinds", "kind_of", "rows_from_frame", "sql_type"]

#: Column kind -> SQLAlchemy type.
KINDS: dict[str, sa.types.TypeEngine] = {
    "text": sa.Text(),
    # GeoPackage knows INTEGER (64-bit) and DOUBLE, not BIGINT; PostgreSQL gets bigint and double precision.
    "int": sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    "float": sa.Double(),
    "bool": sa.Boolean(),
    "json": sa.Text(),
}

_PY_KINDS = {str: "text", int: "int", float: "float", bool: "bool", dict: "json", list: "json"}


def kind_of(declared, *, where: str) -> str:
    """The kind of a declared column type (``str``, ``int``, ``float``, ``bool``, ``dict``/``list`` or a kind name)."""
    if isinstance(declared, str) and declared in KINDS:
        return declared
    if declared in _PY_KINDS:
        return _PY_KINDS[declared]
    msg = f"{where}: column type {declared!r} is not one of str, int, float, bool, dict, list"
    raise SchemaError(msg)


def sql_type(kind: str) -> sa.types.TypeEngine:
    """SQLAlchemy type of a column kind."""
    return KINDS[kind]


def dumps(value) -> str:
    """Compact JSON text of a value (keys in their order, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, shapely.Geometry):
        return json.loads(shapely.to_geojson(value))
    msg = f"value {value!r} of type {type(value).__name__} cannot be stored as JSON"
    raise SchemaError(msg)


def to_db(value, kind: str):
    """One Python value as the database takes it (None for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if kind == "json":
        return dumps(value)
    if kind == "text":
        return value.isoformat() if isinstance(value, pd.Timestamp) else str(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return bool(value)


def from_db(value, kind: str):
    """One database value back as Python."""
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "bool":
        return bool(value)
    return value


def _series_kind(s: pd.Series) -> str:
    if ptypes.is_bool_dtype(s.dtype):
        return "bool"
    if ptypes.is_integer_dtype(s.dtype):
        return "int"
    if ptypes.is_float_dtype(s.dtype):
        return "float"
    values = s.dropna()
    if len(values) and all(isinstance(v, dict | list) for v in values):
        return "json"
    if len(values) and all(isinstance(v, bool | np.bool_) for v in values):
        return "bool"
    return "text"


def frame_kinds(df: pd.DataFrame, geometry: str | None) -> list[tuple[str, str]]:
    """``[(column, kind), ...]`` of the attribute columns of a frame (geometry left out)."""
    out = []
    for col in df.columns:
        if col == geometry:
            continue
        name = str(col)
        if name in ("fid", "geometry"):
            msg = f"column {name!r} is reserved by the store; rename it"
            raise SchemaError(msg)
        out.append((name, _series_kind(df[col])))
    return out


def geometry_wkb(gdf: gpd.GeoDataFrame, *, where: str) -> list:
    """The active geometry as WGS-84 WKB (None for missing or empty), vectorised."""
    if gdf.crs is None:
        msg = f"{where}: the geometries have no CRS; set it (e.g. gdf.set_crs('EPSG:4326')) before saving"
        raise CRSError(msg)
    geoms = gdf.geometry if gdf.crs.to_epsg() == 4326 else gdf.geometry.to_crs(4326)
    arr = np.asarray(geoms.values, dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    wkb = shapely.to_wkb(np.where(missing, None, arr), flavor="iso")
    return wkb.tolist()


def rows_from_frame(df: pd.DataFrame, kinds: list[tuple[str, str]], *, where: str) -> list[dict]:
    """The frame's rows as dicts of database values (geometry as WKB under ``geometry``)."""
    columns = {}
    for name, kind in kinds:
        s = df[name]
        values = s.astype(object).where(s.notna(), None).tolist()
        columns[name] = [to_db(v, kind) for v in values] if kind in ("json", "text", "bool") else values
        if kind in ("int", "float"):
            columns[name] = [None if v is None else (int(v) if kind == "int" else float(v)) for v in values]
    if isinstance(df, gpd.GeoDataFrame):
        columns["geometry"] = geometry_wkb(df, where=where)
    names = list(columns)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)] if names else [{} for _ in range(len(df))]


def frame_from_columns(data: dict[str, list], kinds: list[tuple[str, str]], geometry: bool) -> pd.DataFrame:
    """Build a frame (a GeoDataFrame in EPSG:4326 when ``geometry``) from column lists read from the database."""
    cols = {}
    for name, kind in kinds:
        values = data[name]
        if kind == "json":
            cols[name] = pd.Series([from_db(v, kind) for v in values], dtype=object)
        elif kind == "int":
            cols[name] = pd.array(values, dtype="Int64") if any(v is None for v in values) else np.asarray(values, dtype=np.int64)
        elif kind == "bool":
            cols[name] = pd.array(values, dtype="boolean") if any(v is None for v in values) else np.asarray(values, dtype=bool)
        elif kind == "float":
            cols[name] = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        else:
            cols[name] = pd.Series(values, dtype=object)
    n = len(next(iter(data.values()))) if data else 0
    df = pd.DataFrame(cols, index=pd.RangeIndex(n))
    if not geometry:
        return df
    geoms = shapely.from_wkb(np.asarray(data["geometry"], dtype=object))
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
