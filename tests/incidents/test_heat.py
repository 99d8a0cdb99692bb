"""Heat-layer payloads (geo.heat): points below the threshold, a budgeted grid above it."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import Counter

import numpy as np
import pyproj
import pytest

from geo import settings
from geo.incidents.filters import filter_mask
from geo.incidents.heat import aggregate_grid, heat_payload
from geo.incidents.store import IncidentArrays
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES

GEOD = pyproj.Geod(ellps="WGS84")


def secs(*args) -> int:
    return calendar.timegm(dt.datetime(*args).timetuple())


def make(n: int, seed: int = 0) -> IncidentArrays:
    """n synthetic incidents spread over the Shahe box, 2019-2024, random categories and sources."""
    rng = np.random.default_rng(seed)
    west, south, east, north = settings.shahe_bounds
    return IncidentArrays(
        lon=rng.uniform(west, east, n),
        lat=rng.uniform(south, north, n),
        time_s=rng.integers(secs(2019, 1, 1), secs(2025, 1, 1), n, dtype=np.int64),
        category=rng.integers(0, len(CATEGORY_NAMES), n).astype(np.int8),
        subcategory=np.full(n, -1, dtype=np.int8),
        source=rng.integers(0, len(SOURCE_NAMES), n).astype(np.int8),
    )


class TestPoints:
    def test_points_payload_drops_nan_and_outside(self):
        inc = make(10)
        inc.lon[0] = np.nan
        inc.lat[1] = np.nan
        inc.lon[2] = 116.4  # Beijing: outside the area
        p = heat_payload(inc)
        assert p.kind == "points" and p.cell_size_m is None
        assert p.n_incidents == 7 and p.n_dropped == 3 and len(p.data) == 7
        assert json.loads(p.json) == p.data and p.bytes == len(p.json.encode())
        lat, lon, w = p.data[0]
        assert lat == pytest.approx(inc.lat[3], abs=1e-5) and lon == pytest.approx(inc.lon[3], abs=1e-5) and w == 1
        assert "NaN" not in p.json

    def test_empty(self):
        p = heat_payload(make(0))
        assert p.data == [] and p.n_incidents == 0


class TestFilters:
    def test_each_filter(self):
        inc = make(5000, seed=1)
        hours = (inc.time_s // 3600) % 24
        m = filter_mask(inc, categories=["盗窃"])
        assert m.sum() == (inc.category == 0).sum()
        m = filter_mask(inc, sources=["110", "dispute_register"])
        assert m.sum() == np.isin(inc.source, [0, 2]).sum()
        m = filter_mask(inc, hours=[*range(20, 24), *range(0, 6)])
        assert m.sum() == ((hours >= 20) | (hours < 6)).sum()
        m = filter_mask(inc, start="2021-03", end=2021)
        assert m.sum() == ((inc.time_s >= secs(2021, 3, 1)) & (inc.time_s < secs(2022, 1, 1))).sum()
        with pytest.raises(ValueError, match="unknown category"):
            filter_mask(inc, categories=["UFO"])
        with pytest.raises(ValueError, match="0-23"):
            filter_mask(inc, hours=[24])

    def test_filters_reach_the_payload(self):
        inc = make(3000, seed=2)
        p = heat_payload(inc, categories=["矛盾纠纷"], hours=range(8, 12))
        hours = (inc.time_s // 3600) % 24
        assert p.n_incidents == ((inc.category == 3) & (hours >= 8) & (hours < 12)).sum()


class TestGrid:
    def test_aggregate_matches_brute_force(self):
        rng = np.random.default_rng(3)
        x = rng.uniform(-1000, 1000, 2000)
        y = rng.uniform(3_000_000, 3_002_000, 2000)
        cx, cy, total = aggregate_grid(x, y, 250.0)
        expected = Counter((int(np.floor(a / 250.0)), int(np.floor(b / 250.0))) for a, b in zip(x, y, strict=True))
        got = {(int(np.floor(a / 250.0)), int(np.floor(b / 250.0))): t for a, b, t in zip(cx, cy, total, strict=True)}
        assert got == expected
        # centres lie in the middle of their cells
        np.testing.assert_allclose(np.mod(cx, 250.0), 125.0)

    def test_unique_path_for_huge_grids_matches(self, monkeypatch):
        import geo.incidents.heat as heat

        rng = np.random.default_rng(4)
        x, y = rng.uniform(0, 5000, 500), rng.uniform(0, 5000, 500)
        dense = aggregate_grid(x, y, 100.0)
        monkeypatch.setattr(heat, "_DENSE_CELLS", 1)
        sparse = aggregate_grid(x, y, 100.0)
        order_d = np.lexsort((dense[1], dense[0]))
        order_s = np.lexsort((sparse[1], sparse[0]))
        for a, b in zip(dense, sparse, strict=True):
            np.testing.assert_allclose(a[order_d], b[order_s])

    def test_a_million_points_stay_under_budget(self):
        inc = make(1_000_000, seed=5)
        inc.lon[:1000] = np.nan
        p = heat_payload(inc)
        assert p.kind == "grid"
        assert p.bytes <= settings.heat_budget_bytes
        assert p.bytes == len(p.json.encode())
        assert sum(w for _, _, w in p.data) == p.n_incidents == 999_000
        assert f"{p.cell_size_m:g} m" in p.description

    def test_small_budget_coarsens_the_grid(self):
        inc = make(200_000, seed=6)
        fine = heat_payload(inc)
        coarse = heat_payload(inc, budget_bytes=5_000)
        assert coarse.bytes <= 5_000
        assert coarse.cell_size_m > fine.cell_size_m
        assert sum(w for _, _, w in coarse.data) == 200_000

    def test_cell_centre_is_near_its_points(self):
        # 30,000 incidents at one spot: one cell, whose centre is within half a diagonal of the spot.
        n = 30_000
        inc = make(n, seed=7)
        inc.lon[:] = 108.37
        inc.lat[:] = 30.84
        p = heat_payload(inc)
        assert p.kind == "grid" and len(p.data) == 1 and p.max_weight == n
        lat, lon, _ = p.data[0]
        _, _, d = GEOD.inv(108.37, 30.84, lon, lat)
        assert d <= p.cell_size_m * np.sqrt(2) / 2 + 1.0

    def test_points_threshold_is_a_setting(self, monkeypatch):
        monkeypatch.setattr(settings, "heat_max_points", 10)
        assert heat_payload(make(50)).kind == "grid"
