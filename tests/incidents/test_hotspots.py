"""Getis-Ord Gi* hot spots on a metric grid (geo.hotspots)."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pyproj
import pytest
import shapely

from geo import settings
from geo.incidents.hotspots import hotspot_cells, hotspot_table
from geo.incidents.store import IncidentArrays

T0 = calendar.timegm(dt.datetime(2021, 6, 1, 22, 0).timetuple())
SPOT = (108.372, 30.845)


def make(seed: int = 0, n_background: int = 600, n_spot: int = 600) -> IncidentArrays:
    rng = np.random.default_rng(seed)
    west, south, east, north = settings.shahe_bounds
    lon = np.concatenate([rng.uniform(west, east, n_background), SPOT[0] + rng.normal(0, 0.003, n_spot)])
    lat = np.concatenate([rng.uniform(south, north, n_background), SPOT[1] + rng.normal(0, 0.003, n_spot)])
    n = len(lon)
    return IncidentArrays(
        lon=lon,
        lat=lat,
        time_s=np.full(n, T0, dtype=np.int64),
        category=np.zeros(n, dtype=np.int8),
        subcategory=np.full(n, -1, dtype=np.int8),
        source=np.zeros(n, dtype=np.int8),
    )


def gi_star_brute_force(counts: np.ndarray, nrows: int, ncols: int) -> np.ndarray:
    """Getis and Ord (1995) Gi* with binary queen weights including the cell itself, one loop per cell,
    on Anscombe-transformed counts 2 * sqrt(x + 3/8)."""
    counts = 2.0 * np.sqrt(np.asarray(counts, dtype=float) + 0.375)
    n = counts.size
    mean = counts.mean()
    s = np.sqrt((counts**2).mean() - mean**2)
    z = np.empty(n)
    for i in range(n):
        r, c = divmod(i, ncols)
        w = np.zeros(n)
        for rr in range(max(0, r - 1), min(nrows, r + 2)):
            for cc in range(max(0, c - 1), min(ncols, c + 2)):
                w[rr * ncols + cc] = 1.0
        big_w, s1 = w.sum(), (w**2).sum()
        z[i] = ((w * counts).sum() - mean * big_w) / (s * np.sqrt((n * s1 - big_w**2) / (n - 1)))
    return z


@pytest.fixture(scope="module")
def cells():
    return hotspot_cells(make(), cell_m=400, permutations=199, seed=7)


class TestGiStar:
    def test_grid_counts_every_incident_once(self, cells):
        assert cells["count"].sum() == 1200
        assert len(cells) == (cells["row"].max() + 1) * (cells["col"].max() + 1)
        assert cells.crs.to_epsg() == 4326

    def test_counts_match_independent_binning(self, cells):
        inc = make()
        x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(inc.lon, inc.lat)
        ix, iy = np.floor(np.asarray(x) / 400).astype(int), np.floor(np.asarray(y) / 400).astype(int)
        col, row = ix - ix.min(), iy - iy.min()
        for k in range(0, len(inc.lon), 37):
            cell = cells[(cells["col"] == col[k]) & (cells["row"] == row[k])]
            assert len(cell) == 1
            assert cell["count"].iloc[0] == int(((col == col[k]) & (row == row[k])).sum())

    def test_z_scores_match_the_formula(self, cells):
        nrows, ncols = cells["row"].max() + 1, cells["col"].max() + 1
        counts = cells.sort_values("cell")["count"].to_numpy(dtype=float)
        np.testing.assert_allclose(cells.sort_values("cell")["gi_z"].to_numpy(), gi_star_brute_force(counts, nrows, ncols), rtol=1e-9)

    def test_the_cluster_is_a_hot_spot(self, cells):
        inside = cells[cells.geometry.contains(shapely.Point(SPOT))]
        assert len(inside) == 1 and inside["label"].iloc[0] == "hot"
        table = hotspot_table(cells)
        assert table["label"].iloc[0] == "hot" and table["gi_z"].is_monotonic_decreasing
        assert abs(table["lon"].iloc[0] - SPOT[0]) < 0.01 and abs(table["lat"].iloc[0] - SPOT[1]) < 0.01

    def test_normal_p_values_are_the_normal_tail_of_z(self, cells):
        from scipy.stats import norm

        np.testing.assert_allclose(cells["p_sim"], norm.sf(np.abs(cells["gi_z"])), rtol=1e-9)
        np.testing.assert_allclose(cells["p_value"], np.minimum(1, 2 * norm.sf(np.abs(cells["gi_z"]))), rtol=1e-9)
        assert cells.attrs["inference"] == "normal" and cells.attrs["permutations"] == 0

    def test_seeded_permutations_repeat(self):
        a = hotspot_cells(make(), cell_m=400, permutations=199, seed=7, inference="permutation")
        b = hotspot_cells(make(), cell_m=400, permutations=199, seed=7, inference="permutation")
        np.testing.assert_array_equal(a["p_sim"].to_numpy(), b["p_sim"].to_numpy())
        # 199 asked for, raised so that the smallest p-value can pass BH among the grid's cells.
        assert a.attrs["seed"] == 7 and a.attrs["permutations"] == int(np.ceil(2 * len(a) / 0.05))
        assert "conditional permutation" in a.attrs["method"]


class TestEdges:
    def test_no_incidents_after_filtering(self):
        with pytest.raises(ValueError, match="no incidents"):
            hotspot_cells(make(), categories=["矛盾纠纷"])

    def test_too_few_cells(self):
        with pytest.raises(ValueError, match="smaller cells"):
            hotspot_cells(make(), cell_m=20_000)

    def test_uniform_counts_have_no_hot_spot(self):
        # One incident at the centre of each cell of a 4 x 4 block: every count equals 1, nothing stands out.
        t = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
        gx, gy = np.meshgrid(np.arange(4) * 400 + 200, np.arange(4) * 400 + 200)
        x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(108.36, 30.83)
        x0, y0 = np.floor(x0 / 400) * 400, np.floor(y0 / 400) * 400
        lon, lat = t.transform(gx.ravel() + x0, gy.ravel() + y0)
        n = lon.size
        inc = IncidentArrays(np.asarray(lon), np.asarray(lat), np.full(n, T0, dtype=np.int64), np.zeros(n, np.int8), np.full(n, -1, np.int8), np.zeros(n, np.int8))
        cells = hotspot_cells(inc, cell_m=400)
        assert len(cells) == 16 and (cells["label"] == "not significant").all()


def test_cli_hotspots(tmp_path, capsys, monkeypatch, incident_store):
    from geo.cli.main import main

    frame = make(seed=3).to_frame()
    incident_store(frame[["lon", "lat", "time", "category", "source"]])
    code = main(["hotspots", "--incidents", str(tmp_path / "incidents.csv"), "--cell-m", "400", "--out", str(tmp_path / "cells.geojson")])
    assert code == 0
    out = capsys.readouterr().out
    assert "hot" in out and (tmp_path / "cells.geojson").exists()


class TestErrorControl:
    def test_conditional_permutation_matches_exact_enumeration(self):
        # 3 x 3 grid: the corner (0, 0) has three neighbours. Under conditional randomisation its own value stays and
        # three of the other eight values fill its neighbours: enumerate all C(8, 3) = 56 draws for the exact p-value.
        import itertools

        from geo.incidents.hotspots import gi_star

        values = np.array([9.0, 7, 1, 6, 2, 0, 1, 0, 3])
        obs = values[[1, 3, 4]].sum()  # 7 + 6 + 2 = 15
        others = np.delete(values, 0)
        sums = np.array([sum(c) for c in itertools.combinations(others, 3)])
        exact = (sums >= obs).mean()  # hand check: {7, 6, 3} = 16, {7, 6, 2} = 15 -> 2/56
        assert exact == pytest.approx(2 / 56)
        _, p = gi_star(values, 3, 3, permutations=20_000, seed=1)
        assert p[0] == pytest.approx(exact, abs=0.005)

    def test_fdr_and_uncorrected_labels_differ_as_expected(self, cells):
        assert cells.attrs["correction"] == "fdr"
        assert "Benjamini-Hochberg" in cells.attrs["method"]
        n_fdr = (cells["label"] != "not significant").sum()
        n_raw = (cells["label_uncorrected"] != "not significant").sum()
        assert n_fdr <= n_raw
        # A cell is flagged after FDR exactly when its adjusted p-value is at most alpha.
        flagged = cells["label"] != "not significant"
        assert (cells.loc[flagged, "q_value"] <= 0.05).all()

    def test_one_bh_family_over_the_tested_cells_by_hand(self):
        # 4 x 4 grid, one busy corner. Expected neighbourhood counts: mean 2.5 times 4, 6 or 9 cells. With a threshold of
        # 20, only the four inner cells (9 cells: 22.5) may be cold; cold-looking cells elsewhere are not tested at all
        # (q NaN) and do not count among the m tests of Benjamini-Hochberg.
        from scipy.stats import false_discovery_control, norm

        from geo.incidents.hotspots import test_cells

        counts = np.array([25.0, 5, 0, 0, 5, 3, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0])
        r = test_cells(counts, 4, 4, alpha=0.05, cold_min_expected=20)
        z = gi_star_brute_force(counts, 4, 4)
        inner = np.zeros(16, dtype=bool)
        inner[[5, 6, 9, 10]] = True
        tested = (z > 0) | ((z < 0) & inner)
        np.testing.assert_array_equal(r["tested"], tested)
        p = np.minimum(1, 2 * norm.sf(np.abs(z)))
        q = np.full(16, np.nan)
        q[tested] = false_discovery_control(p[tested], method="bh")
        np.testing.assert_allclose(r["q_value"], q, rtol=1e-9)
        assert np.isnan(r["q_value"][~tested]).all()
        assert ((r["label"] == "hot") == ((q <= 0.05) & (z > 0))).all()

    def test_cold_spots_need_enough_expected_incidents(self):
        sparse = make(n_background=60, n_spot=300)
        c = hotspot_cells(sparse, cell_m=400)
        # 360 incidents over ~120 cells: a neighbourhood expects ~27 inside and ~12 at a corner; with a threshold of
        # 1,000 no cell may be cold, however empty.
        strict = hotspot_cells(sparse, cell_m=400, cold_min_expected=1000)
        assert not strict["cold_testable"].any() and (strict["label"] != "cold").all()
        np.testing.assert_allclose(c["expected"], c["count"].mean() * np.where(
            (c["row"].isin([0, c["row"].max()])) & (c["col"].isin([0, c["col"].max()])), 4,
            np.where(c["row"].isin([0, c["row"].max()]) | c["col"].isin([0, c["col"].max()]), 6, 9)))

    @pytest.mark.slow
    def test_pure_noise_flags_no_cell_in_95_percent_of_seeds(self):
        # 6,000 incidents uniformly at random over a 3 km square (15 x 15 cells of 200 m): any flagged cell is false.
        # Seeds 0-999. A first range of 0-199 flagged 6 %; blocks of 200 seeds flag 2-6 % (BH at 5 % allows about
        # 5 % of pure-noise grids to show a flag), so a range that small tests luck, not the method. The grid is binned here with numpy (independent of grid_cells).
        from scipy.stats import kstest

        from geo.incidents.hotspots import test_cells

        seeds = range(1000)
        flagged, centre, corner = 0, [], []
        edges = np.linspace(0, 3000, 16)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            x, y = rng.uniform(0, 3000, 6000), rng.uniform(0, 3000, 6000)
            counts = np.histogram2d(y, x, bins=[edges, edges])[0].ravel()  # row-major: row = y bin, col = x bin
            r = test_cells(counts, 15, 15, alpha=0.05)
            flagged += bool((r["label"] != "not significant").any())
            centre.append(r["p_value"][7 * 15 + 7])
            corner.append(r["p_value"][0])
        assert flagged <= 0.05 * len(seeds)
        # Independent check of the null: one cell's p-value over independent grids is uniform on [0, 1].
        assert kstest(centre, "uniform").pvalue > 0.01 and kstest(corner, "uniform").pvalue > 0.01

    def test_pure_noise_through_the_whole_pipeline(self):
        # The same noise projected to WGS-84 and back: hotspot_cells gives the labels test_cells gives on numpy's binning.
        from geo.incidents.hotspots import test_cells

        inv = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
        x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(108.37, 30.84)
        x0, y0 = np.floor(x0 / 200) * 200, np.floor(y0 / 200) * 200
        edges = np.linspace(0, 3000, 16)
        for seed in (41, 47, 600):  # 41 and 47 flag a cell by chance, 600 none
            rng = np.random.default_rng(seed)
            x, y = rng.uniform(0, 3000, 6000), rng.uniform(0, 3000, 6000)
            lon, lat = inv.transform(x0 + x, y0 + y)
            n = 6000
            inc = IncidentArrays(np.asarray(lon), np.asarray(lat), np.full(n, T0, dtype=np.int64), np.zeros(n, np.int8), np.full(n, -1, np.int8), np.zeros(n, np.int8))
            c = hotspot_cells(inc, bounds=(108.3, 30.7, 108.5, 30.95))
            assert len(c) == 225
            ref = test_cells(np.histogram2d(y, x, bins=[edges, edges])[0].ravel(), 15, 15, alpha=0.05)
            assert (c.sort_values("cell")["label"].to_numpy() == ref["label"]).mean() > 0.99
            assert "Benjamini-Hochberg" in c.attrs["method"]


def test_demo_data_flags_the_planted_hot_spots():
    from benchmarks.demo_incidents import DemoParams, make_demo_incidents
    from geo import io

    est = io.read_estates(None)
    params = DemoParams()
    demo = make_demo_incidents(est, params=params)
    # The generator's own draw: the estates it made three times hotter (its first two draws, repeated here).
    rng = np.random.default_rng(params.seed)
    rng.lognormal(0.0, params.hotness_sigma, len(est))
    planted = set(est["estate_id"].to_numpy()[rng.choice(len(est), size=params.n_hot_estates, replace=False)])
    assert planted == {"SH-06", "SH-24", "SH-09", "SH-18"}
    cells = hotspot_cells(IncidentArrays.from_frame(demo.drop(columns="origin")))
    hot = cells[cells["label"] == "hot"]
    # Each planted estate's own cell, and the cell at the centre of the industrial park the generator uses, are hot.
    at = est.set_index("estate_id").geometry
    for eid in sorted(planted):
        assert hot.geometry.contains(at[eid]).any(), eid
    assert hot.geometry.contains(shapely.Point(settings.shenmingba_park_lonlat)).any()
    # Most of the park's incidents (spread 250 m) fall in hot cells.
    park = demo[demo["origin"] == "park"]
    pts = shapely.points(park["lon"].to_numpy(), park["lat"].to_numpy())
    inside = np.zeros(len(park), dtype=bool)
    for geom in hot.geometry:
        inside |= shapely.contains(geom, pts)
    assert inside.mean() > 0.5
