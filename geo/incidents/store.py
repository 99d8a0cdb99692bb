"""The incident store (``data/incidents.csv``): its columns, loading into arrays, and atomic writes.
"""

from __future__ import annotations

import csv
import io as _stdio
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import settings
from geo._atomic import atomic_writer
from geo._lock import UNSET, store_lock
from geo.errors import DataFileError, SchemaError
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES, SUBCATEGORY_NAMES
from geo.incidents.times import TIMEZONE, local_seconds, parse_time
from geo.io.writers import guard_formulas

#: Columns of the incident store, in order.
STORE_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "time",
    "category",
    "subcategory",
    "source",
    "lon",
    "lat",
    "address",
    "text",
    "synthetic",
    "x_geocode_quality",
)


# --- arrays ---------------------------------------------------------------------


@dataclass
class IncidentArrays:
    """Incidents as NumPy arrays, one element per incident.

    Attributes
    ----------
    lon, lat
        WGS-84 degrees (float64); NaN where unknown.
    time_s
        Local wall-clock time in Asia/Shanghai as int64 seconds since
        1970-01-01 00:00 (local), so ``time_s // 3600 % 24`` is the hour of day.
    category
        int8 codes into :data:`CATEGORY_NAMES`.
    subcategory
        int8 codes into :data:`SUBCATEGORY_NAMES`, -1 when none.
    source
        int8 codes into :data:`SOURCE_NAMES`.
    ids
        Incident ids (object array), or None when not kept.
    """

    lon: np.ndarray
    lat: np.ndarray
    time_s: np.ndarray
    category: np.ndarray
    subcategory: np.ndarray
    source: np.ndarray
    ids: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.lon.shape[0])

    def subset(self, mask: np.ndarray) -> IncidentArrays:
        """Return the incidents where ``mask`` is True (or at the given indices)."""
        return IncidentArrays(
            self.lon[mask],
            self.lat[mask],
            self.time_s[mask],
            self.category[mask],
            self.subcategory[mask],
            self.source[mask],
            None if self.ids is None else self.ids[mask],
            dict(self.attrs),
        )

    @property
    def hour(self) -> np.ndarray:
        """Hour of day, 0-23 (int64)."""
        return (self.time_s // 3600) % 24

    @property
    def times(self) -> np.ndarray:
        """Local times as ``datetime64[s]`` (naive, Asia/Shanghai wall clock)."""
        return self.time_s.astype("datetime64[s]")

    def to_frame(self) -> pd.DataFrame:
        """Return a DataFrame with readable columns (time as naive local datetime64)."""
        sub_names = np.array((*SUBCATEGORY_NAMES, None), dtype=object)
        return pd.DataFrame(
            {
                "incident_id": self.ids if self.ids is not None else np.arange(len(self)).astype(str),
                "time": self.times,
                "category": np.asarray(CATEGORY_NAMES, dtype=object)[self.category],
                "subcategory": sub_names[self.subcategory],
                "source": np.asarray(SOURCE_NAMES, dtype=object)[self.source],
                "lon": self.lon,
                "lat": self.lat,
            }
        )

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> IncidentArrays:
        """Build arrays from a frame with ``time``, ``category``, ``source`` and ``lon``/``lat`` (or a point geometry).

        ``time`` may be datetime64 (naive local, or tz-aware: converted to
        Asia/Shanghai) or store text; ``category``/``source`` canonical names.

        Raises
        ------
        SchemaError
            If a column is missing or holds a value outside the taxonomy.
        """
        problems: list[str] = []
        if "lon" in df.columns and "lat" in df.columns:
            lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
            lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
        elif hasattr(df, "geometry"):
            g = df.to_crs(settings.storage_crs).geometry if df.crs is not None else df.geometry
            lon, lat = g.x.to_numpy(dtype=float), g.y.to_numpy(dtype=float)
        else:
            problems.append("columns 'lon' and 'lat' (WGS-84 degrees) or a point geometry are needed")
            lon = lat = np.zeros(0)
        for col in ("time", "category", "source"):
            if col not in df.columns:
                problems.append(f"column '{col}' is missing")
        if problems:
            raise SchemaError("incidents cannot be used", problems)
        time_s = _times_to_seconds(df["time"])
        category = _codes(df["category"], CATEGORY_NAMES, "category", problems)
        source = _codes(df["source"], SOURCE_NAMES, "source", problems)
        if "subcategory" in df.columns:
            sub = df["subcategory"].where(df["subcategory"].notna(), None)
            subcategory = _codes(sub, SUBCATEGORY_NAMES, "subcategory", problems, allow_missing=True)
        else:
            subcategory = np.full(len(df), -1, dtype=np.int8)
        if problems:
            raise SchemaError("incidents cannot be used", problems)
        ids = df["incident_id"].astype(str).to_numpy(dtype=object) if "incident_id" in df.columns else None
        return cls(lon, lat, time_s, category, subcategory, source, ids)


def _codes(values: pd.Series, names: tuple[str, ...], what: str, problems: list[str], *, allow_missing: bool = False) -> np.ndarray:
    cat = pd.Categorical(values, categories=list(names))
    codes = np.asarray(cat.codes, dtype=np.int8)
    bad = codes < 0
    if allow_missing:
        bad &= pd.notna(values).to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
    if bad.any():
        odd = sorted({str(v) for v in np.asarray(values, dtype=object)[bad]})[:5]
        problems.append(f"column '{what}': {len(np.flatnonzero(bad))} values outside the taxonomy, e.g. {odd}; use one of {', '.join(names)}")
    return codes


def _times_to_seconds(values: pd.Series) -> np.ndarray:
    """Local (Asia/Shanghai) int64 seconds of times: naive values are local wall-clock time, aware ones are converted.

    ISO 8601 text is parsed vectorised when every value is naive or every value
    carries the same offset; anything else (mixed offsets, 2021/3/4, 2021年3月4日,
    datetime objects) goes value by value through :func:`parse_time`.
    Missing values (NaN, None) become NaT's integer, as before.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        return s.to_numpy(dtype="datetime64[s]").astype(np.int64)
    values = pd.Series(values)
    text = values.dropna()
    if len(text) and text.map(type).eq(str).all():
        # The store's own text (2021-03-04T21:15:00+08:00) is local wall-clock time: read it without the offset.
        local = text.str.endswith("+08:00") & text.str.len().eq(25)
        if local.all():
            parsed = pd.to_datetime(text.str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
            if not parsed.isna().any():
                out = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
                out[values.notna().to_numpy()] = parsed.to_numpy(dtype="datetime64[s]").astype(np.int64)
                return out
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError, Warning):
        parsed = None
    if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed):
        return _times_to_seconds(parsed)
    missing = values.isna().to_numpy()
    out = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
    out[~missing] = [local_seconds(parse_time(v)) for v in values.to_numpy(dtype=object)[~missing]]
    return out


def load_incidents(path: str | os.PathLike | None = None) -> IncidentArrays:
    """Read the incident store (default ``data/incidents.csv``) into arrays.

    Parameters
    ----------
    path
        A store written by :func:`import_incidents` or the demo generator: CSV,
        or GeoParquet for a ``.parquet`` name.

    Returns
    -------
    IncidentArrays
        ``attrs["synthetic"]`` is True when any row is marked synthetic,
        ``attrs["source"]`` the path.

    Raises
    ------
    DataFileError
        If the file is missing or not an incident store.
    """
    path = Path(path) if path is not None else settings.data_path("incidents.csv")
    if not path.exists():
        msg = f"{path}: no incident store; import one with 'python -m geo incidents import FILE' or make the demo with scripts/make_demo_incidents.py"
        raise DataFileError(msg)
    if is_parquet(path):
        import pyarrow.parquet as pq

        check_parquet_store(path)
        table = pq.read_table(path, columns=["incident_id", "time", "category", "subcategory", "source", "lon", "lat", "synthetic"])
        # lon/lat stay float64 (the values the CSV store's text parses to); empty text is missing, as the CSV reader gives it.
        df = pd.DataFrame({name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names})
        df = df.replace({c: {"": np.nan} for c in ("incident_id", "time", "category", "subcategory", "source", "synthetic")})
        return arrays_of_frame(df, path)
    check_store_header(path)
    try:
        df = pd.read_csv(
            path,
            encoding="utf-8-sig",
            usecols=["incident_id", "time", "category", "subcategory", "source", "lon", "lat", "synthetic"],
            dtype={"incident_id": str, "time": str, "category": str, "subcategory": str, "source": str, "synthetic": str},
            keep_default_na=False,
            na_values=[""],
        )
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        msg = f"{path}: the incident store is damaged ({str(exc).splitlines()[0]}); restore it from a backup or import the source files again"
        raise DataFileError(msg) from exc
    return arrays_of_frame(df, path)


def arrays_of_frame(df: pd.DataFrame, where: str | Path) -> IncidentArrays:
    """The incidents of a stored table (a file or a store's layer, named by ``where`` in messages) as arrays."""
    try:
        arrays = IncidentArrays.from_frame(df)
    except SchemaError as exc:
        msg = f"{where}: not a valid incident store"
        raise SchemaError(msg, exc.problems) from exc
    except ValueError as exc:
        msg = f"{where}: a 'time' value is not ISO 8601 ({exc}); import the source file again"
        raise DataFileError(msg) from exc
    synthetic = df["synthetic"].astype(str).str.lower().eq("true") if "synthetic" in df else pd.Series(False, index=df.index)
    arrays.attrs["synthetic"] = bool(synthetic.any())
    arrays.attrs["source"] = str(where)
    return arrays


def check_store_header(path: Path) -> None:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        msg = f"{path}: not an incident store (not a UTF-8 CSV table: {exc}); give the store written by 'python -m geo incidents import'"
        raise DataFileError(msg) from exc
    if tuple(header) != STORE_COLUMNS:
        msg = f"{path}: not an incident store (its header is {header[:6]}...); the store's columns are {', '.join(STORE_COLUMNS)}"
        raise DataFileError(msg)



def ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return True
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def write_store(df: pd.DataFrame, path: str | os.PathLike, *, expected_sha256: str | object | None = UNSET) -> Path:
    """Write a frame with :data:`STORE_COLUMNS` as an incident store (UTF-8 with BOM, or GeoParquet for a ``.parquet`` name; atomic, locked).

    Text cells that a spreadsheet would run as a formula (``=HYPERLINK(...)``)
    are guarded with a leading apostrophe (:func:`geo.io.writers.guard_formulas`).

    Parameters
    ----------
    df
        Columns of :data:`STORE_COLUMNS`; ``time`` as store text.
    path
        Destination.
    expected_sha256
        :func:`geo._lock.fingerprint` of the store the frame was built from
        (None: there was no store); omitted: no stale-write check.

    Raises
    ------
    ConflictError
        If ``expected_sha256`` is given and the store changed since; nothing is written.

    Returns
    -------
    pathlib.Path
    """
    missing = [c for c in STORE_COLUMNS if c not in df.columns]
    if missing:
        msg = f"cannot write an incident store: columns {missing} are missing"
        raise SchemaError(msg)
    path = Path(path)
    guarded = guard_formulas(df.loc[:, list(STORE_COLUMNS)])
    if is_parquet(path):
        table = store_table({c: guarded[c].to_numpy(dtype=object) for c in STORE_COLUMNS})
        with store_lock(path, expected=expected_sha256):
            write_table_atomic(table, path)
        return path
    buf = _stdio.StringIO()
    guarded.to_csv(buf, index=False, lineterminator="\r\n")
    with store_lock(path, expected=expected_sha256), atomic_writer(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(buf.getvalue())
    return path



def as_arrays(incidents) -> IncidentArrays:
    """Return ``incidents`` as :class:`IncidentArrays` (arrays pass through; frames are converted)."""
    if isinstance(incidents, IncidentArrays):
        return incidents
    if isinstance(incidents, pd.DataFrame):
        return IncidentArrays.from_frame(incidents)
    msg = f"incidents must be IncidentArrays or a DataFrame, not {type(incidents).__name__}"
    raise TypeError(msg)


# --- the store in GeoParquet ------------------------------------------------------
#
# The Parquet store holds STORE_COLUMNS in order, as text except lon and lat
# (float64 WGS-84 degrees: the values the CSV store writes with 7 decimals),
# then "geometry": the same points as WKB with GeoParquet 1.0 metadata (CRS84),
# so QGIS, DuckDB or GeoPandas open it as a point layer. Reading it back gives
# the CSV store's text exactly. Files are written whole, atomically.

#: File name suffixes read and written as Parquet.
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}

_GEO_METADATA = {
    "version": "1.0.0",
    "primary_column": "geometry",
    "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}},
}
_FLOAT_COLUMNS = ("lon", "lat")


def is_parquet(path: str | os.PathLike) -> bool:
    """True when ``path`` names a Parquet file by its suffix."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def store_table(columns: dict[str, object]):
    """An Arrow table of the Parquet store from store columns as text (Arrow or Python; ``lon``/``lat`` as 7-decimal text or floats).

    Returns
    -------
    pyarrow.Table
        The columns in store order, ``lon``/``lat`` float64, ``geometry`` WKB points, GeoParquet metadata.
    """
    import pyarrow as pa

    arrays, fields = [], []
    for name in STORE_COLUMNS:
        values = columns[name]
        if name in _FLOAT_COLUMNS:
            arr = pa.array(np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) or values.dtype == object else values)
            arr = arr.cast(pa.float64()) if arr.type != pa.float64() else arr
        elif isinstance(values, pa.Array):
            arr = values.cast(pa.string())
        else:
            arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    lon = arrays[STORE_COLUMNS.index("lon")].to_numpy(zero_copy_only=False)
    lat = arrays[STORE_COLUMNS.index("lat")].to_numpy(zero_copy_only=False)
    arrays.append(point_wkb(lon, lat))
    fields.append(pa.field("geometry", pa.binary()))
    schema = pa.schema(fields, metadata={b"geo": json.dumps(_GEO_METADATA).encode()})
    return pa.Table.from_arrays(arrays, schema=schema)


#: The head of a little-endian 2-D WKB point: byte order 1, geometry type 1.
_WKB_POINT_HEAD = np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)


def point_wkb(x: np.ndarray, y: np.ndarray):
    """Little-endian WKB of the points (x, y) as an Arrow binary array: the bytes of ``shapely.to_wkb(..., byte_order=1)``.

    A 2-D point's WKB is 21 bytes (byte order, type, x and y as little-endian
    doubles), so a million of them are laid out in one NumPy array instead of
    making a million geometries. Points with a NaN coordinate are left to shapely.
    """
    import pyarrow as pa
    import shapely

    x = np.ascontiguousarray(x, dtype="<f8")  # little-endian on any machine
    y = np.ascontiguousarray(y, dtype="<f8")
    n = len(x)
    rows = np.empty((n, 21), dtype=np.uint8)
    rows[:, :5] = _WKB_POINT_HEAD
    rows[:, 5:13] = x.view(np.uint8).reshape(n, 8)
    rows[:, 13:21] = y.view(np.uint8).reshape(n, 8)
    offsets = np.arange(0, 21 * n + 1, 21, dtype=np.int32)
    out = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rows)])
    odd = np.flatnonzero(np.isnan(x) | np.isnan(y))
    if len(odd):  # NaN's bytes as GEOS writes them
        cells = out.to_numpy(zero_copy_only=False)
        cells[odd] = shapely.to_wkb(shapely.points(x[odd], y[odd]), byte_order=1)
        out = pa.array(cells, type=pa.binary())
    return out


def check_parquet_store(path: Path) -> None:
    """Raise :class:`DataFileError` unless ``path`` is a Parquet incident store."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        msg = f"{path}: not an incident store (not a Parquet file: {exc}); give the store written by 'python -m geo incidents import'"
        raise DataFileError(msg) from exc
    if tuple(names[: len(STORE_COLUMNS)]) != STORE_COLUMNS:
        msg = f"{path}: not an incident store (its columns are {names[:6]}...); the store's columns are {', '.join(STORE_COLUMNS)}"
        raise DataFileError(msg)


def read_parquet_store(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The Parquet store as the CSV store reads: every column text (``lon``/``lat`` with 7 decimals), empty cells ``""``."""
    import pyarrow.parquet as pq

    check_parquet_store(path)
    table = pq.read_table(path, columns=list(columns or STORE_COLUMNS))
    out = {}
    for name in table.column_names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        if name in _FLOAT_COLUMNS:
            values = np.asarray(list(map(f"{{:.{settings.coordinate_precision}f}}".format, values.tolist())), dtype=object)
        else:
            values = np.where(pd.isna(values), "", values).astype(object)
        out[name] = values
    return pd.DataFrame(out)


#: Store columns whose values hardly repeat (ids, times, coordinates, points). Parquet writes them without a
#: dictionary, which would only be built and then dropped for size: a 1 M-row store took 1.06-1.09 s and
#: 44.9 MB with a dictionary tried on every column, 0.66-0.80 s and 36.8 MB without these.
_NEAR_UNIQUE = frozenset({"incident_id", "time", "lon", "lat", "geometry"})


def parquet_writer(sink, schema):
    """A Parquet writer of the store: zstd, and dictionaries only for the columns whose values repeat."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(sink, schema, compression="zstd", use_dictionary=[n for n in schema.names if n not in _NEAR_UNIQUE])


def write_table_atomic(table, path: Path, *, before=None) -> None:
    """Write an Arrow table (after the batches of ``before``, an iterator of record batches) as one Parquet file, atomically."""
    with atomic_writer(path, "wb") as fh, parquet_writer(fh, table.schema) as writer:
        for batch in before or ():
            writer.write_batch(batch)
        writer.write_table(table, row_group_size=1 << 20)


def store_batches(path: Path) -> Iterator:
    """Record batches of an existing Parquet store (to copy them ahead of new rows)."""
    import pyarrow.parquet as pq

    yield from pq.ParquetFile(path).iter_batches(batch_size=1 << 16)
