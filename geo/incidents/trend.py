"""The Mann-Kendall test of a monotonic trend in a short series.

``S = sum over i < j of sign(x[j] - x[i])``; under "no trend" (the values in
random order) ``S`` has mean 0 and variance
``(n(n-1)(2n+5) - sum over ties t of t(t-1)(2t+5)) / 18``; with the continuity
correction ``Z = (S - 1)/sd`` for ``S > 0``, ``(S + 1)/sd`` for ``S < 0``, 0
otherwise, and the two-sided p-value is ``2 (1 - Phi(|Z|))``. Kendall's tau
is ``S / (n(n-1)/2)``. The normal approximation is rough below about 8
values; with 3 or fewer no trend can be called (p is NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class MannKendall:
    """Result of :func:`mann_kendall`."""

    s: int
    var_s: float
    z: float
    p_value: float
    tau: float


def mann_kendall(values) -> MannKendall:
    """Mann-Kendall trend test of ``values`` (in time order; NaN values are dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 4:
        return MannKendall(0, float("nan"), float("nan"), float("nan"), float("nan"))
    d = np.sign(x[None, :] - x[:, None])
    s = int(np.triu(d, k=1).sum())
    _, ties = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    if var <= 0:
        return MannKendall(s, var, 0.0, 1.0, 0.0)
    z = (s - 1) / np.sqrt(var) if s > 0 else (s + 1) / np.sqrt(var) if s < 0 else 0.0
    return MannKendall(s, float(var), float(z), float(2.0 * norm.sf(abs(z))), s / (n * (n - 1) / 2.0))
