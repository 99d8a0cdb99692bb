"""The embedded backend: one SQLite file in GeoPackage form (OGC 12-128r18).

Geometries are stored as GeoPackage binary (an 8-byte ``GP`` header carrying
the SRS id, then ISO WKB), and every table is listed in ``gpkg_contents`` and,
with a geometry, in ``gpkg_geometry_columns``, so QGIS, GDAL and pyogrio open
the file as layers. The store's own bookkeeping (``store_*`` tables) is listed
as attribute tables.

Every geometry column has the GeoPackage R-tree spatial index extension
(``gpkg_rtree_index``): a row in ``gpkg_extensions``, the virtual table
``rtree_<table>_<column>`` and the standard triggers that keep it in step.
The triggers call ``ST_IsEmpty`` and ``ST_MinX``/``ST_MaxX``/``ST_MinY``/``ST_MaxY``,
which every connection of this backend registers (:func:`register_functions`),
as GDAL and QGIS register their own; a bulk insert fills the index with
vectorised bounds instead of one call per row.

The file runs in WAL mode (readers never wait for a writer) with a busy
timeout of :data:`BUSY_TIMEOUT_MS`; every write transaction starts with
``BEGIN IMMEDIATE``, so two writers queue for the write lock instead of
failing half-way with "database is locked". A process killed in the middle of
a write leaves an uncommitted WAL tail that SQLite discards on the next open:
the file opens with the previous state.
"""

from __future__ import annotations

import functools
import math
import struct
from pathlib import Path

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy import event

from geo.errors import StoreError

__all__ = ["BUSY_TIMEOUT_MS", "RTREE_EXTENSION", "GpkgGeometry", "SqliteBackend", "register_functions", "rtree_name"]

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


#: ``gpkg_extensions`` row values of the R-tree spatial index (OGC 12-128r18, annex F.3).
RTREE_EXTENSION = ("gpkg_rtree_index", "http://www.geopackage.org/spec120/#extension_rtree", "write-only")


def rtree_name(table: str, column: str) -> str:
    """Name of the R-tree virtual table of ``table``'s geometry ``column``."""
    return f"rtree_{table}_{column}"


@functools.lru_cache(maxsize=64)
def _envelope(blob: bytes) -> tuple[float, float, float, float] | None:
    """``(minx, maxx, miny, maxy)`` of a GeoPackage geometry blob, None when it is empty.

    Read from the header's envelope when there is one, from the WKB of a 2-D
    point directly, and through shapely otherwise.
    """
    if blob[:2] == b"GP":
        flags = blob[3]
        if flags & 0x10:
            return None
        indicator = (flags >> 1) & 7
        if 1 <= indicator <= 4:
            return struct.unpack_from("<4d" if flags & 1 else ">4d", blob, 8)
        wkb = blob[8 + _ENVELOPE_BYTES[indicator] :]
    else:
        wkb = blob
    if len(wkb) == 21 and wkb[0] in (0, 1):
        order = "<" if wkb[0] == 1 else ">"
        if struct.unpack_from(f"{order}I", wkb, 1)[0] == 1:  # a 2-D point
            x, y = struct.unpack_from(f"{order}2d", wkb, 5)
            return None if math.isnan(x) and math.isnan(y) else (x, x, y, y)
    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (minx, maxx, miny, maxy)


def _st_is_empty(blob):
    return None if blob is None else int(_envelope(bytes(blob)) is None)


def _st_bound(index: int):
    def bound(blob):
        if blob is None:
            return None
        env = _envelope(bytes(blob))
        return None if env is None else env[index]

    return bound


def register_functions(dbapi_conn) -> None:
    """Register the SQL functions the R-tree triggers call (``ST_IsEmpty``, ``ST_MinX`` ...) on a sqlite3 connection."""
    dbapi_conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        dbapi_conn.create_function(name, 1, _st_bound(i), deterministic=True)


