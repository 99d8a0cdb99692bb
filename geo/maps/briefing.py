"""The one-page coverage briefing for leaders (巡防覆盖简报): the map and the key figures, as PNG or PDF.

Drawn on the server with matplotlib (:mod:`geo.maps.static_map`), with no
internet, in Chinese (``zh``) or English (``en``), on A4 landscape: the coverage
map on the offline basemap (gaps and coverable estates large, with halo and
labels; estates at one spot grouped with a count; colour-blind-safe colours
with shape as a second cue), the counts under both readings of the rule (by
default, and 都应 read strictly), every estate still to fix with its cheapest
extension, the rule, the date and where the data come from (approximate
positions and synthetic routes said so).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo import settings
from geo.maps import static_map
from geo.maps.static_map import LABELS_MAX, symbol_scale

__all__ = ["STATUS_STYLE", "BriefingFigures", "briefing_figures", "provenance_notes", "render_briefing"]

#: Okabe-Ito colour, marker, size (pt²) and draw order of each status: the problems drawn largest and on top.
STATUS_STYLE: dict[str, tuple[str, str, float, int]] = {
    "covered": ("#009E73", "o", 45, 3),
    "coverable": ("#E69F00", "^", 150, 4),
    "gap": ("#D55E00", "X", 220, 5),
}

#: key -> (Chinese, English).
_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("沙河街道老旧小区巡防覆盖简报", "Shahe subdistrict: patrol coverage of the old estates"),
    "subtitle": ("规则：小区周边{radius}米内的巡防队伍都应将其纳入巡逻覆盖（路线经过小区{cover}米内即为覆盖）",
                 "Rule: every patrol team within {radius} m of an estate must bring it into its patrol (a route within {cover} m covers it)"),
    "as_of": ("日期：{date}", "Date: {date}"),
    "covered": ("已覆盖", "covered"),
    "cross": ("其中交叉巡逻（≥2支队伍）", "of which cross-patrolled (2+ teams)"),
    "coverable": ("应延伸覆盖", "coverable (nearby team must extend)"),
    "gap": ("盲区（{radius}米内无队伍）", "gap (no team within {radius} m)"),
    "total": ("合计", "total"),
    "default": ("一般解读", "default"),
    "strict": ("严格解读", "strict"),
    "figures": ("覆盖情况（小区数）", "Coverage (estates)"),
    "readings": ("一般解读：至少一支队伍覆盖即为已覆盖；严格解读（“都应”）：周边每支队伍都覆盖才算已覆盖。",
                 "Default: covered when at least one team covers the estate; strict (\u201call must\u201d): only when every nearby team does."),
    "to_fix": ("待解决的小区（一般解读）与最省的补救", "Estates to fix (default reading) and the cheapest fix"),
    "fix_extend": ("{team} 延伸 {m:,.0f} 米（往返）", "{team} extends {m:,.0f} m (there and back)"),
    "fix_gap": ("无队伍可延伸：由派出所安排巡逻", "no team can extend: the police station arranges patrol"),
    "none_to_fix": ("无：全部小区已覆盖。", "None: every estate is covered."),
    "strict_more": ("严格解读下另有 {n} 个已覆盖小区须由周边未覆盖的队伍延伸。",
                    "Under the strict reading {n} more covered estates must be brought in by nearby teams that do not cover them."),
    "legend_routes": ("巡逻路线", "patrol routes"),
    "legend_outline": ("街道范围（近似）", "subdistrict outline (approximate)"),
    "legend_title": ("图例", "Legend"),
    "plus_covered": ("另有{n}个已覆盖", "and {n} covered"),
    "group": ("{first}–{last} 等{n}个", "{first}–{last}, {n} estates"),
    "source": ("来源：{files}；沙河街道老旧小区巡防覆盖工具生成于 {now}", "Source: {files}; made by the Shahe patrol coverage tool on {now}"),
    "approx_estates": ("小区位置为近似定位（未实测），可能偏差数百米。", "Estate positions are approximate (not surveyed), possibly off by a few hundred metres."),
    "synthetic_estates": ("小区位置含演示数据（synthetic）。", "Estate positions include synthetic demo data."),
    "synthetic_routes": ("巡逻路线为合成的演示数据，不是真实路线，覆盖情况仅作示意。",
                         "The patrol routes are synthetic demo data, not real routes: the coverage shown is illustrative only."),
    "basemap_note": ("底图为本项目自绘的近似示意图，非测绘数据。", "The basemap is an approximate sketch drawn by the project, not survey data."),
    "shift": ("只计{shift}的路线（含全天路线）。", "Only {shift} routes (and all-day ones) are counted."),
    "more_to_fix": ("…另有{n}个，见覆盖报告", "… {n} more: see the coverage report"),
}



def _t(key: str, lang: str, **fmt) -> str:
    zh, en = _TEXTS[key]
    out = en if lang == "en" else zh
    return out.format(**fmt) if fmt else out


@dataclass
class BriefingFigures:
    """The counts of the briefing: estates per status under each reading, and those patrolled by two or more teams."""

    default: dict[str, int]
    strict: dict[str, int]
    cross_patrolled: dict[str, int]
    total: int
    to_fix: pd.DataFrame = field(default_factory=pd.DataFrame)


def briefing_figures(default: pd.DataFrame, strict: pd.DataFrame) -> BriefingFigures:
    """Count the briefing's figures from two coverage tables of the same estates and routes.

    Parameters
    ----------
    default, strict
        Coverage tables (:func:`geo.report.coverage_table`) solved with ``strict=False`` and ``strict=True``.

    Returns
    -------
    BriefingFigures
        ``default`` and ``strict`` count estates per status; ``cross_patrolled`` counts, per reading
        (``default``, ``strict``), the covered estates that two or more teams cover (``covering_count >= 2``;
        under the default reading that is every estate two teams cover); ``to_fix`` lists the estates
        that are not covered by default, gaps first, with the recommended team and extension.
    """
    def counts(table):
        vc = table["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in ("covered", "coverable", "gap")}

    order = {"gap": 0, "coverable": 1}
    fix = default[default["status"] != "covered"].copy()
    fix = fix.assign(_o=fix["status"].map(order)).sort_values(["_o", "estate_id"]).drop(columns="_o")
    keep = [c for c in ("estate_id", "name", "community", "status", "recommended_team_id", "recommended_extension_m") if c in fix]
    return BriefingFigures(default=counts(default), strict=counts(strict), cross_patrolled={
        name: int(((t["status"] == "covered") & (t["covering_count"] >= 2)).sum()) for name, t in (("default", default), ("strict", strict))},
                           total=len(default), to_fix=fix[keep].reset_index(drop=True))


def _fix_text(row, lang: str) -> str:
    team = str(row.get("recommended_team_id") or "")
    metres = row.get("recommended_extension_m")
    if row["status"] == "gap" or not team or metres is None or pd.isna(metres):
        return _t("fix_gap", lang)
    return _t("fix_extend", lang, team=team, m=float(metres))


def provenance_notes(estates, routes, lang: str = "zh") -> list[str]:
    """What the reader must know about the data: approximate positions, synthetic estates or routes, the sketched basemap."""
    from geo.report import approximate_positions, synthetic_flags

    notes = []
    if bool(approximate_positions(estates).any()):
        notes.append(_t("approx_estates", lang))
    if bool(synthetic_flags(estates).any()):
        notes.append(_t("synthetic_estates", lang))
    if routes is not None and bool(synthetic_flags(routes).any()):
        notes.append(_t("synthetic_routes", lang))
    notes.append(_t("basemap_note", lang))
    return notes


def render_briefing(
    default: pd.DataFrame,
    strict: pd.DataFrame,
    routes=None,
    *,
    estates=None,
    fmt: str = "pdf",
    lang: str = "zh",
    radius_m: float | None = None,
    cover_m: float | None = None,
    shift: str | None = None,
    data_dir: str | Path | None = None,
    as_of: dt.date | None = None,
    sources: tuple[str, ...] = ("estates.geojson", "patrol_routes.geojson"),
    dpi: int = 150,
) -> bytes:
    """Draw the one-page briefing and return it as PDF or PNG bytes.

    Parameters
    ----------
    default, strict
        Coverage tables (:func:`geo.report.coverage_table`, GeoDataFrames with the estates' geometry)
        of the same estates and routes under the default and the strict reading.
    routes
        The patrol routes drawn on the map (GeoDataFrame), or None.
    estates
        The register the tables come from (its ``geocode_quality`` and ``synthetic`` say how far the
        positions can be trusted); default ``default`` itself.
    fmt
        ``pdf`` (one A4 landscape page) or ``png``.
    lang
        ``zh`` (default) or ``en``; Chinese needs Debian's ``fonts-noto-cjk``.
    radius_m, cover_m, shift
        The rule the tables were solved with, for the subtitle (default the settings').
    data_dir
        Folder of the offline basemap and road layer (default :data:`geo.settings.data_dir`).
    as_of
        The date printed (default today, China Standard Time).
    sources
        Names of the files the figures come from, for the source line.
    """
    from matplotlib.lines import Line2D

    figs = briefing_figures(default, strict)
    radius_m = settings.rule_radius_m if radius_m is None else radius_m
    cover_m = settings.cover_distance_m if cover_m is None else cover_m
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    as_of = as_of or now.date()

    fig, _zh_ok = static_map.new_figure(lang, figsize=(11.69, 8.27), dpi=dpi)
    fig.text(0.03, 0.955, _t("title", lang), fontsize=18, fontweight="bold", va="bottom")
    fig.text(0.97, 0.958, _t("as_of", lang, date=as_of.isoformat()), fontsize=10, ha="right", va="bottom")
    fig.text(0.03, 0.93, _t("subtitle", lang, radius=f"{radius_m:g}", cover=f"{cover_m:g}"), fontsize=9, color="#333333", va="bottom")
    ax = fig.add_axes((0.02, 0.08, 0.56, 0.83))
    _draw_map(ax, default, routes, lang=lang, data_dir=data_dir, line_cls=Line2D)
    notes = provenance_notes(default if estates is None else estates, routes, lang)
    lines = textwrap.wrap(("" if lang == "zh" else " ").join(notes), 95 if lang == "zh" else 170)
    _draw_panel(fig, figs, lang=lang, radius_m=radius_m, shift=shift, bottom=0.045 + 0.018 * len(lines) + 0.01)
    for n, line in enumerate(reversed(lines)):
        fig.text(0.03, 0.045 + n * 0.018, line, fontsize=7.5, color="#8a1c00", va="bottom")
    fig.text(0.03, 0.02, _t("source", lang, files="、".join(sources) if lang == "zh" else ", ".join(sources),
                             now=now.strftime("%Y-%m-%d %H:%M")), fontsize=7, color="#555555", va="bottom")
    title = _t("title", lang)
    return static_map.figure_bytes(fig, fmt, dpi=dpi, metadata={"Title": title, "Subject": "; ".join(notes)} if fmt == "pdf"
                                   else {"Title": title})


def _draw_map(ax, table, routes, *, lang: str, data_dir, line_cls) -> None:
    metric = settings.metric_crs
    pts = table.to_crs(metric)
    place_names = static_map.draw_basemap(ax, data_dir)
    handles = []
    if routes is not None and len(routes):
        routes.to_crs(metric).plot(ax=ax, color="#3b3b8f", linewidth=1.6, alpha=0.85, zorder=2)
        handles.append(line_cls([], [], color="#3b3b8f", lw=1.6, label=_t("legend_routes", lang)))
    xs, ys = pts.geometry.centroid.x.to_numpy(), pts.geometry.centroid.y.to_numpy()
    status = pts["status"].astype(str).to_numpy()
    shrink = symbol_scale(len(pts))
    for s in ("covered", "coverable", "gap"):
        colour, marker, size, z = STATUS_STYLE[s]
        size *= shrink
        mask = status == s
        if s != "covered":  # halo: a white ring under the problem estates
            ax.scatter(xs[mask], ys[mask], s=size * 2.2, c="white", marker="o", edgecolors="none", alpha=0.9, zorder=z)
        ax.scatter(xs[mask], ys[mask], s=size, c=colour, marker=marker, edgecolors="black", linewidths=0.7 * shrink**0.5, zorder=z + 0.5)
        label = _t(s, lang, radius=f"{settings.rule_radius_m:g}") if s == "gap" else _t(s, lang)
        handles.append(line_cls([], [], marker=marker, linestyle="none", markerfacecolor=colour, markeredgecolor="black",
                                markersize=(STATUS_STYLE[s][2] ** 0.5) * 0.8, label=f"{label}（{int(mask.sum())}）" if lang == "zh" else f"{label} ({int(mask.sum())})"))
    handles.append(line_cls([], [], color="#555555", lw=1.2, linestyle=(0, (6, 2)), label=_t("legend_outline", lang)))
    static_map.fit_extent(ax, xs.min(), ys.min(), xs.max(), ys.max(), pad_m=350.0)
    for spine in ax.spines.values():
        spine.set_color("#999999")
    legend = ax.legend(handles=handles, loc="lower left", fontsize=8, title=_t("legend_title", lang), title_fontsize=8.5,
                       framealpha=0.92, borderpad=0.6)
    legend.set_zorder(8)
    before = set(ax.get_children())
    static_map.add_scale_bar(ax, lang=lang)
    static_map.add_north_arrow(ax, lang=lang)
    furniture = [a for a in ax.get_children() if a not in before]  # the scale bar and the north arrow: labels keep clear
    items, places, gap_places = _label_items(pts, xs, ys, status, lang)
    note = static_map.labels_note(ax, min(LABELS_MAX, len(items)), places, lang=lang)
    ax.figure.canvas.draw()  # limits final: labels are placed on screen
    place_names = static_map.thin_place_names(place_names)
    avoid = [legend.get_window_extent()] + [p.get_window_extent() for p in place_names] + [a.get_window_extent() for a in furniture]
    avoid += static_map.point_boxes(ax, xs[status != "covered"], ys[status != "covered"], radius_px=9.0)
    static_map.label_places(ax, items, places, urgent=gap_places, avoid=avoid, note=note, lang=lang)


def _label_items(pts, xs, ys, status, lang: str) -> tuple[static_map.LabelItems, int, int]:
    """One label per place (estates at one spot, made when read), the number of places, and how many (the first) hold a gap.

    Problems first with id and name, covered places by id, in grey: places
    with a gap before those with coverable estates before covered ones, each
    kind in the table's order.
    """
    rank = {"gap": 0, "coverable": 1, "covered": 2}
    ids = pts["estate_id"].astype(str).to_numpy()
    names = pts["name"].astype(str).to_numpy() if "name" in pts else ids
    codes = [rank.get(s, 3) for s in status.tolist()]
    chosen, places = static_map.places_by_need(ids, xs, ys, codes)
    sep = "、" if lang == "zh" else ", "

    def item(g, worst):
        x, y = xs[worst], ys[worst]
        problem = sorted((i for i in g if status[i] != "covered"), key=lambda i: ids[i])
        if problem:  # each problem estate by id, those of one name together: "SH-07、SH-08 渝万钢门窗宿舍"
            by_name: dict[str, list[str]] = {}
            for i in problem:
                by_name.setdefault(names[i], []).append(ids[i])
            text = "\n".join(f"{sep.join(v)} {k}" for k, v in by_name.items())
            if len(g) > len(problem):
                text += "\n" + _t("plus_covered", lang, n=len(g) - len(problem))
        elif len(g) <= 3:
            text = sep.join(sorted(ids[g]))
        else:
            first, last = sorted(ids[g])[0], sorted(ids[g])[-1]
            text = _t("group", lang, first=first, last=last.replace("SH-", ""), n=len(g))
        if problem:
            style = {"fontsize": 8.5, "fontweight": "bold", "color": STATUS_STYLE[status[worst]][0] if status[worst] == "gap" else "#7a4a00"}
        else:
            style = {"fontsize": 7, "color": "#3d3d3d"}
        return x, y, textwrap.shorten(text, 80) if "\n" not in text else text, style

    return static_map.LabelItems(chosen, item), places, sum(codes[worst] == rank["gap"] for _, worst in chosen)


def _draw_panel(fig, figs: BriefingFigures, *, lang: str, radius_m: float, shift: str | None, bottom: float) -> None:
    """The figures and the estates to fix, on the right of the page, down to ``bottom`` (the notes below it)."""
    x0, top = 0.61, 0.89
    fig.text(x0, top, _t("figures", lang), fontsize=12, fontweight="bold", va="top")
    rows = [
        (_t("covered", lang), figs.default["covered"], figs.strict["covered"], STATUS_STYLE["covered"][0]),
        ("    " + _t("cross", lang), figs.cross_patrolled["default"], figs.cross_patrolled["strict"], "#333333"),
        (_t("coverable", lang), figs.default["coverable"], figs.strict["coverable"], "#9a6400"),
        (_t("gap", lang, radius=f"{radius_m:g}"), figs.default["gap"], figs.strict["gap"], STATUS_STYLE["gap"][0]),
        (_t("total", lang), figs.total, figs.total, "#000000"),
    ]
    y = top - 0.045
    fig.text(0.87, y, _t("default", lang), fontsize=9, ha="right", va="top", fontweight="bold")
    fig.text(0.97, y, _t("strict", lang), fontsize=9, ha="right", va="top", fontweight="bold")
    for label, d, s, colour in rows:
        y -= 0.04
        fig.text(x0, y, label, fontsize=10, color=colour, va="top")
        fig.text(0.87, y, f"{d}", fontsize=13, ha="right", va="top", fontweight="bold", color=colour)
        fig.text(0.97, y, f"{s}", fontsize=13, ha="right", va="top", color=colour)
    y -= 0.045
    for line in textwrap.wrap(_t("readings", lang), 34 if lang == "zh" else 62):
        fig.text(x0, y, line, fontsize=7.5, color="#555555", va="top")
        y -= 0.022
    if shift:
        fig.text(x0, y, _t("shift", lang, shift=shift), fontsize=7.5, color="#555555", va="top")
        y -= 0.022
    y -= 0.02
    fig.text(x0, y, _t("to_fix", lang), fontsize=11, fontweight="bold", va="top")
    y -= 0.04
    fix = figs.to_fix
    if not len(fix):
        fig.text(x0, y, _t("none_to_fix", lang), fontsize=9, va="top")
        y -= 0.03
    extra = figs.strict["coverable"] - figs.default["coverable"]
    # As many estates (0.05 of the page each) as fit above ``bottom`` with the strict reading's note, and with the
    # "more" line (0.03) when some are left out.
    room = y - bottom - (0.022 * len(textwrap.wrap(_t("strict_more", lang, n=extra), 34 if lang == "zh" else 62)) if extra > 0 else 0.0)
    limit = len(fix) if len(fix) * 0.05 <= room + 1e-9 else max(1, int((room - 0.03) // 0.05))
    for _, row in fix.head(limit).iterrows():
        colour, marker, _size, _z = STATUS_STYLE[row["status"]]
        fig.text(x0, y, {"X": "✕", "^": "▲", "o": "●"}[marker], fontsize=9, color=colour, va="top")
        fig.text(x0 + 0.018, y, f"{row['estate_id']} {row.get('name', '')}", fontsize=9, va="top", fontweight="bold")
        fig.text(x0 + 0.018, y - 0.022, _fix_text(row, lang), fontsize=8.5, color="#333333", va="top")
        y -= 0.05
    if len(fix) > limit:
        fig.text(x0, y, _t("more_to_fix", lang, n=len(fix) - limit), fontsize=8.5, va="top")
        y -= 0.03
    if extra > 0:
        for line in textwrap.wrap(_t("strict_more", lang, n=extra), 34 if lang == "zh" else 62):
            fig.text(x0, y, line, fontsize=8, color="#555555", va="top")
            y -= 0.022
