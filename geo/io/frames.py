"""Validation of a whole table of features at once: column operations, the same messages as feature by feature.

:func:`check_table` is :func:`geo._validate.check_frame` for properties held
as a table (one column per property) instead of one dict per feature, as the
readers of :mod:`geo.io.features` build them in bulk. Each field is checked
with column operations; only the cells that are not plain values of the
field's kind (text for text, whole numbers for whole numbers...) go through
:func:`geo._validate.coerce` one by one, so every problem reads exactly as
``check_frame`` words it, with its feature or row number.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._validate import FALSE_WORDS, KIND_WORDS, TRUE_WORDS, check_geometries, coerce, is_blank, typed_frame
from geo.io.parts import ColumnFacts
from geo.schemas import Schema

__all__ = ["FeatureLabels", "check_table", "stripped"]

_NONE = type(None)


class FeatureLabels(Sequence):
    """Where each feature is, as messages name it, built only for the features a message names.

    ``labels[i]`` is ``"feature i (SH-04)"``: the location, then the id when the
    feature has one that can be shown (text that is not blank, or a number);
    the same rule as :func:`geo._validate.check_frame`.

    Parameters
    ----------
    ids
        The raw id of each feature (object array).
    locations
        The location of each feature (``"row 5"``), or None for ``"feature i"``.
    """

    def __init__(self, ids: np.ndarray, locations: Sequence[str] | None = None):
        self.ids = ids
        self.locations = locations

    def location(self, i: int) -> str:
        return f"feature {i}" if self.locations is None else self.locations[i]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = int(i)
        loc, fid = self.location(i), self.ids[i]
        if is_blank(fid) or isinstance(fid, (dict, list)):
            return loc
        return f"{loc} ({fid})"


def _types(values: np.ndarray) -> np.ndarray:
    """The Python type of every value (an object array), in one pass at C speed."""
    return _TYPE_OF(values) if len(values) else np.zeros(0, dtype=object)


_TYPE_OF = np.frompyfunc(type, 1, 1)


def stripped(values: np.ndarray) -> np.ndarray:
    """``str.strip`` of every value of an array of text (an object array)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [v.strip() for v in values.tolist()]
    return out


def _missing(values: np.ndarray, types: np.ndarray) -> np.ndarray:
    """Which values are blank in the sense of :func:`geo._validate.is_blank`: None, NaN, pandas' NA, whitespace text."""
    return _missing_and_stripped(values, types)[0]


