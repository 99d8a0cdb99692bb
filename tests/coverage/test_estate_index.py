"""The estates' side of a coverage model made ahead (geo.coverage.estate_index), while the routes are read.

A model given an index made ahead must hold exactly what it would have built:
each case compares it with a model built without one.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cli.main import main
from geo.coverage.estate_index import build_estate_index, choose_metric_crs, prepare_estates
from geo.coverage.model import CoverageModel
from geo.errors import SchemaError
from geo.io import read_estates, read_routes
from geo.store import sources
from tests.conftest import SHIPPED_DATA

ESTATES = SHIPPED_DATA / "estates.geojson"
ROUTES = SHIPPED_DATA / "patrol_routes.geojson"


def frames(points, lines):
    estates = gpd.GeoDataFrame({"estate_id": [f"E{i}" for i in range(len(points))]},
                               geometry=[shapely.Point(p) for p in points], crs="EPSG:4326")
    routes = gpd.GeoDataFrame({"route_id": [f"R{i}" for i in range(len(lines))], "team_id": [f"T{i % 3}" for i in range(len(lines))]},
                              geometry=[shapely.LineString(line) for line in lines], crs="EPSG:4326")
    return estates, routes


def assert_same_model(got: CoverageModel, want: CoverageModel) -> None:
    assert got.crs == want.crs
    assert shapely.to_wkb(got.estate_geoms).tolist() == shapely.to_wkb(want.estate_geoms).tolist()
    if want.estate_scale is None:
        assert got.estate_scale is None
    else:
        np.testing.assert_array_equal(got.estate_scale, want.estate_scale)
    pd.testing.assert_frame_equal(got.table(), want.table())
    pd.testing.assert_frame_equal(got.pairs(), want.pairs())


def test_shipped_data_with_the_index_made_ahead():
    estates, routes = read_estates(ESTATES), read_routes(ROUTES)
    index = prepare_estates(estates)
    assert index is not None and index.crs.to_epsg() == 4545 and index.made_from(estates, "EPSG:4545")
    got = CoverageModel.from_geodataframes(estates, routes, estate_index=index).solve()
    assert got.estate_geoms is index.geoms  # taken, not projected again
    assert_same_model(got, CoverageModel.from_geodataframes(estates, routes).solve())


def test_wide_estates_keep_their_scale_factors():
    # across Chongqing: UTM 48N, where k reaches 1.0027 at 110 E
    estates, routes = frames([(110.0, 30.0), (105.5, 29.0), (107.0, 31.0)],
                             [[(110.005, 29.99), (110.005, 30.01)], [(105.5, 29.001), (105.51, 29.001)]])
    index = prepare_estates(estates)
    got = CoverageModel.from_geodataframes(estates, routes, estate_index=index).solve()
    assert got.crs.to_epsg() == 32648 and got.estate_scale is index.scale and index.scale.max() > 1.002
    assert_same_model(got, CoverageModel.from_geodataframes(estates, routes).solve())


def test_routes_that_move_the_crs_leave_the_index_aside():
    # the estates alone lie in EPSG:4545's zone; a route at 111 E makes both layers need a UTM zone
    estates, routes = frames([(108.38, 30.81), (108.39, 30.82)], [[(108.381, 30.81), (108.39, 30.81)], [(111.0, 30.8), (111.01, 30.8)]])
    index = prepare_estates(estates)
    assert index.crs.to_epsg() == 4545 and choose_metric_crs(estates, routes).to_epsg() != 4545
    got = CoverageModel.from_geodataframes(estates, routes, estate_index=index).solve()
    assert got.crs == choose_metric_crs(estates, routes) and got.estate_geoms is not index.geoms
    assert_same_model(got, CoverageModel.from_geodataframes(estates, routes).solve())


def test_an_index_of_other_estates_is_not_taken():
    estates, routes = read_estates(ESTATES), read_routes(ROUTES)
    index = prepare_estates(estates.copy())  # equal geometries, but another frame's
    assert not index.made_from(estates, index.crs)
    got = CoverageModel.from_geodataframes(estates, routes, estate_index=index).solve()
    assert got.estate_geoms is not index.geoms
    assert_same_model(got, CoverageModel.from_geodataframes(estates, routes).solve())


def test_bad_estates_give_the_models_own_error():
    estates, routes = frames([(108.38, 30.81), (108.39, 30.82)], [[(108.381, 30.81), (108.39, 30.81)]])
    estates.loc[1, "geometry"] = shapely.Point()  # empty
    index = prepare_estates(estates)
    with pytest.raises(SchemaError) as without:
        CoverageModel.from_geodataframes(estates, routes)
    with pytest.raises(SchemaError) as with_index:
        CoverageModel.from_geodataframes(estates, routes, estate_index=index)
    assert with_index.value.problems == without.value.problems == ["estate E1: has no geometry; give it an address point or a footprint polygon"]
    assert prepare_estates(estates.set_crs(None, allow_override=True)) is None  # no CRS: nothing made, the model says why


def test_on_estates_sees_the_estates_returned():
    seen = []
    estates, routes = sources.read_estates_and_routes(ESTATES, ROUTES, on_estates=seen.append)
    assert len(seen) == 1 and seen[0] is estates
    assert routes.equals(sources.read_routes(ROUTES))


def test_the_coverage_report_is_the_same_without_the_index(tmp_path, monkeypatch, capsys):
    made = []

    def counted(frame):
        made.append(prepare_estates(frame))
        return made[-1]

    built = []  # indexes the model builds itself
    monkeypatch.setattr("geo.coverage.model.build_estate_index", lambda *a, **k: built.append(1) or build_estate_index(*a, **k))
    monkeypatch.setattr("geo.cli.coverage.prepare_estates", counted)
    for name in ("with.csv", "team_with.csv"):
        by = ["--by", "team"] if name.startswith("team") else []
        assert main(["coverage", "--estates", str(ESTATES), "--routes", str(ROUTES), *by, "--out", str(tmp_path / name)]) == 0
    with_index = capsys.readouterr().out
    assert len(made) == 2 and all(index is not None for index in made) and not built  # both reports took the index made ahead
    monkeypatch.setattr("geo.cli.coverage.prepare_estates", lambda frame: None)
    for name in ("without.csv", "team_without.csv"):
        by = ["--by", "team"] if name.startswith("team") else []
        assert main(["coverage", "--estates", str(ESTATES), "--routes", str(ROUTES), *by, "--out", str(tmp_path / name)]) == 0
    assert capsys.readouterr().out.replace("without.csv", "with.csv") == with_index
    assert len(built) == 2
    assert (tmp_path / "with.csv").read_bytes() == (tmp_path / "without.csv").read_bytes()
    assert (tmp_path / "team_with.csv").read_bytes() == (tmp_path / "team_without.csv").read_bytes()


def test_the_estates_tree_waits_for_the_first_edit():
    estates, routes = read_estates(ESTATES), read_routes(ROUTES)
    model = CoverageModel.from_geodataframes(estates, routes).solve()
    model.table()
    assert "tree" not in vars(model._estate_index)  # a solve and its table build no tree of the estates
    fresh = CoverageModel.from_geodataframes(estates, routes.iloc[1:]).solve().table()
    model.update_route(model.route_ids[0], None)  # an edit asks which estates are near the route: now it is built
    assert isinstance(vars(model._estate_index)["tree"], shapely.STRtree)
    pd.testing.assert_frame_equal(model.table(), fresh)
