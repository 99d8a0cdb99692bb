"""Plan versus reality in the app: the overview's table and an estate's visits show the engine's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import io as gio
from geo import settings
from geo.tracks import plan_vs_actual, run_scan, visit_table
from tests.conftest import copy_shipped_data

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA = ROOT / "data"

pytestmark = pytest.mark.skipif(not (DATA / "tracks").exists(), reason="shipped demo tracks missing")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    out = tmp_path / "data"
    copy_shipped_data(out, "route_history")
    monkeypatch.setenv("SHAHE_DATA_DIR", str(out))
    monkeypatch.setattr(settings, "data_dir", out)
    monkeypatch.delenv("SHAHE_EDITOR_PASSWORD", raising=False)
    return out


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=180)


def test_overview_plan_vs_actual_matches_the_engine(data_dir):
    at = _run(_app())
    table = next(d.value for d in [*at.dataframe, *at.table] if "应到小区已到" in d.value.columns)
    teams, _, _ = plan_vs_actual(gio.read_estates(data_dir / "estates.geojson"), gio.read_routes(data_dir / "patrol_routes.geojson"),
                                 tracks_path=data_dir / "tracks")
    assert len(table) == len(teams)
    expected = (teams["obligations_met"].astype(str) + " / " + teams["obligations"].astype(str)).tolist()
    assert table["应到小区已到"].tolist() == expected
    assert [int(v) for v in table["路线走到比例（%）"]] == [int(v) for v in (teams["route_share"] * 100).round(0)]
    assert any("合成" in w.value and "轨迹" in w.value for w in at.warning)


@pytest.mark.parametrize("sel", ["SH-02", "SH-01"])
def test_estate_detail_lists_its_visits(data_dir, sel):
    at = _app()
    at.session_state["view"] = "map"
    at.session_state["selected_estate"] = sel
    _run(at)
    assert at.selectbox(key="selected_estate").value == sel
    visits = visit_table(run_scan(gio.read_estates(data_dir / "estates.geojson"), tracks_path=data_dir / "tracks"),
                         gio.read_estates(data_dir / "estates.geojson"))
    mine = visits[visits["estate_id"] == sel]
    shown = [d.value for d in at.dataframe if "到达" in d.value.columns]
    if len(mine):
        assert len(shown) == 1 and len(shown[0]) == min(20, len(mine))
        assert shown[0]["分钟"].iloc[0] == pytest.approx(mine.sort_values("start_s").iloc[-1]["duration_min"], abs=0.05)
    else:
        assert not shown and any("没有队伍到过" in i.value for i in at.info)


def test_raw_tracks_only_for_editors(data_dir, monkeypatch):
    from ui import auth
    from ui import tracks as tracks_ui

    monkeypatch.setattr(auth, "is_editor", lambda: False)
    assert tracks_ui.raw_layer("offline") is None
    monkeypatch.setattr(auth, "is_editor", lambda: True)
    layer = tracks_ui.raw_layer("offline")
    (vectors,) = [c for c in layer._children.values() if type(c).__name__ == "VectorLayer"]
    lines = list(vectors.features())
    assert lines and {f["kind"] for f in lines} == {"l"} and {f["options"].get("className") for f in lines} == {"raw-track"}
