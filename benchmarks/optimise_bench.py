"""Benchmark case of the extension plan (:func:`geo.optimise.plan.plan_extensions`) on a synthetic layout."""

from __future__ import annotations

import time

from benchmarks import scale

__all__ = ["optimise_case"]


def optimise_case(data: scale.ScaleData, *, time_limit_s: float = 60.0):
    """The case ``fn(repeats) -> (times, None, figures)`` of :func:`benchmarks.bench.run_case`.

    The k = 1 plan along a synthetic road grid (:func:`benchmarks.scale.grid_roads`):
    HiGHS against the sum of per-estate extensions and against greedy, in one run.
    """

    def fn(repeats):
        from geo.optimise.plan import plan_extensions

        estates, routes = data.frames()
        roads = scale.grid_roads(data)
        c0 = time.process_time()
        times, res = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = plan_extensions(estates, routes, network=roads, time_limit_s=time_limit_s)
            times.append(time.perf_counter() - t0)
        cpu = (time.process_time() - c0) / repeats
        greedy = res.model.solve(method="greedy")
        p = res.plan
        return times, None, {
            "cpu_s": round(cpu, 2),
            "estates_served": int((res.model.need > 0).sum()),
            "candidates": len(res.candidates),
            "dominated": int(res.model.dominated().sum()),
            "solver": p.method,
            "proven_optimal": bool(p.optimal),
            "gap": round(float(p.gap), 6),
            "solve_s": round(p.seconds, 2),
            "highs_s": round(p.highs_s, 2),
            "optimal_m": round(p.added_m),
            "per_estate_sum_m": round(res.per_estate_sum_m),
            "greedy_m": round(greedy.added_m),
            "greedy_s": round(greedy.seconds, 2),
            "optimal/per_estate": round(p.added_m / res.per_estate_sum_m, 3) if res.per_estate_sum_m else None,
            "optimal/greedy": round(p.added_m / greedy.added_m, 3) if greedy.added_m else None,
        }

    return fn
