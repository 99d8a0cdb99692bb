"""Mann-Kendall and emerging hot spots (geo.incidents.trend, geo.incidents.emerging)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from geo.incidents.emerging import classify, emerging_hotspots, space_time_gi
from geo.incidents.trend import mann_kendall


def test_mann_kendall_by_hand():
    # 1, 2, 3, 4, 5: all 10 pairs rise, S = 10; Var = 5*4*15/18 = 16.667; Z = (10 - 1)/sqrt(16.667) = 2.2045;
    # p = 2 * (1 - Phi(2.2045)) = 0.0275.
    r = mann_kendall([1, 2, 3, 4, 5])
    assert r.s == 10 and r.var_s == pytest.approx(50 / 3) and r.z == pytest.approx(2.2045, abs=1e-4)
    assert r.p_value == pytest.approx(0.0275, abs=1e-4) and r.tau == 1.0
    # 3, 1, 2, 2: pairs (3,1)-,(3,2)-,(3,2)-,(1,2)+,(1,2)+,(2,2)0 -> S = -1; one tie of 2:
    # Var = (4*3*13 - 2*1*9)/18 = (156 - 18)/18 = 7.667; S < 0 -> Z = (S + 1)/sd = 0, p = 1.
    t = mann_kendall([3, 1, 2, 2])
    assert t.s == -1 and t.var_s == pytest.approx(138 / 18) and t.z == 0 and t.p_value == pytest.approx(1.0)
    assert np.isnan(mann_kendall([1, 2, 3]).p_value)


def test_mann_kendall_s_agrees_with_kendall_tau():
    rng = np.random.default_rng(5)
    x = rng.normal(size=12)
    r = mann_kendall(x)
    tau, _ = kendalltau(np.arange(12), x)
    assert r.tau == pytest.approx(tau)


def test_space_time_gi_matches_the_formula():
    rng = np.random.default_rng(2)
    cube = rng.poisson(3, size=(3, 12)).astype(float)  # 3 periods, a 3 x 4 grid
    z = space_time_gi(cube, 3, 4)
    flat = cube.ravel()
    n, mean = flat.size, flat.mean()
    s = np.sqrt((flat**2).mean() - mean**2)
    for t in range(3):
        for c in range(12):
            r, col = divmod(c, 4)
            w = np.zeros((3, 12))
            for tt in ([t - 1, t] if t > 0 else [t]):
                for rr in range(max(0, r - 1), min(3, r + 2)):
                    for cc in range(max(0, col - 1), min(4, col + 2)):
                        w[tt, rr * 4 + cc] = 1
            big_w = w.sum()
            expect = ((w.ravel() * flat).sum() - mean * big_w) / (s * np.sqrt((n * big_w - big_w**2) / (n - 1)))
            assert z[t, c] == pytest.approx(expect)


@pytest.mark.parametrize(("hot", "cold", "trend", "pattern"), [
    ([0, 0, 0, 0, 0, 1], [0] * 6, (1.0, 0.0), "new hot spot"),
    ([0, 0, 0, 1, 1, 1], [0] * 6, (1.0, 0.0), "consecutive hot spot"),
    ([1] * 6, [0] * 6, (0.01, 2.5), "intensifying hot spot"),
    ([1] * 6, [0] * 6, (0.5, 0.3), "persistent hot spot"),
    ([1] * 6, [0] * 6, (0.01, -2.5), "diminishing hot spot"),
    ([0, 1, 0, 1, 0, 1], [0] * 6, (1.0, 0.0), "sporadic hot spot"),
    ([0, 1, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0], (1.0, 0.0), "oscillating hot spot"),
    ([1] * 10 + [0], [0] * 11, (1.0, 0.0), "historical hot spot"),
    ([0] * 6, [0, 0, 0, 0, 1, 1], (1.0, 0.0), "consecutive cold spot"),
    ([0, 1, 0, 0, 0, 0], [0] * 6, (1.0, 0.0), "no pattern"),
])
def test_classify_esri_patterns(hot, cold, trend, pattern):
    assert classify(np.array(hot, bool), np.array(cold, bool), trend[0], trend[1], alpha=0.05) == pattern


def test_emerging_finds_a_growing_cluster():
    import calendar
    import datetime as dt

    from geo import settings
    from geo.incidents.store import IncidentArrays

    rng = np.random.default_rng(4)
    west, south, east, north = settings.shahe_bounds
    lon, lat, t = [], [], []
    for year in range(2019, 2025):
        n_bg, n_spot = 300, 0 if year < 2023 else 120  # a cluster appears in 2023 and stays
        lon += list(rng.uniform(west, east, n_bg)) + list(108.372 + rng.normal(0, 0.002, n_spot))
        lat += list(rng.uniform(south, north, n_bg)) + list(30.845 + rng.normal(0, 0.002, n_spot))
        t += [calendar.timegm(dt.datetime(year, 6, 1).timetuple())] * (n_bg + n_spot)
    n = len(lon)
    inc = IncidentArrays(np.array(lon), np.array(lat), np.array(t, dtype=np.int64), np.zeros(n, np.int8), np.full(n, -1, np.int8), np.zeros(n, np.int8))
    cells = emerging_hotspots(inc, cell_m=400)
    assert cells.attrs["periods"] == ["2019", "2020", "2021", "2022", "2023", "2024"]
    patterns = set(cells["pattern"])
    assert "consecutive hot spot" in patterns or "new hot spot" in patterns
    assert not any(p.startswith(("persistent", "historical")) for p in patterns)
    assert "Benjamini-Hochberg" in cells.attrs["method"]
    with pytest.raises(ValueError, match="period must be"):
        emerging_hotspots(inc, period="month")


def test_cli_emerging(tmp_path, capsys):
    from geo.cli.main import main
    from geo.incidents.store import write_store

    rng = np.random.default_rng(1)
    n = 2000
    df = pd.DataFrame({
        "incident_id": [f"T{i}" for i in range(n)],
        "time": [f"{y}-03-01T10:00:00+08:00" for y in rng.integers(2019, 2025, n)],
        "category": "盗窃", "subcategory": "", "source": "110",
        "lon": rng.uniform(108.36, 108.38, n), "lat": rng.uniform(30.83, 30.85, n),
        "address": "", "text": "", "synthetic": "true", "x_geocode_quality": "given",
    })
    write_store(df, tmp_path / "incidents.csv")
    assert main(["hotspots", "--emerging", "--incidents", str(tmp_path / "incidents.csv"), "--cell-m", "400", "--out", str(tmp_path / "e.geojson")]) == 0
    out = capsys.readouterr().out
    assert "method: emerging hot spots" in out and "correction: Benjamini-Hochberg" in out and (tmp_path / "e.geojson").exists()
