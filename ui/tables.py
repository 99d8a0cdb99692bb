"""Tables shown to users: readable columns, team names, recommended fixes.

Pure functions of the engine's tables (plus the interface language); values
stay plain text, shown by ``st.dataframe`` which never interprets HTML, or by
:func:`show_wrapped`, which escapes them for ``st.table``'s Markdown cells.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from geo._text import display_width
from geo.maps.labels import ORG_STYLE, QUALITY_LABELS, SHIFT_LABELS
from geo.routes import phrases
from ui.i18n import lang, list_sep, radius_text, status_label, t


def team_names(teams: pd.DataFrame) -> dict[str, str]:
    """team_id -> team name."""
    if teams is None or not len(teams):
        return {}
    return dict(zip(teams["team_id"].astype(str), teams["team"].astype(str), strict=True))


def _ids_text(value, names: dict[str, str]) -> str:
    ids = [v for v in str(value or "").split(";") if v and v != "nan"]
    return list_sep().join(f"{names.get(i, i)} ({i})" for i in ids)


def _metres(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v)


def _metres_text(value) -> str:
    """Whole metres as text; a dash with "none within the radius" when there is no nearby team."""
    m = _metres(value)
    return f"{m:,.0f}" if m is not None else ("— 半径内无" if lang() == "zh" else "— none within radius")


def _radius(radius_m: float | None) -> str:
    return radius_text(radius_m)


def row_dicts(table: pd.DataFrame, columns) -> list[dict]:
    """Rows of ``table`` as plain dicts of the ``columns`` it has (far cheaper than ``iterrows`` over thousands of rows)."""
    return pd.DataFrame(table[[c for c in columns if c in table.columns]]).to_dict("records")


def fix_text(row, names: dict[str, str], *, radius_m: float | None = None) -> str:
    """The recommended fix of one estate of a coverage table; ``radius_m`` is the rule radius (default the setting)."""
    status = row.get("status")
    if status == "covered":
        return t("fix_none")
    if status == "gap":
        return t("fix_gap", radius=_radius(radius_m))
    team = str(row.get("recommended_team_id") or "")
    metres = _metres(row.get("recommended_extension_m"))
    if team and metres is not None:
        return t("fix_extend", team=f"{names.get(team, team)} ({team})", m=metres)
    return t("fix_coverable")


def estate_rows(table: pd.DataFrame, teams: pd.DataFrame, *, radius_m: float | None = None) -> pd.DataFrame:
    """One readable row per estate under the rule radius ``radius_m``."""
    names = team_names(teams)
    out = pd.DataFrame({
        t("col_id"): table["estate_id"].astype(str),
        t("col_name"): table["name"].astype(str),
        t("col_community"): table["community"].astype(str),
        t("col_batch"): pd.to_numeric(table["batch_year"], errors="coerce").astype("Int64"),
        t("col_status"): table["status"].map(status_label),
        t("col_covering"): table["covering_team_ids"].map(lambda v: _ids_text(v, names)),
        t("col_nearby", radius=_radius(radius_m)): table["nearby_team_ids"].map(lambda v: _ids_text(v, names)),
        t("col_nearest_m"): table["nearest_distance_m"].map(_metres).astype("Float64"),
        t("col_fix"): [fix_text(r, names, radius_m=radius_m) for r in row_dicts(table, ("status", "recommended_team_id", "recommended_extension_m"))],
    })
    if "geocode_quality" in table.columns:
        out[t("col_quality")] = table["geocode_quality"].map(quality_label)
    return out.reset_index(drop=True)


def uncovered_rows(table: pd.DataFrame, teams: pd.DataFrame, *, radius_m: float | None = None) -> pd.DataFrame:
    """Estates that are not covered, gaps first, with the recommended fix under the rule radius ``radius_m``."""
    sub = table[table["status"] != "covered"].copy()
    sub["_order"] = sub["status"].map({"gap": 0, "coverable": 1})
    sub = sub.sort_values(["_order", "estate_id"])
    names = team_names(teams)
    return pd.DataFrame({
        t("col_id"): sub["estate_id"].astype(str),
        t("col_name"): sub["name"].astype(str),
        t("col_community"): sub["community"].astype(str),
        t("col_batch"): pd.to_numeric(sub["batch_year"], errors="coerce").astype("Int64"),
        t("col_status"): sub["status"].map(status_label),
        t("col_nearest_m"): [_metres_text(v) for v in sub["nearest_distance_m"]],
        t("col_fix"): [fix_text(r, names, radius_m=radius_m) for r in row_dicts(sub, ("status", "recommended_team_id", "recommended_extension_m"))],
    }).reset_index(drop=True)


#: Lists of at most this many rows are shown as a static table whose cells wrap (long ones in the scrolling grid).
WRAPPED_TABLE_MAX_ROWS = 50

#: Display columns (a Chinese character counts two) of a "large" grid column (about 400 px at 14 px text).
_GRID_UNITS_PER_LINE = 52


def wrapped_row_height(texts, *, max_lines: int = 4) -> int:
    """Row height (px) at which a grid's "large" text column shows the longest of ``texts`` whole, up to ``max_lines`` lines.

    The data grid wraps a cell's text only when its row is tall enough; a line
    takes 20 px and a row 16 px of padding.
    """
    longest = max((display_width(v) for v in texts), default=0)
    lines = min(max_lines, max(1, math.ceil(longest / _GRID_UNITS_PER_LINE)))
    return 16 + 20 * lines


def markdown_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell escaped for Markdown (:func:`md`): ``st.table`` renders its cells as Markdown."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [md(v) for v in out[col].tolist()]
    return out


def show_wrapped(frame: pd.DataFrame, *, wide: str, key: str) -> None:
    """Show a list whose last column ``wide`` holds sentences or lists (a recommended fix) without cutting them off.

    Up to :data:`WRAPPED_TABLE_MAX_ROWS` rows: a static table fitted to the
    page in which only that column wraps; its cells are Markdown, so text is
    escaped. Longer lists: the scrolling data grid, its rows tall enough for
    the longest text to wrap within its column.
    """
    if frame.columns[-1] != wide:
        raise ValueError(f"show_wrapped: the wrapping column {wide!r} must come last")
    import streamlit as st

    if len(frame) <= WRAPPED_TABLE_MAX_ROWS:
        # only the sentences wrap: ids, names and figures stay on one line (Chinese text breaks between any characters)
        cells = ", ".join(f".st-key-{key} {c}:not(:last-child){d}" for c in ("td", "th") for d in ("", " *"))
        st.html(f"<style>{cells} {{ white-space: nowrap; }}</style>")
        with st.container(key=key):
            st.table(markdown_cells(frame), hide_index=True)
    else:
        st.dataframe(frame, hide_index=True, width="stretch", key=key, row_height=wrapped_row_height(frame[wide]),
                     column_config={wide: st.column_config.TextColumn(width="large")})


def org_label(org: str) -> str:
    """Label of a team type."""
    zh = ORG_STYLE.get(str(org), ("其他", ""))[0]
    return zh if lang() == "zh" else str(org)


def shift_label(shift: str) -> str:
    """Label of a shift."""
    return SHIFT_LABELS.get(str(shift), str(shift)) if lang() == "zh" else str(shift)


def quality_label(quality) -> str:
    """Label of a geocode quality."""
    q = "" if quality is None or (isinstance(quality, float) and math.isnan(quality)) else str(quality)
    return QUALITY_LABELS.get(q, q) if lang() == "zh" else q


def team_rows(teams: pd.DataFrame, routes: pd.DataFrame, estate_ids: set[str] | None = None, *,
              radius_m: float | None = None) -> pd.DataFrame:
    """One readable row per team; with ``estate_ids``, only teams nearby any of them (within ``radius_m``)."""
    if teams is None or not len(teams):
        return pd.DataFrame()
    sub = teams
    if estate_ids is not None:
        near = sub["nearby_estate_ids"].fillna("").map(lambda v: bool(set(v.split(";")) & estate_ids))
        sub = sub[near]
    shifts = routes.groupby(routes["team_id"].astype(str))["shift"].agg(lambda s: list_sep().join(sorted({shift_label(x) for x in s})))
    return pd.DataFrame({
        t("col_team_id"): sub["team_id"].astype(str),
        t("col_team"): sub["team"].astype(str),
        t("col_org"): sub["org_type"].map(org_label),
        t("col_shift"): sub["team_id"].map(shifts).fillna(""),
        t("col_routes"): sub["route_ids"].astype(str),
        t("col_covered_n"): sub["covered_count"].astype(int),
        t("col_nearby_n", radius=_radius(radius_m)): sub["nearby_count"].astype(int),
        t("col_obliged"): sub["obliged_estate_ids"].fillna("").str.replace(";", "、"),
        t("col_extension_m"): sub["obligation_extension_m"].round(0),
    }).reset_index(drop=True)


def summary_frame(counts: pd.DataFrame, index_label: str) -> pd.DataFrame:
    """A status crosstab with translated column names, a total and a coverage rate."""
    out = counts.copy()
    out.columns = [status_label(c) for c in out.columns]
    total = out.sum(axis=1)
    out[t("total")] = total
    covered = counts["covered"] if "covered" in counts.columns else 0
    out[t("coverage_rate")] = (covered / total.where(total > 0) * 100).round(1).astype(str) + "%"
    out.index = out.index.astype(str)
    out.index.name = index_label
    return out


def md(value) -> str:
    """Plain text for ``st.markdown``: every Markdown and HTML character escaped."""
    text = "" if value is None else str(value)
    for ch in "\\`*_{}[]()#+-.!|<>&~$":
        text = text.replace(ch, "\\" + ch)
    return text


def error_text(exc: Exception, *, limit: int = 20) -> str:
    """Markdown of an engine error: its one-line summary, then each problem once (at most ``limit``)."""
    problems = list(getattr(exc, "problems", None) or [])
    summary = getattr(exc, "summary", None) or ((str(exc).splitlines() or [""])[0] if problems else str(exc))
    text = md(summary) + "".join(f"\n- {md(p)}" for p in problems[:limit])
    if len(problems) > limit:
        text += f"\n- … (+{len(problems) - limit})"
    return text


def number_text(value, fmt: str = ".2f") -> str:
    """A number formatted with ``fmt``, or "—" when it is missing or NaN."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(v) else format(v, fmt)


