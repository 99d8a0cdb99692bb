"""The incident filters every view shares: category, source, period and hours of day.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from geo.incidents.store import IncidentArrays
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES
from geo.incidents.times import period_bounds


def filter_mask(
    inc: IncidentArrays,
    *,
    categories: Iterable[str] | None = None,
    sources: Iterable[str] | None = None,
    start=None,
    end=None,
    hours: Iterable[int] | None = None,
) -> np.ndarray:
    """Boolean mask of the incidents that pass the filters.

    Parameters
    ----------
    categories, sources
        Names of :data:`~geo.incidents.CATEGORY_NAMES` / :data:`~geo.incidents.SOURCE_NAMES`; None: all.
    start, end
        Period (see :func:`geo.incidents.period_bounds`; ``end`` inclusive).
    hours
        Hours of day 0-23 to keep (e.g. ``range(20, 24)`` and ``range(0, 6)`` for night); None: all.
    """
    mask = np.ones(len(inc), dtype=bool)
    if categories is not None:
        mask &= np.isin(inc.category, _codes(categories, CATEGORY_NAMES, "category"))
    if sources is not None:
        mask &= np.isin(inc.source, _codes(sources, SOURCE_NAMES, "source"))
    lo, hi = period_bounds(start, end)
    if lo is not None:
        mask &= inc.time_s >= lo
    if hi is not None:
        mask &= inc.time_s < hi
    if hours is not None:
        hs = np.asarray(sorted({int(h) for h in hours}), dtype=np.int64)
        if len(hs) and (hs.min() < 0 or hs.max() > 23):
            msg = f"hours must lie in 0-23, got {hs.tolist()}"
            raise ValueError(msg)
        table = np.zeros(24, dtype=bool)
        table[hs] = True
        mask &= table[(inc.time_s // 3600) % 24]
    return mask


def _codes(names, all_names: tuple[str, ...], what: str) -> list[int]:
    names = [names] if isinstance(names, str) else list(names)
    bad = [n for n in names if n not in all_names]
    if bad:
        msg = f"unknown {what} {bad}; use {', '.join(all_names)}"
        raise ValueError(msg)
    return [all_names.index(n) for n in names]
