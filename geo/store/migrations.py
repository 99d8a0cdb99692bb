"""Versioned migrations of the store's schema.

:data:`MIGRATIONS` lists every step ever shipped, in order; a step is never
edited once released, a change is a new step. ``store_meta.schema_version``
says how many have been applied. On opening, an embedded store (a file of one
user) is migrated on the spot; a shared PostGIS store is refused with the
command that migrates it (``python -m geo store init --store URL``), so the
schema of a database several offices use changes only when someone decides so.
A store newer than this program is refused with "update the program".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from geo.errors import StoreError
from geo.store.schema import AUDIT, LAYERS, META, TABLES

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate", "schema_version"]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, what it does, and the function that does it."""

    number: int
    description: str
    apply: Callable[[sa.Connection, object], None]


def _m1_core_tables(conn: sa.Connection, backend) -> None:
    for table in (META, LAYERS, TABLES, AUDIT):
        table.create(conn, checkfirst=True)
    backend.register_table(conn, AUDIT.name, None)


def _m2_audit_index_and_append_only(conn: sa.Connection, backend) -> None:
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS store_audit_record ON store_audit (table_name, record_key, version)")
    message = "store_audit is append-only"
    if conn.dialect.name == "sqlite":
        for op in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS store_audit_no_{op.lower()} BEFORE {op} ON store_audit "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION store_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS store_audit_append_only ON store_audit")
        conn.exec_driver_sql(
            "CREATE TRIGGER store_audit_append_only BEFORE UPDATE OR DELETE ON store_audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION store_audit_append_only()"
        )


def _m3_spatial_index(conn: sa.Connection, backend) -> None:
    backend.index_geometry_tables(conn)


#: Every migration, in order. ``SCHEMA_VERSION`` is the last one's number.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the store's tables: meta, layers, record tables, audit trail", _m1_core_tables),
    Migration(2, "index the audit trail by record; refuse UPDATE and DELETE on it", _m2_audit_index_and_append_only),
    Migration(3, "GeoPackage: an R-tree spatial index on every geometry column (PostGIS has its GiST indexes already)", _m3_spatial_index),
)

SCHEMA_VERSION: int = MIGRATIONS[-1].number


def schema_version(conn: sa.Connection) -> int:
    """Number of the last migration applied (0 for an empty database)."""
    if not sa.inspect(conn).has_table(META.name):
        return 0
    row = conn.execute(sa.select(META.c.value).where(META.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(conn: sa.Connection, backend, *, upto: int | None = None) -> list[Migration]:
    """Apply the missing migrations (up to ``upto``, default all) inside the caller's transaction.

    Returns
    -------
    list of Migration
        The steps applied (empty when the schema was current).

    Raises
    ------
    StoreError
        If the store was made by a newer program.
    """
    target = SCHEMA_VERSION if upto is None else upto
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        msg = (
            f"the store at {backend.display_url} has schema version {current}, newer than this program's {SCHEMA_VERSION}; "
            "update the program before using this store"
        )
        raise StoreError(msg)
    if current == 0:
        backend.prepare(conn)
    applied = []
    for step in MIGRATIONS:
        if current < step.number <= target:
            step.apply(conn, backend)
            applied.append(step)
    if applied:
        value = str(applied[-1].number)
        if current == 0:
            conn.execute(META.insert().values(key="schema_version", value=value))
        else:
            conn.execute(META.update().where(META.c.key == "schema_version").values(value=value))
    return applied
