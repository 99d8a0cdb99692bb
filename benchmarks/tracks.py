"""Benchmark of the track engine: a year of fixes for many teams aggregated into dosage per estate.

The fixes are synthetic (seeded, every coordinate invented): each team walks
at 1.4 m/s around the Shahe box with a slowly turning heading, reflected at the
box's edges, one fix every ``step_s`` seconds, all day, every day. They are
generated chunk by chunk and streamed straight into :func:`geo.tracks.scan.scan`
and :func:`geo.tracks.dosage.dosage_table` (by month), so memory is bounded by
the chunk size; the time spent inside the generator (wall and CPU) is measured as the
stream is consumed and subtracted.
A second case writes part of the fixes to a GeoParquet store and scans them
from it, to measure the store's read path.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geo import crs as _crs
from geo import io, settings
from geo.tracks import store
from geo.tracks.dosage import dosage_table, estate_points
from geo.tracks.scan import scan

__all__ = ["run_tracks_benchmark", "synthetic_chunks"]

_START = "2025-01-01"


def _box_m() -> tuple[float, float, float, float]:
    west, south, east, north = settings.shahe_bounds
    x, y = _crs.project_lonlat([west, east], [south, north])
    return float(x[0]), float(y[0]), float(x[1]), float(y[1])


def _reflect(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = hi - lo
    m = np.mod(v - lo, 2 * span)
    return lo + np.where(m > span, 2 * span - m, m)


def synthetic_chunks(*, teams: int = 50, days: float = 365, step_s: int = 10, seed: int = 2022,
                     chunk_rows: int | None = None) -> Iterator[store.Chunk]:
    """Yield synthetic fixes sorted by team and time, at most ``chunk_rows`` at a time (see the module docstring)."""
    rows = settings.track_chunk_rows if chunk_rows is None else chunk_rows
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = _box_m()
    n_team = int(days * 86400 // step_s)
    t_start = int(np.datetime64(_START, "s").astype(np.int64))
    team_ids = [f"T{k:03d}" for k in range(teams)]
    for k in range(teams):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        heading = rng.uniform(0, 2 * np.pi)
        done = 0
        while done < n_team:
            n = min(rows, n_team - done)
            turn = np.cumsum(rng.normal(0, 0.15, n)) + heading
            step = 1.4 * step_s
            xs = x + np.cumsum(step * np.cos(turn))
            ys = y + np.cumsum(step * np.sin(turn))
            # Reflect at the box: the raw walk stays continuous, its image stays inside.
            xr, yr = _reflect(xs, x0, x1), _reflect(ys, y0, y1)
            x, y, heading = float(xs[-1]), float(ys[-1]), float(turn[-1])
            t = t_start + (done + np.arange(n, dtype=np.int64)) * step_s
            yield store.Chunk(np.full(n, k, dtype=np.int32), t, xr, yr, team_ids)
            done += n


def _rss_now() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_tracks_benchmark(*, teams: int = 50, days: float = 365, step_s: int = 10, fraction: float = 1.0, seed: int = 2022,
                         chunk_rows: int | None = None, store_fixes: int = 2_000_000, out: Callable[[str], None] = print) -> dict:
    """Time dosage over ``fraction`` of a year of fixes of ``teams`` teams; print figures and the extrapolation to the whole.

    Returns
    -------
    dict
        ``fixes``, ``total_s``, ``generate_s``, ``engine_s``, ``fixes_per_s``,
        ``full_fixes``, ``full_engine_s`` (extrapolated), ``peak_rss_mb``,
        ``store_fixes``, ``store_scan_s``.
    """
    from benchmarks.bench import run_case

    estates = io.read_estates()
    ex, ey, er = estate_points(estates)
    run_days = days * fraction
    full = int(teams * (days * 86400 // step_s))
    kwargs = {"teams": teams, "days": run_days, "step_s": step_s, "seed": seed, "chunk_rows": chunk_rows}
    out(f"tracks: {teams} teams, {run_days:g} of {days:g} days, one fix every {step_s} s: "
        f"{int(teams * (run_days * 86400 // step_s)):,} synthetic fixes (a full year: {full:,}); {len(ex)} estates")

    def engine(_repeats):
        spent = {"wall": 0.0, "cpu": 0.0}

        def timed(chunks):
            it = iter(chunks)
            while True:
                w, c = time.perf_counter(), time.process_time()
                try:
                    chunk = next(it)
                except StopIteration:
                    return
                finally:
                    spent["wall"] += time.perf_counter() - w
                    spent["cpu"] += time.process_time() - c
                yield chunk

        w0, c0 = time.perf_counter(), time.process_time()
        res = scan(timed(synthetic_chunks(**kwargs)), ex, ey, radius_m=er)
        table = dosage_table(res, estates, by="month")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        return [wall - spent["wall"]], None, {
            "fixes": res.fixes, "chunks": res.chunks, "visits": len(res.visits), "rows": len(table), "wall": wall,
            "generate_wall": spent["wall"], "engine_cpu": cpu - spent["cpu"], "generate_cpu": spent["cpu"],
        }

    r_engine = run_case("tracks: dosage (stream + scan + monthly table)", "tracks", engine, 1)
    if r_engine.error:
        out(f"{r_engine.name}: FAILED {r_engine.error}")
        return {}
    x = r_engine.extra
    fixes, eng = x["fixes"], max(r_engine.times_s[0], 1e-9)
    rate = fixes / eng
    result = {
        "fixes": fixes, "total_s": x["wall"], "generate_s": x["generate_wall"], "engine_s": eng, "engine_cpu_s": x["engine_cpu"],
        "fixes_per_s": rate, "full_fixes": full, "full_engine_s": full / rate, "full_engine_cpu_s": full / fixes * x["engine_cpu"],
        "peak_rss_mb": (r_engine.peak_rss_bytes or 0) / 1e6, "growth_mb": (r_engine.peak_growth_bytes or 0) / 1e6, "visits": x["visits"],
    }
    out(f"dosage: {fixes:,} fixes in {x['chunks']} chunks, {x['wall']:.1f} s wall with generation; generator {x['generate_wall']:.1f} s wall; "
        f"engine {eng:.1f} s wall = {rate / 1e6:.2f} million fixes/s, {x['engine_cpu']:.1f} s CPU "
        f"({fixes / max(x['engine_cpu'], 1e-9) / 1e6:.2f} million fixes per CPU second); {result['visits']:,} visits; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB (growth {result['growth_mb']:.0f} MB, chunks of {chunk_rows or settings.track_chunk_rows:,} fixes)")
    if fraction < 1.0:
        out(f"extrapolated to all {days:g} days ({full:,} fixes): engine {result['full_engine_s']:.0f} s wall, "
            f"{result['full_engine_cpu_s']:.0f} s CPU at the same rate (the work per fix is constant; memory stays bounded by the chunk)")
    # The store's read path: write part of the fixes to GeoParquet, then scan from disk.
    if store_fixes:
        with tempfile.TemporaryDirectory() as tmp:
            frames, n = [], 0
            for c in synthetic_chunks(teams=teams, days=days, step_s=step_s, seed=seed, chunk_rows=min(store_fixes, 500_000)):
                take = min(len(c), store_fixes - n)
                lon, lat = _crs.metric_to_lonlat_transformer().transform(c.x[:take], c.y[:take])
                frames.append(pd.DataFrame({"team_id": np.asarray(c.team_ids)[c.team[:take]], "time_s": c.time_s[:take], "lon": lon, "lat": lat}))
                n += take
                if n >= store_fixes:
                    break
            df = pd.concat(frames, ignore_index=True)
            t0 = time.perf_counter()
            store.write_fixes(df, Path(tmp))
            write_s = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in Path(tmp).rglob("*.parquet"))
            t0 = time.perf_counter()
            res = scan(store.iter_chunks(Path(tmp), chunk_rows=chunk_rows), ex, ey, radius_m=er)
            scan_s = time.perf_counter() - t0
            result.update(store_fixes=n, store_write_s=write_s, store_scan_s=scan_s, store_mb=size / 1e6)
            out(f"store: {n:,} fixes written as GeoParquet in {write_s:.1f} s ({size / n:.1f} bytes a fix), "
                f"scanned from disk in {scan_s:.2f} s = {n / scan_s / 1e6:.2f} million fixes/s ({res.fixes:,} read)")
    return result
