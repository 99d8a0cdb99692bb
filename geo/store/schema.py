"""The store's own tables: schema version, layers, record tables and the audit trail.

Every backend holds these four tables beside the data tables:

``store_meta``
    ``key``/``value`` pairs; ``schema_version`` is the number of the last
    migration applied (:mod:`geo.store.migrations`).
``store_layers``
    One row per layer (a set of rows saved as a whole: routes, estates,
    overrides, incidents): its ``version`` (0 before the first save, +1 per
    save), column kinds, file-level metadata and whether every version is kept.
``store_tables``
    One row per record table declared with :meth:`geo.store.Store.ensure_table`.
``store_audit``
    Append-only: one row per change (who, when, why, what before and after).
    Triggers refuse UPDATE and DELETE on it.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["AUDIT", "LAYERS", "META", "METADATA", "TABLES"]

METADATA = sa.MetaData()

META = sa.Table(
    "store_meta",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

LAYERS = sa.Table(
    "store_layers",
    METADATA,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("geometry", sa.Text),  # geometry column type, NULL for a plain table
    sa.Column("columns", sa.Text, nullable=False),  # JSON [[name, kind], ...]
    sa.Column("meta", sa.Text, nullable=False),  # JSON: file-level members (synthetic, note, ...)
    sa.Column("keep_history", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

TABLES = sa.Table(
    "store_tables",
    METADATA,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),  # JSON [[name, kind], ...]
    sa.Column("geometry", sa.Text),
)

AUDIT = sa.Table(
    "store_audit",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),  # ISO 8601, Asia/Shanghai offset
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("record_key", sa.Text),  # NULL for a layer-level change
    sa.Column("version", sa.Integer, nullable=False),  # the version this change made
    sa.Column("action", sa.Text, nullable=False),  # insert, update, delete, replace, append, restore
    sa.Column("before", sa.Text),  # JSON, NULL when nothing was there
    sa.Column("after", sa.Text),  # JSON, NULL after a delete
)
