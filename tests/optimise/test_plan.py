"""Planning on geometry: hand-built layouts in metres, and the shipped demo data."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo import io, settings
from geo.errors import SchemaError
from geo.extensions import extension_proposals
from geo.optimise.plan import plan_extensions
from geo.report import coverage_table
from geo.routes.edits import plan_draft
from geo.routes.load import load_routes

METRIC = "EPSG:4545"
X0, Y0 = 500_000.0, 3_410_000.0  # near Wanzhou in EPSG:4545
OVER = settings.optimise_overshoot_m


def _layout(estates, routes, shifts=None):
    est = gpd.GeoDataFrame({"estate_id": [e for e, _ in estates]}, geometry=[Point(X0 + x, Y0 + y) for _, (x, y) in estates], crs=METRIC)
    rt = gpd.GeoDataFrame(
        {"route_id": [r for r, _, _ in routes], "team_id": [t for _, t, _ in routes], "team": [f"队{t}" for _, t, _ in routes],
         "org_type": ["police"] * len(routes),
         "shift": shifts or ["all"] * len(routes)},
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in pts]) for _, _, pts in routes], crs=METRIC,
    )
    return est.to_crs(settings.storage_crs), rt.to_crs(settings.storage_crs)


def test_one_spur_brings_in_two_estates_on_its_way():
    # Route along y = 0; estates at (500, 300) and (500, 600), cover 100 m. The spur up x = 500 that reaches
    # within 100 m of the far estate passes through the near one: 2 * (600 - 100 + overshoot) m.
    # Separately they would cost 2 * (300 - 100) + 2 * (600 - 100) = 1400 m.
    est, rt = _layout([("A", (500, 300)), ("B", (500, 600))], [("R1", "T1", [(0, 0), (1000, 0)])])
    res = plan_extensions(est, rt, gaps=False)
    assert res.plan.optimal
    assert res.plan.added_m == pytest.approx(2 * (500 + OVER), abs=0.01)
    assert res.per_estate_sum_m == pytest.approx(2 * (200 + OVER) + 2 * (500 + OVER), abs=0.01)
    assert len(res.features) == 1 and sorted(res.features["estate_ids"].iloc[0].split(";")) == ["A", "B"]
    after = coverage_table(est, plan_draft(rt, res.features))
    assert (after["status"] == "covered").all()


def test_cross_patrol_needs_a_second_team():
    # A is covered by T1 (50 m); T2's route is 400 m away: k = 2 asks T2 for 2 * (400 - 100 + overshoot).
    est, rt = _layout([("A", (0, 50))], [("R1", "T1", [(-500, 0), (500, 0)]), ("R2", "T2", [(-500, 450), (500, 450)])])
    assert plan_extensions(est, rt).plan.added_m == 0
    res = plan_extensions(est, rt, k=2)
    assert res.features["team_id"].tolist() == ["T2"]
    assert res.plan.added_m == pytest.approx(2 * (300 + OVER), abs=0.01)
    three = plan_extensions(est, rt, k=3)
    assert three.unmeetable == ["A"]


def test_night_target_extends_night_routes_only():
    # The day team is 150 m away, the night team 700 m: a night plan extends the night team.
    est, rt = _layout([("A", (0, 0))], [("R1", "DAY", [(-500, 150), (500, 150)]), ("R2", "NIGHT", [(-500, 700), (500, 700)])],
                      shifts=["day", "night"])
    assert plan_extensions(est, rt).features["team_id"].tolist() == ["DAY"]
    night = plan_extensions(est, rt, shift="night")
    assert night.features["team_id"].tolist() == ["NIGHT"]
    assert night.features["shift"].tolist() == ["night"]
    assert night.plan.added_m == pytest.approx(2 * (600 + OVER), abs=0.01)


def test_gap_gets_the_cheaper_of_extension_and_new_police_loop():
    # Estate 1500 m from the only route: the team's extension costs 2 * 1400; a post 400 m away costs 2 * 300.
    est, rt = _layout([("G", (0, 1500))], [("R1", "T1", [(-500, 0), (500, 0)])])
    res = plan_extensions(est, rt)
    assert res.features["kind"].tolist() == ["gap_extension"]
    assert res.plan.added_m == pytest.approx(2 * (1400 + OVER), abs=0.01)
    posts = gpd.GeoDataFrame({"post_id": ["P1"], "name": ["岗亭"]}, geometry=[Point(X0, Y0 + 1900)], crs=METRIC)
    res = plan_extensions(est, rt, posts=posts)
    assert res.features["kind"].tolist() == ["new_police_loop"]
    assert res.features["team_id"].tolist() == ["NEW-P1"]
    assert res.plan.added_m == pytest.approx(2 * (300 + OVER), abs=0.01)
    after = coverage_table(est, plan_draft(rt, res.features))
    assert after["status"].tolist() == ["covered"]


def test_disconnected_roads_fall_back_to_a_straight_line_and_say_so():
    est, rt = _layout([("A", (0, 400))], [("R1", "T1", [(-500, 0), (500, 0)])])
    # Two roads that do not meet: one along the route, one beside the estate.
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0 - 600, Y0 + 5), (X0 + 600, Y0 + 5)]),
                                       LineString([(X0 - 600, Y0 + 420), (X0 + 600, Y0 + 420)])], crs=METRIC).to_crs(settings.storage_crs)
    res = plan_extensions(est, rt, network=roads)
    assert res.features["measure"].tolist() == ["straight (roads not connected)"]
    assert any("T1" in n and "A" in n and "does not join" in n for n in res.notices)
    assert res.plan.added_m == pytest.approx(2 * (300 + OVER), abs=0.01)


@pytest.mark.parametrize("budget", [0, -5])
def test_bad_budget_and_k(budget):
    est, rt = _layout([("A", (0, 400))], [("R1", "T1", [(-500, 0), (500, 0)])])
    with pytest.raises(SchemaError, match="greater than 0"):
        plan_extensions(est, rt, budget_m=budget)
    with pytest.raises(SchemaError, match="whole number >= 1"):
        plan_extensions(est, rt, k=0)


def test_demo_k1_plan_leaves_nothing_coverable_and_beats_the_hints():
    estates = io.read_estates()
    routes = load_routes(settings.data_path("patrol_routes.geojson"))
    roads = settings.data_path("gazetteer.geojson")
    res = plan_extensions(estates, routes, network=roads)
    assert res.plan.method == "milp" and res.plan.optimal
    draft = plan_draft(routes, res.features)
    after = coverage_table(estates, draft)
    assert (after["status"] == "covered").all(), after.loc[after["status"] != "covered", ["estate_id", "status"]]
    # The per-estate hints (geo.extensions, computed independently) for the coverable estates:
    hints = extension_proposals(estates, routes, network=roads)
    hint_sum = float(hints.loc[hints["recommended"], "extension_m"].sum())
    planned = float(res.features.loc[res.features["kind"].isin(["extension", "joined"]), "cost_m"].sum())
    assert planned <= hint_sum
    # The drafted lines are as long as the plan says (metres measured in the metric CRS).
    lengths = res.features.to_crs(METRIC).geometry.length.to_numpy()
    assert lengths == pytest.approx(res.features["length_m"].to_numpy(), abs=0.05)
    assert float(res.features["cost_m"].sum()) == pytest.approx(res.plan.added_m, abs=0.05)
    assert shapely.get_num_geometries(res.features.geometry.values).min() >= 1
