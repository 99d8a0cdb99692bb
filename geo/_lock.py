"""One lock and one stale-write check for every store written by read-modify-write.

A store (the incident store, the surveyed-position overrides, the routes file
and its history) is read, changed and written back. Two writers at once would
each read the old file and the second would silently drop the first one's rows.
:func:`store_lock` serialises them: it holds an exclusive POSIX ``flock`` on a
hidden lock file beside the store (``.NAME.lock``) for the whole
read-modify-write, so the second writer waits and then reads what the first
wrote.

A change prepared earlier (an edit begun in the app minutes ago) must also not
undo a save made in between: pass the :func:`fingerprint` of the file the
change started from as ``expected``; the lock refuses with
:class:`geo.errors.ConflictError` when the file is no longer that one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from geo.errors import ConflictError, DataFileError

__all__ = ["fingerprint", "lock_path_for", "store_lock"]

UNSET = object()


def fingerprint(path: str | os.PathLike) -> str | None:
    """Return the sha256 of a file's bytes, or None when there is no file.

    Parameters
    ----------
    path
        The store.

    Returns
    -------
    str or None
        Hex digest; None for a missing file.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def lock_path_for(path: str | os.PathLike) -> Path:
    """Return the lock file of a store: ``.NAME.lock`` in the same folder."""
    path = Path(path)
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def store_lock(path: str | os.PathLike, *, expected: str | object | None = UNSET, lock_file: str | os.PathLike | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the store ``path`` (blocks until other writers finish).

    Parameters
    ----------
    path
        The store file.
    expected
        :func:`fingerprint` of the file the change was prepared from (None: the
        file did not exist). Omitted: no stale-write check.
    lock_file
        Lock file to use instead of :func:`lock_path_for` (the routes store keeps
        its lock in its history folder).

    Raises
    ------
    DataFileError
        If the lock file cannot be created (folder missing or read-only).
    ConflictError
        If ``expected`` is given and the store has changed since; nothing is
        written then.
    """
    path = Path(path)
    lock = Path(lock_file) if lock_file is not None else lock_path_for(path)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+b")  # closed below, after unlocking
    except OSError as exc:
        msg = f"{lock.parent}: cannot create the lock file {lock.name} ({exc.strerror or exc}); check that the folder is writable"
        raise DataFileError(msg) from exc
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        if expected is not UNSET and fingerprint(path) != expected:
            what = "has been removed" if not path.exists() else "has been changed by someone else"
            msg = f"{path}: {what} since this change began; nothing was written; reload it and redo the change"
            raise ConflictError(msg)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()
