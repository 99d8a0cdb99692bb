"""Labels, colours and popups of the coverage map: every text that comes from data is HTML-escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo import settings
from geo._validate import is_blank
from geo.coverage.rule import STATUS_LABELS_ZH
from geo.report import is_approximate_position

# --- labels and colours -------------------------------------------------------------

def radius_text(radius_m: float | None = None) -> tuple[str, str]:
    """Chinese and English text of the rule radius: ``("1公里", "1 km")`` for 1000, ``("800米", "800 m")`` for 800."""
    r = float(settings.rule_radius_m if radius_m is None else radius_m)
    if r >= 1000 and r % 1000 == 0:
        return f"{r / 1000:g}公里", f"{r / 1000:g} km"
    return f"{r:g}米", f"{r:g} m"


def status_style(radius_m: float | None = None) -> dict[str, tuple[str, str, str]]:
    """Estate status -> (Chinese label, English, colour) for a rule radius (default the setting)."""
    _, en = radius_text(radius_m)
    return {
        "covered": (STATUS_LABELS_ZH["covered"], "covered", "#2e7d32"),
        "coverable": (STATUS_LABELS_ZH["coverable"], "coverable: nearby teams must extend", "#ef6c00"),
        "gap": (STATUS_LABELS_ZH["gap"], f"gap: no team within {en}", "#c62828"),
    }


#: Estate status -> (Chinese label, English, colour) at the default 1,000 m radius.
STATUS_STYLE: dict[str, tuple[str, str, str]] = status_style(1000.0)
UNKNOWN_STATUS = ("未计算", "status not computed", "#607d8b")

#: Team type -> (Chinese label, colour).
ORG_STYLE: dict[str, tuple[str, str]] = {
    "police": ("派出所", "#1565c0"),
    "property": ("物业保安", "#6a1b9a"),
    "enterprise": ("企业保安", "#00838f"),
    "school": ("学校保安", "#b8860b"),
    "volunteer": ("群防群治", "#558b2f"),
}
OTHER_ORG = ("其他", "#455a64")

SHIFT_LABELS = {"day": "白天", "night": "夜间", "all": "全天"}
QUALITY_LABELS = {
    "surveyed": "实测",
    "exact": "门牌精确",
    "interpolated": "门牌插值（近似）",
    "partial": "部分地址未用（近似）",
    "road": "道路级（近似）",
    "failed": "未能定位（近似）",
}

def safe_text(value) -> str:
    """Escape a data value for HTML that folium puts inside a JavaScript template string.

    ``html.escape`` handles ``< > & " '``; the backtick, ``$`` and backslash are
    also replaced by character references so a value cannot end the template
    string, open a ``${...}`` expression or break its escapes.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def as_list(value) -> list[str]:
    """Team ids from a list, an array or a comma/semicolon/、 separated string."""
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [str(v) for v in value if not is_blank(v)]
    if is_blank(value):
        return []
    text = str(value).replace("；", ",").replace(";", ",").replace("、", ",").replace("，", ",")
    return [t.strip() for t in text.split(",") if t.strip()]


def popup_table(rows: Iterable[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{safe_text(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="map-popup"><table>{cells}</table></div>'


def distance_text(metres) -> str:
    if is_blank(metres):
        return ""
    return f"{float(metres):,.0f} 米"


def estate_popup(row: pd.Series, team_names: dict[str, str], *, radius_m: float | None = None) -> tuple[str, str]:
    status = row.get("status")
    zh, en, _ = status_style(radius_m).get(status, UNKNOWN_STATUS) if not is_blank(status) else UNKNOWN_STATUS

    def teams(value) -> str:
        ids = as_list(value)
        return "、".join(safe_text(f"{team_names.get(i, i)} ({i})" if team_names.get(i, i) != i else i) for i in ids) or "无"

    rows: list[tuple[str, object]] = [
        ("小区 estate", f"<b>{safe_text(row.get('name', ''))}</b>"),
        ("编号 id", safe_text(row.get("estate_id", ""))),
        ("社区 community", safe_text(row.get("community", ""))),
        ("地址 address", safe_text(row.get("address", ""))),
        ("整治年度 batch", safe_text(row.get("batch_year", ""))),
        ("状态 status", f"{safe_text(zh)} <small>{safe_text(en)}</small>"),
    ]
    if "nearest_team_id" in row.index and not is_blank(row.get("nearest_team_id")):
        tid = str(row["nearest_team_id"])
        rows.append(("最近队伍 nearest", f"{safe_text(team_names.get(tid, tid))} · {safe_text(distance_text(row.get('nearest_distance_m')))}"))
    if "covering_team_ids" in row.index:
        rows.append(("覆盖队伍 covering", teams(row.get("covering_team_ids"))))
    if "nearby_team_ids" in row.index:
        r_zh, r_en = radius_text(radius_m)
        rows.append((f"{r_zh}内队伍 within {r_en}", teams(row.get("nearby_team_ids"))))
    quality = row.get("geocode_quality")
    if not is_blank(quality):
        rows.append(("定位 geocode", safe_text(QUALITY_LABELS.get(str(quality), str(quality)))))
    if is_approximate_position(row.get("geocode_quality"), row.get("synthetic")):
        rows.append(("注意 note", "位置为近似 · approximate position"))
    tooltip = f"{safe_text(row.get('name', ''))} · {safe_text(zh)}"
    return popup_table(rows), tooltip


def route_popup(row: pd.Series) -> tuple[str, str]:
    org = str(row.get("org_type", ""))
    org_zh = ORG_STYLE.get(org, OTHER_ORG)[0]
    shift = str(row.get("shift", ""))
    rows = [
        ("队伍 team", f"<b>{safe_text(row.get('team', ''))}</b>"),
        ("队伍编号 team id", safe_text(row.get("team_id", ""))),
        ("类型 type", safe_text(org_zh)),
        ("班次 shift", safe_text(SHIFT_LABELS.get(shift, shift))),
        ("路线编号 route", safe_text(row.get("route_id", ""))),
    ]
    if not is_blank(row.get("schedule")):
        rows.append(("时间 schedule", safe_text(row.get("schedule"))))
    if not is_blank(row.get("synthetic")) and str(row.get("synthetic")).lower() in {"true", "1"}:
        rows.append(("注意 note", "演示路线，非真实 · synthetic demo route"))
    return popup_table(rows), f"{safe_text(row.get('team', ''))} · {safe_text(org_zh)}"
