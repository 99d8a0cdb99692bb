"""Validation of features against a schema, collecting every problem before raising."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.schemas import Schema

_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NA


def coerce(value, kind: str):
    """Convert ``value`` to ``kind``; raise ValueError with a reason if it cannot."""
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise ValueError("is a JSON object or list, not text")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("is a boolean, not a whole number")
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            if float(value).is_integer():
                return int(value)
            raise ValueError("is not a whole number")
        text = str(value).translate(_FULLWIDTH).strip()
        try:
            f = float(text)
        except ValueError:
            raise ValueError("is not a whole number") from None
        if not f.is_integer():
            raise ValueError("is not a whole number")
        return int(f)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError("is a boolean, not a number")
        try:
            f = float(str(value).translate(_FULLWIDTH).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ValueError("is not a number") from None
        if not np.isfinite(f):
            raise ValueError("is not a finite number")
        return f
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("is not true/false")
    raise AssertionError(f"unknown field kind {kind!r}")


def _location(reason: str) -> str:
    # shapely reasons look like "Self-intersection[108.37 30.84]"; keep them whole.
    return reason


def check_geometries(geoms: np.ndarray, labels: list[str], schema: Schema) -> list[str]:
    """Return the problems of an array of geometries (already built)."""
    problems: list[str] = []
    allowed = set(schema.geometry_types)
    for geom, where in zip(geoms, labels, strict=False):
        if geom is None or geom.is_empty:
            problems.append(f"{where}: has no geometry; give it a {' or '.join(schema.geometry_types)} in WGS-84 lon/lat")
            continue
        gtype = geom.geom_type
        if gtype not in allowed:
            problems.append(f"{where}: geometry is a {gtype}; this file takes {' or '.join(schema.geometry_types)}")
            continue
        coords = shapely.get_coordinates(geom)
        if not np.isfinite(coords).all():
            problems.append(f"{where}: geometry has NaN or infinite coordinates")
            continue
        swapped = _is_swapped(coords)
        if swapped:
            x, y = coords[0]
            problems.append(
                f"{where}: latitude and longitude look swapped (first vertex x={x:.6f}, y={y:.6f}); "
                "GeoJSON and this project put longitude first: swap the two values"
            )
            continue
        outside = ~_in_china(coords)
        if outside.any():
            x, y = coords[np.argmax(outside)]
            problems.append(
                f"{where}: coordinate ({x:.6f}, {y:.6f}) lies outside China; check the numbers and that they are degrees of WGS-84, GCJ-02 or BD-09"
            )
            continue
        if gtype in ("LineString", "MultiLineString"):
            parts = [geom] if gtype == "LineString" else list(geom.geoms)
            for k, part in enumerate(parts):
                if shapely.get_num_coordinates(part) < 2 or part.length == 0:
                    label = where if len(parts) == 1 else f"{where}, part {k}"
                    problems.append(f"{label}: the line has zero length (fewer than two distinct vertices); give it at least two different points")
            continue
        if not geom.is_valid:
            problems.append(f"{where}: invalid {gtype}: {_location(shapely.is_valid_reason(geom))}; fix it in a GIS (e.g. make valid) and save again")
    return problems


def _in_china(coords: np.ndarray) -> np.ndarray:
    west, south, east, north = settings.china_bounds
    return (coords[:, 0] >= west) & (coords[:, 0] <= east) & (coords[:, 1] >= south) & (coords[:, 1] <= north)


def _is_swapped(coords: np.ndarray) -> bool:
    if _in_china(coords).all():
        return False
    return bool(_in_china(coords[:, ::-1]).all())


def check_frame(props: list[dict], geoms: list, schema: Schema, *, broken, datum: str = "wgs84") -> tuple[list[str], gpd.GeoDataFrame | None]:
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
    datum
        Datum of the coordinates; only used in messages.

    Returns
    -------
    (problems, gdf)
        Every problem, one string each, and the typed GeoDataFrame in
        EPSG:4326 (None when there are problems).
    """
    problems: list[str] = []
    n = len(props)
    ids = [p.get(schema.id_field) for p in props]
    labels = [f"feature {i}" + (f" ({fid})" if not _blank(fid) else "") for i, fid in enumerate(ids)]

    known = set(schema.field_index)
    unknown = Counter(k for p in props for k in p if k not in known and not str(k).startswith(schema.extra_prefix))
    for name, count in sorted(unknown.items()):
        close = _closest(name, known)
        hint = f"did you mean '{close}'? " if close else ""
        problems.append(
            f"field '{name}': unknown in a {schema.name} file ({count} feature{'s' if count != 1 else ''}); {hint}"
            f"rename it to a schema field or prefix it with '{schema.extra_prefix}' to keep it as your own"
        )

    columns: dict[str, list] = {f.name: [None] * n for f in schema.fields}
    extras = sorted({k for p in props for k in p if str(k).startswith(schema.extra_prefix)})
    for k in extras:
        columns[k] = [p.get(k) for p in props]
    for i, p in enumerate(props):
        for f in schema.fields:
            value = p.get(f.name)
            if _blank(value):
                if f.required:
                    problems.append(f"{labels[i]}, field '{f.name}': missing; every {schema.name} feature needs {f.description or 'it'}")
                continue
            try:
                typed = coerce(value, f.kind)
            except ValueError as exc:
                problems.append(f"{labels[i]}, field '{f.name}': {value!r} {exc}; expected {f.kind}")
                continue
            if f.choices is not None and typed not in f.choices:
                problems.append(f"{labels[i]}, field '{f.name}': {typed!r} is not allowed; use one of {', '.join(map(str, f.choices))}")
                continue
            columns[f.name][i] = typed

    dup = Counter(str(v) for v in ids if not _blank(v))
    for fid, count in sorted(dup.items()):
        if count > 1:
            rows = [str(i) for i, v in enumerate(ids) if str(v) == fid]
            problems.append(f"field '{schema.id_field}': id {fid!r} is used by {count} features ({', '.join(rows)}); ids must be unique")

    real = np.array([None if g is broken else g for g in geoms], dtype=object)
    checkable = [i for i, g in enumerate(geoms) if g is not broken]
    problems.extend(check_geometries(real[checkable], [labels[i] for i in checkable], schema))

    if problems:
        return problems, None
    data = {}
    for f in schema.fields:
        col = columns[f.name]
        if all(v is None for v in col) and not f.required:
            continue
        if f.kind == "int":
            data[f.name] = pd.array(col, dtype="Int64")
        elif f.kind == "float":
            data[f.name] = pd.array(col, dtype="Float64")
        elif f.kind == "bool":
            data[f.name] = pd.array(col, dtype="boolean")
        else:
            data[f.name] = pd.Series(col, dtype=object)
    for k in extras:
        data[k] = pd.Series(columns[k], dtype=object)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(real), crs=settings.storage_crs), crs=settings.storage_crs)
    return [], gdf


def _closest(name: str, known: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.75)
    return match[0] if match else None
