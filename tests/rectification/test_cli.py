"""The rectification on the command line, end to end on a copy of the shipped data with the embedded store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo import settings
from geo.cli.main import main
from tests.conftest import copy_shipped_data

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A copy of the shipped data without the demo records: an empty rectification register."""
    folder = tmp_path / "data"
    copy_shipped_data(folder, "rectification", "*.gpkg", "route_history", "tracks")
    monkeypatch.setattr(settings, "data_dir", folder)
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    return folder


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_newcomer_records_survey_plan_meeting_and_verified_measure(data_dir, capsys, tmp_path):
    code, out, err = run(capsys, "survey", "add", "--estate", "SH-01", "--date", "2022-02-10", "--surveyor", "平安办",
                         "--access-control", "none", "--fire-lane-blocked", "是", "--author", "张三")
    assert code == 0, err
    assert "recorded SV-SH-01-20220210" in out
    code, out, err = run(capsys, "measures", "plan", "SV-SH-01-20220210", "--author", "张三", "--save")
    assert code == 0, err
    # none -> access control and night closure; blocked fire lane -> fire lane: three measures due 2022-11-30.
    assert out.count("recorded MS-SH-01-") == 3
    code, out, err = run(capsys, "meetings", "add", "--estate", "SH-01", "--date", "2022-03-05", "--attendance", "25",
                         "--topic", "安全会", "--author", "张三")
    assert code == 0, err
    assert "不达标: 25 < 30" in out
    for step in ("in_progress", "done"):
        code, out, err = run(capsys, "measures", "status", "MS-SH-01-fire_lane", step, "--author", "张三")
        assert code == 0, err
    code, out, err = run(capsys, "measures", "status", "MS-SH-01-fire_lane", "verified", "--author", "李四", "--verified-by", "领导小组办公室",
                         "--verified-on", "2022-10-01")
    assert code == 0, err
    assert "已完成 -> 已验收" in out

    docx = tmp_path / "briefing.docx"
    code, out, err = run(capsys, "progress", "--as-of", "2022-12-01", "--out", str(docx))
    assert code == 0, err
    assert "已验收1项" in out and "不达标1次" in out
    from docx import Document

    doc = Document(str(docx))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "25" in cells and "滨湖公寓" in cells
    csv = tmp_path / "progress.csv"
    run(capsys, "progress", "--as-of", "2022-12-01", "--out", str(csv))
    row = pd.read_csv(csv, encoding="utf-8-sig").set_index("estate_id").loc["SH-01"]
    # Two measures past due and not done, no valid meeting: overdue.
    assert (row["measures"], row["measures_verified"], row["measures_overdue"], row["state"]) == (3, 1, 2, "overdue")


def test_skipping_a_step_is_refused_and_nothing_changes(data_dir, capsys):
    run(capsys, "measures", "add", "--estate", "SH-02", "--kind", "lighting", "--description", "修路灯", "--responsible-unit", "社区",
        "--author", "张三")
    code, out, err = run(capsys, "measures", "status", "MS-SH-02-lighting", "done", "--author", "张三")
    assert code == 2 and "skips in_progress" in err and "Traceback" not in err
    code, out, err = run(capsys, "measures", "list", "--estate", "SH-02")
    assert "planned" in out


def test_import_reports_every_rejected_row_and_the_template_reads_back(data_dir, capsys, tmp_path):
    template = tmp_path / "meetings.xlsx"
    code, out, err = run(capsys, "meetings", "template", str(template))
    assert code == 0, err
    headers = list(pd.read_excel(template).columns)
    assert headers[:3] == ["会议编号", "小区编号", "会议日期"]
    rows = pd.DataFrame(
        [
            ["", "SH-03", "2022-04-01", "安全会", 40, "", "王五"],
            ["", "SH-99", "2022-04-01", "安全会", 40, "", "王五"],
            ["", "SH-03", "2030-04-01", "安全会", 40, "", "王五"],
            ["", "SH-03", "2022-05-01", "安全会", -1, "", "王五"],
            ["", "SH-03", "2022-06-01", "安全会", 28, "", "王五"],
        ],
        columns=headers[:7],
    )
    filled = tmp_path / "filled.xlsx"
    rows.to_excel(filled, index=False)
    code, out, err = run(capsys, "meetings", "import", str(filled), "--author", "王五")
    assert code == 1
    assert "2 meetings recorded, 3 rejected" in out
    rejects = pd.read_csv(tmp_path / "filled_rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == [3, 4, 5]
    assert "SH-99" in rejects.loc[0, "reason"] and "future" in rejects.loc[1, "reason"] and "negative" in rejects.loc[2, "reason"]
    code, out, err = run(capsys, "meetings", "list")
    listed = out.splitlines()
    assert sum("SH-03" in line for line in listed) == 2
    assert any("28" in line and "False" in line for line in listed)  # kept, flagged as not meeting the plan


def test_attachments_by_content(data_dir, capsys, tmp_path):
    run(capsys, "measures", "add", "--estate", "SH-02", "--kind", "fence", "--description", "补护栏", "--responsible-unit", "社区",
        "--author", "张三")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"%PDF-1.4 not a photo")
    code, _out, err = run(capsys, "measures", "attach", "MS-SH-02-fence", str(fake), "--author", "张三")
    assert code == 2 and "rename it to .pdf" in err
    real = tmp_path / "photo2.jpg"
    real.write_bytes(b"\xff\xd8\xff\xe0" + b"1" * 100)
    code, _out, err = run(capsys, "measures", "attach", "MS-SH-02-fence", str(real), "--author", "张三")
    assert code == 0, err
    code, _out, err = run(capsys, "measures", "list", "--out", str(tmp_path / "m.csv"))
    evidence = pd.read_csv(tmp_path / "m.csv", encoding="utf-8-sig")["evidence"].tolist()
    assert len(evidence) == 1 and len(evidence[0]) == 16


def test_the_shipped_demo_set_seeds_an_empty_store_once(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "data"
    copy_shipped_data(folder, "*.gpkg", "route_history", "tracks")
    monkeypatch.setattr(settings, "data_dir", folder)
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    shipped = pd.read_csv(folder / "rectification" / "meetings.csv", encoding="utf-8-sig")
    code, _out, err = run(capsys, "meetings", "list", "--out", str(tmp_path / "m.csv"))
    assert code == 0, err
    stored = pd.read_csv(tmp_path / "m.csv", encoding="utf-8-sig")
    assert sorted(stored["meeting_id"]) == sorted(shipped["meeting_id"])
    assert stored["synthetic"].all()
    # A second open does not import them again.
    run(capsys, "meetings", "list", "--out", str(tmp_path / "m2.csv"))
    assert len(pd.read_csv(tmp_path / "m2.csv", encoding="utf-8-sig")) == len(shipped)
