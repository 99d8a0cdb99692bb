"""The download buttons shared by the overview and the planner views."""

from __future__ import annotations

import streamlit as st

from geo.errors import GeoError
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
