"""Route saves through the store (:mod:`geo.store`): the shared, audited history of the routes.

:func:`open_route_store` gives the object the app and the command line save
routes with. Once a store is in use (``SHAHE_STORE`` set, or ``shahe.gpkg``
beside the routes file, made by ``python -m geo store init``), it is a
:class:`StoreRoutes`: the routes layer of the store is the truth, every save
or restore is a new version of it with its audit entry, and a save built on
an older version is refused with :class:`~geo.errors.ConflictError` ("someone
else saved; reload") even when the other save came from another machine. The
routes file is rewritten after each save as the working copy the rest of the
tool reads. Without a store, the file history of :class:`~geo.routes.store.RouteStore`
is used as before.

The sha256 handed out by :meth:`StoreRoutes.current_sha256` is that of the
store's current routes written as the routes file, so the app's draft token
works unchanged on both.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd

from geo import io, settings
from geo._atomic import atomic_write, keep_copy
from geo.errors import ConflictError, DataFileError
from geo.routes.edits import metadata_for
from geo.routes.store import RouteStore, Version, render_routes

__all__ = ["LAYER", "StoreRoutes", "open_route_store"]

#: Name of the routes layer in the store.
LAYER = "routes"


def open_route_store(path: str | os.PathLike | None = None, *, store=None) -> RouteStore:
    """The route store for the routes file ``path``: store-backed when a store is in use, else file history.

    Parameters
    ----------
    path
        The routes file (default ``data/patrol_routes.geojson``).
    store
        An open :class:`geo.store.Store`, a store URL, or None: ``SHAHE_STORE``,
        else ``shahe.gpkg`` beside the routes file when it exists.
    """
    path = Path(path) if path is not None else settings.data_path("patrol_routes.geojson")
    if store is None:
        from geo.store.api import active_store

        store = active_store(path.parent)
    elif isinstance(store, str | os.PathLike):
        from geo.store import open_store

        store = open_store(store, data_dir=path.parent)
    return RouteStore(path) if store is None else StoreRoutes(path, store)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload_and_frame(routes: gpd.GeoDataFrame, metadata: dict) -> tuple[bytes, gpd.GeoDataFrame]:
    """The bytes of the routes file, and the frame the validating reader gives back from them."""
    payload = render_routes(routes, metadata)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "routes.geojson"
        p.write_bytes(payload)
        frame = io.read_routes(p)
    frame.attrs = {"metadata": metadata}
    return payload, frame


class StoreRoutes(RouteStore):
    """The routes with their history in the store (same methods as :class:`~geo.routes.store.RouteStore`)."""

    def __init__(self, path: str | os.PathLike, store):
        super().__init__(path)
        self.store = store

    # --- reading ---------------------------------------------------------------------------

    def _current(self) -> tuple[gpd.GeoDataFrame | None, int]:
        if self.store.layer_version(LAYER) == 0:
            return None, 0
        return self.store.read_layer(LAYER)

    def _bytes_of(self, frame: gpd.GeoDataFrame) -> bytes:
        return render_routes(frame, frame.attrs.get("metadata") or {})

    def current_sha256(self) -> str | None:
        """sha256 of the store's current routes written as the routes file (None before the first save)."""
        frame, _ = self._current()
        return None if frame is None else _sha(self._bytes_of(frame))

    def versions(self) -> list[Version]:
        """Every saved version of the routes layer, oldest first."""
        log = self.store.log(LAYER)
        out = []
        for rec in log.iloc[::-1].to_dict("records"):
            after = json.loads(rec["after"]) if rec["after"] else {}
            rows = after.get("rows")
            n_routes = len(rows) if isinstance(rows, list) else int(rows or 0)
            sha = _sha(self._bytes_of(self._frame(rec["version"], after))) if isinstance(rows, list) else ""
            out.append(Version(number=int(rec["version"]), saved_at=rec["at"], author=rec["author"], reason=rec["reason"],
                               sha256=sha, n_routes=n_routes, restored_from=after.get("restored_from")))
        return out

    def _frame(self, number: int, after: dict) -> gpd.GeoDataFrame:
        from geo.store.layers import frame_from_payload

        return frame_from_payload(after)

    def read_version(self, number: int) -> gpd.GeoDataFrame:
        """The routes of version ``number``."""
        entry = self.store._entry(LAYER, None, number)
        return self._frame(number, json.loads(entry.after))

    def check(self) -> list[str]:
        """Problems: a routes file that differs from the store's current version."""
        frame, version = self._current()
        if frame is None or not self.path.exists():
            return []
        if _sha(self.path.read_bytes()) != _sha(self._bytes_of(frame)):
            return [f"{self.path}: differs from version {version} in the store at {self.store.url} (edited by hand, or saved "
                    "elsewhere); the store's version is the one in use: run 'python -m geo store export' to refresh the file"]
        return []

    # --- writing ---------------------------------------------------------------------------

    def _check_token(self, expected_sha256: str | None) -> int:
        """The store's current version, after checking the draft's token against it.

        Before the store holds any routes, the token is checked against the routes
        file, which then becomes version 1 ("as found"), as in the file history.
        """
        frame, version = self._current()
        if frame is None:
            on_disk = super().current_sha256()
            if expected_sha256 is not None and on_disk != expected_sha256:
                msg = f"the routes were not saved: {self.path} has changed since the edit began; reload the routes and redo the edit"
                raise ConflictError(msg)
            if on_disk is None:
                return 0
            first = io.read_routes(self.path)
            return self.store.replace_layer(LAYER, first, base_version=0, author="(as found)", reason="the routes file before the first save",
                                            metadata=first.attrs.get("metadata") or {})
        if expected_sha256 is not None and _sha(self._bytes_of(frame)) != expected_sha256:
            last = self.store.last_change(LAYER)
            msg = f"the routes were not saved: the store has {last} since the edit began; someone else saved; reload the routes and redo the edit"
            raise ConflictError(msg)
        return version

    def _write_file(self, payload: bytes) -> None:
        with contextlib.suppress(DataFileError):
            atomic_write(self.path, payload)  # the working copy; the store already holds the save

    def save(self, routes: gpd.GeoDataFrame, *, author: str, reason: str, metadata: dict | None = None,
             expected_sha256: str | None = None) -> Version:
        """Save ``routes`` as a new version of the store's routes (see :meth:`RouteStore.save`)."""
        if metadata is None:
            frame, _ = self._current()
            metadata = (frame.attrs.get("metadata") if frame is not None else None) or self._current_metadata()
        self._who_check(author, reason)
        payload, frame = _payload_and_frame(routes, metadata_for(routes, metadata))
        base = self._check_token(expected_sha256)
        self.store.replace_layer(LAYER, frame, base_version=base, author=author, reason=reason, metadata=frame.attrs["metadata"])
        self._write_file(payload)
        return self.versions()[-1]

    def restore(self, number: int, *, author: str, reason: str = "", expected_sha256: str | None = None) -> Version:
        """Make version ``number`` current again, as a new version."""
        base = self._check_token(expected_sha256)
        self.store.restore(LAYER, None, number, author=author, reason=reason or f"restore version {number}", base_version=base)
        frame, _ = self._current()
        self._write_file(self._bytes_of(frame))
        return self.versions()[-1]

    def _who_check(self, author: str, reason: str) -> None:
        self.store._who(author, reason, "the routes")


