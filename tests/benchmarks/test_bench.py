"""Tests of the benchmark logic (benchmarks.bench) on tiny synthetic data; no timing is asserted."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyproj
import pytest
import shapely

from benchmarks import bench, scale
from geo import cli, settings

TINY = scale.ScaleSize("tiny", 300, 80, 2_000, 4, 5_000.0)


@pytest.fixture(scope="module")
def tiny():
    return scale.generate(TINY, seed=11)


def brute_force(data: scale.ScaleData) -> dict[str, tuple[str, float, set[str], set[str]]]:
    """Per estate: status, nearest distance, nearby and covering teams, by a plain loop over every route."""
    out = {}
    radius, cover, tol = settings.rule_radius_m, settings.cover_distance_m, settings.distance_tolerance_m
    for eid, point in zip(data.estate_ids, data.estate_geoms, strict=True):
        d = shapely.distance(point, data.route_geoms)
        per_team: dict[str, float] = {}
        for team, dist in zip(data.route_team_ids, d, strict=True):
            per_team[team] = min(per_team.get(team, np.inf), float(dist))
        nearby = {t for t, v in per_team.items() if v <= radius + tol}
        covering = {t for t, v in per_team.items() if v <= cover + tol}
        status = "covered" if covering else "coverable" if nearby else "gap"
        nearest = min((per_team[t] for t in nearby), default=np.nan)
        out[eid] = (status, nearest, nearby, covering)
    return out


class TestAnswersAgree:
    @pytest.mark.parametrize("method", ["engine", "baseline"])
    def test_equal_to_brute_force(self, tiny, method):
        ans = (bench.engine_coverage if method == "engine" else bench.baseline_coverage)(tiny)
        expected = brute_force(tiny)
        assert set(ans["status"]) >= {"covered", "coverable"}  # the tiny layout exercises more than one status
        for row in ans.itertuples():
            status, nearest, nearby, covering = expected[row.estate_id]
            assert row.status == status
            assert set(filter(None, row.nearby_team_ids.split(";"))) == nearby
            assert set(filter(None, row.covering_team_ids.split(";"))) == covering
            if np.isnan(nearest):
                assert np.isnan(row.nearest_distance_m)
            else:
                assert row.nearest_distance_m == pytest.approx(nearest, abs=1e-6)

    def test_engine_equals_baseline(self, tiny):
        assert bench.compare_answers(bench.engine_coverage(tiny), bench.baseline_coverage(tiny)) == []

    def test_difference_is_reported(self, tiny):
        a = bench.engine_coverage(tiny)
        b = a.copy()
        i = int(np.flatnonzero(b["status"] == "covered")[0])
        b.loc[i, "status"] = "gap"
        b.loc[i + 1, "nearest_distance_m"] += 0.01
        problems = bench.compare_answers(a, b)
        assert any("status" in p for p in problems) and any("1 mm" in p for p in problems)


class TestCases:
    def test_child_reports_times_and_peak_memory(self):
        def fn(repeats):
            big = np.ones(20_000_000)  # 160 MB touched in the child
            return [0.1] * repeats, None, {"sum": float(big.sum())}

        r = bench.run_case("ones", "tiny", fn, 2)
        assert r.error is None and r.times_s == [0.1, 0.1] and r.extra["sum"] == 2e7
        # Measured on Linux (the child's peak RSS): None would mean nothing was measured.
        assert r.peak_growth_bytes is not None and r.peak_growth_bytes > 150e6

    def test_child_error_is_reported(self):
        def fn(repeats):
            raise ValueError("boom")

        r = bench.run_case("bad", "tiny", fn, 1)
        assert r.times_s == [] and "boom" in r.error

    def test_update_case_equals_full_recompute(self, tiny):
        r = bench.run_case("edit", "tiny", bench._update_case(tiny, 1), 3)
        assert r.error is None and r.extra["equals_full_recompute"] is True and len(r.times_s) == 3


class TestRun:
    def test_absent_postgis_is_one_line_and_the_rest_runs(self, monkeypatch):
        monkeypatch.setitem(scale.SIZES, "tiny", TINY)
        lines: list[str] = []
        results = bench.run_benchmark(
            "tiny", repeats=1, postgis="host=127.0.0.1 port=1 dbname=none connect_timeout=2", import_rows=200, out=lines.append
        )
        skipped = [ln for ln in lines if ln.startswith("PostGIS skipped")]
        assert len(skipped) == 1 and "\n" not in skipped[0]
        assert any(ln.startswith("answers agree") for ln in lines)
        names = [r.name for r in results]
        assert any("heat payload" in n for n in names) and any("import" in n for n in names) and any("update_route" in n for n in names)
        assert all(r.error is None for r in results)
        table = lines[-1]
        assert "| coverage: buffer + sjoin" in table and "x |" in table
        # The command users run, end to end on files, beside the engine: it wrote one row per estate.
        assert "| coverage CLI end to end" in table and f"rows_written={TINY.estates}" in table
        assert any(ln.startswith("end to end: python -m geo coverage") and "x the engine" in ln for ln in lines)
        # The team table, end to end too: one row per team (each has routes, and --by team keeps every shift).
        teams = next(r for r in results if r.name.startswith("coverage CLI --by team"))
        assert teams.extra["by"] == "team"
        assert teams.extra["rows_written"] == len(set(scale.generate("tiny", incidents=False).route_team_ids.tolist()))
        assert any(ln.startswith("the team table of both readings (--by team)") for ln in lines)

    def test_optimise_only_compares_the_plan_with_per_estate_and_greedy(self, monkeypatch):
        monkeypatch.setitem(scale.SIZES, "tiny", TINY)
        lines: list[str] = []
        (result,) = bench.run_benchmark("tiny", repeats=1, optimise_only=True, out=lines.append)
        assert result.error is None and result.name.endswith("(tiny)") and len(result.times_s) == 1
        x = result.extra
        assert x["solver"] == "milp" and x["proven_optimal"] and x["estates_served"] > 0
        # the optimum is never dearer than following each hint separately, nor than greedy on the same candidates
        assert 0 < x["optimal_m"] <= x["per_estate_sum_m"] and x["optimal_m"] <= x["greedy_m"]
        assert x["optimal/greedy"] == pytest.approx(x["optimal_m"] / x["greedy_m"], abs=2e-3)
        assert "| optimise: k=1 extension plan" in lines[-1] and "per_estate_sum_m=" in lines[-1]

    def test_too_large_refused_by_cli(self, monkeypatch, capsys):
        monkeypatch.setattr(scale, "available_memory_bytes", lambda: 2_000_000_000)
        assert cli.main(["bench", "--size", "province"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "needs about" in err[0] and "GB" in err[0]

    def test_bad_repeats(self, capsys):
        with pytest.raises(SystemExit):
            cli.main(["bench", "--repeats", "0"])


class TestHeatAtScale:
    def test_wide_area_grid_equals_brute_force(self, monkeypatch):
        # Incidents over a 60-km box with a small dense-grid limit: the level-skipping path runs.
        import geo.incidents.heat as heat

        monkeypatch.setattr(heat, "_DENSE_CELLS", 10_000)
        data = scale.generate(scale.ScaleSize("wide", 200, 20, 50_000, 8, 30_000.0), seed=5)
        inc = data.incidents
        bounds = (float(inc.lon.min()), float(inc.lat.min()), float(inc.lon.max()), float(inc.lat.max()))
        budget = 20_000
        p = heat.heat_payload(inc, bounds=bounds, budget_bytes=budget)
        assert p.kind == "grid" and p.bytes <= budget and sum(w for _, _, w in p.data) == len(inc)
        to_m = pyproj.Transformer.from_crs("EPSG:4326", settings.metric_crs, always_xy=True)
        x, y = to_m.transform(inc.lon, inc.lat)

        def cells(size):
            return Counter(
                zip(np.floor(np.asarray(x) / size).astype(int).tolist(), np.floor(np.asarray(y) / size).astype(int).tolist(), strict=True)
            )

        expected = cells(p.cell_size_m)
        assert sorted(expected.values()) == sorted(int(w) for _, _, w in p.data)
        # No finer grid could fit: it has too many cells for even the shortest JSON (under 30 bytes each).
        assert len(cells(p.cell_size_m / 2)) * 30 > budget
