"""Progress of the rectification over three years: per estate, batch and community.

Definitions (all counted on a given day, ``as_of``):

* a measure is **done** when its status is ``done`` or ``verified``, and
  **overdue** when its due date has passed and it is still ``planned`` or
  ``in_progress``;
* a meeting is **valid** when at least :data:`geo.settings.meeting_min_attendance`
  people attended; smaller meetings are counted as held but not valid (不达标);
* the plan asks for at least one valid residents' meeting per estate: an
  estate whose batch deadline has passed without one has an overdue item;
* **open problems** are the findings of the estate's latest survey for which no
  measure of the matching kind is done;
* an estate's **state**: ``not_started`` (no survey, no measure), ``overdue``
  (any overdue item), ``complete`` (surveyed, every measure verified, a valid
  meeting, no open problem) or ``in_progress``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo import settings
from geo.rectification.workflow import default_due_date, open_findings

__all__ = ["COLUMN_LABELS", "PROGRESS_STATES", "TOTAL_LABELS", "invalid_meetings", "overdue_items", "progress_summary", "progress_table"]

#: Estate states in display order.
PROGRESS_STATES: tuple[str, ...] = ("not_started", "in_progress", "overdue", "complete")

#: Chinese label of each state.
PROGRESS_LABELS_ZH: dict[str, str] = {"not_started": "未启动", "in_progress": "推进中", "overdue": "有逾期", "complete": "已完成"}

#: Label of every column of the progress tables: (Chinese, English).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "estate_id": ("编号", "Estate"), "name": ("小区", "Name"), "community": ("社区", "Community"), "batch_year": ("批次", "Batch"),
    "deadline": ("时限", "Deadline"), "last_survey": ("最近排查", "Last survey"), "measures": ("措施数", "Measures"),
    "measures_done": ("已完成措施", "Done"), "measures_verified": ("已验收措施", "Verified"), "measures_overdue": ("逾期措施", "Overdue"),
    "meetings": ("会议数", "Meetings"), "meetings_valid": ("达标会议", "Valid meetings"), "meeting_overdue": ("会议逾期", "Meeting overdue"),
    "visits": ("走访宣传", "Visits"), "problems_open": ("未整改问题", "Open problems"), "done_pct": ("完成率%", "Done %"),
    "state": ("进度", "State"), "estates": ("小区数", "Estates"), "complete": ("已完成", "Complete"),
    "overdue_estates": ("有逾期", "With overdue items"), "estates_without_valid_meeting": ("无达标会议小区", "Without a valid meeting"),
    "item": ("事项编号", "Item"), "what": ("事项", "What"), "responsible_unit": ("责任单位", "Responsible unit"),
    "due_date": ("时限", "Due"), "days_overdue": ("逾期天数", "Days overdue"), "status": ("状态", "Status"),
    "meeting_id": ("会议编号", "Meeting"), "date": ("日期", "Date"), "topic": ("主题", "Topic"), "attendance": ("参会人数", "Attendance"),
    "shortfall": ("差额", "Short by"),
}

#: Label of the total row of :func:`progress_summary`: (Chinese, English).
TOTAL_LABELS: tuple[str, str] = ("合计", "Total")

_DONE = ("done", "verified")
_OPEN = ("planned", "in_progress")


def _frame(df: pd.DataFrame | None, columns) -> pd.DataFrame:
    if df is None or not len(df):
        return pd.DataFrame(columns=list(columns))
    return df


def _by_estate(frame: pd.DataFrame) -> dict:
    """The rows of each estate id (in the frame's order); ids with no row are absent."""
    if not len(frame):
        return {}
    return dict(tuple(frame.groupby("estate_id", sort=False)))


def progress_table(
    estates: pd.DataFrame,
    *,
    surveys: pd.DataFrame | None = None,
    measures: pd.DataFrame | None = None,
    meetings: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """One row per estate of the register with its progress on ``as_of`` (default today).

    Returns
    -------
    DataFrame
        ``estate_id``, ``name``, ``community``, ``batch_year``, ``deadline`` (ISO date),
        ``last_survey``, ``measures``, ``measures_done``, ``measures_verified``,
        ``measures_overdue``, ``meetings``, ``meetings_valid``, ``meeting_overdue`` (bool),
        ``visits``, ``problems_open``, ``done_pct`` (done measures in percent, NaN
        without measures), ``state``.
    """
    as_of = as_of or dt.date.today()
    today = as_of.isoformat()
    surveys = _frame(surveys, ["estate_id", "date"])
    measures = _frame(measures, ["estate_id", "status", "due_date", "kind"])
    meetings = _frame(meetings, ["estate_id", "attendance"])
    visits = _frame(visits, ["estate_id"])
    # Each record kind split by estate once (a scan of every record per estate took 2 s for 2,000 estates); surveys in date
    # order, equal dates in the file's order, so an estate's latest survey is its last row.
    ms_by, mt_by = _by_estate(measures), _by_estate(meetings)
    sv_by = _by_estate(surveys.sort_values("date", kind="stable"))
    visit_counts = visits["estate_id"].value_counts().to_dict() if len(visits) else {}
    rows = []
    for est in estates.to_dict("records"):
        eid = est["estate_id"]
        deadline = default_due_date(est).isoformat()
        ms, mt, sv = ms_by.get(eid), mt_by.get(eid), sv_by.get(eid)
        done = verified = overdue = valid = 0
        if ms is not None:
            status = ms["status"].fillna("planned")
            done = int(status.isin(_DONE).sum())
            verified = int((status == "verified").sum())
            overdue = int((status.isin(_OPEN) & (ms["due_date"].astype(str) < today)).sum())
        if mt is not None:
            valid = int((pd.to_numeric(mt["attendance"], errors="coerce") >= settings.meeting_min_attendance).sum())
        n_measures, n_meetings = (0 if ms is None else len(ms)), (0 if mt is None else len(mt))
        meeting_overdue = valid == 0 and deadline < today
        latest = sv.iloc[-1].to_dict() if sv is not None else None
        open_kinds = open_findings(latest, measures.iloc[:0] if ms is None else ms) if latest is not None else []
        if latest is None and not n_measures:
            state = "not_started"
        elif overdue or meeting_overdue:
            state = "overdue"
        elif latest is not None and verified == n_measures and valid and not open_kinds:
            state = "complete"
        else:
            state = "in_progress"
        rows.append({
            "estate_id": eid, "name": est.get("name"), "community": est.get("community"), "batch_year": est.get("batch_year"),
            "deadline": deadline, "last_survey": latest["date"] if latest is not None else None,
            "measures": n_measures, "measures_done": done, "measures_verified": verified, "measures_overdue": overdue,
            "meetings": n_meetings, "meetings_valid": valid, "meeting_overdue": meeting_overdue,
            "visits": int(visit_counts.get(eid, 0)), "problems_open": len(open_kinds),
            "done_pct": 100.0 * done / n_measures if n_measures else np.nan, "state": state,
        })
    return pd.DataFrame(rows)


def progress_summary(table: pd.DataFrame, by: str, *, total_label: str = TOTAL_LABELS[0]) -> pd.DataFrame:
    """Totals of :func:`progress_table` per ``by`` (``batch_year`` or ``community``), plus a total row called ``total_label``.

    Returns
    -------
    DataFrame
        ``by``, ``estates``, ``complete``, ``overdue_estates``, ``measures``, ``measures_done``,
        ``measures_verified``, ``measures_overdue``, ``meetings``, ``meetings_valid``,
        ``estates_without_valid_meeting``, ``problems_open``.
    """
    sums = ["measures", "measures_done", "measures_verified", "measures_overdue", "meetings", "meetings_valid", "problems_open"]
    t = table.assign(
        estates=1, complete=(table["state"] == "complete").astype(int), overdue_estates=(table["state"] == "overdue").astype(int),
        estates_without_valid_meeting=(table["meetings_valid"] == 0).astype(int),
    )
    cols = ["estates", "complete", "overdue_estates", *sums[:6], "estates_without_valid_meeting", "problems_open"]
    out = t.groupby(by, sort=True)[cols].sum().reset_index()
    total = pd.DataFrame([{by: total_label, **t[cols].sum().to_dict()}])
    out[by] = out[by].astype(str)
    return pd.concat([out, total], ignore_index=True)


def overdue_items(
    estates: pd.DataFrame, measures: pd.DataFrame | None, meetings: pd.DataFrame | None, *, as_of: dt.date | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every overdue item: measures past due and not done, and estates past their deadline without a valid meeting.

    Returns
    -------
    DataFrame
        ``estate_id``, ``name``, ``item`` (measure id or ``meeting``), ``what``, ``responsible_unit``,
        ``due_date``, ``days_overdue``, ``status``; most overdue first.
    """
    as_of = as_of or dt.date.today()
    names = dict(zip(estates["estate_id"], estates["name"], strict=False))
    rows = []
    ms = _frame(measures, ["estate_id", "status", "due_date", "measure_id", "description", "responsible_unit"])
    late = ms[ms["status"].fillna("planned").isin(_OPEN) & (ms["due_date"].astype(str) < as_of.isoformat())]
    for m in late.to_dict("records"):
        due = dt.date.fromisoformat(str(m["due_date"]))
        rows.append({"estate_id": m["estate_id"], "name": names.get(m["estate_id"]), "item": m["measure_id"], "what": m["description"],
                     "responsible_unit": m["responsible_unit"], "due_date": due.isoformat(), "days_overdue": (as_of - due).days,
                     "status": m["status"]})
    if table is None:  # the estates' deadlines and meetings, unless the caller has the progress table already
        table = progress_table(estates, meetings=meetings, as_of=as_of)
    for r in table[table["meeting_overdue"]].to_dict("records"):
        due = dt.date.fromisoformat(r["deadline"])
        rows.append({"estate_id": r["estate_id"], "name": r["name"], "item": "meeting",
                     "what": f"居民群众会议（不少于{settings.meeting_min_attendance}人）未召开或未达标", "responsible_unit": r["community"],
                     "due_date": r["deadline"], "days_overdue": (as_of - due).days, "status": "missing"})
    cols = ["estate_id", "name", "item", "what", "responsible_unit", "due_date", "days_overdue", "status"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["days_overdue", "estate_id"], ascending=[False, True], ignore_index=True)


def invalid_meetings(meetings: pd.DataFrame | None, estates: pd.DataFrame) -> pd.DataFrame:
    """Meetings below the plan's minimum attendance (不达标), kept and listed, earliest first."""
    mt = _frame(meetings, ["meeting_id", "estate_id", "date", "topic", "attendance"])
    n = pd.to_numeric(mt["attendance"], errors="coerce")
    low = mt[n < settings.meeting_min_attendance].copy()
    low["name"] = low["estate_id"].map(dict(zip(estates["estate_id"], estates["name"], strict=False)))
    low["shortfall"] = settings.meeting_min_attendance - pd.to_numeric(low["attendance"])
    return low[["meeting_id", "estate_id", "name", "date", "topic", "attendance", "shortfall"]].sort_values("date", ignore_index=True)
