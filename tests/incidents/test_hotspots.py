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


def make(seed: int = 0, n_background: int = 600, n_spot: int = 150) -> IncidentArrays:
    rng = np.random.default_rng(seed)
    west, south, east, north = settings.shahe_bounds
    lon = np.concatenate([rng.uniform(west, east, n_background), SPOT[0] + rng.normal(0, 0.0004, n_spot)])
    lat = np.concatenate([rng.uniform(south, north, n_background), SPOT[1] + rng.normal(0, 0.0004, n_spot)])
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
    """Getis and Ord (1995) Gi* with binary queen weights including the cell itself, one loop per cell."""
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
        assert cells["count"].sum() == 750
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

    def test_seeded_permutations_repeat(self, cells):
        again = hotspot_cells(make(), cell_m=400, permutations=199, seed=7)
        np.testing.assert_array_equal(again["p_sim"].to_numpy(), cells["p_sim"].to_numpy())
        assert cells.attrs["seed"] == 7 and cells.attrs["permutations"] == 199


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
