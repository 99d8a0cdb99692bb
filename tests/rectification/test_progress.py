"""Progress, overdue items and the briefing, on a hand-made register of three estates."""

from __future__ import annotations

import datetime as dt
import io as _stdio

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.rectification.briefing import build_briefing, key_figures, progress_map_png, write_docx, write_xlsx
from geo.rectification.progress import invalid_meetings, overdue_items, progress_summary, progress_table

AS_OF = dt.date(2023, 1, 15)


@pytest.fixture
def estates():
    return gpd.GeoDataFrame(
        {
            "estate_id": ["A", "B", "C"],
            "name": ["甲", "乙", "丙"],
            "community": ["凤仙路社区", "凤仙路社区", "申明社区"],
            "batch_year": [2022, 2022, 2023],
            "batch_period": ["2022年1月至2022年11月"] * 2 + ["2023年1月至2023年11月"],
            "units": [4, 4, 4],
        },
        geometry=[Point(108.36, 30.84), Point(108.37, 30.84), Point(108.38, 30.85)],
        crs="EPSG:4326",
    )


@pytest.fixture
def records():
    surveys = pd.DataFrame([
        # A: lights broken only; B: blocked fire lane and lights broken.
        {"survey_id": "SA", "estate_id": "A", "date": "2022-02-01", "lighting_ok": False},
        {"survey_id": "SB", "estate_id": "B", "date": "2022-02-01", "lighting_ok": False, "fire_lane_blocked": True},
    ])
    measures = pd.DataFrame([
        {"measure_id": "A1", "estate_id": "A", "kind": "lighting", "status": "verified", "due_date": "2022-11-30",
         "description": "路灯", "responsible_unit": "社区"},
        {"measure_id": "B1", "estate_id": "B", "kind": "lighting", "status": "done", "due_date": "2022-11-30",
         "description": "路灯", "responsible_unit": "社区"},
        {"measure_id": "B2", "estate_id": "B", "kind": "fire_lane", "status": "in_progress", "due_date": "2022-11-30",
         "description": "消防通道", "responsible_unit": "物业"},
        {"measure_id": "C1", "estate_id": "C", "kind": "fence", "status": "planned", "due_date": "2023-11-30",
         "description": "护栏", "responsible_unit": "社区"},
    ])
    meetings = pd.DataFrame([
        {"meeting_id": "MA", "estate_id": "A", "date": "2022-05-01", "topic": "安全会", "attendance": 30},
        {"meeting_id": "MB", "estate_id": "B", "date": "2022-05-02", "topic": "安全会", "attendance": 25},
    ])
    return {"surveys": surveys, "measures": measures, "meetings": meetings, "visits": pd.DataFrame()}


def test_progress_per_estate_by_hand(estates, records):
    t = progress_table(estates, **records, as_of=AS_OF).set_index("estate_id")
    # A: surveyed, its one finding's measure verified, a meeting of exactly 30: complete.
    assert t.loc["A", "state"] == "complete"
    assert (t.loc["A", "meetings_valid"], t.loc["A", "problems_open"]) == (1, 0)
    # B: B2 past due (30 Nov 2022) and not done; its only meeting had 25: overdue, meeting overdue, fire lane still open.
    assert t.loc["B", "state"] == "overdue"
    assert (t.loc["B", "measures_done"], t.loc["B", "measures_overdue"], t.loc["B", "meetings_valid"]) == (1, 1, 0)
    assert bool(t.loc["B", "meeting_overdue"]) and t.loc["B", "problems_open"] == 1
    assert t.loc["B", "done_pct"] == pytest.approx(50.0)
    # C: a planned measure due later in 2023, no survey: in progress, not overdue.
    assert t.loc["C", "state"] == "in_progress" and t.loc["C", "measures_overdue"] == 0


def test_latest_survey_of_a_day_is_the_last_written_and_other_estates_records_do_not_count(estates, records):
    # A second survey of A on the same day finds the lights fixed: the latest one counts, so A has no open problem;
    # a survey in between on an earlier day does not change that. Records of an estate not in the register count nowhere.
    surveys = pd.concat([records["surveys"], pd.DataFrame([
        {"survey_id": "SZ", "estate_id": "Z", "date": "2022-03-01", "lighting_ok": False},
        {"survey_id": "SA2", "estate_id": "A", "date": "2022-02-01", "lighting_ok": True},
        {"survey_id": "SA0", "estate_id": "A", "date": "2022-01-01", "lighting_ok": False},
    ])], ignore_index=True)
    measures = pd.concat([records["measures"], pd.DataFrame([
        {"measure_id": "Z1", "estate_id": "Z", "kind": "fence", "status": "planned", "due_date": "2022-01-01"}])], ignore_index=True)
    visits = pd.DataFrame({"estate_id": ["A", "A", "Z", "C"]})
    t = progress_table(estates, surveys=surveys, measures=measures, meetings=records["meetings"], visits=visits,
                       as_of=AS_OF).set_index("estate_id")
    assert list(t.index) == ["A", "B", "C"]
    assert (t.loc["A", "problems_open"], t.loc["A", "last_survey"], t.loc["A", "state"]) == (0, "2022-02-01", "complete")
    assert t["visits"].tolist() == [2, 0, 1]
    assert t["measures"].tolist() == [1, 2, 1] and t["measures_overdue"].tolist() == [0, 1, 0]


def test_summary_per_batch_adds_up(estates, records):
    s = progress_summary(progress_table(estates, **records, as_of=AS_OF), "batch_year").set_index("batch_year")
    assert s.loc["2022", ["estates", "complete", "overdue_estates", "measures", "measures_verified", "meetings_valid"]].tolist() == [
        2, 1, 1, 3, 1, 1]
    assert s.loc["合计", "measures"] == 4
    assert s.loc["合计", "estates_without_valid_meeting"] == 2  # B (25 people) and C (none)


def test_overdue_items_and_invalid_meetings(estates, records):
    items = overdue_items(estates, records["measures"], records["meetings"], as_of=AS_OF)
    assert items["item"].tolist() == ["B2", "meeting"]
    assert items["days_overdue"].tolist() == [46, 46]  # 2022-11-30 to 2023-01-15
    assert items.loc[0, "responsible_unit"] == "物业"
    low = invalid_meetings(records["meetings"], estates)
    assert low["meeting_id"].tolist() == ["MB"] and low["shortfall"].tolist() == [5]


def test_a_meeting_of_25_is_listed_in_the_briefing(estates, records, tmp_path):
    from docx import Document

    b = build_briefing(estates, records, as_of=AS_OF)
    assert any("不达标1次" in line for line in key_figures(b))
    png = progress_map_png(estates, b.table, data_dir=tmp_path)
    assert png.startswith(b"\x89PNG")
    out = write_docx(b, tmp_path / "b.docx", map_png=png)
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "不达标的居民群众会议" in text
    assert "MB" not in cells and "乙" in cells and "25" in cells  # the meeting's estate and attendance, listed
    assert len(doc.inline_shapes) == 1
    xlsx = write_xlsx(b, tmp_path / "b.xlsx")
    sheets = pd.read_excel(_stdio.BytesIO(xlsx.read_bytes()), sheet_name=None)
    assert sheets["不达标会议"]["参会人数"].tolist() == [25]
    assert sheets["逾期事项"]["逾期天数"].tolist() == [46, 46]
