"""Benchmarks of the engine on synthetic data (:mod:`benchmarks.scale`).

Each case runs in a child process forked with :mod:`multiprocessing`
(``"fork"``), so the cases do not share their peak memory. The child resets
its peak resident set (writing ``5`` to ``/proc/self/clear_refs``), runs the
case ``repeats`` times and reports ``VmHWM`` (the peak resident set) and its
growth over the resident set it started with (the data inherited from the
parent). Where ``clear_refs`` cannot be written, ``ru_maxrss`` of the child is
reported instead (it then includes the inherited data).

Coverage answers are compared before any timing is printed: the engine, the
buffer-and-join baseline and PostGIS must agree on every estate's status,
nearby and covering teams, and nearest distance within 1 mm.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from benchmarks import scale
from benchmarks.bench_e2e import bad_input_case, cli_case, end_to_end_lines, postgis_end_to_end_case, temporary_postgis
from benchmarks.optimise_bench import optimise_case
from geo import settings
from geo._heap import keep_heap
from geo.errors import GeoError

__all__ = [
    "CaseResult",
    "baseline_coverage",
    "compare_answers",
    "engine_coverage",
    "machine_description",
    "postgis_coverage",
    "run_benchmark",
]

#: Distances of two answers may differ by this much (metres).
DISTANCE_TOLERANCE_M = 1e-3
#: Margin added to the baseline's buffer: a buffer is a polygon inscribed in the true
#: circle-swept shape (16 segments a quarter circle leave up to about 1.2 m out at 1 km).
BUFFER_MARGIN_M = 2.0
ANSWER_COLUMNS = ["estate_id", "status", "nearest_team_id", "nearest_distance_m", "nearby_team_ids", "covering_team_ids"]


@dataclass
class CaseResult:
    """Timings of one case."""

    name: str
    size: str
    times_s: list[float]
    peak_rss_bytes: int | None = None
    peak_growth_bytes: int | None = None
    memory_method: str = ""
    extra: dict = field(default_factory=dict)
    answer: pd.DataFrame | None = None
    error: str | None = None

    @property
    def min_s(self) -> float:
        return min(self.times_s) if self.times_s else float("nan")

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s) if self.times_s else float("nan")


# --- the three coverage answers -----------------------------------------------------


def engine_coverage(data: scale.ScaleData, *, radius_m: float | None = None, cover_m: float | None = None) -> pd.DataFrame:
    """Full coverage with :class:`geo.coverage.CoverageModel` (built from the metric arrays, solved, tabled)."""
    from geo.coverage.model import CoverageModel

    model = CoverageModel(
        data.estate_ids,
        data.estate_geoms,
        data.route_ids,
        data.route_geoms,
        data.route_team_ids,
        crs=data.crs,
        radius_m=radius_m,
        cover_m=cover_m,
    ).solve()
    return model.table()[ANSWER_COLUMNS]


def _summarise_pairs(estate_ids: np.ndarray, pairs: pd.DataFrame, radius_m: float, cover_m: float) -> pd.DataFrame:
    """Answer table from (estate_id, team_id, distance_m) rows, the way a pandas user would."""
    tol = settings.distance_tolerance_m
    g = pairs.groupby(["estate_id", "team_id"], sort=True)["distance_m"].min().reset_index()
    g = g[g["distance_m"] <= radius_m + tol]
    g["covers"] = g["distance_m"] <= cover_m + tol
    out = pd.DataFrame({"estate_id": estate_ids})
    nearby = g.groupby("estate_id")["team_id"].agg(";".join)
    covering = g[g["covers"]].groupby("estate_id")["team_id"].agg(";".join)
    nearest = g.sort_values(["estate_id", "distance_m", "team_id"]).drop_duplicates("estate_id").set_index("estate_id")
    out["nearby_team_ids"] = out["estate_id"].map(nearby).fillna("")
    out["covering_team_ids"] = out["estate_id"].map(covering).fillna("")
    out["nearest_team_id"] = out["estate_id"].map(nearest["team_id"]).fillna("")
    out["nearest_distance_m"] = out["estate_id"].map(nearest["distance_m"])
    out["status"] = np.where(out["covering_team_ids"] != "", "covered", np.where(out["nearby_team_ids"] != "", "coverable", "gap"))
    return out[ANSWER_COLUMNS]


def estate_scale(data: scale.ScaleData) -> np.ndarray:
    """The scale factor the engine divides each estate's distances by (:func:`geo.crs.scale_factors`; 1 where none).

    Every method of the comparison measures on the ground the same way, so their answers can be compared.
    """
    from geo import crs as _crs

    xy = shapely.get_coordinates(shapely.centroid(data.estate_geoms))
    k = _crs.scale_factors(data.crs, xy[:, 0], xy[:, 1])
    return np.ones(len(xy)) if k is None else k


def baseline_coverage(data: scale.ScaleData, *, radius_m: float | None = None, cover_m: float | None = None) -> pd.DataFrame:
    """The approach most users write first: buffer the routes, :func:`geopandas.sjoin`, then distances.

    The buffer grows by :data:`BUFFER_MARGIN_M` more than the radius and the
    exact distance then filters, so the answer is exact and comparable.
    """
    import geopandas as gpd

    radius_m = float(settings.rule_radius_m if radius_m is None else radius_m)
    cover_m = float(settings.cover_distance_m if cover_m is None else cover_m)
    estates, routes = data.frames()
    k = estate_scale(data)
    zones = routes[["route_id", "team_id"]].copy()
    zones = gpd.GeoDataFrame(zones, geometry=routes.buffer((radius_m + BUFFER_MARGIN_M) * k.max()), crs=routes.crs)
    joined = gpd.sjoin(estates[["estate_id", "geometry"]], zones, predicate="intersects", how="inner")
    est_geom = estates.geometry.values[joined.index.to_numpy()]
    route_geom = routes.geometry.values[joined["index_right"].to_numpy()]
    joined["distance_m"] = shapely.distance(np.asarray(est_geom), np.asarray(route_geom)) / k[joined.index.to_numpy()]
    pairs = pd.DataFrame(joined[["estate_id", "team_id", "distance_m"]])
    return _summarise_pairs(data.estate_ids, pairs, radius_m, cover_m)


def postgis_load(data: scale.ScaleData, dsn: str) -> None:
    """Load estates and routes into tables ``bench_estates`` and ``bench_routes`` (SRID 4545) with GiST indexes."""
    import psycopg

    srid = int(data.crs.split(":")[1])
    xy = shapely.get_coordinates(data.estate_geoms)
    wkb = shapely.to_wkb(data.route_geoms, hex=True)
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute("DROP TABLE IF EXISTS bench_estates, bench_routes")
        cur.execute(f"CREATE TABLE bench_estates (estate_id text PRIMARY KEY, k float8, geom geometry(Point, {srid}))")
        cur.execute(f"CREATE TABLE bench_routes (route_id text PRIMARY KEY, team_id text, geom geometry(LineString, {srid}))")
        buf = io.StringIO()
        for eid, k, (x, y) in zip(data.estate_ids.tolist(), estate_scale(data).tolist(), xy.tolist(), strict=True):
            buf.write(f"{eid}\t{k!r}\tSRID={srid};POINT({x!r} {y!r})\n")
        with cur.copy("COPY bench_estates (estate_id, k, geom) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        buf = io.StringIO()
        for rid, tid, w in zip(data.route_ids.tolist(), data.route_team_ids.tolist(), wkb.tolist(), strict=True):
            buf.write(f"{rid}\t{tid}\t{w}\n")
        with cur.copy("COPY bench_routes (route_id, team_id, geom) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        cur.execute(f"UPDATE bench_routes SET geom = ST_SetSRID(geom, {srid}) WHERE ST_SRID(geom) <> {srid}")
        cur.execute("CREATE INDEX ON bench_estates USING gist (geom)")
        cur.execute("CREATE INDEX ON bench_routes USING gist (geom)")
        cur.execute("ANALYZE bench_estates")
        cur.execute("ANALYZE bench_routes")


def postgis_coverage(data: scale.ScaleData, dsn: str, *, radius_m: float | None = None, cover_m: float | None = None) -> pd.DataFrame:
    """The same question in PostGIS: ``ST_DWithin`` join (GiST indexes), ``min(ST_Distance)`` per estate and team."""
    import psycopg

    radius_m = float(settings.rule_radius_m if radius_m is None else radius_m)
    cover_m = float(settings.cover_distance_m if cover_m is None else cover_m)
    reach = radius_m + settings.distance_tolerance_m
    # k: the scale factor at the estate (1 where the engine corrects nothing): planar distances are divided by it,
    # so the join reaches as far as the largest k asks (one constant: the GiST index still serves it); the pairs
    # beyond the radius after the division are dropped with the others in _summarise_pairs
    sql = (
        "SELECT e.estate_id, r.team_id, min(ST_Distance(e.geom, r.geom) / e.k) AS distance_m "
        "FROM bench_estates e JOIN bench_routes r ON ST_DWithin(e.geom, r.geom, %s) "
        "GROUP BY e.estate_id, r.team_id"
    )
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")  # the GROUP BY stays in memory, as it does for the other two
        kmax = float(cur.execute("SELECT max(k) FROM bench_estates").fetchone()[0] or 1.0)
        cur.execute(sql, (reach * kmax,))
        rows = cur.fetchall()
    pairs = pd.DataFrame(rows, columns=["estate_id", "team_id", "distance_m"])
    return _summarise_pairs(data.estate_ids, pairs, radius_m, cover_m)


def compare_answers(a: pd.DataFrame, b: pd.DataFrame, *, what: str = "answers") -> list[str]:
    """Differences between two coverage answers (empty list when they agree).

    Statuses, nearby and covering team sets must be equal; nearest distances
    equal within :data:`DISTANCE_TOLERANCE_M`; the nearest team equal unless
    two teams are tied within that tolerance.
    """
    a = a.set_index("estate_id").sort_index()
    b = b.set_index("estate_id").sort_index()
    problems = []
    if not a.index.equals(b.index):
        return [f"{what}: the estate ids differ"]
    for col in ("status", "nearby_team_ids", "covering_team_ids"):
        bad = np.flatnonzero(a[col].to_numpy() != b[col].to_numpy())
        if len(bad):
            problems.append(
                f"{what}: {len(bad)} estates differ in {col}, e.g. {a.index[bad[0]]}: {a[col].iloc[bad[0]]!r} vs {b[col].iloc[bad[0]]!r}"
            )
    da, db = a["nearest_distance_m"].to_numpy(float), b["nearest_distance_m"].to_numpy(float)
    nan_bad = np.isnan(da) != np.isnan(db)
    diff = np.abs(np.nan_to_num(da) - np.nan_to_num(db))
    bad = np.flatnonzero(nan_bad | (diff > DISTANCE_TOLERANCE_M))
    if len(bad):
        problems.append(f"{what}: {len(bad)} nearest distances differ by more than 1 mm (largest {np.nanmax(diff):.6f} m)")
    team_bad = a["nearest_team_id"].to_numpy() != b["nearest_team_id"].to_numpy()
    if team_bad.any():
        # A different nearest team is a tie only if both teams are at that distance in the other answer.
        ties = 0
        for e in a.index[team_bad]:
            ties += _is_tie(a.loc[e], b.loc[e])
        if ties != int(team_bad.sum()):
            problems.append(f"{what}: {int(team_bad.sum()) - ties} estates have a different nearest team")
    return problems


def _is_tie(ra: pd.Series, rb: pd.Series) -> bool:
    return abs(float(ra["nearest_distance_m"]) - float(rb["nearest_distance_m"])) <= DISTANCE_TOLERANCE_M


# --- running cases in forked children -------------------------------------------------------


def _vm(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _child(conn, fn: Callable, repeats: int) -> None:
    try:
        reset = False
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
            reset = True
        except OSError:
            pass
        start_rss = _vm("VmRSS")
        times, answer, extra = fn(repeats)
        if reset and _vm("VmHWM") is not None:
            peak, method = _vm("VmHWM"), "VmHWM of a forked child (peak reset at its start)"
        else:
            peak, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "ru_maxrss of a forked child"
        growth = peak - start_rss if (peak is not None and start_rss is not None) else None
        conn.send(("ok", times, peak, growth, method, extra, answer))
    except BaseException as exc:  # noqa: BLE001 - whatever fails in the child is sent to the parent, which reports it
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


def run_case(name: str, size: str, fn: Callable, repeats: int) -> CaseResult:
    """Run ``fn(repeats) -> (times, answer, extra)`` in a forked child; return its timings and peak memory."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, repeats))
    proc.start()
    child.close()
    try:
        msg = parent.recv()
    except EOFError:
        msg = ("error", f"the child process died (exit code {proc.exitcode}; out of memory?)", "")
    proc.join()
    if msg[0] != "ok":
        return CaseResult(name, size, [], error=msg[1], extra={"traceback": msg[2]})
    _, times, peak, growth, method, extra, answer = msg
    return CaseResult(name, size, times, peak, growth, method, extra, answer)


