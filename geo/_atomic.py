"""Atomic file writes: a crash or an error never leaves a half-written data file."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from geo.errors import DataFileError


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync and rename it over ``path``.

    If the body raises, the temporary file is removed and ``path`` is left as it
    was. The rename is atomic on POSIX file systems because the temporary file
    lives in the same folder.

    Parameters
    ----------
    path
        Destination file.
    mode
        ``"w"`` for text or ``"wb"`` for bytes.
    encoding, newline
        As for :func:`open`, text mode only.

    Yields
    ------
    file object
        Write to it; do not close it.

    Raises
    ------
    DataFileError
        If the folder cannot be written or the file cannot be replaced.
        Exceptions raised by the body pass through unchanged.
    """
    path = Path(path)
    if path.is_dir():
        msg = f"{path}: is a folder; give a file name to write"
        raise DataFileError(msg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        msg = f"{path}: cannot be written ({exc.strerror or exc}); check that the folder exists and is writable"
        raise DataFileError(msg) from exc
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
            os.replace(tmp, path)
        except OSError as exc:
            msg = f"{path}: cannot be replaced ({exc.strerror or exc}); the old file was left as it was"
            raise DataFileError(msg) from exc
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    if isinstance(data, bytes):
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
    else:
        with atomic_writer(path, "w", encoding=encoding, newline="") as fh:
            fh.write(data)


#: Names of :func:`atomic_writer`'s temporary files: ``.NAME.`` + 8 random characters + ``.tmp``.
_TMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def keep_copy(path: str | os.PathLike, data: bytes, *, label: str = "before-store") -> Path:
    """Keep ``data`` (a file's earlier bytes) beside ``path`` as ``NAME.LABEL-YYYYmmdd-HHMMSS[-N].SUFFIX``; return it.

    A copy is never overwritten: a second copy within the same second gets ``-2``, ``-3``, ...
    """
    import datetime as _dt

    path = Path(path)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    copy, n = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}"), 1
    while copy.exists():
        n += 1
        copy = path.with_name(f"{path.stem}.{label}-{stamp}-{n}{path.suffix}")
    atomic_write(copy, data)
    return copy


def clean_leftovers(folder: str | os.PathLike, *, min_age_s: float = 60.0, subfolders: tuple[str, ...] = ("route_history",)) -> list[Path]:
    """Remove temporary files that a killed atomic write left behind.

    Only names of :func:`atomic_writer`'s own pattern (``.NAME.xxxxxxxx.tmp``)
    are removed, and only when older than ``min_age_s`` (a write in progress
    elsewhere is never touched). Called at the start of the command line and
    of the app.

    Parameters
    ----------
    folder
        The data folder.
    min_age_s
        Seconds since the file was last written.
    subfolders
        Folders inside ``folder`` to clean too.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed = []
    now = time.time()
    for where in (Path(folder), *(Path(folder) / s for s in subfolders)):
        try:
            entries = list(where.iterdir())
        except OSError:
            continue
        for p in entries:
            if not _TMP_NAME.match(p.name):
                continue
            with contextlib.suppress(OSError):
                if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime >= min_age_s:
                    p.unlink()
                    removed.append(p)
    return removed


def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads;
    # Linux reports it in /proc instead. Elsewhere assume the usual 022.
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("Umask:")).split()[1], 8)
    return 0o022


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
