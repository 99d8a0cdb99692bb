"""Rules of the rectification records, on hand-made registers and rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo.errors import SchemaError
from geo.rectification.attachments import check_attachment, save_attachment
from geo.rectification.records import KINDS, normalise_headers
from geo.rectification.validation import validate_rows
from geo.rectification.workflow import check_transition, default_due_date, make_id, measures_from_survey

TODAY = dt.date(2024, 12, 31)


@pytest.fixture
def register():
    return pd.DataFrame(
        {
            "estate_id": ["SH-01", "SH-02", "SH-03"],
            "name": ["滨湖公寓", "养路段宿舍", "无单元数"],
            "batch_year": [2022, 2023, 2024],
            "batch_period": ["2022年1月至2022年11月", "", None],
            "units": [7, 2, None],
        }
    )


def meeting(**kw):
    row = {"estate_id": "SH-01", "date": "2022-03-05", "topic": "安全会", "attendance": "25", "author": "张三"}
    row.update(kw)
    return row


class TestMeetings:
    def test_a_meeting_below_thirty_is_kept(self, register):
        records, rejects = validate_rows(KINDS["meetings"], pd.DataFrame([meeting()]), register, today=TODAY)
        assert rejects == []
        assert records[0]["attendance"] == 25
        assert records[0]["meeting_id"] == "MT-SH-01-20220305"

    @pytest.mark.parametrize(
        ("attendance", "fragment"),
        [("-3", "negative"), ("很多", "not a number"), ("2.5", "whole number"), ("421", "more than the estate could hold (420")],
    )
    def test_bad_attendance_is_refused_with_the_field(self, register, attendance, fragment):
        # SH-01 has 7 units: at most 7 x 60 = 420 people.
        records, rejects = validate_rows(KINDS["meetings"], pd.DataFrame([meeting(attendance=attendance)]), register, today=TODAY)
        assert records == []
        assert rejects[0][0] == 2
        assert "attendance" in rejects[0][1] and fragment in rejects[0][1]

    def test_exactly_the_plausible_maximum_is_accepted(self, register):
        records, rejects = validate_rows(KINDS["meetings"], pd.DataFrame([meeting(attendance="420")]), register, today=TODAY)
        assert rejects == [] and records[0]["attendance"] == 420

    def test_unknown_estate_future_date_and_outside_years(self, register):
        rows = pd.DataFrame([meeting(estate_id="SH-99"), meeting(date="2025-01-02"), meeting(date="2021-12-31")])
        records, rejects = validate_rows(KINDS["meetings"], rows, register, today=dt.date(2025, 1, 1))
        assert records == []
        assert [r for r, _ in rejects] == [2, 3, 4]
        assert "SH-99" in rejects[0][1] and "not an estate of the register" in rejects[0][1]
        assert "in the future" in rejects[1][1] and "outside the plan's years 2022-2024" in rejects[1][1]
        assert "outside the plan's years" in rejects[2][1]

    def test_duplicates_of_stored_and_of_other_rows(self, register):
        rows = pd.DataFrame([meeting(meeting_id="M1"), meeting(meeting_id="M1"), meeting(meeting_id="M0")])
        records, rejects = validate_rows(KINDS["meetings"], rows, register, existing_ids=["M0"], today=TODAY)
        assert [r["meeting_id"] for r in records] == ["M1"]
        assert [r for r, _ in rejects] == [3, 4]
        assert all("already recorded" in reason for _, reason in rejects)

    def test_two_meetings_on_one_day_get_distinct_ids(self, register):
        records, rejects = validate_rows(KINDS["meetings"], pd.DataFrame([meeting(), meeting()]), register, today=TODAY)
        assert rejects == []
        assert [r["meeting_id"] for r in records] == ["MT-SH-01-20220305", "MT-SH-01-20220305-2"]

    def test_chinese_headers_and_dates(self, register):
        df = pd.DataFrame([{"小区编号": "SH-02", "会议日期": "2023年4月1日", "会议主题": "消防", "参会人数": "３０人", "填报人": "李四"}])
        records, rejects = validate_rows(KINDS["meetings"], df, register, today=TODAY)
        assert rejects == []
        assert records[0]["date"] == "2023-04-01" and records[0]["attendance"] == 30

    def test_unknown_column_is_named(self, register):
        df = pd.DataFrame([{**meeting(), "attendence": 3}])
        _, problems = normalise_headers(df, KINDS["meetings"])
        assert problems and "attendence" in problems[0]


class TestMeasures:
    def base(self, **kw):
        row = {"estate_id": "SH-01", "kind": "lighting", "description": "修路灯", "responsible_unit": "社区", "author": "张三"}
        row.update(kw)
        return row

    def test_due_date_defaults_to_end_of_batch_window(self, register):
        rows = pd.DataFrame([self.base(), self.base(estate_id="SH-02"), self.base(estate_id="SH-03")])
        records, rejects = validate_rows(KINDS["measures"], rows, register, today=TODAY)
        assert rejects == []
        # 2022年1月至2022年11月 ends on 30 November; a blank period means November of the batch year.
        assert [r["due_date"] for r in records] == ["2022-11-30", "2023-11-30", "2024-11-30"]
        assert all(r["status"] == "planned" for r in records)

    def test_access_control_needs_level_and_night_closure_mode_and_hours(self, register):
        rows = pd.DataFrame([
            self.base(kind="access_control"),
            self.base(kind="night_closure", closure_mode="半封闭", closure_hours="22:00-6:00"),
            self.base(kind="night_closure", closure_mode="closed"),
            self.base(kind="night_closure", closure_mode="closed", closure_hours="25:00-06:00"),
        ])
        records, rejects = validate_rows(KINDS["measures"], rows, register, today=TODAY)
        assert [r["closure_mode"] for r in records] == ["half_closed"]
        assert [r for r, _ in rejects] == [2, 4, 5]
        assert "access_level" in rejects[0][1]
        assert "closure_hours" in rejects[1][1] and "closure_hours" in rejects[2][1]

    def test_verified_needs_who_and_when(self, register):
        _, rejects = validate_rows(KINDS["measures"], pd.DataFrame([self.base(status="verified")]), register, today=TODAY)
        assert "verified_by" in rejects[0][1]


class TestTransitions:
    def test_one_step_forward_is_allowed(self):
        check_transition({"status": "planned"}, {"status": "in_progress"})
        check_transition({"status": "done"}, {"status": "verified", "verified_by": "王", "verified_on": "2022-11-01"})

    def test_skipping_a_step_is_refused(self):
        with pytest.raises(SchemaError) as err:
            check_transition({"status": "planned", "measure_id": "M"}, {"status": "done"})
        assert "skips in_progress" in err.value.problems[0]

    def test_step_back_needs_a_reason(self):
        with pytest.raises(SchemaError) as err:
            check_transition({"status": "done"}, {"status": "in_progress"})
        assert "step back" in err.value.problems[0]
        check_transition({"status": "done"}, {"status": "in_progress", "status_note": "验收发现门禁损坏"})


class TestPlanFromSurvey:
    def test_each_finding_gives_one_measure_due_at_the_deadline(self, register):
        survey = {"estate_id": "SH-01", "survey_id": "SV-1", "access_control": "none", "lighting_ok": True, "fire_lane_blocked": True,
                  "property_management": "professional", "disputes_open": 0}
        drafted = measures_from_survey(survey, register.iloc[0].to_dict(), author="张三")
        assert [m["kind"] for m in drafted] == ["access_control", "night_closure", "fire_lane"]
        assert {m["due_date"] for m in drafted} == {"2022-11-30"}
        assert drafted[0]["access_level"] == "iron_gate"

    def test_default_due_date_of_a_period_ending_in_december(self):
        assert default_due_date({"batch_period": "2023年3月至2023年12月", "batch_year": 2023}) == dt.date(2023, 12, 31)

    def test_make_id_avoids_taken(self):
        kind = KINDS["measures"]
        assert make_id(kind, {"estate_id": "SH-01", "kind": "fence"}, taken={"MS-SH-01-fence"}) == "MS-SH-01-fence-2"


class TestAttachments:
    def test_types_by_content(self, tmp_path):
        assert check_attachment("a.jpg", b"\xff\xd8\xff\xe0rest") == "jpeg"
        assert check_attachment("a.PDF", b"%PDF-1.7 rest") == "pdf"
        aid = save_attachment("a.png", b"\x89PNG\r\n\x1a\nrest", data_dir=tmp_path)
        assert (tmp_path / "attachments" / f"{aid}.png").read_bytes() == b"\x89PNG\r\n\x1a\nrest"

    @pytest.mark.parametrize(
        ("name", "data", "fragment"),
        [("a.jpg", b"%PDF-1.4", "content is PDF but the name ends in .jpg"), ("a.exe", b"MZ\x90", "not a photo"),
         ("a.png", b"", "empty"), ("big.pdf", b"%PDF-" + b"0" * 10_000_001, "larger than")],
    )
    def test_refused(self, name, data, fragment):
        with pytest.raises(SchemaError, match=None) as err:
            check_attachment(name, data)
        assert fragment in str(err.value)
