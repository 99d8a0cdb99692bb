"""One store for everything users edit: embedded GeoPackage by default, PostGIS when shared.

:func:`open_store` picks the backend (``SHAHE_STORE`` or ``--store``: a
``postgresql://`` URL or a ``.gpkg`` file; default ``shahe.gpkg`` in the data
folder, created and filled from the shipped files on first open). Both
backends run the same code (:mod:`geo.store.api`, :mod:`geo.store.layers`):
versioned records and layers, a stale write refused with
:class:`~geo.errors.ConflictError`, every change in the append-only audit trail.

Modules: ``api`` (Store, TableSpec, records), ``layers`` (layers, audit,
restore, heat grid), ``values`` (column kinds, frame <-> rows), ``schema``
(the store's own tables), ``migrations``, ``sqlite`` (GeoPackage backend with
its R-tree), ``postgis`` (PostGIS backend), ``files`` (import/export of the
data folder), ``sources`` (what the app and every command read: the store in
use, else the files), ``saving`` (``build-estates`` and ``incidents import``
into the store).

The package imports :mod:`geo.store.api` (and SQLAlchemy) only when one of its
names is first used, so a command that reads named files starts without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from geo.errors import ConflictError

if TYPE_CHECKING:
    from geo.store.api import EMBEDDED_NAME, Store, TableSpec, open_store

__all__ = ["EMBEDDED_NAME", "ConflictError", "Store", "TableSpec", "open_store"]

#: Names of the package that live in :mod:`geo.store.api`, imported on first use.
_FROM_API = frozenset({"EMBEDDED_NAME", "Store", "TableSpec", "open_store"})


def __getattr__(name: str):
    if name in _FROM_API:
        return getattr(importlib.import_module("geo.store.api"), name)
    msg = f"module 'geo.store' has no attribute {name!r}"
    raise AttributeError(msg)
