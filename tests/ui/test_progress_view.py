"""The 整治进度 view: figures from the store, a meeting of 25 recorded and flagged, the briefing downloadable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo import settings
from geo.rectification import repository

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
DATA = ROOT / "data"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    out = tmp_path / "data"
    shutil.copytree(DATA, out, ignore=shutil.ignore_patterns("route_history", "*.gpkg", "tracks"))
    monkeypatch.setenv("SHAHE_DATA_DIR", str(out))
    monkeypatch.setattr(settings, "data_dir", out)
    monkeypatch.delenv("SHAHE_STORE", raising=False)
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
