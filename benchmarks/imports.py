"""The import benchmark: a synthetic incident CSV on disk, imported into the store, against ``pandas.read_csv`` of the same file.

The CSV comes from :func:`benchmarks.import_data.write_export` (every row
invented, a few bad rows planted). In one run, each in its own forked child
(:func:`benchmarks.bench.run_case`, so each reports its own peak memory):
a plain ``pandas.read_csv`` of the file, ``import_incidents`` into a CSV store
and into a GeoParquet store. The planted rows must all be rejected with their
row numbers and reasons, and nothing else, before the times are printed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from benchmarks.import_data import write_export
from geo.errors import GeoError


def _no_geocoder(address):
    msg = "the benchmark CSV has coordinates on every row"
    raise RuntimeError(msg)


def _read_csv_case(src: Path):
    def fn(repeats):
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            df = pd.read_csv(src)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return times, None, {"rows": len(df), "cpu_s_median": round(statistics.median(cpu), 2)}

    return fn


def _import_case(src: Path, store: str, planted: dict[int, str]):
    def fn(repeats):
        from geo.incidents.importer import import_incidents

        times, cpu, result = [], [], None
        for k in range(repeats):
            out = src.parent / f"store{k}.{store}"
            out.unlink(missing_ok=True)
            t0, c0 = time.perf_counter(), time.process_time()
            result = import_incidents(src, out=out, geocoder=_no_geocoder, rejects=src.parent / f"rejects{k}_{store}.csv")
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        reasons = dict(result.rejects)
        missing = [row for row, words in planted.items() if words not in reasons.get(row, "")]
        extra = sorted(set(reasons) - set(planted))
        if missing or extra:
            msg = f"the planted bad rows were not reported as planted: missing {missing[:5]}, unexpected {extra[:5]}"
            raise GeoError(msg)
        return times, None, {
            "imported": result.imported,
            "rejected": result.rejected,
            "planted_reported": f"{len(planted)}/{len(planted)}",
            "cpu_s_median": round(statistics.median(cpu), 2),
        }

    return fn


def run_import_cases(rows: int, *, repeats: int = 1, seed: int = 2022, run_case: Callable | None = None, out: Callable[[str], None] = print) -> list:
    """Write the CSV, run the three cases, check the rejects; return the results (see the module text)."""
    if run_case is None:
        from benchmarks.bench import run_case
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "incidents_synthetic.csv"
        t0 = time.perf_counter()
        planted = write_export(src, rows, seed=seed)
        size_mb = src.stat().st_size / 1e6
        out(f"import: wrote a synthetic {rows:,}-row export ({size_mb:.1f} MB, {len(planted)} bad rows planted) in {time.perf_counter() - t0:.1f} s")
        results = [
            run_case(f"pandas.read_csv of the {rows:,}-row CSV ({size_mb:.1f} MB)", "import", _read_csv_case(src), repeats),
            run_case(f"import of the {rows:,}-row CSV into the CSV store", "import", _import_case(src, "csv", planted), repeats),
            run_case(f"import of the {rows:,}-row CSV into a GeoParquet store", "import", _import_case(src, "parquet", planted), repeats),
        ]
    return results


def import_ratio_lines(results: list) -> list[str]:
    """Each import's median time as a multiple of ``pandas.read_csv``'s (the target is at most 3x)."""
    base = next((r for r in results if r.name.startswith("pandas.read_csv") and r.times_s), None)
    if base is None:
        return []
    lines = []
    for r in results:
        if not (r.name.startswith("import of") and r.times_s):
            continue
        line = f"{r.name}: {r.median_s:.2f} s, {r.median_s / base.median_s:.2f}x pandas.read_csv ({base.median_s:.2f} s; target <= 3x)"
        cpu, base_cpu = r.extra.get("cpu_s_median"), base.extra.get("cpu_s_median")
        if cpu and base_cpu:
            line += f"; CPU time (steadier on a busy machine) {cpu:.2f} s vs {base_cpu:.2f} s: {cpu / base_cpu:.2f}x"
        lines.append(line)
    return lines


def run_import_benchmark(rows: int = 1_000_000, *, repeats: int = 1, seed: int = 2022, out: Callable[[str], None] = print) -> list:
    """The import benchmark alone: the cases, the ratios and the table."""
    from benchmarks.bench import format_table

    results = run_import_cases(rows, repeats=repeats, seed=seed, out=out)
    for r in results:
        if r.error:
            out(f"{r.name}: FAILED {r.error}")
    for line in import_ratio_lines(results):
        out(line)
    out("")
    out(format_table(results))
    return results
