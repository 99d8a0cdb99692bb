"""Column-wise parsing of an incident import: blanks, degrees, labels and text cells of a whole chunk at once.

The importer checks a chunk of rows column by column with these helpers and
NumPy, pandas and Arrow operations (columns come as object arrays or Arrow text); a row that any of them cannot settle (an odd time
format, a full-width number, a label that maps nowhere, a swapped coordinate)
goes through the importer's row-by-row checks, which give the message. So the
fast path decides only what it is sure of, and every message stays the one a
row gets when checked alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.io.arrow_text import patched
from geo.io.formulas import arrow_guarded, formula_mask

if TYPE_CHECKING:
    from geo.incidents.cells import Chunk


def empty_rows(chunk: Chunk) -> np.ndarray:
    """True for rows whose every cell is blank; each column is looked at only on the rows still in question."""
    out = np.ones(len(chunk), dtype=bool)
    for name in chunk.names:
        rows = np.flatnonzero(out)
        if not len(rows):
            break
        out[rows] = chunk.blank(name, rows)
    return out


def degrees(values) -> np.ndarray:
    """Degrees of text cells (an object array, or Arrow text) as float64, NaN where blank, not a plain number or not finite.

    A whole column converts with ``float`` semantics in one call; a column with
    any cell that ``float`` refuses (full-width digits, ``108.3°E``) is read
    cell by cell with :func:`geo._validate.parse_degrees`, whose answer is the
    same for every plain number.
    """
    from geo._validate import parse_degrees

    out = _arrow_degrees(values)
    if out is None:
        values = _objects(values)
        try:
            out = values.astype(np.float64)
        except (TypeError, ValueError):
            out = np.array([np.nan if (d := parse_degrees(v)) is None else d for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _arrow_degrees(values) -> np.ndarray | None:
    """The cells (text or None) parsed by Arrow, NaN for None; None when any cell is not text or Arrow refuses one.

    Arrow takes only plain ASCII numbers (no spaces, underscores, full-width
    digits or degree signs, which ``float`` or :func:`geo._validate.parse_degrees`
    read), and rounds them correctly, as ``float`` does: where it reads a
    whole column, each value is ``float``'s. Anything else is left to them.
    """
    import pyarrow as pa

    try:
        cells = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        return cells.cast(pa.float64()).to_numpy(zero_copy_only=False, writable=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def map_unique(values, fn: Callable, *, errors: tuple[type[Exception], ...] = (ValueError,), text: bool = False) -> tuple:
    """Apply ``fn`` once per distinct value (missing values as None) and spread the answers.

    ``values``: an object array, or Arrow text (distinct values found by Arrow).

    Returns
    -------
    answers : numpy.ndarray of object, or Arrow text
        ``fn(value)`` per cell; None where it raised one of ``errors``. With
        ``text`` (answers that are text or None), an Arrow ``string`` array
        made from the distinct answers, without a Python object per cell.
    failed : numpy.ndarray of bool
        True where ``fn`` raised.
    """
    codes, uniques = _factorize(values)
    return _spread(codes + 1, [None, *uniques], fn, errors, text)


def map_unique_pairs(a, b, fn: Callable, *, errors: tuple[type[Exception], ...] = (ValueError,), text: bool = False) -> tuple:
    """Like :func:`map_unique` for two columns: ``fn(a, b)`` once per distinct pair."""
    inverse, pairs = _pairs(a, b)
    return _spread(inverse, pairs, lambda p: fn(*p), errors, text)


def map_unique_pairs_text(a, b, fn: Callable, fields: int, *, errors: tuple[type[Exception], ...] = (ValueError,)) -> tuple:
    """Like :func:`map_unique_pairs` for an ``fn`` that answers ``fields`` texts (or None): one Arrow text array per field.

    Returns
    -------
    answers : tuple of pyarrow.Array
        The ``k``-th text of ``fn(a, b)`` per cell, null where ``fn`` raised one of ``errors``.
    failed : numpy.ndarray of bool
        True where ``fn`` raised.
    """
    inverse, pairs = _pairs(a, b)
    answers, failed = _spread(np.arange(len(pairs)), pairs, lambda p: fn(*p), errors)
    parts = tuple(_arrow_spread([None if x is None else x[k] for x in answers.tolist()], inverse) for k in range(fields))
    return parts, failed[inverse]


def _pairs(a, b) -> tuple[np.ndarray, list[tuple]]:
    """The index of each cell's pair in the distinct pairs, and the distinct pairs (missing values as None)."""
    ca, ua = _factorize(a)
    cb, ub = _factorize(b)
    width = len(ub) + 1
    keys = (ca.astype(np.int64) + 1) * width + (cb + 1)
    if (len(ua) + 1) * width <= _PAIR_TABLE_MAX:
        # few labels (the usual case): the distinct keys, in order, from a table instead of a sort
        seen = np.zeros((len(ua) + 1) * width, dtype=bool)
        seen[keys] = True
        codes = np.flatnonzero(seen)
        lookup = np.zeros(len(seen), dtype=np.int64)
        lookup[codes] = np.arange(len(codes))
        inverse = lookup[keys]
    else:
        codes, inverse = np.unique(keys, return_inverse=True)
    va, vb = [None, *ua], [None, *ub]
    return inverse.reshape(-1), [(va[c // width], vb[c % width]) for c in codes.tolist()]


#: Label pairs up to which :func:`_pairs` finds the distinct pairs by a table (a byte per possible pair).
_PAIR_TABLE_MAX = 1 << 22


def _factorize(values) -> tuple[np.ndarray, list]:
    """Codes (-1 for missing) and the distinct values, in order of appearance: :func:`pandas.factorize` of objects, or of Arrow text."""
    import pyarrow as pa

    if isinstance(values, pa.Array):
        encoded = values.dictionary_encode()
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return codes, uniques.tolist()


def _objects(values) -> np.ndarray:
    """An object array of the cells (Arrow text as str and None)."""
    import pyarrow as pa

    return values.to_numpy(zero_copy_only=False) if isinstance(values, pa.Array) else np.asarray(values, dtype=object)


def _spread(inverse: np.ndarray, uniques: list, call: Callable, errors, text: bool = False) -> tuple:
    answers = np.empty(len(uniques), dtype=object)
    failed = np.zeros(len(uniques), dtype=bool)
    for k, u in enumerate(uniques):
        try:
            answers[k] = call(u)
        except errors:
            answers[k] = None
            failed[k] = True
    if text:
        return _arrow_spread(answers.tolist(), inverse), failed[inverse]
    return answers[inverse], failed[inverse]


def _arrow_spread(answers: list, inverse: np.ndarray):
    """Arrow text of ``answers[inverse]`` (texts or None), made from the distinct answers."""
    import pyarrow as pa

    return pa.array(answers, type=pa.string()).take(pa.array(inverse, type=pa.int64()))


def guard_texts(values):
    """:func:`geo.io.writers.guard_cell` of every cell; only cells whose first character could start a formula are looked at.

    Arrow text (no nulls) is guarded by Arrow (:func:`geo.io.formulas.arrow_guarded`, the same rule).
    """
    import pyarrow as pa

    if isinstance(values, pa.Array):
        return arrow_guarded(values)
    values = np.asarray(values, dtype=object)
    risky = np.flatnonzero(formula_mask(values))
    if not len(risky):
        return values
    out = values.copy()
    for i in risky.tolist():
        out[i] = f"'{out[i]}"
    return out


def fixed_text(values: np.ndarray, decimals: int):
    """Numbers as Arrow ``large_string`` text with ``decimals`` decimals: ``f"{v:.7f}"``, correctly rounded, for every value.

    A value that is the float nearest to a number of ``decimals`` decimals
    (see :func:`exact_decimals`; every coordinate read from a file is, unless
    its datum was converted) is that number's text, written from its integer
    digits in NumPy: right-aligned in fixed-width rows, whose padding Arrow
    trims, without a Python string per value. The others (converted datums,
    NaN) are formatted by Python.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    v = np.asarray(values, dtype=np.float64)
    python = f"{{:.{decimals}f}}".format
    rows, exact = _fixed_rows(v, decimals)
    if rows is None:
        return pa.array(list(map(python, v.tolist())), type=pa.large_string())
    offsets = np.arange(len(v) + 1, dtype=np.int64) * rows.shape[1]
    padded = pa.Array.from_buffers(pa.large_string(), len(v), [None, pa.py_buffer(offsets), pa.py_buffer(rows)])
    odd = np.flatnonzero(~exact)
    return patched(pc.ascii_ltrim(padded, " "), odd, [python(x) for x in v[odd].tolist()])


def _fixed_rows(v: np.ndarray, decimals: int) -> tuple[np.ndarray | None, np.ndarray]:
    """The exact values of :func:`fixed_text` as right-aligned ASCII rows (spaces before), and which values they are.

    None for the rows when no value is exact (or ``decimals`` is below 1); the rows of the other values are blank.
    """
    exact, k = exact_decimals(v, decimals)
    if decimals < 1 or not exact.any():
        return None, exact
    whole = np.abs(np.where(exact, k, 0.0)).astype(np.int64)
    head, tail = np.divmod(whole, 10**decimals)
    head, tail = head.astype(np.int32), tail.astype(np.int32)  # below 1e6 and 1e9: the digits in 32-bit steps
    digits = np.ones(len(v), dtype=np.int64)  # digits before the point (at least one)
    for d in range(1, _WHOLE_DIGITS):
        digits += head >= 10**d
    width = 1 + _WHOLE_DIGITS + 1 + decimals  # sign, whole digits, point, decimals
    rows = np.full((len(v), width), ord(" "), dtype=np.uint8)
    point = width - 1 - decimals
    rows[:, point] = ord(".")
    for d in range(decimals):
        rows[:, width - 1 - d] = tail % 10 + 48
        tail //= 10
    for d in range(_WHOLE_DIGITS):
        column = head % 10 + 48
        rows[:, point - 1 - d] = np.where(digits > d, column, ord(" "))
        head //= 10
    minus = np.flatnonzero(np.signbit(v) & exact)
    rows[minus, point - 1 - digits[minus]] = ord("-")
    return rows, exact


#: Digits before the point of the values :func:`exact_decimals` allows (below 1e6).
_WHOLE_DIGITS = 6


def exact_decimals(values: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Which values are the float nearest to a number of ``decimals`` decimals, and that number times ``10**decimals``.

    For the integer ``k`` nearest ``v * 10**decimals``, one correctly rounded
    division tells it: ``k / 10**decimals == v``. Such a value lies within
    half its float step of ``k / 10**decimals``; below :data:`_EXACT_BELOW` that
    step is at most 2**-33 (about 1.2e-10), far under a 9th decimal, so its
    text with ``decimals`` decimals (up to 9) is that number's, and reads back
    as the value itself.
    """
    v = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.rint(v * scale)
        exact = (np.abs(v) < _EXACT_BELOW) & (k / scale == v) if decimals <= 9 else np.zeros(len(v), dtype=bool)
    return exact, k


#: Values below this are written by :func:`fixed_text` and kept by :func:`stored_degrees` from their digits (see
#: :func:`exact_decimals`).
_EXACT_BELOW = 1e6


def stored_degrees(values: np.ndarray, decimals: int) -> np.ndarray:
    """``float(f"{v:.{decimals}f}")`` of every value, as float64: the number the text store holds, without the text.

    A value that is already the float nearest to a number of ``decimals``
    decimals (:func:`exact_decimals`: every coordinate read from a file,
    unless its datum was converted) is its own answer. The others (converted
    datums, NaN) go through Python's text as before.
    """
    v = np.array(values, dtype=np.float64)
    exact, _ = exact_decimals(v, decimals)
    odd = np.flatnonzero(~exact)
    if len(odd):
        text = f"{{:.{decimals}f}}".format
        v[odd] = [float(text(x)) for x in v[odd].tolist()]
    return v
