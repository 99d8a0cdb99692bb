"""The plan per estate (一区一策): measures drawn from a survey, their due dates and status steps.

A measure moves ``planned -> in_progress -> done -> verified`` one step at a
time; a step forward that skips a step is refused, and a step back needs a
reason. A verified measure names who verified it and when.
"""

from __future__ import annotations

import datetime as dt

from geo.errors import SchemaError
from geo.plan import batch_deadline
from geo.rectification.records import MEASURE_STATUSES, RecordKind, measure_rules

__all__ = ["check_transition", "default_due_date", "make_id", "measures_from_survey", "open_findings"]

#: Survey findings that call for a measure: (field, test on the survey's value, measure kind, description, unit).
_FINDINGS: tuple[tuple[str, object, str, str, str], ...] = (
    ("access_control", lambda v: v == "none", "access_control", "建设门禁系统，至少保证铁门或铁护栏", "社区、物业"),
    ("access_control", lambda v: v == "none", "night_closure", "夜间实行封闭或者半封闭管理", "社区、物业"),
    ("lighting_ok", lambda v: v is False, "lighting", "修复、增设公共照明", "社区"),
    ("cameras_cover_gates", lambda v: v is False, "cameras", "增设视频监控，覆盖小区出入口", "社区、申明坝派出所"),
    ("fence_ok", lambda v: v is False, "fence", "加高围墙、补齐护栏等防护设施", "社区、物业"),
    ("fire_lane_blocked", lambda v: v is True, "fire_lane", "清理占用消防通道", "社区、消防"),
    ("fire_main_dry", lambda v: v is True, "fire_main", "修复消防水管，保证有水", "物业、消防"),
    ("flue_blocked", lambda v: v is True, "flue", "清理烟道油烟堵塞", "物业"),
    ("balconies_enclosed", lambda v: v is True, "balcony", "整治阳台乱搭乱挂", "社区、城管"),
    ("fire_inspected", lambda v: v is False, "fire_training", "开展消防安全检查和安全防范培训", "社区、消防"),
    ("property_management", lambda v: v == "none", "property_service", "引入物业服务或托底过渡管理", "街道、社区"),
    ("disputes_open", lambda v: bool(v), "mediation", "化解未了结的矛盾纠纷", "社区、司法所"),
)


def default_due_date(estate) -> dt.date:
    """Default due date of a measure: the last day of the estate's batch window (:func:`geo.plan.batch_deadline`)."""
    return batch_deadline(estate)


def make_id(kind: RecordKind, rec: dict, *, taken=frozenset()) -> str:
    """A readable id such as ``MT-SH-01-20220305`` (a suffix -2, -3 ... when taken)."""
    if kind.name == "measures":
        stem = f"{kind.id_prefix}-{rec['estate_id']}-{rec['kind']}"
    else:
        stem = f"{kind.id_prefix}-{rec['estate_id']}-{str(rec.get('date') or '').replace('-', '')}"
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def check_transition(old: dict, new: dict) -> None:
    """Refuse a status change that skips a step, a step back without a reason, or an incomplete measure.

    Raises
    ------
    SchemaError
        Naming the measure, the step and the fix.
    """
    problems = measure_rules(new)
    a = MEASURE_STATUSES.index(old.get("status") or "planned")
    b = MEASURE_STATUSES.index(new.get("status") or "planned")
    mid = new.get("measure_id") or old.get("measure_id")
    if b > a + 1:
        skipped = ", ".join(MEASURE_STATUSES[a + 1:b])
        problems.append(f"status {MEASURE_STATUSES[a]} -> {MEASURE_STATUSES[b]} skips {skipped}; move one step at a time")
    if b < a and not (new.get("status_note") or "").strip():
        problems.append(f"status {MEASURE_STATUSES[a]} -> {MEASURE_STATUSES[b]} is a step back; give the reason in 'status_note'")
    if problems:
        msg = f"measure {mid}: the change is refused"
        raise SchemaError(msg, problems)


def measures_from_survey(survey: dict, estate, *, author: str) -> list[dict]:
    """Measures proposed from a survey's findings, one per problem found, all ``planned``.

    Parameters
    ----------
    survey
        A survey record (:data:`geo.rectification.records.KINDS` ``["surveys"]``).
    estate
        The register row of the survey's estate (for the due date).
    author
        Who drafts the plan.

    Returns
    -------
    list of dict
        Measure records without ids; access control proposed at level ``iron_gate``
        (the plan's minimum), night closure ``half_closed`` 22:00-06:00, to be adjusted.
    """
    due = default_due_date(estate).isoformat()
    texts = {kind: (text, unit) for _f, _t, kind, text, unit in _FINDINGS}
    out = []
    for kind in survey_findings(survey):
        text, unit = texts[kind]
        rec = {
            "estate_id": survey["estate_id"], "kind": kind, "description": text, "responsible_unit": unit, "due_date": due,
            "status": "planned", "author": author, "synthetic": bool(survey.get("synthetic")),
            "status_note": f"来自排查 {survey.get('survey_id') or survey.get('date')}",
        }
        if kind == "access_control":
            rec["access_level"] = "iron_gate"
        if kind == "night_closure":
            rec["closure_mode"], rec["closure_hours"] = "half_closed", "22:00-06:00"
        out.append(rec)
    return out


def survey_findings(survey: dict) -> list[str]:
    """Measure kinds that a survey's findings call for, in the order of :data:`_FINDINGS`."""
    kinds: list[str] = []
    for field, test, kind, _text, _unit in _FINDINGS:
        if kind not in kinds and test(survey.get(field)):
            kinds.append(kind)
    return kinds


def open_findings(survey: dict, measures) -> list[str]:
    """Findings of ``survey`` with no measure of the matching kind done or verified.

    Parameters
    ----------
    survey
        The estate's latest survey record.
    measures
        The estate's measures (DataFrame with ``kind`` and ``status``).
    """
    done = set(measures.loc[measures["status"].isin(("done", "verified")), "kind"]) if len(measures) else set()
    return [k for k in survey_findings(survey) if k not in done]
