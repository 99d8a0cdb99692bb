"""The engine's thread curve: the same solve on 1, 2, 4, ... threads, in one run.

``python -m geo bench --threads`` times :func:`benchmarks.bench.engine_coverage`
(:class:`geo.coverage.CoverageModel` built from the metric arrays, solved and
tabled) with :data:`geo.settings.coverage_workers` set to each thread count in
turn. The counts are the powers of two up to the machine's cores, and the core
count itself. Every round runs each count once, in an order rotated from round
to round, so a slow spell of the machine falls on every count alike; all rounds
run in one forked child, so the layout is generated once and each count meets
the same warm caches.

Each count's answer must equal the one-thread answer exactly (every column, every
row) before any time is printed: the threads change the order of the work, never
its result.

The curve is read with Amdahl's law: a speed-up ``S`` on ``n`` threads puts the
part of one thread's time that runs in parallel at ``p = (1 - 1/S) / (1 - 1/n)``.
Memory bandwidth, the threads' start-up and other work on the machine all show
up as a smaller ``p``; it is a reading of this machine, not a property of the
code alone.

Beside the times, each count's rounds report what the kernel counted for the
process (``getrusage``, every thread together): system CPU seconds, minor page
faults (fresh memory pages touched) and context switches, voluntary (a thread
blocked: waiting for the interpreter lock, a lock or a future) and involuntary
(a thread preempted). When many threads are slower per chunk than one, these
tell the candidates apart: more voluntary switches per solve point to threads
queueing for the interpreter lock, more system time with the same page faults
to the memory system (the kernel mapping and unmapping pages for every thread).

The curve is run twice, each time in a forked child of its own: with glibc's
default heap, and with the heap kept between the engine's pieces as
``python -m geo`` keeps it (:mod:`geo._heap`), where each thread's heap no
longer grows and shrinks (system calls that hold the process's memory-map
lock) for every piece. Both answers must be the same.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks import scale
from geo import settings
from geo.errors import GeoError

__all__ = ["HEAPS", "ThreadTiming", "amdahl_parallel_fraction", "run_threads_benchmark", "thread_counts", "threads_table"]


@dataclass
class ThreadTiming:
    """Wall and CPU seconds of every round on one thread count, and what the kernel counted in it (see the module text).

    The kernel's counts are empty lists where ``getrusage`` is missing (Windows).
    """

    threads: int
    wall_s: list[float]
    cpu_s: list[float]
    system_s: list[float] = field(default_factory=list)
    minor_faults: list[int] = field(default_factory=list)
    voluntary_switches: list[int] = field(default_factory=list)
    involuntary_switches: list[int] = field(default_factory=list)

    @property
    def median_wall_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(self.cpu_s)


def thread_counts(cores: int) -> list[int]:
    """Powers of two below ``cores``, then ``cores`` itself: ``16 -> [1, 2, 4, 8, 16]``, ``6 -> [1, 2, 4, 6]``."""
    if cores < 1:
        msg = f"the thread counts need at least one core, got {cores}"
        raise GeoError(msg)
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return [*counts, cores]


def amdahl_parallel_fraction(speedup: float, threads: int) -> float | None:
    """The share of one thread's time that runs in parallel, read from a speed-up on ``threads`` threads.

    ``None`` on one thread, where a speed-up says nothing about it.
    """
    if threads <= 1:
        return None
    return (1.0 - 1.0 / speedup) / (1.0 - 1.0 / threads)


def _rounds(solve: Callable[[], object], counts: list[int], repeats: int) -> tuple[list[ThreadTiming], list[str]]:
    """Run ``solve`` on each count, ``repeats`` rounds with the order rotated; check every answer against one thread's."""
    timings = {n: ThreadTiming(n, [], []) for n in counts}
    reference, problems = None, []
    saved = settings.coverage_workers
    try:
        for r in range(repeats):
            shift = r % len(counts)
            for n in counts[shift:] + counts[:shift]:
                settings.coverage_workers = n
                u0, c0, t0 = _usage(), time.process_time(), time.perf_counter()
                answer = solve()
                timings[n].wall_s.append(time.perf_counter() - t0)
                timings[n].cpu_s.append(time.process_time() - c0)
                _add_usage(timings[n], u0, _usage())
                if reference is None:
                    settings.coverage_workers = 1
                    reference = answer if n == 1 else solve()
                if not answer.equals(reference):
                    problems.append(f"{n} threads, round {r + 1}: the answer differs from one thread's")
    finally:
        settings.coverage_workers = saved
    return [timings[n] for n in counts], problems


def _usage():
    """The process's ``getrusage`` (every thread), or None where the platform has none."""
    if sys.platform == "win32":
        return None
    import resource

    return resource.getrusage(resource.RUSAGE_SELF)


def _add_usage(timing: ThreadTiming, before, after) -> None:
    """Add one round's system seconds, minor faults and context switches (the difference of two :func:`_usage`)."""
    if before is None or after is None:
        return
    timing.system_s.append(after.ru_stime - before.ru_stime)
    timing.minor_faults.append(after.ru_minflt - before.ru_minflt)
    timing.voluntary_switches.append(after.ru_nvcsw - before.ru_nvcsw)
    timing.involuntary_switches.append(after.ru_nivcsw - before.ru_nivcsw)


