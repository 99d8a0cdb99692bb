"""How statistics are written for people: p-values and the one-line method note.

Every table of the incident analyses (command line and app) carries one line
that says which method produced it, which multiple-testing correction was
applied and what the figures cannot show (:func:`method_line`). P-values are
written by :func:`format_p` everywhere, so ``0.0004`` reads ``< 0.001`` on the
command line, in exported tables and in the app alike.
"""

from __future__ import annotations

import math

#: Smallest p-value written as a number; anything below reads ``< 0.001``.
P_FLOOR = 0.001


def format_p(p) -> str:
    """Write a p-value for readers.

    Parameters
    ----------
    p
        A p-value in [0, 1], or None/NaN for "not tested".

    Returns
    -------
    str
        ``"< 0.001"`` below :data:`P_FLOOR`; three decimals below 0.1
        (``"0.034"``); two above (``"0.52"``); ``"1"`` for 1; ``"–"`` when
        missing.

    Raises
    ------
    ValueError
        If ``p`` is a number outside [0, 1].
    """
    if p is None:
        return "–"
    try:
        v = float(p)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(v):
        return "–"
    if v < 0 or v > 1:
        msg = f"{p!r} is not a p-value (it must lie between 0 and 1)"
        raise ValueError(msg)
    if v < P_FLOOR:
        return "< 0.001"
    if v >= 1:
        return "1"
    if v < 0.1:
        return f"{v:.3f}"
    return f"{v:.2f}"


def method_line(method: str, correction: str, caveat: str) -> str:
    """One line that states a table's method, its multiple-testing correction and its caveat.

    Parameters
    ----------
    method
        What was computed, e.g. ``"Getis-Ord Gi*, 999 permutations"``.
    correction
        The multiple-testing correction, e.g. ``"Benjamini-Hochberg FDR 5 %"``,
        or ``"none"``.
    caveat
        What the figures do not show, e.g. ``"association, not proof of cause"``.
    """
    return f"method: {method} | correction: {correction} | caveat: {caveat}"
