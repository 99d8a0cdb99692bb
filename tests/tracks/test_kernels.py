"""The array kernels against brute force: shapely distances, dense sampling, counting seconds."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.tracks.kernels import PointGrid, night_seconds_before, segment_intervals


def test_grid_and_intervals_agree_with_shapely_and_sampling():
    rng = np.random.default_rng(7)
    n = 3000
    ax, ay = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    # Mostly short segments, some long (fast, sparse fixes), some standing still.
    length = np.r_[rng.exponential(20, n - 300), rng.uniform(200, 1500, 200), np.zeros(100)]
    ang = rng.uniform(0, 2 * np.pi, n)
    bx, by = ax + length * np.cos(ang), ay + length * np.sin(ang)
    px, py = rng.uniform(0, 3000, 60), rng.uniform(0, 3000, 60)
    r = 100.0
    grid = PointGrid(px, py, r)
    seg, pt = grid.candidates(ax, ay, bx, by)
    hit, u0, u1 = segment_intervals(ax[seg], ay[seg], bx[seg], by[seg], px[pt], py[pt], r, tolerance_m=0.0)
    found = set(zip(seg[hit].tolist(), pt[hit].tolist(), strict=True))
    lines = shapely.linestrings(np.stack([np.c_[ax, ay], np.c_[bx, by]], axis=1))
    lines = np.where(length > 0, lines, shapely.points(ax, ay))
    dist = shapely.distance(lines[:, None], shapely.points(px, py)[None, :])
    expected = set(zip(*np.nonzero(dist <= r), strict=True))
    assert found == {(int(a), int(b)) for a, b in expected}
    # The fraction within the radius, by 20001 samples along each hit segment.
    u = np.linspace(0, 1, 20001)
    for k in np.flatnonzero(hit)[:200]:
        s, p = seg[k], pt[k]
        d = np.hypot(ax[s] + u * (bx[s] - ax[s]) - px[p], ay[s] + u * (by[s] - ay[s]) - py[p])
        assert u1[k] - u0[k] == pytest.approx((d <= r).mean(), abs=2e-4)


def test_night_seconds_by_counting():
    t0 = 1_772_000_000 - 7 * 3600  # some local midnight is near; counted anyway
    secs = np.arange(t0, t0 + 3 * 86400)
    hour = (secs % 86400) // 3600
    night = (hour >= 20) | (hour < 6)
    for a, b in ((t0, t0 + 86400), (t0 + 5000, t0 + 200000), (t0 + 71000, t0 + 73000)):
        expected = night[(secs >= a) & (secs < b)].sum()
        assert night_seconds_before(b) - night_seconds_before(a) == pytest.approx(expected)
    # A night that does not wrap midnight (e.g. 01:00-05:00).
    early = (hour >= 1) & (hour < 5)
    a, b = t0 + 1234, t0 + 150000
    got = night_seconds_before(b, start_hour=1, end_hour=5) - night_seconds_before(a, start_hour=1, end_hour=5)
    assert got == pytest.approx(early[(secs >= a) & (secs < b)].sum())
