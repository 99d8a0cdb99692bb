"""The embedded store follows the files of its data folder (see :mod:`geo.store.sources`).

Each followed file's size, modification time and SHA-256 at the last moment the
file and its layer agreed are kept in ``store_meta`` (``file:<layer>``). A file
whose size or time changed is hashed; a new hash means it was changed outside
the tool, and it is read, validated and saved as a new version of its layer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from geo import settings
from geo._lock import fingerprint, store_lock

__all__ = ["EMBEDDED_NAME", "FOLLOWED", "data_folder", "follow_files", "follows_files", "record_file", "store_expected"]

#: File name of the embedded store inside the data folder.
EMBEDDED_NAME = "shahe.gpkg"

#: Layers the embedded store takes again from the data folder's file when that file changes.
FOLLOWED: tuple[str, ...] = ("estates", "geocode_overrides", "ledger", "incidents")


def data_folder(data_dir: str | os.PathLike | None) -> Path:
    """``data_dir``, or :data:`geo.settings.data_dir` when None."""
    return Path(data_dir) if data_dir is not None else Path(settings.data_dir)


def store_expected(data_dir: str | os.PathLike | None = None) -> bool:
    """Whether a store is in use for ``data_dir``: ``SHAHE_STORE`` is set, or the embedded store's file is there.

    Answered without the store's database layer (SQLAlchemy), so a command on a
    folder of files alone does not import it.
    """
    return bool(os.environ.get("SHAHE_STORE")) or (data_folder(data_dir) / EMBEDDED_NAME).exists()


def follows_files(store, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether ``store`` is the embedded store of ``data_dir`` (the one that follows its files)."""
    if store.kind != "geopackage":
        return False
    return Path(store.url).resolve() == (data_folder(data_dir) / EMBEDDED_NAME).resolve()


def _meta_key(layer: str) -> str:
    return f"file:{layer}"


def _recorded(store, layer: str) -> dict:
    text = store.meta_value(_meta_key(layer))
    return json.loads(text) if text else {}


def record_file(store, layer: str, path: str | os.PathLike, *, stat: os.stat_result | None = None, sha256: str | None = None) -> None:
    """Note that the store's layer ``layer`` and the file ``path`` hold the same content now.

    Writers that save a layer and write its file (``build-estates``, ``incidents
    import``) call this afterwards, so the embedded store does not read the file again.
    """
    path = Path(path)
    st = stat or path.stat()
    sha = sha256 or fingerprint(path)
    store.set_meta_value(_meta_key(layer), json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}))


def follow_files(store, data_dir: str | os.PathLike | None = None) -> list[str]:
    """Save every followed file of ``data_dir`` that changed outside the tool as a new version of its layer.

    Returns
    -------
    list of str
        The layers saved (empty when every file was as recorded).

    Raises
    ------
    SchemaError, DataFileError
        If a changed file is not valid (the message names the file, row and fix);
        the store keeps its previous version.
    """
    from geo.store.files import LAYER_FILES, read_layer_file, same_layer

    folder = data_folder(data_dir)
    specs = [s for s in LAYER_FILES if s.layer in FOLLOWED]
    pending = []
    states = None
    for spec in specs:
        path = folder / spec.file
        try:
            st = path.stat()
        except FileNotFoundError:
            continue  # a missing file never empties a layer
        if states is None:
            states = store.meta_values("file:")  # one query for every followed file
        text = states.get(_meta_key(spec.layer))
        rec = json.loads(text) if text else {}
        if rec.get("size") != st.st_size or rec.get("mtime_ns") != st.st_mtime_ns:
            pending.append(spec)
    if not pending:
        return []
    saved = []
    with store_lock(store.url):  # a second reader waits, then finds the file recorded
        for spec in pending:
            path = folder / spec.file
            st = path.stat()
            rec = _recorded(store, spec.layer)
            if rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns:
                continue
            sha = fingerprint(path)
            if rec.get("sha256") != sha:
                frame = read_layer_file(spec, path)
                base = store.layer_version(spec.layer)
                if not base or not same_layer(store.read_layer(spec.layer)[0], frame):
                    store.replace_layer(spec.layer, frame, base_version=base, author="(data folder)",
                                        reason=f"{spec.file} changed outside the tool; read again from {path}",
                                        keep_history=spec.keep_history, action="import")
                    saved.append(spec.layer)
            record_file(store, spec.layer, path, stat=st, sha256=sha)
    return saved


