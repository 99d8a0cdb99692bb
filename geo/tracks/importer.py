"""Importing track files into the store: one file or a folder, all or nothing.

Every file is read and checked first; when any file has a problem, the import
stops with every problem of every file (file and row named) and the store is
left as it was. Otherwise the fixes of all files are cleaned together and
merged into the store in one bulk write (:func:`geo.tracks.store.write_fixes`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.errors import DataFileError, SchemaError
from geo.tracks import store
from geo.tracks.fixes import CleanReport, clean, read_devices, read_fix_file

__all__ = ["TRACK_SUFFIXES", "ImportReport", "import_tracks", "track_files"]

TRACK_SUFFIXES = (".gpx", ".csv", ".xlsx", ".xlsm")


@dataclass
class ImportReport:
    """What an import read, cleaned and stored."""

    files: list[str] = field(default_factory=list)
    read: int = 0
    cleaning: CleanReport = field(default_factory=CleanReport)
    months: dict[str, int] = field(default_factory=dict)
    teams: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Lines for the command line."""
        out = [f"read {self.read} fixes from {len(self.files)} file(s) of team(s) {', '.join(self.teams)}"]
        out += self.cleaning.lines()
        out += [f"stored {n} new fixes in month {m}" for m, n in sorted(self.months.items())]
        return out


def track_files(path: str | os.PathLike) -> list[Path]:
    """The track files of a path: the file itself, or the GPX/CSV/XLSX files of a folder (sorted, not recursive)."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise DataFileError(msg)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TRACK_SUFFIXES and not p.name.startswith("."))
        if not files:
            msg = f"{path}: the folder holds no GPX, CSV or XLSX file"
            raise DataFileError(msg)
        return files
    return [path]


def import_tracks(path: str | os.PathLike, *, team_id: str | None = None, datum: str | None = None,
                  devices: str | os.PathLike | dict | None = None, tracks_path: str | os.PathLike | None = None,
                  synthetic: bool = False, dropped_out: str | os.PathLike | None = None, dry_run: bool = False) -> ImportReport:
    """Read, check, clean and store the fixes of one file or a folder.

    Parameters
    ----------
    path
        A GPX/CSV/XLSX file or a folder of them.
    team_id
        Team of files that carry none (GPX, tables without a team or device column).
    datum
        Datum of the coordinates (``wgs84``, ``gcj02``, ``bd09``).
    devices
        Device table (path) or mapping, for tables that carry device ids.
    tracks_path
        Store folder (default :func:`geo.tracks.store.store_dir`).
    synthetic
        Mark the fixes synthetic.
    dropped_out
        Write the fixes dropped by cleaning here (CSV: source, row, team_id, time, reason).
    dry_run
        Check and clean, store nothing.

    Raises
    ------
    SchemaError
        With every problem of every file; nothing is stored.
    """
    from geo.io import write_table

    files = track_files(path)
    mapping = read_devices(devices) if isinstance(devices, (str, os.PathLike)) else devices
    frames, problems = [], []
    bad_files = 0
    for f in files:
        try:
            frames.append(read_fix_file(f, team_id=team_id, devices=mapping, datum=datum))
        except SchemaError as exc:
            bad_files += 1
            problems.append(exc.summary)
            problems += [f"{f}: {p}" for p in exc.problems]
        except DataFileError as exc:
            bad_files += 1
            problems.append(str(exc))
    if problems:
        msg = f"{bad_files} of {len(files)} file(s) refused; nothing was imported (fix them and import again)"
        raise SchemaError(msg, problems)
    fixes = pd.concat(frames, ignore_index=True)
    fixes.attrs["out_of_order"] = sum(int(f.attrs.get("out_of_order", 0)) for f in frames)
    kept, cleaning = clean(fixes)
    rep = ImportReport(files=[str(f) for f in files], read=len(fixes), cleaning=cleaning, teams=sorted(set(fixes["team_id"])))
    if dropped_out is not None and cleaning.rows is not None:
        rows = cleaning.rows.assign(time=cleaning.rows["time_s"].astype("datetime64[s]").astype(str)).drop(columns="time_s")
        write_table(rows, dropped_out)
    if not dry_run and len(kept):
        rep.months = store.write_fixes(kept, tracks_path, synthetic=synthetic)
    return rep
