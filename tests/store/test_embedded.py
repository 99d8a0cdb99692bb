"""The embedded store: made by the app's first start, following the data folder, a real GeoPackage with an R-tree."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo import io
from geo.store import open_store, sources

ROOT = Path(__file__).resolve().parents[2]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith((".", "shahe.gpkg"))}


@pytest.fixture
def app_folder(data_dir, monkeypatch):
    monkeypatch.delenv("SHAHE_STORE", raising=False)
    monkeypatch.setenv("SHAHE_DATA_DIR", str(data_dir))
    return data_dir


def test_first_start_makes_and_fills_the_store_once_and_leaves_the_files_alone(app_folder):
    from ui import data

    before = _hashes(app_folder)
    assert not (app_folder / "shahe.gpkg").exists()
    data.ensure_store()
    gpkg = app_folder / "shahe.gpkg"
    assert gpkg.exists()
    with open_store(gpkg) as store:
        layers = set(store.layers()["name"])
        n_log = len(store.log())
        estates, _ = store.read_layer("estates")
    assert {"estates", "routes", "geocode_overrides", "ledger", "incidents"} <= layers
    assert n_log == len(layers)  # one audit entry per layer filled
    assert len(estates) == len(io.read_estates(app_folder / "estates.geojson"))
    from ui import context

    data.ensure_store()  # a second start changes nothing
    context.base_inputs()  # what every page run reads first (the routes file brought up to the store's routes, too)
    with open_store(gpkg) as store:
        assert len(store.log()) == n_log
    assert _hashes(app_folder) == before  # the shipped files are never modified


def test_two_sessions_starting_at_once_make_one_store(app_folder):
    code = "import sys; from geo.store import sources; sources.store_in_use(sys.argv[1], create=True).close()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(app_folder)], env=env, stderr=subprocess.PIPE) for _ in range(2)]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with open_store(app_folder / "shahe.gpkg") as store:
        log = store.log()
    assert sorted(log["table_name"]) == sorted(set(log["table_name"]))  # each layer filled exactly once
    assert not [p for p in app_folder.iterdir() if p.name.endswith(".tmp")]


def test_a_file_changed_outside_the_tool_becomes_a_new_version(app_folder):
    store = sources.store_in_use(app_folder, create=True)
    store.close()
    path = app_folder / "estates.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    kept = [f["properties"]["estate_id"] for f in doc["features"][:-2]]
    doc["features"] = doc["features"][:-2]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert list(sources.read_estates(data_dir=app_folder)["estate_id"]) == kept
    with open_store(app_folder / "shahe.gpkg") as store:
        entry = store.log("estates", limit=1).iloc[0]
        assert store.layer_version("estates") == 2
    assert entry["author"] == "(data folder)" and "changed outside the tool" in entry["reason"]
    sources.read_estates(data_dir=app_folder)
    os.utime(path)  # touched, same content: no new version
    sources.read_estates(data_dir=app_folder)
    with open_store(app_folder / "shahe.gpkg") as store:
        assert store.layer_version("estates") == 2


def _rtree_rows(gpkg: Path, table: str) -> dict[int, tuple]:
    with sqlite3.connect(gpkg) as conn:
        return {r[0]: r[1:] for r in conn.execute(f'SELECT id, minx, maxx, miny, maxy FROM "rtree_{table}_geometry"')}


def _stored_bounds(store, table: str) -> dict[int, tuple]:
    """fid -> (minx, maxx, miny, maxy) computed by shapely from the stored geometries (a GeoPackage blob: 8-byte header, then WKB)."""
    with sqlite3.connect(store.url) as conn:
        rows = conn.execute(f'SELECT fid, geometry FROM "{table}" WHERE geometry IS NOT NULL').fetchall()
    out = {}
    for fid, blob in rows:
        g = shapely.from_wkb(bytes(blob)[8:])
        if not g.is_empty:
            x0, y0, x1, y1 = g.bounds
            out[fid] = (x0, x1, y0, y1)
    return out


def _index_matches(gpkg: Path, store, table: str) -> int:
    """Check that the R-tree of ``table`` has one box per stored geometry, holding it; return how many."""
    want = _stored_bounds(store, table)
    got = _rtree_rows(gpkg, table)
    assert set(got) == set(want), table
    # the R-tree stores 32-bit floats rounded outwards: each box holds the exact one, within two 32-bit steps (3e-5 degrees here)
    for fid, (x0, x1, y0, y1) in want.items():
        r = got[fid]
        assert r[0] <= x0 <= r[0] + 3e-5 and r[1] >= x1 >= r[1] - 3e-5 and r[2] <= y0 <= r[2] + 3e-5 and r[3] >= y1 >= r[3] - 3e-5
    return len(got)


def test_the_geopackage_has_an_rtree_that_gdal_uses(app_folder):
    sources.store_in_use(app_folder, create=True).close()
    gpkg = app_folder / "shahe.gpkg"
    names = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    assert {"estates", "routes", "incidents"} <= names
    for layer in ("estates", "routes", "incidents"):
        has = pyogrio.read_dataframe(gpkg, sql=f"SELECT HasSpatialIndex('{layer}', 'geometry') AS h")
        assert int(has.iloc[0, 0]) == 1, layer
        assert pyogrio.read_info(gpkg, layer=layer)["capabilities"]["fast_spatial_filter"] is True
    with sqlite3.connect(gpkg) as conn:
        ext = conn.execute("SELECT table_name, column_name, extension_name, scope FROM gpkg_extensions ORDER BY table_name").fetchall()
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'incidents'")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ("incidents", "geometry", "gpkg_rtree_index", "write-only") in ext
    assert {f"rtree_incidents_geometry_{s}" for s in ("insert", "update1", "update2", "update3", "update4", "delete")} <= triggers
    # a bounding box through GDAL gives the incidents a brute-force filter of the CSV gives
    box = (108.36, 30.83, 108.37, 30.84)
    csv = pd.read_csv(app_folder / "incidents.csv", encoding="utf-8-sig", dtype={"incident_id": str})
    inside = (csv["lon"] >= box[0]) & (csv["lon"] <= box[2]) & (csv["lat"] >= box[1]) & (csv["lat"] <= box[3])
    got = pyogrio.read_dataframe(gpkg, layer="incidents", bbox=box)
    assert 0 < len(got) < len(csv) and sorted(got["incident_id"]) == sorted(csv.loc[inside, "incident_id"])
    with open_store(gpkg) as store:
        counts = {layer: _index_matches(gpkg, store, layer) for layer in ("estates", "routes", "incidents")}
    assert counts["estates"] == len(io.read_estates(app_folder / "estates.geojson")) and counts["incidents"] == int(csv[["lon", "lat"]].notna().all(axis=1).sum())


def test_the_triggers_keep_the_rtree_in_step_with_record_edits(tmp_path):
    from geo.store import TableSpec

    gpkg = tmp_path / "s.gpkg"
    with open_store(gpkg, data_dir=tmp_path) as store:
        store.ensure_table(TableSpec("surveys", key="sid", columns={"n": int}, geometry="POINT"))
        v = store.insert("surveys", {"sid": "A", "n": 1, "geometry": shapely.Point(108.30, 30.80)}, author="a", reason="r")
        store.insert("surveys", {"sid": "B", "n": 2, "geometry": shapely.Point(108.40, 30.90)}, author="a", reason="r")
        store.insert("surveys", {"sid": "C", "n": 3}, author="a", reason="r")  # no geometry: not in the index
        assert len(_rtree_rows(gpkg, "surveys")) == 2
        store.update("surveys", "A", {"geometry": shapely.Point(108.35, 30.85)}, base_version=v, author="a", reason="moved")
        store.delete("surveys", "B", base_version=1, author="a", reason="gone")
        assert _index_matches(gpkg, store, "surveys") == 1
        got = pyogrio.read_dataframe(gpkg, layer="surveys", bbox=(108.34, 30.84, 108.36, 30.86))
    assert list(got["sid"]) == ["A"]
    assert np.isclose(got.geometry.iloc[0].x, 108.35)


def test_an_older_store_gets_its_rtree_when_migrated(tmp_path, data_dir):
    from geo.store.migrations import SCHEMA_VERSION

    gpkg = tmp_path / "old.gpkg"
    routes = io.read_routes(data_dir / "patrol_routes.geojson")
    with open_store(gpkg, data_dir=tmp_path) as store:
        store.replace_layer("routes", routes, base_version=0, author="a", reason="r")
    # what a store of schema version 2 looked like: the same layer without the R-tree extension
    with sqlite3.connect(gpkg) as conn:
        conn.execute('DROP TABLE "rtree_routes_geometry"')
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_%'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DELETE FROM gpkg_extensions")
        conn.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    with open_store(gpkg) as store:  # the embedded store migrates itself on opening
        assert store.schema_version() == SCHEMA_VERSION
        assert _index_matches(gpkg, store, "routes") == len(routes)
    has = pyogrio.read_dataframe(gpkg, sql="SELECT HasSpatialIndex('routes', 'geometry') AS h")
    assert int(has.iloc[0, 0]) == 1
