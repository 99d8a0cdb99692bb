"""One store for everything users edit: the API both backends share.

Two kinds of content:

*Record tables* (surveys, measures, meetings, ...): declared by the caller with
a :class:`TableSpec`, one row per key, each row with its own ``version``.
``insert``/``update``/``delete`` take the version the edit started from
(``base_version``); if someone else saved since, :class:`~geo.errors.ConflictError`
("someone else saved; reload") is raised and nothing is written.

*Layers* (routes, estates, geocode overrides, the ledger, incidents): a set of
rows saved as a whole, with one version for the set. ``replace_layer`` takes
``base_version`` like a record; ``append_rows`` adds rows in bulk (incidents).

Every change writes exactly one entry to the append-only audit trail, in the
same transaction as the change (who, when, why, the version it made, and the
content before and after as JSON). Any earlier version of a record, or of a
layer that keeps its history, can be restored as a new version.

Example
-------
>>> from geo.store import TableSpec, open_store
>>> store = open_store()                                   # doctest: +SKIP
>>> store.ensure_table(TableSpec("surveys", key="survey_id",
...     columns={"estate_id": str, "visited_on": str, "score": int}, geometry="POINT"))  # doctest: +SKIP
>>> v = store.insert("surveys", {"survey_id": "S-1", "estate_id": "SH-01", "score": 3},
...                  author="李警官", reason="first visit")    # doctest: +SKIP
>>> store.update("surveys", "S-1", {"score": 4}, base_version=v, author="李警官", reason="re-check")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import shapely
import sqlalchemy as sa

from geo import settings
from geo.errors import ConflictError, DataFileError, SchemaError, StoreError
from geo.store import values as _v
from geo.store.follow import EMBEDDED_NAME, store_expected
from geo.store.layers import LayersMixin, now
from geo.store.migrations import SCHEMA_VERSION, migrate, schema_version
from geo.store.schema import AUDIT, META, TABLES
from geo.store.spec import TableSpec

__all__ = ["EMBEDDED_NAME", "Store", "TableSpec", "active_store", "open_store"]




def open_store(url: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None, migrate: bool = False) -> Store:
    """Open the store: PostGIS for a ``postgresql://`` URL, else the embedded GeoPackage.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host[:port]/db``, or the path of a ``.gpkg``
        file; None: the ``SHAHE_STORE`` environment variable, else
        ``shahe.gpkg`` in the data folder.
    data_dir
        Data folder (default :data:`geo.settings.data_dir`). A new embedded store
        is filled from the GeoJSON/CSV files there on first open.

    Returns
    -------
    Store

    Raises
    ------
    StoreError
        If the server cannot be reached (one line naming the URL without its
        password), or the schema is missing, older (with the command that
        migrates it) or newer than this program.
    """
    url = url if url is not None else (os.environ.get("SHAHE_STORE") or None)
    folder = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    text = str(url) if url is not None else ""
    if text.startswith(("postgresql:", "postgres:", "postgresql+")):
        from geo.store.postgis import PostgisBackend

        return Store(PostgisBackend(text), auto_migrate=migrate)
    path = Path(text.removeprefix("sqlite:///")) if text else folder / EMBEDDED_NAME
    from geo.store.sqlite import SqliteBackend

    if not path.exists():
        create_embedded(path, folder)
    return Store(SqliteBackend(path), auto_migrate=True)


def active_store(data_dir: str | os.PathLike | None = None) -> Store | None:
    """The store in use, if any: ``SHAHE_STORE``, else ``shahe.gpkg`` in ``data_dir`` when it exists; else None.

    Unlike :func:`open_store`, this never creates the embedded store: a data folder
    without one keeps working on its files alone.
    """
    if not store_expected(data_dir):
        return None
    if os.environ.get("SHAHE_STORE"):
        return open_store(data_dir=data_dir)
    return open_store(Path(data_dir if data_dir is not None else settings.data_dir) / EMBEDDED_NAME, data_dir=data_dir)


class Store(LayersMixin):
    """The store over one backend (see :func:`open_store`).

    Record tables are handled here; layers, the audit trail, restore and the heat
    grid by :class:`geo.store.layers.LayersMixin`.
    """

    def __init__(self, backend, *, auto_migrate: bool):
        self.backend = backend
        self._engine: sa.Engine = backend.engine
        self._record_tables: dict[str, tuple[sa.Table, list[tuple[str, str]], str, str | None]] = {}
        self._layer_tables: dict[tuple, sa.Table] = {}
        try:
            self._check_schema(auto_migrate)
        except BaseException:
            backend.dispose()
            raise

    def _check_schema(self, auto_migrate: bool) -> None:
        backend = self.backend
        with self._errors(), self._engine.connect() as conn:
            current = schema_version(conn)
        if current == SCHEMA_VERSION:
            return
        if current > SCHEMA_VERSION or not auto_migrate:
            if current > SCHEMA_VERSION:
                with self._write() as conn:
                    migrate(conn, backend)  # raises the "newer" message
            what = "has no schema yet" if current == 0 else f"has schema version {current}, older than this program's {SCHEMA_VERSION}"
            msg = f"the store at {backend.display_url} {what}; run: python -m geo store init --store '{backend.display_url}'"
            raise StoreError(msg)
        self.init()

    # --- plumbing ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the store is (a path, or the URL without its password)."""
        return self.backend.display_url

    @property
    def kind(self) -> str:
        """``"geopackage"`` or ``"postgis"``."""
        return self.backend.name

    def close(self) -> None:
        """Close every connection."""
        self.backend.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def init(self, *, upto: int | None = None) -> list[str]:
        """Create or migrate the schema; return the descriptions of the migrations applied."""
        with self._write() as conn:
            return [f"{m.number}: {m.description}" for m in migrate(conn, self.backend, upto=upto)]

    def meta_value(self, key: str) -> str | None:
        """A bookkeeping value of ``store_meta`` (None when unset); not audited, not exported."""
        with self._errors(), self._engine.connect() as conn:
            return conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()

    def meta_values(self, prefix: str) -> dict[str, str]:
        """Every bookkeeping value whose key starts with ``prefix``, in one query."""
        with self._errors(), self._engine.connect() as conn:
            rows = conn.execute(sa.select(META.c.key, META.c.value).where(META.c.key.startswith(prefix, autoescape=True))).all()
        return dict(rows)

    def set_meta_value(self, key: str, value: str) -> None:
        """Set a bookkeeping value of ``store_meta`` (e.g. the state of a file the store follows)."""
        if key == "schema_version":
            msg = "schema_version is set by the migrations only"
            raise SchemaError(msg)
        with self._write() as conn:
            if conn.execute(sa.select(META.c.key).where(META.c.key == key)).first() is None:
                conn.execute(META.insert().values(key=key, value=str(value)))
            else:
                conn.execute(META.update().where(META.c.key == key).values(value=str(value)))

    def schema_version(self) -> int:
        """Number of the last migration applied."""
        with self._errors(), self._engine.connect() as conn:
            return schema_version(conn)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.OperationalError as exc:
            reason = (str(exc.orig or exc).strip().splitlines() or ["no answer"])[0]
            msg = f"the store at {self.url} failed: {reason}; check that it is reachable and not locked by a stuck process, then retry"
            raise StoreError(msg) from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction: committed when the body returns, rolled back (nothing written) when it raises."""
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(**self.backend.write_options())
            with conn.begin():
                yield conn

    def _audit(self, conn, *, table: str, key, version: int, action: str, before, after, author: str, reason: str) -> None:
        conn.execute(
            AUDIT.insert().values(
                at=now(), author=author, reason=reason, table_name=table, record_key=key, version=version, action=action,
                before=None if before is None else _v.dumps(before), after=None if after is None else _v.dumps(after),
            )
        )

    @staticmethod
    def _who(author: str, reason: str, what: str) -> tuple[str, str]:
        problems = []
        if not str(author or "").strip():
            problems.append("field 'author': missing; say who saves")
        if not str(reason or "").strip():
            problems.append("field 'reason': missing; say why")
        if problems:
            msg = f"{what} was not saved"
            raise SchemaError(msg, problems)
        return str(author).strip(), str(reason).strip()

    # --- record tables -------------------------------------------------------------------

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the record table of ``spec``, or check it against the stored one and add new columns.

        Raises
        ------
        SchemaError
            If the stored table has a different key, geometry, or a column of another type
            (columns are only ever added, never changed or dropped).
        """
        kinds = spec.kinds()
        with self._write() as conn:
            self.backend.exclusive(conn)  # two processes making the same table: the second finds it made
            row = conn.execute(sa.select(TABLES).where(TABLES.c.name == spec.name)).first()
            if row is None:
                table = self._make_record_table(spec.name, kinds, spec.geometry)
                table.create(conn)
                self.backend.register_table(conn, spec.name, "geometry" if spec.geometry else None, spec.geometry or "GEOMETRY")
                if spec.geometry:
                    self.backend.create_spatial_index(conn, spec.name, "geometry")
                conn.execute(TABLES.insert().values(name=spec.name, key=spec.key, columns=_v.dumps(kinds), geometry=spec.geometry))
            else:
                stored = [tuple(k) for k in json.loads(row.columns)]
                if row.key != spec.key or (row.geometry or "").upper() != (spec.geometry or "").upper():
                    msg = f"table {spec.name!r}: stored with key {row.key!r} and geometry {row.geometry}; cannot change to {spec.key!r}/{spec.geometry}"
                    raise SchemaError(msg)
                known = dict(stored)
                changed = [c for c, k in kinds if c in known and known[c] != k]
                if changed:
                    msg = f"table {spec.name!r}: column(s) {changed} are stored with another type; add a new column instead"
                    raise SchemaError(msg)
                added = [(c, k) for c, k in kinds if c not in known]
                for c, k in added:
                    col_type = _v.sql_type(k).compile(dialect=conn.dialect)
                    conn.exec_driver_sql(f'ALTER TABLE "{spec.name}" ADD COLUMN "{c}" {col_type}')
                if added:
                    conn.execute(TABLES.update().where(TABLES.c.name == spec.name).values(columns=_v.dumps(stored + added)))
                    self._record_tables.pop(spec.name, None)

    def tables(self) -> list[str]:
        """Names of the record tables."""
        with self._errors(), self._engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(TABLES.c.name).order_by(TABLES.c.name))]

    def _make_record_table(self, name: str, kinds, geometry: str | None) -> sa.Table:
        cols = [sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True)]
        key = kinds[0][0]
        cols.append(sa.Column(key, sa.Text, nullable=False, unique=True))
        cols += [sa.Column(c, _v.sql_type(k)) for c, k in kinds[1:]]
        if geometry:
            cols.append(sa.Column("geometry", self.backend.geometry_type(geometry)))
        cols += [
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", sa.Text, nullable=False),
            sa.Column("updated_by", sa.Text, nullable=False),
        ]
        return sa.Table(name, sa.MetaData(), *cols)

    def _record_table(self, conn, name: str):
        if name not in self._record_tables:
            row = conn.execute(sa.select(TABLES).where(TABLES.c.name == name)).first()
            if row is None:
                known = ", ".join(self.tables()) or "none"
                msg = f"the store has no record table {name!r} (tables: {known}); declare it with ensure_table first"
                raise DataFileError(msg)
            kinds = [tuple(k) for k in json.loads(row.columns)]
            self._record_tables[name] = (self._make_record_table(name, kinds, row.geometry), kinds, row.key, row.geometry)
        return self._record_tables[name]

    def _record_values(self, record: dict, kinds, geometry: str | None, *, where: str) -> dict:
        known = dict(kinds)
        unknown = sorted(set(record) - set(known) - ({"geometry"} if geometry else set()))
        if unknown:
            msg = f"{where}: unknown column(s) {unknown}; declared: {sorted(known)}"
            raise SchemaError(msg)
        out = {}
        for c, value in record.items():
            if c == "geometry":
                if value is not None and not isinstance(value, shapely.Geometry):
                    msg = f"{where}, field 'geometry': give a shapely geometry in WGS-84 longitude/latitude, not {type(value).__name__}"
                    raise SchemaError(msg)
                out[c] = None if value is None or value.is_empty else shapely.to_wkb(value, flavor="iso")
                continue
            try:
                out[c] = _v.to_db(value, known[c])
            except (TypeError, ValueError) as exc:
                msg = f"{where}, field {c!r}: {value!r} is not a {known[c]} value ({exc})"
                raise SchemaError(msg) from None
        return out

    def _row_dict(self, row, kinds, geometry) -> dict:
        m = row._mapping
        out = {c: _v.from_db(m[c], k) for c, k in kinds}
        if geometry:
            out["geometry"] = None if m["geometry"] is None else shapely.from_wkb(m["geometry"])
        out.update(version=m["version"], updated_at=m["updated_at"], updated_by=m["updated_by"])
        return out

    @staticmethod
    def _audit_form(record: dict | None) -> dict | None:
        if record is None:
            return None
        return {k: (json.loads(shapely.to_geojson(v)) if isinstance(v, shapely.Geometry) else v) for k, v in record.items()}

    def get(self, table: str, key: str) -> dict | None:
        """The record ``key`` of ``table`` as a dict (with ``version``), or None if there is none."""
        with self._errors(), self._engine.connect() as conn:
            t, kinds, key_col, geometry = self._record_table(conn, table)
            row = conn.execute(sa.select(t).where(t.c[key_col] == str(key))).first()
            return None if row is None else self._row_dict(row, kinds, geometry)

    def list(self, table: str, where: dict | None = None) -> pd.DataFrame:
        """Every record of ``table`` (equal to ``where``'s values when given), with ``version``; a GeoDataFrame with geometry."""
        with self._errors(), self._engine.connect() as conn:
            t, kinds, key_col, geometry = self._record_table(conn, table)
            q = sa.select(t).order_by(t.c[key_col])
            for c, value in (where or {}).items():
                if c not in t.c:
                    msg = f"table {table!r}: no column {c!r} to filter on"
                    raise SchemaError(msg)
                q = q.where(t.c[c].is_(None) if value is None else t.c[c] == value)
            rows = conn.execute(q).all()
        names = [c for c, _ in kinds] + (["geometry"] if geometry else []) + ["version", "updated_at", "updated_by"]
        data = {n: [r._mapping[n] for r in rows] for n in names}
        all_kinds = [*kinds, ("version", "int"), ("updated_at", "text"), ("updated_by", "text")]
        return _v.frame_from_columns(data, all_kinds, bool(geometry))

    def _next_version(self, conn, table: str, key: str) -> int:
        """1 + the last version this key ever had (a key deleted and inserted again keeps counting up)."""
        last = conn.execute(
            sa.select(sa.func.max(AUDIT.c.version)).where(AUDIT.c.table_name == table, AUDIT.c.record_key == key)
        ).scalar()
        return int(last or 0) + 1

    def _last_change(self, conn, table: str, key: str | None) -> str:
        q = sa.select(AUDIT.c.version, AUDIT.c.author, AUDIT.c.at).where(AUDIT.c.table_name == table)
        q = q.where(AUDIT.c.record_key.is_(None) if key is None else AUDIT.c.record_key == key)
        row = conn.execute(q.order_by(AUDIT.c.id.desc()).limit(1)).first()
        return f"version {row.version} by {row.author} at {row.at}" if row else "a change"

    def last_change(self, table: str, key: str | None = None) -> str:
        """``"version N by AUTHOR at TIME"`` of the last change of a layer (``key=None``) or record."""
        with self._errors(), self._engine.connect() as conn:
            return self._last_change(conn, table, key)

    def insert(self, table: str, record: dict, *, author: str, reason: str) -> int:
        """Add a new record; return its version.

        Raises
        ------
        ConflictError
            If a record with this key exists (someone else saved it); nothing is written.
        SchemaError
            If a column is unknown or a value has the wrong type, or author/reason are empty.
        """
        author, reason = self._who(author, reason, f"the {table} record")
        with self._write() as conn:
            return self._insert(conn, table, record, author=author, reason=reason)

    def fill_empty(self, records: dict[str, tuple[list[dict], str]], *, author: str) -> bool:
        """Fill record tables that never held a record, all in one transaction: True when filled, else False.

        ``records`` maps each table to its records and the reason recorded for
        them (each record audited as by :meth:`insert`). When any of the tables
        has held a record (its audit trail is not empty), or another process
        fills them at the same moment, nothing is written and False is
        returned. Readers see the tables empty or filled, never half-filled;
        two processes filling at once end with one copy (the shipped
        rectification records on a first start: :mod:`geo.rectification.repository`).

        Raises
        ------
        SchemaError
            If a record does not fit its table; nothing is written.
        """
        reasons = {table: self._who(author, reason, f"the {table} records") for table, (_rows, reason) in records.items()}
        try:
            with self._write() as conn:
                self.backend.exclusive(conn)  # a second process filling at once waits, then finds them filled
                if self._held(conn, list(records)):
                    return False
                for table, (rows, _reason) in records.items():
                    who, why = reasons[table]
                    for record in rows:
                        self._insert(conn, table, record, author=who, reason=why)
        except ConflictError:  # another process filled them first (a key it wrote): this transaction wrote nothing
            return False
        return True

    def held_records(self, tables: list[str]) -> set[str]:
        """Those of ``tables`` that have ever held a record (their audit trail is not empty), in one query."""
        with self._errors(), self._engine.connect() as conn:
            return self._held(conn, tables)

    @staticmethod
    def _held(conn, tables: list[str]) -> set[str]:
        if not tables:
            return set()
        row = conn.execute(sa.select(*[sa.exists().where(AUDIT.c.table_name == t) for t in tables])).one()
        return {t for t, held in zip(tables, row, strict=True) if held}

    def _insert(self, conn, table: str, record: dict, *, author: str, reason: str) -> int:
        """Insert ``record`` within the write transaction ``conn`` (see :meth:`insert`); its version."""
        t, kinds, key_col, geometry = self._record_table(conn, table)
        key = record.get(key_col)
        where = f"table {table!r}, record {key!r}"
        if key is None or not str(key).strip():
            msg = f"table {table!r}: field {key_col!r} (the key) is empty; give each record its key"
            raise SchemaError(msg)
        key = str(key)
        values = self._record_values(record, kinds, geometry, where=where)
        if conn.execute(sa.select(t.c.fid).where(t.c[key_col] == key).with_for_update()).first() is not None:
            msg = f"{where} was not saved: it already exists ({self._last_change(conn, table, key)}); someone else saved; reload"
            raise ConflictError(msg)
        version = self._next_version(conn, table, key)
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(**values, version=version, updated_at=now(), updated_by=author))
        except sa.exc.IntegrityError:
            msg = f"{where} was not saved: someone else saved a record with this key at the same moment; reload"
            raise ConflictError(msg) from None
        after = self._row_dict(conn.execute(sa.select(t).where(t.c[key_col] == key)).one(), kinds, geometry)
        self._audit(conn, table=table, key=key, version=version, action="insert", before=None, after=self._audit_form(after),
                    author=author, reason=reason)
        return version

    def _locked_current(self, conn, t, key_col: str, key: str, base_version: int, *, where: str, kinds, geometry):
        row = conn.execute(sa.select(t).where(t.c[key_col] == key).with_for_update()).first()
        if row is None:
            if self._next_version(conn, t.name, key) > 1:
                msg = f"{where} was not saved: it was deleted ({self._last_change(conn, t.name, key)}); someone else saved; reload"
                raise ConflictError(msg)
            msg = f"{where}: no such record; check the key"
            raise DataFileError(msg)
        if row._mapping["version"] != int(base_version):
            msg = (
                f"{where} was not saved: it is at version {row._mapping['version']} ({self._last_change(conn, t.name, key)}), "
                f"the edit started from version {base_version}; someone else saved; reload"
            )
            raise ConflictError(msg)
        return self._row_dict(row, kinds, geometry)

    def update(self, table: str, key: str, changes: dict, *, base_version: int, author: str, reason: str) -> int:
        """Change fields of record ``key``, if it is still at ``base_version``; return the new version.

        Raises
        ------
        ConflictError
            If the record changed or was deleted since ``base_version``; nothing is written.
        """
        author, reason = self._who(author, reason, f"the {table} record")
        key = str(key)
        with self._write() as conn:
            t, kinds, key_col, geometry = self._record_table(conn, table)
            where = f"table {table!r}, record {key!r}"
            if key_col in changes and str(changes[key_col]) != key:
                msg = f"{where}: the key cannot change; delete the record and insert a new one"
                raise SchemaError(msg)
            values = self._record_values(changes, kinds, geometry, where=where)
            before = self._locked_current(conn, t, key_col, key, base_version, where=where, kinds=kinds, geometry=geometry)
            version = int(base_version) + 1
            res = conn.execute(
                t.update().where(t.c[key_col] == key, t.c.version == int(base_version))
                .values(**values, version=version, updated_at=now(), updated_by=author)
            )
            if res.rowcount != 1:
                msg = f"{where} was not saved: someone else saved at the same moment; reload"
                raise ConflictError(msg)
            after = self._row_dict(conn.execute(sa.select(t).where(t.c[key_col] == key)).one(), kinds, geometry)
            self._audit(conn, table=table, key=key, version=version, action="update", before=self._audit_form(before),
                        after=self._audit_form(after), author=author, reason=reason)
            return version

    def delete(self, table: str, key: str, *, base_version: int, author: str, reason: str) -> int:
        """Delete record ``key`` if it is still at ``base_version``; return the version the deletion made."""
        author, reason = self._who(author, reason, f"the deletion of the {table} record")
        key = str(key)
        with self._write() as conn:
            t, kinds, key_col, geometry = self._record_table(conn, table)
            where = f"table {table!r}, record {key!r}"
            before = self._locked_current(conn, t, key_col, key, base_version, where=where, kinds=kinds, geometry=geometry)
            res = conn.execute(t.delete().where(t.c[key_col] == key, t.c.version == int(base_version)))
            if res.rowcount != 1:
                msg = f"{where} was not deleted: someone else saved at the same moment; reload"
                raise ConflictError(msg)
            version = int(base_version) + 1
            self._audit(conn, table=table, key=key, version=version, action="delete", before=self._audit_form(before), after=None,
                        author=author, reason=reason)
            return version


