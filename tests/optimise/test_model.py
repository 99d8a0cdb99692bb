"""The choice of extensions on tiny instances whose optimum is worked out by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo.errors import SchemaError
from geo.optimise.model import ExtensionModel


def _brute_force(n_estates, team, cost, covers, need, forbid):
    """Cheapest subset meeting every need with distinct teams, by enumerating all subsets."""
    best = (np.inf, None)
    for r in range(len(team) + 1):
        for subset in itertools.combinations(range(len(team)), r):
            teams = [set() for _ in range(n_estates)]
            for j in subset:
                for e in covers[j]:
                    if team[j] not in forbid[e]:
                        teams[e].add(team[j])
            if all(len(teams[e]) >= need[e] for e in range(n_estates)):
                total = sum(cost[j] for j in subset)
                if total < best[0]:
                    best = (total, subset)
    return best


# S1 = {0, 1} for 3 m, S2 = {2, 3} for 3 m, S3 = {1, 2} for 2 m: the optimum is S1 + S2 = 6 m;
# greedy takes S3 first (1 m per estate) and ends at 2 + 3 + 3 = 8 m.
TRAP = {"team": [0, 1, 2], "cost_m": [3.0, 3.0, 2.0], "covers": [[0, 1], [2, 3], [1, 2]]}


def test_exact_beats_greedy_on_the_classic_trap():
    model = ExtensionModel(4, TRAP["team"], TRAP["cost_m"], TRAP["covers"], [1, 1, 1, 1])
    plan = model.solve(time_limit_s=10)
    assert plan.method == "milp" and plan.optimal
    assert plan.chosen.tolist() == [0, 1]
    assert plan.added_m == pytest.approx(6.0)
    assert plan.gap == pytest.approx(0.0, abs=1e-9)
    greedy = model.solve(method="greedy")
    assert greedy.chosen.tolist() == [0, 1, 2]
    assert greedy.added_m == pytest.approx(8.0)
    assert greedy.met.all()


def test_one_detour_covering_two_estates_wins_over_two_separate_ones():
    # A (team 0, 10 m) brings in estates 0 and 1; B and C (team 1, 6 m each) one each; D (team 2, 7 m) estate 2.
    model = ExtensionModel(3, [0, 1, 1, 2], [10.0, 6.0, 6.0, 7.0], [[0, 1], [0], [1], [2]], [1, 1, 1])
    plan = model.solve()
    assert plan.chosen.tolist() == [0, 3]
    assert plan.added_m == pytest.approx(17.0)


def test_k2_counts_distinct_teams_and_existing_cover():
    # Estate 0 is covered by team 0 already (need 1 more); estate 1 needs 2 teams.
    # b (team 1) is the only other team for estate 0; estate 1 then needs team 0 (a, 5 m) or team 2 (c, 3 m);
    # d (team 1 again) adds no second team. Optimum b + c = 7 m; counting detours instead of teams gives b + d = 5 m.
    team, cost, covers = [0, 1, 2, 1], [5.0, 4.0, 3.0, 1.0], [[0, 1], [0, 1], [1], [1]]
    need, forbid = [1, 2], [{0}, set()]
    model = ExtensionModel(2, team, cost, covers, need, forbid_team=forbid)
    plan = model.solve()
    assert sorted(plan.chosen.tolist()) == [1, 2]
    assert plan.added_m == pytest.approx(7.0)
    assert _brute_force(2, team, cost, covers, need, forbid)[0] == pytest.approx(7.0)


def test_a_detour_that_brings_an_estate_within_the_radius_must_cover_it():
    # p (team 0, 1 m) covers estate 0 but brings estate 1 within the radius; r (team 1, 2 m) covers estate 1;
    # q (team 1, 5 m) covers estate 0 alone.
    team, cost, covers, must = [0, 1, 1], [1.0, 5.0, 2.0], [[0], [0], [1]], [[1], [], []]
    free = ExtensionModel(2, team, cost, covers, [1, 0]).solve()
    assert free.chosen.tolist() == [0]
    default = ExtensionModel(2, team, cost, covers, [1, 0], must=must).solve()
    assert default.chosen.tolist() == [0, 2] and default.added_m == pytest.approx(3.0)
    strict = ExtensionModel(2, team, cost, covers, [1, 0], must=must, must_by_team=True).solve()
    assert strict.chosen.tolist() == [1] and strict.added_m == pytest.approx(5.0)


def test_from_cost_matrix_matches_the_direct_model():
    nan = np.nan
    # Columns: the three sets of the trap, as (estate x candidate) costs.
    matrix = [[3.0, nan, nan], [3.0, nan, 2.0], [nan, 3.0, 2.0], [nan, 3.0, nan]]
    plan = ExtensionModel.from_cost_matrix(matrix, [0, 1, 2], [1, 1, 1, 1]).solve()
    assert plan.chosen.tolist() == [0, 1]
    assert plan.added_m == pytest.approx(6.0)


def test_random_instances_agree_with_brute_force():
    rng = np.random.default_rng(16)
    for _ in range(25):
        n_est, n_cand = 5, 8
        team = rng.integers(0, 4, n_cand).tolist()
        cost = rng.integers(1, 20, n_cand).astype(float).tolist()
        covers = [sorted(set(rng.integers(0, n_est, rng.integers(1, 4)).tolist())) for _ in range(n_cand)]
        forbid = [set(rng.choice(4, rng.integers(0, 2), replace=False).tolist()) for _ in range(n_est)]
        need = rng.integers(0, 3, n_est).tolist()
        expected, subset = _brute_force(n_est, team, cost, covers, need, forbid)
        model = ExtensionModel(n_est, team, cost, covers, need, forbid_team=forbid)
        plan = model.solve()
        if subset is None:
            assert len(model.unmeetable())  # infeasible: the model says which estates cannot meet the target
            continue
        assert plan.added_m == pytest.approx(expected)


def test_unmeetable_estates_are_named_and_capped():
    # Estate 1 can only ever be covered by team 0: k = 2 cannot be met there.
    model = ExtensionModel(2, [0, 1, 0], [1.0, 1.0, 2.0], [[0], [0], [1]], [2, 2])
    assert model.unmeetable().tolist() == [1]
    plan = model.solve()
    assert plan.unmeetable.tolist() == [1]
    assert plan.added_m == pytest.approx(4.0)


def test_budgeted_plan_maximises_covered_weight():
    weights = [1.0, 1.0, 1.0, 5.0]
    model = ExtensionModel(4, TRAP["team"], TRAP["cost_m"], TRAP["covers"], [1, 1, 1, 1], weight=weights)
    # 3 m buys one set: S2 (estates 2, 3: weight 6) beats S1 (2) and S3 (2).
    assert model.solve(budget_m=3).chosen.tolist() == [1]
    # 5 m: S2 + S3 (estates 1, 2, 3: 7) beats S1 + S3 (0, 1, 2: 3).
    five = model.solve(budget_m=5)
    assert five.chosen.tolist() == [1, 2] and five.objective == pytest.approx(7.0)
    assert model.solve(budget_m=6).objective == pytest.approx(8.0)
    assert model.solve(budget_m=5, method="greedy").added_m <= 5


@pytest.mark.parametrize("budget", [0, -100, float("nan")])
def test_budget_must_be_positive(budget):
    model = ExtensionModel(4, TRAP["team"], TRAP["cost_m"], TRAP["covers"], [1, 1, 1, 1])
    with pytest.raises(SchemaError, match="greater than 0"):
        model.solve(budget_m=budget)
