"""The leading group's briefing (领导小组简报): progress, overdue items, invalid meetings, coverage and incidents.

:func:`build_briefing` gathers the figures once; :func:`write_docx` writes them
as a Word document (python-docx; opens in WPS and Word) with a map picture, and
:func:`write_xlsx` as a workbook with one sheet per table. Everything is in
Chinese; every figure drawn from synthetic or approximate data says so.
"""

from __future__ import annotations

import datetime as dt
import io as _stdio
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import settings
from geo._atomic import atomic_write
from geo.maps import static_map
from geo.rectification.progress import (
    COLUMN_LABELS,
    PROGRESS_LABELS_ZH,
    PROGRESS_STATES,
    TOTAL_LABELS,
    invalid_meetings,
    overdue_items,
    progress_summary,
    progress_table,
)
from geo.rectification.records import VALUE_LABELS_ZH

__all__ = ["LABEL_ORDER", "Briefing", "build_briefing", "progress_label_items", "progress_map_png", "write_docx", "write_xlsx"]

#: Colour-blind-safe colours (Okabe-Ito) and marker shapes of the progress states.
STATE_STYLE: dict[str, tuple[str, str]] = {
    "complete": ("#009E73", "o"),
    "in_progress": ("#0072B2", "s"),
    "overdue": ("#D55E00", "^"),
    "not_started": ("#7F7F7F", "X"),
}

@dataclass
class Briefing:
    """Figures of one briefing, computed on ``as_of``."""

    as_of: dt.date
    table: pd.DataFrame
    by_batch: pd.DataFrame
    by_community: pd.DataFrame
    overdue: pd.DataFrame
    invalid_meetings: pd.DataFrame
    coverage_counts: dict[str, int] = field(default_factory=dict)
    coverage_fixes: pd.DataFrame | None = None
    incidents_by_year: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def build_briefing(
    estates,
    records: dict[str, pd.DataFrame],
    *,
    as_of: dt.date | None = None,
    coverage: pd.DataFrame | None = None,
    routes_synthetic: bool = False,
    incidents: pd.DataFrame | None = None,
    total_label: str = TOTAL_LABELS[0],
) -> Briefing:
    """Compute every figure of the briefing.

    Parameters
    ----------
    estates
        The register with positions (GeoDataFrame of ``estates.geojson``).
    records
        ``surveys``, ``measures``, ``meetings``, ``visits`` tables.
    as_of
        The day the figures are for (default today).
    coverage
        The coverage report (:func:`geo.report.coverage_table`), or None to leave coverage out.
    routes_synthetic
        Whether any patrol route behind ``coverage`` is synthetic (said in the notes).
    incidents
        Incidents with ``time`` and ``category``, or None to leave them out.
    total_label
        Label of the total rows of the per-batch and per-community tables.
    """
    as_of = as_of or dt.date.today()
    table = progress_table(estates, **{k: records.get(k) for k in ("surveys", "measures", "meetings", "visits")}, as_of=as_of)
    notes = []
    if any(bool(pd.Series(df.get("synthetic", pd.Series(dtype=bool))).fillna(False).astype(bool).any())
           for df in records.values() if df is not None and len(df)):
        notes.append("本简报的整治记录含演示数据（synthetic），不是真实工作记录。")
    if "synthetic" in estates and estates["synthetic"].fillna(False).astype(bool).any():
        notes.append("小区位置为近似位置（未实测），地图仅示意。")
    b = Briefing(
        as_of=as_of, table=table, by_batch=progress_summary(table, "batch_year", total_label=total_label),
        by_community=progress_summary(table, "community", total_label=total_label),
        overdue=overdue_items(estates, records.get("measures"), records.get("meetings"), as_of=as_of, table=table),
        invalid_meetings=invalid_meetings(records.get("meetings"), estates), notes=notes,
    )
    if coverage is not None:
        counts = coverage["status"].value_counts()
        b.coverage_counts = {s: int(counts.get(s, 0)) for s in ("covered", "coverable", "gap")}
        fixes = coverage[coverage["status"] != "covered"]
        b.coverage_fixes = fixes[["estate_id", "name", "status", "recommended_team_id", "recommended_extension_m"]].reset_index(drop=True)
        if routes_synthetic:
            notes.append("巡逻路线为合成的演示数据，覆盖情况仅示意。")
    if incidents is not None and len(incidents):
        years = pd.to_datetime(incidents["time"], utc=True).dt.tz_convert("Asia/Shanghai").dt.year
        b.incidents_by_year = incidents.assign(年份=years).pivot_table(index="年份", columns="category", values="time", aggfunc="count",
                                                                       fill_value=0)
        if "synthetic" in incidents and incidents["synthetic"].astype(str).str.lower().eq("true").any():
            notes.append("警情数据含合成的演示数据，不是真实警情。")
    return b