def create_embedded(path: Path, data_dir: Path) -> None:
    """Create the embedded store at ``path``, filled from the files of ``data_dir``.

    The store is built in a temporary file beside ``path`` and linked into place
    only when complete, so a crash leaves no half-filled store. The whole
    creation holds the store's lock (``.shahe.gpkg.lock``): a second process
    starting at the same moment (two app sessions) waits, then finds the store
    made and uses it. The files of ``data_dir`` are only read, never changed;
    the state of each file imported is recorded, so the store later follows
    the files changed outside the tool (:mod:`geo.store.sources`).
    """
    from geo._lock import store_lock

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{path}: the store cannot be created ({exc.strerror or exc}); check that the folder is writable, or set SHAHE_STORE"
        raise StoreError(msg) from exc
    with store_lock(path):
        if not path.exists():
            _build_embedded(path, data_dir)


def _build_embedded(path: Path, data_dir: Path) -> None:
    from geo._lock import fingerprint
    from geo.store.files import LAYER_FILES, import_dir
    from geo.store.follow import FOLLOWED, record_file
    from geo.store.sqlite import SqliteBackend

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)  # SQLite creates the file itself
    except OSError as exc:
        msg = f"{path}: the store cannot be created ({exc.strerror or exc}); check that the folder is writable, or set SHAHE_STORE"
        raise StoreError(msg) from exc
    tmp_path = Path(tmp)
    try:
        store = Store(SqliteBackend(tmp_path), auto_migrate=True)
        try:
            present = [s for s in LAYER_FILES if (data_dir / s.file).is_file()]
            states = {s.layer: ((data_dir / s.file).stat(), fingerprint(data_dir / s.file)) for s in present if s.layer in FOLLOWED}
            if present:
                import_dir(store, data_dir, author="(shipped files)", reason=f"first start: filled from {data_dir}")
            for spec in present:
                if spec.layer in FOLLOWED:
                    stat, sha256 = states[spec.layer]
                    record_file(store, spec.layer, data_dir / spec.file, stat=stat, sha256=sha256)
        finally:
            store.close()
        with contextlib.suppress(FileExistsError):
            os.link(tmp_path, path)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp_path}{suffix}")
