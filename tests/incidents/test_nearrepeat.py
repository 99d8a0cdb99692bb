"""Knox test of near repeats and the zones after recent cases (geo.incidents.nearrepeat)."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools

import numpy as np
import pyproj
import pytest

from geo.incidents.nearrepeat import knox_counts, knox_test, near_repeat_zones
from geo.incidents.store import IncidentArrays
from geo.incidents.taxonomy import SUBCATEGORY_NAMES

BURGLARY = SUBCATEGORY_NAMES.index("入室盗窃")
T0 = calendar.timegm(dt.datetime(2023, 1, 1).timetuple())
INV = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
X0, Y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(108.37, 30.84)


def cases(x_m, y_m, day):
    lon, lat = INV.transform(X0 + np.asarray(x_m, float), Y0 + np.asarray(y_m, float))
    n = len(day)
    return IncidentArrays(np.asarray(lon), np.asarray(lat), (T0 + np.asarray(day, float) * 86400).astype(np.int64), np.zeros(n, np.int8),
                          np.full(n, BURGLARY, np.int8), np.zeros(n, np.int8), ids=np.array([f"B{i}" for i in range(n)], dtype=object))


def test_knox_counts_by_hand():
    # Four cases: A(0,0) day 0, B(50,0) day 3, C(0,150) day 20, D(1000,0) day 1.
    # Pairs within 200 m: A-B 50 m 3 d; A-C 150 m 20 d; B-C 158 m 17 d. Bands 100/200 m and 7/30 days:
    # [0-100 m]: A-B in 0-7 d; [100-200 m]: A-C and B-C in 7-30 d.
    x, y, day = np.array([0.0, 50, 0, 1000]), np.array([0.0, 0, 150, 0]), np.array([0.0, 3, 20, 1])
    c = knox_counts(x, y, day, [100, 200], [7, 30])
    assert c.tolist() == [[1, 0], [0, 2]]


def test_knox_expected_matches_exact_enumeration():
    x, y, day = [0, 50, 0, 1000, 60], [0, 0, 150, 0, 40], [0, 3, 20, 1, 2]
    inc = cases(x, y, day)
    t = knox_test(inc, bands_m=[100, 200], bands_days=[7, 30], permutations=4000, seed=1)
    # Exact expectation over all 5! orderings of the days among the places.
    xm, ym = np.array(x, float), np.array(y, float)
    tables = [knox_counts(xm, ym, np.array(p, float), [100, 200], [7, 30]) for p in itertools.permutations(day)]
    exact = np.mean(tables, axis=0)
    np.testing.assert_allclose(t["expected"].to_numpy().reshape(2, 2), exact, atol=0.06)
    assert t["observed"].tolist() == knox_counts(xm, ym, np.array(day, float), [100, 200], [7, 30]).ravel().tolist()


def test_planted_near_repeats_are_found_and_random_cases_are_not():
    rng = np.random.default_rng(7)
    n = 300
    x, y, day = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n), rng.uniform(0, 365, n)
    random_only = cases(x, y, day)
    t0 = knox_test(random_only, permutations=199, seed=2)
    assert not t0["significant"].any()
    assert "no near-repeat" in t0.attrs["headline"]
    # Each of 100 cases gets a repeat within 50 m and 3 days.
    src = rng.choice(n, 100, replace=False)
    ang = rng.uniform(0, 2 * np.pi, 100)
    rx, ry = x[src] + 50 * np.cos(ang) * rng.uniform(0, 1, 100), y[src] + 50 * np.sin(ang) * rng.uniform(0, 1, 100)
    rd = day[src] + rng.uniform(0, 3, 100)
    inc = cases(np.concatenate([x, rx]), np.concatenate([y, ry]), np.concatenate([day, rd]))
    t = knox_test(inc, permutations=199, seed=2)
    first = t.iloc[0]
    assert first["significant"] and first["ratio"] > 3
    assert t.attrs["headline"].startswith("within 100 m and 7 days of a case the risk of another is")
    zones = near_repeat_zones(inc, t)
    last = inc.time_s.max()
    recent = int(((inc.time_s > last - 7 * 86400) & (inc.time_s <= last)).sum())
    assert len(zones) == recent and (zones["radius_m"] == 100).all() and zones.crs.to_epsg() == 4326
    assert zones.attrs["note"] == ""


def test_bad_bands_and_too_few_cases():
    inc = cases([0, 10, 20, 30], [0, 0, 0, 0], [0, 1, 2, 3])
    with pytest.raises(ValueError, match="increasing"):
        knox_test(inc, bands_m=[200, 100])
    with pytest.raises(ValueError, match="only 2 cases"):
        knox_test(cases([0, 10], [0, 0], [0, 1]))
