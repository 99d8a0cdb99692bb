"""Where a geometry's vertices lie (in China, in China only as lat/lon, outside), held to a plain per-vertex reading.

``check_geometries`` classifies every vertex of a file at once. Here random
lines mix vertices of the three kinds, and each feature's message is
predicted by a loop over its vertices with the China box written out.
"""

import numpy as np
import shapely

from geo import settings
from geo._validate import check_geometries
from geo.schemas import ROUTES

WEST, SOUTH, EAST, NORTH = settings.china_bounds


def _inside(x: float, y: float) -> bool:
    return WEST <= x <= EAST and SOUTH <= y <= NORTH


def _expected(label: str, coords: list[tuple[float, float]]) -> str | None:
    """The message a feature should get, read vertex by vertex."""
    if all(_inside(x, y) for x, y in coords):
        return None
    if all(_inside(y, x) for x, y in coords):
        x, y = coords[0]
        return f"{label}: latitude and longitude look swapped (first vertex {x:.6f}, {y:.6f} lies in China only as lat, lon)"
    x, y = next((x, y) for x, y in coords if not _inside(x, y))
    return f"{label}: coordinate (lon {x:.6f}, lat {y:.6f}) lies outside China"


def _vertex(kind: str, rng) -> tuple[float, float]:
    lon, lat = rng.uniform(107.9, 108.9), rng.uniform(30.4, 31.2)  # around Wanzhou
    if kind == "in":
        return lon, lat
    if kind == "swapped":
        return lat, lon
    return rng.uniform(-10.0, 20.0), rng.uniform(40.0, 60.0)  # Europe


def test_random_lines_get_the_message_of_their_vertices():
    rng = np.random.default_rng(4545)
    kinds = ["in", "swapped", "out"]
    geoms, labels, expected = [], [], []
    for i in range(400):
        mix = rng.choice(3, size=rng.integers(1, 4), replace=False)  # one to three kinds in this line
        coords = [_vertex(kinds[rng.choice(mix)], rng) for _ in range(rng.integers(2, 7))]
        if len(set(coords)) < 2:
            continue
        label = f"feature {i + 1} (R{i + 1})"
        geoms.append(shapely.LineString(coords))
        labels.append(label)
        expected.append(_expected(label, coords))
    problems = check_geometries(np.asarray(geoms, dtype=object), labels, ROUTES)
    wanted = [e for e in expected if e is not None]
    assert len(problems) == len(wanted)
    for got, want in zip(problems, wanted, strict=True):
        assert got.startswith(want), (got, want)
    # every kind of answer came up
    assert any(e is None for e in expected)
    assert any(e and "swapped" in e for e in expected)
    assert any(e and "outside China" in e for e in expected)


def test_a_vertex_on_the_box_edge_is_inside():
    line = shapely.LineString([(WEST, SOUTH), (EAST, NORTH)])
    assert check_geometries(np.asarray([line], dtype=object), ["feature 1 (R1)"], ROUTES) == []
