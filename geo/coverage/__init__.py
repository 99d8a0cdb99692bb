"""The 1-km rule: ``rule`` (:class:`Rule`, statuses, shift filter), ``pairs`` (pair queries and summaries),
``kernels`` (array kernels) and ``model`` (:class:`CoverageModel`, :func:`solved_model`).

Tables for users are in :mod:`geo.report`; extension proposals in :mod:`geo.extensions`.
"""

from __future__ import annotations

from geo.coverage.model import CoverageModel, solved_model
from geo.coverage.rule import STATUS_LABELS_ZH, STATUSES, Rule

__all__ = ["STATUSES", "STATUS_LABELS_ZH", "CoverageModel", "Rule", "solved_model"]
