"""No `--out`/`--rejects` writes over a file the command reads or the data folder's own files (finding 2)."""

from __future__ import annotations

import pytest

from geo.cli.main import main
from tests.conftest import folder_digest


def _refused(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "argv",
    [
        ["map", "--out", "{d}/estates.geojson"],
        ["coverage", "--out", "{d}/patrol_routes.geojson"],
        ["coverage", "--out", "{d}/ledger.csv"],
        ["hotspots", "--out", "{d}/patrol_routes.geojson"],
        ["rank", "--out", "{d}/ledger.csv"],
        ["effect", "--out", "{d}/incidents.csv"],
        ["build-estates", "--out", "{d}/ledger.csv", "--no-progress"],
        ["coverage", "--out", "{d}/route_history/v0001.geojson"],
    ],
)
def test_outputs_never_replace_data_files(data_copy, capsys, argv):
    before = folder_digest(data_copy)
    err = _refused(capsys, [a.format(d=data_copy) for a in argv])
    assert err.startswith("error: --out ") and ("write the output elsewhere" in err or "this command reads" in err)
    assert folder_digest(data_copy) == before


def test_import_rejects_never_replace_the_store(data_copy, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("id,time,category,source,lon,lat\nZ-1,not a time,theft,110,108.36,30.85\n", encoding="utf-8")
    before = folder_digest(data_copy)
    err = _refused(capsys, ["incidents", "import", str(src), "--rejects", str(data_copy / "incidents.csv")])
    assert "--rejects" in err and "incidents.csv" in err
    err = _refused(capsys, ["incidents", "import", str(src), "--rejects", str(src)])
    assert "also a file this command reads" in err
    err = _refused(capsys, ["incidents", "import", str(src), "--out", str(src)])
    assert folder_digest(data_copy) == before
    assert src.read_text(encoding="utf-8").startswith("id,time")


def test_owner_may_write_its_own_file(data_copy, capsys):
    assert main(["build-estates", "--no-progress"]) == 0
    assert "estates written" in capsys.readouterr().out


def test_convert_refuses_its_own_input(tmp_path, capsys, data_copy):
    src = tmp_path / "routes.geojson"
    src.write_bytes((data_copy / "patrol_routes.geojson").read_bytes())
    _refused(capsys, ["convert", "--in", str(src), "--out", str(src), "--from", "wgs84", "--to", "gcj02"])
    assert src.read_bytes() == (data_copy / "patrol_routes.geojson").read_bytes()
