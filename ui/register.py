"""台账: the plan's register with how each estate was placed, and surveyed positions typed in."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.errors import GeoError
from ui import auth, data, overrides, register_map, state, tables
from ui.context import Context
from ui.data_text import geocode_note_text, period_text
from ui.i18n import colon, lang, t
from ui.tables import error_text, md

DATUMS = ("wgs84", "gcj02", "bd09")


def ledger_rows(estates: pd.DataFrame) -> pd.DataFrame:
    """The register with geocode quality and WGS-84 position, readable columns."""
    pts = estates.geometry.representative_point()
    out = pd.DataFrame({
        t("col_id"): estates["estate_id"].astype(str),
        t("col_seq"): estates.get("seq"),
        t("col_name"): estates["name"].astype(str),
        t("col_community"): estates["community"].astype(str),
        t("address"): estates["address"].astype(str),
        t("col_batch"): estates["batch_year"],
        t("col_period"): _column(estates, "batch_period", period_text),
        t("col_buildings"): estates.get("buildings"),
        t("col_units"): estates.get("units"),
        t("col_quality"): estates["geocode_quality"].map(tables.quality_label) if "geocode_quality" in estates.columns else "",
        t("col_lon"): pts.x.round(6),
        t("col_lat"): pts.y.round(6),
        t("col_geocode_note"): _column(estates, "geocode_note", geocode_note_text),
    })
    return out.reset_index(drop=True)


def _column(estates: pd.DataFrame, name: str, text) -> pd.Series | None:
    """A column of the file shown in the page's language by ``text`` (see :mod:`ui.data_text`); None when absent."""
    if name not in estates.columns:
        return None
    here = lang()
    return estates[name].map(lambda v: text(v, here))


def _record(ctx: Context, estate_id: str, address: str) -> None:
    """Button callback: write the override (position, and the footprint when one was drawn) and rebuild the estates file."""
    if not auth.is_editor():
        st.session_state[state.REG_RESULT] = ("error", t("editor_required"))
        return
    lon, lat = st.session_state.get(f"{state.REG_LON}:{estate_id}"), st.session_state.get(f"{state.REG_LAT}:{estate_id}")
    datum = st.session_state.get(state.REG_DATUM, "wgs84")
    note = str(st.session_state.get(state.REG_NOTE, "") or "").strip()
    author = str(st.session_state.get(state.REG_AUTHOR, "") or "").strip()
    if not author or not note:  # who and why, as for a route
        st.session_state[state.REG_RESULT] = ("error", t("reg_needs"))
        return
    st.session_state[state.AUTHOR_KEEP] = author
    drawn = register_map.footprint(estate_id)
    try:
        overrides.record_override(data.path_of("geocode_overrides.csv"), estate_id, float(lon), float(lat), datum=datum,
                                  note=f"{note} ({author})", address=address, author=author, footprint=drawn)
        gdf = overrides.rebuild_estates(data.path_of("ledger.csv"), ctx.estates_path, data_dir=data.data_dir(), author=author,
                                        reason=f"surveyed position of {estate_id} recorded: {note}")
    except GeoError as exc:
        st.session_state[state.REG_RESULT] = ("error", error_text(exc))
        return
    st.session_state.pop(f"{state.REG_FOOTPRINT}:{estate_id}", None)
    row = gdf[gdf["estate_id"].astype(str) == estate_id].iloc[0]
    pt = row.geometry.representative_point()
    done = t("override_done", id=estate_id, lon=f"{pt.x:.6f}", lat=f"{pt.y:.6f}", q=tables.quality_label(row["geocode_quality"]))
    if row.geometry.geom_type != "Point":
        done += " " + t("reg_footprint_saved")
    st.session_state[state.REG_RESULT] = ("success", done)


def render(ctx: Context) -> None:
    """Draw the register view."""
    st.header(t("view_register"))
    st.warning(t("approx_note"))
    estates = data.load_estates(str(ctx.estates_path), ctx.estates_mtime)
    shown = ctx.filters.apply(estates.merge(ctx.cov.table[["estate_id", "status"]], on="estate_id", how="left"))
    counts = estates["geocode_quality"].value_counts() if "geocode_quality" in estates.columns else pd.Series(dtype=int)
    sep = colon()
    st.caption(" · ".join(f"{tables.quality_label(q)}{sep}{int(n)}" for q, n in counts.items()))
    st.dataframe(ledger_rows(shown), hide_index=True, width="stretch", key="register_table")

    st.subheader(t("move_pin"))
    st.caption(t("override_help"))
    editor = auth.editor_gate("register")
    result = st.session_state.pop(state.REG_RESULT, None)
    if result:
        (st.success if result[0] == "success" else st.error)(result[1])
    ids = list(estates["estate_id"].astype(str))
    names = dict(zip(ids, estates["name"].astype(str), strict=True))
    eid = st.selectbox(t("select_estate"), ids, key=state.REG_ESTATE, format_func=lambda i: f"{i} {names.get(i, '')}", disabled=not editor)
    row = estates[estates["estate_id"].astype(str) == eid].iloc[0]
    pt = row.geometry.representative_point()
    st.caption(t("current_position", lon=f"{pt.x:.6f}", lat=f"{pt.y:.6f}", q=tables.quality_label(row.get("geocode_quality"))))
    current = (float(pt.x), float(pt.y))
    st.session_state.setdefault(f"{state.REG_LON}:{eid}", float(round(pt.x, 7)))  # defaults through the state: the map sets them too
    st.session_state.setdefault(f"{state.REG_LAT}:{eid}", float(round(pt.y, 7)))
    register_map.render(ctx, eid, current, editor=editor)  # a click or drag sets the fields below, so it comes first
    c1, c2, c3 = st.columns(3)
    c1.number_input(t("col_lon"), min_value=73.0, max_value=136.0, step=0.0001, format="%.7f", key=f"{state.REG_LON}:{eid}", disabled=not editor)
    c2.number_input(t("col_lat"), min_value=18.0, max_value=54.0, step=0.0001, format="%.7f", key=f"{state.REG_LAT}:{eid}", disabled=not editor)
    c3.radio(t("datum"), DATUMS, key=state.REG_DATUM, format_func=lambda d: t(f"datum_{d}"), disabled=not editor, help=t("reg_datum_help"))
    if editor:
        st.markdown(f"**{t('reg_preview')}**")
        check = register_map.preview(eid, current)
    c1, c2 = st.columns([1, 2])
    if state.REG_AUTHOR not in st.session_state and st.session_state.get(state.AUTHOR_KEEP):
        st.session_state[state.REG_AUTHOR] = st.session_state[state.AUTHOR_KEEP]
    c1.text_input(t("author"), key=state.REG_AUTHOR, disabled=not editor)
    c2.text_input(t("override_note"), key=state.REG_NOTE, disabled=not editor, placeholder=t("override_note_hint"))
    if editor:
        st.button(t("record_override"), type="primary", on_click=_record, args=(ctx, eid, str(row.get("address", ""))), key="record_override",
                  disabled=check is not None and not check.ok)
        st.caption(t("reg_needs"))

    st.subheader(t("overrides_file"))
    table, problems = data.overrides_view(str(data.data_dir()), data.token("geocode_overrides", "geocode_overrides.csv"))
    if len(table):
        st.dataframe(table, hide_index=True, width="stretch", key="overrides_table")
    else:
        st.caption(t("no_overrides"))
    for problem in problems:
        st.warning(md(problem))
