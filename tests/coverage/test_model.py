"""Tests of geo.coverage against an independent geodesic brute force, and of incremental updates."""

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo import coverage, settings
from geo.coverage.model import CoverageModel
from geo.coverage.rule import STATUSES
from geo.errors import CRSError, SchemaError
from geo.report import coverage_table, status_counts_by, status_summary, team_table

GEOD = pyproj.Geod(ellps="WGS84")
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
TO_METRIC = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)

# Tolerance between the engine's planar EPSG:4545 distance and the geodesic brute force:
# * EPSG:4545 has scale 1 on 108E; at Shahe (108.35-108.39E, 30.84N) the point scale is
#   1 + (dlon * cos(lat))^2 / 2 ~ 1 + 1.5e-5, i.e. 1.5 cm per km (DOMAIN: "about 1.00002");
# * the brute force samples each route every <= 1 m along the geodesic, so its nearest sample
#   is at most 0.5 m along the line from the true nearest point: it overestimates by at most
#   sqrt(d^2 + 0.5^2) - d <= 0.5 m;
# * a straight segment in the projection and the geodesic between the same vertices differ by
#   far less than a millimetre over these lengths.
# 0.05 % of the distance + 0.5 m bounds all of it with a wide margin.
REL_TOL = 5e-4
ABS_TOL_M = 0.5


def tol(d):
    return REL_TOL * np.asarray(d) + ABS_TOL_M


# --- independent brute force ----------------------------------------------------------


