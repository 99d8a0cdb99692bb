"""The heat layer's numbers (geo.incidents.density): kernel, masking, robust scale and classes, against hand
computations and a brute-force density on tiny data."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
import pyproj
import pytest
import shapely

from geo.incidents.density import (
    Grid,
    cell_error_bound,
    density_classes,
    density_cube,
    density_from_cells,
    grid_over,
    inside_mask,
    kernel_density,
    quartic_kernel,
    robust_scale,
)
from geo.incidents.store import IncidentArrays
from geo.incidents.taxonomy import CATEGORY_NAMES

TO_METRIC = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)


def quartic_by_hand(d: float, h: float) -> float:
    """The quartic kernel written out, per km²."""
    return 3.0 / (math.pi * h * h) * (1.0 - (d / h) ** 2) ** 2 * 1e6 if d <= h else 0.0


def local_seconds(*args) -> int:
    return calendar.timegm(dt.datetime(*args).timetuple())


class TestKernel:
    def test_kernel_values(self):
        h = 300.0
        got = quartic_kernel(np.array([0.0, 150.0, 300.0, 300.1]), h) * 1e6
        want = [quartic_by_hand(0, h), quartic_by_hand(150, h), 0.0, 0.0]
        assert got == pytest.approx(want)
        assert got[0] == pytest.approx(10.6103295, rel=1e-6)  # 3 / (pi * 0.09 km²)

    def test_kernel_integrates_to_one(self):
        step = 2.0
        xs = np.arange(-300, 300 + step, step)
        xx, yy = np.meshgrid(xs, xs)
        total = quartic_kernel(np.hypot(xx, yy), 300.0).sum() * step * step
        assert total == pytest.approx(1.0, abs=2e-3)

    def test_density_of_one_incident_at_cell_centres(self):
        cx = np.array([0.0, 100.0, 0.0, 300.0, 500.0])
        cy = np.array([0.0, 0.0, 200.0, 0.0, 0.0])
        got = kernel_density(cx, cy, np.array([0.0]), np.array([0.0]), np.array([0]), 1, bandwidth_m=300.0)
        want = [quartic_by_hand(d, 300.0) for d in (0, 100, 200, 300, 500)]
        assert got.shape == (1, 5)
        assert got[0] == pytest.approx(want)

    def test_groups_are_kept_apart_and_sum(self):
        cx, cy = np.array([0.0, 50.0]), np.array([0.0, 0.0])
        x, y = np.array([0.0, 30.0, 40.0]), np.array([0.0, 40.0, 0.0])
        got = kernel_density(cx, cy, x, y, np.array([0, 1, 1]), 2, bandwidth_m=300.0)
        for k, (gx, gy) in enumerate(((x[:1], y[:1]), (x[1:], y[1:]))):
            for c in range(2):
                want = sum(quartic_by_hand(math.hypot(px - cx[c], py - cy[c]), 300.0) for px, py in zip(gx, gy, strict=True))
                assert got[k, c] == pytest.approx(want)


class TestMask:
    def test_triangle_mask_is_inclusive_of_the_edge(self):
        tri = shapely.Polygon([(0, 0), (300, 0), (0, 300)])
        grid = grid_over(tri, cell_m=100.0)
        assert grid == Grid(0.0, 0.0, 100.0, 3, 3)
        # centres (50 + 100 i, 50 + 100 j); inside when x + y <= 300 (on the hypotenuse counts)
        want = [x + y <= 300 for y in (50, 150, 250) for x in (50, 150, 250)]
        assert inside_mask(grid, tri).tolist() == want
        assert want == [True, True, True, True, True, False, True, False, False]

    def test_grid_is_aligned_on_the_cell_size(self):
        grid = grid_over(shapely.box(1234.0, 5678.0, 1500.0, 5700.0), cell_m=100.0)
        assert (grid.x0, grid.y0, grid.nx, grid.ny) == (1200.0, 5600.0, 3, 1)
        with pytest.raises(ValueError, match="cell_m"):
            grid_over(shapely.box(0, 0, 1, 1), cell_m=0)


class TestScale:
    def test_robust_scale_is_the_95th_percentile_of_positive_values(self):
        values = np.r_[np.arange(1.0, 21.0), np.zeros(50), np.nan]
        # 20 positive values 1..20: position 0.95 * 19 = 18.05 between the 19th (19) and 20th (20) value
        assert robust_scale(values) == pytest.approx(19.05)
        assert robust_scale(np.zeros(4)) == 0.0

    def test_one_extreme_cell_does_not_set_the_scale(self):
        values = np.r_[np.full(99, 10.0), 10_000.0]
        assert robust_scale(values) == pytest.approx(10.0)

    def test_classes(self):
        values = np.array([0, 5, 10, 24.9, 25, 50, 74, 75, 99.9, 100, 250, np.nan])
        assert density_classes(values, 100.0).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 0]
        assert density_classes(values, 0.0).tolist() == [0] * 12


class TestCube:
    def test_tiny_cube_against_brute_force(self):
        # a 600 m x 400 m area near Shahe, drawn in WGS-84
        x0, y0 = TO_METRIC.transform(108.37, 30.84)
        to_lonlat = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
        corners = [to_lonlat.transform(x0 + dx, y0 + dy) for dx, dy in ((0, 0), (600, 0), (600, 400), (0, 400))]
        area = shapely.Polygon(corners)
        theft, dispute, other = (CATEGORY_NAMES.index(c) for c in ("盗窃", "矛盾纠纷", "其他警情"))
        pts = [(x0 + 120, y0 + 130, 2020, theft), (x0 + 410, y0 + 260, 2020, theft), (x0 + 300, y0 + 200, 2022, dispute),
               (x0 + 2000, y0 + 2000, 2022, other)]  # the last one is far from every cell
        lonlat = [to_lonlat.transform(x, y) for x, y, _, _ in pts]
        inc = IncidentArrays(
            lon=np.array([p[0] for p in lonlat]), lat=np.array([p[1] for p in lonlat]),
            time_s=np.array([local_seconds(y, 6, 1, 12) for _, _, y, _ in pts], dtype=np.int64),
            category=np.array([c for *_, c in pts], dtype=np.int8), subcategory=np.full(4, -1, dtype=np.int8),
            source=np.zeros(4, dtype=np.int8),
        )
        cube = density_cube(inc, area, cell_m=100.0, bandwidth_m=300.0)
        assert cube.years == [2020, 2021, 2022]
        assert cube.categories == ["盗窃", "矛盾纠纷", "其他警情"]
        assert cube.n_incidents == 4

        # brute force: every cell centre of the aligned 100 m grid inside the projected area, every incident
        ax, ay = TO_METRIC.transform(*np.array(area.exterior.coords).T)
        area_m = shapely.Polygon(np.c_[ax, ay])
        gx0, gy0 = math.floor(min(ax) / 100) * 100, math.floor(min(ay) / 100) * 100
        centres = [(gx0 + 50 + 100 * i, gy0 + 50 + 100 * j) for j in range(10) for i in range(10)]
        centres = [c for c in centres if shapely.intersects_xy(area_m, *c)]
        assert int(cube.inside.sum()) == len(centres)
        xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])

        def dens(c, which):
            return sum(quartic_by_hand(math.hypot(xs[k] - c[0], ys[k] - c[1]), 300.0) for k in which)

        theft_2020 = [dens(c, [0, 1]) for c in centres]
        dispute_2022 = [dens(c, [2]) for c in centres]
        # axis 0: [all, 盗窃, 矛盾纠纷, 其他警情]; axis 1: [mean, 2020, 2021, 2022]
        assert cube.density[1, 1] == pytest.approx(theft_2020, rel=1e-6, abs=1e-9)
        assert cube.density[1, 2] == pytest.approx(np.zeros(len(centres)))
        assert cube.density[2, 3] == pytest.approx(dispute_2022, rel=1e-6, abs=1e-9)
        assert cube.density[3].max() == 0.0  # the far incident reaches no cell
        assert cube.density[0, 1] == pytest.approx(theft_2020, rel=1e-6, abs=1e-9)
        assert cube.density[0, 0] == pytest.approx((np.array(theft_2020) + np.array(dispute_2022)) / 3, rel=1e-6, abs=1e-9)
        # the scale of "all categories" is the 95th percentile of its positive cell values over the years and the mean
        pooled = np.r_[(np.array(theft_2020) + np.array(dispute_2022)) / 3, theft_2020, dispute_2022]
        pooled = np.sort(pooled[pooled > 0])
        pos = 0.95 * (len(pooled) - 1)
        lo = math.floor(pos)
        want = pooled[lo] + (pos - lo) * (pooled[min(lo + 1, len(pooled) - 1)] - pooled[lo])
        assert cube.scales[0] == pytest.approx(want)

    def test_filters_apply(self):
        area = shapely.box(108.36, 30.835, 108.38, 30.85)
        inc = IncidentArrays(lon=np.array([108.37, 108.37]), lat=np.array([30.84, 30.84]),
                             time_s=np.array([local_seconds(2020, 1, 1, 1), local_seconds(2021, 1, 1, 1)], dtype=np.int64),
                             category=np.array([0, 3], dtype=np.int8), subcategory=np.full(2, -1, dtype=np.int8),
                             source=np.zeros(2, dtype=np.int8))
        cube = density_cube(inc, area, categories=[CATEGORY_NAMES[3]])
        assert cube.n_incidents == 1 and cube.years == [2021] and cube.categories == [CATEGORY_NAMES[3]]
        empty = density_cube(inc, area, start=2023, end=2023)
        assert empty.n_incidents == 0 and empty.years == [] and empty.density.max() == 0.0


class TestFromCells:
    """Density from incidents counted per 100 m cell (what a big PostGIS store sends) against brute force on points."""

    def test_bound_is_the_kernels_steepest_slope_times_the_half_diagonal(self):
        d = np.linspace(0.0, 300.0, 300_001)
        slope = np.abs(np.diff([quartic_by_hand(v, 300.0) for v in d])) / np.diff(d)  # per km² per metre
        assert cell_error_bound(100.0, 300.0) == pytest.approx(slope.max() * 100.0 / math.sqrt(2.0), rel=1e-4)
        assert cell_error_bound(100.0, 300.0) == pytest.approx(3.85, abs=0.01)

    def test_tiny_case_within_the_bound_of_the_points(self):
        x0, y0 = TO_METRIC.transform(108.37, 30.84)
        x0, y0 = math.floor(x0 / 100) * 100, math.floor(y0 / 100) * 100
        to_lonlat = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
        area = shapely.Polygon([to_lonlat.transform(x0 + dx, y0 + dy) for dx, dy in ((0, 0), (600, 0), (600, 400), (0, 400))])
        theft, dispute = CATEGORY_NAMES.index("盗窃"), CATEGORY_NAMES.index("矛盾纠纷")
        pts = [(x0 + 112, y0 + 131, 2020, theft), (x0 + 188, y0 + 104, 2020, theft), (x0 + 410, y0 + 262, 2020, theft),
               (x0 + 301, y0 + 199, 2021, dispute), (x0 + 399.5, y0 + 0.5, 2021, dispute)]
        # by hand: the 100 m cell of each point (floor), its centre, and the counts
        by_hand = [  # (cell centre x, y offsets from x0, y0), category, year, count
            ((150, 150), theft, 2020, 2), ((450, 250), theft, 2020, 1), ((350, 150), dispute, 2021, 1), ((350, 50), dispute, 2021, 1)]
        cells = {"x_m": [x0 + c[0][0] for c in by_hand], "y_m": [y0 + c[0][1] for c in by_hand],
                 "category": [CATEGORY_NAMES[c[1]] for c in by_hand], "year": [c[2] for c in by_hand], "count": [c[3] for c in by_hand]}
        cube = density_from_cells(cells, area, cell_m=100.0, bandwidth_m=300.0)
        assert cube.years == [2020, 2021] and cube.categories == ["盗窃", "矛盾纠纷"] and cube.n_incidents == 5

        gx, gy = np.meshgrid(x0 + 50 + 100 * np.arange(6), y0 + 50 + 100 * np.arange(4))
        centres = list(zip(gx.ravel(), gy.ravel(), strict=True))
        assert int(cube.inside.sum()) == len(centres)

        def from_points(c, cat, year):
            return sum(quartic_by_hand(math.hypot(px - c[0], py - c[1]), 300.0) for px, py, y, k in pts if k == cat and y == year)

        def from_centres(c, cat, year):
            return sum(n * quartic_by_hand(math.hypot(x0 + ox - c[0], y0 + oy - c[1]), 300.0) for (ox, oy), k, y, n in by_hand
                       if k == cat and y == year)

        for axis0, cat in ((1, theft), (2, dispute)):
            for axis1, year in ((1, 2020), (2, 2021)):
                exact = np.array([from_centres(c, cat, year) for c in centres])
                assert cube.density[axis0, axis1] == pytest.approx(exact, rel=1e-6, abs=1e-9)
                points = np.array([from_points(c, cat, year) for c in centres])
                reach = np.array([sum(1 for px, py, y, k in pts if k == cat and y == year
                                      and math.hypot(px - c[0], py - c[1]) <= 300.0 + 100.0 / math.sqrt(2.0)) for c in centres])
                assert (np.abs(cube.density[axis0, axis1] - points) <= reach * cell_error_bound(100.0, 300.0) + 1e-9).all()
        theft_points = np.array([from_points(c, theft, 2020) for c in centres])
        assert np.abs(cube.density[1, 1] - theft_points).max() > 0.01  # the centres are an approximation, and it shows

    def test_unknown_category_is_refused(self):
        area = shapely.box(108.36, 30.835, 108.38, 30.85)
        with pytest.raises(ValueError, match="unknown categories"):
            density_from_cells({"x_m": [0.0], "y_m": [0.0], "category": ["x"], "year": [2020], "count": [1]}, area)