def _timed(repeats: int, body: Callable[[], object]) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = body()
        times.append(time.perf_counter() - t0)
    return times, out


def _coverage_case(kind: str, data: scale.ScaleData, dsn: str | None = None):
    def fn(repeats):
        extra = {}
        if kind == "engine":
            extra["heap_kept"] = keep_heap()  # as python -m geo coverage keeps it (geo._heap): the command and the engine alike
            c0 = time.process_time()
            times, ans = _timed(repeats, lambda: engine_coverage(data))
            extra["cpu_s_median"] = round((time.process_time() - c0) / repeats, 2)
        elif kind == "baseline":
            times, ans = _timed(repeats, lambda: baseline_coverage(data))
        else:
            times, ans = _timed(repeats, lambda: postgis_coverage(data, dsn))
        return times, ans, {"pairs": int(ans["nearby_team_ids"].str.count(";").sum() + (ans["nearby_team_ids"] != "").sum()), **extra}

    return fn


def _update_case(data: scale.ScaleData, seed: int):
    def fn(repeats):
        from geo.coverage.model import CoverageModel

        def build():
            return CoverageModel(data.estate_ids, data.estate_geoms, data.route_ids, data.route_geoms, data.route_team_ids, crs=data.crs)

        model = build().solve()
        rng = np.random.default_rng(seed)
        times, affected = [], []
        for _ in range(repeats):
            i = int(rng.integers(len(data.route_ids)))
            moved = shapely.transform(data.route_geoms[i], lambda xy: xy + np.array([200.0, -150.0]))
            t0 = time.perf_counter()
            est = model.update_route(data.route_ids[i], moved)
            times.append(time.perf_counter() - t0)
            affected.append(len(est))
            data.route_geoms[i] = moved  # the child's copy: the full recompute below sees the edits
        full = build().solve().table()
        same = model.table().equals(full)
        if not same:
            msg = "update_route gave a different answer from a full recompute"
            raise GeoError(msg)
        return times, None, {"estates_recomputed_median": int(np.median(affected)), "equals_full_recompute": same}

    return fn


