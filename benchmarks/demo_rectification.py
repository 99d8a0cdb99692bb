"""Seeded synthetic rectification records for the demo: surveys, measures, meetings and visits.

Every record says ``synthetic=true``; none describes a real survey, measure or
meeting in Shahe. The set is made to show every state the tool knows on the
day the plan ended (2024-12-31) and after it:

* the 2022 batch mostly verified on time, one estate with a meeting of 25
  people only (不达标) and so an overdue meeting;
* the 2023 batch done but partly not yet verified, one measure overdue;
* the 2024 batch with measures still planned or in progress after their due
  date (overdue), one estate not started at all (no survey, no measure).
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from geo.rectification.records import KINDS
from geo.rectification.workflow import default_due_date, make_id, measures_from_survey

__all__ = ["make_demo_rectification"]

_AUTHOR = "演示数据"
_UNITS = ("沙河街道平安办", "凤仙路社区", "申明社区", "申明坝派出所", "物业公司")


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(max(1, (end - start).days)))


def make_demo_rectification(estates: pd.DataFrame, *, seed: int = 2022) -> dict[str, pd.DataFrame]:
    """Surveys, measures, meetings and visits for every estate of the register.

    Parameters
    ----------
    estates
        The register (``estate_id``, ``name``, ``batch_year``, ``batch_period``, ``units``).
    seed
        Seed of the generator; the same seed gives the same records.

    Returns
    -------
    dict of DataFrame
        Keyed ``surveys``, ``measures``, ``meetings``, ``visits``, columns as
        :data:`geo.rectification.records.KINDS`.
    """
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {k: [] for k in KINDS}
    taken: set[str] = set()
    ordered = estates.sort_values(["batch_year", "estate_id"]).to_dict("records")
    last_of_2024 = [e["estate_id"] for e in ordered if e["batch_year"] == 2024][-1]
    for n, est in enumerate(ordered):
        eid, year = est["estate_id"], int(est["batch_year"])
        if eid == last_of_2024:
            continue  # not started: no survey, no measure, no meeting
        due = default_due_date(est)
        start = dt.date(year, 1, 10)
        survey = {
            "estate_id": eid, "date": _day(rng, start, dt.date(year, 2, 20)).isoformat(), "surveyor": "沙河街道平安办",
            "access_control": rng.choice(("none", "none", "iron_gate")), "lighting_ok": rng.random() < 0.5,
            "cameras": rng.randrange(0, 6), "cameras_cover_gates": rng.random() < 0.3, "fence_ok": rng.random() < 0.6,
            "fire_lane_blocked": rng.random() < 0.5, "fire_main_dry": rng.random() < 0.3, "flue_blocked": rng.random() < 0.3,
            "balconies_enclosed": rng.random() < 0.4, "fire_inspected": rng.random() < 0.5,
            "property_management": rng.choice(("none", "none", "fallback", "professional")),
            "fee_collection_pct": round(rng.uniform(20, 90), 1),
            "disputes_neighbour": rng.randrange(0, 5), "disputes_family": rng.randrange(0, 3), "disputes_relationship": rng.randrange(0, 2),
            "disputes_debt": rng.randrange(0, 2), "disputes_other": rng.randrange(0, 2), "disputes_open": rng.randrange(0, 3),
            "prevention_human": rng.choice(("无专职保安", "楼栋长1名", "保安1名白天值守")),
            "prevention_physical": rng.choice(("大门铁门损坏", "无围墙", "铁护栏完好")),
            "prevention_technical": rng.choice(("无监控", "监控2个未覆盖出入口", "监控覆盖大门")),
            "problems": "", "author": _AUTHOR, "synthetic": True,
        }
        survey["survey_id"] = make_id(KINDS["surveys"], survey, taken=taken)
        taken.add(survey["survey_id"])
        out["surveys"].append(survey)
        for m in measures_from_survey(survey, est, author=_AUTHOR):
            m["responsible_unit"] = rng.choice(_UNITS)
            m["measure_id"] = make_id(KINDS["measures"], m, taken=taken)
            taken.add(m["measure_id"])
            if year == 2022:
                m["status"] = "verified"
            elif year == 2023:
                m["status"] = rng.choice(("verified", "done", "done"))
            else:
                m["status"] = rng.choice(("planned", "in_progress", "done"))
            if year == 2023 and n % 8 == 3 and m["kind"] == "mediation":
                m["status"] = "in_progress"
            if m["status"] == "verified":
                m["verified_by"] = "街道领导小组办公室"
                m["verified_on"] = _day(rng, due - dt.timedelta(days=40), due).isoformat()
                m["evidence"] = ""
            out["measures"].append(m)
        meetings = 1 + (rng.random() < 0.4)
        for k in range(meetings):
            day = _day(rng, dt.date(year, 3, 1), dt.date(year, 10, 31))
            attendance = rng.randrange(32, 70)
            if (year == 2022 and n == 2) or (year == 2024 and k == 0 and n % 3 == 0):
                attendance = 25  # below the plan's minimum: kept, flagged 不达标
            meeting = {"estate_id": eid, "date": day.isoformat(), "topic": rng.choice(("治安防范安全会", "老旧小区整治意见征集", "消防安全会")),
                       "attendance": attendance, "minutes": "听取居民意见建议（演示）", "author": _AUTHOR, "synthetic": True}
            if (year == 2022 and n == 2) and k > 0:
                continue
            meeting["meeting_id"] = make_id(KINDS["meetings"], meeting, taken=taken)
            taken.add(meeting["meeting_id"])
            out["meetings"].append(meeting)
        for kind in rng.sample(("residents", "npc_deputy", "cppcc_member", "activist", "campaign"), 2):
            visit = {"estate_id": eid, "date": _day(rng, start, dt.date(year, 11, 30)).isoformat(), "kind": kind,
                     "people": rng.randrange(1, 40), "summary": "（演示）", "author": _AUTHOR, "synthetic": True}
            visit["visit_id"] = make_id(KINDS["visits"], visit, taken=taken)
            taken.add(visit["visit_id"])
            out["visits"].append(visit)
    return {k: pd.DataFrame(rows, columns=list(KINDS[k].columns)) for k, rows in out.items()}
