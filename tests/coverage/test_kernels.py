"""The engine's segment explosion against a walk over each line's vertices."""

import itertools

import numpy as np
import pytest
import shapely

from geo.coverage.kernels import explode


def walked(geoms, routes):
    """Segments and route indices by a plain walk: every pair of consecutive vertices of a part that differ."""
    segs, owners = [], []
    for r in routes:
        g = geoms[r]
        for part in getattr(g, "geoms", [g]):
            xy = list(part.coords)
            for a, b in itertools.pairwise(xy):
                if a != b:
                    segs.append([*a, *b])
                    owners.append(r)
    return np.array(segs, dtype=float).reshape(-1, 4), np.array(owners, dtype=np.int64)


def random_lines(seed, n=60):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        kind = rng.integers(4)
        if kind == 3:
            out.append(shapely.LineString())
            continue
        parts = []
        for _ in range(1 if kind < 2 else rng.integers(2, 4)):
            xy = rng.integers(0, 5, size=(rng.integers(2, 8), 2)).astype(float)  # a small grid: repeated vertices are common
            if kind == 1:
                xy = np.vstack([xy, xy[:1]])  # closed
            parts.append(shapely.LineString(xy) if len(np.unique(xy, axis=0)) > 1 else shapely.LineString([(0, 0), (1, 1)]))
        out.append(parts[0] if len(parts) == 1 else shapely.MultiLineString(parts))
    return np.array(out, dtype=object)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_explode_gives_every_non_zero_segment_of_the_chosen_routes_in_order(seed):
    geoms = random_lines(seed)
    routes = np.random.default_rng(seed).permutation(len(geoms))[: len(geoms) // 2 + 3]
    seg, route = explode(geoms, routes)
    want_seg, want_route = walked(geoms, routes)
    assert len(want_seg) > 50
    np.testing.assert_array_equal(seg, want_seg)
    np.testing.assert_array_equal(route, want_route)
    assert seg.flags.c_contiguous and route.dtype == np.int64


def test_explode_of_no_routes_and_of_a_point_line_is_empty():
    geoms = np.array([shapely.LineString([(1, 1), (1, 1)]), shapely.LineString()], dtype=object)
    for routes in (np.array([], dtype=np.int64), np.array([0, 1])):
        seg, route = explode(geoms, routes)
        assert seg.shape == (0, 4) and route.shape == (0,)


def least_by_loop(starts, n, *keys):
    """Each group's first row with the least keys, by comparing the rows' key tuples one by one."""
    out = []
    for g, start in enumerate(starts):
        end = starts[g + 1] if g + 1 < len(starts) else n
        best = start
        for row in range(start + 1, end):
            if tuple(k[row] for k in keys) < tuple(k[best] for k in keys):
                best = row
        out.append(best)
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_first_least_is_each_groups_first_row_of_least_keys(seed):
    from geo.coverage.kernels import first_least

    rng = np.random.default_rng(seed)
    n = 400
    group = np.sort(rng.integers(0, 60, n))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    # few distinct values, so ties on the first key and on both keys are common; infinity and minus zero among them
    first = rng.choice(np.array([0.0, -0.0, 1.5, 2.0, np.inf]), n)
    second = rng.integers(0, 3, n)
    got = first_least(starts, n, first, second)
    np.testing.assert_array_equal(got, least_by_loop(starts, n, first, second))
    assert len(got) == len(starts)


def test_first_least_of_nothing_is_empty():
    from geo.coverage.kernels import first_least

    assert first_least(np.zeros(0, dtype=np.int64), 0, np.zeros(0)).shape == (0,)
