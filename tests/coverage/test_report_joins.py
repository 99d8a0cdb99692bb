"""The coverage table places each estate's figures by position when it can, and by id otherwise: the same table either way."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import io, settings
from geo.coverage.model import CoverageModel
from geo.extensions import extension_proposals
from geo.report import coverage_table


def _shipped() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return io.read_estates(settings.data_path("estates.geojson")), io.read_routes(settings.data_path("patrol_routes.geojson"))


def test_a_model_of_the_estates_in_another_order_gives_the_same_table():
    estates, routes = _shipped()
    table = coverage_table(estates, routes)
    shuffled = estates.iloc[np.random.default_rng(7).permutation(len(estates))].reset_index(drop=True)
    model = CoverageModel.from_geodataframes(shuffled, routes).solve()  # its rows are not the frame's: joined by id
    by_id = coverage_table(estates, routes, model=model)
    pd.testing.assert_frame_equal(pd.DataFrame(by_id), pd.DataFrame(table))


def test_each_estate_gets_its_own_recommendation_and_figures():
    estates, routes = _shipped()
    table = coverage_table(estates, routes).set_index("estate_id")
    props = extension_proposals(estates, routes, lines=False)
    best = props[props["recommended"]].set_index("estate_id")
    model = CoverageModel.from_geodataframes(estates, routes).solve().table().set_index("estate_id")
    assert list(table.index) == estates["estate_id"].tolist()
    for eid, row in table.iterrows():
        assert row["status"] == model.loc[eid, "status"]
        assert row["nearby_team_ids"] == model.loc[eid, "nearby_team_ids"]
        assert row["name"] == estates.set_index("estate_id").loc[eid, "name"]
        if eid in best.index:
            assert row["recommended_team_id"] == best.loc[eid, "team_id"]
            assert row["recommended_extension_m"] == best.loc[eid, "extension_m"]
        else:
            assert row["recommended_team_id"] == "" and np.isnan(row["recommended_extension_m"])
    assert len(best) > 0 and (table["recommended_team_id"] == "").any()  # both kinds of estate in the shipped data


def test_integer_ids_in_the_frame_are_matched_as_text():
    estates, routes = _shipped()
    numbered = estates.assign(estate_id=np.arange(1, len(estates) + 1))
    table = coverage_table(numbered, routes)
    assert table["estate_id"].tolist() == [str(i) for i in range(1, len(estates) + 1)]
    assert table["status"].notna().all()


def test_the_table_made_beside_the_proposals_is_the_table_made_in_turn(monkeypatch, pool_sizes):
    import geo.report

    estates, routes = _shipped()
    monkeypatch.setattr(settings, "coverage_workers", 1)
    in_turn = coverage_table(estates, routes)
    monkeypatch.setattr(settings, "coverage_workers", 2)
    monkeypatch.setattr(geo.report, "TABLE_BESIDE_FROM", 1)  # the shipped estates are few: take the threaded way anyway
    pools = pool_sizes(geo.report)
    beside = coverage_table(estates, routes)
    assert pools == [1]  # the model's table went to one thread beside the proposals
    pd.testing.assert_frame_equal(pd.DataFrame(beside), pd.DataFrame(in_turn), check_exact=True)
    assert (in_turn["recommended_team_id"] != "").any() and (in_turn["covering_count"] > 0).any()