def _heat_case(data: scale.ScaleData):
    def fn(repeats):
        from geo.incidents.heat import heat_payload

        inc = data.incidents
        bounds = (float(np.nanmin(inc.lon)), float(np.nanmin(inc.lat)), float(np.nanmax(inc.lon)), float(np.nanmax(inc.lat)))
        times, p = _timed(repeats, lambda: heat_payload(inc, bounds=bounds))
        budget = settings.heat_budget_bytes
        if p.bytes > budget:
            msg = f"heat payload of {p.bytes} bytes exceeds the budget of {budget}"
            raise GeoError(msg)
        return (
            times,
            None,
            {
                "incidents": len(inc),
                "payload_bytes": p.bytes,
                "budget_bytes": budget,
                "kind": p.kind,
                "cell_m": p.cell_size_m,
                "cells": len(p.data),
            },
        )

    return fn




# --- the machine ----------------------------------------------------------------------


def machine_description() -> dict[str, str]:
    """CPU model, cores, memory and library versions."""
    import geopandas
    import pyproj
    import scipy

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem = f"{int(fh.readline().split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": f"{shapely.__version__} (GEOS {shapely.geos_version_string})",
        "geopandas": geopandas.__version__,
        "pandas": pd.__version__,
        "pyproj": f"{pyproj.__version__} (PROJ {pyproj.proj_version_str})",
        "scipy": scipy.__version__,
        "highspy": _version("highspy"),
    }


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


