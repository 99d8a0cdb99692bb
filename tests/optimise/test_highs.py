"""The HiGHS wrapper: a started run whose answer does not hold up is solved again, and a feasible start is never beaten by a worse plan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from geo.optimise import highs
from geo.optimise.highs import BinaryResult, solve_binary

# The greedy trap as rows "each estate covered at least once": optimum x = (1, 1, 0) for 6, greedy (1, 1, 1) for 8.
COST = np.array([3.0, 3.0, 2.0])
A = sp.csr_matrix(np.array([[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 1, 0]], dtype=float))
LOWER, UPPER = np.ones(4), np.full(4, np.inf)
GREEDY = np.array([True, True, True])


def _brute():
    best = np.inf
    for x in itertools.product([0, 1], repeat=3):
        x = np.array(x, dtype=float)
        if (A @ x >= LOWER).all():
            best = min(best, float(COST @ x))
    return best


def test_plain_solve_is_the_brute_force_optimum():
    res = solve_binary(COST, A, LOWER, UPPER, time_limit_s=10, start=GREEDY)
    assert res.optimal and float(COST @ res.x) == pytest.approx(_brute()) == pytest.approx(6.0)


def test_an_answer_that_does_not_hold_up_is_solved_again_without_the_start(monkeypatch):
    real = highs._run
    calls = []

    def flaky(cost, a, lower, upper, *, time_limit_s, start, rel_gap):
        calls.append(start is not None)
        if start is not None:  # "optimal", but the plan is the start and the objective is not the plan's
            return BinaryResult(np.asarray(start, dtype=bool), True, 0.0, 5.0, 5.0)
        return real(cost, a, lower, upper, time_limit_s=time_limit_s, start=start, rel_gap=rel_gap)

    monkeypatch.setattr(highs, "_run", flaky)
    res = solve_binary(COST, A, LOWER, UPPER, time_limit_s=10, start=GREEDY)
    assert calls == [True, False]
    assert res.optimal and float(COST @ res.x) == pytest.approx(_brute())


def test_a_feasible_start_beats_a_worse_answer(monkeypatch):
    # A run cut short by its time limit that ends on a worse plan than the start (8 m vs the start's 6 m).
    monkeypatch.setattr(highs, "_run", lambda *a, **k: BinaryResult(np.array([True, True, True]), False, 0.5, 4.0, 8.0))
    start = np.array([True, True, False])
    res = solve_binary(COST, A, LOWER, UPPER, time_limit_s=10, start=start)
    assert res.x.tolist() == [True, True, False] and not res.optimal
    assert res.gap == pytest.approx((6.0 - 4.0) / 6.0)


def _random_cover(seed: int = 0):
    rng = np.random.default_rng(seed)
    rows, cols = 200, 300
    a = (rng.random((rows, cols)) < 0.03).astype(float)
    a[np.arange(rows), rng.integers(0, cols, rows)] = 1.0  # every row coverable
    return rng.random(cols) + 0.1, sp.csr_matrix(a), np.ones(rows), np.full(rows, np.inf)


def _solve_in_child(conn):
    res = solve_binary(*_random_cover(), time_limit_s=30)
    conn.send(None if res is None else res.objective)
    conn.close()


def test_a_forked_child_solves_after_the_parent_has():
    # The benchmark runs each case in a forked child; HiGHS's thread pool started in the parent has no threads
    # there, and a child's solve used to wait for them forever. Large enough that presolve alone does not solve it.
    import multiprocessing as mp

    parent_res = solve_binary(*_random_cover(), time_limit_s=30)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_solve_in_child, args=(send,))
    proc.start()
    send.close()
    proc.join(120)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the forked child's HiGHS solve did not finish in 120 s")
    assert recv.poll() and recv.recv() == pytest.approx(parent_res.objective)
