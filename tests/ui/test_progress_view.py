"""The 整治进度 view: figures from the store, a meeting of 25 recorded and flagged, the briefing downloadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import settings
from geo.rectification import repository
from tests.conftest import copy_shipped_data

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA = ROOT / "data"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    out = tmp_path / "data"
    copy_shipped_data(out, "route_history", "*.gpkg", "tracks")
    monkeypatch.setenv("SHAHE_DATA_DIR", str(out))
    monkeypatch.setattr(settings, "data_dir", out)
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    monkeypatch.delenv("SHAHE_EDITOR_PASSWORD", raising=False)
    return out


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _progress(at):
    at.sidebar.radio(key="view").set_value("progress")
    return _run(at)


def test_progress_figures_match_the_store(data_dir):
    from streamlit.testing.v1 import AppTest

    at = _progress(_run(AppTest.from_file(APP, default_timeout=180)))
    records = repository.load_all()
    metrics = {m.label: m.value for m in at.metric}
    verified = int((records["measures"]["status"] == "verified").sum())
    assert metrics["已验收措施"] == f"{verified} / {len(records['measures'])}"
    low = int((records["meetings"]["attendance"] < 30).sum())
    assert metrics["不达标会议"] == str(low) and low > 0
    assert any("演示数据" in w.value for w in at.warning)
    assert any("不达标的居民群众会议" in s.value for s in at.subheader)


def test_an_editor_records_a_meeting_of_25_and_it_is_flagged(data_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "pw")
    at = _progress(_run(AppTest.from_file(APP, default_timeout=180)))
    before = len(repository.load_records("meetings"))
    at.text_input(key="editor_password").set_value("pw")
    at.button[[b.label for b in at.button].index("登录编辑")].click()
    _run(at)
    at.selectbox(key="rm_estate").set_value("SH-24")
    at.text_input(key="rm_topic").set_value("治安防范安全会")
    at.number_input(key="rm_att").set_value(25)
    at.text_input(key="rm_author").set_value("张三")
    import datetime as dt

    at.date_input(key="rm_date").set_value(dt.date(2024, 6, 1))
    next(b for b in at.button if b.label == "保存记录" and "rect_meeting" in str(b.form_id)).click()
    _run(at)
    assert any("25" in w.value and "不达标" in w.value for w in at.warning), [e.value for e in at.error]
    meetings = repository.load_records("meetings")
    assert len(meetings) == before + 1
    row = meetings[meetings["estate_id"] == "SH-24"].iloc[0]
    assert (row["attendance"], row["author"], row["date"]) == (25, "张三", "2024-06-01")
    log = repository.open_records_store().log(repository.table_name("meetings"), row["meeting_id"])
    assert len(log) == 1 and log.iloc[0]["author"] == "张三"


def test_an_editor_surveys_plans_and_verifies_in_the_app(data_dir, monkeypatch):
    import datetime as dt

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "pw")
    at = _progress(_run(AppTest.from_file(APP, default_timeout=180)))
    at.text_input(key="editor_password").set_value("pw")
    at.button[[b.label for b in at.button].index("登录编辑")].click()
    _run(at)
    # A survey of SH-24 (the demo's estate not started): no access control, a blocked fire lane.
    at.selectbox(key="rs_estate").set_value("SH-24")
    at.date_input(key="rs_date").set_value(dt.date(2024, 2, 1))
    at.text_input(key="rs_who").set_value("平安办")
    at.selectbox(key="rs_access").set_value("none")
    at.checkbox(key="rs_fire_lane_blocked").check()
    at.checkbox(key="rs_lighting_ok").check()
    at.checkbox(key="rs_cameras_cover_gates").check()
    at.checkbox(key="rs_fence_ok").check()
    at.checkbox(key="rs_fire_inspected").check()
    at.selectbox(key="rs_pm").set_value("professional")
    at.text_input(key="rs_author").set_value("张三")
    next(b for b in at.button if b.label == "保存记录" and "rect_survey" in str(b.form_id)).click()
    _run(at)
    assert any("SV-SH-24-20240201" in s.value for s in at.success), [e.value for e in at.error]
    # 一区一策 from that survey: access control, night closure, fire lane.
    at.selectbox(key="rp_survey").set_value("SV-SH-24-20240201")
    at.text_input(key="rp_author").set_value("张三")
    _run(at)
    next(b for b in at.button if b.key == "rp_save").click()
    _run(at)
    measures = repository.load_records("measures")
    mine = measures[measures["estate_id"] == "SH-24"].set_index("measure_id")
    assert sorted(mine["kind"]) == ["access_control", "fire_lane", "night_closure"]
    assert set(mine["due_date"]) == {"2024-11-30"}
    # One step at a time to verified.
    for step in ("in_progress", "done", "verified"):
        at.selectbox(key="rt_measure").set_value("MS-SH-24-fire_lane")
        _run(at)
        at.selectbox(key="rt_status").set_value(step)
        _run(at)
        if step == "verified":
            at.text_input(key="rt_vby").set_value("领导小组办公室")
        at.text_input(key="rt_author").set_value("李四")
        next(b for b in at.button if b.key == "rt_save").click()
        _run(at)
        assert not at.error, [e.value for e in at.error]
    got = repository.load_records("measures").set_index("measure_id").loc["MS-SH-24-fire_lane"]
    assert (got["status"], got["verified_by"], got["version"]) == ("verified", "领导小组办公室", 4)


def test_records_come_from_the_apps_data_folder_not_the_engine_default(data_dir, tmp_path, monkeypatch):
    """The view read its records through the engine's default folder (geo.settings.data_dir), not the folder the app
    was given (SHAHE_DATA_DIR): with the two apart it made a store in the default folder."""
    from streamlit.testing.v1 import AppTest

    elsewhere = tmp_path / "engine-default"
    elsewhere.mkdir()
    monkeypatch.setattr(settings, "data_dir", elsewhere)
    _progress(_run(AppTest.from_file(APP, default_timeout=180)))
    assert list(elsewhere.iterdir()) == []  # nothing made or read there
    assert (data_dir / "shahe.gpkg").exists()  # the records' store is the given folder's