# --- the whole run ---------------------------------------------------------------------


_ORDER = ("district", "city", "province")


def run_benchmark(
    size: str = "district",
    *,
    repeats: int = 3,
    postgis: str | None = None,
    seed: int = 2022,
    import_rows: int = 1_000_000,
    end_to_end_only: bool = False,
    optimise_only: bool = False,
    bad_input_mb: float | None = None,
    out: Callable[[str], None] = print,
) -> list[CaseResult]:
    """Generate the data, run every case, check the answers agree, then print the table.

    ``postgis`` is a libpq connection string, or ``"auto"`` to start a
    throw-away cluster for the run (:func:`benchmarks.bench_e2e.temporary_postgis`).
    ``bad_input_mb`` adds the bad-input case: a GeoJSON of that many MB with
    three bad features given to the coverage command.

    Raises
    ------
    GeoError
        If the size does not fit in memory (before anything is generated) or
        two coverage answers differ (before any timing is printed).
    """
    if postgis == "auto":
        with temporary_postgis() as (dsn, reason):
            if dsn is None:
                out(f"PostGIS skipped: {reason}")
            else:
                out("PostGIS: a temporary cluster was started for this run (Unix socket, fsync off)")
            return run_benchmark(size, repeats=repeats, postgis=dsn, seed=seed, import_rows=import_rows, end_to_end_only=end_to_end_only,
                                 optimise_only=optimise_only, bad_input_mb=bad_input_mb, out=out)
    if optimise_only:
        return _run_optimise(size, repeats=repeats, seed=seed, out=out)
    need = scale.check_memory(size)
    out(
        f"size {size}: {scale.SIZES[size].estates} estates, {scale.SIZES[size].routes} routes, {scale.SIZES[size].incidents} incidents (synthetic, seed {seed}); estimated memory {need / 1e9:.1f} GB"
    )
    t0 = time.perf_counter()
    data = scale.generate(size, seed=seed, incidents=not end_to_end_only)
    out(f"generated in {time.perf_counter() - t0:.1f} s")
    results: list[CaseResult] = []

    results.append(run_case("coverage: engine (CoverageModel solve + table)", size, _coverage_case("engine", data), repeats))
    if end_to_end_only:
        out("baseline skipped (--end-to-end)")
    else:
        results.append(
            run_case("coverage: buffer + sjoin + distance (geopandas)", size, _coverage_case("baseline", data), max(1, min(repeats, 2)))
        )
    if postgis:
        out(_run_postgis(data, postgis, size, repeats, results))
    else:
        out("PostGIS skipped: no --postgis connection string given")

    for r in results:
        if r.error:
            msg = f"{r.name} failed: {r.error}"
            raise GeoError(msg)
    answers = [r for r in results if r.answer is not None]
    problems = []
    for other in answers[1:]:
        problems += compare_answers(answers[0].answer, other.answer, what=f"engine vs {other.name.split(': ')[1]}")
    if problems:
        msg = "the answers differ, so no timing is printed: " + "; ".join(problems)
        raise GeoError(msg)
    out(f"answers agree ({len(answers)} methods): statuses, nearby and covering teams equal; nearest distances within 1 mm")

    e2e_repeats = max(1, min(repeats, 2))
    results.append(run_case("coverage CLI end to end (GeoJSON in, CSV out)", size, cli_case(data), e2e_repeats))
    results.append(run_case("coverage CLI, GeoParquet in, CSV out", size, cli_case(data, fmt="parquet"), e2e_repeats))
    results.append(run_case("coverage CLI --by team (GeoJSON in, CSV out)", size, cli_case(data, by="team"), e2e_repeats))
    if any(r.name.startswith("coverage: PostGIS") for r in results):  # the server answered
        results.append(run_case("PostGIS end to end on the same GeoJSON files (load + query + CSV)", size,
                                postgis_end_to_end_case(data, postgis), e2e_repeats))
    if bad_input_mb:
        results.append(run_case(f"coverage CLI on a {bad_input_mb:g} MB GeoJSON with 3 bad features", size, bad_input_case(target_mb=bad_input_mb), 1))
    if end_to_end_only:
        return _finish(results, out)
    edit_sizes = _ORDER[1 : _ORDER.index(size) + 1] if size in _ORDER[1:] else (size,)
    for s in edit_sizes:
        d = data if s == size else scale.generate(s, seed=seed, incidents=False)
        results.append(run_case(f"update_route: one route moved ({s})", s, _update_case(d, seed), max(repeats, 5)))
    results.append(run_case(f"heat payload of {len(data.incidents)} incidents", size, _heat_case(data), repeats))
    d = data if size == "district" else scale.generate("district", seed=seed, incidents=False)
    results.append(run_case(_OPTIMISE_NAME.format(size="district"), "district", optimise_case(d), 1))
    from benchmarks.imports import run_import_cases

    results += run_import_cases(import_rows, seed=seed, out=out)
    return _finish(results, out)


