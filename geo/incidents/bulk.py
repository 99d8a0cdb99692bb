"""Column-wise parsing of an incident import: blanks, degrees, labels and text cells of a whole chunk at once.

The importer checks a chunk of rows column by column with these helpers and
NumPy/pandas operations; a row that any of them cannot settle (an odd time
format, a full-width number, a label that maps nowhere, a swapped coordinate)
goes through the importer's row-by-row checks, which give the message. So the
fast path decides only what it is sure of, and every message stays the one a
row gets when checked alone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo._validate import blank_mask
from geo.io.writers import formula_mask


def empty_rows(frame: pd.DataFrame) -> np.ndarray:
    """True for rows whose every cell is blank; each column is looked at only on the rows still in question."""
    out = np.ones(len(frame), dtype=bool)
    for j in range(frame.shape[1]):
        rows = np.flatnonzero(out)
        if not len(rows):
            break
        out[rows] = blank_mask(frame.iloc[rows, j].to_numpy(dtype=object))
    return out


def stripped_text(values: np.ndarray) -> np.ndarray:
    """Text cells stripped of surrounding whitespace; None for blank, missing and non-text cells (object array)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [(v.strip() or None) if type(v) is str else None for v in np.asarray(values, dtype=object).tolist()]
    return out


def degrees(values: np.ndarray) -> np.ndarray:
    """Degrees of text cells as float64, NaN where blank, not a plain number or not finite.

    A whole column converts with ``float`` semantics in one call; a column with
    any cell that ``float`` refuses (full-width digits, ``108.3°E``) is read
    cell by cell with :func:`geo._validate.parse_degrees`, whose answer is the
    same for every plain number.
    """
    from geo._validate import parse_degrees

    values = np.asarray(values, dtype=object)
    out = _arrow_degrees(values)
    if out is None:
        try:
            out = values.astype(np.float64)
        except (TypeError, ValueError):
            out = np.array([np.nan if (d := parse_degrees(v)) is None else d for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _arrow_degrees(values: np.ndarray) -> np.ndarray | None:
    """The cells (text or None) parsed by Arrow, NaN for None; None when any cell is not text or Arrow refuses one.

    Arrow takes only plain ASCII numbers (no spaces, underscores, full-width
    digits or degree signs, which ``float`` or :func:`geo._validate.parse_degrees`
    read), and rounds them correctly, as ``float`` does: where it reads a
    whole column, each value is ``float``'s. Anything else is left to them.
    """
    import pyarrow as pa

    try:
        return pa.array(values, type=pa.string()).cast(pa.float64()).to_numpy(zero_copy_only=False, writable=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None


def map_unique(values: np.ndarray, fn: Callable, *, errors: tuple[type[Exception], ...] = (ValueError,)) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` once per distinct value (missing values as None) and spread the answers.

    Returns
    -------
    answers : numpy.ndarray of object
        ``fn(value)`` per cell; None where it raised one of ``errors``.
    failed : numpy.ndarray of bool
        True where ``fn`` raised.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return _spread(codes + 1, [None, *uniques.tolist()], fn, errors)


def map_unique_pairs(a: np.ndarray, b: np.ndarray, fn: Callable, *, errors: tuple[type[Exception], ...] = (ValueError,)) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`map_unique` for two columns: ``fn(a, b)`` once per distinct pair."""
    ca, ua = pd.factorize(np.asarray(a, dtype=object), use_na_sentinel=True)
    cb, ub = pd.factorize(np.asarray(b, dtype=object), use_na_sentinel=True)
    width = len(ub) + 1
    codes, inverse = np.unique((ca.astype(np.int64) + 1) * width + (cb + 1), return_inverse=True)
    va, vb = [None, *ua.tolist()], [None, *ub.tolist()]
    pairs = [(va[c // width], vb[c % width]) for c in codes.tolist()]
    return _spread(inverse.reshape(-1), pairs, lambda p: fn(*p), errors)


def _spread(inverse: np.ndarray, uniques: list, call: Callable, errors) -> tuple[np.ndarray, np.ndarray]:
    answers = np.empty(len(uniques), dtype=object)
    failed = np.zeros(len(uniques), dtype=bool)
    for k, u in enumerate(uniques):
        try:
            answers[k] = call(u)
        except errors:
            answers[k] = None
            failed[k] = True
    return answers[inverse], failed[inverse]


def guard_texts(values: np.ndarray) -> np.ndarray:
    """:func:`geo.io.writers.guard_cell` of every cell; only cells whose first character could start a formula are looked at."""
    values = np.asarray(values, dtype=object)
    risky = np.flatnonzero(formula_mask(values))
    if not len(risky):
        return values
    out = values.copy()
    for i in risky.tolist():
        out[i] = f"'{out[i]}"
    return out


def fixed(values: np.ndarray, decimals: int) -> list[str]:
    """Numbers as text with ``decimals`` decimals: ``f"{v:.7f}"``, correctly rounded, for every value.

    A value that is the float nearest to a number of ``decimals`` decimals
    (see :func:`exact_decimals`; every coordinate read from a file is, unless
    its datum was converted) is that number's text, written from its integer
    digits in NumPy: right-aligned in fixed-width rows, whose padding
    ``str.split`` drops while it makes the strings. The others (converted
    datums, NaN) are formatted by Python.
    """
    v = np.asarray(values, dtype=np.float64)
    python = f"{{:.{decimals}f}}".format
    exact, k = exact_decimals(v, decimals)
    if decimals < 1 or not exact.any():
        return list(map(python, v.tolist()))
    whole = np.abs(np.where(exact, k, 0.0)).astype(np.int64)
    head, tail = np.divmod(whole, 10**decimals)
    head, tail = head.astype(np.int32), tail.astype(np.int32)  # below 1e6 and 1e9: the digits in 32-bit steps
    digits = np.ones(len(v), dtype=np.int64)  # digits before the point (at least one)
    for d in range(1, _WHOLE_DIGITS):
        digits += head >= 10**d
    width = 1 + _WHOLE_DIGITS + 1 + decimals + 1  # sign, whole digits, point, decimals, line break
    rows = np.full((len(v), width), ord(" "), dtype=np.uint8)
    rows[:, -1] = ord("\n")
    point = width - 2 - decimals
    rows[:, point] = ord(".")
    for d in range(decimals):
        rows[:, width - 2 - d] = tail % 10 + 48
        tail //= 10
    for d in range(_WHOLE_DIGITS):
        column = head % 10 + 48
        rows[:, point - 1 - d] = np.where(digits > d, column, ord(" "))
        head //= 10
    minus = np.flatnonzero(np.signbit(v) & exact)
    rows[minus, point - 1 - digits[minus]] = ord("-")
    out = rows.tobytes().decode("ascii").split()
    for i in np.flatnonzero(~exact).tolist():
        out[i] = python(float(v[i]))
    return out


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


#: Values below this are written by :func:`fixed` and kept by :func:`stored_degrees` from their digits (see
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
