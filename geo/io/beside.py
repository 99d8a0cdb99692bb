"""One call run in a forked process beside the caller's own work: two large input files read at once.

Reading a large GeoJSON file is mostly Python's JSON parser, which holds the
interpreter lock, so two files read in threads take as long as one after the
other. :func:`beside` runs one call (say, reading the routes) in a child
process forked from this one while this process does its own work (reading
the estates); the child sends back its result, pickled, when this process asks
for it.

The outcome is always that of running the call here:

* the call's exception comes back as itself when it survives pickling with
  the same type and text; otherwise the call is run again here, so the user
  gets the very message a run without the child gives;
* anything that goes wrong with the child itself (it dies, the pipe breaks)
  also falls back to running the call here;
* when the caller's own work fails first, the child is stopped and the
  caller's exception goes on (the same error a one-after-the-other run
  reports first).

Geometries travel as coordinate arrays (:class:`_Pickler`), not as one WKB
record each: the routes of a province took 0.22 s to pickle and unpickle as
WKB, 0.12 s as coordinates.

The child is used only where ``fork`` exists (Linux, macOS), the machine has
more than one core, and the work is worth a process:
:data:`geo.settings.read_beside_from_mb`.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import shapely
from geopandas.array import GeometryArray

from geo import settings

__all__ = ["Beside", "beside", "worth_forking"]

_OK, _RAISED, _RERUN = "ok", "raised", "rerun"


#: How many megabytes of GeoJSON a megabyte of a compressed format reads like (by its suffix; others count 1).
#: GeoParquet holds compressed columns: at province size its files took 79-104 ms a megabyte to read and check,
#: GeoJSON 34-43 ms (docs/benchmarks.md, "GeoJSON properties as Arrow columns; both files read at once in every format").
READ_WEIGHTS = {".parquet": 3.0, ".geoparquet": 3.0}


def worth_forking(*paths) -> bool:
    """True when a child process can run beside this one and the files together reach :data:`geo.settings.read_beside_from_mb`.

    Sizes are counted as GeoJSON would be (:data:`READ_WEIGHTS`: a GeoParquet
    file is about a third of its GeoJSON's size for the same work). Paths that
    are not files on disk (None, bytes, an upload) count as nothing.
    """
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    size = 0.0
    for p in paths:
        if isinstance(p, (str, Path)) and Path(p).is_file():
            size += Path(p).stat().st_size * READ_WEIGHTS.get(Path(p).suffix.lower(), 1.0)
    return size >= settings.read_beside_from_mb * 1_000_000


def _same_exception(exc: BaseException, data: bytes) -> bool:
    """True when ``data`` unpickles to an exception of the same type and text as ``exc``."""
    try:
        back = pickle.loads(data)
    except Exception:  # noqa: BLE001 - any failure to come back means: run it again in the parent
        return False
    return type(back) is type(exc) and str(back) == str(exc) and getattr(back, "__dict__", {}) == getattr(exc, "__dict__", {})


#: Geometry types that travel as coordinates: Point, LineString, Polygon and their multi-part types.
_RAGGED_TYPES = (0, 1, 3, 4, 5, 6)


def _geometry_array(geometry_type: int, coords, offsets: tuple, crs):
    """A geopandas GeometryArray rebuilt from :func:`shapely.to_ragged_array`'s parts."""
    return GeometryArray(shapely.from_ragged_array(shapely.GeometryType(geometry_type), coords, offsets), crs=crs)


class _Pickler(pickle.Pickler):
    """A pickler that sends a geopandas GeometryArray of one two-dimensional geometry type as its coordinate arrays.

    geopandas pickles each geometry as WKB and parses it back; the
    coordinates and offsets of :func:`shapely.to_ragged_array` pickle as
    plain buffers and give back the very geometries (the same coordinates,
    parts and rings). An array with missing or empty geometries, several
    types, or Z or M values pickles as geopandas pickles it.
    """

    def reducer_override(self, obj):
        if type(obj) is not GeometryArray:
            return NotImplemented
        data = obj.to_numpy()  # the shapely geometries
        if not len(data) or (shapely.is_missing(data) | shapely.is_empty(data)).any():
            return NotImplemented
        types = shapely.get_type_id(data)
        if types.min() != types.max() or int(types[0]) not in _RAGGED_TYPES or shapely.has_z(data).any() or shapely.has_m(data).any():
            return NotImplemented
        geometry_type, coords, offsets = shapely.to_ragged_array(data, include_z=False, include_m=False)
        return _geometry_array, (int(geometry_type), coords, tuple(offsets), obj.crs)


def dumps(obj) -> bytes:
    """``pickle.dumps(obj)`` at the highest protocol, geometries as coordinates (see :class:`_Pickler`)."""
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def _child(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
            try:
                data = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001
                data = None
            if data is not None and _same_exception(exc, data):
                conn.send_bytes(pickle.dumps((_RAISED, data), protocol=pickle.HIGHEST_PROTOCOL))
            else:
                conn.send_bytes(pickle.dumps((_RERUN, None)))
            return
        try:
            data = dumps((_OK, result))
        except Exception:  # noqa: BLE001 - a result that cannot travel: the parent runs the call itself
            data = pickle.dumps((_RERUN, None))
        conn.send_bytes(data)
    except BaseException:  # noqa: BLE001 - the parent sees a closed pipe and runs the call itself
        traceback.print_exc()
    finally:
        conn.close()


class Beside:
    """A call running in a child process (or, when none was started, to be run here on :meth:`result`)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, *, fork: bool):
        self._call = (fn, args, kwargs)
        self._proc = None
        self._conn = None
        self.forked = False
        if fork:
            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
            try:
                proc.start()
            except OSError:  # no process to be had: the call runs here
                parent.close()
            else:
                self._proc, self._conn, self.forked = proc, parent, True
            finally:
                child.close()

    def result(self):
        """The call's result, or its exception raised; the same as calling it here."""
        fn, args, kwargs = self._call
        if self._conn is None:
            return fn(*args, **kwargs)
        try:
            status, payload = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError):
            status, payload = _RERUN, None
        finally:
            self.close()
        if status == _OK:
            return payload
        if status == _RAISED:
            raise pickle.loads(payload)
        return fn(*args, **kwargs)

    def close(self) -> None:
        """Stop the child if it still runs, and release the pipe."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join()
            self._proc.close()
            self._proc = None


@contextmanager
def beside(fn: Callable, *args, fork: bool = True, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a forked child while the ``with`` block runs; ``.result()`` gives its outcome.

    Parameters
    ----------
    fn
        The call; it must not need anything done in the ``with`` block.
    *args, **kwargs
        Its arguments.
    fork
        False runs the call here, on ``.result()`` (see :func:`worth_forking`).

    Yields
    ------
    Beside
        The running call. The child is stopped when the block ends, whether
        or not its result was taken.
    """
    job = Beside(fn, args, kwargs, fork=fork)
    try:
        yield job
    finally:
        job.close()
