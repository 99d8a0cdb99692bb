"""The route history in one language: restores record their reason in the language asked, times show as local minutes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from geo import settings
from geo.cli.main import main
from geo.routes import phrases
from geo.routes.shared import open_route_store

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def routes_file(tmp_path) -> Path:
    """The shipped routes with one saved change, so there are versions 1 (as found) and 2."""
    out = tmp_path / "data"
    out.mkdir()
    for name in ("estates.geojson", "patrol_routes.geojson"):
        shutil.copy(DATA / name, out / name)
    path = out / "patrol_routes.geojson"
    store = open_route_store(path)
    from geo import io

    routes = io.read_routes(path)
    store.save(routes.iloc[:-1], author="王警官", reason="删去一条路线", expected_sha256=store.current_sha256())
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _last_reason(path: Path) -> str:
    return open_route_store(path).versions()[-1].reason


def test_restore_records_its_reason_in_chinese_by_default(routes_file, capsys, monkeypatch):
    monkeypatch.setattr(settings, "lang", "zh")
    rc, out, _ = _run(capsys, "routes", "restore", "1", "--author", "王警官", "--routes", str(routes_file))
    assert rc == 0
    assert _last_reason(routes_file) == "恢复到第 1 版"
    assert "已恢复第 1 版" in out and "第 3 版" in out


def test_restore_records_english_when_asked(routes_file, capsys):
    rc, out, _ = _run(capsys, "routes", "restore", "1", "--author", "Wang", "--routes", str(routes_file), "--lang", "en")
    assert rc == 0
    assert _last_reason(routes_file) == "restore version 1"
    assert "restored version 1 as version 3" in out


def test_shahe_lang_chooses_the_language(routes_file, capsys, monkeypatch):
    monkeypatch.setattr(settings, "lang", "en")
    assert _run(capsys, "routes", "restore", "2", "--author", "Wang", "--routes", str(routes_file))[0] == 0
    assert _last_reason(routes_file) == "restore version 2"


def test_a_reason_given_is_kept_as_written(routes_file, capsys):
    assert _run(capsys, "routes", "restore", "1", "--author", "a", "--reason", "退回原方案", "--routes", str(routes_file), "--lang", "en")[0] == 0
    assert _last_reason(routes_file) == "退回原方案"


def test_history_shows_local_minutes_and_translated_phrases(routes_file, capsys):
    versions = open_route_store(routes_file).versions()
    # Independent of the code under test: the stored ISO time converted with the standard library.
    expected = [dt.datetime.fromisoformat(v.saved_at).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") for v in versions]
    rc, out, _ = _run(capsys, "routes", "history", "--routes", str(routes_file), "--lang", "zh")
    assert rc == 0
    assert out.splitlines()[0].split()[:3] == ["版本", "保存时间", "保存人"]
    for stamp in expected:
        assert stamp in out
    for v in versions:
        assert v.saved_at not in out  # no raw ISO time
    assert "（原有文件）" in out and "首次保存前的路线文件" in out and "(as found)" not in out
    rc, out, _ = _run(capsys, "routes", "history", "--routes", str(routes_file), "--lang", "en")
    assert "(file as found)" in out and "原有文件" not in out


def test_a_restore_recorded_in_english_shows_in_chinese(routes_file, capsys):
    _run(capsys, "routes", "restore", "1", "--author", "a", "--routes", str(routes_file), "--lang", "en")
    rc, out, _ = _run(capsys, "routes", "history", "--routes", str(routes_file), "--lang", "zh")
    assert rc == 0
    assert "恢复到第 1 版" in out and "restore version" not in out


@pytest.mark.parametrize(("stored", "shown"), [
    ("2026-11-30T21:59:03+00:00", "2026-12-01 05:59"),  # 21:59 UTC is 05:59 next day in UTC+8
    ("2026-12-01T05:59:59+08:00", "2026-12-01 05:59"),
    ("2026-12-01T05:59:00", "2026-12-01 05:59"),  # no zone: taken as local
])
def test_local_time_text(stored, shown):
    assert phrases.local_time_text(stored) == shown


def test_phrases_both_ways():
    assert phrases.history_text("restore version 12", "zh") == "恢复到第 12 版"
    assert phrases.history_text("恢复到第 12 版", "en") == "restore version 12"
    assert phrases.history_text("(edited by hand)", "zh") == "（手工修改的文件）"
    assert phrases.history_text("覆盖盲区", "en") == "覆盖盲区"
    assert phrases.restore_reason(3, "zh") == "恢复到第 3 版" and phrases.restore_reason(3, "en") == "restore version 3"