def p_text(value) -> str:
    """A p-value as the command line writes it (``< 0.001``; :func:`geo.incidents.reporting.format_p`)."""
    from geo.incidents.reporting import format_p

    try:
        return format_p(value)
    except ValueError:
        return "—"


_VERDICTS_ZH = {
    "fewer": "明显下降",
    "more": "明显上升",
    "no_clear_change": "无明显变化",
    "no_incidents": "无警情",
    "no_data_after": "整治后尚无数据",
    "no_data_before": "整治前无数据",
    "no_batch_year": "无整治年度",
    "too_short": "整治后时间太短，暂不判断",
}


def verdict_label(row_or_code, months=None) -> str:
    """Label of a before/after verdict of :mod:`geo.effect`.

    Parameters
    ----------
    row_or_code
        A row of :func:`geo.effect.effect_table` or :func:`geo.effect.effect_summary`
        (its ``verdict_code`` with ``months_after`` or ``shortest_after``), a verdict
        code, or the engine's older English sentence.
    months
        Months after the window, for ``too_short`` (default: taken from the row or sentence).
    """
    from geo.incidents.effect import VERDICT_TEXT, verdict_text

    pooled = False
    if isinstance(row_or_code, (pd.Series, dict)):
        row = row_or_code
        code = row.get("verdict_code")
        if code is None or (isinstance(code, float) and math.isnan(code)):
            code = row.get("verdict", "")
        if months is None:
            pooled = row.get("shortest_after") is not None
            months = row.get("shortest_after", row.get("months_after"))
    else:
        code = row_or_code
    code = "" if code is None else str(code)
    if code not in VERDICT_TEXT:
        english = {v: k for k, v in VERDICT_TEXT.items()}
        if code.startswith("too short"):
            found = re.search(r"(\d+) month", code)
            pooled = pooled or "an estate" in code
            months = months if months is not None else (int(found.group(1)) if found else None)
            code = "too_short"
        elif code in english:
            code = english[code]
        else:
            return code
    if months is not None and (isinstance(months, float) and math.isnan(months)):
        months = None
    if lang() != "zh":
        return verdict_text(code, months, pooled=pooled)
    label = _VERDICTS_ZH[code]
    if code == "too_short" and months is not None:
        return f"{label}：整治后仅 {int(months)} 个月"
    return label


def history_text(value) -> str:
    """An author or reason of the route history in the interface language (the store's own phrases translated)."""
    return phrases.history_text(value, lang())


def time_text(value) -> str:
    """A saved time as local time of the subdistrict (China Standard Time), ``2026-12-01 05:59``."""
    return phrases.local_time_text(value)
