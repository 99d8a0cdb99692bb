"""Writers that make a data folder file and, with a store in use, save it as a new version of its layer.

``build-estates`` (and the register view's rebuild) and ``incidents import``
write ``estates.geojson`` and ``incidents.csv``. When the file written is the
data folder's own and a store is in use, the same content goes into the store,
with its audit entry and the usual version check:

- estates: the version of the ``estates`` layer is read before the build; the
  new file is written to a temporary folder, read back, saved with that base
  version, and only then moved into place. Someone else's save in between is
  refused with "someone else saved; reload" and the file stays as it was.
- incidents: the importer appends to the file as before (it owns the file's
  lock and its duplicate checks); then the rows whose ids the store lacks are
  appended to the ``incidents`` layer, chosen against the version read before
  the import (an import from elsewhere in between is refused, and the embedded
  store takes the file again on the next read).

A file written elsewhere (``--out other.geojson``) leaves the store alone.
With a shared store (PostGIS, or a ``.gpkg`` named by ``SHAHE_STORE``) the
ledger and the surveyed positions the build reads are the store's: the data
folder's ``ledger.csv`` and ``geocode_overrides.csv`` are first brought up to
the store's layers (a differing file is kept as ``NAME.before-store-TIME.csv``),
so a position surveyed on another machine is never dropped by a rebuild here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from geo import io, settings
from geo._atomic import atomic_write, keep_copy
from geo.store.files import same_layer
from geo.store.follow import follows_files, record_file
from geo.store.sources import store_in_use

__all__ = ["build_estates_file", "import_incidents_file", "refresh_working_copies"]


def _data_file(out: str | os.PathLike, name: str, data_dir) -> tuple[Path, bool]:
    folder = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    out = Path(out)
    return folder, out.resolve() == (folder / name).resolve()


def build_estates_file(build: Callable[[Path], object], out: str | os.PathLike, *, author: str, reason: str,
                       data_dir: str | os.PathLike | None = None):
    """Run ``build(path)`` (it writes and checks the estates GeoJSON at ``path``) and put the result at ``out`` and in the store.

    Parameters
    ----------
    build
        Writes the estates file at the path it is given and returns what it built.
    out
        The estates file to write.
    author, reason
        Who rebuilds and why (the store's audit trail).
    data_dir
        Data folder (default :data:`geo.settings.data_dir`).

    Returns
    -------
    Whatever ``build`` returned.

    Raises
    ------
    ConflictError
        If the store's estates were saved by someone else meanwhile; ``out`` is unchanged.
    """
    folder, is_data_file = _data_file(out, "estates.geojson", data_dir)
    store = store_in_use(folder) if is_data_file else None
    if store is None:
        return build(Path(out))
    with store:
        if not follows_files(store, folder):
            refresh_working_copies(store, folder, ("ledger", "geocode_overrides"))
        base = store.layer_version("estates")
        with tempfile.TemporaryDirectory(prefix="shahe-estates-") as tmp:
            built = Path(tmp) / "estates.geojson"
            result = build(built)
            frame = io.read_estates(built)
            for key in ("notices", "source"):
                frame.attrs.pop(key, None)
            if not (base and same_layer(store.read_layer("estates")[0], frame)):  # an unchanged rebuild makes no version
                store.replace_layer("estates", frame, base_version=base, author=author, reason=reason,
                                    metadata=frame.attrs.get("metadata") or {})
            atomic_write(Path(out), built.read_bytes())
        if follows_files(store, folder):
            record_file(store, "estates", out)
    return result


def refresh_working_copies(store, folder: Path, layers: tuple[str, ...]) -> list[Path]:
    """Make the data folder's files of ``layers`` hold the shared store's content; return the files rewritten.

    A file that differs is first copied to ``NAME.before-store-TIME.SUFFIX`` beside it, so nothing typed
    into it is lost. Layers the store lacks leave their files alone.
    """
    import pandas as pd

    from geo.store.files import LAYER_FILES, read_layer_file

    written = []
    for spec in LAYER_FILES:
        if spec.layer not in layers or not store.layer_version(spec.layer):
            continue
        frame, _ = store.read_layer(spec.layer)
        path = folder / spec.file
        if path.exists():
            if same_layer(read_layer_file(spec, path), frame):
                continue
            keep_copy(path, path.read_bytes())
        io.write_table(pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), "") for c in frame.columns}), path)
        written.append(path)
    return written


def import_incidents_file(run: Callable[[Path], object], out: str | os.PathLike | None, *, author: str, reason: str,
                          data_dir: str | os.PathLike | None = None):
    """Run ``run(out)`` (the importer, appending to the incident file ``out``), then add its new rows to the store.

    Returns
    -------
    (result, note)
        What ``run`` returned (an :class:`~geo.incidents.importer.ImportResult`), and a line
        saying what the store received (None without a store).
    """
    from geo.store.files import LAYER_FILES, read_layer_file

    folder = Path(data_dir) if data_dir is not None else Path(settings.data_dir)
    out = Path(out) if out is not None else folder / "incidents.csv"
    folder, is_data_file = _data_file(out, "incidents.csv", folder)
    store = store_in_use(folder) if is_data_file else None
    if store is None:
        return run(out), None
    with store:
        base = store.layer_version("incidents")
        known = set(store.read_layer("incidents", columns=["incident_id"])[0]["incident_id"].astype(str)) if base else set()
        result = run(out)
        if not out.exists():
            return result, None
        spec = next(s for s in LAYER_FILES if s.layer == "incidents")
        frame = read_layer_file(spec, out)
        new = frame[~frame["incident_id"].astype(str).isin(known)] if "incident_id" in frame else frame
        version = base
        if len(new):
            version = store.append_rows("incidents", new.reset_index(drop=True), author=author, reason=reason, base_version=base)
        if follows_files(store, folder):
            record_file(store, "incidents", out)
        note = f"store {store.url}: {len(new)} incidents added, {len(known) + len(new)} in all (version {version})"
    return result, note