#: English labels of the progress states on the map.
_STATE_EN = {"not_started": "not started", "in_progress": "in progress", "overdue": "overdue", "complete": "complete"}


def progress_map_png(estates, table: pd.DataFrame, *, data_dir: Path | None = None, lang: str = "zh", dpi: int = 150) -> bytes:
    """A map picture of the estates coloured by progress state over the offline basemap; PNG bytes.

    Drawn on the server with matplotlib (:mod:`geo.maps.static_map`), with no internet, in Chinese
    (``lang="zh"``) or English, with a scale bar in metres and a north arrow. Chinese needs Debian's
    ``fonts-noto-cjk``; without it the map is drawn in English. Above
    :data:`~geo.maps.static_map.SYMBOLS_FULL_SIZE` estates the symbols shrink, and at most
    :data:`~geo.maps.static_map.LABELS_MAX` places (estates at one spot) are labelled, those that need
    attention first (:data:`LABEL_ORDER`): every place with an overdue estate, then the others where their
    label covers nothing; the map then says how many of how many.
    """
    fig, zh_ok = static_map.new_figure(lang, figsize=(8, 6.5), dpi=dpi)
    ax = fig.add_subplot()
    zh = lang == "zh" and zh_ok
    metric = settings.metric_crs
    place_names = static_map.draw_basemap(ax, data_dir or settings.data_dir)
    pts = estates.to_crs(metric).merge(table[["estate_id", "state"]], on="estate_id", how="left")
    pts["state"] = pts["state"].fillna("not_started")
    xs, ys = pts.geometry.centroid.x.to_numpy(), pts.geometry.centroid.y.to_numpy()
    states = pts["state"].astype(str).to_numpy()
    shrink = static_map.symbol_scale(len(pts))
    for state in PROGRESS_STATES:
        mask = states == state
        colour, marker = STATE_STYLE[state]
        label = f"{PROGRESS_LABELS_ZH[state]}（{int(mask.sum())}）" if zh else f"{_STATE_EN[state]} ({int(mask.sum())})"
        ax.scatter(xs[mask], ys[mask], c=colour, marker=marker, s=70 * shrink, edgecolors="black", linewidths=0.6 * shrink**0.5,
                   label=label, zorder=3)
    static_map.fit_extent(ax, xs.min(), ys.min(), xs.max(), ys.max(), pad_m=300.0)
    legend = ax.legend(loc="upper left", fontsize=8, frameon=True, title="整治进度" if zh else "progress", markerscale=shrink**-0.5)
    title = "沙河街道老旧小区整治进度（位置为近似）" if zh else "Shahe old estates: rectification progress (approximate positions)"
    ax.set_title(title, fontsize=11)
    before = set(ax.get_children())
    static_map.add_scale_bar(ax, lang="zh" if zh else "en")
    static_map.add_north_arrow(ax, lang="zh" if zh else "en")
    furniture = [a for a in ax.get_children() if a not in before]  # the scale bar and the north arrow: labels keep clear
    items, places, overdue_places = progress_label_items(pts["estate_id"].astype(str).to_numpy(), states, xs, ys)
    note = static_map.labels_note(ax, min(static_map.LABELS_MAX, len(items)), places, lang="zh" if zh else "en")
    if note is not None:  # the legend moves below the note
        legend.set_bbox_to_anchor((0.0, 0.93), transform=ax.transAxes)
    fig.canvas.draw()
    place_names = static_map.thin_place_names(place_names)
    avoid = [legend.get_window_extent(), *(p.get_window_extent() for p in place_names), *(a.get_window_extent() for a in furniture)]
    overdue = states == "overdue"  # their symbols stay in sight
    avoid += static_map.point_boxes(ax, xs[overdue], ys[overdue], radius_px=8.0 * shrink**0.5)
    static_map.label_places(ax, items, places, urgent=overdue_places, avoid=avoid, note=note, lang="zh" if zh else "en")
    return static_map.figure_bytes(fig, "png", dpi=dpi, metadata={"Title": title})


