"""The app and the commands read estates, routes and incidents from the store in use, and write into it (both backends).

The expected values come from the shipped files read by the file readers, and
each test then takes the files away (or changes the store only), so a reader
that went back to the files would give another answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import io, settings
from geo.cli.main import main
from geo.errors import ConflictError
from geo.incidents.store import load_incidents
from geo.store import open_store, sources
from geo.store.files import import_dir

ROOT = Path(__file__).resolve().parents[2]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns="geometry"))


def _same_frames(got, want) -> None:
    pd.testing.assert_frame_equal(_plain(got), _plain(want))  # same columns, values and dtypes
    assert got.crs.to_epsg() == 4326
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(got.geometry, want.geometry, strict=True))


def _same_incidents(got, want) -> None:
    for name in ("lon", "lat", "time_s", "category", "subcategory", "source", "ids"):
        assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=name in ("lon", "lat")), name


@pytest.fixture
def filled(store_url, data_dir, tmp_path, monkeypatch):
    """The store of each backend filled from a copy of data/, set as SHAHE_STORE; the data folder emptied of those files.

    Yields (store URL, expected estates, routes and incidents as the file readers give them, the empty data folder).
    """
    want = {
        "estates": io.read_estates(data_dir / "estates.geojson"),
        "routes": io.read_routes(data_dir / "patrol_routes.geojson"),
        "incidents": load_incidents(data_dir / "incidents.csv"),
    }
    with open_store(store_url) as store:
        import_dir(store, data_dir, author="测试", reason="fill")
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.setenv("SHAHE_STORE", store_url)
    monkeypatch.setenv("SHAHE_DATA_DIR", str(empty))
    monkeypatch.setattr(settings, "data_dir", empty)
    return store_url, want, empty


def test_readers_take_the_store_and_a_named_file_stays_a_file(filled, data_dir):
    url, want, _ = filled
    _same_frames(sources.read_estates(), want["estates"])
    _same_frames(sources.read_routes(), want["routes"])
    got = sources.read_incidents()
    _same_incidents(got, want["incidents"])
    assert got.attrs["synthetic"] is True and "layer incidents" in got.attrs["source"]
    # a change made in the store only is what the readers give next
    with open_store(url) as store:
        store.replace_layer("estates", want["estates"].iloc[:5], base_version=1, author="测试", reason="five")
    assert list(sources.read_estates()["estate_id"]) == list(want["estates"]["estate_id"].iloc[:5])
    assert len(sources.read_estates(data_dir / "estates.geojson")) == len(want["estates"])  # --estates FILE reads the file


def test_the_app_loader_reads_the_store(filled):
    from geo import report
    from geo.coverage.rule import Rule
    from geo.incidents import risk
    from ui import data

    _, want, empty = filled
    data.ensure_store()  # SHAHE_STORE is set: nothing is made in the data folder
    assert not (empty / "shahe.gpkg").exists()
    est_token = data.token("estates", "estates.geojson")
    inc_token = data.token("incidents", "incidents.csv")
    path = str(data.path_of("estates.geojson"))
    _same_frames(data.load_estates(path, est_token), want["estates"])
    _same_incidents(data.load_incidents(str(data.path_of("incidents.csv")), inc_token), want["incidents"])
    ranking = data.risk_ranking(str(data.path_of("incidents.csv")), inc_token, path, est_token)
    expected = risk.risk_table(want["incidents"], want["estates"])
    assert list(ranking["estate_id"]) == list(expected["estate_id"]) and np.allclose(ranking["score"], expected["score"])
    copy = empty.parent / "routes_copy.geojson"
    io.write_geojson(want["routes"], copy)
    routes_text = copy.read_text(encoding="utf-8")
    rule = Rule(1000.0, None, False, None)
    cov = data.compute_coverage(path, est_token, routes_text, rule)
    table = report.coverage_table(want["estates"], want["routes"])
    assert dict(zip(cov.table["estate_id"], cov.table["status"], strict=True)) == dict(zip(table["estate_id"], table["status"], strict=True))


def test_commands_read_the_store(filled, tmp_path, capsys):
    from geo import report
    from geo.incidents import risk

    url, want, _ = filled
    out = tmp_path / "coverage.csv"
    assert main(["coverage", "--store", url, "--out", str(out)]) == 0
    got = io.read_table(out)
    table = report.coverage_table(want["estates"], want["routes"])
    assert dict(zip(got["estate_id"], got["status"], strict=True)) == dict(zip(table["estate_id"], table["status"], strict=True))
    ranked = tmp_path / "rank.csv"
    assert main(["--store", url, "rank", "--out", str(ranked)]) == 0
    expected = risk.risk_table(want["incidents"], want["estates"])
    assert list(io.read_table(ranked)["estate_id"]) == list(expected["estate_id"])
    assert main(["hotspots", "--store", url]) == 0
    assert "synthetic" in capsys.readouterr().err  # the incidents came with their synthetic mark


def test_build_estates_saves_a_version_with_its_audit_entry(filled, data_dir, tmp_path):
    url, want, empty = filled
    for name in ("ledger.csv", "geocode_overrides.csv", "gazetteer.geojson"):
        (empty / name).write_bytes((data_dir / name).read_bytes())
    with open_store(url) as store:  # the ledger is renamed in the shared store (this machine's ledger.csv is older)
        ledger, version = store.read_layer("ledger")
        ledger.loc[0, "name"] = "改名小区"
        store.replace_layer("ledger", ledger, base_version=version, author="王科员", reason="台账更名")
    assert main(["build-estates", "--no-progress", "--author", "王科员", "--reason", "台账更名"]) == 0
    assert io.read_table(empty / "ledger.csv").loc[0, "name"] == "改名小区"  # the working copy was brought up to the store
    from_file = io.read_estates(empty / "estates.geojson")
    assert from_file.loc[0, "name"] == "改名小区"
    with open_store(url) as store:
        frame, version = store.read_layer("estates")
        entry = store.log("estates", limit=1).iloc[0]
    assert version == 2 and frame.loc[0, "name"] == "改名小区" and len(frame) == len(want["estates"])
    assert (entry["author"], entry["reason"], entry["action"]) == ("王科员", "台账更名", "replace")
    assert json.loads(entry["before"])["version"] == 1
    # a rebuild that changes nothing makes no version
    assert main(["build-estates", "--no-progress", "--author", "王科员"]) == 0
    with open_store(url) as store:
        assert store.layer_version("estates") == 2


def test_a_rebuild_based_on_a_stale_version_changes_nothing(filled, data_dir):
    from geo.store.saving import build_estates_file

    url, want, empty = filled
    out = empty / "estates.geojson"
    out.write_bytes((data_dir / "estates.geojson").read_bytes())
    before = out.read_bytes()

    def build(path):  # someone else saves the estates while this build runs
        with open_store(url) as other:
            other.replace_layer("estates", want["estates"].iloc[:3], base_version=1, author="乙", reason="meanwhile")
        io.write_geojson(want["estates"].iloc[:7], path)

    with pytest.raises(ConflictError, match="someone else saved; reload"):
        build_estates_file(build, out, author="甲", reason="rebuild")
    assert out.read_bytes() == before  # the file is not replaced
    with open_store(url) as store:
        assert store.layer_version("estates") == 2 and len(store.read_layer("estates")[0]) == 3


def test_incident_import_adds_the_new_rows_to_the_store(filled, data_dir, tmp_path, capsys):
    url, want, empty = filled
    (empty / "incidents.csv").write_bytes((data_dir / "incidents.csv").read_bytes())
    new = tmp_path / "new.csv"
    first = want["incidents"].ids[0]
    new.write_text("incident_id,time,category,source,lon,lat\n"
                   "N-1,2024-03-01 10:00,盗窃,110,108.37,30.84\n"
                   "N-2,2024-03-02 22:00,盗窃,110,108.371,30.841\n"
                   f"{first},2024-03-02 22:00,盗窃,110,108.371,30.841\n", encoding="utf-8")
    assert main(["incidents", "import", str(new), "--author", "李警官"]) == 0
    assert f"2 incidents added, {len(want['incidents']) + 2} in all (version 2)" in capsys.readouterr().out
    with open_store(url) as store:
        frame, version = store.read_layer("incidents", columns=["incident_id", "lon"])
        entry = store.log("incidents", limit=1).iloc[0]
    assert version == 2 and len(frame) == len(want["incidents"]) + 2
    assert list(frame["incident_id"].iloc[-2:]) == ["N-1", "N-2"] and list(frame["incident_id"]).count(first) == 1
    assert (entry["author"], entry["action"], json.loads(entry["after"])["rows_added"]) == ("李警官", "append", 2)
    got = sources.read_incidents()
    assert len(got) == len(want["incidents"]) + 2 and got.ids[-1] == "N-2"


def test_rows_chosen_against_a_stale_version_are_refused(store, data_dir):
    inc = load_incidents(data_dir / "incidents.csv").to_frame().iloc[:10]
    import geopandas as gpd

    frame = gpd.GeoDataFrame(inc.assign(time=inc["time"].astype(str)), geometry=gpd.points_from_xy(inc["lon"], inc["lat"]), crs=4326)
    store.append_rows("incidents", frame.iloc[:5], author="甲", reason="first")
    store.append_rows("incidents", frame.iloc[5:7], author="乙", reason="second")
    with pytest.raises(ConflictError, match=r"version 2 by 乙 .*someone else saved; reload"):
        store.append_rows("incidents", frame.iloc[7:], author="甲", reason="late", base_version=1)
    assert len(store.read_layer("incidents")[0]) == 7 and len(store.log("incidents")) == 2


def test_routes_add_starts_from_the_store_not_a_stale_file(filled, data_dir, tmp_path):
    url, want, empty = filled
    (empty / "patrol_routes.geojson").write_bytes((data_dir / "patrol_routes.geojson").read_bytes())  # this machine's old copy
    kept = want["routes"].iloc[2:]
    with open_store(url) as store:  # saved from another machine: two routes removed
        store.replace_layer("routes", kept, base_version=1, author="乙", reason="two routes dropped",
                            metadata=want["routes"].attrs["metadata"])
    x, y = want["estates"].geometry.iloc[0].x, want["estates"].geometry.iloc[0].y
    line = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[x + 0.001, y], [x + 0.001, y + 0.002]]}}]}
    new = tmp_path / "line.geojson"
    new.write_text(json.dumps(line), encoding="utf-8")
    assert main(["routes", "add", str(new), "--team-id", "PS-NEW", "--team", "新巡逻组", "--org-type", "police", "--shift", "night",
                 "--author", "甲", "--reason", "new team", "--save"]) == 0
    with open_store(url) as store:
        saved, version = store.read_layer("routes")
    assert version == 3
    assert list(saved["route_id"].iloc[:-1]) == list(kept["route_id"]) and saved["team_id"].iloc[-1] == "PS-NEW"


def test_the_app_runs_on_the_store_alone(filled):
    """The app, browser-free, with the data folder empty of estates, routes and incidents: every figure comes from the store."""
    from streamlit.testing.v1 import AppTest

    from geo import report
    from geo.incidents import risk

    _, want, empty = filled
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.sidebar.radio(key="view").set_value("overview")
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    table = report.coverage_table(want["estates"], want["routes"])
    counts = table["status"].value_counts()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已覆盖"] == str(counts.get("covered", 0)) and metrics["盲区"] == str(counts.get("gap", 0))
    ranking = next(d.value for d in at.dataframe if "综合得分" in d.value.columns)
    expected = risk.risk_table(want["incidents"], want["estates"])
    assert list(ranking["编号"]) == list(expected["estate_id"].astype(str))
    assert not (empty / "shahe.gpkg").exists()  # with SHAHE_STORE nothing is made in the data folder


def test_a_rebuild_next_to_a_shared_store_keeps_a_position_surveyed_elsewhere(filled, data_dir):
    url, want, empty = filled
    for name in ("ledger.csv", "geocode_overrides.csv", "gazetteer.geojson"):
        (empty / name).write_bytes((data_dir / name).read_bytes())  # this machine's copies: no surveyed position
    sh01 = want["estates"].loc[want["estates"]["estate_id"] == "SH-01"].geometry.iloc[0]
    surveyed = pd.DataFrame({"estate_id": ["SH-01"], "address": [None], "lon": [f"{sh01.x + 0.0004:.7f}"], "lat": [f"{sh01.y:.7f}"],
                             "datum": ["wgs84"], "note": ["实测 (another office)"]})
    surveyed.attrs["metadata"] = {}
    with open_store(url) as store:
        store.replace_layer("geocode_overrides", surveyed, base_version=1, author="乙", reason="surveyed elsewhere")
    assert main(["build-estates", "--no-progress", "--author", "甲"]) == 0
    with open_store(url) as store:
        estates, _ = store.read_layer("estates")
    row = estates.loc[estates["estate_id"] == "SH-01"].iloc[0]
    assert row["geocode_quality"] == "surveyed" and abs(row.geometry.x - (sh01.x + 0.0004)) < 1e-7
    assert list(empty.glob("geocode_overrides.before-store-*.csv"))  # the local copy it replaced is kept