def _missing_and_stripped(values: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_missing`, and every value stripped where it is text (None elsewhere), each text stripped once."""
    out = pd.isna(values)
    texts = np.full(len(values), None, dtype=object)
    text = np.equal(types, str)
    if text.any():
        texts[text] = stripped(values[text])
        out[text] = texts[text] == ""
    return out, texts


def _numbers_in_text(values: np.ndarray, types: np.ndarray, missing: np.ndarray, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ASCII text cells and their value as ``float(text.strip())`` (NaN where that fails).

    ``texts`` holds each text value stripped (:func:`_missing_and_stripped`).

    What :func:`coerce` does to such text, for the whole column at once (other
    text, e.g. full-width digits, is left to :func:`coerce`).
    """
    text = np.equal(types, str) & ~missing
    if not text.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    cells = pd.Series(values[text], dtype=object)
    ascii_ = cells.map(str.isascii).to_numpy(dtype=bool)
    idx = np.flatnonzero(text)[ascii_]
    texts = texts[idx]
    try:
        return idx, texts.astype(float)
    except (ValueError, OverflowError):  # some cell is not a number: parse one by one, NaN for those
        out = np.full(len(texts), np.nan)
        for k, t in enumerate(texts.tolist()):
            try:
                out[k] = float(t)
            except (ValueError, OverflowError):
                pass
        return idx, out


def _typed_column(values: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plain values of a field of ``kind`` typed in bulk.

    Returns
    -------
    (typed, plain, missing)
        ``typed`` holds the typed value where ``plain``; ``missing`` marks blank
        cells; the rest (neither) need :func:`coerce` one by one.
    """
    if kind == "str":
        every = _all_text(values)
        if every is not None:
            missing = every == ""
            every[missing] = None
            return every, ~missing, missing
    types = _types(values)
    missing, texts = _missing_and_stripped(values, types)
    typed = np.full(len(values), None, dtype=object)
    plain = np.zeros(len(values), dtype=bool)
    if kind == "str":
        plain[:] = np.equal(types, str) & ~missing
        typed[plain] = texts[plain]
    elif kind == "int":
        plain[:] = np.equal(types, int)
        typed[plain] = values[plain]
        idx, f = _numbers_in_text(values, types, missing, texts)
        whole = np.isfinite(f) & (np.floor(f) == f)
        typed[idx[whole]] = [int(v) for v in f[whole].tolist()]
        plain[idx[whole]] = True
    elif kind == "float":
        plain[:] = np.equal(types, int)
        typed[plain] = values[plain].astype(float)
        floats = np.equal(types, float) & ~missing
        if floats.any():
            f = values[floats].astype(float)
            ok = np.isfinite(f)
            idx = np.flatnonzero(floats)[ok]
            typed[idx] = f[ok]
            plain[idx] = True
        idx, f = _numbers_in_text(values, types, missing, texts)
        ok = np.isfinite(f)
        typed[idx[ok]] = f[ok]
        plain[idx[ok]] = True
    elif kind == "bool":
        plain[:] = np.equal(types, bool)
        typed[plain] = values[plain]
        text = np.equal(types, str) & ~missing
        if text.any():
            words = pd.Series(values[text], dtype=object).str.strip().str.lower()
            idx = np.flatnonzero(text)
            for known, flag in ((TRUE_WORDS, True), (FALSE_WORDS, False)):
                hit = idx[words.isin(list(known)).to_numpy()]
                typed[hit] = flag
                plain[hit] = True
    else:
        msg = f"unknown field kind {kind!r}"
        raise AssertionError(msg)
    return typed, plain & ~missing, missing & ~plain


def _all_text(values: np.ndarray) -> np.ndarray | None:
    """Every value stripped, when every value is text (the usual column of a text field); else None.

    One pass for the types and one for the stripping, without the masks and
    copies the general rule needs for columns of mixed values.
    """
    cells = values.tolist()
    if not cells or set(map(type, cells)) != {str}:
        return None
    out = np.empty(len(cells), dtype=object)
    out[:] = [v.strip() for v in cells]
    return out


def _typed_from_facts(facts: ColumnFacts, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """What :func:`_typed_column` gives for a column the reader typed itself, or None when its type is not the field's kind.

    Text for a text field, whole numbers for a whole-number field, numbers for
    a number field, booleans for a flag; other pairs (numbers given as text...)
    go through :func:`_typed_column`.
    """
    missing = facts.missing
    if facts.kind == kind == "str":
        typed = facts.values.copy()
        typed[missing] = None
        return typed, ~missing, missing.copy()
    if facts.kind == kind and kind in {"int", "bool"}:
        typed = facts.values.astype(object)  # Python ints and bools
        typed[missing] = None
        return typed, ~missing, missing.copy()
    if kind == "float" and facts.kind in {"int", "float"}:
        f = facts.values.astype(float)
        plain = ~missing & np.isfinite(f)
        typed = np.full(len(f), None, dtype=object)
        typed[plain] = f[plain]
        return typed, plain, missing.copy()  # infinities are neither: coerce words their problem
    return None


def check_table(
    props: pd.DataFrame,
    geoms: np.ndarray,
    schema: Schema,
    *,
    checkable: np.ndarray | None = None,
    locations: Sequence[str] | None = None,
    check_coordinates: bool = True,
    key_count: Callable[[str], int] | None = None,
    facts: dict[str, ColumnFacts] | None = None,
) -> tuple[list[str], gpd.GeoDataFrame | None]:
    """Validate a table of feature properties and their geometries against ``schema``.

    The same checks, messages and result as :func:`geo._validate.check_frame`,
    on columns.

    Parameters
    ----------
    props
        One row per feature, one column per property name found in any
        feature; object columns keep the values as read (absent: NaN or None).
    geoms
        One shapely geometry (or None) per feature.
    schema
        The schema.
    checkable
        Which geometries to check (False where the geometry could not be built
        and that was reported already); default all.
    locations
        Where each feature is (``"row 5"``); default ``"feature i"``, from 0.
    check_coordinates
        False to skip the geometry checks.
    key_count
        How many features carry a property name (for the message of an unknown
        field); default: every feature (tables, where each row has every column).
    facts
        Columns the reader typed itself (:class:`geo.io.parts.ColumnFacts`),
        by name; a field whose column is typed as its kind is taken from here
        without looking at its cells. ``props`` must hold the same values.

    Returns
    -------
    (problems, gdf)
        Every problem, one string each, and the typed GeoDataFrame in EPSG:4326
        (None when there are problems).
    """
    n = len(props)
    geoms = np.asarray(geoms, dtype=object)
    columns = [str(c) for c in props.columns]
    props = props.set_axis(columns, axis=1)
    raw = {c: props[c].to_numpy(dtype=object) for c in columns}
    ids = raw.get(schema.id_field, np.full(n, None, dtype=object))
    labels = FeatureLabels(ids, locations)
    problems: list[str] = []

    known = set(schema.field_index)
    for name in sorted(c for c in columns if c not in known and not c.startswith(schema.extra_prefix)):
        count = n if key_count is None else key_count(name)
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            f"field '{name}': unknown in this {schema.name} file ({count} feature{'s' if count != 1 else ''}); {hint}"
            f"rename it to a schema field or prefix it with '{schema.extra_prefix}' to keep it as your own"
        )

    typed_columns: dict[str, np.ndarray] = {}
    id_text = None  # the ids stripped, None where blank, when every id given is text
    for f in schema.fields:
        values = raw.get(f.name)
        if values is None or (not f.required and pd.isna(values).all()):
            if f.required:
                values = np.full(n, None, dtype=object)
            else:
                continue  # an optional field no feature gives: nothing to check
        need = f"every {schema.name} feature needs {f.description or 'it'}"
        given = None if facts is None or f.name not in facts else _typed_from_facts(facts[f.name], f.kind)
        typed, plain, missing = given if given is not None else _typed_column(values, f.kind)
        if f.name == schema.id_field and f.kind == "str" and (plain | missing).all():
            id_text = typed.copy()  # before a choice or a coercion changes it
        found: list[tuple[int, str]] = []
        if f.required:
            found += [(i, f"{labels[i]}, field '{f.name}': missing; {need}") for i in np.flatnonzero(missing).tolist()]
        good = plain.copy()
        for i in np.flatnonzero(~plain & ~missing).tolist():  # odd cells: the one-by-one rule and its message
            try:
                typed[i] = coerce(values[i], f.kind)
                good[i] = True
            except ValueError as exc:
                found.append((i, f"{labels[i]}, field '{f.name}': {values[i]!r} {exc}; expected {KIND_WORDS[f.kind]}"))
        if f.choices is not None and good.any():
            idx = np.flatnonzero(good)
            bad = idx[~pd.Series(typed[idx], dtype=object).isin(list(f.choices)).to_numpy()]
            choices = ", ".join(map(str, f.choices))
            found += [(i, f"{labels[i]}, field '{f.name}': {typed[i]!r} is not allowed; use one of {choices}") for i in bad.tolist()]
            good[bad] = False
            typed[bad] = None
        found.sort(key=lambda p: p[0])
        problems += [m for _, m in found]
        typed[~good] = None
        typed_columns[f.name] = typed

    problems += _duplicate_ids(ids, labels, schema.id_field, id_text)

    real = geoms.copy()
    ok = np.ones(n, dtype=bool) if checkable is None else np.asarray(checkable, dtype=bool)
    real[~ok] = None
    if check_coordinates:
        idx = np.flatnonzero(ok)
        problems += check_geometries(real[idx], _Subset(labels, idx), schema)

    if problems:
        return problems, None
    extras = {}
    for k in sorted((c for c in columns if c.startswith(schema.extra_prefix)), key=str):
        v = raw[k].copy()
        v[pd.isna(v)] = None
        extras[k] = v
    return [], typed_frame(schema, typed_columns, extras, real)


class _Subset(Sequence):
    """``labels`` seen through positions ``idx`` (lazily)."""

    def __init__(self, labels: Sequence[str], idx: np.ndarray):
        self.labels, self.idx = labels, idx

    def __len__(self) -> int:
        return len(self.idx)

    def __getitem__(self, i):
        return self.labels[int(self.idx[i])]


def _duplicate_ids(ids: np.ndarray, labels: FeatureLabels, id_field: str, id_text: np.ndarray | None = None) -> list[str]:
    """One problem per id used more than once, naming every feature that uses it (ids in sorted order).

    ``id_text``: the ids already stripped (None where blank), as the id field's
    check typed them when every id given is text; otherwise each id is keyed here.
    """
    if id_text is not None:
        idx = np.flatnonzero(pd.notna(id_text))
        keys = pd.Series(id_text[idx], dtype=object)
    else:
        types = _types(ids)
        usable = ~_missing(ids, types) & ~np.equal(types, dict) & ~np.equal(types, list)
        idx = np.flatnonzero(usable)
        keys = pd.Series(ids[idx], dtype=object)
        text = np.equal(types[idx], str)
        keys[text] = stripped(ids[idx][text])
        keys[~text] = keys[~text].map(lambda v: str(v).strip())
    if not len(idx):
        return []
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return []
    where: dict[str, list[str]] = {}
    for key, i in zip(keys[dup].tolist(), idx[dup].tolist(), strict=True):
        where.setdefault(key, []).append(labels.location(i))
    return [
        f"field '{id_field}': id {fid!r} is used {len(locs)} times ({', '.join(locs)}); ids must be unique"
        for fid, locs in sorted(where.items())
    ]
