"""What a format reader finds in a file: the features' properties as a table, their geometries and file-level facts.

Shared by the readers of :mod:`geo.io.features` (GeoJSON, tables) and
:mod:`geo.io.vector` (GeoPackage, FlatGeobuf, GeoParquet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyproj

from geo import crs as _crs
from geo._validate import blank_mask, is_blank
from geo.errors import DatumError

__all__ = [
    "BROKEN",
    "ColumnFacts",
    "FeatureLocations",
    "Parts",
    "RecordColumns",
    "blank_as_none",
    "find_column",
    "records_frame",
    "row_list",
    "table_datum",
]


class Broken:
    """Marker for a geometry that could not be built (already reported)."""


BROKEN = Broken()


class ColumnFacts:
    """A column of one plain type as the file stores it, already typed: what validation would work out cell by cell.

    Readers of typed formats (Arrow: GeoParquet, GeoPackage, FlatGeobuf) know
    each column's type, so they can give its values typed and its blank cells
    at once, in compiled loops; :func:`geo.io.frames.check_table` then takes a
    field of the same kind from here instead of looking at every cell.

    Attributes
    ----------
    kind
        ``"str"``, ``"int"``, ``"float"`` or ``"bool"``: the type of every
        cell that is not blank.
    values
        One value per feature: text stripped as :meth:`str.strip` strips it
        (an object array of ``str``, None where blank), or a NumPy array of
        int64, float64 or bool (any value where blank).
    missing
        Which cells are blank in the sense of :func:`geo._validate.is_blank`:
        absent, NaN, or whitespace-only text.
    """

    def __init__(self, kind: str, values: np.ndarray, missing: np.ndarray):
        if kind not in {"str", "int", "float", "bool"}:
            msg = f"unknown column kind {kind!r}"
            raise ValueError(msg)
        self.kind = kind
        self.values = values
        self.missing = np.asarray(missing, dtype=bool)


class Parts:
    """What a format reader found: the features' properties as a table, their geometries, plus file-level facts."""

    def __init__(self):
        self.props: pd.DataFrame = pd.DataFrame()
        self.facts: dict[str, ColumnFacts] = {}  # columns the reader typed itself (ColumnFacts), by name
        self.as_read = False  # True: props hold the values as read, NaN where a feature lacks the name (GeoJSON; see exact_props)
        self.geoms: list | np.ndarray = []
        self.locations: Sequence[str] | None = None  # None: "feature i"
        self.problems: list[str] = []
        self.notices: list[str] = []
        self.datum: str | None = None
        self.crs: pyproj.CRS | None = None
        self.check_coordinates = True
        self.metadata: dict = {}
        #: With ``as_read`` props that hold NaN for null as well as for absent (GeoJSON properties read by Arrow):
        #: a function giving the props as read, null None, for what tells the two apart (:meth:`key_count`, :meth:`record_list`).
        self.exact_props: Callable[[], pd.DataFrame] | None = None
        self._as_read: pd.DataFrame | None = None

    def as_read_props(self) -> pd.DataFrame:
        """The props with null and absent told apart (None and NaN) where ``as_read``: ``props`` itself unless :attr:`exact_props` is set."""
        if self.exact_props is None:
            return self.props
        if self._as_read is None:
            self._as_read = self.exact_props()
        return self._as_read

    def location_list(self) -> list[str]:
        n = len(self.props)
        return [f"feature {i}" for i in range(n)] if self.locations is None else list(self.locations)

    def record_list(self) -> list[dict]:
        """Each feature's properties as a dict (absent values None), for :func:`read_features`' ``extra_checks``."""
        records = self.as_read_props().to_dict("records")
        if self.as_read:
            return [{k: v for k, v in rec.items() if not _absent(v)} for rec in records]
        return [{k: (None if is_blank(v) else v) for k, v in rec.items()} for rec in records]

    def key_count(self, name: str) -> int:
        """How many features carry the property ``name``."""
        if not self.as_read:
            return len(self.props)
        values = self.as_read_props()[name].to_numpy(dtype=object)
        return int(len(values) - sum(map(_absent, values)))