#: The order in which places are labelled on the progress map: those with an overdue estate first, then not started,
#: in progress and complete ones (a place counts by its estate that comes first here).
LABEL_ORDER: tuple[str, ...] = ("overdue", "not_started", "in_progress", "complete")


def progress_label_items(ids, states, xs, ys, *, limit: int | None = None) -> tuple[list, int, int]:
    """The labels of the progress map: one per place (estates within 100 m), at most ``limit``, and how many places.

    Places are taken in :data:`LABEL_ORDER` of their most pressing estate, each
    kind in the table's order; a label names its estates' ids without the
    ``SH-`` prefix (a place of more than three by its first and last id and
    how many).

    Returns
    -------
    tuple
        ``(items, places, overdue)``: items for :func:`geo.maps.static_map.place_labels`
        (``x, y, text, style`` in metres, at the place's most pressing estate; made when read),
        the number of places on the map, and how many of the items (the first
        ones) are places with an overdue estate.
    """
    ids = np.asarray(ids, dtype=object)
    rank = {s: k for k, s in enumerate(LABEL_ORDER)}
    codes = [rank.get(s, len(LABEL_ORDER)) for s in np.asarray(states, dtype=object).tolist()]
    chosen, places = static_map.places_by_need(ids, xs, ys, codes, limit=limit)

    def item(group, first):
        short = sorted(str(i).replace("SH-", "") for i in ids[group])
        text = short[0] if len(short) == 1 else (",".join(short) if len(short) <= 3 else f"{short[0]}–{short[-1]} ×{len(short)}")
        return xs[first], ys[first], text, {"fontsize": 7}

    overdue = sum(codes[first] == rank["overdue"] for _, first in chosen)
    return static_map.LabelItems(chosen, item), places, overdue


#: Chinese of every value the briefing's tables may hold in English (states, choices, the total row).
_ZH_VALUES: dict[str, str] = {**VALUE_LABELS_ZH, **PROGRESS_LABELS_ZH, TOTAL_LABELS[1]: TOTAL_LABELS[0]}


def _zh_table(df: pd.DataFrame, columns) -> pd.DataFrame:
    out = df[list(columns)].rename(columns={c: COLUMN_LABELS[c][0] for c in columns}).copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: _ZH_VALUES.get(v, v) if isinstance(v, str) else v)
    return out


_BATCH_COLUMNS = ("batch_year", "estates", "complete", "overdue_estates", "measures", "measures_done", "measures_verified",
                  "measures_overdue", "meetings", "meetings_valid", "estates_without_valid_meeting", "problems_open")
_COMMUNITY_COLUMNS = ("community", *_BATCH_COLUMNS[1:])
_OVERDUE_COLUMNS = ("estate_id", "name", "what", "responsible_unit", "due_date", "days_overdue", "status")
_MEETING_COLUMNS = ("estate_id", "name", "date", "topic", "attendance", "shortfall")
_ESTATE_COLUMNS = ("estate_id", "name", "community", "batch_year", "deadline", "measures", "measures_verified", "measures_overdue",
                   "meetings_valid", "problems_open", "state")


