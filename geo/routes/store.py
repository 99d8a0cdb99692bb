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
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd

from geo import io, settings
from geo._atomic import atomic_write
from geo._lock import store_lock
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
    note
        What the store found and recorded at this save (an interrupted earlier
        save, a torn log line set aside), or None.
    """

    number: int
    saved_at: str
    author: str
    reason: str
    sha256: str
    n_routes: int
    restored_from: int | None = None
    note: str | None = None


#: Type of every field of a log record; a record with another type is set aside as damaged.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "number": (int,),
    "saved_at": (str,),
    "author": (str,),
    "reason": (str,),
    "sha256": (str,),
    "n_routes": (int,),
    "restored_from": (int, type(None)),
    "note": (str, type(None)),
}
_REQUIRED = ("number", "saved_at", "author", "reason", "sha256", "n_routes")
_VERSION_FILE = re.compile(r"^v(\d{4,})\.geojson$")


def _parse_record(raw: bytes) -> Version | str:
    """A log line as a :class:`Version`, or why it is not one."""
    try:
        rec = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text (damaged bytes)"
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg})"
    if not isinstance(rec, dict):
        return "not a JSON object"
    missing = [k for k in _REQUIRED if k not in rec]
    if missing:
        return f"fields {missing} missing"
    for key, types in _FIELD_TYPES.items():
        value = rec.get(key)
        if key in rec and (not isinstance(value, types) or isinstance(value, bool)):
            return f"field {key!r} is {value!r}, not {' or '.join('null' if t is type(None) else t.__name__ for t in types)}"
    if rec["number"] < 1 or rec["n_routes"] < 0 or (rec.get("restored_from") is not None and rec["restored_from"] < 1):
        return "a number below 1 or a negative route count"
    if not re.fullmatch(r"[0-9a-f]{64}", rec["sha256"]):
        return "field 'sha256' is not a sha256 hex digest"
    return Version(**{k: rec[k] for k in _FIELD_TYPES if k in rec})


@dataclass
class _Log:
    """What reading the log found."""

    versions: list[Version]
    problems: list[str]
    torn_at: int | None  # byte offset of an unreadable last line without its line break


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
        """Return every readable version, by number (empty before the first save).

        Damaged records are left out and reported by :meth:`check`; reading
        never fails on a damaged log.
        """
        return self._read_log().versions

    def _read_log(self) -> _Log:
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            return _Log([], [], None)
        except OSError as exc:
            msg = f"{self.log_path}: cannot be read ({exc.strerror or exc}); check its permissions"
            raise DataFileError(msg) from exc
        versions: dict[int, Version] = {}
        problems: list[str] = []
        torn_at = None
        offset = 0
        lines = data.split(b"\n")
        for lineno, raw in enumerate(lines, start=1):
            start, offset = offset, offset + len(raw) + 1
            if not raw.strip():
                continue
            parsed = _parse_record(raw)
            last = lineno == len(lines)  # no line break after it
            if isinstance(parsed, str):
                if last:
                    torn_at = start
                    problems.append(f"{self.log_path}, line {lineno}: the last line is incomplete ({parsed}), as a crash during a save leaves it; "
                                    "the next save sets it aside in log.damaged.txt")
                else:
                    problems.append(f"{self.log_path}, line {lineno}: not a version record ({parsed}); it is skipped; "
                                    "restore the line from a backup or remove it")
            elif parsed.number in versions:
                problems.append(f"{self.log_path}, line {lineno}: version {parsed.number} is recorded twice; the first record is used")
            else:
                versions[parsed.number] = parsed
        return _Log([versions[n] for n in sorted(versions)], problems, torn_at)

    def _version_files(self) -> dict[int, Path]:
        """Version files on disk, by number."""
        if not self.history_dir.is_dir():
            return {}
        found = {}
        for p in self.history_dir.iterdir():
            m = _VERSION_FILE.match(p.name)
            if m and p.is_file():
                found[int(m.group(1))] = p
        return found

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
        """Return problems of the store, one line each.

        Damaged log records, version files missing or changed, version files
        without a log entry (adopted at the next save), a save that was logged
        but never took effect, and a routes file edited by hand.
        """
        log = self._read_log()
        problems = list(log.problems)
        versions = log.versions
        for v in versions:
            p = self.version_path(v.number)
            if not p.exists():
                problems.append(f"{p}: the file of version {v.number} is missing")
            elif _sha(p.read_bytes()) != v.sha256:
                problems.append(f"{p}: its content differs from what the log recorded for version {v.number}")
        logged = {v.number for v in versions}
        for n, p in sorted(self._version_files().items()):
            if n not in logged:
                problems.append(f"{p}: version {n} has no record in the log (the log was damaged or lost); the next save adopts it")
        state = self._file_state(versions)
        if state is not None:
            problems.append(state)
        return problems

    def _file_state(self, versions: list[Version]) -> str | None:
        """Why the routes file is not the last logged version, or None when it is."""
        current = self.current_sha256()
        if not versions or current is None or current == versions[-1].sha256:
            return None
        last = versions[-1]
        earlier = [v.number for v in versions[:-1] if v.sha256 == current]
        if earlier:
            return (f"{self.path}: version {last.number} was logged but never took effect (a save was interrupted); "
                    f"the routes file is still version {earlier[-1]}")
        return f"{self.path}: differs from the last saved version {last.number} (edited by hand, or a save was interrupted); the next save keeps it as a version of its own"

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
            log = self._read_log()
            versions = log.versions
            if expected_sha256 is not None:
                self._check_unchanged(expected_sha256, versions)
            notes = []
            if log.torn_at is not None:
                notes.append(self._set_aside_torn_line(log.torn_at))
            versions = self._adopt_orphans(versions, notes)
            current = self.path.read_bytes() if self.path.exists() else None
            state = self._file_state(versions)
            if current is not None and (not versions or (state is not None and "never took effect" not in state)):
                kept_as_found = not versions
                versions.append(self._append(
                    self._next_number(versions), current,
                    author="(as found)" if kept_as_found else "(edited by hand)",
                    reason="the routes file before the first save" if kept_as_found
                    else "the routes file as found, edited outside the app; kept before the next change",
                ))
            elif state is not None:
                notes.append(state)
            version = self._append(self._next_number(versions), payload, author=author.strip(), reason=reason.strip(),
                                   restored_from=restored_from, note="; ".join(notes) or None)
            atomic_write(self.path, payload)
            return version

    def _next_number(self, versions: list[Version]) -> int:
        """One above every logged number and every version file on disk: a version file is never overwritten."""
        taken = [v.number for v in versions] + list(self._version_files())
        return max(taken, default=0) + 1

    def _adopt_orphans(self, versions: list[Version], notes: list[str]) -> list[Version]:
        logged = {v.number for v in versions}
        adopted = []
        for n, p in sorted(self._version_files().items()):
            if n in logged:
                continue
            payload = p.read_bytes()
            saved_at = _dt.datetime.fromtimestamp(p.stat().st_mtime, _CST).isoformat(timespec="seconds")
            adopted.append(self._append(n, payload, author="(unknown)", reason="version file found without a log record; adopted",
                                        saved_at=saved_at, write_file=False))
        if adopted:
            notes.append(f"adopted version file(s) {', '.join(str(v.number) for v in adopted)} that had no log record")
        return sorted([*versions, *adopted], key=lambda v: v.number)

    def _set_aside_torn_line(self, offset: int) -> str:
        """Move an incomplete last log line to ``log.damaged.txt`` and cut it from the log."""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            fragment = fh.read()
        damaged = self.history_dir / "log.damaged.txt"
        stamp = _dt.datetime.now(_CST).isoformat(timespec="seconds")
        try:
            with open(damaged, "ab") as fh:
                fh.write(f"# {stamp}: incomplete last line of log.jsonl, set aside\n".encode() + fragment + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.truncate(self.log_path, offset)
        except OSError as exc:
            msg = f"{self.log_path}: its incomplete last line cannot be set aside ({exc.strerror or exc}); check that the folder is writable"
            raise DataFileError(msg) from exc
        return f"an incomplete last log line ({len(fragment)} bytes) was set aside in {damaged.name}"

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the exclusive lock of the store (``history_dir/.lock``; blocks until other savers finish)."""
        return store_lock(self.path, lock_file=self.history_dir / ".lock")

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

    def _append(self, number: int, payload: bytes, *, author: str, reason: str, restored_from: int | None = None,
                note: str | None = None, saved_at: str | None = None, write_file: bool = True) -> Version:
        version = Version(
            number=number,
            saved_at=saved_at or _dt.datetime.now(_CST).isoformat(timespec="seconds"),
            author=author,
            reason=reason,
            sha256=_sha(payload),
            n_routes=_count_features(payload),
            restored_from=restored_from,
            note=note,
        )
        if write_file:
            atomic_write(self.version_path(number), payload)
        record = {k: v for k, v in asdict(version).items() if k != "note" or v is not None}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with open(self.log_path, "ab") as fh:
                if fh.tell() > 0 and not _ends_with_newline(self.log_path):
                    line = "\n" + line  # a complete last record that lost only its line break
                fh.write(line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            msg = f"{self.log_path}: cannot be appended to ({exc.strerror or exc}); check that the folder is writable"
            raise DataFileError(msg) from exc
        return version


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def _count_features(payload: bytes) -> int:
    """Features in a GeoJSON's bytes; 0 for a file that is not readable GeoJSON (a broken hand edit is still kept)."""
    try:
        features = json.loads(payload.decode("utf-8")).get("features", [])
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, RecursionError):
        return 0
    return len(features) if isinstance(features, list) else 0


def render_routes(routes: gpd.GeoDataFrame, metadata: dict) -> bytes:
    """Validate routes through the same reader users' files go through, and return the bytes to write."""
    payload = io.geojson_bytes(routes, metadata=metadata)
    written = io.read_features(payload, ROUTES, name="routes to save.geojson")  # raises SchemaError with every problem
    check_teams(written, source="routes to save")
    return payload
