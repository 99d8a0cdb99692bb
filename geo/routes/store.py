"""Versioned storage of the patrol routes file.

The police station edits routes in the app; every save keeps the earlier
version, says who saved it, when and why, and any version can be restored.

Layout beside the routes file (``data/patrol_routes.geojson``)::

    data/route_history/
        log.jsonl          one JSON object per version, append-only
        v0001.geojson      the file as it was at version 1 (byte for byte)
        v0002.geojson      ...

Version 1 is the file as first found. A restore (undo) is itself a new
version whose bytes equal the restored one: history is never rewritten.
Each file is written atomically; the routes file is replaced last, so a crash
between steps leaves the previous routes file in place and the history
readable (:meth:`RouteStore.check` reports such a mismatch).

Saves are serialised by an exclusive lock on ``route_history/.lock`` (POSIX
``flock``), held from reading the last version number to replacing the routes
file, so two editors saving at once get consecutive versions. A save may name
the sha256 of the file its edit started from (``expected_sha256``); if the
routes file changed since, the save is refused with :class:`geo.errors.ConflictError`
instead of silently undoing the other editor's save.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd

from geo import io, settings
from geo._atomic import atomic_write
from geo.errors import ConflictError, DataFileError, SchemaError
from geo.routes.load import check_teams, metadata_for
from geo.schemas import ROUTES

__all__ = ["RouteStore", "Version"]


@dataclass(frozen=True)
class Version:
    """One saved version of the routes file.

    Attributes
    ----------
    number
        1, 2, ... in order of saving.
    saved_at
        Local time of the save, ISO 8601 with offset (Asia/Shanghai, UTC+8).
    author
        Who saved it (the name typed in the app).
    reason
        Why (free text; required for every save after the first).
    sha256
        Hash of the file's bytes.
    n_routes
        Number of route features.
    restored_from
        Version number this one restores, or None.
    """

    number: int
    saved_at: str
    author: str
    reason: str
    sha256: str
    n_routes: int
    restored_from: int | None = None


_CST = _dt.timezone(_dt.timedelta(hours=8), name="Asia/Shanghai")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RouteStore:
    """The routes file and its history.

    Parameters
    ----------
    path
        The routes file; default ``data/patrol_routes.geojson`` (read at call time).
    history_dir
        Folder of the versions; default ``route_history`` beside ``path``.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, history_dir: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else settings.data_path("patrol_routes.geojson")
        self.history_dir = Path(history_dir) if history_dir is not None else self.path.parent / "route_history"

    # --- reading ---------------------------------------------------------

    @property
    def log_path(self) -> Path:
        """Path of the append-only log."""
        return self.history_dir / "log.jsonl"

    def versions(self) -> list[Version]:
        """Return every version, oldest first (empty before the first save)."""
        if not self.log_path.exists():
            return []
        out = []
        with open(self.log_path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(Version(**json.loads(line)))
                except (json.JSONDecodeError, TypeError) as exc:
                    msg = f"{self.log_path}, line {lineno}: not a version record ({exc}); restore the line from a backup or remove it"
                    raise DataFileError(msg) from exc
        return out

    def current_sha256(self) -> str | None:
        """Return the sha256 of the current routes file's bytes, or None if there is no file.

        Pass it back as ``expected_sha256`` to :meth:`save` so that a save built on
        this file is refused if someone else saves in between.
        """
        try:
            return _sha(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def version_path(self, number: int) -> Path:
        """Path of the file of version ``number``."""
        return self.history_dir / f"v{number:04d}.geojson"

    def read_version(self, number: int) -> gpd.GeoDataFrame:
        """Read and validate the routes of version ``number``."""
        path = self.version_path(number)
        if not path.exists():
            known = ", ".join(str(v.number) for v in self.versions()) or "none"
            msg = f"{self.history_dir}: no version {number} (versions: {known})"
            raise DataFileError(msg)
        return io.read_routes(path)

    def check(self) -> list[str]:
        """Return problems of the store: a routes file that differs from the last version, missing version files."""
        problems = []
        versions = self.versions()
        for v in versions:
            p = self.version_path(v.number)
            if not p.exists():
                problems.append(f"{p}: the file of version {v.number} is missing")
            elif _sha(p.read_bytes()) != v.sha256:
                problems.append(f"{p}: its content differs from what the log recorded for version {v.number}")
        if versions and self.path.exists() and _sha(self.path.read_bytes()) != versions[-1].sha256:
            problems.append(f"{self.path}: differs from the last saved version {versions[-1].number} (edited by hand, or a save was interrupted)")
        return problems

    # --- writing ---------------------------------------------------------

    def save(
        self,
        routes: gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        metadata: dict | None = None,
        expected_sha256: str | None = None,
    ) -> Version:
        """Validate ``routes`` and save them as the new routes file and a new version.

        Parameters
        ----------
        routes
            Routes in any CRS (written as WGS-84), following :data:`geo.schemas.ROUTES`.
        author
            Who saves (required).
        reason
            Why (required).
        metadata
            Top-level members of the GeoJSON (e.g. ``{"synthetic": True}``); default:
            those of the current file. Either way a file-level ``synthetic`` and
            its ``note`` are dropped once every route is real
            (:func:`geo.routes.load.metadata_for`).
        expected_sha256
            sha256 of the routes file the edit started from (:meth:`current_sha256`
            when the draft was made); None skips the check.

        Returns
        -------
        Version
            The new version.

        Raises
        ------
        SchemaError
            If the routes do not follow the schema, a team id carries two names,
            or author or reason is empty; nothing is written then.
        ConflictError
            If ``expected_sha256`` is given and the routes file has changed since;
            nothing is written then.
        """
        if metadata is None:
            metadata = self._current_metadata()
        payload = render_routes(routes, metadata_for(routes, metadata))
        return self._commit(payload, author=author, reason=reason, expected_sha256=expected_sha256)

    def restore(self, number: int, *, author: str, reason: str = "", expected_sha256: str | None = None) -> Version:
        """Make version ``number`` current again, as a new version with the same bytes.

        ``expected_sha256`` works as for :meth:`save`.
        """
        path = self.version_path(number)
        if not path.exists():
            known = ", ".join(str(v.number) for v in self.versions()) or "none"
            msg = f"{self.history_dir}: no version {number} to restore (versions: {known})"
            raise DataFileError(msg)
        payload = path.read_bytes()
        return self._commit(
            payload, author=author, reason=reason or f"restore version {number}", restored_from=number, expected_sha256=expected_sha256
        )

    def _current_metadata(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return {k: v for k, v in doc.items() if k not in ("type", "features", "datum", "crs")}

    def _commit(
        self, payload: bytes, *, author: str, reason: str, restored_from: int | None = None, expected_sha256: str | None = None
    ) -> Version:
        problems = []
        if not str(author).strip():
            problems.append("field 'author': missing; say who saves the routes")
        if not str(reason).strip():
            problems.append("field 'reason': missing; say why the routes change")
        if problems:
            msg = "the routes were not saved"
            raise SchemaError(msg, problems)
        with self._lock():
            versions = self.versions()
            if expected_sha256 is not None:
                self._check_unchanged(expected_sha256, versions)
            if not versions and self.path.exists():
                first = self.path.read_bytes()
                versions.append(self._append(1, first, author="(as found)", reason="the routes file before the first save"))
            number = versions[-1].number + 1 if versions else 1
            version = self._append(number, payload, author=author.strip(), reason=reason.strip(), restored_from=restored_from)
            atomic_write(self.path, payload)
            return version

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold an exclusive lock on ``history_dir/.lock`` (blocks until other savers finish)."""
        try:
            self.history_dir.mkdir(parents=True, exist_ok=True)
            fh = open(self.history_dir / ".lock", "a+b")  # closed below, after unlocking
        except OSError as exc:
            msg = f"{self.history_dir}: cannot create the lock file ({exc.strerror or exc}); check that the folder is writable"
            raise DataFileError(msg) from exc
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    def _check_unchanged(self, expected_sha256: str, versions: list[Version]) -> None:
        current = self.current_sha256()
        if current == expected_sha256:
            return
        if current is None:
            what = f"{self.path} has been removed since the edit began"
        elif versions and versions[-1].sha256 == current:
            last = versions[-1]
            what = f"someone else saved version {last.number} at {last.saved_at} by {last.author}"
        else:
            what = f"{self.path} has changed since the edit began (edited outside the app)"
        msg = f"the routes were not saved: {what}; reload the routes and redo the edit"
        raise ConflictError(msg)

    def _append(self, number: int, payload: bytes, *, author: str, reason: str, restored_from: int | None = None) -> Version:
        n_routes = len(json.loads(payload.decode("utf-8")).get("features", []))
        version = Version(
            number=number,
            saved_at=_dt.datetime.now(_CST).isoformat(timespec="seconds"),
            author=author,
            reason=reason,
            sha256=_sha(payload),
            n_routes=n_routes,
            restored_from=restored_from,
        )
        atomic_write(self.version_path(number), payload)
        line = json.dumps(asdict(version), ensure_ascii=False) + "\n"
        try:
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            msg = f"{self.log_path}: cannot be appended to ({exc.strerror or exc}); check that the folder is writable"
            raise DataFileError(msg) from exc
        return version


def render_routes(routes: gpd.GeoDataFrame, metadata: dict) -> bytes:
    """Validate routes through the same reader users' files go through, and return the bytes to write."""
    payload = io.geojson_text(routes, metadata=metadata).encode("utf-8")
    written = io.read_features(payload, ROUTES, name="routes to save.geojson")  # raises SchemaError with every problem
    check_teams(written, source="routes to save")
    return payload
