"""Labels, colours and popups of the coverage map: every text that comes from data is HTML-escaped here.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterable, Mapping

import numpy as np

from geo import settings
from geo._validate import is_blank
from geo.coverage.rule import STATUS_LABELS_ZH
from geo.maps import texts
from geo.maps.texts import text as _tx
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
        "covered": (STATUS_LABELS_ZH["covered"], "covered", "#009e73"),  # Okabe-Ito bluish green
        "coverable": (STATUS_LABELS_ZH["coverable"], "coverable: nearby teams must extend", "#e69f00"),  # Okabe-Ito orange
        "gap": (STATUS_LABELS_ZH["gap"], f"gap: no team within {en}", "#d55e00"),  # Okabe-Ito vermillion
    }


#: Estate status -> (Chinese label, English, colour) at the default 1,000 m radius.
STATUS_STYLE: dict[str, tuple[str, str, str]] = status_style(1000.0)
UNKNOWN_STATUS = ("未计算", "status not computed", "#607d8b")

#: Estate status -> (marker radius in px, halo ring dash or None for no halo): size and ring are the second cue
#: beside colour, so the statuses read apart without colour vision (covered small, coverable ringed dashed,
#: gap largest with a solid ring).
STATUS_SHAPE: dict[str, tuple[int, str | None]] = {"covered": (6, None), "coverable": (9, "4 3"), "gap": (11, "")}

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
    if value is None or (isinstance(value, float) and math.isnan(value)):  # not is_blank: "  " stays as it is
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


def distance_text(metres, lang: str = "zh") -> str:
    if is_blank(metres):
        return ""
    return _tx("metres", lang, m=float(metres))


def status_label(status, radius_m: float | None = None, lang: str = "zh") -> tuple[str, str]:
    """Label and colour of an estate status in ``lang`` (the "not computed" style for a blank or unknown one)."""
    styles = status_style(radius_m)
    if is_blank(status) or str(status) not in styles:
        return _tx("unknown", lang), UNKNOWN_STATUS[2]
    radius = radius_text(radius_m)[1 if lang == "en" else 0]
    return _tx(str(status), lang, radius=radius), styles[str(status)][2]


def org_label(org, lang: str = "zh") -> str:
    """The team type in ``lang`` ("其他" / "other" for an unknown one)."""
    return texts.pick(texts.ORG_LABELS.get(str(org), texts.ORG_LABELS["other"]), lang)


def shift_label(shift, lang: str = "zh") -> str:
    pair = texts.SHIFT_LABELS.get(str(shift))
    return texts.pick(pair, lang) if pair else str(shift)


def quality_label(quality, lang: str = "zh") -> str:
    pair = texts.QUALITY_LABELS.get(str(quality))
    return texts.pick(pair, lang) if pair else str(quality)


@functools.lru_cache(maxsize=4096)
def _team_text(name: str, team_id: str) -> str:
    """A team as popups name it, made safe: "name (id)", or the id alone when it has no other name."""
    return safe_text(f"{name} ({team_id})" if name != team_id else team_id)


def estate_popup(row: Mapping, team_names: dict[str, str], *, radius_m: float | None = None, lang: str = "zh") -> tuple[str, str]:
    """Popup HTML and tooltip of an estate (a row as a Series or a dict), all in ``lang``."""
    label, _ = status_label(row.get("status"), radius_m, lang)
    sep = ", " if lang == "en" else "、"

    def teams(value) -> str:
        return sep.join(_team_text(team_names.get(i, i), i) for i in as_list(value)) or _tx("none", lang)

    rows: list[tuple[str, object]] = [
        (_tx("p_estate", lang), f"<b>{safe_text(row.get('name', ''))}</b>"),
        (_tx("p_id", lang), safe_text(row.get("estate_id", ""))),
        (_tx("p_community", lang), safe_text(row.get("community", ""))),
        (_tx("p_address", lang), safe_text(row.get("address", ""))),
        (_tx("p_batch", lang), safe_text(row.get("batch_year", ""))),
        (_tx("p_status", lang), safe_text(label)),
    ]
    if "nearest_team_id" in row and not is_blank(row.get("nearest_team_id")):
        tid = str(row["nearest_team_id"])
        rows.append((_tx("p_nearest", lang), f"{safe_text(team_names.get(tid, tid))} · {safe_text(distance_text(row.get('nearest_distance_m'), lang))}"))
    if "covering_team_ids" in row:
        rows.append((_tx("p_covering", lang), teams(row.get("covering_team_ids"))))
    if "nearby_team_ids" in row:
        radius = radius_text(radius_m)[1 if lang == "en" else 0]
        rows.append((_tx("p_within", lang, radius=radius), teams(row.get("nearby_team_ids"))))
    quality = row.get("geocode_quality")
    if not is_blank(quality):
        rows.append((_tx("p_geocode", lang), safe_text(quality_label(quality, lang))))
    if is_approximate_position(row.get("geocode_quality"), row.get("synthetic")):
        rows.append((_tx("p_note", lang), _tx("approx_position", lang)))
    tooltip = f"{safe_text(row.get('name', ''))} · {safe_text(label)}"
    return popup_table(rows), tooltip


def route_popup(row: Mapping, lang: str = "zh") -> tuple[str, str]:
    """Popup HTML and tooltip of a patrol route (a row as a Series or a dict), all in ``lang``."""
    org = org_label(row.get("org_type", ""), lang)
    rows = [
        (_tx("p_team", lang), f"<b>{safe_text(row.get('team', ''))}</b>"),
        (_tx("p_team_id", lang), safe_text(row.get("team_id", ""))),
        (_tx("p_type", lang), safe_text(org)),
        (_tx("p_shift", lang), safe_text(shift_label(row.get("shift", ""), lang))),
        (_tx("p_route", lang), safe_text(row.get("route_id", ""))),
    ]
    if not is_blank(row.get("schedule")):
        rows.append((_tx("p_schedule", lang), safe_text(row.get("schedule"))))
    if not is_blank(row.get("synthetic")) and str(row.get("synthetic")).lower() in {"true", "1"}:
        rows.append((_tx("p_note", lang), _tx("synthetic_route", lang)))
    return popup_table(rows), f"{safe_text(row.get('team', ''))} · {safe_text(org)}"