def key_figures(b: Briefing) -> list[str]:
    """The briefing's headline sentences, in Chinese."""
    t = b.table
    total = b.by_batch.iloc[-1]
    lines = [
        f"截至{b.as_of:%Y年%m月%d日}，{len(t)}个老旧小区中已完成整治{int((t['state'] == 'complete').sum())}个，"
        f"推进中{int((t['state'] == 'in_progress').sum())}个，有逾期事项{int((t['state'] == 'overdue').sum())}个，"
        f"未启动{int((t['state'] == 'not_started').sum())}个。",
        f"整治措施{int(total['measures'])}项，已完成{int(total['measures_done'])}项，已验收{int(total['measures_verified'])}项，"
        f"逾期未完成{int(total['measures_overdue'])}项；未整改问题{int(total['problems_open'])}个。",
        f"召开居民群众会议{int(total['meetings'])}次，其中参会不少于{settings.meeting_min_attendance}人的达标会议"
        f"{int(total['meetings_valid'])}次，不达标{len(b.invalid_meetings)}次；"
        f"{int(total['estates_without_valid_meeting'])}个小区尚无达标会议。",
    ]
    if b.coverage_counts:
        c = b.coverage_counts
        lines.append(f"巡防覆盖（1公里规则）：已覆盖{c['covered']}个，应延伸覆盖{c['coverable']}个，盲区{c['gap']}个。")
    return lines


def write_docx(b: Briefing, path: str | Path | None, *, map_png: bytes | None = None) -> Path | bytes:
    """Write the briefing as a Word document (atomically) and return the path; with ``path=None`` return its bytes."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading("沙河街道老旧小区突出治安问题排查整治工作简报", level=0)
    doc.add_paragraph(f"依据：万州沙委发〔2022〕5号；数据截至 {b.as_of.isoformat()}。")
    for note in b.notes:
        doc.add_paragraph(f"说明：{note}")
    doc.add_heading("一、总体进展", level=1)
    for line in key_figures(b):
        doc.add_paragraph(line, style="List Bullet")
    if map_png:
        doc.add_picture(_stdio.BytesIO(map_png), width=Cm(15))
    sections = [
        ("二、分批次进展", _zh_table(b.by_batch, _BATCH_COLUMNS)),
        ("三、逾期事项（按逾期天数）", _zh_table(b.overdue, _OVERDUE_COLUMNS)),
        (f"四、不达标的居民群众会议（少于{settings.meeting_min_attendance}人）", _zh_table(b.invalid_meetings, _MEETING_COLUMNS)),
        ("五、各小区进展", _zh_table(b.table, _ESTATE_COLUMNS)),
    ]
    if b.coverage_fixes is not None:
        fixes = b.coverage_fixes.assign(status=b.coverage_fixes["status"].map({"coverable": "应延伸覆盖", "gap": "盲区"}))
        sections.append(("六、巡防覆盖待解决的小区", fixes.rename(columns={
            "estate_id": "编号", "name": "小区", "status": "状态", "recommended_team_id": "建议延伸队伍", "recommended_extension_m": "延伸米数"})))
    if b.incidents_by_year is not None:
        sections.append(("七、警情按年份统计", b.incidents_by_year.reset_index()))
    for title, df in sections:
        doc.add_heading(title, level=1)
        if not len(df):
            doc.add_paragraph("无。")
            continue
        table = doc.add_table(rows=1, cols=len(df.columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, df.columns, strict=True):
            cell.text = str(name)
        for row in df.itertuples(index=False):
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = _cell_text(value)
    buf = _stdio.BytesIO()
    doc.save(buf)
    if path is None:
        return buf.getvalue()
    atomic_write(path, buf.getvalue())
    return Path(path)


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def write_xlsx(b: Briefing, path: str | Path | None) -> Path | bytes:
    """Write the briefing's tables as a workbook, one sheet each (atomically) and return the path; with ``path=None`` return its bytes."""
    from geo.io import guard_formulas

    sheets = {
        "总体": pd.DataFrame({"要点": key_figures(b) + [f"说明：{n}" for n in b.notes]}),
        "分批次": _zh_table(b.by_batch, _BATCH_COLUMNS),
        "分社区": _zh_table(b.by_community, _COMMUNITY_COLUMNS),
        "逾期事项": _zh_table(b.overdue, _OVERDUE_COLUMNS),
        "不达标会议": _zh_table(b.invalid_meetings, _MEETING_COLUMNS),
        "各小区": _zh_table(b.table, _ESTATE_COLUMNS),
    }
    buf = _stdio.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, df in sheets.items():
            guard_formulas(df).to_excel(writer, sheet_name=name, index=False)
    if path is None:
        return buf.getvalue()
    atomic_write(path, buf.getvalue())
    return Path(path)
