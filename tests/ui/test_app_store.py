"""The app with a store in use: route restores go through it, a stale one is refused, the change log shows every save."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import io as gio
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture
def data_dir(shipped_data, monkeypatch):
    monkeypatch.setenv("SHAHE_DATA_DIR", str(shipped_data))
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    monkeypatch.setenv("SHAHE_EDITOR_PASSWORD", "right-one")
    open_store(data_dir=shipped_data).close()  # data/shahe.gpkg, filled from the files: routes version 1
    return shipped_data


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_restore_through_the_store_refuses_a_stale_page_and_logs_the_change(data_dir):
    from streamlit.testing.v1 import AppTest

    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.sidebar.radio(key="view").set_value("edit")
    _run(at)
    at.text_input(key="editor_password").set_value("right-one")
    at.button[[b.label for b in at.button].index("登录编辑")].click()
    _run(at)
    at.text_input(key="edit_author").set_value("张警官")
    _run(at)
    # Another office saves while this page is open.
    store = open_store(data_dir=data_dir)
    routes, version = store.read_layer("routes")
    store.replace_layer("routes", routes.iloc[:3], base_version=version, author="李所长", reason="另一处保存")
    next(b for b in at.button if b.key == "restore_button").click()
    _run(at)
    assert any("someone else saved" in e.value for e in at.error)
    assert store.layer_version("routes") == 2  # the stale restore wrote nothing
    assert len(gio.read_routes(data_dir / "patrol_routes.geojson")) == 3  # the page now shows the other office's save
    at.selectbox(key="restore_version").set_value(1)
    _run(at)
    next(b for b in at.button if b.key == "restore_button").click()
    _run(at)
    assert not at.error
    log = store.log("routes")
    assert log.iloc[0]["action"] == "restore" and log.iloc[0]["author"] == "张警官" and store.layer_version("routes") == 3
    assert len(gio.read_routes(data_dir / "patrol_routes.geojson")) == len(routes)
    shown = next(d.value for d in at.dataframe if "操作" in d.value.columns)
    assert {"restore", "replace", "import"} <= set(shown["操作"])
    store.close()
