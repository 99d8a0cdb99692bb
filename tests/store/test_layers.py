"""Layers: bulk read and write, stale saves refused, history and restore, export/import, heat grid (both backends)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo import io
from geo.errors import ConflictError, DataFileError, SchemaError
from geo.store import TableSpec
from geo.store.files import LAYER_FILES, export_dir, import_dir, read_layer_file


def _routes(data_dir):
    return io.read_routes(data_dir / "patrol_routes.geojson")


def test_replace_and_read_round_trip(store, data_dir):
    routes = _routes(data_dir)
    assert store.replace_layer("routes", routes, base_version=0, author="所长", reason="first") == 1
    got, version = store.read_layer("routes")
    assert version == 1 and list(got.columns) == list(routes.columns) and len(got) == len(routes)
    assert got.crs.to_epsg() == 4326
    for col in routes.columns.drop("geometry"):
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == routes[col].astype(object).where(routes[col].notna(), None).tolist()
    assert all(a.equals_exact(b, 1e-12) for a, b in zip(got.geometry, routes.geometry, strict=True))
    assert got.attrs["metadata"]["synthetic"] is True


def test_stale_layer_save_is_refused(store, data_dir):
    routes = _routes(data_dir)
    store.replace_layer("routes", routes, base_version=0, author="甲", reason="first")
    store.replace_layer("routes", routes.iloc[:3], base_version=1, author="甲", reason="trim")
    with pytest.raises(ConflictError, match=r"version 2 by 甲 .*someone else saved; reload"):
        store.replace_layer("routes", routes.iloc[:5], base_version=1, author="乙", reason="mine")
    got, version = store.read_layer("routes")
    assert version == 2 and len(got) == 3 and len(store.log("routes")) == 2


def test_restore_layer_version_and_history(store, data_dir):
    routes = _routes(data_dir)
    store.replace_layer("routes", routes, base_version=0, author="甲", reason="first")
    store.replace_layer("routes", routes.iloc[:2], base_version=1, author="甲", reason="trim")
    assert store.restore("routes", None, 1, author="乙", reason="undo trim") == 3
    got, _ = store.read_layer("routes")
    assert list(got["route_id"]) == list(routes["route_id"])
    log = store.log("routes")
    assert list(log["action"]) == ["restore", "replace", "replace"]
    assert json.loads(log.iloc[1]["before"]) == {"version": 1, "rows": len(routes)}


def test_append_rows_and_a_layer_without_history(store, data_dir):
    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv")
    assert store.append_rows("incidents", inc.iloc[:100], author="导入", reason="batch 1") == 1
    assert store.append_rows("incidents", inc.iloc[100:250], author="导入", reason="batch 2") == 2
    got, version = store.read_layer("incidents")
    assert version == 2 and list(got["incident_id"]) == list(inc["incident_id"].iloc[:250])
    assert json.loads(store.log("incidents").iloc[0]["after"]) == {"rows": 250, "rows_added": 150}
    with pytest.raises(DataFileError, match="keeps no history"):
        store.restore("incidents", None, 1, author="a", reason="b")
    with pytest.raises(SchemaError, match="do not match the layer"):
        store.append_rows("incidents", pd.DataFrame({"incident_id": ["X"]}), author="a", reason="b")


def test_export_then_import_gives_the_same_store(store, data_dir, tmp_path):
    first = import_dir(store, data_dir, author="导入", reason="load")
    assert set(first) == {s.layer for s in LAYER_FILES}
    before = {name: store.read_layer(name) for name in first}
    spec = TableSpec("measures", key="measure_id", columns={"estate_id": str, "cost": float, "items": list}, geometry="POINT")
    store.ensure_table(spec)
    store.insert("measures", {"measure_id": "M-1", "estate_id": "SH-01", "cost": 1200.5, "items": ["门禁", "监控"],
                              "geometry": shapely.Point(108.3701, 30.8402)}, author="甲", reason="a")
    store.insert("measures", {"measure_id": "M-2", "estate_id": "SH-02"}, author="甲", reason="a")
    records = store.list("measures")
    out = tmp_path / "export"
    export_dir(store, out)
    # the exported files are ordinary project files: the project's own readers take them
    assert len(io.read_routes(out / "patrol_routes.geojson")) == len(before["routes"][0])
    with open(data_dir / "incidents.csv", encoding="utf-8-sig", newline="") as fh:  # rows of the source file, by the csv module
        shipped = sum(1 for _ in csv.reader(fh)) - 1
    assert len(io.read_table(out / "incidents.csv")) == shipped
    assert import_dir(store, out, author="导入", reason="again") == {}  # nothing differs: no new version
    pd.testing.assert_frame_equal(pd.DataFrame(store.list("measures")), pd.DataFrame(records))
    # into an empty store, the export brings back the same layers and records
    store.replace_layer("routes", before["routes"][0].iloc[:1], base_version=before["routes"][1], author="x", reason="y")
    store.delete("measures", "M-2", base_version=1, author="x", reason="y")
    changed = import_dir(store, out, author="导入", reason="back")
    assert changed == {"measures": 1, "routes": before["routes"][1] + 2}
    assert store.get("measures", "M-2")["estate_id"] == "SH-02"
    before["routes"] = (before["routes"][0], before["routes"][1] + 2)
    for name, (frame, version) in before.items():
        again, v = store.read_layer(name)
        assert v == version
        pd.testing.assert_frame_equal(pd.DataFrame(again.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(frame.drop(columns="geometry", errors="ignore")))
        if "geometry" in frame:
            assert (again.geometry.isna() == frame.geometry.isna()).all()
            assert all(a.equals_exact(b, 1e-9) for a, b in zip(again.geometry.dropna(), frame.geometry.dropna(), strict=True))
        assert again.attrs["metadata"] == frame.attrs["metadata"]


def test_import_with_a_bad_file_writes_nothing(store, data_dir):
    (data_dir / "patrol_routes.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                                                   '"properties": {"route_id": "R1"}, "geometry": null}]}', encoding="utf-8")
    with pytest.raises(SchemaError):
        import_dir(store, data_dir, author="a", reason="b")
    assert store.layers().empty and store.log().empty


def test_heat_cells_match_an_independent_grid(store, data_dir):
    import pyproj

    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv")
    store.append_rows("incidents", inc, author="a", reason="b")
    bounds = (108.350, 30.826, 108.394, 30.860)
    for cell in (50.0, 200.0, 137.5):
        got = store.heat_cells(cell, bounds=bounds)
        lon = pd.to_numeric(inc["lon"]).to_numpy()
        lat = pd.to_numeric(inc["lat"]).to_numpy()
        keep = (lon >= bounds[0]) & (lon <= bounds[2]) & (lat >= bounds[1]) & (lat <= bounds[3])
        x, y = pyproj.Transformer.from_crs(4326, 4545, always_xy=True).transform(lon[keep], lat[keep])
        counts = pd.Series(1, index=pd.MultiIndex.from_arrays([np.floor(np.asarray(x) / cell), np.floor(np.asarray(y) / cell)])).groupby(level=[0, 1]).sum()
        want = pd.DataFrame({"x_m": (counts.index.get_level_values(0) + 0.5) * cell, "y_m": (counts.index.get_level_values(1) + 0.5) * cell,
                             "count": counts.to_numpy()}).sort_values(["x_m", "y_m"], ignore_index=True)
        assert got["count"].sum() == keep.sum()
        np.testing.assert_allclose(got[["x_m", "y_m"]].to_numpy(), want[["x_m", "y_m"]].to_numpy(), atol=1e-6)
        assert got["count"].tolist() == want["count"].tolist()


def test_geopackage_is_readable_by_pyogrio(tmp_path, data_dir):
    from geo.store import open_store

    path = tmp_path / "shahe.gpkg"
    with open_store(path):
        pass  # created and filled from settings.data_dir on first open
    store = open_store(str(path))
    routes, _ = store.read_layer("routes")
    store.close()
    layers = dict(pyogrio.list_layers(path))
    assert layers["routes"] == "Unknown" and layers["incidents"] == "Unknown" and layers["ledger"] is None
    back = pyogrio.read_dataframe(path, layer="routes")
    assert back.crs.to_epsg() == 4326 and list(back["route_id"]) == list(routes["route_id"])
    assert all(shapely.equals_exact(a, b, 1e-12) for a, b in zip(back.geometry, routes.geometry, strict=True))
