"""The embedded backend: one SQLite file in GeoPackage form (OGC 12-128r18).

Geometries are stored as GeoPackage binary (an 8-byte ``GP`` header carrying
the SRS id, then ISO WKB), and every table is listed in ``gpkg_contents`` and,
with a geometry, in ``gpkg_geometry_columns``, so QGIS, GDAL and pyogrio open
the file as layers. The store's own bookkeeping (``store_*`` tables) is listed
as attribute tables.

The file runs in WAL mode (readers never wait for a writer) with a busy
timeout of :data:`BUSY_TIMEOUT_MS`; every write transaction starts with
``BEGIN IMMEDIATE``, so two writers queue for the write lock instead of
failing half-way with "database is locked". A process killed in the middle of
a write leaves an uncommitted WAL tail that SQLite discards on the next open:
the file opens with the previous state.
"""

from __future__ import annotations

import struct
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from geo.errors import StoreError

__all__ = ["BUSY_TIMEOUT_MS", "GpkgGeometry", "SqliteBackend"]

#: Milliseconds a writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000

#: ``PRAGMA application_id`` of a GeoPackage ("GPKG").
_GPKG_APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` of GeoPackage 1.3.
_GPKG_USER_VERSION = 10300
#: Bytes of the envelope for each envelope indicator of the GeoPackage binary header.
_ENVELOPE_BYTES = (0, 32, 48, 48, 64, 0, 0, 0)

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
    'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]'
)


def wkb_to_gpkg(wkb: bytes | None, srs_id: int = 4326) -> bytes | None:
    """Wrap ISO WKB in a GeoPackage binary header (little-endian, no envelope)."""
    if wkb is None:
        return None
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + bytes(wkb)


def gpkg_to_wkb(blob: bytes | None) -> bytes | None:
    """Strip the GeoPackage binary header (with any envelope) and return the WKB."""
    if blob is None:
        return None
    blob = bytes(blob)
    if blob[:2] != b"GP":
        return blob  # already plain WKB (written by a tool that ignores the standard)
    return blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 7] :]


class GpkgGeometry(sa.types.UserDefinedType):
    """A geometry column of a GeoPackage: WKB in, WKB out, GeoPackage binary on disk."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY"):
        self.geometry_type = geometry_type.upper()

    def get_col_spec(self, **kw) -> str:
        return self.geometry_type

    def bind_processor(self, dialect):
        return wkb_to_gpkg

    def result_processor(self, dialect, coltype):
        return gpkg_to_wkb


class SqliteBackend:
    """SQLite/GeoPackage specifics of :class:`geo.store.Store`.

    Parameters
    ----------
    path
        The ``.gpkg`` file (created on first use).
    """

    name = "geopackage"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.display_url = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"{self.path.parent}: cannot create the store's folder ({exc.strerror or exc}); check that it is writable"
            raise StoreError(msg) from exc
        self.engine = sa.create_engine(f"sqlite:///{self.path}", poolclass=sa.pool.NullPool)
        event.listen(self.engine, "connect", _on_connect)
        event.listen(self.engine, "begin", _on_begin)

    def geometry_type(self, geometry_type: str) -> sa.types.TypeEngine:
        """Column type of a geometry column."""
        return GpkgGeometry(geometry_type)

    def write_options(self) -> dict:
        """Execution options of a write transaction (``BEGIN IMMEDIATE``)."""
        return {"sqlite_immediate": True}

    def snapshot_options(self) -> dict:
        """Execution options of a consistent read (none: a deferred SQLite transaction reads one snapshot)."""
        return {}

    def prepare(self, conn: sa.Connection) -> None:
        """Make the file a GeoPackage: application id, version, the three required tables and their rows."""
        conn.exec_driver_sql(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, "
            "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, "
            "identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
            "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, "
            "srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"
        )
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
            "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, "
            "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
            "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
            "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"
        )
        rows = [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ]
        conn.exec_driver_sql("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", rows)

    def register_table(self, conn: sa.Connection, table: str, geometry_column: str | None, geometry_type: str = "GEOMETRY") -> None:
        """List ``table`` in ``gpkg_contents`` (and ``gpkg_geometry_columns``) so GIS tools see it."""
        self.unregister_table(conn, table)
        if geometry_column is None:
            conn.exec_driver_sql("INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES (?, 'attributes', ?)", (table, table))
            return
        conn.exec_driver_sql(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, 4326)", (table, table)
        )
        conn.exec_driver_sql(
            "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, 4326, 0, 0)", (table, geometry_column, geometry_type.upper())
        )

    def unregister_table(self, conn: sa.Connection, table: str) -> None:
        """Remove ``table`` from the GeoPackage's lists (before it is dropped)."""
        conn.exec_driver_sql("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (table,))
        conn.exec_driver_sql("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))

    def create_spatial_index(self, conn: sa.Connection, table: str, column: str) -> None:
        """No-op: a GeoPackage R-tree needs SQL functions only GDAL provides; reads here are whole-table."""

    def bulk_insert(self, conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
        """Insert many rows with one prepared statement (``executemany`` of tuples) inside the caller's transaction."""
        cols = [c.name for c in table.columns if c.name != "fid"]
        quoted = ", ".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
        if "geometry" in cols:
            data = [tuple(wkb_to_gpkg(r.get(c)) if c == "geometry" else r.get(c) for c in cols) for r in rows]
        else:
            data = [tuple(r.get(c) for c in cols) for r in rows]
        conn.exec_driver_sql(sql, data)

    def select_columns(self, table: str, columns: list[str]) -> str:
        """``SELECT`` of ``columns`` of ``table`` in saving order, geometry as stored (see :meth:`geometry_values`)."""
        quoted = ", ".join(f'"{c}"' for c in columns)
        return f'SELECT {quoted} FROM "{table}" ORDER BY fid'

    def geometry_values(self, values) -> list:
        """WKB of the geometry values a :meth:`select_columns` query returned."""
        return [gpkg_to_wkb(v) for v in values]

    def dispose(self) -> None:
        """Close every connection (the last close checkpoints the WAL into the file)."""
        self.engine.dispose()


def _on_connect(dbapi_conn, _record) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event below issues BEGIN itself,
    # so the kind of transaction (deferred for reads, immediate for writes) is ours to choose.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")  # a commit that returned survives a power cut too
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _on_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
