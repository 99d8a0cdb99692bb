"""The download buttons shared by the overview and the planner views."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import streamlit as st

from geo.errors import GeoError
from geo.maps.briefing import render_briefing
from ui import data, exports, maps
from ui.context import Context
from ui.i18n import lang, t
from ui.tables import error_text


@st.cache_data(show_spinner=False, max_entries=8)
def _map_html(estates_path: str, estates_mtime: int, routes_text: str, rule: data.Rule, estate_ids: tuple[str, ...], show_bands: bool,
              map_lang: str = "zh") -> bytes:
    """The offline HTML map of ``estate_ids``: the same routes, bands and extensions as the app's map."""
    cov = data.compute_coverage(estates_path, estates_mtime, routes_text, rule)
    routes = data.routes_from_text(routes_text)
    shown = cov.table[cov.table["estate_id"].isin(estate_ids)]
    inputs = maps.map_inputs(cov, routes, estate_ids, rule, routes_text=routes_text)
    return exports.map_html_bytes(maps.build(shown, inputs, rule, show_bands=show_bands, lang=map_lang))


def render(ctx: Context) -> None:
    """Draw the downloads of the estates that pass the filters."""
    st.subheader(t("downloads"))
    shown = ctx.shown
    key = maps.digest(ctx.routes_text, ctx.estates_mtime, ctx.filters.rule, tuple(shown["estate_id"].astype(str)))
    cols = st.columns(4)
    cols[0].download_button(t("dl_csv"), exports.report_bytes(shown, "csv", key), file_name="coverage_report.csv", mime="text/csv",
                            key="dl_csv")
    cols[1].download_button(t("dl_xlsx"), exports.report_bytes(shown, "xlsx", key), file_name="coverage_report.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
    cols[2].download_button(t("dl_geojson"), exports.estates_geojson_bytes(shown, key), file_name="estates_status.geojson",
                            mime="application/geo+json", key="dl_geojson")
    try:
        html = _map_html(str(ctx.estates_path), ctx.estates_mtime, ctx.routes_text, ctx.filters.rule,
                         tuple(shown["estate_id"].astype(str)), ctx.filters.show_bands, lang())
    except GeoError as exc:  # e.g. the map's scripts are not vendored: the page would need the internet
        cols[3].error(error_text(exc))
    else:
        cols[3].download_button(t("dl_html"), html, file_name="coverage_map.html", mime="text/html", key="dl_html")
    st.caption(t("downloads_caption"))


def briefing(ctx: Context) -> None:
    """The one-page briefing of the estates shown (map, counts under both readings, estates to fix, data sources), PDF or PNG.

    Drawn on the server in the interface language when a button is clicked (a few seconds), from the
    same coverage tables as the page, so its figures are the page's.
    """
    shown_ids = set(ctx.shown["estate_id"].astype(str))
    if not shown_ids:
        return
    rule = ctx.filters.rule
    other = data.compute_coverage(str(ctx.estates_path), ctx.estates_mtime, ctx.routes_text, replace(rule, strict=not rule.strict))
    default, strict = (other.table, ctx.cov.table) if rule.strict else (ctx.cov.table, other.table)
    estates = data.load_estates(str(ctx.estates_path), ctx.estates_mtime)

    def keep(frame):
        return frame[frame["estate_id"].astype(str).isin(shown_ids)]

    language = lang()
    options = {"routes": ctx.routes, "estates": keep(estates), "lang": language, "radius_m": rule.radius_m, "cover_m": rule.cover_m,
               "shift": t(f"shift_{rule.shift}").lower() if rule.shift else None, "data_dir": data.data_dir(),
               "sources": (ctx.estates_path.name, ctx.routes_path.name)}
    cols = st.columns([1, 1, 3])
    for col, fmt, mime in zip(cols, ("pdf", "png"), ("application/pdf", "image/png"), strict=False):
        col.download_button(t(f"dl_briefing_{fmt}"), partial(render_briefing, keep(default), keep(strict), fmt=fmt, **options),
                            file_name=f"{t('briefing_file')}.{fmt}", mime=mime, key=f"dl_briefing_{fmt}", on_click="ignore",
                            icon=":material/description:" if fmt == "pdf" else ":material/image:")
    cols[2].caption(t("briefing_caption"))
