"""Layers (sets of rows saved as a whole), the audit trail, restore and the heat grid.

A layer (routes, estates, geocode overrides, the ledger, incidents) is one
table with a version for the whole set, kept in ``store_layers``. It is read
and written in bulk: rows travel as column lists with WKB geometries, decoded
with vectorised shapely calls, never a query per row.

A layer that keeps its history (every one but the incidents by default) has
each version's full content in the ``after`` of its audit entry, so any
version can be restored; the entry's ``before`` names the version it replaced
and its row count (that version's content is the ``after`` of its own entry).
"""

from __future__ import annotations

import datetime as _dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import sqlalchemy as sa

from geo import settings
from geo.errors import ConflictError, DataFileError, SchemaError
from geo.store import values as _v
from geo.store.schema import AUDIT, LAYERS, TABLES

__all__ = ["LayersMixin", "now"]

_CST = _dt.timezone(_dt.timedelta(hours=8), name="Asia/Shanghai")


def now() -> str:
    """Local time (Asia/Shanghai) as ISO 8601 with offset, to the second."""
    return _dt.datetime.now(_CST).isoformat(timespec="seconds")


def _payload(frame: pd.DataFrame, kinds, meta: dict) -> dict:
    """A layer's full content as JSON-ready data (geometries as GeoJSON)."""
    rows = _v.rows_from_frame(frame, kinds, where="layer")
    for r in rows:
        if "geometry" in r:
            r["geometry"] = None if r["geometry"] is None else json.loads(shapely.to_geojson(shapely.from_wkb(r["geometry"])))
        for c, k in kinds:
            if k == "json" and r[c] is not None:
                r[c] = json.loads(r[c])
    return {"meta": meta, "columns": [list(k) for k in kinds], "geometry": isinstance(frame, gpd.GeoDataFrame), "rows": rows}


def frame_from_payload(payload: dict) -> pd.DataFrame:
    kinds = [tuple(k) for k in payload["columns"]]
    rows = payload["rows"]
    data = {c: [r.get(c) if k != "json" or r.get(c) is None else _v.dumps(r[c]) for r in rows] for c, k in kinds}
    if payload["geometry"]:
        geoms = [None if r.get("geometry") is None else shapely.to_wkb(shapely.from_geojson(json.dumps(r["geometry"])), flavor="iso") for r in rows]
        data["geometry"] = geoms
    frame = _v.frame_from_columns(data, kinds, payload["geometry"])
    frame.attrs["metadata"] = payload.get("meta") or {}
    return frame