def _median_or_dash(values: list, spec: str) -> str:
    return format(statistics.median(values), spec) if values else "-"


def threads_table(timings: list[ThreadTiming]) -> str:
    """Markdown table of the curve: median wall and CPU seconds, speed-up over one thread, Amdahl's parallel share."""
    one = next(t for t in timings if t.threads == 1)
    lines = [
        "| threads | rounds | wall s (each round) | median wall s | median CPU s | speed-up over 1 thread | parallel share (Amdahl) "
        "| median system CPU s | median minor page faults | median context switches, voluntary | involuntary |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        speedup = one.median_wall_s / t.median_wall_s
        p = amdahl_parallel_fraction(speedup, t.threads)
        share = "-" if p is None else f"{p:.0%}"
        each = ", ".join(f"{w:.2f}" for w in t.wall_s)
        kernel = " | ".join((_median_or_dash(t.system_s, ".2f"), _median_or_dash(t.minor_faults, ",.0f"),
                             _median_or_dash(t.voluntary_switches, ",.0f"), _median_or_dash(t.involuntary_switches, ",.0f")))
        lines.append(f"| {t.threads} | {len(t.wall_s)} | {each} | {t.median_wall_s:.2f} | {t.median_cpu_s:.2f} | {speedup:.2f}x | {share} "
                     f"| {kernel} |")
    return "\n".join(lines)


#: The heaps the curve is run with: glibc's defaults, and kept between pieces as ``python -m geo`` keeps them (geo._heap).
HEAPS = {"default": "glibc's default heap", "kept": "the heap kept between pieces, as python -m geo runs it (geo._heap)"}


def run_threads_benchmark(
    size: str | scale.ScaleSize = "district",
    *,
    repeats: int = 3,
    seed: int = 2022,
    counts: list[int] | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, list[ThreadTiming]]:
    """Generate the layout, time the engine on each thread count under each heap of :data:`HEAPS`, check the answers, print the curves.

    Each heap's curve runs in a forked child of its own (the heap's settings
    hold for a whole process); ``kept`` is left out where the C library is not
    glibc. The answers of every count under both heaps must equal one thread's.

    Returns
    -------
    dict
        The timings of each heap run, by its key in :data:`HEAPS`.

    Raises
    ------
    GeoError
        If the size does not fit in memory, or any count's answer differs from one thread's
        (before any time is printed).
    """
    from benchmarks.bench import engine_coverage, run_case
    from geo._heap import keep_heap

    counts = sorted(set(counts or thread_counts(os.cpu_count() or 1)) | {1})
    need = scale.check_memory(size)
    spec = scale.SIZES[size] if isinstance(size, str) else size
    out(f"size {spec.name}: {spec.estates} estates, {spec.routes} routes (synthetic, seed {seed}); "
        f"estimated memory {need / 1e9:.1f} GB")
    t0 = time.perf_counter()
    data = scale.generate(size, seed=seed, incidents=False)
    out(f"generated in {time.perf_counter() - t0:.1f} s")
    out(f"the engine (CoverageModel solve + table) on {', '.join(map(str, counts))} threads, {repeats} rounds, order rotated each round")

    curves: dict[str, list[ThreadTiming]] = {}
    answers: list = []
    for heap, title in HEAPS.items():

        def case(_repeats, heap=heap):
            if heap == "kept" and not keep_heap():
                return [], None, {"unavailable": True}
            warm = engine_coverage(data)  # first-call page faults and imports stay out of the curve
            timings, problems = _rounds(lambda: engine_coverage(data), counts, repeats)
            return [], warm, {"timings": timings, "problems": problems}

        result = run_case(f"coverage: engine thread curve, {heap} heap", spec.name, case, repeats)
        if result.error:
            msg = f"the thread curve ({title}) failed: {result.error}"
            raise GeoError(msg)
        if result.extra.get("unavailable"):
            out("")
            out(f"{title}: not run (the C library is not glibc)")
            continue
        if result.extra["problems"]:
            msg = f"the answers differ between thread counts ({title}), so no timing is printed: " + "; ".join(result.extra["problems"])
            raise GeoError(msg)
        if answers and not result.answer.equals(answers[0]):
            msg = f"the answer under {title} differs from the one under {HEAPS['default']}, so no timing is printed"
            raise GeoError(msg)
        answers.append(result.answer)
        timings = curves[heap] = result.extra["timings"]
        out("")
        out(f"{title}: answers equal on every count (every column, every row); peak RSS {result.peak_rss_bytes / 1e6:.0f} MB")
        out("")
        out(threads_table(timings))
    out("")
    for heap, timings in curves.items():
        one, top = timings[0], timings[-1]
        out(f"{top.threads} threads against 1, {heap} heap: {one.median_wall_s / top.median_wall_s:.2f}x (medians of {repeats} rounds)")
    if len(curves) == 2:
        top = curves["default"][-1].threads
        gain = curves["default"][-1].median_wall_s / curves["kept"][-1].median_wall_s
        out(f"{top} threads, the heap kept against glibc's default: {gain:.2f}x")
    return curves
