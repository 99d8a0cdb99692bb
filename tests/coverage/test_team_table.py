"""The team table (geo.report.team_table) against a team-by-team walk over the engine's pairs."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.coverage.model import CoverageModel
from geo.extensions import extension_proposals
from geo.report import TEAM_TABLE_COLUMNS, team_obligations_by_reading, team_table

X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe
# Ids whose text order is not their number's order, and text beyond ASCII.
TEAMS = ["T1", "T2", "T10", "T21", "t-a", "甲队", "乙队", "T3"]


def layout(seed, n_estates=120, n_routes=40):
    rng = np.random.default_rng(seed)
    est = gpd.GeoDataFrame(
        {"estate_id": [f"E{i}" for i in rng.permutation(n_estates)], "name": [f"小区{i}" for i in range(n_estates)]},
        geometry=shapely.points(X0 + rng.uniform(0, 6000, n_estates), Y0 + rng.uniform(0, 6000, n_estates)),
        crs="EPSG:4545",
    )
    teams = rng.choice(TEAMS[:-1], n_routes)  # T3 gets one route far away below: a team near no estate
    starts = rng.uniform(0, 6000, (n_routes, 2))
    lines = [shapely.LineString([(X0 + x, Y0 + y), (X0 + x + rng.uniform(-800, 800), Y0 + y + rng.uniform(-800, 800))]) for x, y in starts]
    rts = gpd.GeoDataFrame(
        {
            "route_id": [f"R{i}" for i in rng.permutation(n_routes)] + ["R-far"],
            "team_id": [*teams, "T3"],
            "team": [f"{t}队" for t in teams] + ["丙队"],
            "org_type": ["police"] * n_routes + ["volunteer"],
            "shift": [*rng.choice(["day", "night", "all"], n_routes), "all"],
        },
        geometry=[*lines, shapely.LineString([(X0 + 90000, Y0), (X0 + 90100, Y0)])],
        crs="EPSG:4545",
    )
    return est, rts


def walked(model: CoverageModel, props: pd.DataFrame) -> pd.DataFrame:
    """One row per team by a plain walk: its active routes, then its pairs, lists sorted as Python sorts text."""
    pairs = model.pairs()
    active = model.active_routes()
    rows = []
    for t in sorted(model.team_ids):
        rids = sorted(str(r) for r, code, a in zip(model.route_ids, model.route_team, active, strict=True) if a and model.team_ids[code] == t)
        mine = [p for p in pairs.itertuples() if p.team_id == t]
        if not rids and not mine:
            continue
        covered = sorted(p.estate_id for p in mine if p.covers)
        obliged = sorted(p.estate_id for p in mine if p.obligation)
        nearby = sorted(p.estate_id for p in mine)
        attrs = model.team_attrs.loc[t]
        rows.append((t, attrs["team"], attrs["org_type"], ";".join(rids), len(covered), len(obliged), len(nearby), ";".join(covered),
                     ";".join(obliged), ";".join(nearby), float(sum(e for e, team in zip(props["extension_m"], props["team_id"], strict=True) if team == t))))
    return pd.DataFrame(rows, columns=list(TEAM_TABLE_COLUMNS))


@pytest.mark.parametrize(("seed", "shift", "strict"), [(1, None, False), (2, "night", False), (3, "day", True), (4, None, True)])
def test_team_table_is_the_team_by_team_walk(seed, shift, strict):
    est, rts = layout(seed)
    model = CoverageModel.from_geodataframes(est, rts, shift=shift, strict=strict).solve()
    props = extension_proposals(est, rts, model=model)
    got = team_table(est, rts, model=model, proposals=props)
    want = walked(model, props)
    assert len(want) >= 5 and (want["obliged_count"] > 0).sum() >= 2 and (want["covered_count"] > 0).sum() >= 2
    assert "T3" in set(want["team_id"]) and want.loc[want["team_id"] == "T3", "nearby_count"].item() == 0
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-9)


def test_teams_without_an_active_route_or_an_estate_are_left_out():
    est, rts = layout(5)
    rts.loc[rts["team_id"] == "T10", "shift"] = "day"
    got = team_table(est, rts, shift="night")
    assert "T10" not in set(got["team_id"]) and list(got.columns) == list(TEAM_TABLE_COLUMNS)
    assert got["team_id"].tolist() == sorted(got["team_id"])


def test_both_readings_side_by_side_match_each_readings_table():
    est, rts = layout(6)
    both = team_obligations_by_reading(est, rts).set_index("team_id")
    for name, strict in (("default", False), ("strict", True)):
        one = team_table(est, rts, strict=strict).set_index("team_id")
        assert list(both.index) == list(one.index)
        for col in ("route_ids", "covered_count", "nearby_count"):
            assert both[col].tolist() == one[col].tolist()
        assert both[f"{name}_obliged_estate_ids"].tolist() == one["obliged_estate_ids"].tolist()
        assert both[f"{name}_obliged_count"].tolist() == one["obliged_count"].tolist()
        np.testing.assert_allclose(both[f"{name}_extension_m"], one["obligation_extension_m"], rtol=1e-12)
    assert (both["strict_obliged_count"] >= both["default_obliged_count"]).all()
    assert (both["strict_obliged_count"] > both["default_obliged_count"]).any()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("roads", [False, True])
def test_extension_totals_are_the_proposals_summed_per_team(tmp_path, strict, roads):
    from geo import io
    from geo.extensions import extension_totals

    est, rts = layout(8)
    network = None
    if roads:  # the routes themselves as the road network: some connectors then run along roads
        network = tmp_path / "roads.geojson"
        io.write_geojson(rts[["route_id", "geometry"]].rename(columns={"route_id": "name"}), network)
    model = CoverageModel.from_geodataframes(est, rts, strict=strict).solve()
    props = extension_proposals(est, rts, model=model, network=network, lines=False)
    assert len(props) >= 10 and (not roads or (props["extension_measure"] == "network").any())
    want = props.groupby("team_id")["extension_m"].sum()
    got = extension_totals(model, network=network)
    pd.testing.assert_series_equal(got, want, check_exact=True, check_names=False)