class LayersMixin:
    """Layer, audit, restore and heat-grid methods of :class:`geo.store.Store`."""

    # --- reading ---------------------------------------------------------------------------

    def _layer_table(self, name: str, kinds, geometry: str | None) -> sa.Table:
        cols = [sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True)]
        cols += [sa.Column(c, _v.sql_type(k)) for c, k in kinds]
        if geometry:
            cols.append(sa.Column("geometry", self.backend.geometry_type(geometry)))
        return sa.Table(name, sa.MetaData(), *cols)

    def layers(self) -> pd.DataFrame:
        """One row per layer: name, version, whether it keeps its history, last save (when, by whom)."""
        with self._errors(), self._engine.connect() as conn:
            rows = conn.execute(sa.select(LAYERS.c.name, LAYERS.c.version, LAYERS.c.keep_history, LAYERS.c.updated_at, LAYERS.c.updated_by)
                                .order_by(LAYERS.c.name)).all()
        return pd.DataFrame(rows, columns=["name", "version", "keep_history", "updated_at", "updated_by"])

    def layer_version(self, name: str) -> int:
        """Current version of layer ``name`` (0 if it does not exist yet)."""
        with self._errors(), self._engine.connect() as conn:
            v = conn.execute(sa.select(LAYERS.c.version).where(LAYERS.c.name == name)).scalar()
        return int(v or 0)

    def layer_columns(self, name: str) -> list[str]:
        """Attribute columns of layer ``name`` (empty when there is no such layer)."""
        with self._errors(), self._engine.connect() as conn:
            text = conn.execute(sa.select(LAYERS.c.columns).where(LAYERS.c.name == name)).scalar()
        return [k[0] for k in json.loads(text)] if text else []

    def read_layer(self, name: str, *, columns: list[str] | None = None) -> tuple[pd.DataFrame, int]:
        """Read layer ``name`` in bulk.

        Parameters
        ----------
        name
            Layer name.
        columns
            Only these attribute columns (and no geometry unless ``"geometry"`` is
            listed); default every column and the geometry. Unknown names are an error.

        Returns
        -------
        (frame, version)
            A GeoDataFrame in EPSG:4326 (a DataFrame for a layer without geometry),
            rows in the order saved, ``frame.attrs["metadata"]`` the file-level members;
            and the version to pass back as ``base_version``. Both come from one snapshot.

        Raises
        ------
        DataFileError
            If there is no such layer.
        """
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(**self.backend.snapshot_options())
            with conn.begin():
                info = conn.execute(sa.select(LAYERS).where(LAYERS.c.name == name)).first()
                if info is None:
                    known = ", ".join(r[0] for r in conn.execute(sa.select(LAYERS.c.name).order_by(LAYERS.c.name))) or "none"
                    msg = f"the store at {self.url} has no layer {name!r} (layers: {known}); import it with: python -m geo store import DIR"
                    raise DataFileError(msg)
                kinds = [tuple(k) for k in json.loads(info.columns)]
                has_geometry = bool(info.geometry)
                if columns is not None:
                    unknown = sorted(set(columns) - {c for c, _ in kinds} - ({"geometry"} if has_geometry else set()))
                    if unknown:
                        msg = f"layer {name!r} has no column(s) {unknown}; it has {[c for c, _ in kinds]}"
                        raise SchemaError(msg)
                    kinds = [(c, k) for c, k in kinds if c in columns]
                    has_geometry = has_geometry and "geometry" in columns
                names = [c for c, _ in kinds] + (["geometry"] if has_geometry else [])
                rows = conn.exec_driver_sql(self.backend.select_columns(name, names)).fetchall()  # plain tuples, no per-row objects
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        data = {n: list(col) for n, col in zip(names, columns, strict=True)}
        if has_geometry:
            data["geometry"] = self.backend.geometry_values(data["geometry"])
        frame = _v.frame_from_columns(data, kinds, has_geometry)
        frame.attrs["metadata"] = json.loads(info.meta)
        return frame, int(info.version)

    # --- writing ---------------------------------------------------------------------------

    def _create_layer_table(self, conn, name: str, kinds, geometry: str | None) -> sa.Table:
        t = self._layer_table(name, kinds, geometry)
        t.create(conn)
        self.backend.register_table(conn, name, "geometry" if geometry else None, geometry or "GEOMETRY")
        if geometry:
            self.backend.create_spatial_index(conn, name, "geometry")
        return t

    def _drop_layer_table(self, conn, name: str) -> None:
        self.backend.unregister_table(conn, name)
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')

    def replace_layer(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        base_version: int,
        author: str,
        reason: str,
        metadata: dict | None = None,
        keep_history: bool | None = None,
        action: str = "replace",
        restored_from: int | None = None,
    ) -> int:
        """Save ``frame`` as the whole of layer ``name`` if the layer is still at ``base_version``.

        Parameters
        ----------
        name
            Layer name (lower-case letters, digits, ``_``).
        frame
            A GeoDataFrame (any CRS; stored as WGS-84) or a DataFrame (a layer without geometry).
        base_version
            Version the edit started from (0 to create the layer).
        author, reason
            Who saves and why (required).
        metadata
            File-level members kept with the layer (``synthetic``, ``note``, ...);
            default ``frame.attrs["metadata"]``, else what the layer has.
        keep_history
            Keep this version's full content in the audit trail (restorable);
            default: as before, True for a new layer.
        action
            Word in the audit trail (``replace``, ``import``, ``restore``).
        restored_from
            For a restore, the version restored (kept in the audit entry).

        Returns
        -------
        int
            The new version.

        Raises
        ------
        ConflictError
            If the layer is at another version (someone else saved); nothing is written.
        """
        author, reason = self._who(author, reason, f"layer {name!r}")
        _check_name(name)
        geometry = "GEOMETRY" if isinstance(frame, gpd.GeoDataFrame) else None
        kinds = _v.frame_kinds(frame, frame.geometry.name if geometry else None)
        rows = _v.rows_from_frame(frame, kinds, where=f"layer {name!r}")
        with self._write() as conn:
            info = conn.execute(sa.select(LAYERS).where(LAYERS.c.name == name).with_for_update()).first()
            current = int(info.version) if info else 0
            if current != int(base_version):
                last = self._last_change(conn, name, None)
                msg = f"layer {name!r} was not saved: it is at version {current} ({last}), the edit started from version {base_version}; someone else saved; reload"
                raise ConflictError(msg)
            meta = metadata if metadata is not None else frame.attrs.get("metadata", json.loads(info.meta) if info else {})
            keep = bool(keep_history if keep_history is not None else (info.keep_history if info else True))
            version = current + 1
            values = {"version": version, "geometry": geometry, "columns": _v.dumps(kinds), "meta": _v.dumps(meta or {}),
                      "keep_history": keep, "updated_at": now(), "updated_by": author}
            old_rows = 0
            if info is None:
                if conn.execute(sa.select(TABLES.c.name).where(TABLES.c.name == name)).first():
                    msg = f"layer {name!r}: a record table has this name; choose another"
                    raise SchemaError(msg)
                self._drop_layer_table(conn, name)  # a leftover of an interrupted import outside the store's lists
                t = self._create_layer_table(conn, name, kinds, geometry)
                conn.execute(LAYERS.insert().values(name=name, **values))
            else:
                old_kinds = [tuple(k) for k in json.loads(info.columns)]
                old_rows = conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
                if old_kinds == kinds and info.geometry == geometry:
                    t = self._layer_table(name, kinds, geometry)
                    conn.execute(t.delete())
                else:
                    self._drop_layer_table(conn, name)
                    t = self._create_layer_table(conn, name, kinds, geometry)
                res = conn.execute(LAYERS.update().where(LAYERS.c.name == name, LAYERS.c.version == current).values(**values))
                if res.rowcount != 1:
                    msg = f"layer {name!r} was not saved: someone else saved at the same moment; reload"
                    raise ConflictError(msg)
            if rows:
                self.backend.bulk_insert(conn, t, rows)
            after = _payload(frame, kinds, meta or {}) if keep else {"rows": len(rows)}
            if restored_from is not None:
                after["restored_from"] = int(restored_from)
            self._audit(conn, table=name, key=None, version=version, action=action,
                        before=None if info is None else {"version": current, "rows": old_rows}, after=after, author=author, reason=reason)
            return version

    def append_rows(self, name: str, frame: pd.DataFrame, *, author: str, reason: str, keep_history: bool = False,
                    base_version: int | None = None) -> int:
        """Add ``frame``'s rows to layer ``name`` in one bulk insert (creating the layer if needed); return the new version.

        Appending never overwrites, so it needs no ``base_version``; give one when the
        rows were chosen against that version (e.g. only ids it lacks): a layer saved
        since is then refused with :class:`~geo.errors.ConflictError`. The columns must
        be those of the layer (a column may be missing: it is left empty).
        """
        author, reason = self._who(author, reason, f"rows of layer {name!r}")
        if self.layer_version(name) == 0 and not base_version:
            return self.replace_layer(name, frame, base_version=0, author=author, reason=reason, keep_history=keep_history, action="append")
        geometry = "GEOMETRY" if isinstance(frame, gpd.GeoDataFrame) else None
        kinds = _v.frame_kinds(frame, frame.geometry.name if geometry else None)
        rows = _v.rows_from_frame(frame, kinds, where=f"layer {name!r}")
        with self._write() as conn:
            info = conn.execute(sa.select(LAYERS).where(LAYERS.c.name == name).with_for_update()).first()
            if info is None or (base_version is not None and int(info.version) != int(base_version)):
                current = int(info.version) if info else 0
                msg = (f"rows of layer {name!r} were not added: it is at version {current} ({self._last_change(conn, name, None)}), "
                       f"they were chosen against version {base_version}; someone else saved; reload")
                raise ConflictError(msg)
            stored = dict(tuple(k) for k in json.loads(info.columns))
            bad = [f"column {c!r} ({k})" + (f" is stored as {stored[c]}" if c in stored else " is not in the layer")
                   for c, k in kinds if stored.get(c) != k and not (k == "float" and frame[c].isna().all())]
            if bad or (geometry or None) != (info.geometry or None):
                problems = bad + ([f"geometry: the layer has {info.geometry or 'none'}, the rows {geometry or 'none'}"] if (geometry or None) != (info.geometry or None) else [])
                msg = f"rows of layer {name!r} were not added: they do not match the layer"
                raise SchemaError(msg, problems)
            t = self._layer_table(name, list(stored.items()), info.geometry)
            if rows:
                self.backend.bulk_insert(conn, t, rows)
            version = int(info.version) + 1
            conn.execute(LAYERS.update().where(LAYERS.c.name == name).values(version=version, updated_at=now(), updated_by=author))
            total = conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
            self._audit(conn, table=name, key=None, version=version, action="append", before={"version": int(info.version), "rows": total - len(rows)},
                        after={"rows": total, "rows_added": len(rows)}, author=author, reason=reason)
            return version

    # --- audit and restore -----------------------------------------------------------------

    def log(self, table: str | None = None, key: str | None = None, *, limit: int | None = None) -> pd.DataFrame:
        """The audit trail, newest first: id, at, author, reason, table_name, record_key, version, action, before, after (JSON text)."""
        q = sa.select(AUDIT).order_by(AUDIT.c.id.desc())
        if table is not None:
            q = q.where(AUDIT.c.table_name == table)
        if key is not None:
            q = q.where(AUDIT.c.record_key == str(key))
        if limit is not None:
            q = q.limit(int(limit))
        with self._errors(), self._engine.connect() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame(rows, columns=[c.name for c in AUDIT.columns])

    def _entry(self, table: str, key: str | None, version: int):
        q = sa.select(AUDIT).where(AUDIT.c.table_name == table, AUDIT.c.version == int(version))
        q = q.where(AUDIT.c.record_key.is_(None) if key is None else AUDIT.c.record_key == str(key))
        with self._errors(), self._engine.connect() as conn:
            row = conn.execute(q.order_by(AUDIT.c.id.desc()).limit(1)).first()
        if row is None:
            what = f"layer {table!r}" if key is None else f"table {table!r}, record {key!r}"
            msg = f"{what}: no version {version} in the audit trail; see python -m geo store log"
            raise DataFileError(msg)
        return row

    def restore(self, table: str, key: str | None, version: int, *, author: str, reason: str, base_version: int | None = None) -> int:
        """Make ``version`` of a record (``key``) or of a layer (``key=None``) current again, as a new version.

        ``base_version`` defaults to the current version; a save in between is refused
        with :class:`~geo.errors.ConflictError` as for any write. Restoring a record's
        deleted state deletes it. Returns the new version.
        """
        entry = self._entry(table, key, version)
        after = None if entry.after is None else json.loads(entry.after)
        if key is None:
            if not after or "rows" not in after or not isinstance(after["rows"], list):
                msg = f"layer {table!r}: version {version} was not kept (the layer keeps no history); nothing to restore"
                raise DataFileError(msg)
            frame = frame_from_payload(after)
            base = self.layer_version(table) if base_version is None else base_version
            return self.replace_layer(table, frame, base_version=base, author=author, reason=reason, metadata=after["meta"], action="restore",
                                      restored_from=version)
        current = self.get(table, key)
        if after is None:
            if current is None:
                msg = f"table {table!r}, record {key!r}: already deleted; nothing to restore"
                raise DataFileError(msg)
            return self.delete(table, key, base_version=current["version"] if base_version is None else base_version, author=author, reason=reason)
        record = {k: v for k, v in after.items() if k not in ("version", "updated_at", "updated_by")}
        if record.get("geometry") is not None:
            record["geometry"] = shapely.from_geojson(json.dumps(record["geometry"]))
        if current is None:
            return self.insert(table, record, author=author, reason=reason)
        changes = {k: v for k, v in record.items() if k != next(iter(record))}
        return self.update(table, key, changes, base_version=current["version"] if base_version is None else base_version, author=author, reason=reason)

    # --- heat grid -------------------------------------------------------------------------

    def heat_cells(self, cell_m: float, *, layer: str = "incidents", bounds: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
        """Count a layer's points in square cells of ``cell_m`` metres in :data:`geo.settings.metric_crs`.

        Cells are aligned on multiples of ``cell_m`` and include their lower and left
        edges, as :func:`geo.incidents.heat.aggregate_grid`. On PostGIS the counting
        runs in SQL (``ST_Transform`` to the metric CRS, ``floor(x / cell)``, GROUP BY)
        and only the cells travel; ``floor`` rather than ``ST_SnapToGrid`` because
        the latter rounds half to even at a cell edge, where the Python grid counts
        the point in the upper cell. On the embedded store the points are read in
        bulk (WKB) and counted with NumPy.

        Parameters
        ----------
        cell_m
            Cell size, metres (> 0).
        bounds
            Keep points with west <= lon <= east and south <= lat <= north (inclusive);
            default :data:`geo.settings.heat_bounds` or :data:`geo.settings.shahe_bounds`.

        Returns
        -------
        pandas.DataFrame
            ``x_m``, ``y_m`` (cell centres, metric CRS) and ``count``, sorted by x then y.
        """
        if not cell_m > 0:
            msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
            raise ValueError(msg)
        west, south, east, north = bounds or settings.heat_bounds or settings.shahe_bounds
        epsg = pyproj.CRS(settings.metric_crs).to_epsg()
        cell = float(cell_m)
        if self.kind == "postgis":
            sql = sa.text(
                f'SELECT floor(ST_X(p) / :cell) AS ix, floor(ST_Y(p) / :cell) AS iy, count(*) AS n FROM ('
                f'SELECT ST_Transform(geometry, {int(epsg)}) AS p FROM "{_check_name(layer)}" '
                "WHERE ST_Intersects(geometry, ST_MakeEnvelope(:w, :s, :e, :n, 4326))) q GROUP BY 1, 2"
            )
            with self._errors(), self._engine.connect() as conn:
                rows = conn.execute(sql, {"cell": cell, "w": west, "s": south, "e": east, "n": north}).all()
            ix = np.asarray([r[0] for r in rows], dtype=float)
            iy = np.asarray([r[1] for r in rows], dtype=float)
            out = pd.DataFrame({"x_m": (ix + 0.5) * cell, "y_m": (iy + 0.5) * cell, "count": np.asarray([r[2] for r in rows], dtype=np.int64)})
        else:
            from geo.crs import project_lonlat
            from geo.incidents.heat import aggregate_grid

            with self._errors(), self._engine.connect() as conn:
                blobs = conn.execute(sa.text(f'SELECT geometry FROM "{_check_name(layer)}" WHERE geometry IS NOT NULL')).scalars().all()
            from geo.store.sqlite import gpkg_to_wkb

            pts = shapely.from_wkb(np.asarray([gpkg_to_wkb(b) for b in blobs], dtype=object))
            lon, lat = shapely.get_x(pts), shapely.get_y(pts)  # NaN for anything but a point: dropped below
            keep = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
            x, y = project_lonlat(lon[keep], lat[keep])
            cx, cy, total = aggregate_grid(np.asarray(x), np.asarray(y), cell)
            out = pd.DataFrame({"x_m": cx, "y_m": cy, "count": np.asarray(total, dtype=np.int64)})
        return out.sort_values(["x_m", "y_m"], ignore_index=True)


def _check_name(name: str) -> str:
    import re

    if not re.match(r"^[a-z][a-z0-9_]{0,40}$", name or "") or name.startswith(("store_", "gpkg_", "rtree_")):
        msg = f"layer name {name!r}: use lower-case letters, digits and '_' starting with a letter, not store_/gpkg_/rtree_"
        raise SchemaError(msg)
    return name
