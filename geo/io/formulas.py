"""Text a spreadsheet would run as a formula, and the leading ``'`` that keeps it text.

Names of teams and estates come from data files; a cell such as
``=HYPERLINK(...)`` or ``@SUM(...)`` would otherwise run when a table is opened
in Excel or WPS. One rule (:data:`FORMULA_TRIGGERS`, and the blanks a
spreadsheet skips before them), applied to Python values
(:func:`formula_mask`, :func:`guard_formulas`) and to Arrow text by the CSV
writer (:func:`arrow_guarded`, the same rule as an RE2 expression).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo._validate import text_mask
from geo.io.arrow_text import cell_ends, patched

__all__ = ["FORMULA_STARTS", "FORMULA_TRIGGERS", "arrow_guarded", "formula_mask", "guard_cell", "guard_formulas", "guard_values", "is_formula_like"]

#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


#: What Excel and WPS skip before looking for a trigger: spaces, line breaks and other
#: control characters, no-break and ideographic spaces, the Unicode spaces and the BOM.
_FORMULA_BLANKS = "".join(chr(c) for c in range(33)) + "\x7f\xa0\u3000" + "".join(chr(c) for c in range(0x2000, 0x200C)) + "\u202f\u205f\ufeff"
#: A text a spreadsheet runs as a formula: a trigger first, or blanks then a trigger that is not itself a blank.
_FORMULA_RE = re.compile(
    "[" + re.escape("".join(FORMULA_TRIGGERS)) + "]|[" + re.escape(_FORMULA_BLANKS) + "]+["
    + re.escape("".join(t for t in FORMULA_TRIGGERS if t not in _FORMULA_BLANKS)) + "]"
)


#: Characters that may start a cell a spreadsheet runs as a formula: a trigger, or a blank it skips first.
FORMULA_STARTS = frozenset(FORMULA_TRIGGERS) | frozenset(_FORMULA_BLANKS)


#: :data:`FORMULA_STARTS` as code points, for :func:`numpy.isin` by table.
_STARTS = np.array(sorted(map(ord, FORMULA_STARTS)), dtype=np.uint32)


def formula_mask(values) -> np.ndarray:
    """:func:`is_formula_like` of every cell, as a bool array.

    The first character of every text cell is taken in one NumPy cast
    (``astype("U1")``) and compared as a code point; only the cells whose first
    character is in :data:`FORMULA_STARTS` go through the regular expression.
    (An empty cell reads as code point 0, the same as a leading NUL: empty
    cells are left out by comparison, cells that start with NUL go through the
    expression.)
    """
    if not (isinstance(values, np.ndarray) and values.dtype == object):
        values = np.fromiter(values, dtype=object) if not isinstance(values, np.ndarray) else values.astype(object)
    out = np.zeros(len(values), dtype=bool)
    if not len(values):
        return out
    text = np.flatnonzero(text_mask(values))
    firsts = values[text].astype("U1").view(np.uint32)  # each cell's first code point (0 for an empty cell)
    hit = np.isin(firsts, _STARTS, kind="table")
    zero = np.flatnonzero(firsts == 0)
    hit[zero] = values[text[zero]] != ""  # an empty cell is no formula (many in a report); a leading NUL goes on
    check = text[hit]
    match = _FORMULA_RE.match
    out[check] = [match(v) is not None for v in values[check].tolist()]
    return out


def is_formula_like(value: object) -> bool:
    """True when a spreadsheet would run ``value`` as a formula.

    Excel and WPS skip leading spaces, no-break spaces, line breaks and other
    control characters before looking for a trigger, so ``' =1+1'``,
    ``'\\n=1+1'`` and ``'\\xa0=1+1'`` count as formulas too.
    """
    return isinstance(value, str) and _FORMULA_RE.match(value) is not None


def guard_cell(value: object) -> object:
    """Return ``value`` prefixed by ``'`` when a spreadsheet would run it as a formula (:func:`is_formula_like`)."""
    return f"'{value}" if is_formula_like(value) else value


#: :data:`_FORMULA_RE` for RE2 (Arrow's regular expressions), anchored: every character as a code-point escape.
_FORMULA_RE2 = "^(?:[{}]|[{}]+[{}])".format(
    *("".join(f"\\x{{{ord(c):x}}}" for c in chars) for chars in (
        "".join(FORMULA_TRIGGERS), _FORMULA_BLANKS, "".join(t for t in FORMULA_TRIGGERS if t not in _FORMULA_BLANKS)))
)


def arrow_guarded(cells):
    """Arrow text cells with a ``'`` before each a spreadsheet would run as a formula (:func:`is_formula_like`).

    Only the cells whose first byte could begin a character of
    :data:`FORMULA_STARTS` are matched (:func:`geo.io.arrow_text.cell_ends`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ends = cell_ends(cells)
    rows = np.flatnonzero(ends.full & _STARTS_FIRST_BYTES[ends.data[ends.first]])
    if not len(rows):
        return cells
    risky = pc.match_substring_regex(cells.take(pa.array(rows)), _FORMULA_RE2).to_numpy(zero_copy_only=False)
    rows = rows[risky]
    return patched(cells, rows, ["'" + v for v in cells.take(pa.array(rows)).to_pylist()])


#: The first UTF-8 byte of each character of :data:`FORMULA_STARTS` (a table of 256).
_STARTS_FIRST_BYTES = np.zeros(256, dtype=bool)
_STARTS_FIRST_BYTES[[c.encode("utf-8")[0] for c in FORMULA_STARTS]] = True


def guard_values(values: np.ndarray) -> np.ndarray:
    """The cells of a column with a ``'`` before each a spreadsheet would run as a formula; ``values`` itself when none would."""
    risky = formula_mask(values)
    if not risky.any():
        return values
    out = np.array(values, dtype=object)
    out[risky] = ["'" + v for v in out[risky].tolist()]
    return out


def guard_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    Names of teams and estates come from data files; a cell such as
    ``=HYPERLINK(...)`` or ``@SUM(...)`` would otherwise run when the table is
    opened in Excel or WPS. Only ``str`` values are changed (numbers, including
    negative ones, stay numbers); ``df`` itself is not modified. Only cells
    whose first character could start a formula are matched (:func:`formula_mask`).
    """
    out = None
    for col in df.columns:
        series = df[col]
        if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
            continue
        values = series.to_numpy(dtype=object)
        guarded = guard_values(values)
        if guarded is values:
            continue
        if out is None:
            out = df.copy()
        out[col] = pd.Series(guarded, index=series.index, dtype=series.dtype)
    return df if out is None else out
