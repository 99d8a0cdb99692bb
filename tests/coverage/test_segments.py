"""The segment index of the pair query (geo.coverage.segments), held to a plain loop over every segment."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import shapely

from geo.coverage import segments
from geo.coverage.segments import SegmentIndex


def grid_routes(seed: int, n: int = 40) -> np.ndarray:
    """Routes on a 50 m grid (shared vertices, touching envelopes), some with two parts or a repeated vertex."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        xy = rng.integers(0, 40, size=(rng.integers(2, 7), 2)).astype(float) * 50.0
        if i % 5 == 0:
            xy = np.vstack([xy[:1], xy])  # a zero-length segment, dropped by the index
        line = shapely.LineString(xy)
        if i % 7 == 0:
            line = shapely.MultiLineString([line, shapely.LineString(xy[:2] + 25.0)])
        out.append(line)
    return np.array(out, dtype=object)


def brute_pairs(routes: np.ndarray, boxes: np.ndarray) -> set[tuple[int, float, float, float, float]]:
    """(box, segment end points) of every segment of every route whose envelope meets the box, edges included."""
    found = set()
    for geom in routes:
        for part in shapely.get_parts(geom):
            xy = shapely.get_coordinates(part)
            for (x0, y0), (x1, y1) in itertools.pairwise(xy):
                if x0 == x1 and y0 == y1:
                    continue
                for b, (bx0, by0, bx1, by1) in enumerate(boxes):
                    if min(x0, x1) <= bx1 and max(x0, x1) >= bx0 and min(y0, y1) <= by1 and max(y0, y1) >= by0:
                        found.add((b, x0, y0, x1, y1))
    return found


def boxes_on_the_grid(seed: int, m: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corner = rng.integers(-2, 40, size=(m, 2)).astype(float) * 50.0  # corners on grid lines: boxes touch segments' edges
    return np.c_[corner, corner + rng.integers(0, 6, size=(m, 2)) * 50.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("groups", "threads"), [(1, 0), (5, 0), (5, 3), (500, 2)])
def test_every_meeting_pair_once(seed, groups, threads):
    routes = grid_routes(seed)
    boxes = boxes_on_the_grid(seed + 10)
    if threads:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            index = SegmentIndex(routes, np.arange(len(routes)), groups=groups, pool=pool)
            b, s = index.query(boxes)
    else:
        index = SegmentIndex(routes, np.arange(len(routes)), groups=groups)
        b, s = index.query(boxes)
    got = [(int(i), *map(float, index.seg[j])) for i, j in zip(b, s, strict=True)]
    assert len(got) == len(set(got))  # no pair twice, whatever the groups
    assert set(got) == brute_pairs(routes, boxes)
    assert len(got) > 20


def test_segments_in_curve_order_with_their_routes():
    routes = grid_routes(4)
    index = SegmentIndex(routes, np.arange(5, 25))  # only some routes
    assert set(index.route.tolist()) <= set(range(5, 25))
    for (x0, y0, x1, y1), r in zip(index.seg, index.route, strict=True):
        assert (x0, y0) != (x1, y1)
        assert shapely.covers(routes[r], shapely.LineString([(x0, y0), (x1, y1)]))
    assert len(index) == sum(len(brute_pairs(routes[[r]], np.array([[-1e9, -1e9, 1e9, 1e9]]))) for r in range(5, 25))


def test_no_segments_and_no_boxes():
    index = SegmentIndex(np.array([shapely.LineString([(0, 0), (0, 0)])], dtype=object), np.arange(1))
    assert len(index) == 0
    b, s = index.query(np.array([[0.0, 0.0, 1.0, 1.0]]))
    assert len(b) == len(s) == 0
    full = SegmentIndex(grid_routes(1), np.arange(40), groups=3)
    b, s = full.query(np.zeros((0, 4)))
    assert len(b) == len(s) == 0


def test_a_failed_tree_reaches_every_query_that_waits_for_it(monkeypatch):
    real = segments.shapely.STRtree
    built = []

    def second_fails(geoms):
        built.append(len(geoms))
        if len(built) == 2:
            raise MemoryError("no room for the tree")
        return real(geoms)

    monkeypatch.setattr(segments.shapely, "STRtree", second_fails)
    routes = grid_routes(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        index = SegmentIndex(routes, np.arange(len(routes)), groups=4, pool=pool)
        with pytest.raises(MemoryError, match="no room"):
            index.query(np.array([[-1e9, -1e9, 1e9, 1e9]]))  # meets every group, the second among them
    assert len(built) == 2  # the groups after the failed one are not built


@pytest.mark.parametrize(
    "box",
    [
        (90.0, -5.0, 100.0, 5.0),  # the second group's west edge
        (110.0, -5.0, 120.0, 5.0),  # its east edge
        (100.0, -9.0, 105.0, 0.0),  # its south edge (a flat envelope)
        (104.0, 0.0, 106.0, 3.0),  # its north edge
    ],
)
def test_a_box_that_only_touches_a_group_finds_its_segment(box):
    routes = np.array([shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(100, 0), (110, 0)])], dtype=object)
    index = SegmentIndex(routes, np.arange(2), groups=2)
    b, s = index.query(np.array([box]))
    assert b.tolist() == [0] and index.route[s].tolist() == [1]
