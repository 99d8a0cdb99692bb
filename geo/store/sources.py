"""Where the tool reads its estates, routes and incidents: the store when one is in use, else the files.

The app and every command read through these functions, so they work
unchanged on either store:

- a file named on purpose (``--estates FILE``, ``--incidents FILE``) is read as that file;
- otherwise, with a store in use (``SHAHE_STORE`` or ``--store``, or ``shahe.gpkg`` in
  the data folder), the layer is read from the store in bulk: one query, geometries
  as WKB decoded by vectorised shapely calls, never a row at a time;
- otherwise the data folder's file, as before there was a store.

The embedded store in the data folder follows that folder's files: a file
changed outside the tool (replaced by hand, written by the demo generator, a
new release of the shipped data) is read, validated and saved as a new version
of its layer, with an audit entry "changed outside the tool", the next time
anything reads from the store. Each file's size, modification time and SHA-256
at the last agreement are kept in ``store_meta``, so an unchanged file costs
one ``stat``. The routes are the exception: the store's routes are the truth
and the routes file is their working copy (:func:`geo.routes.shared.sync_routes_file`).
A shared store (PostGIS, or a ``.gpkg`` named by ``SHAHE_STORE``) changes only
through the tool and ``python -m geo store import``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator

import geopandas as gpd
import pandas as pd

from geo import io
from geo.errors import DataFileError
from geo.io.beside import beside, worth_forking
from geo.routes.load import load_routes
from geo.store.follow import FOLLOWED, data_folder, follow_files, follows_files, record_file, store_expected

__all__ = [
    "FOLLOWED",
    "follow_files",
    "follows_files",
    "in_store",
    "layer_token",
    "read_estates",
    "read_estates_and_routes",
    "read_incident_columns",
    "read_incidents",
    "read_overrides",
    "read_routes",
    "record_file",
    "store_in_use",
]

#: Columns of the incident layer the analyses need (the rest stay in the store).
_INCIDENT_COLUMNS = ("incident_id", "time", "category", "subcategory", "source", "lon", "lat", "synthetic")


def store_in_use(data_dir: str | os.PathLike | None = None, *, create: bool = False):
    """The store in use for ``data_dir``, brought up to date with the folder's files; None without one.

    Parameters
    ----------
    data_dir
        Data folder (default :data:`geo.settings.data_dir`).
    create
        Create and fill the embedded store from the folder's files when there is
        none and ``SHAHE_STORE`` is not set (what the app does on first start).

    Returns
    -------
    geo.store.Store or None
        Open; the caller closes it.
    """
    folder = data_folder(data_dir)
    if not create and not store_expected(folder):
        return None  # without importing the store's database layer (SQLAlchemy, 0.1 s of a command's start)
    from geo.store.api import active_store, open_store

    store = open_store(data_dir=folder) if create else active_store(folder)
    if store is not None and follows_files(store, folder):
        try:
            follow_files(store, folder)
        except BaseException:
            store.close()
            raise
    return store


@contextlib.contextmanager
def _opened(data_dir) -> Iterator:
    store = store_in_use(data_dir)
    try:
        yield store
    finally:
        if store is not None:
            store.close()


# --- reading ------------------------------------------------------------------------------


def _like_reader(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer and boolean columns as the validating readers give them (nullable Int64 / boolean)."""
    casts = {}
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype) and str(dtype) != "boolean":
            casts[col] = "boolean"
        elif pd.api.types.is_integer_dtype(dtype) and str(dtype) != "Int64":
            casts[col] = "Int64"
    return frame.astype(casts) if casts else frame


def _layer_frame(store, layer: str) -> gpd.GeoDataFrame:
    frame, version = store.read_layer(layer)
    metadata = frame.attrs.get("metadata") or {}
    frame = _like_reader(frame)
    frame.attrs = {"notices": [], "source": f"{store.url} (layer {layer}, version {version})", "metadata": metadata}
    return frame


