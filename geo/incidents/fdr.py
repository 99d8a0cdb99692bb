"""Benjamini-Hochberg control of the false discovery rate.

When many cells or estates are tested at once, some pass a 5 % test by chance
alone (about 5 % of those with no real effect). The Benjamini-Hochberg (1995)
step-up procedure keeps the expected share of false findings among the
reported ones at most ``alpha`` (for independent or positively dependent
tests, which neighbouring grid cells are): sort the ``m`` p-values,
``p(1) <= ... <= p(m)``, find the largest ``k`` with ``p(k) <= k * alpha / m``
and reject the ``k`` smallest. The adjusted p-value (q-value) of ``p(i)`` is
``min over j >= i of m * p(j) / j``, capped at 1; a test is rejected exactly
when its adjusted p-value is at most ``alpha``.
"""

from __future__ import annotations

import numpy as np

#: Names of the corrections :func:`correct` knows, as written in outputs.
CORRECTIONS: dict[str, str] = {"fdr": "Benjamini-Hochberg FDR", "none": "none (each test at alpha; expect false positives)"}


def bh_adjust(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and is not counted among the tests).

    Parameters
    ----------
    pvalues
        Array of p-values in [0, 1]; NaN for "not tested".

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    v = p[ok]
    order = np.argsort(v, kind="stable")
    ranked = v[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def correct(pvalues, alpha: float, how: str = "fdr") -> tuple[np.ndarray, np.ndarray]:
    """Which tests are significant after a correction.

    Parameters
    ----------
    pvalues
        P-values (NaN: not tested, never significant).
    alpha
        Level: the false discovery rate for ``"fdr"``, the per-test level for ``"none"``.
    how
        ``"fdr"`` (Benjamini-Hochberg, default) or ``"none"``.

    Returns
    -------
    (significant, adjusted)
        Boolean array and the adjusted p-values (the p-values themselves for ``"none"``).
    """
    if how not in CORRECTIONS:
        msg = f"unknown correction {how!r}; use one of {', '.join(CORRECTIONS)}"
        raise ValueError(msg)
    p = np.asarray(pvalues, dtype=float)
    adj = bh_adjust(p) if how == "fdr" else p.copy()
    return np.isfinite(adj) & (adj <= alpha), adj
