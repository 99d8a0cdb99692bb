"""The 1-km rule: ``rule`` (statuses, shift filter), ``kernels`` (array kernels) and ``model`` (:class:`CoverageModel`).

Tables for users are in :mod:`geo.report`; extension proposals in :mod:`geo.extensions`.
"""

from __future__ import annotations

from geo.coverage.model import CoverageModel
from geo.coverage.rule import STATUS_LABELS_ZH, STATUSES

__all__ = ["STATUSES", "STATUS_LABELS_ZH", "CoverageModel"]
