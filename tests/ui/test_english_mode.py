"""English mode shows English only (ids, units and proper nouns aside): separators, colons, incident categories."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from geo.incidents.taxonomy import CATEGORY_ENGLISH

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app(shipped_data, monkeypatch):
    """``open(view)``: the app on a copy of the shipped data, on ``view``, then switched to English."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SHAHE_DATA_DIR", str(shipped_data))
    monkeypatch.delenv("SHAHE_EDITOR_PASSWORD", raising=False)

    def open_(view: str, **selected):
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.sidebar.radio(key="view").set_value(view)
        at.run()
        for key, value in selected.items():
            at.selectbox(key=key).set_value(value)
            at.run()
        at.button_group(key="lang").set_value("en")  # the view is picked first: its radio's labels change with the language
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_


def _series(chart) -> set[str]:
    """The series names of a Streamlit line chart, read from the data it sends to the browser."""
    proto = chart.proto
    blob = proto.data.data if proto.HasField("data") else proto.datasets[0].data.data
    return set(pa.ipc.open_stream(blob).read_all().column("color -- streamlit-generated").to_pylist())


def test_trend_chart_names_its_series_in_english(app):
    at = app("overview")
    charts = [e for e in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart") if "streamlit-generated" in e.proto.spec]
    assert len(charts) == 1
    assert _series(charts[0]) == set(CATEGORY_ENGLISH.values())  # they were the stored Chinese names


def test_estate_detail_and_team_tables_use_english_punctuation(app):
    at = app("map", selected_estate="SH-02")
    detail = next(m.value for m in at.markdown if "**Estate**" in m.value)
    assert detail.startswith("**Estate**: ") and " · **Status**: " in detail and "：" not in detail
    near = next(c.value for c in at.caption if c.value.startswith("Incidents within"))
    counts = near.split(" · ")[1].split(", ")
    assert [c.rsplit(" ", 1)[0] for c in counts] == list(CATEGORY_ENGLISH.values())
    teams = next(d.value for d in at.dataframe if "Shift" in d.value.columns)
    assert "all, night" in set(teams["Shift"])  # PS-SMB patrols all day and at night
    nearby = next(d.value for d in at.dataframe if "Teams within 1 km" in d.value.columns)["Teams within 1 km"]
    assert any(", " in v for v in nearby) and not any("、" in v for v in nearby)


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", ["110警情", "刑事案件", "矛盾纠纷登记"]),
    ("en", ["110 call", "criminal case", "dispute register"]),
])
def test_incident_sources_in_one_language(monkeypatch, lang, expected):
    from ui import i18n

    monkeypatch.setattr(i18n, "lang", lambda: lang)
    assert [i18n.source_label(code) for code in ("110", "criminal_case", "dispute_register")] == expected
    assert i18n.source_label("unknown") == "unknown"


def test_plan_vs_actual_lists_unvisited_estates_with_commas(app):
    at = app("overview")
    table = next(d.value for d in [*at.dataframe, *at.table] if "Not visited" in d.value.columns)
    lists = [v for v in table["Not visited"] if v]
    assert any(", " in v for v in lists) and not any("、" in v for v in lists), lists
