"""Tests of the engine's thread curve (benchmarks.threads) on tiny synthetic data; no timing is asserted."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd
import pytest

from benchmarks import scale, threads
from geo import cli, coverage, settings
from geo.errors import GeoError

TINY = scale.ScaleSize("tiny", 300, 80, 2_000, 4, 5_000.0)


class TestCounts:
    @pytest.mark.parametrize(("cores", "expected"), [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])])
    def test_powers_of_two_then_the_cores(self, cores, expected):
        assert threads.thread_counts(cores) == expected

    def test_no_cores_refused(self):
        with pytest.raises(GeoError, match="at least one core"):
            threads.thread_counts(0)


class TestAmdahl:
    @pytest.mark.parametrize(
        ("speedup", "n", "expected"),
        [
            (2.0, 2, 1.0),  # twice as fast on two threads: all of it ran in parallel
            (1.0, 8, 0.0),  # no faster: none of it
            (4.0, 16, 0.8),  # 1 / (0.2 + 0.8 / 16) = 4
            (1.6, 2, 0.75),  # 1 / (0.25 + 0.75 / 2) = 1.6
        ],
    )
    def test_fraction_from_a_speedup(self, speedup, n, expected):
        assert threads.amdahl_parallel_fraction(speedup, n) == pytest.approx(expected)

    def test_one_thread_says_nothing(self):
        assert threads.amdahl_parallel_fraction(1.0, 1) is None


class TestRounds:
    def test_order_rotates_and_every_count_runs_each_round(self):
        seen = []

        def solve():
            seen.append(settings.coverage_workers)
            return pd.DataFrame({"a": [1, 2]})

        timings, problems = threads._rounds(solve, [1, 2, 4], repeats=3)
        assert problems == []
        assert seen == [1, 2, 4, 2, 4, 1, 4, 1, 2]
        assert [t.threads for t in timings] == [1, 2, 4]
        assert all(len(t.wall_s) == 3 and len(t.cpu_s) == 3 for t in timings)

    def test_an_answer_that_depends_on_the_threads_is_named(self):
        _, problems = threads._rounds(lambda: pd.DataFrame({"n": [min(settings.coverage_workers, 2)]}), [1, 2, 4], repeats=2)
        assert problems == [
            "2 threads, round 1: the answer differs from one thread's",
            "4 threads, round 1: the answer differs from one thread's",
            "2 threads, round 2: the answer differs from one thread's",
            "4 threads, round 2: the answer differs from one thread's",
        ]

    def test_reference_is_one_thread_even_when_another_count_runs_first(self):
        # round 2 starts with 2 threads; the reference was set in round 1 by one thread, so only 2 differs
        _, problems = threads._rounds(lambda: pd.DataFrame({"n": [settings.coverage_workers == 2]}), [1, 2], repeats=2)
        assert problems == [
            "2 threads, round 1: the answer differs from one thread's",
            "2 threads, round 2: the answer differs from one thread's",
        ]

    @pytest.mark.skipif(sys.platform == "win32", reason="getrusage is POSIX")
    def test_the_kernel_counts_follow_the_work_of_each_count(self):
        # 2 threads sleep 20 times (each sleep blocks: a voluntary switch) and touch 256 MB of fresh memory (at least 128
        # pages even as 2 MB huge pages); 1 thread does neither. Counted per round, so the counts differ by that work.
        def solve():
            if settings.coverage_workers == 2:
                for _ in range(20):
                    time.sleep(0.001)
                np.ones(32 * 1024 * 1024)  # 256 MB written
            return pd.DataFrame({"a": [1]})

        timings, problems = threads._rounds(solve, [1, 2], repeats=2)
        one, two = timings
        assert problems == []
        assert len(two.voluntary_switches) == len(two.minor_faults) == len(two.system_s) == len(two.involuntary_switches) == 2
        assert min(two.voluntary_switches) >= 20 > max(one.voluntary_switches)
        assert min(two.minor_faults) >= max(one.minor_faults) + 100
        table = threads.threads_table(timings)
        row = next(line for line in table.splitlines() if line.startswith("| 2 |")).split("|")
        assert int(row[10].strip().replace(",", "")) == int(statistics.median(two.voluntary_switches))

    def test_settings_restored_after_a_failure(self, monkeypatch):
        monkeypatch.setattr(settings, "coverage_workers", 0)

        def solve():
            if settings.coverage_workers == 2:
                raise RuntimeError("boom")
            return pd.DataFrame()

        with pytest.raises(RuntimeError, match="boom"):
            threads._rounds(solve, [1, 2], repeats=1)
        assert settings.coverage_workers == 0


class TestCurve:
    def test_engine_in_threads_gives_one_answer_and_a_row_per_count(self, monkeypatch):
        monkeypatch.setattr(coverage.pairs, "_CHUNK", 7)  # the pair query really runs in threads on 300 estates
        lines = []
        curves = threads.run_threads_benchmark(TINY, repeats=2, seed=11, counts=[3, 2], out=lines.append)
        assert list(curves) == ["default", "kept"]  # glibc here (Debian): both heaps run
        for timings in curves.values():
            assert [t.threads for t in timings] == [1, 2, 3]
        text = "\n".join(lines)
        assert text.count("answers equal on every count (every column, every row)") == 2
        rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
        assert [r.split("|")[1].strip() for r in rows] == ["1", "2", "3"] * 2
        assert rows[0].split("|")[6].strip() == "1.00x" and rows[0].split("|")[7].strip() == "-"
        assert lines[-3].startswith("3 threads against 1, default heap: ") and lines[-2].startswith("3 threads against 1, kept heap: ")
        assert lines[-1].startswith("3 threads, the heap kept against glibc's default: ")

    def test_a_heap_whose_answer_differs_stops_the_curve(self, monkeypatch):
        import benchmarks.bench as bench

        real = bench.engine_coverage
        kept = {"on": False}
        monkeypatch.setattr("geo._heap.keep_heap", lambda: kept.update(on=True) or True)

        def engine(data):  # an answer that changes with the heap: the curve must refuse to print times
            out = real(data)
            if kept["on"]:
                out.loc[0, "status"] = "gap" if out.loc[0, "status"] != "gap" else "covered"
            return out

        monkeypatch.setattr(bench, "engine_coverage", engine)
        with pytest.raises(GeoError, match=r"the answer under the heap kept between pieces.* differs"):
            threads.run_threads_benchmark(TINY, repeats=1, seed=11, counts=[2], out=lambda line: None)

    def test_cli_counts(self, monkeypatch, capsys):
        got = {}
        monkeypatch.setattr(threads, "run_threads_benchmark", lambda size, **kw: got.update(size=size, **kw))
        assert cli.main(["bench", "--size", "city", "--threads", "1,4", "--repeats", "2"]) == 0
        assert got == {"size": "city", "repeats": 2, "seed": 2022, "counts": [1, 4]}
        assert cli.main(["bench", "--threads"]) == 0
        assert got["counts"] is None and got["size"] == "district"
        capsys.readouterr()
        with pytest.raises(SystemExit):
            cli.main(["bench", "--threads", "1,0"])
        assert "'0' is not a positive whole number" in capsys.readouterr().err
