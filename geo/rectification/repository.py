"""Rectification records in the store (:mod:`geo.store`): every change versioned and audited.

Each kind of record is a record table of the store (``rect_surveys``,
``rect_measures``, ``rect_meetings``, ``rect_visits``). A store that has never
held them is filled once from the CSV files of ``rectification/`` in the data
folder (the shipped demo set), as one audited import; after that the store is
the only copy that changes, and ``python -m geo survey list --out`` (and the
others) export it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import settings
from geo.errors import ConflictError, SchemaError
from geo.rectification.records import KINDS
from geo.rectification.workflow import check_transition

__all__ = ["add_records", "change_measure", "last_change", "load_all", "load_records", "open_records_store", "table_name"]

_TYPES = {"str": str, "date": str, "int": int, "float": float, "bool": bool}

#: Author of the one-time import of the shipped files.
SEED_AUTHOR = "初始导入 initial import"


def table_name(kind: str) -> str:
    """Store table of a kind of record."""
    return f"rect_{kind}"


def _spec(kind: str):
    from geo.store import TableSpec

    k = KINDS[kind]
    return TableSpec(table_name(kind), key=k.id_field, columns={f.name: _TYPES[f.kind] for f in k.fields if f.name != k.id_field})



def open_records_store(store=None, *, data_dir: Path | None = None):
    """The store with the rectification tables declared, seeded from the data folder's CSV files the first time.

    Parameters
    ----------
    store
        An open :class:`geo.store.Store`; None opens the default one (:func:`geo.store.open_store`).
    data_dir
        Data folder whose ``rectification/*.csv`` seed an empty store (default :data:`geo.settings.data_dir`).
    """
    from geo.store import open_store

    store = store if store is not None else open_store(data_dir=data_dir)
    folder = Path(data_dir or settings.data_dir) / "rectification"
    known = set(store.tables())
    for kind in KINDS:
        if table_name(kind) not in known:
            store.ensure_table(_spec(kind))
    seeds = {kind: path for kind in KINDS if (path := folder / f"{kind}.csv").exists()}
    held = store.held_records([table_name(kind) for kind in seeds])
    seeds = {kind: path for kind, path in seeds.items() if table_name(kind) not in held}
    if seeds:
        # The kinds that never held a record, in one transaction that checks that again: two first opens at once
        # (two sessions, the app's start and a command) make one copy, the later one waits for it, and no reader
        # sees the records half-imported.
        store.fill_empty({table_name(kind): (_seed_records(kind, path), f"{path.name}: shipped records") for kind, path in seeds.items()},
                         author=SEED_AUTHOR)
    return store


def _seed_records(kind: str, path: Path) -> list[dict]:
    from geo import io

    k = KINDS[kind]
    return [{f.name: _typed(f.kind, rec.get(f.name)) for f in k.fields} for rec in io.read_table(path).to_dict("records")]


def _typed(kind: str, value):
    from geo._validate import is_blank

    if is_blank(value):
        return None
    if kind == "bool":
        return str(value).strip().lower() in ("true", "1", "yes")
    if kind == "int":
        return int(float(value))
    if kind == "float":
        return float(value)
    return str(value)


def load_records(kind: str, *, store=None) -> pd.DataFrame:
    """Every record of one kind, with its ``version`` (columns in field order even when there are none)."""
    store = open_records_store(store)
    k = KINDS[kind]
    df = store.list(table_name(kind))
    for col in k.columns:
        if col not in df.columns:
            df[col] = pd.Series(dtype=object)
    extra = [c for c in df.columns if c not in k.columns]
    return pd.DataFrame(df[[*k.columns, *extra]])


def last_change(*, store=None) -> int:
    """Id of the newest audit entry of any rectification table (0 when none): changes whenever anyone saves."""
    store = open_records_store(store)
    ids = [int(log["id"].max()) for kind in KINDS if len(log := store.log(table_name(kind), limit=1))]
    return max(ids, default=0)


def load_all(*, store=None) -> dict[str, pd.DataFrame]:
    """Every kind of record, keyed ``surveys``, ``measures``, ``meetings``, ``visits``."""
    store = open_records_store(store)
    return {kind: load_records(kind, store=store) for kind in KINDS}


def add_records(kind: str, records: list[dict], *, author: str, reason: str, store=None) -> list[str]:
    """Store checked new records (see :func:`geo.rectification.validation.validate_rows`); return their ids.

    Raises
    ------
    ConflictError
        If someone else stored a record with one of these ids meanwhile; the ids stored before it are named.
    """
    store = open_records_store(store)
    k = KINDS[kind]
    done: list[str] = []
    for rec in records:
        try:
            store.insert(table_name(kind), {c: rec.get(c) for c in k.columns}, author=author, reason=reason)
        except ConflictError as exc:
            stored = f"; stored before it: {', '.join(done)}" if done else "; nothing was stored"
            raise ConflictError(f"{exc}{stored}") from None
        done.append(rec[k.id_field])
    return done


def change_measure(measure_id: str, changes: dict, *, author: str, reason: str, base_version: int | None = None,
                   store=None) -> tuple[dict, dict]:
    """Change a measure, checking its status step (:func:`geo.rectification.workflow.check_transition`).

    Parameters
    ----------
    base_version
        The version the edit started from (the app passes the one it showed); None takes the current one.

    Returns
    -------
    (before, after)
        The measure's fields before and after.
    """
    store = open_records_store(store)
    old = store.get(table_name("measures"), measure_id)
    if old is None:
        msg = f"measure {measure_id!r} is not recorded; see 'python -m geo measures list'"
        raise SchemaError(msg)
    new = {**old, **changes}
    check_transition(old, new)
    store.update(table_name("measures"), measure_id, changes, base_version=old["version"] if base_version is None else base_version,
                 author=author, reason=reason)
    return old, new
