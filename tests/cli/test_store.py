"""``python -m geo store init|import|export|log`` and the global ``--store`` on the embedded store."""

from __future__ import annotations

import json

from geo import io
from geo.cli.main import main
from geo.store import open_store
from geo.store.migrations import SCHEMA_VERSION


def test_init_import_export_log(shipped_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    gpkg = tmp_path / "office.gpkg"
    assert main(["store", "init", "--store", str(gpkg), "--data-dir", str(shipped_data)]) == 0
    assert f"schema version {SCHEMA_VERSION} of {SCHEMA_VERSION}, ready" in capsys.readouterr().out
    assert open_store(gpkg).layer_version("routes") == 1  # filled from the data folder on creation
    assert main(["store", "import", str(shipped_data), "--author", "张三", "--store", str(gpkg)]) == 0
    assert "nothing to import" in capsys.readouterr().out
    routes = io.read_routes(shipped_data / "patrol_routes.geojson")
    io.write_geojson(routes.iloc[:2], shipped_data / "patrol_routes.geojson", metadata={"synthetic": True})
    assert main(["store", "import", str(shipped_data), "--author", "张三", "--reason", "两条", "--store", str(gpkg)]) == 0
    assert capsys.readouterr().out.strip() == "routes: saved as version 2"
    out = tmp_path / "export"
    assert main(["store", "export", str(out), "--store", str(gpkg)]) == 0
    assert len(io.read_routes(out / "patrol_routes.geojson")) == 2
    capsys.readouterr()
    assert main(["store", "log", "--table", "routes", "--store", str(gpkg)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "张三  import routes -> v2  两条" in lines[0]
    assert main(["store", "log", "--json", "--limit", "1", "--store", str(gpkg)]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["author"] == "张三" and len(entry["after"]["rows"]) == 2


def test_a_bad_import_prints_every_problem_and_writes_nothing(shipped_data, tmp_path, capsys):
    gpkg = tmp_path / "office.gpkg"
    assert main(["store", "init", "--store", str(gpkg), "--data-dir", str(shipped_data)]) == 0
    (shipped_data / "patrol_routes.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                                                       '"properties": {}, "geometry": null}]}', encoding="utf-8")
    n = len(open_store(gpkg).log())
    assert main(["store", "import", str(shipped_data), "--author", "a", "--store", str(gpkg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "patrol_routes.geojson" in err and "Traceback" not in err
    assert len(open_store(gpkg).log()) == n


def test_global_store_option_selects_the_store(shipped_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    gpkg = tmp_path / "office.gpkg"
    assert main(["--store", str(gpkg), "store", "init", "--data-dir", str(shipped_data)]) == 0
    assert str(gpkg) in capsys.readouterr().out and gpkg.exists()
