"""The plan's periods and the geocoder's notes in the page's language (ui.data_text)."""

from __future__ import annotations

import json

import pytest

from geo import settings
from ui.data_text import geocode_note_text, period_text


@pytest.mark.parametrize(("value", "english"), [
    ("2022年1月至2022年11月", "Jan 2022 to Nov 2022"),
    ("2023年12月至2024年3月", "Dec 2023 to Mar 2024"),
    ("2024年5月", "May 2024"),
    ("待定", "待定"),
    (None, None),
])
def test_period_in_english_and_unchanged_in_chinese(value, english):
    assert period_text(value, "en") == english
    assert period_text(value, "zh") == value


@pytest.mark.parametrize(("note", "chinese"), [
    (("interpolated between numbers 145 and 241 on the left side of segment 申明大道/3, 15 m from the centreline; "
      "附1号 set back 10 m behind the street front; road position approximate, not surveyed"),
     "在路段申明大道/3左侧第145号至第241号之间插值，距道路中线15米；附1号按退后临街面10米放置；道路位置为近似，非实测"),
    (("interpolated between numbers 1 and 9 on the right side of segment 甲路/1, 15 m from the centreline and "
      "between numbers 2 and 12 on the centreline of segment 乙路/2, since the range has numbers on both sides of the road"),
     "在路段甲路/1右侧第1号至第9号之间插值，距道路中线15米；在路段乙路/2中线上第2号至第12号之间插值（门牌号分布在道路两侧）"),
], ids=["one-anchor-set-back", "two-anchors-centreline"])
def test_interpolated_note_in_chinese_and_unchanged_in_english(note, chinese):
    assert geocode_note_text(note, "zh") == chinese
    assert geocode_note_text(note, "en") == note


def test_surveyed_note_keeps_the_users_words():
    note = "surveyed position from geocode_overrides.csv row 3, converted from GCJ02: 现场核实（王警官）"
    assert geocode_note_text(note, "zh") == "实测位置（geocode_overrides.csv 第3行，由GCJ02换算）：现场核实（王警官）"
    assert geocode_note_text("surveyed position from o.csv row 2", "zh") == "实测位置（o.csv 第2行）"


def test_a_clause_of_another_form_is_kept_as_written():
    assert geocode_note_text("something new; road position approximate, not surveyed", "zh") == "something new；道路位置为近似，非实测"


def test_every_shipped_note_reads_in_chinese():
    with open(settings.data_path("estates.geojson"), encoding="utf-8") as fh:
        notes = [f["properties"].get("geocode_note") for f in json.load(fh)["features"]]
    assert notes and all(notes)
    for note in notes:
        text = geocode_note_text(note, "zh")
        assert not any(word in text for word in ("between", "interpolated", "side", "surveyed", "approximate", "set back")), text