def _rtree_triggers(table: str, column: str, pk: str = "fid") -> dict[str, str]:
    """The six triggers of the R-tree extension (GeoPackage 1.3), by name."""
    t, c, r = f'"{table}"', f'"{column}"', f'"{rtree_name(table, column)}"'
    values = f"NEW.{pk}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    filled = f"(NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))"
    empty = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    base = rtree_name(table, column)
    return {
        f"{base}_insert": f"AFTER INSERT ON {t} WHEN {filled} BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"{base}_update1": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{pk} = NEW.{pk} AND {filled} "
        f"BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"{base}_update2": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{pk} = NEW.{pk} AND {empty} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{pk}; END",
        f"{base}_update3": f"AFTER UPDATE ON {t} WHEN OLD.{pk} != NEW.{pk} AND {filled} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{pk}; INSERT OR REPLACE INTO {r} VALUES ({values}); END",
        f"{base}_update4": f"AFTER UPDATE ON {t} WHEN OLD.{pk} != NEW.{pk} AND {empty} "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{pk}, NEW.{pk}); END",
        f"{base}_delete": f"AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL BEGIN DELETE FROM {r} WHERE id = OLD.{pk}; END",
    }


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

    def exclusive(self, conn: sa.Connection) -> None:
        """Nothing to do: every write transaction (``BEGIN IMMEDIATE``) already waits for any other to end."""

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
        """Remove ``table`` from the GeoPackage's lists and drop its R-tree (before the table is dropped)."""
        for (column,) in conn.exec_driver_sql("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchall():
            for name in _rtree_triggers(table, column):
                conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{rtree_name(table, column)}"')
        if self._has_extensions(conn):
            conn.exec_driver_sql("DELETE FROM gpkg_extensions WHERE table_name = ?", (table,))
        conn.exec_driver_sql("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (table,))
        conn.exec_driver_sql("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))

    @staticmethod
    def _has_extensions(conn: sa.Connection) -> bool:
        return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_extensions'").first() is not None

    def create_spatial_index(self, conn: sa.Connection, table: str, column: str) -> None:
        """The R-tree spatial index extension on ``table``'s ``column``: extension row, virtual table, triggers, filled from the rows."""
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
            "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
        )
        conn.exec_driver_sql("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", (table, column, *RTREE_EXTENSION))
        rtree = rtree_name(table, column)
        conn.exec_driver_sql(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{rtree}" USING rtree(id, minx, maxx, miny, maxy)')
        conn.exec_driver_sql(
            f'INSERT OR REPLACE INTO "{rtree}" SELECT fid, ST_MinX("{column}"), ST_MaxX("{column}"), ST_MinY("{column}"), '
            f'ST_MaxY("{column}") FROM "{table}" WHERE "{column}" NOT NULL AND NOT ST_IsEmpty("{column}")'
        )
        for name, body in _rtree_triggers(table, column).items():
            conn.exec_driver_sql(f'CREATE TRIGGER IF NOT EXISTS "{name}" {body}')

    def index_geometry_tables(self, conn: sa.Connection) -> None:
        """Give every geometry column listed in ``gpkg_geometry_columns`` its R-tree (a store made before there were any)."""
        rows = conn.exec_driver_sql("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        for table, column in rows:
            self.create_spatial_index(conn, table, column)

    def bulk_insert(self, conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
        """Insert many rows with one prepared statement (``executemany`` of tuples) inside the caller's transaction."""
        cols = [c.name for c in table.columns if c.name != "fid"]
        rtree = rtree_name(table.name, "geometry")
        indexed = "geometry" in cols and conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (rtree,)).first() is not None
        if not indexed:
            quoted = ", ".join(f'"{c}"' for c in cols)
            sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(cols))})'
            data = [tuple(wkb_to_gpkg(r.get(c)) if c == "geometry" else r.get(c) for c in cols) for r in rows]
            conn.exec_driver_sql(sql, data)
            return
        # With the R-tree: rows get their fid here, the insert trigger is set aside and the index is
        # filled from vectorised bounds (one statement), then the trigger is put back, all in this transaction.
        start = int(conn.exec_driver_sql(f'SELECT coalesce(max(fid), 0) FROM "{table.name}"').scalar()) + 1
        fids = range(start, start + len(rows))
        quoted = ", ".join(f'"{c}"' for c in ["fid", *cols])
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * (len(cols) + 1))})'
        data = [(fid, *(wkb_to_gpkg(r.get(c)) if c == "geometry" else r.get(c) for c in cols)) for fid, r in zip(fids, rows, strict=True)]
        trigger = f"{rtree}_insert"
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{trigger}"')
        conn.exec_driver_sql(sql, data)
        geoms = shapely.from_wkb(np.asarray([r.get("geometry") for r in rows], dtype=object))
        bounds = shapely.bounds(geoms)  # minx, miny, maxx, maxy; NaN for missing or empty
        keep = np.flatnonzero(~np.isnan(bounds).any(axis=1))
        fid_arr = np.asarray(fids, dtype=np.int64)
        entries = [(int(fid_arr[i]), float(bounds[i, 0]), float(bounds[i, 2]), float(bounds[i, 1]), float(bounds[i, 3])) for i in keep]
        conn.exec_driver_sql(f'INSERT OR REPLACE INTO "{rtree}" VALUES (?, ?, ?, ?, ?)', entries)
        conn.exec_driver_sql(f'CREATE TRIGGER "{trigger}" {_rtree_triggers(table.name, "geometry")[trigger]}')

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
    register_functions(dbapi_conn)


def _on_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
