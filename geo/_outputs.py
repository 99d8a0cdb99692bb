"""Where a command may write: one check for every ``--out`` and ``--rejects`` option.

A report, a map or a rejects file written over a file the command reads, or
over one of the data folder's own files, silently destroys data (the ledger is
the only real data there is). :func:`check_output` refuses such a path with
one line naming it, before anything is computed or written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from geo import settings
from geo.errors import DataFileError

__all__ = ["DATA_FILES", "check_output"]

#: The data folder's own files and the command that writes each (None: only people edit it).
DATA_FILES: dict[str, str | None] = {
    "ledger.csv": None,
    "estates.geojson": "build-estates",
    "patrol_routes.geojson": "routes",
    "incidents.csv": "incidents import",
    "geocode_overrides.csv": None,
    "gazetteer.geojson": None,
    "basemap.geojson": None,
}

#: Folders inside the data folder that belong to a store (never an output).
DATA_FOLDERS = ("route_history",)


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(
    out: str | os.PathLike | None,
    *,
    reads: Iterable[str | os.PathLike | None] = (),
    owns: Iterable[str] = (),
    option: str = "--out",
) -> Path | None:
    """Return ``out`` as a path, or refuse it when writing there would destroy data.

    Parameters
    ----------
    out
        The path given to the option (None passes through).
    reads
        Every file the command reads (None entries are skipped).
    owns
        Names of data-folder files this command is the one to write
        (e.g. ``("incidents.csv",)`` for ``incidents import --out``).
    option
        Option name for the message.

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    DataFileError
        If ``out`` is a file the command reads, a data-folder file it does not
        own, or inside a store's folder (``route_history``).
    """
    if out is None:
        return None
    out = Path(out)
    for r in reads:
        if r is not None and _same(out, Path(r)):
            msg = f"{option} {out}: is also a file this command reads; writing there would destroy it; give another file name"
            raise DataFileError(msg)
    data_dir = Path(settings.data_dir).resolve()
    target = out.resolve()
    owned = set(owns)
    try:
        rel = target.relative_to(data_dir)
    except ValueError:
        return out
    if rel.parts and rel.parts[0] in DATA_FOLDERS:
        msg = f"{option} {out}: lies in the data folder's {rel.parts[0]} (kept by the tool); write the output elsewhere"
        raise DataFileError(msg)
    if len(rel.parts) == 1 and rel.name in DATA_FILES and rel.name not in owned:
        writer = DATA_FILES[rel.name]
        who = f"only `python -m geo {writer}` writes it" if writer else "it is edited by people, never by a command"
        msg = f"{option} {out}: is the data folder's own {rel.name} ({who}); write the output elsewhere"
        raise DataFileError(msg)
    return out
