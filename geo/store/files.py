"""Moving the store's content to and from the GeoJSON/CSV files of a data folder.

The files stay the interchange format and the shipped data; :data:`LAYER_FILES`
says which file holds which layer. GeoJSON layers are read through the same
validating readers as everywhere else (:mod:`geo.io`) and written with
their file-level members (``synthetic``, ``note``, ...); CSV layers keep every
cell as text, exactly as in the file. Incidents also get a point geometry from
their ``lon``/``lat`` columns, so the heat grid can be counted in SQL.

An export followed by an import gives the same layers (same rows, columns,
values, geometries and file-level members); the import adds one version per
layer that changed, with an audit entry saying where it came from.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import io
from geo._atomic import atomic_write
from geo.errors import SchemaError, StoreError

__all__ = ["LAYER_FILES", "LayerFile", "export_dir", "import_dir", "read_layer_file", "same_layer"]


@dataclass(frozen=True)
class LayerFile:
    """Where a layer lives in a data folder.

    Attributes
    ----------
    layer
        Layer name in the store.
    file
        File name in the data folder.
    kind
        ``routes``/``estates`` (validated GeoJSON), ``csv`` (text table) or
        ``incidents`` (text table plus point geometry from lon/lat).
    keep_history
        Whether the store keeps every version's content (not for incidents: too large).
    """

    layer: str
    file: str
    kind: str
    keep_history: bool = True


#: The layers the store holds, in the order they are imported.
LAYER_FILES: tuple[LayerFile, ...] = (
    LayerFile("estates", "estates.geojson", "estates"),
    LayerFile("routes", "patrol_routes.geojson", "routes"),
    LayerFile("geocode_overrides", "geocode_overrides.csv", "csv"),
    LayerFile("ledger", "ledger.csv", "csv"),
    LayerFile("incidents", "incidents.csv", "incidents", keep_history=False),
)


def read_layer_file(spec: LayerFile, path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate one layer's file (raises with every problem; nothing is stored)."""
    path = Path(path)
    if spec.kind == "estates":
        frame = io.read_estates(path)
    elif spec.kind == "routes":
        frame = io.read_routes(path)
    else:
        frame = io.read_table(path)
        frame = pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), None) for c in frame.columns}, index=pd.RangeIndex(len(frame)))
        if spec.kind == "incidents":
            lon = pd.to_numeric(frame.get("lon"), errors="coerce") if "lon" in frame else pd.Series(np.nan, index=frame.index)
            lat = pd.to_numeric(frame.get("lat"), errors="coerce") if "lat" in frame else pd.Series(np.nan, index=frame.index)
            ok = np.isfinite(lon.to_numpy(float)) & np.isfinite(lat.to_numpy(float))
            geoms = gpd.points_from_xy(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0), crs="EPSG:4326")
            frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(np.where(ok, geoms, None), crs="EPSG:4326"), crs="EPSG:4326")
        frame.attrs["metadata"] = {}
        return frame
    for name in ("notices", "source"):
        frame.attrs.pop(name, None)
    return frame


def import_dir(store, folder: str | os.PathLike, *, author: str, reason: str) -> dict[str, int]:
    """Import every layer file found in ``folder``; return layer -> new version (unchanged layers are skipped).

    Every file is read and validated before anything is written, so a bad file
    stops the import with every problem listed and the store unchanged.
    """
    folder = Path(folder)
    frames = {}
    for spec in LAYER_FILES:
        path = folder / spec.file
        if path.is_file():
            frames[spec.layer] = (spec, read_layer_file(spec, path))
    if not frames and not (folder / RECORDS_DIR).is_dir():
        names = ", ".join(s.file for s in LAYER_FILES)
        msg = f"{folder}: none of the store's files is there ({names}); give the data folder"
        raise StoreError(msg)
    records = sorted((folder / RECORDS_DIR).glob("*.geojson")) if (folder / RECORDS_DIR).is_dir() else []
    documents = [_read_records(p) for p in records]
    out = {}
    for path, doc in zip(records, documents, strict=True):
        changed = import_records(store, doc, author=author, reason=reason, where=str(path))
        if changed:
            out[doc["table"]["name"]] = changed
    for layer, (spec, frame) in frames.items():
        base = store.layer_version(layer)
        if base and same_layer(store.read_layer(layer)[0], frame):
            continue
        out[layer] = store.replace_layer(
            layer, frame, base_version=base, author=author, reason=reason, keep_history=spec.keep_history, action="import"
        )
    return out