_OPTIMISE_NAME = "optimise: k=1 extension plan on a 300 m road grid ({size})"


def _run_optimise(size: str, *, repeats: int, seed: int, out: Callable[[str], None]) -> list[CaseResult]:
    """Only the extension plan, on the layout of ``size`` (no incidents are generated)."""
    s = scale.SIZES[size]
    out(f"size {size}: {s.estates} estates, {s.routes} routes (synthetic, seed {seed}); extension plan only")
    t0 = time.perf_counter()
    data = scale.generate(size, seed=seed, incidents=False)
    out(f"generated in {time.perf_counter() - t0:.1f} s")
    return _finish([run_case(_OPTIMISE_NAME.format(size=size), size, optimise_case(data), repeats)], out)


def _finish(results: list[CaseResult], out: Callable[[str], None]) -> list[CaseResult]:
    for r in results:
        if r.error:
            out(f"{r.name}: FAILED {r.error}")
    from benchmarks.imports import import_ratio_lines

    for line in end_to_end_lines(results) + import_ratio_lines(results):
        out(line)
    out("")
    out(format_table(results))
    return results


def _run_postgis(data: scale.ScaleData, dsn: str, size: str, repeats: int, results: list[CaseResult]) -> str:
    """Load and time PostGIS; return one line saying what happened (an absent or refusing server never stops the run)."""
    try:
        import psycopg
    except ImportError:
        return "PostGIS skipped: psycopg is not installed (pip install -r requirements-dev.txt)"
    try:
        t0 = time.perf_counter()
        postgis_load(data, dsn)
    except (psycopg.Error, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
        return f"PostGIS skipped: {type(exc).__name__}: {first}"
    line = f"PostGIS: loaded and indexed in {time.perf_counter() - t0:.1f} s"
    results.append(run_case("coverage: PostGIS ST_DWithin + ST_Distance (GiST)", size, _coverage_case("postgis", data, dsn), repeats))
    return line


def format_table(results: list[CaseResult]) -> str:
    """Markdown table of the results with ratios of the coverage cases to the engine."""
    engine = next((r for r in results if r.name.startswith("coverage: engine") and r.times_s), None)
    lines = [
        "| case | size | repeats | min s | median s | peak RSS MB | growth MB | vs engine | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.error:
            lines.append(f"| {r.name} | {r.size} | - | - | - | - | - | - | failed: {r.error} |")
            continue
        ratio = f"{r.median_s / engine.median_s:.1f}x" if engine and r.name.startswith(("coverage", "PostGIS end")) else ""
        peak = f"{r.peak_rss_bytes / 1e6:.0f}" if r.peak_rss_bytes else "-"
        growth = f"{r.peak_growth_bytes / 1e6:.0f}" if r.peak_growth_bytes is not None else "-"
        if "PostGIS" in r.name:
            peak = growth = "(server)"
        notes = ", ".join(f"{k}={v}" for k, v in r.extra.items())
        lines.append(
            f"| {r.name} | {r.size} | {len(r.times_s)} | {r.min_s:.4f} | {r.median_s:.4f} | {peak} | {growth} | {ratio} | {notes} |"
        )
    method = next((r.memory_method for r in results if r.memory_method), "")
    if method:
        lines.append("")
        lines.append(f"Memory: {method}; growth = peak minus the resident set at the child's start (the inherited data).")
    return "\n".join(lines)
