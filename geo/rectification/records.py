"""The records of the rectification: surveys, measures, meetings and visits.

Each kind of record is a table with a documented set of fields
(:data:`KINDS`). Templates and imports use the Chinese headers of
:attr:`RecordField.header_zh`; the English field names are accepted too.
:func:`geo.rectification.validation.validate_rows` checks a table of new records against the register of
estates and the plan's years and returns the clean records with every rejected
row and its reason, so an import can report them all at once.

Rules (the plan's wording in brackets):

* every record names an estate of the register (``SH-01`` ...);
* dates lie within the plan's years (:data:`geo.settings.plan_years`) and
  not in the future;
* a meeting's attendance is a whole number from 0 to the estate's plausible
  population (units x :data:`geo.settings.residents_per_unit_max`); a meeting
  below :data:`geo.settings.meeting_min_attendance` (居民群众会议参与人数不得少于30人)
  is **kept** and flagged as not meeting the requirement, never refused;
* a measure of access control names its level (none, iron gate, smart
  access) and one of night closure its mode (closed, half-closed) and hours;
* ids are unique: a duplicate of a stored record or of another row is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from geo import settings
from geo._validate import is_blank

__all__ = [
    "ACCESS_LEVELS",
    "CLOSURE_MODES",
    "KINDS",
    "MEASURE_FIELDS",
    "MEASURE_KINDS",
    "MEASURE_STATUSES",
    "PROPERTY_MANAGEMENT",
    "VISIT_KINDS",
    "RecordField",
    "RecordKind",
    "convert_value",
    "measure_rules",
    "normalise_headers",
    "plausible_population",
]

#: Measure statuses in workflow order.
MEASURE_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "verified")

#: Fields of the survey and of the plan: public security, fire safety, property management, disputes, other.
MEASURE_FIELDS: tuple[str, ...] = ("security", "fire", "property", "disputes", "other")

#: Kinds of measure and the field each belongs to.
MEASURE_KINDS: dict[str, str] = {
    "access_control": "security",
    "night_closure": "security",
    "lighting": "security",
    "cameras": "security",
    "fence": "security",
    "locks": "security",
    "fire_lane": "fire",
    "fire_main": "fire",
    "flue": "fire",
    "balcony": "fire",
    "fire_training": "fire",
    "property_service": "property",
    "mediation": "disputes",
    "other": "other",
}

#: Levels of access control (门禁): none, an iron gate or railing (铁门或铁护栏), smart access (智能门禁).
ACCESS_LEVELS: tuple[str, ...] = ("none", "iron_gate", "smart")

#: Modes of night closure (夜间封闭或者半封闭管理).
CLOSURE_MODES: tuple[str, ...] = ("closed", "half_closed")

#: Property management (物业管理): none, fallback by the community (托底过渡管理), professional company.
PROPERTY_MANAGEMENT: tuple[str, ...] = ("none", "fallback", "professional")

#: Kinds of visit: residents, NPC deputies (人大代表), CPPCC members (政协委员), security activists, awareness campaigns.
VISIT_KINDS: tuple[str, ...] = ("residents", "npc_deputy", "cppcc_member", "activist", "campaign")

_HOURS_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class RecordField:
    """One field of a record.

    Parameters
    ----------
    name
        Field name in files and the store.
    kind
        ``"str"``, ``"int"``, ``"float"``, ``"bool"`` or ``"date"`` (ISO ``YYYY-MM-DD``).
    header_zh
        Column header of the Chinese templates.
    required
        Whether every record must carry a value.
    choices
        Allowed values, or None.
    description
        What the value means, with its unit.
    """

    name: str
    kind: str
    header_zh: str
    required: bool = False
    choices: tuple | None = None
    description: str = ""


@dataclass(frozen=True)
class RecordKind:
    """One kind of record (a table)."""

    name: str
    label_zh: str
    id_field: str
    id_prefix: str
    fields: tuple[RecordField, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Field names in order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> RecordField:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _f(name, kind, header_zh, required=False, choices=None, description=""):
    return RecordField(name, kind, header_zh, required, choices, description)


_COMMON_HEAD = (_f("estate_id", "str", "小区编号", True, description="estate id of the register, e.g. SH-01"),)
_COMMON_TAIL = (
    _f("author", "str", "填报人", True, description="who recorded it"),
    _f("synthetic", "bool", "演示数据", description="true for demonstration records that are not real"),
)

KINDS: dict[str, RecordKind] = {
    "surveys": RecordKind(
        "surveys", "排查", "survey_id", "SV",
        (
            _f("survey_id", "str", "排查编号", description="unique id; made from estate and date when blank"),
            *_COMMON_HEAD,
            _f("date", "date", "排查日期", True, description="day of the survey"),
            _f("surveyor", "str", "排查人", True, description="who surveyed"),
            _f("access_control", "str", "门禁", choices=ACCESS_LEVELS, description="access control found"),
            _f("lighting_ok", "bool", "照明正常", description="lighting adequate"),
            _f("cameras", "int", "监控数量", description="number of cameras"),
            _f("cameras_cover_gates", "bool", "监控覆盖出入口", description="cameras cover every gate"),
            _f("fence_ok", "bool", "围墙护栏完好", description="walls and railings adequate (not low, not climbable)"),
            _f("fire_lane_blocked", "bool", "消防通道堵塞", description="fire lane blocked (消防通道不畅)"),
            _f("fire_main_dry", "bool", "消防水管无水", description="dry fire main (消防水管无水)"),
            _f("flue_blocked", "bool", "烟道堵塞", description="blocked flues (烟道油烟堵塞)"),
            _f("balconies_enclosed", "bool", "阳台乱搭乱挂", description="enclosed or cluttered balconies (阳台乱搭乱挂)"),
            _f("fire_inspected", "bool", "已消防检查", description="a fire-safety inspection was held"),
            _f("property_management", "str", "物业管理", choices=PROPERTY_MANAGEMENT, description="none, community fallback or professional"),
            _f("fee_collection_pct", "float", "物业费收缴率%", description="property fee collection rate, percent 0-100"),
            _f("disputes_neighbour", "int", "邻里纠纷", description="neighbour disputes found"),
            _f("disputes_family", "int", "家庭矛盾", description="family disputes found"),
            _f("disputes_relationship", "int", "感情纠葛", description="relationship disputes found"),
            _f("disputes_debt", "int", "债务纠纷", description="debt disputes found"),
            _f("disputes_other", "int", "其他纠纷", description="other disputes found"),
            _f("disputes_open", "int", "未化解纠纷", description="disputes not yet resolved"),
            _f("prevention_human", "str", "人防", description="human prevention: guards, patrols, volunteers"),
            _f("prevention_physical", "str", "物防", description="physical prevention: gates, railings, locks"),
            _f("prevention_technical", "str", "技防", description="technical prevention: cameras, smart access, alarms"),
            _f("problems", "str", "突出问题", description="other problems found, free text"),
            *_COMMON_TAIL,
        ),
    ),
    "measures": RecordKind(
        "measures", "整治措施", "measure_id", "MS",
        (
            _f("measure_id", "str", "措施编号", description="unique id; made from estate and kind when blank"),
            *_COMMON_HEAD,
            _f("kind", "str", "措施类型", True, tuple(MEASURE_KINDS), "what the measure does"),
            _f("description", "str", "措施内容", True, description="the measure in words"),
            _f("responsible_unit", "str", "责任单位", True, description="unit responsible (责任单位)"),
            _f("due_date", "date", "完成时限", description="due date; default the end of the estate's batch window"),
            _f("status", "str", "状态", choices=MEASURE_STATUSES, description="planned, in_progress, done or verified"),
            _f("access_level", "str", "门禁等级", choices=ACCESS_LEVELS, description="for access_control: none, iron_gate or smart"),
            _f("closure_mode", "str", "封闭方式", choices=CLOSURE_MODES, description="for night_closure: closed or half_closed"),
            _f("closure_hours", "str", "封闭时段", description="for night_closure: HH:MM-HH:MM, e.g. 22:00-06:00"),
            _f("evidence", "str", "佐证材料", description="attachment ids joined with ';'"),
            _f("verified_by", "str", "验收人", description="who verified it (status verified)"),
            _f("verified_on", "date", "验收日期", description="day of verification (status verified)"),
            _f("status_note", "str", "状态说明", description="reason for a step back, or other note"),
            *_COMMON_TAIL,
        ),
    ),
    "meetings": RecordKind(
        "meetings", "居民群众会议", "meeting_id", "MT",
        (
            _f("meeting_id", "str", "会议编号", description="unique id; made from estate and date when blank"),
            *_COMMON_HEAD,
            _f("date", "date", "会议日期", True, description="day of the meeting"),
            _f("topic", "str", "会议主题", True, description="topic"),
            _f("attendance", "int", "参会人数", True, description="people present; the plan asks for at least 30"),
            _f("minutes", "str", "会议纪要", description="minutes, free text"),
            *_COMMON_TAIL,
        ),
    ),
    "visits": RecordKind(
        "visits", "走访与宣传", "visit_id", "VS",
        (
            _f("visit_id", "str", "走访编号", description="unique id; made from estate and date when blank"),
            *_COMMON_HEAD,
            _f("date", "date", "日期", True, description="day of the visit or campaign"),
            _f("kind", "str", "类型", True, VISIT_KINDS, "residents, npc_deputy, cppcc_member, activist or campaign"),
            _f("people", "int", "人数", description="people met or reached"),
            _f("summary", "str", "情况摘要", description="what was heard or done"),
            *_COMMON_TAIL,
        ),
    ),
}

#: Chinese labels of choice values, for templates, tables and the briefing.
VALUE_LABELS_ZH: dict[str, str] = {
    "planned": "计划", "in_progress": "推进中", "done": "已完成", "verified": "已验收",
    "none": "无", "iron_gate": "铁门或铁护栏", "smart": "智能门禁",
    "closed": "封闭", "half_closed": "半封闭", "fallback": "托底过渡管理", "professional": "专业物业",
    "residents": "走访居民", "npc_deputy": "拜访人大代表", "cppcc_member": "拜访政协委员", "activist": "拜访治安积极分子",
    "campaign": "安全防范宣传",
    "access_control": "门禁系统", "night_closure": "夜间封闭管理", "lighting": "照明", "cameras": "视频监控", "fence": "围墙护栏",
    "locks": "防盗门锁", "fire_lane": "消防通道", "fire_main": "消防水管", "flue": "烟道清理", "balcony": "阳台整治",
    "fire_training": "消防培训", "property_service": "物业服务", "mediation": "矛盾纠纷化解", "other": "其他",
    "security": "治安防范", "fire": "消防安全", "property": "物业管理", "disputes": "矛盾纠纷",
}

_TRUE = {"true", "1", "yes", "y", "是", "有", "√", "t"}
_FALSE = {"false", "0", "no", "n", "否", "无", "×", "f", ""}


def _header_key(text) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "")


def normalise_headers(df: pd.DataFrame, kind: RecordKind) -> tuple[pd.DataFrame, list[str]]:
    """Rename Chinese template headers (or English names) to field names.

    Returns
    -------
    (DataFrame, list of str)
        The table with field names, and a problem for every unknown column.
    """
    lookup = {}
    for f in kind.fields:
        lookup[_header_key(f.name)] = f.name
        lookup[_header_key(f.header_zh)] = f.name
    rename, problems = {}, []
    for col in df.columns:
        key = _header_key(col)
        if key in lookup:
            rename[col] = lookup[key]
        elif not str(col).startswith("x_"):
            problems.append(f"column {col!r}: not a field of {kind.name}; the fields are {', '.join(kind.columns)}")
    return df.rename(columns=rename), problems


def _parse_date(value) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+00:00(?::00)?)?", text)
    if not m:
        msg = f"{value!r} is not a date; write it as 2022-03-05 or 2022年3月5日"
        raise ValueError(msg)
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    key = _header_key(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    msg = f"{value!r} is not yes/no; write 是 or 否 (true or false)"
    raise ValueError(msg)


def _parse_number(value, kind: str):
    text = unicodedata.normalize("NFKC", str(value)).strip().rstrip("%人")
    try:
        number = float(text)
    except ValueError:
        msg = f"{value!r} is not a number"
        raise ValueError(msg) from None
    if kind == "int":
        if not number.is_integer():
            msg = f"{value!r} is not a whole number"
            raise ValueError(msg)
        return int(number)
    return number


def convert_value(f: RecordField, value):
    """The value of field ``f`` parsed from text or a spreadsheet cell; None when blank.

    Raises
    ------
    ValueError
        With the reason and the fix.
    """
    if is_blank(value):
        return None
    if f.kind == "date":
        return _parse_date(value).isoformat()
    if f.kind == "bool":
        return _parse_bool(value)
    if f.kind in ("int", "float"):
        return _parse_number(value, f.kind)
    text = unicodedata.normalize("NFKC", str(value)).strip() if f.choices else str(value).strip()
    if f.choices is not None:
        reverse = {v: k for k, v in VALUE_LABELS_ZH.items() if k in f.choices}
        text = reverse.get(text, text)
        if text not in f.choices:
            msg = f"{value!r} is not one of {', '.join(f.choices)}"
            raise ValueError(msg)
    return text


def plausible_population(units) -> int:
    """Most people an estate of ``units`` stairwell units can hold (units x :data:`geo.settings.residents_per_unit_max`)."""
    if units is None or is_blank(units):
        return settings.residents_per_unit_max * settings.units_assumed_when_unknown
    return int(units) * settings.residents_per_unit_max


def measure_rules(rec: dict) -> list[str]:
    """Problems of a measure's own fields (level, closure, verification), each with its fix."""
    problems = []
    if rec.get("kind") == "access_control" and rec.get("access_level") is None:
        problems.append("field 'access_level' (门禁等级): access control needs its level: none, iron_gate or smart")
    if rec.get("kind") == "night_closure":
        if rec.get("closure_mode") is None:
            problems.append("field 'closure_mode' (封闭方式): night closure needs its mode: closed or half_closed")
        hours = rec.get("closure_hours")
        if hours is None or not _HOURS_RE.match(unicodedata.normalize("NFKC", str(hours)).strip()):
            problems.append("field 'closure_hours' (封闭时段): night closure needs its hours as HH:MM-HH:MM, e.g. 22:00-06:00")
    if rec.get("status") == "verified" and (rec.get("verified_by") is None or rec.get("verified_on") is None):
        problems.append("fields 'verified_by' and 'verified_on': a verified measure names who verified it and when")
    return problems