def export_dir(store, folder: str | os.PathLike) -> list[Path]:
    """Write every layer of the store to its file in ``folder`` (created if needed), and every record table
    to ``records/<table>.geojson``; return the files written."""
    folder = Path(folder)
    written = [export_records(store, name, folder / RECORDS_DIR / f"{name}.geojson") for name in store.tables()]
    known = {s.layer: s for s in LAYER_FILES}
    for layer in store.layers()["name"]:
        spec = known.get(layer) or LayerFile(layer, f"{layer}.csv", "csv")
        frame, _ = store.read_layer(layer)
        path = folder / spec.file
        if spec.kind in ("estates", "routes"):
            io.write_geojson(frame, path, metadata=frame.attrs.get("metadata") or None)
        else:
            plain = pd.DataFrame(frame.drop(columns="geometry")) if isinstance(frame, gpd.GeoDataFrame) else frame
            io.write_table(plain, path)
        written.append(path)
    return written


#: Folder of the record tables inside an exported folder.
RECORDS_DIR = "records"


def export_records(store, table: str, path: Path) -> Path:
    """Write record table ``table`` as a GeoJSON FeatureCollection with its declaration in a ``table`` member."""
    from geo.store.values import dumps

    with store._errors(), store._engine.connect() as conn:
        _, kinds, key, geometry = store._record_table(conn, table)
    frame = store.list(table)
    features = []
    for rec in frame.to_dict("records"):
        geom = rec.pop("geometry", None)
        props = {c: (None if _missing(rec[c]) else rec[c]) for c, _ in kinds}
        props["version"] = int(rec["version"])
        features.append({"type": "Feature", "properties": props,
                         "geometry": None if geom is None or geom.is_empty else json.loads(shapely.to_geojson(geom))})
    doc = {"type": "FeatureCollection", "table": {"name": table, "key": key, "columns": [list(k) for k in kinds], "geometry": geometry},
           "features": features}
    atomic_write(path, dumps(doc))
    return path


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _read_records(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        table = doc["table"]
        assert isinstance(doc["features"], list) and {"name", "key", "columns"} <= set(table)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        msg = f"{path}: not a record table written by 'python -m geo store export' ({exc}); export it again"
        raise SchemaError(msg) from None
    return doc


def import_records(store, doc: dict, *, author: str, reason: str, where: str) -> int:
    """Insert the records of an exported table that the store lacks and update those that differ; return how many changed."""
    from geo.store.spec import TableSpec

    t = doc["table"]
    kinds = [tuple(k) for k in t["columns"]]
    spec = TableSpec(t["name"], key=t["key"], columns=dict(kinds[1:]), geometry=t.get("geometry"))
    store.ensure_table(spec)
    changed = 0
    for i, feature in enumerate(doc["features"], start=1):
        props = dict(feature.get("properties") or {})
        props.pop("version", None)
        if spec.geometry:
            g = feature.get("geometry")
            props["geometry"] = None if g is None else shapely.from_geojson(json.dumps(g))
        key = props.get(spec.key)
        current = store.get(spec.name, key) if key is not None else None
        if current is None:
            store.insert(spec.name, props, author=author, reason=f"{reason} ({where}, feature {i})")
            changed += 1
            continue
        same = all(_equal(current.get(c), v) for c, v in props.items())
        if not same:
            changes = {c: v for c, v in props.items() if c != spec.key}
            store.update(spec.name, key, changes, base_version=current["version"], author=author, reason=f"{reason} ({where}, feature {i})")
            changed += 1
    return changed


def _equal(a, b) -> bool:
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        return a is not None and b is not None and a.equals_exact(b, 1e-12)
    return a == b


def same_layer(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two layer frames hold the same rows, columns, values, geometries and file-level members."""
    if list(a.columns) != list(b.columns) or len(a) != len(b) or (a.attrs.get("metadata") or {}) != (b.attrs.get("metadata") or {}):
        return False
    from geo.store.values import frame_kinds, rows_from_frame

    geom_a = a.geometry.name if isinstance(a, gpd.GeoDataFrame) else None
    geom_b = b.geometry.name if isinstance(b, gpd.GeoDataFrame) else None
    if frame_kinds(a, geom_a) != frame_kinds(b, geom_b) or (geom_a is None) != (geom_b is None):
        return False
    kinds = frame_kinds(a, geom_a)
    return rows_from_frame(a, kinds, where="a") == rows_from_frame(b, kinds, where="b")


