"""路线调整: draw, upload or paste a route, give it to a team, preview the change, save with who and why."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import shapely
import streamlit as st

from geo import settings
from geo.errors import ConflictError, GeoError
from geo.routes import edits, phrases
from geo.routes.shared import open_route_store
from geo.schemas import ORG_TYPES, SHIFTS
from ui import auth, data, maps, route_vertices, search, state, tables
from ui import plan as plan_view
from ui.context import Context
from ui.i18n import lang, list_sep, status_label, t
from ui.tables import error_text, md

DATUMS = ("wgs84", "gcj02", "bd09")

#: Engine phrases of refused route input -> the interface text that says the same in one sentence.
_INPUT_PROBLEMS = (
    ("needs at least two different points", "bad_line_points"),
    ("give every part at least two points", "bad_line_points"),
    ("the line has zero length", "bad_line_points"),
    ("is not a route", "bad_line_kind"),
    ("this file takes LineString", "bad_line_kind"),
    ("not valid JSON", "bad_json"),
    ("has no track", "bad_gpx_waypoints"),
    ("not a readable GPX", "bad_gpx"),
    ("unknown file type", "bad_file_type"),
    ("a route input may have", "bad_too_big"),
    ("it looks like metres", "bad_line_metres"),
    ("look swapped", "bad_line_swapped"),
    ("far from Shahe", "bad_line_far"),
    ("lies outside China", "bad_line_far"),
)


def _error(exc: GeoError) -> None:
    """Refused input: one sentence in the interface language (the engine's English detail only in English mode)."""
    text = str(exc) + " " + " ".join(getattr(exc, "problems", None) or [])
    key = next((k for phrase, k in _INPUT_PROBLEMS if phrase in text), None)
    if key is None:
        st.error(error_text(exc))
    else:
        limits = {"cap": f"{settings.route_max_input_bytes / 1e6:g}", "km": f"{settings.route_max_offset_m / 1000:g}"}
        st.error(t(key, **limits) if lang() == "zh" else f"{t(key, **limits)}\n\n{error_text(exc)}")


def _store_error(exc: GeoError) -> str:
    """Text of a refused save or restore: a clear "reload" message when the file changed meanwhile."""
    if isinstance(exc, ConflictError):
        return f"{t('save_conflict')}\n\n{error_text(exc)}"
    return error_text(exc)


def _expected(sha256: str) -> str | None:
    """The ``expected_sha256`` of a save: the hash the draft started from (None when there was no file)."""
    return sha256 or None


def _lines(ctx: Context) -> tuple[list, bool]:
    """Lines from the map's drawing tool, an uploaded file and the text area; and whether any input was refused."""
    gen = st.session_state.get(state.DRAW_GEN, 0)
    datum = st.radio(t("datum"), DATUMS, horizontal=True, key=state.DRAFT_DATUM, format_func=lambda d: t(f"datum_{d}"),
                     help=t("datum_help"))
    tab_draw, tab_upload, tab_paste = st.tabs([t("tab_draw"), t("tab_upload"), t("tab_paste")])
    lines, refused = [], False
    with tab_draw:
        st.caption(t("draw_caption"))
        c1, c2 = st.columns([2, 1])
        with c1:
            found = search.estate_search(ctx.cov.table, key=state.SEARCH_EDITOR)
        with c2:
            snap = route_vertices.snap_box("draw")
        found_layers, found_controls = search.found_on_map(ctx.cov.table, found, ctx.filters.basemap)
        key = maps.digest("editor", ctx.routes_text, ctx.estates_mtime, ctx.filters, gen, found)
        m = maps.coverage_map(ctx.cov, ctx.routes, ctx.cov.table, ctx.filters, routes_text=ctx.routes_text, draw=True,
                              extra_layers=found_layers, controls=found_controls, view_key="editor")
        out = maps.show(m, key=f"editor_map_{key}", returned=["all_drawings"])
        drawn = out.get("all_drawings") or []
        if drawn:
            try:  # drawn on the map: in the map's datum (GCJ-02 on the AMap basemap)
                drawn_lines = edits.lines_from_geojson(drawn, datum="gcj02" if ctx.filters.basemap == "amap" else "wgs84", source=t("tab_draw"))
                edits.check_lines_near(drawn_lines, ctx.cov.table, source=t("tab_draw"))
                lines += route_vertices.snap_lines(drawn_lines) if snap else drawn_lines
            except GeoError as exc:
                _error(exc)
                refused = True
    with tab_upload:
        up = st.file_uploader(t("upload"), type=["geojson", "json", "gpx"], key=f"{state.DRAFT_UPLOAD}_{gen}")
        if up is not None:
            try:
                if up.size > settings.route_max_input_bytes:  # before reading it: Streamlit admits up to server.maxUploadSize
                    edits.check_input_size(up.size, up.name)
                got = edits.lines_from_upload(up.name, up.getvalue(), datum=datum)
                edits.check_lines_near(got, ctx.cov.table, source=up.name)
                lines += got
            except GeoError as exc:
                _error(exc)
                refused = True
    with tab_paste:
        text = st.text_area(t("paste"), key=state.DRAFT_TEXT, height=140, placeholder='{"type": "LineString", "coordinates": [[108.37, 30.84], [108.372, 30.841]]}')
        if text.strip():
            try:
                got = edits.lines_from_geojson(text, datum=datum, source=t("tab_paste"))
                edits.check_lines_near(got, ctx.cov.table, source=t("tab_paste"))
                lines += got
            except GeoError as exc:
                _error(exc)
                refused = True
    if lines:
        st.success(t("lines_found", n=len(lines)))
    return lines, refused


def _team(ctx: Context, needed: bool) -> tuple[edits.Team | None, bool]:
    """The team the new lines go to, and whether it is usable."""
    st.subheader(t("team_pick"))
    teams = ctx.routes.drop_duplicates("team_id")
    mode = st.radio(t("team_mode"), ("existing", "new"), horizontal=True, key=state.TEAM_MODE, format_func=lambda m: t(f"team_{m}"))
    if mode == "existing":
        ids = list(teams["team_id"].astype(str))
        label = dict(zip(ids, teams["team"].astype(str), strict=True))
        tid = st.selectbox(t("team_pick"), ids, key=state.TEAM_EXISTING, format_func=lambda i: f"{label.get(i, i)} ({i})")
        if tid is None:
            return None, not needed
        shifts = edits.team_shifts(ctx.routes, tid)
        # The shift belongs to each route: the team's own when it has one, else the user picks (no silent default).
        shift = st.selectbox(t("new_route_shift"), SHIFTS, index=SHIFTS.index(shifts[0]) if len(shifts) == 1 else None,
                             key=f"{state.TEAM_SHIFT}_{tid}", format_func=tables.shift_label, placeholder=t("pick_shift"),
                             help=t("new_route_shift_help", shifts=list_sep().join(tables.shift_label(x) for x in shifts)))
        if shift is None:
            if needed:
                st.warning(t("pick_shift_needed"))
            return None, not needed
        return edits.existing_team(ctx.routes, tid, shift=shift), True
    c1, c2 = st.columns(2)
    tid = c1.text_input(t("new_team_id"), key=state.NEW_TEAM_ID, placeholder="PS-SMB-2")
    name = c2.text_input(t("new_team_name"), key=state.NEW_TEAM_NAME)
    c3, c4 = st.columns(2)
    org = c3.selectbox(t("col_org"), ORG_TYPES, key=state.NEW_TEAM_ORG, format_func=tables.org_label)
    shift = c4.selectbox(t("col_shift"), SHIFTS, key=state.NEW_TEAM_SHIFT, format_func=tables.shift_label)
    team = edits.Team(tid.strip(), name.strip(), org, shift)
    problems = edits.check_new_team(team, ctx.routes) if needed else []
    if problems:
        st.warning("\n".join(f"- {md(p)}" for p in problems))
        return team, False
    return team, True


def _keep_author() -> None:
    st.session_state[state.AUTHOR_KEEP] = st.session_state.get(state.AUTHOR, "")


def _save(draft_text: str, routes_path: str, base_sha256: str = "") -> None:
    """Save the draft (button callback: runs before the next script run).

    ``base_sha256`` is the hash of the routes file the draft was built from:
    the store refuses the save when the file changed since.
    """
    author = st.session_state.get(state.AUTHOR, "")
    reason = st.session_state.get(state.REASON, "")
    if not auth.is_editor():
        st.session_state[state.SAVE_RESULT] = ("error", t("editor_required"))
        return
    if not str(author).strip() or not str(reason).strip():  # checked here: the text typed last is committed only with the click
        st.session_state[state.SAVE_RESULT] = ("error", t("save_needs"))
        return
    try:
        routes = data.routes_from_text(draft_text, Path(routes_path).name)
        version = open_route_store(routes_path).save(routes, author=author, reason=reason, expected_sha256=_expected(base_sha256))
    except GeoError as exc:
        st.session_state[state.SAVE_RESULT] = ("error", _store_error(exc))
        return
    st.session_state[state.SAVE_RESULT] = ("success", t("saved", n=version.number))
    st.session_state[state.DRAW_GEN] = st.session_state.get(state.DRAW_GEN, 0) + 1
    st.session_state[state.DRAFT_TEXT] = ""
    st.session_state[state.REASON] = ""
    st.session_state[state.REMOVE_ROUTES] = []


def _restore(number: int, routes_path: str, base_sha256: str = "") -> None:
    """Restore a version (button callback), refused when the routes file changed since ``base_sha256`` was taken."""
    author = st.session_state.get(state.AUTHOR, "")
    if not auth.is_editor():
        st.session_state[state.SAVE_RESULT] = ("error", t("editor_required"))
        return
    if not str(author).strip():
        st.session_state[state.SAVE_RESULT] = ("error", t("restore_needs"))
        return
    try:
        version = open_route_store(routes_path).restore(int(number), author=author, reason=phrases.restore_reason(int(number), lang()),
                                                  expected_sha256=_expected(base_sha256))
    except GeoError as exc:
        st.session_state[state.SAVE_RESULT] = ("error", _store_error(exc))
        return
    st.session_state[state.SAVE_RESULT] = ("success", t("restored", n=number, v=version.number))
    st.session_state[state.DRAW_GEN] = st.session_state.get(state.DRAW_GEN, 0) + 1


def render(ctx: Context) -> None:
    """Draw the editor view."""
    st.header(t("view_edit"))
    editor = auth.editor_gate("edit")
    result = st.session_state.pop(state.SAVE_RESULT, None)
    if result:
        (st.success if result[0] == "success" else st.error)(result[1])
    plan_text, plan_lines = plan_view.render(ctx)
    draft_text = None
    if plan_text is not None:
        draft_text = plan_text
        _preview(ctx, draft_text, plan_lines)
        lines, remove, refused, team_ok = [], [], True, False
    elif st.toggle(t("vertex_mode"), key=state.VERTEX_MODE, help=t("vertex_mode_help")):
        draft_text, vertex_lines = route_vertices.render(ctx)
        if draft_text is not None:
            _preview(ctx, draft_text, vertex_lines)
        lines, remove, refused, team_ok = [], [], True, False
    else:
        st.markdown(t("draw_hint"))
        lines, refused = _lines(ctx)
        team, team_ok = _team(ctx, needed=bool(lines))
        c1, c2 = st.columns(2)
        replace = c1.radio(t("route_mode"), ("add", "replace"), horizontal=True, key=state.ROUTE_MODE,
                           format_func=lambda m: t(f"route_{m}")) == "replace"
        remove = c2.multiselect(t("remove_routes"), list(ctx.routes["route_id"].astype(str)), key=state.REMOVE_ROUTES, placeholder=t("none"))

    if (lines or remove) and team_ok and not refused:
        try:
            draft = edits.make_draft(ctx.routes, lines, team if lines else None, replace=replace, remove_route_ids=remove)
            draft_text = edits.routes_to_text(draft, metadata=edits.file_metadata(ctx.routes_text))
            _preview(ctx, draft_text, lines)
        except GeoError as exc:
            _error(exc)
            draft_text = None

    st.subheader(t("save"))
    c1, c2 = st.columns([1, 2])
    if state.AUTHOR not in st.session_state and st.session_state.get(state.AUTHOR_KEEP):
        st.session_state[state.AUTHOR] = st.session_state[state.AUTHOR_KEEP]  # widget values are dropped when the view changes
    c1.text_input(t("author"), key=state.AUTHOR, disabled=not editor, on_change=_keep_author)
    c2.text_input(t("reason"), key=state.REASON, disabled=not editor)
    if editor:
        # Enabled as soon as there is a draft: a button disabled until the reason is committed would swallow the
        # click that commits it (the text field commits on blur, i.e. on that very click). _save checks the fields.
        st.button(t("save"), type="primary", disabled=draft_text is None, on_click=_save,
                  args=(draft_text or "", str(ctx.routes_path), ctx.routes_sha256), key="save_routes")
        if draft_text is not None:
            st.caption(t("save_needs"))
    else:
        st.caption(t("read_only"))
    _history(ctx, editor)


def _preview(ctx: Context, draft_text: str, lines: list) -> None:
    st.subheader(t("preview"))
    after = data.compute_coverage(str(ctx.estates_path), ctx.estates_mtime, draft_text, ctx.filters.rule)
    before_counts = edits.status_counts(ctx.cov.table)
    after_counts = edits.status_counts(after.table)
    cols = st.columns(3)
    for col, s in zip(cols, ("covered", "coverable", "gap"), strict=True):
        col.metric(status_label(s), after_counts[s], delta=after_counts[s] - before_counts[s], delta_color="normal" if s == "covered" else "inverse")
    changes = edits.status_changes(ctx.cov.table, after.table)
    if len(changes):
        st.markdown(f"**{t('changed')}**")
        st.dataframe(pd.DataFrame({
            t("col_id"): changes["estate_id"], t("col_name"): changes["name"], t("col_community"): changes["community"],
            t("col_before"): changes["before"].map(status_label), t("col_after"): changes["after"].map(status_label),
        }), hide_index=True, width="stretch", key="preview_changes")
    else:
        st.info(t("no_change"))
    if st.toggle(t("preview_map"), key=state.PREVIEW_MAP):  # a map in a closed expander would load hidden
        routes_after = data.routes_from_text(draft_text)
        n_vertices = int(shapely.get_num_coordinates(routes_after.geometry.values).sum())
        if n_vertices > settings.preview_max_vertices:  # the budget of a preview: refused before any work
            st.warning(t("preview_too_big", n=f"{n_vertices:,}", cap=f"{settings.preview_max_vertices:,}"))
            return
        key = maps.digest("preview", draft_text, ctx.estates_mtime, ctx.filters)
        started = time.monotonic()
        m = maps.coverage_map(after, routes_after, after.table, ctx.filters, routes_text=draft_text, extra_lines=lines)
        maps.show(m, key=f"preview_map_{key}", returned=[])
        elapsed_s = time.monotonic() - started
        if elapsed_s > settings.preview_budget_s:
            st.caption(t("preview_slow", s=f"{elapsed_s:.0f}"))


def _history(ctx: Context, editor: bool) -> None:
    st.subheader(t("history"))
    store = open_route_store(ctx.routes_path)
    try:
        versions = store.versions()
    except GeoError as exc:
        _error(exc)
        return
    problems = data.store_problems(str(ctx.routes_path), data.mtime_ns(store.log_path))
    for p in problems:
        st.warning(md(p))
    if not versions:
        st.caption(t("no_versions"))
        return
    st.dataframe(pd.DataFrame({
        t("col_version"): [v.number for v in versions],
        t("col_saved_at"): [tables.time_text(v.saved_at) for v in versions],
        t("author"): [tables.history_text(v.author) for v in versions],
        t("reason"): [tables.history_text(v.reason) for v in versions],
        t("col_routes_n"): [v.n_routes for v in versions],
        t("col_restored_from"): [v.restored_from if v.restored_from is not None else "" for v in versions],
    }).iloc[::-1], hide_index=True, width="stretch", key="history_table")
    if editor:
        c1, c2 = st.columns([1, 2])
        number = c1.selectbox(t("restore_pick"), [v.number for v in versions][::-1], key=state.RESTORE_VERSION)
        c2.button(t("restore"), on_click=_restore, args=(number, str(ctx.routes_path), ctx.routes_sha256), key="restore_button")
        c2.caption(t("restore_needs"))
    _audit_trail(store)


def _audit_trail(route_store) -> None:
    """The store's audit trail (every change of every layer and record), filterable by estate, team, record or person."""
    from geo.routes.shared import StoreRoutes

    if not isinstance(route_store, StoreRoutes):
        return
    with st.expander(t("audit_title")):
        try:
            log = route_store.store.log(limit=2000)
        except GeoError as exc:
            _error(exc)
            return
        st.caption(t("audit_where", url=route_store.store.url))
        query = st.text_input(t("audit_filter"), key="audit_filter").strip()
        if query:
            text = log[["table_name", "record_key", "author", "reason", "after"]].fillna("").astype(str)
            log = log[text.apply(lambda col: col.str.contains(query, regex=False)).any(axis=1)]
        st.dataframe(pd.DataFrame({
            t("col_saved_at"): log["at"], t("author"): log["author"], t("audit_action"): log["action"],
            t("audit_table"): log["table_name"], t("audit_record"): log["record_key"].fillna(""),
            t("col_version"): log["version"], t("reason"): log["reason"],
        }), hide_index=True, width="stretch", key="audit_table")
