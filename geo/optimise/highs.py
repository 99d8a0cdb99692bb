"""A 0/1 linear programme solved by HiGHS (through ``highspy``), started from a known plan.

HiGHS accepts a feasible plan before it starts (``setSolution``): its branch
and bound then prunes every branch that cannot beat that plan from the first
node on, and the plan is the answer if the time runs out before a better one
is found. A start that is not feasible is ignored by HiGHS.

Every started answer is checked before it is used: it must satisfy every row
and have the objective HiGHS reported for it. With highspy 1.16 a started run
has been seen to report an optimum whose plan was the start and whose
objective was not that plan's (and below the true optimum); such a run is
done again without the start, in the time left. A feasible start is returned
rather than a worse plan.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["BinaryResult", "solve_binary"]

_BANNER_LOCK = threading.Lock()


@dataclass
class BinaryResult:
    """What HiGHS answered.

    Attributes
    ----------
    x
        The 0/1 values of the best plan found.
    optimal
        True when HiGHS proved it optimal (within the relative gap asked for).
    gap
        Relative gap between the plan and the proven bound (0 when optimal).
    bound
        The proven bound on the objective.
    objective
        The objective HiGHS reported for the plan.
    """

    x: np.ndarray
    optimal: bool
    gap: float
    bound: float
    objective: float


#: The process whose HiGHS thread pool is running: a forked child inherits the pool's state but not its
#: threads, and a solve there waits for them forever unless the pool is started again.
_POOL_PID: list[int] = []


def _highs():
    """A silent :class:`highspy.Highs` (its banner goes to the process's standard output on first use, so that is muted)."""
    import highspy

    pid = os.getpid()
    if _POOL_PID and _POOL_PID[0] != pid:
        highspy.Highs.resetGlobalScheduler(False)
    _POOL_PID[:] = [pid]

    with _BANNER_LOCK:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no file descriptor 1: nothing to mute
            saved = None
        if saved is not None:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
        try:
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
        finally:
            if saved is not None:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
    return h


def solve_binary(cost, a: sp.spmatrix, lower, upper, *, time_limit_s: float, start=None, rel_gap: float = 1e-6) -> BinaryResult | None:
    """Minimise ``cost @ x`` subject to ``lower <= a @ x <= upper``, x binary.

    Parameters
    ----------
    cost
        Objective coefficients (n).
    a
        Constraint matrix (m x n).
    lower, upper
        Row bounds (m); +-inf where a side is open.
    time_limit_s
        Wall-clock limit of the search, seconds.
    start
        A 0/1 plan to start from (n), or None.
    rel_gap
        Relative gap at which HiGHS stops and calls the plan optimal.

    Returns
    -------
    BinaryResult or None
        None when HiGHS found no plan in time (and the start, if any, was not feasible).
    """
    cost = np.asarray(cost, dtype=float)
    deadline = time.perf_counter() + float(time_limit_s)
    res = _run(cost, a, lower, upper, time_limit_s=float(time_limit_s), start=start, rel_gap=rel_gap)
    if start is not None and res is not None and not _consistent(res, cost, a, lower, upper):
        # Seen with highspy 1.16: after setSolution, a reported optimum whose plan is the start and whose objective is not
        # that plan's. Such an answer is not trusted: solve again without the start, in the time left.
        res = _run(cost, a, lower, upper, time_limit_s=max(deadline - time.perf_counter(), 0.05), start=None, rel_gap=rel_gap)
    if start is not None:
        x0 = np.asarray(start, dtype=bool)
        if res is None or float(cost @ res.x) > float(cost @ x0) + 1e-9 * max(1.0, abs(float(cost @ x0))):
            ax = sp.csr_matrix(a) @ x0.astype(float)
            if ((ax >= np.asarray(lower) - 1e-9) & (ax <= np.asarray(upper) + 1e-9)).all():  # a feasible start beats a worse answer
                bound = res.bound if res is not None else float("nan")
                gap = (float(cost @ x0) - bound) / max(abs(float(cost @ x0)), 1e-9) if np.isfinite(bound) else float("nan")
                return BinaryResult(x0.copy(), False, gap, bound, float(cost @ x0))
    return res


def _consistent(res: BinaryResult, cost, a, lower, upper) -> bool:
    """Whether the plan HiGHS returned satisfies every row and has the objective HiGHS reported."""
    ax = sp.csr_matrix(a) @ res.x.astype(float)
    feasible = ((ax >= np.asarray(lower) - 1e-6) & (ax <= np.asarray(upper) + 1e-6)).all()
    value = float(cost @ res.x)
    return bool(feasible) and abs(value - res.objective) <= 1e-6 * max(1.0, abs(value))


def _run(cost, a, lower, upper, *, time_limit_s: float, start, rel_gap: float) -> BinaryResult | None:
    """One HiGHS run (see :func:`solve_binary`)."""
    import highspy

    n = len(cost)
    inf = highspy.kHighsInf
    csc = sp.csc_matrix(a, dtype=float)
    m = csc.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.where(np.isfinite(lower), lower, -inf).astype(float)
    lp.row_upper_ = np.where(np.isfinite(upper), upper, inf).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h = _highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        return None
    x = np.round(np.asarray(h.getSolution().col_value, dtype=float)).astype(bool)
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else (0.0 if optimal else float("nan"))
    return BinaryResult(x, bool(optimal), gap, float(info.mip_dual_bound), float(info.objective_function_value))
