"""The shared backend: PostgreSQL with PostGIS, through SQLAlchemy 2 Core and psycopg 3.

Geometries are ``geometry(<type>, 4326)`` columns with GiST indexes; they
travel as WKB (``ST_GeomFromWKB`` in, ``ST_AsBinary`` out). Transactions run
at READ COMMITTED: a stale write is caught by ``UPDATE ... WHERE version =
base`` (the row lock makes a second writer wait, then see the new version and
update nothing), so no explicit table lock is needed.
"""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa

from geo.errors import StoreError

__all__ = ["PgGeometry", "PostgisBackend", "display_url"]

#: One engine (connection pool) per URL for the whole process: the app opens the store on
#: every run of its script, and each would otherwise leave a pool of connections behind.
_ENGINES: dict[str, sa.Engine] = {}


def display_url(url: str | sa.URL) -> str:
    """The URL with its password hidden (for messages and logs)."""
    try:
        return sa.make_url(str(url)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unreadable store URL>"


def driver_url(url: str) -> sa.URL:
    """``postgresql://...`` (or ``postgres://``) made explicit for psycopg 3."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        msg = f"store URL {display_url(url)!r} cannot be read; write it as postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        raise StoreError(msg) from exc
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    msg = f"store URL {display_url(url)!r}: unknown kind {parsed.drivername!r}; use postgresql://... or a .gpkg file"
    raise StoreError(msg)


class PgGeometry(sa.types.UserDefinedType):
    """A PostGIS ``geometry(<type>, 4326)`` column that takes and gives WKB."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY"):
        self.geometry_type = geometry_type.upper()

    def get_col_spec(self, **kw) -> str:
        return f"geometry({self.geometry_type},4326)"

    def bind_expression(self, bindvalue):
        return sa.func.ST_GeomFromWKB(bindvalue, 4326, type_=self)

    def column_expression(self, col):
        return sa.func.ST_AsBinary(col, type_=sa.LargeBinary)

    def bind_processor(self, dialect):
        return lambda value: None if value is None else bytes(value)


#: The advisory lock of :meth:`PostgisBackend.exclusive` (a number of the project's own: "shahe" in ASCII).
_EXCLUSIVE_KEY = 0x736861686500


class PostgisBackend:
    """PostGIS specifics of :class:`geo.store.Store`.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host[:port]/db`` (``?host=/folder`` for a Unix socket).
    """

    name = "postgis"

    def __init__(self, url: str):
        self.display_url = display_url(url)
        self.engine = _ENGINES.get(url)
        if self.engine is None:
            self.engine = sa.create_engine(driver_url(url), pool_pre_ping=True, pool_size=4, connect_args={"connect_timeout": 10})
            _ENGINES[url] = self.engine
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            self.engine.dispose()
            reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "no answer"
            msg = (
                f"cannot reach the store at {self.display_url}: {reason}; check that the PostgreSQL server is running and "
                "reachable, and the host, port, user, password and database name in SHAHE_STORE or --store"
            )
            raise StoreError(msg) from None

    def geometry_type(self, geometry_type: str) -> sa.types.TypeEngine:
        """Column type of a geometry column."""
        return PgGeometry(geometry_type)

    def write_options(self) -> dict:
        """Execution options of a write transaction (none: READ COMMITTED and row locks suffice)."""
        return {}

    def snapshot_options(self) -> dict:
        """Execution options of a consistent read: one snapshot for every statement of the transaction."""
        return {"isolation_level": "REPEATABLE READ"}

    def exclusive(self, conn: sa.Connection) -> None:
        """Make this write transaction wait for every other that called this, until it ends (an advisory lock).

        For what a row lock cannot guard, because the row is not there yet: a
        table being made, tables being filled for the first time. Each later
        statement of the transaction sees what the one before it committed.
        """
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EXCLUSIVE_KEY})

    def prepare(self, conn: sa.Connection) -> None:
        """Create the PostGIS extension if it is missing (needs the right to; else says who must)."""
        have = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first()
        if have:
            return
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        except sa.exc.DBAPIError as exc:
            msg = (
                f"the database at {self.display_url} has no PostGIS and this user may not add it ({str(exc.orig).splitlines()[0]}); "
                "ask its administrator to run CREATE EXTENSION postgis in it"
            )
            raise StoreError(msg) from None

    def register_table(self, conn: sa.Connection, table: str, geometry_column: str | None, geometry_type: str = "GEOMETRY") -> None:
        """Nothing to list: PostGIS finds geometry columns in its own catalogue."""

    def unregister_table(self, conn: sa.Connection, table: str) -> None:
        """Nothing to unlist (see :meth:`register_table`)."""

    def create_spatial_index(self, conn: sa.Connection, table: str, column: str) -> None:
        """A GiST index on the geometry column."""
        conn.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_gist" ON "{table}" USING GIST ("{column}")')

    def index_geometry_tables(self, conn: sa.Connection) -> None:
        """Nothing to add: every geometry column got its GiST index when its table was made."""

    def bulk_insert(self, conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
        """Insert many rows with one ``COPY ... FROM STDIN`` (geometries as hex EWKB, SRID 4326), inside the caller's transaction."""
        cols = [c.name for c in table.columns if c.name != "fid"]
        hexes = None
        if "geometry" in cols:
            geoms = shapely.from_wkb(np.asarray([r.get("geometry") for r in rows], dtype=object))
            hexes = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
        names = ", ".join(f'"{c}"' for c in cols)
        cur = conn.connection.driver_connection.cursor()
        try:
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for i, r in enumerate(rows):
                    copy.write_row([hexes[i] if c == "geometry" else r.get(c) for c in cols])
        finally:
            cur.close()

    def select_columns(self, table: str, columns: list[str]) -> str:
        """``SELECT`` of ``columns`` of ``table`` in saving order, geometry as WKB."""
        exprs = ", ".join('ST_AsBinary("geometry")' if c == "geometry" else f'"{c}"' for c in columns)
        return f'SELECT {exprs} FROM "{table}" ORDER BY fid'

    def geometry_values(self, values) -> list:
        """WKB of the geometry values a :meth:`select_columns` query returned."""
        return [None if v is None else bytes(v) for v in values]

    def dispose(self) -> None:
        """Close the pooled connections (the engine stays usable and opens new ones when needed)."""
        self.engine.dispose()
