"""Dosage and plan against actual on hand-made tracks, with figures computed by hand.

Team PS-A walks 500 m west at 5 m/s to SH-06, stays there 22:00-22:12 and walks
back: within 100 m from 21:59:40 (100 m out at 5 m/s) to 22:12:20, a 12 min 40 s
night stop. Team VO-B drives past 60 m north of SH-06 at 14:00 with one fix a
minute (none within 100 m): the chord inside the circle is 2 * sqrt(100^2 - 60^2)
= 160 m at 320 m / 60 s, i.e. 30 s. Team EN-C patrols 500 m north of SH-22 and
never comes to either estate.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import crs as _crs
from geo import io, settings
from geo.tracks import dosage_table, import_tracks, plan_vs_actual, run_scan, unvisited_estates, visit_table

DAY = "2026-03-04"


def _lonlat(x, y):
    t = _crs.metric_to_lonlat_transformer()
    return t.transform(np.asarray(x, float), np.asarray(y, float))


@pytest.fixture
def world(tmp_path):
    estates = io.read_estates()
    estates = estates[estates["estate_id"].isin(["SH-06", "SH-22"])].reset_index(drop=True)
    (ex, sx), (ey, sy) = _crs.project_lonlat(estates.geometry.x.to_numpy(), estates.geometry.y.to_numpy())
    rows = []

    def add(team, start, xs, ys, step_s):
        t0 = pd.Timestamp(f"{DAY} {start}")
        lon, lat = _lonlat(xs, ys)
        for k, (lo, la) in enumerate(zip(lon, lat, strict=True)):
            rows.append((team, (t0 + pd.Timedelta(seconds=step_s * k)).strftime("%Y-%m-%d %H:%M:%S"), f"{lo:.10f}", f"{la:.10f}"))

    # PS-A: in at 5 m/s (21:58:20-22:00:00), 72 still intervals to 22:12:00, out at 5 m/s to 22:13:40.
    xs = np.r_[ex + 500 - 50 * np.arange(11), np.full(72, ex), ex + 50 * np.arange(1, 11)]
    add("PS-A", "21:58:20", xs, np.full(len(xs), ey), 10)
    # VO-B: one fix a minute, 60 m north, 320 m per minute.
    add("VO-B", "13:59:00", ex + np.array([-520.0, -200.0, 120.0, 440.0]), np.full(4, ey + 60), 60)
    # EN-C: 400 m of its 800 m route, 500 m north of SH-22, at 2 m/s.
    add("EN-C", "23:00:00", sx - 400 + 20 * np.arange(21), np.full(21, sy + 500), 10)
    csv = tmp_path / "fixes.csv"
    pd.DataFrame(rows, columns=["team_id", "time", "lon", "lat"]).to_csv(csv, index=False)

    def line(x0, y0, x1, y1):
        lon, lat = _lonlat([x0, x1], [y0, y1])
        return shapely.LineString(np.c_[lon, lat])

    routes = gpd.GeoDataFrame({
        "route_id": ["R-A", "R-B", "R-C"], "team_id": ["PS-A", "VO-B", "EN-C"], "team": ["A", "B", "C"],
        "org_type": ["police", "volunteer", "enterprise"], "shift": ["all", "all", "all"],
    }, geometry=[line(ex + 500, ey, ex, ey), line(ex - 520, ey + 60, ex + 440, ey + 60), line(sx - 400, sy + 500, sx + 400, sy + 500)],
        crs="EPSG:4326")
    store = tmp_path / "tracks"
    import_tracks(csv, tracks_path=store)
    return estates, routes, store


def test_visits_and_daily_dosage_match_hand_figures(world):
    estates, _, store = world
    res = run_scan(estates, tracks_path=store)
    v = visit_table(res, estates)
    a = v[v["team_id"] == "PS-A"].iloc[0]
    assert a["start"] == pd.Timestamp(f"{DAY} 21:59:40") and a["end"] == pd.Timestamp(f"{DAY} 22:12:20")
    assert a["duration_min"] == pytest.approx(760 / 60, abs=0.01)
    assert a["night_min"] == pytest.approx(760 / 60, abs=0.01)
    assert bool(a["stop"]) and not bool(a["long_stay"])
    b = v[v["team_id"] == "VO-B"].iloc[0]
    assert b["start_s"] == pytest.approx(pd.Timestamp(f"{DAY} 14:00:22.5").value / 1e9, abs=0.05)
    assert b["duration_min"] == pytest.approx(0.5, abs=0.002)
    assert b["night_min"] == 0 and not bool(b["stop"])
    assert "EN-C" not in set(v["team_id"])

    table = dosage_table(res, estates, by="day").set_index("estate_id")
    sh06 = table.loc["SH-06"]
    assert sh06["period"] == DAY
    assert sh06["visits"] == 2 and sh06["teams"] == 2 and sh06["team_ids"] == "PS-A;VO-B"
    assert sh06["minutes_present"] == pytest.approx(760 / 60 + 0.5, abs=0.01)
    assert sh06["night_minutes"] == pytest.approx(760 / 60, abs=0.01)
    assert (sh06["night_visits"], sh06["stops"], sh06["long_stays"]) == (1, 1, 0)
    # Measured at the last fix (EN-C, 23:03:20, plus one second) from the end of the stop, 22:12:20.
    assert sh06["hours_since_last_visit"] == pytest.approx((51 * 60 + 1) / 3600, abs=0.01)
    sh22 = table.loc["SH-22"]
    assert sh22["visits"] == 0 and sh22["minutes_present"] == 0 and np.isnan(sh22["hours_since_last_visit"])

    night = dosage_table(res, estates, by="day", night=True).set_index("estate_id").loc["SH-06"]
    assert night["visits"] == 1 and night["minutes_present"] == pytest.approx(760 / 60, abs=0.01)


def test_plan_against_actual_matches_hand_figures(world):
    estates, routes, store = world
    teams, per_route, res = plan_vs_actual(estates, routes, tracks_path=store)
    t = teams.set_index("team_id")
    assert t.loc["PS-A", "planned_m"] == pytest.approx(500, abs=0.5)
    assert t.loc["PS-A", "patrolled_m"] == pytest.approx(1000, abs=0.5)
    assert t.loc["PS-A", "patrolled_ratio"] == pytest.approx(2.0, abs=1e-3)
    assert teams.attrs["days"] == 1 and t.loc["PS-A", "patrolled_m_per_day"] == pytest.approx(1000, abs=0.5)
    assert t.loc["PS-A", "route_share"] == pytest.approx(1.0)
    assert t.loc["VO-B", "patrolled_m"] == pytest.approx(960, abs=0.5)
    assert t.loc["VO-B", "route_share"] == pytest.approx(1.0)
    # EN-C: samples every 5 m on 800 m (161); reached up to 400 + 30 m along it (87).
    assert t.loc["EN-C", "patrolled_m"] == pytest.approx(400, abs=0.5)
    assert t.loc["EN-C", "route_share"] == pytest.approx(87 / 161, abs=1e-4)
    r = per_route.set_index("route_id")
    assert r.loc["R-C", "length_m"] == pytest.approx(800, abs=0.1) and r.loc["R-C", "share_covered"] == pytest.approx(87 / 161, abs=1e-4)
    # The rule: A and B cover SH-06 and went; SH-22 is nobody's cover, EN-C (500 m away) is obliged and never came.
    assert (t.loc["PS-A", "obligations"], t.loc["PS-A", "obligations_met"]) == (1, 1)
    assert (t.loc["VO-B", "obligations"], t.loc["VO-B", "obligations_met"]) == (1, 1)
    assert (t.loc["EN-C", "obligations"], t.loc["EN-C", "obligations_met"], t.loc["EN-C", "unmet_estate_ids"]) == (1, 0, "SH-22")
    two_days = pd.Timestamp(f"{DAY} 23:59:59").value / 1e9 + 2 * 86400
    assert list(unvisited_estates(res, estates, routes, nights=1, as_of_s=two_days)["estate_id"]) == ["SH-06"]
    assert unvisited_estates(res, estates, routes, nights=7, as_of_s=two_days).empty


def test_chunked_scan_gives_the_same_visits(world):
    estates, _, store = world
    whole = visit_table(run_scan(estates, tracks_path=store), estates)
    small = visit_table(run_scan(estates, tracks_path=store, chunk_rows=7), estates)
    pd.testing.assert_frame_equal(whole, small)


def test_settings_change_the_stop_window(world, monkeypatch):
    estates, _, store = world
    monkeypatch.setattr(settings, "stop_max_minutes", 12.0)
    v = visit_table(run_scan(estates, tracks_path=store), estates)
    a = v[v["team_id"] == "PS-A"].iloc[0]
    assert not bool(a["stop"]) and bool(a["long_stay"])


def test_presence_cells_add_up_to_the_minutes_tracked(world):
    from geo.tracks.presence import presence_cells
    from geo.tracks.store import iter_chunks

    _, _, store = world
    cells = presence_cells(iter_chunks(store), cell_m=100.0, min_minutes=0.0)
    # PS-A: 92 segments of 10 s (15 min 20 s); VO-B: 3 of 60 s; EN-C: 20 of 10 s.
    assert cells["minutes"].sum() == pytest.approx((920 + 180 + 200) / 60, abs=0.01)
    assert cells.crs.to_epsg() == 4326 and cells["teams"].max() == 1
    # The cell at SH-06 holds PS-A's 72 still intervals (12 min) and its moves within the cell.
    assert cells["minutes"].max() >= 12.0


def test_command_line_writes_the_hand_figures(world, tmp_path, capsys, monkeypatch):
    from geo.cli.main import main

    estates, routes, store = world
    est_file, routes_file = tmp_path / "estates.geojson", tmp_path / "routes.geojson"
    io.write_geojson(estates, est_file)
    io.write_geojson(routes, routes_file)
    out = tmp_path / "dosage.csv"
    assert main(["dosage", "--estates", str(est_file), "--tracks-dir", str(store), "--by", "month", "--night", "--out", str(out)]) == 0
    d = pd.read_csv(out, encoding="utf-8-sig").set_index("estate_id")
    assert d.loc["SH-06", "period"] == "2026-03-01" and d.loc["SH-06", "visits"] == 1
    assert d.loc["SH-06", "minutes_present"] == pytest.approx(760 / 60, abs=0.01) and d.loc["SH-06", "stops"] == 1
    cmp_out = tmp_path / "pva.csv"
    assert main(["tracks", "compare", "--estates", str(est_file), "--routes", str(routes_file), "--tracks-dir", str(store),
                 "--start", DAY, "--end", DAY, "--out", str(cmp_out)]) == 0
    text = capsys.readouterr().out
    assert "EN-C: planned 800 m, patrolled 400 m" in text and "obligations met 0/1 (not visited: SH-22)" in text
    c = pd.read_csv(cmp_out, encoding="utf-8-sig").set_index("team_id")
    assert c.loc["PS-A", "patrolled_m"] == pytest.approx(1000, abs=0.5)
    # A window with no fixes says so and still writes a table of zeros.
    assert main(["dosage", "--estates", str(est_file), "--tracks-dir", str(store), "--start", "2026-04-01", "--end", "2026-04-02",
                 "--out", str(out)]) == 0
    assert "no fixes in the track store for this window" in capsys.readouterr().out
    assert pd.read_csv(out, encoding="utf-8-sig")["visits"].sum() == 0