def densify_geodesic(line: shapely.LineString, step_m: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of ``line`` (WGS-84) with geodesic intermediate points at most ``step_m`` apart."""
    lons, lats = [], []
    for part in shapely.get_parts(line):
        c = shapely.get_coordinates(part)
        for (x1, y1), (x2, y2) in itertools.pairwise(c):
            length = GEOD.inv(x1, y1, x2, y2)[2]
            n = max(0, math.ceil(length / step_m) - 1)
            mids = GEOD.npts(x1, y1, x2, y2, n) if n else []
            lons += [x1, *(p[0] for p in mids), x2]
            lats += [y1, *(p[1] for p in mids), y2]
    return np.array(lons), np.array(lats)


def geodesic_distance_m(point: shapely.Point, dense: tuple[np.ndarray, np.ndarray]) -> float:
    lons, lats = dense
    _, _, d = GEOD.inv(np.full(len(lons), point.x), np.full(len(lats), point.y), lons, lats)
    return float(d.min())


def brute_force(estates, routes, *, shift=None):
    """{(estate_id, team_id): min geodesic distance m} over every route of the shift."""
    allowed = {None: {"day", "night", "all"}, "day": {"day", "all"}, "night": {"night", "all"}}[shift]
    out = {}
    dense = {r.route_id: densify_geodesic(r.geometry) for r in routes.itertuples()}
    for e in estates.itertuples():
        for r in routes.itertuples():
            if r.shift not in allowed:
                continue
            d = geodesic_distance_m(e.geometry, dense[r.route_id])
            key = (e.estate_id, r.team_id)
            out[key] = min(d, out.get(key, math.inf))
    return out


# --- random layouts around Wanzhou ------------------------------------------------------


def random_layout(seed: int, n_estates: int = 18, n_routes: int = 14, n_teams: int = 8):
    """Estates and routes in a 5 km box around Shahe; a third of the routes pass near an estate."""
    rng = np.random.default_rng(seed)
    x0, y0 = TO_METRIC.transform(108.365, 30.835)
    ex = x0 + rng.uniform(0, 5000, n_estates)
    ey = y0 + rng.uniform(0, 5000, n_estates)
    elon, elat = TO_LONLAT.transform(ex, ey)
    estates = gpd.GeoDataFrame(
        {"estate_id": [f"E{i:02d}" for i in range(n_estates)], "name": [f"小区{i}" for i in range(n_estates)]},
        geometry=gpd.points_from_xy(elon, elat),
        crs="EPSG:4326",
    )
    routes = []
    for k in range(n_routes):
        if k % 3 == 0:
            j = rng.integers(n_estates)
            start = np.array([ex[j], ey[j]]) + rng.uniform(-150, 150, 2)
        else:
            start = np.array([x0, y0]) + rng.uniform(0, 5000, 2)
        steps = rng.uniform(-600, 600, (int(rng.integers(1, 4)), 2))
        pts = np.vstack([start, start + np.cumsum(steps, axis=0)])
        lon, lat = TO_LONLAT.transform(pts[:, 0], pts[:, 1])
        routes.append(
            {
                "route_id": f"R{k:02d}",
                "team_id": f"T{k % n_teams}",
                "team": f"队伍{k % n_teams}",
                "org_type": "property",
                "shift": ("day", "night", "all")[int(rng.integers(3))],
                "geometry": shapely.LineString(np.column_stack([lon, lat])),
            }
        )
    return estates, gpd.GeoDataFrame(routes, crs="EPSG:4326")


def expected_status(dists: dict, radius_m: float, cover_m: float, strict: bool) -> str:
    nearby = [d for d in dists.values() if d <= radius_m]
    covering = [d for d in nearby if d <= cover_m]
    if not nearby:
        return "gap"
    if strict:
        return "covered" if len(covering) == len(nearby) else "coverable"
    return "covered" if covering else "coverable"


def ambiguous(dists: dict, radius_m: float, cover_m: float) -> bool:
    """True when a geodesic distance is within the tolerance of a threshold (either answer is right)."""
    return any(abs(d - t) <= tol(t) for d in dists.values() for t in (radius_m, cover_m))


class TestAgainstGeodesicBruteForce:
    @pytest.mark.parametrize("seed", [1, 2, 3])
    @pytest.mark.parametrize("shift", [None, "night"])
    def test_distances_and_statuses(self, seed, shift):
        estates, routes = random_layout(seed)
        model = CoverageModel.from_geodataframes(estates, routes, shift=shift).solve()
        pairs = model.pairs()
        engine = {(e, t): d for e, t, d in zip(pairs["estate_id"], pairs["team_id"], pairs["distance_m"], strict=True)}
        truth = brute_force(estates, routes, shift=shift)
        radius = settings.rule_radius_m
        for key, d_true in truth.items():
            if d_true <= radius - tol(radius):
                assert key in engine, f"{key} is {d_true:.2f} m away (geodesic) but the engine did not find it nearby"
                assert abs(engine[key] - d_true) <= tol(d_true), (key, engine[key], d_true)
            elif d_true > radius + tol(radius):
                assert key not in engine, f"{key} is {d_true:.2f} m away but the engine called it nearby"
        for key, d in engine.items():
            assert abs(d - truth[key]) <= tol(truth[key])

        table = model.table().set_index("estate_id")
        checked = 0
        for eid in estates["estate_id"]:
            dists = {t: d for (e, t), d in truth.items() if e == eid}
            if ambiguous(dists, radius, settings.cover_distance_m):
                continue
            for strict in (False, True):
                want = expected_status(dists, radius, settings.cover_distance_m, strict)
                got = (
                    table.loc[eid, "status"]
                    if not strict
                    else CoverageModel.from_geodataframes(estates, routes, shift=shift, strict=True)
                    .solve()
                    .table()
                    .set_index("estate_id")
                    .loc[eid, "status"]
                )
                assert got == want, (eid, strict, dists)
            checked += 1
        assert checked >= len(estates) - 3

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_other_reading_gives_the_statuses_of_the_brute_force(self, seed):
        estates, routes = random_layout(seed)
        truth = brute_force(estates, routes)
        radius = settings.rule_radius_m
        for strict in (False, True):
            other = CoverageModel.from_geodataframes(estates, routes, strict=not strict).solve().with_reading(strict=strict)
            assert other.strict is strict
            table = other.table().set_index("estate_id")
            checked = 0
            for eid in estates["estate_id"]:
                dists = {t: d for (e, t), d in truth.items() if e == eid}
                if ambiguous(dists, radius, settings.cover_distance_m):
                    continue
                assert table.loc[eid, "status"] == expected_status(dists, radius, settings.cover_distance_m, strict), (eid, strict)
                checked += 1
            assert checked >= len(estates) - 3

    def test_edits_to_one_reading_leave_the_other_as_it_was(self):
        estates, routes = random_layout(2)
        default = CoverageModel.from_geodataframes(estates, routes).solve()
        before = default.table()
        strict = default.with_reading(strict=True)
        moved = shapely.transform(strict.route_geoms[0], lambda xy: xy + 3000.0)
        strict.update_route(strict.route_ids[0], moved, crs=strict.crs)
        pd.testing.assert_frame_equal(default.table(), before)
        assert strict.route_geoms[0].equals(moved) and not default.route_geoms[0].equals(moved)

    @pytest.mark.parametrize("strict", [False, True])
    def test_other_reading_after_edits_is_that_reading_with_the_same_edits(self, strict):
        # the other reading takes the edited model's counts: they must be the edited ones, not the solve's
        estates, routes = random_layout(3)
        edited = CoverageModel.from_geodataframes(estates, routes, strict=not strict).solve()
        fresh = CoverageModel.from_geodataframes(estates, routes, strict=strict).solve()
        for model in (edited, fresh):
            model.update_route(model.route_ids[0], shapely.transform(model.route_geoms[0], lambda xy: xy + 700.0), crs=model.crs)
            model.update_route(model.route_ids[1], None)
        assert not edited.table().equals(CoverageModel.from_geodataframes(estates, routes, strict=not strict).solve().table())
        pd.testing.assert_frame_equal(edited.with_reading(strict=strict).table(), fresh.table(), check_exact=True)

    def test_layouts_produce_every_status(self):
        seen = set()
        for seed in (1, 2, 3):
            estates, routes = random_layout(seed)
            seen |= set(coverage_table(estates, routes)["status"])
        assert seen == {"covered", "coverable", "gap"}

    def test_nearest_team_is_the_brute_force_nearest(self):
        estates, routes = random_layout(4)
        truth = brute_force(estates, routes)
        table = CoverageModel.from_geodataframes(estates, routes).solve().table().set_index("estate_id")
        for eid in estates["estate_id"]:
            dists = {t: d for (e, t), d in truth.items() if e == eid and d <= 990}
            if not dists:
                continue
            best = sorted(dists.values())
            if len(best) > 1 and best[1] - best[0] < 2 * tol(best[1]):
                continue  # too close to call
            want = min(dists, key=dists.get)
            assert table.loc[eid, "nearest_team_id"] == want
            assert abs(table.loc[eid, "nearest_distance_m"] - dists[want]) <= tol(dists[want])


# --- thresholds are inclusive ---------------------------------------------------------------

X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe


def metric_model(estate_geoms, route_geoms, teams=None, **kw):
    teams = teams or [f"T{i}" for i in range(len(route_geoms))]
    return CoverageModel(
        [f"E{i}" for i in range(len(estate_geoms))],
        estate_geoms,
        [f"R{i}" for i in range(len(route_geoms))],
        route_geoms,
        teams,
        crs="EPSG:4545",
        **kw,
    ).solve()


class TestInclusiveThresholds:
    def test_pair_exactly_at_radius_is_nearby(self):
        route = shapely.LineString([(X0, Y0), (X0 + 500.0, Y0)])
        at = shapely.Point(X0 + 250.0, Y0 + 1000.0)
        beyond = shapely.Point(X0 + 250.0, Y0 - 1000.05)  # beyond the 2 cm allowance
        assert shapely.distance(route, at) == 1000.0  # exact by construction
        t = metric_model([at, beyond], [route]).table()
        assert list(t["status"]) == ["coverable", "gap"]
        assert t.loc[0, "nearest_distance_m"] == 1000.0

    def test_pair_at_radius_survives_wgs84_round_trip(self):
        route = shapely.LineString([(X0, Y0), (X0 + 500.0, Y0)])
        at = shapely.Point(X0 + 250.0, Y0 + 1000.0)
        est = gpd.GeoDataFrame({"estate_id": ["E0"]}, geometry=[at], crs="EPSG:4545").to_crs("EPSG:4326")
        rt = gpd.GeoDataFrame({"route_id": ["R0"], "team_id": ["T0"]}, geometry=[route], crs="EPSG:4545").to_crs("EPSG:4326")
        t = CoverageModel.from_geodataframes(est, rt).solve().table()
        assert t.loc[0, "status"] == "coverable"
        assert t.loc[0, "nearest_distance_m"] == pytest.approx(1000.0, abs=1e-4)

    def test_cover_distance_is_inclusive_for_points_and_polygons(self):
        route = shapely.LineString([(X0, Y0), (X0 + 500.0, Y0)])
        point_at = shapely.Point(X0 + 100.0, Y0 + 100.0)
        point_out = shapely.Point(X0 + 100.0, Y0 + 100.5)
        poly_at = shapely.box(X0 + 200.0, Y0 + 30.0, X0 + 240.0, Y0 + 60.0)
        poly_out = shapely.box(X0 + 300.0, Y0 + 31.0, X0 + 340.0, Y0 + 60.0)
        t = metric_model([point_at, point_out, poly_at, poly_out], [route]).table()
        assert list(t["status"]) == ["covered", "coverable", "covered", "coverable"]

    def test_cover_m_override_applies_to_every_estate(self):
        route = shapely.LineString([(X0, Y0), (X0 + 500.0, Y0)])
        t = metric_model([shapely.Point(X0, Y0 + 250.0)], [route], cover_m=250.0).table()
        assert t.loc[0, "status"] == "covered"

    def test_radius_setting_is_read_at_call_time(self, monkeypatch):
        monkeypatch.setattr(settings, "rule_radius_m", 500.0)
        route = shapely.LineString([(X0, Y0), (X0 + 500.0, Y0)])
        t = metric_model([shapely.Point(X0, Y0 + 700.0)], [route]).table()
        assert t.loc[0, "status"] == "gap"


class TestStrictShiftAndCrossPatrol:
    def layout(self):
        est = [shapely.Point(X0, Y0 + 50.0), shapely.Point(X0 + 3000.0, Y0 + 50.0)]
        routes = [
            shapely.LineString([(X0 - 100, Y0), (X0 + 100, Y0)]),  # T0 covers E0 (50 m), by day
            shapely.LineString([(X0 - 100, Y0 + 80), (X0 + 100, Y0 + 80)]),  # T1 covers E0 (30 m), all shifts
            shapely.LineString([(X0 - 100, Y0 + 600), (X0 + 100, Y0 + 600)]),  # T2 nearby E0 (550 m), night
            shapely.LineString([(X0 + 3000 - 100, Y0), (X0 + 3100, Y0)]),  # T3 covers E1, day only
        ]
        return est, routes, ["T0", "T1", "T2", "T3"], ["day", "all", "night", "day"]

    def test_default_and_strict_statuses(self):
        est, routes, teams, shifts = self.layout()
        default = metric_model(est, routes, teams, route_shifts=shifts).table()
        strict = metric_model(est, routes, teams, route_shifts=shifts, strict=True).table()
        assert default.loc[0, "status"] == "covered" and default.loc[0, "covering_count"] == 2
        assert default.loc[0, "covering_team_ids"] == "T0;T1" and default.loc[0, "nearby_team_ids"] == "T0;T1;T2"
        assert default.loc[0, "obligations_count"] == 0
        assert strict.loc[0, "status"] == "coverable" and strict.loc[0, "obligations_count"] == 1
        assert strict.loc[0, "covering_count"] == 2

    def test_night_shift_uncovers_day_only_estates(self):
        est, routes, teams, shifts = self.layout()
        night = metric_model(est, routes, teams, route_shifts=shifts, shift="night").table()
        day = metric_model(est, routes, teams, route_shifts=shifts, shift="day").table()
        assert night.loc[0, "covering_team_ids"] == "T1"  # 'all' counts at night
        assert night.loc[1, "status"] == "gap" and day.loc[1, "status"] == "covered"
        assert day.loc[0, "nearby_team_ids"] == "T0;T1"

    def test_team_table_lists_covered_and_obliged(self):
        est, routes, teams, shifts = self.layout()
        rows = [{"estate_id": f"E{i}"} for i in range(2)]
        eg = gpd.GeoDataFrame(rows, geometry=est, crs="EPSG:4545")
        rg = gpd.GeoDataFrame(
            {"route_id": [f"R{i}" for i in range(4)], "team_id": teams, "shift": shifts}, geometry=routes, crs="EPSG:4545"
        )
        tt = team_table(eg, rg, strict=True).set_index("team_id")
        assert tt.loc["T2", "obliged_estate_ids"] == "E0"
        assert tt.loc["T2", "obligation_extension_m"] == pytest.approx(2 * (550 - 100))
        assert tt.loc["T0", "covered_estate_ids"] == "E0"
        assert tt.loc["T3", "obliged_count"] == 0


class TestSummary:
    def test_counts_per_status_community_and_batch(self):
        t = pd.DataFrame({"status": ["gap", "covered", "covered"], "community": ["a", "a", "b"], "batch_year": [2022, 2023, 2023]})
        s = status_summary(t)
        assert s["total"].loc["estates", "covered"] == 2 and s["total"].loc["estates", "coverable"] == 0
        assert s["community"].loc["a", "gap"] == 1 and s["batch_year"].loc[2023, "covered"] == 2

    @pytest.mark.parametrize(
        "keys",
        [
            pd.Series(["b", "a", "c", "a", "b", "c"] * 9, name="community"),
            pd.Series(["b", None, "a", "a", np.nan, "c"] * 9, name="community"),  # missing keys left out
            pd.Series([2024, 2022, 2023, 2022, 2024, 2023] * 9, name="batch_year"),
            pd.Series([2024.0, np.nan, 2023.0, 2022.0, 2024.0, 2023.0] * 9, name="batch_year"),
            pd.Series([2024, 2022, None, 2022, 2024, 2023] * 9, name="batch_year", dtype="Int64"),
            pd.Series([1, "a", 2.5, "a", 1, "b"] * 9, name="community"),  # mixed kinds: left to crosstab
            pd.Series(["x", "y", "z", "x", "y", "z"] * 9, name="community"),  # "z" seen only with an unknown status
        ],
    )
    def test_counts_per_key_equal_crosstab(self, keys):
        rng = np.random.default_rng(len(keys))
        status = pd.Series(rng.choice(["gap", "covered", "coverable", "unknown", None], len(keys)), name="status")
        status[keys.astype(str) == "z"] = "unknown"
        expected = pd.crosstab(keys, status).reindex(columns=list(STATUSES[::-1]), fill_value=0)
        pd.testing.assert_frame_equal(status_counts_by(keys, status), expected)

    def test_counts_of_no_rows(self):
        got = status_counts_by(pd.Series([], dtype=object, name="community"), pd.Series([], dtype=object, name="status"))
        assert got.shape == (0, 3) and list(got.columns) == list(STATUSES[::-1])


# --- incremental updates equal a full recompute -----------------------------------------------


def frame_of(current: dict) -> gpd.GeoDataFrame:
    rows = [{"route_id": k, "team_id": v[1], "shift": v[2], "geometry": v[0]} for k, v in sorted(current.items())]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


class TestUpdateRoute:
    @pytest.mark.parametrize(
        ("seed", "strict", "shift", "rebuild_after"), [(11, False, None, 256), (12, True, None, 256), (13, False, "night", 3)]
    )
    def test_many_edits_equal_full_recompute(self, seed, strict, shift, rebuild_after, monkeypatch):
        monkeypatch.setattr(coverage.model, "_REBUILD_AFTER", rebuild_after)  # also exercise rebuilding the route tree
        estates, routes = random_layout(seed, n_estates=40, n_routes=20)
        model = CoverageModel.from_geodataframes(estates, routes, strict=strict, shift=shift).solve()
        current = {r.route_id: (r.geometry, r.team_id, r.shift) for r in routes.itertuples()}
        rng = np.random.default_rng(seed)
        x0, y0 = TO_METRIC.transform(108.365, 30.835)
        metric_tree = shapely.STRtree(np.asarray(estates.to_crs("EPSG:4545").geometry.values))
        for step in range(40):
            kind = rng.choice(["move", "delete", "add", "add_new_team"]) if current else "add"
            if kind == "delete":
                rid = rng.choice(sorted(current))
                geom, team, shf = None, None, None
            else:
                pts = np.array([x0, y0]) + rng.uniform(-300, 3300, 2) + np.cumsum(rng.uniform(-500, 500, (3, 2)), axis=0)
                lon, lat = TO_LONLAT.transform(pts[:, 0], pts[:, 1])
                geom = shapely.LineString(np.column_stack([lon, lat]))
                if kind == "move":
                    rid = rng.choice(sorted(current))
                    team, shf = current[rid][1], current[rid][2]
                else:
                    rid = f"N{step:02d}"
                    team = f"NEW{step}" if kind == "add_new_team" else f"T{rng.integers(8)}"
                    shf = ("day", "night", "all")[int(rng.integers(3))]
            old = current.get(rid)
            affected = model.update_route(
                rid, geom, team_id=team if rid not in current else None, shift=shf if rid not in current else None
            )
            if geom is None:
                del current[rid]
            else:
                current[rid] = (geom, team, shf)
            # only estates within the radius of the old or new line are recomputed
            near = set()
            for g in (old[0] if old else None, geom):
                if g is not None:
                    gm = gpd.GeoSeries([g], crs="EPSG:4326").to_crs("EPSG:4545").values[0]
                    near |= set(metric_tree.query(gm, predicate="dwithin", distance=settings.rule_radius_m + 2).tolist())
            assert set(affected.tolist()) <= near
            if step % 5 == 4 or step == 39:
                full = CoverageModel.from_geodataframes(estates, frame_of(current), strict=strict, shift=shift).solve()
                pd.testing.assert_frame_equal(model.table(), full.table(), check_exact=True)
                got, want = model.summary_arrays(), full.summary_arrays()
                for key in ("status", "nearby_count", "covering_count", "nearest_distance_m"):
                    np.testing.assert_array_equal(got[key], want[key])

    def test_delete_unknown_route_raises(self):
        estates, routes = random_layout(5)
        model = CoverageModel.from_geodataframes(estates, routes).solve()
        with pytest.raises(KeyError, match="does not exist"):
            model.update_route("nope", None)
        with pytest.raises(ValueError, match="team_id"):
            model.update_route("new", routes.geometry.iloc[0])

    def test_zero_length_edit_is_refused(self):
        estates, routes = random_layout(5)
        model = CoverageModel.from_geodataframes(estates, routes).solve()
        with pytest.raises(SchemaError, match="zero length"):
            model.update_route("R00", shapely.LineString([(108.37, 30.84), (108.37, 30.84)]))

    def test_bad_shift_is_refused_before_anything_changes(self):
        estates, routes = random_layout(5)
        model = CoverageModel.from_geodataframes(estates, routes).solve()
        before_team, before_shift = model.route_team.copy(), model.route_shifts.copy()
        with pytest.raises(SchemaError, match="field 'shift': 'evening' is not one of"):
            model.update_route("R00", routes.geometry.iloc[1], team_id="T7", shift="evening")
        np.testing.assert_array_equal(model.route_team, before_team)
        np.testing.assert_array_equal(model.route_shifts, before_shift)

    def test_moving_a_route_keeps_its_shift(self):
        estates, routes = random_layout(5)
        routes["shift"] = "night"
        model = CoverageModel.from_geodataframes(estates, routes).solve()
        model.update_route("R00", routes.geometry.iloc[1])
        assert model.route_shifts[0] == "night"


class TestProposalsReused:
    def test_tables_equal_with_and_without_given_proposals(self, monkeypatch):
        from geo import extensions, report

        estates, routes = random_layout(21, n_estates=30, n_routes=12)
        model = CoverageModel.from_geodataframes(estates, routes).solve()
        props = extensions.extension_proposals(estates, routes, model=model)
        assert len(props) > 0
        fresh_cov, fresh_team = coverage_table(estates, routes, model=model), team_table(estates, routes, model=model)
        calls = []
        real = extensions.extension_proposals
        monkeypatch.setattr(report, "extension_proposals", lambda *a, **k: calls.append(1) or real(*a, **k))
        reused_cov = coverage_table(estates, routes, model=model, proposals=props)
        reused_team = team_table(estates, routes, model=model, proposals=props)
        assert calls == []
        pd.testing.assert_frame_equal(pd.DataFrame(reused_cov), pd.DataFrame(fresh_cov), check_exact=True)
        pd.testing.assert_frame_equal(reused_team, fresh_team, check_exact=True)

    def test_status_labels_cover_every_status(self):
        assert set(coverage.STATUS_LABELS_ZH) == set(coverage.STATUSES)
        assert coverage.STATUS_LABELS_ZH["coverable"] == "应延伸覆盖"


# --- bad input ------------------------------------------------------------------------------


class TestBadInput:
    def frames(self):
        estates, routes = random_layout(7, n_estates=3, n_routes=3)
        return estates, routes

    def test_routes_without_crs_are_refused(self):
        estates, routes = self.frames()
        with pytest.raises(CRSError, match="no CRS"):
            CoverageModel.from_geodataframes(estates, routes.set_crs(None, allow_override=True))

    def test_inputs_in_different_crs_are_refused(self):
        estates, routes = self.frames()
        with pytest.raises(CRSError, match="EPSG:3857"):
            CoverageModel.from_geodataframes(estates, routes.to_crs("EPSG:3857"))

    def test_degrees_fed_to_the_metric_core_are_refused(self):
        estates, routes = self.frames()
        with pytest.raises(CRSError, match="degrees"):
            CoverageModel(
                estates["estate_id"],
                estates.geometry.values,
                routes["route_id"],
                routes.geometry.values,
                routes["team_id"],
                crs="EPSG:4326",
            )

    def test_empty_and_zero_length_routes_are_refused_with_their_ids(self):
        estates, routes = self.frames()
        routes.loc[0, "geometry"] = shapely.LineString()
        routes.loc[1, "geometry"] = shapely.LineString([(108.37, 30.84), (108.37, 30.84)])
        with pytest.raises(SchemaError) as info:
            CoverageModel.from_geodataframes(estates, routes)
        text = str(info.value)
        assert "route R00: has no geometry" in text and "route R01: the line has zero length" in text

    def test_metric_inputs_are_measured_as_given(self):
        estates, routes = self.frames()
        a = CoverageModel.from_geodataframes(estates, routes).solve().table()
        b = CoverageModel.from_geodataframes(estates.to_crs("EPSG:4545"), routes.to_crs("EPSG:4545")).solve().table()
        np.testing.assert_allclose(a["nearest_distance_m"], b["nearest_distance_m"], atol=1e-6)


# --- the shipped demo and the command line ------------------------------------------------------

DATA = __import__("pathlib").Path(__file__).parents[1] / "data" / "coverage"


class TestShippedDemo:
    def test_demo_shows_every_case(self):
        from geo import io
        from geo.routes.load import load_routes

        estates = io.read_estates(settings.data_path("estates.geojson"))
        routes = load_routes(settings.data_path("patrol_routes.geojson"))
        assert routes["synthetic"].all()
        doc = __import__("json").loads(settings.data_path("patrol_routes.geojson").read_text(encoding="utf-8"))
        assert doc["synthetic"] is True and "SYNTHETIC" in doc["note"]
        assert set(routes["org_type"]) == {"police", "property", "enterprise", "school", "volunteer"}
        t = coverage_table(estates, routes)
        assert set(t["status"]) == {"covered", "coverable", "gap"}
        assert (t["covering_count"] >= 2).any()  # cross-patrol
        assert (t.loc[t["status"] == "coverable", "recommended_team_id"] != "").all()
        day = coverage_table(estates, routes, shift="day").set_index("estate_id")["status"]
        night = coverage_table(estates, routes, shift="night").set_index("estate_id")["status"]
        assert (day != night).any()


class TestCli:
    def run(self, *args):
        from geo.cli.main import main

        return main(["coverage", "--estates", str(DATA / "estates.geojson"), "--routes", str(DATA / "routes.geojson"), *args])

    def test_csv_report_opens_in_excel_with_chinese_intact(self, tmp_path):
        out = tmp_path / "report.csv"
        assert self.run("--out", str(out)) == 0
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        report = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        estates = gpd.read_file(DATA / "estates.geojson")
        assert list(report["name"]) == list(estates["name"])
        assert list(report["community"]) == list(estates["community"])
        for col in (
            "estate_id",
            "batch_year",
            "status",
            "nearest_team_id",
            "nearest_distance_m",
            "covering_team_ids",
            "nearby_team_ids",
            "recommended_team_id",
            "recommended_extension_m",
            "covering_count",
        ):
            assert col in report.columns
        row = report.set_index("estate_id")
        assert row.loc["T-03", "status"] == "gap"
        assert row.loc["T-02", "nearby_team_ids"] == "t-police;t-school"

    def test_geojson_and_xlsx_reports(self, tmp_path):
        assert self.run("--out", str(tmp_path / "r.geojson"), "--strict", "--shift", "night") == 0
        doc = __import__("json").loads((tmp_path / "r.geojson").read_text(encoding="utf-8"))
        assert doc["synthetic"] is True and doc["strict"] is True and len(doc["features"]) == 4
        assert self.run("--out", str(tmp_path / "r.xlsx")) == 0
        assert pd.read_excel(tmp_path / "r.xlsx")["name"].iloc[0] == "滨湖公寓"

    def test_printed_table_and_summary(self, capsys):
        assert self.run("--network", str(DATA / "routes.geojson")) == 0
        out = capsys.readouterr().out
        assert "T-01" in out and "滨湖公寓" in out and "per community" in out and "per batch" in out
        assert any(line.split()[:2] == ["gap", "盲区"] and line.split()[2:] == ["1", "1"] for line in out.splitlines())

    def test_printed_labels_are_the_shared_ones(self, capsys):
        assert self.run() == 0
        out = capsys.readouterr().out
        assert "coverable 应延伸覆盖" in out and "covered 已覆盖" in out

    def test_approximate_and_synthetic_data_are_noted(self, tmp_path, capsys):
        out = tmp_path / "report.csv"
        assert self.run("--out", str(out)) == 0
        err = capsys.readouterr().err
        assert "note: 4 of 4 estate positions are approximate" in err and "T-01, T-02, T-03, T-04" in err
        assert "routes are synthetic demonstration routes, not real patrols: r1, r2" in err
        report = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert list(report["approximate_position"]) == ["True"] * 4

    def test_surveyed_estates_and_real_routes_carry_no_note(self, tmp_path, capsys):
        from geo import io
        from geo.cli.main import main

        estates = gpd.read_file(DATA / "estates.geojson")
        estates["synthetic"] = False
        estates["geocode_quality"] = ["surveyed", "surveyed", "surveyed", "interpolated"]
        routes = gpd.read_file(DATA / "routes.geojson")
        routes["synthetic"] = False
        io.write_geojson(estates, tmp_path / "e.geojson")
        io.write_geojson(routes, tmp_path / "r.geojson")
        out = tmp_path / "report.xlsx"
        assert main(["coverage", "--estates", str(tmp_path / "e.geojson"), "--routes", str(tmp_path / "r.geojson"), "--out", str(out)]) == 0
        err = capsys.readouterr().err
        assert "note: 1 of 4 estate positions are approximate (not surveyed, or synthetic): T-04;" in err
        assert "synthetic demonstration routes" not in err
        assert list(pd.read_excel(out)["approximate_position"]) == [False, False, False, True]

    def test_team_with_two_names_exits_2_with_both_names(self, capsys):
        from geo.cli.main import main

        code = main(["coverage", "--estates", str(DATA / "estates.geojson"), "--routes", str(DATA / "routes_team_names.geojson")])
        assert code == 2
        err = capsys.readouterr().err
        assert "物业一队" in err and "物业二队" in err and "a2" in err


class TestThreadedQuery:
    def test_threads_and_chunks_do_not_change_the_answer(self, monkeypatch, pool_sizes):
        estates, routes = random_layout(21, n_estates=60, n_routes=25)
        monkeypatch.setattr(settings, "coverage_workers", 1)
        one = CoverageModel.from_geodataframes(estates, routes).solve().table()
        monkeypatch.setattr(settings, "coverage_workers", 3)
        one_model = CoverageModel.from_geodataframes(estates, routes).solve()
        one_pairs, one_strict = one_model.pairs(), one_model.with_reading(strict=True).table()
        monkeypatch.setattr(coverage.pairs, "_CHUNK", 7)
        monkeypatch.setattr(coverage.pairs, "_POINT_CHUNK", 4)  # pieces of 4 estates inside each chunk
        monkeypatch.setattr(coverage.model, "_JOIN_APART_FROM", 1)  # the two id lists joined in two threads
        threads = pool_sizes(coverage.pairs)
        many_model = CoverageModel.from_geodataframes(estates, routes).solve()
        many = many_model.table()
        pd.testing.assert_frame_equal(one, many, check_exact=True)
        # the per-(estate, team) minima, reduced in each chunk's thread and put in estate order, equal one thread's
        pd.testing.assert_frame_equal(one_pairs, many_model.pairs(), check_exact=True)
        pd.testing.assert_frame_equal(one_strict, many_model.with_reading(strict=True).table(), check_exact=True)
        assert threads and set(threads) == {3}  # the pair query ran in 3 threads
        assert (one["nearby_count"] > 0).sum() > 10
        # an edit needs the pairs of every chunk joined: the answer is that of a solve without the route
        many_model.update_route(many_model.route_ids[0], None)
        fresh = CoverageModel.from_geodataframes(estates, routes.iloc[1:]).solve()
        pd.testing.assert_frame_equal(many_model.table(), fresh.table(), check_exact=True)
        pd.testing.assert_frame_equal(many_model.pairs().drop(columns="route_index"), fresh.pairs().drop(columns="route_index"),
                                      check_exact=True)
        assert not many_model.table().equals(many)


class TestJoinGroups:
    def test_equals_a_join_per_estate(self):
        from geo.coverage.kernels import join_groups

        rng = np.random.default_rng(8)
        team_ids = ["T1", "队伍二", "", "t;x", "long-team-name-04"]
        est = np.sort(rng.integers(0, 40, 300))
        team = rng.integers(0, len(team_ids), 300)
        want = np.full(50, "", dtype=object)
        for e in np.unique(est):
            want[e] = ";".join(team_ids[t] for t in team[est == e])
        assert join_groups(est, team, team_ids, 50).tolist() == want.tolist()
        assert join_groups(est[:0], team[:0], team_ids, 3).tolist() == ["", "", ""]

    def test_ids_arrow_cannot_hold_are_joined_the_same(self):
        """A lone surrogate (from a JSON escape) is no UTF-8: those ids are joined in Python, with the same result."""
        from geo.coverage.kernels import join_groups

        team_ids = ["T1", "bad\ud800", "队"]
        est = np.array([0, 0, 2, 2, 2])
        team = np.array([0, 1, 2, 0, 1])
        got = join_groups(est, team, team_ids, 4).tolist()
        assert got == ["T1;bad\ud800", "", "队;T1;bad\ud800", ""]
        assert all(type(v) is str for v in got)
