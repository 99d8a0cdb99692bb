"""The response circles in the planner view (Streamlit AppTest on a copy of the shipped data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import io as gio
from geo import settings
from geo.response import response_times

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")

pytestmark = pytest.mark.skipif(not (ROOT / "data" / "police_posts.geojson").exists(), reason="shipped posts missing")


@pytest.fixture
def data_dir(shipped_data, monkeypatch):
    monkeypatch.setenv("SHAHE_DATA_DIR", str(shipped_data))
    monkeypatch.delenv("SHAHE_EDITOR_PASSWORD", raising=False)
    return shipped_data


def _run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_planner_lists_the_estates_outside_the_target_in_both_languages(data_dir):
    from streamlit.testing.v1 import AppTest

    estates = gio.read_estates(settings.data_path("estates.geojson"))
    posts = gio.read_posts(settings.data_path("police_posts.geojson"))
    outside = response_times(estates, posts, settings.data_path("gazetteer.geojson")).outside()
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.sidebar.radio(key="view").set_value("map")
    _run(at)
    labels = [e.label for e in at.expander if e.label.startswith("响应圈")]
    assert labels == [f"响应圈：{len(outside)} 个小区未达 {settings.response_target_min:g} 分钟目标"]
    if len(outside):
        table = next(d.value for d in at.dataframe if "用时（分钟）" in d.value.columns)
        assert table["编号"].tolist() == outside["estate_id"].tolist()
    at.button_group(key="lang").set_value("en")
    _run(at)
    assert [e.label for e in at.expander if e.label.startswith("Response circles")] == [
        f"Response circles: {len(outside)} estate(s) outside the {settings.response_target_min:g}-minute target"
    ]