def _absent(value) -> bool:
    """A cell of a feature that lacks the property (pandas fills it with a float NaN)."""
    return type(value) is float and value != value


class FeatureLocations(Sequence):
    """``"feature 0"``, ``"feature 1"``, ... made only for the features a message names (numbered from ``start``)."""

    def __init__(self, n: int, *, start: int = 0):
        self.n = n
        self.start = start

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if not -self.n <= int(i) < self.n:
            raise IndexError(i)
        return f"feature {self.start + int(i) % self.n}"


def records_frame(records: list[dict]) -> pd.DataFrame:
    """One row per feature, one object column per property name (values as read; NaN where a feature lacks the name)."""
    if not records or not any(records):
        return pd.DataFrame(index=pd.RangeIndex(len(records)))
    return pd.DataFrame(records, dtype=object)


class RecordColumns:
    """The properties of features given chunk by chunk, as one :func:`records_frame` of them all would hold them.

    Each chunk's values are kept as its columns (no dicts); :meth:`frame`
    places them in whole columns, NaN where a feature lacks the name, the
    columns in the order their names first appear.
    """

    def __init__(self):
        self.n = 0
        self.pieces: dict[str, list[tuple[int, np.ndarray]]] = {}

    def add(self, records: list[dict]) -> None:
        """Take the next chunk of features' properties (one dict per feature)."""
        chunk = records_frame(records)
        for name in chunk.columns:
            self.pieces.setdefault(name, []).append((self.n, chunk[name].to_numpy(dtype=object)))
        self.n += len(records)

    def frame(self) -> pd.DataFrame:
        """All features' properties: what :func:`records_frame` of all the records gives."""
        if not self.pieces:
            return pd.DataFrame(index=pd.RangeIndex(self.n))
        columns = {}
        for name, pieces in self.pieces.items():
            values = np.full(self.n, np.nan, dtype=object)
            for start, part in pieces:
                values[start:start + len(part)] = part
            columns[name] = values
        self.pieces = {}
        return pd.DataFrame(columns, index=pd.RangeIndex(self.n), dtype=object)


def find_column(columns, candidates) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def blank_as_none(df: pd.DataFrame) -> pd.DataFrame:
    """The table as object columns with every blank cell None."""
    out = {}
    for c in df.columns:
        v = df[c].to_numpy(dtype=object).copy()
        v[blank_mask(v)] = None
        out[c] = v
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), columns=list(df.columns), dtype=object)


def table_datum(values: pd.Series, rows: list[int], column: str, problems: list[str]) -> str | None:
    """Return the one datum a table's datum column names; report unknown or mixed values."""
    found: dict[str, list[int]] = {}
    cells = values.to_numpy(dtype=object)
    given = np.flatnonzero(~blank_mask(cells)).tolist()
    names: dict[str, str | None] = {}  # each distinct value named once
    for j in given:
        key = str(cells[j])
        if key not in names:
            try:
                names[key] = _crs.normalize_datum(cells[j])
            except DatumError:
                names[key] = None
        name = names[key]
        if name is None:
            problems.append(f"row {rows[j]}, field '{column}': unknown datum {cells[j]!r}; use wgs84, gcj02 (AMap, Tencent) or bd09 (Baidu)")
        else:
            found.setdefault(name, []).append(rows[j])
    if len(found) > 1:
        where = "; ".join(f"{d} in rows {row_list(ks)}" for d, ks in sorted(found.items()))
        problems.append(f"field '{column}': the file mixes datums ({where}); split it into one file per datum")
        return None
    return next(iter(found), None)


def row_list(rows: Sequence, limit: int = 10) -> str:
    """The first ``limit`` items joined with commas, then "and N more" when there are more."""
    text = ", ".join(map(str, rows[:limit]))
    return text + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
