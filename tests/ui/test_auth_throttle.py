"""Wrong editor passwords are slowed down, per session and per process (finding 14 of the attack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import settings
from tests.conftest import copy_shipped_data
from ui import auth

ROOT = Path(__file__).resolve().parents[2]


def test_waits_begin_after_the_free_tries_and_double():
    th = auth.Throttle(3)
    now = 1000.0
    for _ in range(2):
        th.failed(now)
        assert th.wait_s(now) == 0
    th.failed(now)
    assert th.wait_s(now) == auth.FIRST_WAIT_S
    th.failed(now + 10)
    assert th.wait_s(now + 10) == 2 * auth.FIRST_WAIT_S
    for _ in range(20):
        th.failed(now)
    assert th.wait_s(now) == auth.MAX_WAIT_S
    th.succeeded()
    assert th.wait_s(now) == 0


@pytest.fixture
def app_data(tmp_path, monkeypatch):
    out = tmp_path / "data"
    copy_shipped_data(out, "route_history")
    monkeypatch.setenv("SHAHE_DATA_DIR", str(out))
    monkeypatch.setattr(settings, "data_dir", out)
    monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "right-one")
    yield out
    auth._PROCESS.succeeded()


def test_fourth_try_in_a_session_is_not_even_checked(app_data, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(auth, "FIRST_WAIT_S", 600.0)  # longer than any rerun of the test app, however slow the machine

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.sidebar.radio(key="view").set_value("edit")
    at.run()
    for guess in ("a", "b", "c", "right-one"):
        at.text_input(key="editor_password").set_value(guess)
        at.button[[b.label for b in at.button].index("登录编辑")].click()
        at.run()
        assert not at.exception
    assert any("口令错误次数过多" in e.value for e in at.error)
    assert not [s for s in at.success if "已登录" in s.value]  # the right password during the wait does not log in