#: Routes file -> (store url, layer version, file stamp) when the file last held that version's bytes. The app syncs on
#: every rerun; while neither the version nor the file changed, the layer is not read and rendered again.
_MATCHED: dict[str, tuple] = {}


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """Modification time (ns), size and inode of a file, or None when it is missing."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def sync_routes_file(path: str | os.PathLike | None = None) -> str | None:
    """Bring the routes file up to the store's current version when a store is in use; return what was done, or None.

    A file that differs from the store (saved from another machine, or edited by
    hand) is first copied to ``<name>.before-store-<time>.geojson`` so nothing typed into it
    is lost, then replaced by the store's version.
    """
    path = Path(path) if path is not None else settings.data_path("patrol_routes.geojson")
    from geo.store.api import active_store

    store = active_store(path.parent)
    if store is None:
        return None
    try:
        version = store.layer_version(LAYER)
        if version == 0:
            return None
        if _MATCHED.get(str(path)) == (store.url, version, _file_stamp(path)):
            return None  # the file was found equal to this version and has not changed since
        frame, version = store.read_layer(LAYER)
        payload = render_routes(frame, frame.attrs.get("metadata") or {})
        old = path.read_bytes() if path.exists() else None
        if old == payload:
            _MATCHED[str(path)] = (store.url, version, _file_stamp(path))
            return None
        if old is not None:
            keep_copy(path, old)
        atomic_write(path, payload)
        _MATCHED[str(path)] = (store.url, version, _file_stamp(path))
        return f"{path}: replaced by version {version} of the routes in the store at {store.url}"
    finally:
        store.close()
