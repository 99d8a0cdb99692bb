"""Dropping dominated candidates and solving independent parts apart never change the optimum: random small instances against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo.optimise.model import ExtensionModel


def _feasible(subset, team, covers, must, need, forbid, by_team):
    """Whether the chosen candidates give every estate its distinct new teams and cover every estate they bring within the radius."""
    teams = [set() for _ in need]
    for j in subset:
        for e in covers[j]:
            if team[j] not in forbid[e]:
                teams[e].add(team[j])
    if any(len(teams[e]) < need[e] for e in range(len(need))):
        return False, teams
    for j in subset:
        for f in must[j]:
            if not any(f in covers[h] and h != j and (not by_team or team[h] == team[j]) for h in subset):
                return False, teams
    return True, teams


def _brute_min(team, cost, covers, must, need, forbid, by_team):
    best = np.inf
    for r in range(len(team) + 1):
        for subset in itertools.combinations(range(len(team)), r):
            if _feasible(subset, team, covers, must, need, forbid, by_team)[0]:
                best = min(best, sum(cost[j] for j in subset))
    return best


def _brute_budget(team, cost, covers, must, need, forbid, by_team, budget, weight):
    """Most weight of estates whose need is met within the budget (no need: not counted), must-rule kept."""
    best = 0.0
    zero = [0] * len(need)
    for r in range(len(team) + 1):
        for subset in itertools.combinations(range(len(team)), r):
            if sum(cost[j] for j in subset) > budget:
                continue
            ok, teams = _feasible(subset, team, covers, must, zero, forbid, by_team)
            if ok:
                best = max(best, sum(weight[e] for e in range(len(need)) if need[e] > 0 and len(teams[e]) >= need[e]))
    return best


def _instance(rng):
    n_est, n_cand, n_team = 5, 9, 3
    team = rng.integers(0, n_team, n_cand).tolist()
    # Candidates of a team often nest (a longer spur covers what a shorter one does): dominance happens.
    covers = []
    for j in range(n_cand):
        base = [c for i, c in enumerate(covers) if team[i] == team[j]]
        if base and rng.random() < 0.6:
            grown = set(base[int(rng.integers(len(base)))]) | set(rng.integers(0, n_est, rng.integers(0, 2)).tolist())
            covers.append(sorted(grown))
        else:
            covers.append(sorted(set(rng.integers(0, n_est, rng.integers(1, 4)).tolist())))
    cost = rng.integers(1, 12, n_cand).astype(float).tolist()
    must = [sorted(set(rng.integers(0, n_est, 1).tolist()) - set(c)) if rng.random() < 0.3 else [] for c in covers]
    need = rng.integers(0, 3, n_est).tolist()
    forbid = [set(rng.choice(n_team, rng.integers(0, 2), replace=False).tolist()) for _ in range(n_est)]
    return team, cost, covers, must, need, forbid


@pytest.mark.parametrize("by_team", [False, True])
def test_pruning_keeps_the_brute_force_optimum(by_team):
    rng = np.random.default_rng(1616 + by_team)
    pruned_any = 0
    for _ in range(40):
        team, cost, covers, must, need, forbid = _instance(rng)
        model = ExtensionModel(len(need), team, cost, covers, need, forbid_team=forbid, must=must, must_by_team=by_team)
        dominated = model.dominated()
        pruned_any += int(dominated.any())
        keep = np.flatnonzero(~dominated).tolist()
        cap = np.minimum(model.need, model.reach).tolist()  # what the solver aims at (an unmeetable need is capped)
        full = _brute_min(team, cost, covers, must, cap, forbid, by_team)
        sub = [[x[j] for j in keep] for x in (team, cost, covers, must)]
        assert _brute_min(*sub, cap, forbid, by_team) == pytest.approx(full)
        if np.isfinite(full):
            plan = model.solve(time_limit_s=10)
            assert plan.method == "milp" and plan.optimal
            assert plan.added_m == pytest.approx(full)
        weight = rng.integers(1, 5, len(need)).astype(float).tolist()
        budget = float(rng.integers(3, 20))
        best = _brute_budget(team, cost, covers, must, cap, forbid, by_team, budget, weight)
        assert _brute_budget(*sub, cap, forbid, by_team, budget, weight) == pytest.approx(best)
        weighted = ExtensionModel(len(need), team, cost, covers, need, forbid_team=forbid, must=must, must_by_team=by_team, weight=weight)
        assert weighted.solve(budget_m=budget, time_limit_s=10).objective == pytest.approx(best)
    assert pruned_any >= 10  # the instances do exercise the pruning


def test_dominance_by_hand():
    # Team 0: a (4 m) covers {0}, b (3 m) covers {0, 1}: a is dominated. c (2 m, team 0) covers {2} but brings estate 1
    # within the radius; d (5 m, team 0) covers {2} and brings nothing in: d is not dominated by c (c adds an obligation).
    # e (1 m, team 1) covers only estate 3, which needs nothing and nobody must see covered: dominated by choosing nothing.
    # f and g (team 1, 2 m each, both {0}): identical, the first is kept.
    team = [0, 0, 0, 0, 1, 1, 1]
    cost = [4.0, 3.0, 2.0, 5.0, 1.0, 2.0, 2.0]
    covers = [[0], [0, 1], [2], [2], [3], [0], [0]]
    must = [[], [], [1], [], [], [], []]
    model = ExtensionModel(4, team, cost, covers, [1, 1, 1, 0], must=must)
    assert model.dominated().tolist() == [True, False, False, False, True, False, True]


def test_independent_parts_are_solved_apart_and_add_up():
    # Two copies of the greedy trap on disjoint estates, and a third part whose only candidate brings estate 8 within the
    # radius: it must be joined by the one candidate that covers 8 (the must-rule ties them into one part).
    team = [0, 1, 2, 3, 4, 5, 6, 7]
    cost = [3.0, 3.0, 2.0, 3.0, 3.0, 2.0, 1.0, 4.0]
    covers = [[0, 1], [2, 3], [1, 2], [4, 5], [6, 7], [5, 6], [9], [8]]
    must = [[], [], [], [], [], [], [8], []]
    need = [1, 1, 1, 1, 1, 1, 1, 1, 0, 1]
    model = ExtensionModel(10, team, cost, covers, need, must=must)
    model.part_batch = 1  # every part on its own
    parts = model._parts(np.arange(8), np.minimum(model.need, model.reach))
    assert sorted(sorted(c.tolist()) for c, _ in parts) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    plan = model.solve(time_limit_s=10)
    assert plan.optimal and plan.chosen.tolist() == [0, 1, 3, 4, 6, 7]
    assert plan.added_m == pytest.approx(_brute_min(team, cost, covers, must, need, [set()] * 10, False)) == pytest.approx(17.0)


def test_greedy_part_by_part_makes_the_choices_of_one_run():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n_est = 30
        n_cand = 40
        team = rng.integers(0, 6, n_cand).tolist()
        cost = rng.integers(1, 30, n_cand).astype(float).tolist()
        covers = [sorted(set(rng.integers(0, n_est, rng.integers(1, 3)).tolist())) for _ in range(n_cand)]
        must = [sorted(set(rng.integers(0, n_est, 1).tolist()) - set(c)) if rng.random() < 0.2 else [] for c in covers]
        need = rng.integers(0, 2, n_est).tolist()
        model = ExtensionModel(n_est, team, cost, covers, need, must=must)
        model.part_batch = 1
        capped = np.minimum(model.need, model.reach)
        assert len(model._parts(np.arange(n_cand), capped)) > 1
        assert model._greedy(capped, None).chosen.tolist() == model._greedy_run(capped, None).chosen.tolist()
