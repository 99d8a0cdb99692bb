"""Difference-in-differences, placebo inference, displacement ring and event study (geo.incidents.did)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo.incidents.attribution import ring_incidents
from geo.incidents.did import did_table, event_study, placebo_p

GEOD = pyproj.Geod(ellps="WGS84")
A = (108.360, 30.840)


def offset(origin, azimuth_deg, dist_m):
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], azimuth_deg, dist_m)
    return (lon, lat)


def estates(points, ids, years):
    df = pd.DataFrame({"estate_id": ids, "name": ids, "community": "c", "batch_year": years})
    return gpd.GeoDataFrame(df, geometry=[shapely.Point(p) for p in points], crs="EPSG:4326")


def monthly(point, per_month: dict[str, int]):
    """Incidents at ``point``: ``per_month`` maps 'YYYY-MM' to a count (on the 10th, noon)."""
    rows = [(*point, f"{m}-10 12:00", "盗窃", "110") for m, k in per_month.items() for _ in range(k)]
    return pd.DataFrame(rows, columns=["lon", "lat", "time", "category", "source"]).assign(time=lambda d: pd.to_datetime(d["time"]))


def months(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


T_PT, C1_PT, C2_PT = A, offset(A, 90, 2000), offset(A, 90, 4000)


@pytest.fixture
def two():
    """T rectified in 2022, C (2024 batch) the control; data 2021-01 to 2023-06."""
    est = estates([T_PT, C1_PT], ["T", "C"], [2022, 2024])
    pre, post = months("2021-01", "2021-12"), months("2022-12", "2023-06")
    inc = pd.concat([
        monthly(T_PT, {**dict.fromkeys(pre, 2), **dict.fromkeys(months("2022-01", "2022-11"), 9), **dict.fromkeys(post, 1)}),
        monthly(C1_PT, {**dict.fromkeys(pre, 2), **dict.fromkeys(months("2022-01", "2022-11"), 3), **dict.fromkeys(post, 4)}),
    ], ignore_index=True)
    return est, inc


def test_rate_ratio_by_hand(two):
    est, inc = two
    t = did_table(inc, est, radius_m=100, permutations=999, seed=1).set_index("estate_id")
    # Treated: 2 a month before, 1 after -> 0.5; control: 2 before, 4 after -> 2; DiD rate ratio 0.5 / 2 = 0.25.
    # The window months (9 and 3 a month) count for neither side.
    row = t.loc["T"]
    assert row["n_pre"] == 24 and row["n_post"] == 7 and row["months_pre"] == 12 and row["months_post"] == 7
    assert row["irr"] == pytest.approx(0.25) and row["change_pct"] == pytest.approx(-75.0)
    assert row["controls"] == 1 and row["post_months"] == "2022-12..2023-06"
    assert t.loc["C", "verdict_code"] == "no_control"
    assert "nearest estate within 100 m" in t.attrs["method"] and "Benjamini-Hochberg" in t.attrs["method"]


def test_placebo_p_matches_exact_enumeration(two):
    est, inc = two
    # Per month: treated counts n and control index r (pre: r = 1; post: r = 4 / 2 = 2).
    n = np.array([2.0] * 12 + [1.0] * 7)
    r = np.array([1.0] * 12 + [2.0] * 7)
    pre = np.arange(19) < 12
    post = ~pre

    def stat(is_post):
        return abs(np.log(((n[is_post].sum() + 0.5) / r[is_post].sum()) / ((n[~is_post].sum() + 0.5) / r[~is_post].sum())))

    obs = stat(post)
    allstats = []
    for pick in itertools.combinations(range(19), 7):
        mask = np.zeros(19, dtype=bool)
        mask[list(pick)] = True
        allstats.append(stat(mask))
    exact = np.mean(np.array(allstats) >= obs - 1e-12)
    assert exact == pytest.approx(1 / 50388)  # only the real assignment is that extreme
    p = placebo_p(n, r, pre, post, permutations=999, seed=3)
    assert p <= 2 / 1000  # Monte Carlo: (1 + hits) / 1000, hits almost surely 0
    t = did_table(inc, est, radius_m=100, permutations=999, seed=3).set_index("estate_id")
    assert t.loc["T", "p_value"] == pytest.approx(p)
    assert t.loc["T", "verdict_code"] == "fewer"


def test_control_leaves_when_its_own_window_starts():
    # C1 (2023 batch) controls only December 2022; C2 (2024) the whole post period. C1's own window months
    # (a burst of 50 a month in 2023) must not enter the control index.
    est = estates([T_PT, C1_PT, C2_PT], ["T", "C1", "C2"], [2022, 2023, 2024])
    pre = months("2021-01", "2021-12")
    inc = pd.concat([
        monthly(T_PT, {**dict.fromkeys(pre, 4), **dict.fromkeys(months("2022-12", "2023-06"), 2)}),
        monthly(C1_PT, {**dict.fromkeys(pre, 2), "2022-12": 2, **dict.fromkeys(months("2023-01", "2023-06"), 50)}),
        monthly(C2_PT, {**dict.fromkeys(pre, 2), **dict.fromkeys(months("2022-12", "2023-06"), 2)}),
    ], ignore_index=True)
    t = did_table(inc, est, radius_m=100, permutations=99).set_index("estate_id")
    # Controls flat (index 1 everywhere), treated 4 -> 2: rate ratio 0.5.
    assert t.loc["T", "irr"] == pytest.approx(0.5)
    assert t.loc["T", "controls"] == 2
    # C1's post months (December 2023 on) have no control left before 2024-01: only December 2023 -> too short.
    assert t.loc["C1", "verdict_code"] in ("too_short", "no_incidents")


def test_ring_incidents_by_hand():
    b = offset(A, 0, 650)
    est = estates([A, b], ["A", "B"], [2022, 2024])
    pts = [offset(A, 180, 100), offset(A, 180, 450), offset(A, 180, 700), offset(A, 0, 450)]
    inc = pd.DataFrame({"lon": [p[0] for p in pts], "lat": [p[1] for p in pts], "time": pd.to_datetime(["2021-01-01"] * 4),
                        "category": "盗窃", "source": "110"})
    ii, ee = ring_incidents(inc, est, inner_m=300, outer_m=600)
    # 100 m: inside A, not ring; 450 m south: A's ring; 700 m south: beyond; 450 m north is 200 m from B: inside B, not ring.
    assert ii.tolist() == [1] and ee.tolist() == [0]
    with pytest.raises(ValueError, match="outer distance"):
        ring_incidents(inc, est, inner_m=600, outer_m=300)


def test_event_study_by_hand(two):
    est, inc = two
    es = event_study(inc, est, radius_m=100)
    w22 = es[es["window"] == "2022-01..2022-11"].set_index("rel_month")
    assert w22.loc[-12, "month"] == "2021-01" and w22.loc[-12, "treated"] == 2 and w22.loc[-12, "control"] == 2
    assert w22.loc[0, "treated"] == 9 and w22.loc[11, "treated"] == 1 and w22.loc[11, "control"] == 4
    w24 = es[es["window"] == "2024-01..2024-11"]
    assert w24["control"].isna().all() and (w24["controls"] == 0).all()
    # Ratio to expectation: the control index is C's count over its pre mean (2), T's pre incidents per unit of index
    # are 24 / 12 = 2, so T is expected 2 * C(t) / 2 = C(t): 2 before, 3 in the window, 4 after.
    assert w22.loc[-12, "expected"] == pytest.approx(2) and w22.loc[-12, "ratio"] == pytest.approx(1)
    assert w22.loc[0, "expected"] == pytest.approx(3) and w22.loc[0, "ratio"] == pytest.approx(3) and w22.loc[0, "phase"] == "window"
    assert w22.loc[11, "ratio"] == pytest.approx(0.25) and w22.loc[11, "phase"] == "after"
    # Exact Poisson 95 % interval of one event (Garwood; tables give 0.0253 to 5.572), over the expectation 4.
    assert w22.loc[11, "ratio_low"] == pytest.approx(0.0253 / 4, abs=1e-4) and w22.loc[11, "ratio_high"] == pytest.approx(5.572 / 4, abs=1e-3)
    assert w24["ratio"].isna().all() and es.attrs["level"] == 0.95


def test_estates_at_one_spot_are_one_site_and_near_controls_are_left_out():
    # T1 and T2 (2022) lie 10 m apart: one site, its counts the sum of both. C_near (2024) lies 200 m from T1, within
    # the 300 m radius: its incidents are not separable from the site's, so it is no control; C_far (2024, 2 km) is.
    t2, c_near = offset(A, 90, 10), offset(A, 0, 200)
    est = estates([A, t2, c_near, C1_PT], ["T1", "T2", "CN", "CF"], [2022, 2022, 2024, 2024])
    pre, post = months("2021-01", "2021-12"), months("2022-12", "2023-06")
    inc = pd.concat([
        monthly(A, {**dict.fromkeys(pre, 3), **dict.fromkeys(post, 1)}),
        monthly(t2, {**dict.fromkeys(pre, 1), **dict.fromkeys(post, 1)}),
        monthly(c_near, {**dict.fromkeys(pre, 2), **dict.fromkeys(post, 8)}),  # would make the DiD look like a big drop
        monthly(C1_PT, {**dict.fromkeys(pre, 2), **dict.fromkeys(post, 2)}),
    ], ignore_index=True)
    t = did_table(inc, est, permutations=99).set_index("estate_id")
    assert "T1+T2" in t.index and "T1" not in t.index and "T2" not in t.index
    row = t.loc["T1+T2"]
    # Site: 4 a month before, 2 after (each incident to its nearest estate, which is its own); control flat: IRR 0.5.
    assert not row["separable"] and row["estates"] == 2 and row["name"] == "T1/T2"
    assert row["n_pre"] == 48 and row["n_post"] == 14 and row["controls"] == 1
    assert row["irr"] == pytest.approx(0.5)
    assert "one site" in t.attrs["method"]
    # Without the exclusion the near control (2 -> 8) would have given 0.5 / ((8 + 2) / 4) = 0.2.
    assert t.loc["CN", "separable"] and t.loc["CN", "verdict_code"] == "no_control"


def _sites_2022(est) -> list[set[str]]:
    """Estates of the 2022 batch linked by steps of at most 300 m, computed here with pyproj and a plain loop."""
    sub = est[est["batch_year"] == 2022]
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy())
    ids = sub["estate_id"].tolist()
    sites = [{i} for i in ids]
    for a, b in itertools.combinations(range(len(ids)), 2):
        if np.hypot(x[a] - x[b], y[a] - y[b]) <= 300:
            sa = next(s for s in sites if ids[a] in s)
            sb = next(s for s in sites if ids[b] in s)
            if sa is not sb:
                sa |= sb
                sites.remove(sb)
    return sites


def test_demo_recovers_effective_sites_without_neighbour_false_positives():
    from benchmarks.demo_incidents import DemoParams, make_demo_incidents
    from geo import io
    from geo.incidents.effect import effect_summary, effect_table
    from geo.incidents.store import IncidentArrays

    est = io.read_estates(None)
    demo = make_demo_incidents(est, params=DemoParams())
    truth = set(demo.attrs["effective"])  # the generator's planted truth
    # SH-07 and SH-08 (one compound, 10 m apart) share the generator's draw; SH-01 was drawn, SH-03 not.
    assert truth & set(est.loc[est["batch_year"] == 2022, "estate_id"]) == {"SH-01", "SH-04", "SH-06", "SH-07", "SH-08"}
    inc = IncidentArrays.from_frame(demo.drop(columns="origin"))
    did = did_table(inc, est).set_index("estate_id")
    sites = _sites_2022(est)
    assert sorted("+".join(sorted(s)) for s in sites) == sorted(did.index[did["window"] == "2022-01..2022-11"])
    for site in sites:
        row = did.loc["+".join(sorted(site))]
        assert row["separable"] == (len(site) == 1)
        if site <= truth:  # every estate of the site effective: the drop is found
            assert row["verdict_code"] == "fewer", site
        if not site & truth:  # no effective estate: nothing is claimed
            assert row["verdict_code"] == "no_clear_change", site
    # A flagged site always holds an effective estate (no false positive among neighbours); SH-03 is only ever
    # named together with SH-01, in a row that says the two cannot be separated.
    flagged = did[did["verdict_code"].isin(["fewer", "more"])]
    assert all(set(i.split("+")) & truth for i in flagged.index)
    assert "SH-03" not in did.index and not did.loc["SH-01+SH-03", "separable"]
    assert {"SH-04", "SH-06", "SH-07+SH-08"} <= set(flagged.index)
    ba = effect_table(inc, est)
    assert set(ba.loc[ba["verdict_code"].isin(["fewer", "more"]), "estate_id"]) <= truth
    # Pooled counts are distinct incidents: with nearest attribution they add up exactly, and in radius mode
    # the batch's count is the number of distinct incidents near any of its estates.
    radius = effect_table(inc, est, mode="radius", radius_m=300)
    pooled = effect_summary(radius).set_index("batch_year")
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True).transform(inc.lon, inc.lat)
    em = est.to_crs("EPSG:4545")
    members = em[em["batch_year"] == 2023].geometry
    near = np.zeros(len(x), dtype=bool)
    for g in members:
        near |= shapely.dwithin(shapely.points(np.asarray(x), np.asarray(y)), g, 300)
    month = (inc.time_s.astype("datetime64[s]").astype("datetime64[M]").astype(int))
    before = month < (2023 - 1970) * 12
    assert pooled.loc[2023, "n_before"] == int((near & before).sum())


def test_cli_effect_did_states_method_attribution_and_caveat(tmp_path, two, capsys, monkeypatch):
    from geo import io, settings
    from geo.cli.main import main
    from geo.incidents.store import STORE_COLUMNS, write_store

    est, inc = two
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    io.write_geojson(est.assign(address="x", units=2), tmp_path / "estates.geojson")
    store = inc.assign(incident_id=[f"T{i}" for i in range(len(inc))], time=inc["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                       subcategory="", address="", text="", synthetic="false", x_geocode_quality="given")[list(STORE_COLUMNS)]
    write_store(store, tmp_path / "incidents.csv")
    assert main(["effect", "--radius-m", "100", "--placebo", "199", "--event-study", "--out", str(tmp_path / "did.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    method = next(line for line in out if line.startswith("method:"))
    assert "difference-in-differences" in method and "correction: Benjamini-Hochberg" in method and "caveat:" in method
    assert any(line.startswith("attribution: each incident to the nearest estate within 100 m") for line in out)
    assert any("< 0.001" in line or "0.005" in line for line in out)  # p written by format_p (199 placebos: at best 0.005)
    assert any(line.startswith("event study") for line in out)
    table = pd.read_csv(tmp_path / "did.csv", encoding="utf-8-sig")
    assert table.set_index("estate_id").loc["T", "irr"] == pytest.approx(0.25)
    assert main(["effect", "--by", "community", "--radius-m", "100"]) == 2
    assert main(["effect", "--radius-m", "100", "--placebo", "99", "--site-m", "50"]) == 0
    assert "estates of one window within 50 m of each other are one site" in capsys.readouterr().out
