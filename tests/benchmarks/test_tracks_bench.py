"""The track benchmark's stream: chunking changes nothing, counts add up; no timing is asserted."""

from __future__ import annotations

import numpy as np

from benchmarks.tracks import run_tracks_benchmark, synthetic_chunks
from geo import io
from geo.tracks.dosage import estate_points
from geo.tracks.scan import scan


def test_chunk_size_does_not_change_the_visits():
    ex, ey, er = estate_points(io.read_estates())
    big = scan(synthetic_chunks(teams=3, days=2, chunk_rows=10**9), ex, ey, radius_m=er)
    small = scan(synthetic_chunks(teams=3, days=2, chunk_rows=997), ex, ey, radius_m=er)
    assert big.fixes == small.fixes == 3 * 2 * 8640
    assert small.chunks > big.chunks == 3
    assert len(big.visits) > 0
    for f in ("team", "estate", "start_s", "end_s", "present_s", "night_s"):
        np.testing.assert_allclose(getattr(big.visits, f), getattr(small.visits, f), atol=1e-6)
    np.testing.assert_allclose(big.metres_by_team, small.metres_by_team, rtol=1e-9)


def test_benchmark_reports_its_counts():
    lines = []
    out = run_tracks_benchmark(teams=2, days=10, step_s=60, fraction=0.1, store_fixes=5000, out=lines.append)
    assert out["fixes"] == 2 * 1 * 1440 and out["full_fixes"] == 2 * 10 * 1440
    assert out["store_fixes"] == 5000
    assert any(line.startswith("extrapolated to all 10 days") for line in lines)
