"""`python -m geo optimise` and `python -m geo routes add PLAN`, run on a copy of the shipped data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geo import io
from geo.cli.main import main as cli_main
from geo.report import coverage_table
from geo.routes.load import load_routes

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def data(tmp_path) -> Path:
    out = tmp_path / "data"
    out.mkdir()
    for name in ("estates.geojson", "patrol_routes.geojson", "gazetteer.geojson", "police_posts.geojson"):
        shutil.copy(DATA / name, out / name)
    return out


def _run(capsys, *argv):
    rc = cli_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def _opt(data: Path, out: Path, *extra):
    return ["optimise", "--out", out, "--estates", data / "estates.geojson", "--routes", data / "patrol_routes.geojson",
            "--roads", data / "gazetteer.geojson", "--posts", data / "police_posts.geojson", *extra]


def test_plan_then_apply_with_preview_and_save(data, capsys):
    plan = data.parent / "plan.geojson"
    rc, out, _ = _run(capsys, *_opt(data, plan))
    assert rc == 0 and "proven optimal" in out and plan.is_file()
    doc = json.loads(plan.read_text(encoding="utf-8"))
    assert doc["plan"] is True and doc["synthetic"] is True
    assert all({"team_id", "cost_m"} <= set(f["properties"]) for f in doc["features"])
    routes = data / "patrol_routes.geojson"
    before = routes.read_bytes()
    rc, out, _ = _run(capsys, "routes", "add", plan, "--routes", routes, "--estates", data / "estates.geojson")
    assert rc == 0 and "nothing saved" in out and routes.read_bytes() == before
    rc, out, _ = _run(capsys, "routes", "add", plan, "--routes", routes, "--estates", data / "estates.geojson",
                      "--save", "--author", "测试", "--reason", "optimised plan")
    assert rc == 0 and "as version 2" in out
    table = coverage_table(io.read_estates(data / "estates.geojson"), load_routes(routes))
    assert (table["status"] == "covered").all()


def test_accept_team_by_team(data, capsys):
    plan = data.parent / "plan.geojson"
    _run(capsys, *_opt(data, plan))
    features = json.loads(plan.read_text(encoding="utf-8"))["features"]
    team = features[0]["properties"]["team_id"]
    n_team = sum(f["properties"]["team_id"] == team for f in features)
    routes = data / "patrol_routes.geojson"
    n_before = len(load_routes(routes))
    rc, _, _ = _run(capsys, "routes", "add", plan, "--routes", routes, "--estates", data / "estates.geojson", "--plan-teams", team,
                      "--save", "--author", "测试", "--reason", "one team")
    assert rc == 0
    assert len(load_routes(routes)) == n_before + n_team
    rc, _, err = _run(capsys, "routes", "add", plan, "--routes", routes, "--estates", data / "estates.geojson", "--plan-teams", "NOPE")
    assert rc == 2 and "team 'NOPE' has no detour in the plan" in err


@pytest.mark.parametrize("extra, message", [(("--budget-m", "0"), "greater than 0"), (("--budget-m", "-10"), "greater than 0"),
                                            (("--k", "0"), "1 or more")])
def test_bad_options_write_nothing(data, capsys, extra, message):
    plan = data.parent / "plan.geojson"
    rc, _, err = _run(capsys, *_opt(data, plan, *extra))
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not plan.exists()


def test_k_beyond_reachable_teams_names_the_estates(data, capsys):
    rc, out, _ = _run(capsys, *_opt(data, data.parent / "plan.geojson", "--k", "9"))
    assert rc == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("cannot reach k=9"))
    assert "SH-01" in line


def test_budget_table(data, capsys):
    curve = data.parent / "curve.csv"
    rc, out, _ = _run(capsys, *_opt(data, data.parent / "plan.geojson", "--budget-m", "1500", "--curve-out", curve))
    assert rc == 0 and "what each budget buys" in out and curve.is_file()
    rows = io.read_table(curve)
    met = rows["estates_met"].astype(int).tolist()
    assert met == sorted(met)  # more metres never buy fewer estates
    used = next(ln for ln in out.splitlines() if ln.startswith("budget 1500 m"))
    assert float(used.split(":")[1].split()[0]) <= 1500