def read_estates(path: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """The estates: the file ``path`` when given, else the store's ``estates`` layer, else ``estates.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`geo.io.read_estates` gives it (EPSG:4326, same columns and dtypes).

    Raises
    ------
    DataFileError
        If the store in use holds no estates (with the command that imports them).
    """
    if path is not None:
        return io.read_estates(path)
    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is None:
            return io.read_estates(folder / "estates.geojson")
        return _layer_frame(store, "estates")


def read_routes(path: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """The patrol routes: the file ``path`` when given, else the store's ``routes`` layer, else ``patrol_routes.geojson``.

    Before the store holds any routes (a new shared store), the routes file is
    read, as the route editor does before its first save.
    """
    if path is not None:
        return io.read_routes(path)
    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is None or store.layer_version("routes") == 0:
            return io.read_routes(folder / "patrol_routes.geojson")
        return _layer_frame(store, "routes")


def read_estates_and_routes(
    estates_path: str | os.PathLike | None = None,
    routes_path: str | os.PathLike | None = None,
    *,
    datum: str | None = None,
    data_dir: str | os.PathLike | None = None,
    on_estates: Callable[[gpd.GeoDataFrame], object] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The estates and the routes a command works on: each named file, else the store's layer (see :func:`read_estates`).

    A routes file is read with :func:`geo.routes.load.load_routes` (team
    checks, self-crossing notices; ``datum`` for a GCJ-02 or BD-09 source).
    Two named files that are large together (:func:`geo.io.beside.worth_forking`)
    are read at once, the routes in a forked process; the frames, notices
    and errors are those of reading one after the other (the estates' error
    first when both files are bad).

    ``on_estates`` is called with the estates as soon as they are read,
    before the routes are taken: work that needs the estates only (a coverage
    model's estate side, :func:`geo.coverage.estate_index.prepare_estates`)
    then runs while the routes' process finishes. It must not raise for bad
    data (the routes' errors come first); its result is not used here.
    """
    fork = estates_path is not None and routes_path is not None and worth_forking(estates_path, routes_path)
    if routes_path is not None:
        job = beside(load_routes, routes_path, datum=datum, fork=fork)
    else:
        job = beside(read_routes, data_dir=data_dir, fork=False)
    with job as routes:
        estates = read_estates(estates_path, data_dir=data_dir)
        if on_estates is not None:
            on_estates(estates)
        return estates, routes.result()


def read_incidents(path: str | os.PathLike | None = None, *, data_dir: str | os.PathLike | None = None):
    """The incidents as :class:`~geo.incidents.store.IncidentArrays`: the file ``path``, else the store, else ``incidents.csv``.

    From the store only the columns the analyses use travel (ids, time,
    category, subcategory, source, lon/lat, synthetic), in one query.

    Raises
    ------
    DataFileError
        If there are no incidents (with the command that imports them).
    """
    from geo.incidents.store import arrays_of_frame, load_incidents

    if path is not None:
        return load_incidents(path)
    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is None:
            return load_incidents(folder / "incidents.csv")
        if store.layer_version("incidents") == 0:
            msg = (f"the store at {store.url} holds no incidents; import them with 'python -m geo incidents import FILE' "
                   "or 'python -m geo store import DIR'")
            raise DataFileError(msg)
        stored = store.layer_columns("incidents")
        frame, version = store.read_layer("incidents", columns=[c for c in _INCIDENT_COLUMNS if c in stored])
        where = f"{store.url} (layer incidents, version {version})"
    return arrays_of_frame(frame, where)


def read_overrides(*, data_dir: str | os.PathLike | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The geocode overrides as a table of text and the problems of its rows: from the store in use, else the folder's file.

    With a shared store the folder's ``geocode_overrides.csv`` may be another
    machine's stale copy, so the table shown is the store's layer, checked by the
    same rules as the file (:func:`geo.geocode.overrides.load_overrides`).
    """
    from geo.geocode.overrides import OVERRIDE_COLUMNS, OVERRIDES_LAYER, load_overrides, read_override_table

    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is None or store.layer_version(OVERRIDES_LAYER) == 0:
            path = folder / "geocode_overrides.csv"
            return read_override_table(path), load_overrides(path).problems
        frame, version = store.read_layer(OVERRIDES_LAYER)
        name = f"{store.url} (layer {OVERRIDES_LAYER}, version {version})"
    table = pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), "").map(str) if c in frame else "" for c in OVERRIDE_COLUMNS},
                         index=range(len(frame)))
    text = table.to_csv(index=False).encode("utf-8")
    return table, load_overrides(text, name=name).problems


def in_store(layer: str, *, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether a store is in use and holds layer ``layer``."""
    with _opened(data_folder(data_dir)) as store:
        return store is not None and store.layer_version(layer) > 0


def read_incident_columns(columns: list[str], *, data_dir: str | os.PathLike | None = None) -> pd.DataFrame | None:
    """Some columns of the incidents as text, as in ``incidents.csv`` (from the store in use, else the file); None without incidents."""
    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is not None:
            if store.layer_version("incidents") == 0:
                return None
            frame, _ = store.read_layer("incidents", columns=[c for c in columns if c in store.layer_columns("incidents")])
            return pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), None).map(lambda v: None if v is None else str(v))
                                 for c in frame.columns})
    path = folder / "incidents.csv"
    return pd.read_csv(path, usecols=columns, dtype=str, encoding="utf-8-sig") if path.exists() else None


def layer_token(layer: str, file_name: str, *, data_dir: str | os.PathLike | None = None) -> int:
    """A number that changes whenever what :func:`read_estates` & co. give for ``layer`` changes (a cache key).

    With a store in use: derived from the store's place and the layer's version
    (after following the folder's files); without: the file's modification time
    in nanoseconds (0 when missing).
    """
    folder = data_folder(data_dir)
    with _opened(folder) as store:
        if store is not None and not (layer == "routes" and store.layer_version(layer) == 0):
            digest = hashlib.sha256(f"{store.url}\0{layer}\0{store.layer_version(layer)}".encode()).digest()
            return int.from_bytes(digest[:7], "big")
    try:
        return (folder / file_name).stat().st_mtime_ns
    except FileNotFoundError:
        return 0
