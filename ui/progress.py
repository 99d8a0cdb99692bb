"""整治进度: the rectification over three years, the leading group's briefing, and recording surveys, measures and meetings."""

from __future__ import annotations

import datetime as dt
import io as _stdio

import pandas as pd
import streamlit as st

from geo import io, settings
from geo.errors import GeoError
from geo.rectification import repository
from geo.rectification.briefing import build_briefing, progress_map_png, write_docx, write_xlsx
from geo.rectification.progress import COLUMN_LABELS, PROGRESS_LABELS_ZH, TOTAL_LABELS
from geo.rectification.records import KINDS, MEASURE_STATUSES, VALUE_LABELS_ZH
from geo.rectification.validation import validate_rows
from ui import auth, data, state
from ui.context import Context
from ui.i18n import lang, t
from ui.tables import error_text

_STATE_EN = {"not_started": "Not started", "in_progress": "In progress", "overdue": "Overdue", "complete": "Complete"}
_VALUE_EN = {"planned": "planned", "in_progress": "in progress", "done": "done", "verified": "verified"}


def _label(value) -> str:
    if not isinstance(value, str):
        return value
    if lang() == "zh":
        return PROGRESS_LABELS_ZH.get(value) or VALUE_LABELS_ZH.get(value, value)
    return _STATE_EN.get(value) or _VALUE_EN.get(value) or value.replace("_", " ")


def _store():
    """The records' store of the app's data folder (``SHAHE_STORE`` when set), opened for this call."""
    return repository.open_records_store(data_dir=data.data_dir())


@st.cache_data(show_spinner=False, max_entries=8)
def _records(store_key: str, last_change: int) -> dict[str, pd.DataFrame]:
    return repository.load_all(store=_store())


def _load() -> dict[str, pd.DataFrame]:
    """The records, read again whenever anyone (in any session or on the command line) saved a change."""
    return _records(str(data.data_dir()), repository.last_change(store=_store()))


def render(ctx: Context) -> None:
    """Draw the progress view."""
    st.header(t("view_progress"))
    try:
        records = _load()
    except GeoError as exc:
        st.error(f"{t('load_error')} {error_text(exc)}")
        return
    estates = data.load_estates(str(ctx.estates_path), ctx.estates_mtime)
    as_of = st.date_input(t("as_of"), value=dt.date.today(), key=state.RECT_AS_OF)
    routes_synthetic = bool(ctx.routes["synthetic"].fillna(False).astype(bool).any()) if "synthetic" in ctx.routes else False
    b = build_briefing(estates, records, as_of=as_of, coverage=ctx.cov.table, routes_synthetic=routes_synthetic,
                       total_label=TOTAL_LABELS[0 if lang() == "zh" else 1])
    if any(records[k]["synthetic"].fillna(False).astype(bool).any() for k in records if len(records[k])):
        st.warning(t("rect_synthetic"))
    table = b.table
    cols = st.columns(4)
    for col, s in zip(cols, ("complete", "in_progress", "overdue", "not_started"), strict=True):
        col.metric(_label(s), int((table["state"] == s).sum()))
    total = b.by_batch.iloc[-1]
    cols = st.columns(4)
    cols[0].metric(t("measures_verified"), f"{int(total['measures_verified'])} / {int(total['measures'])}")
    cols[1].metric(t("measures_overdue"), int(total["measures_overdue"]))
    cols[2].metric(t("meetings_valid"), f"{int(total['meetings_valid'])} / {int(total['meetings'])}")
    cols[3].metric(t("meetings_invalid"), len(b.invalid_meetings))
    st.caption(t("progress_caption", n=settings.meeting_min_attendance))

    left, right = st.columns([3, 2])
    with left:
        st.image(_map_png(str(ctx.estates_path), ctx.estates_mtime, table, lang()), width="stretch")
    with right:
        st.subheader(t("by_batch"))
        st.dataframe(_frame(b.by_batch), hide_index=True, width="stretch")
        st.subheader(t("by_community"))
        st.dataframe(_frame(b.by_community), hide_index=True, width="stretch")

    st.subheader(t("overdue_items"))
    if len(b.overdue):
        st.dataframe(_frame(b.overdue), hide_index=True, width="stretch")
    else:
        st.success(t("none_overdue"))
    st.subheader(t("invalid_meetings", n=settings.meeting_min_attendance))
    st.dataframe(_frame(b.invalid_meetings), hide_index=True, width="stretch")
    st.subheader(t("per_estate_progress"))
    st.dataframe(_frame(table.drop(columns=["meeting_overdue"])), hide_index=True, width="stretch")

    _downloads(b, ctx, table)
    _editing(estates, records)


@st.cache_data(show_spinner=False)
def _map_png(estates_path: str, mtime: int, table: pd.DataFrame, language: str) -> bytes:
    estates = data.load_estates(estates_path, mtime)
    return progress_map_png(estates, table, data_dir=data.data_dir(), lang=language)


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_label)
    i = 0 if lang() == "zh" else 1
    return out.rename(columns={c: COLUMN_LABELS[c][i] for c in out.columns if c in COLUMN_LABELS})


def _downloads(b, ctx: Context, table: pd.DataFrame) -> None:
    st.subheader(t("briefing"))
    cols = st.columns(3)
    estates = data.load_estates(str(ctx.estates_path), ctx.estates_mtime)
    folder = data.data_dir()

    def docx() -> bytes:  # made only when the button is clicked
        return write_docx(b, None, map_png=progress_map_png(estates, table, data_dir=folder))

    def xlsx() -> bytes:
        return write_xlsx(b, None)

    stamp = b.as_of.strftime("%Y%m%d")
    cols[0].download_button(t("download_briefing_docx"), docx, file_name=f"整治简报_{stamp}.docx", key="dl_brief_docx",
                            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    cols[1].download_button(t("download_briefing_xlsx"), xlsx, file_name=f"整治简报_{stamp}.xlsx", key="dl_brief_xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    kind = cols[2].selectbox(t("template_kind"), list(KINDS), format_func=lambda k: KINDS[k].label_zh if lang() == "zh" else k,
                             key=state.RECT_TEMPLATE_KIND)
    headers = [f.header_zh for f in KINDS[kind].fields if f.name != "synthetic"]
    buf = _stdio.BytesIO()
    pd.DataFrame(columns=headers).to_excel(buf, index=False)
    cols[2].download_button(t("download_template"), buf.getvalue(), file_name=f"{KINDS[kind].label_zh}_模板.xlsx", key="dl_template")


def _editing(estates, records) -> None:
    st.subheader(t("rect_record"))
    if not auth.editor_gate("progress"):
        return
    _show_result()
    ids = estates["estate_id"].tolist()
    names = dict(zip(estates["estate_id"], estates["name"], strict=False))
    tab_meet, tab_survey, tab_measure, tab_status, tab_import = st.tabs(
        [t("tab_meeting"), t("tab_survey"), t("tab_measure"), t("tab_status"), t("tab_import")])
    with tab_meet, st.form("rect_meeting", clear_on_submit=False):
        row = {
            "estate_id": st.selectbox(t("estate"), ids, format_func=lambda e: f"{e} {names[e]}", key="rm_estate"),
            "date": st.date_input(t("date"), key="rm_date", min_value=dt.date(settings.plan_years[0], 1, 1)).isoformat(),
            "topic": st.text_input(t("topic"), key="rm_topic"),
            "attendance": st.number_input(t("attendance"), min_value=0, step=1, key="rm_att"),
            "minutes": st.text_area(t("minutes"), key="rm_minutes"),
            "author": st.text_input(t("rect_author"), key="rm_author"),
        }
        if st.form_submit_button(t("record")):
            _save("meetings", row, estates, records)
    with tab_survey, st.form("rect_survey", clear_on_submit=False):
        row = {"estate_id": st.selectbox(t("estate"), ids, format_func=lambda e: f"{e} {names[e]}", key="rs_estate"),
               "date": st.date_input(t("date"), key="rs_date").isoformat(), "surveyor": st.text_input(t("surveyor"), key="rs_who")}
        c = st.columns(3)
        row["access_control"] = c[0].selectbox(KINDS["surveys"].field("access_control").header_zh, ["none", "iron_gate", "smart"],
                                               format_func=_label, key="rs_access")
        for i, name in enumerate(("lighting_ok", "cameras_cover_gates", "fence_ok", "fire_lane_blocked", "fire_main_dry", "flue_blocked",
                                  "balconies_enclosed", "fire_inspected")):
            row[name] = c[(i + 1) % 3].checkbox(_field_label("surveys", name), key=f"rs_{name}")
        row["property_management"] = c[0].selectbox(_field_label("surveys", "property_management"), ["none", "fallback", "professional"],
                                                     format_func=_label, key="rs_pm")
        row["disputes_open"] = c[1].number_input(_field_label("surveys", "disputes_open"), min_value=0, step=1, key="rs_disp")
        row["problems"] = st.text_area(_field_label("surveys", "problems"), key="rs_problems")
        row["author"] = st.text_input(t("rect_author"), key="rs_author")
        if st.form_submit_button(t("record")):
            _save("surveys", row, estates, records)
    with tab_measure:
        _plan_from_survey(estates, records)
    with tab_measure, st.form("rect_measure", clear_on_submit=False):
        kinds = list(KINDS["measures"].field("kind").choices)
        row = {"estate_id": st.selectbox(t("estate"), ids, format_func=lambda e: f"{e} {names[e]}", key="rx_estate"),
               "kind": st.selectbox(_field_label("measures", "kind"), kinds, format_func=_label, key="rx_kind"),
               "description": st.text_input(_field_label("measures", "description"), key="rx_desc"),
               "responsible_unit": st.text_input(_field_label("measures", "responsible_unit"), key="rx_unit"),
               "access_level": st.selectbox(_field_label("measures", "access_level"), [None, "none", "iron_gate", "smart"],
                                            format_func=lambda v: "—" if v is None else _label(v), key="rx_level"),
               "closure_mode": st.selectbox(_field_label("measures", "closure_mode"), [None, "closed", "half_closed"],
                                            format_func=lambda v: "—" if v is None else _label(v), key="rx_mode"),
               "closure_hours": st.text_input(_field_label("measures", "closure_hours"), placeholder="22:00-06:00", key="rx_hours") or None,
               "author": st.text_input(t("rect_author"), key="rx_author")}
        if st.form_submit_button(t("record")):
            _save("measures", row, estates, records)
    with tab_status:
        _status_form(records)
    with tab_import:
        kind = st.selectbox(t("template_kind"), list(KINDS), format_func=lambda k: KINDS[k].label_zh if lang() == "zh" else k, key="ri_kind")
        up = st.file_uploader(t("import_file"), type=["csv", "xlsx"], key="ri_file")
        author = st.text_input(t("rect_author"), key="ri_author")
        if up is not None and st.button(t("import"), key="ri_go"):
            _import(kind, up, author, estates, records)


def _plan_from_survey(estates, records) -> None:
    """一区一策: draft one measure per finding of a survey, due at the end of the estate's batch window, and store them."""
    from geo.rectification.workflow import measures_from_survey

    surveys = records["surveys"]
    if not len(surveys):
        st.info(t("no_surveys"))
        return
    sid = st.selectbox(t("plan_from_survey"), surveys["survey_id"].tolist(), key="rp_survey")
    survey = surveys[surveys["survey_id"] == sid].iloc[0].to_dict()
    est = estates[estates["estate_id"] == survey["estate_id"]].iloc[0].to_dict()
    author = st.text_input(t("rect_author"), key="rp_author")
    drafted = measures_from_survey(survey, est, author=author)
    if not drafted:
        st.caption(t("no_findings"))
        return
    st.dataframe(_frame(pd.DataFrame(drafted)[["kind", "description", "responsible_unit", "due_date"]]), hide_index=True, width="stretch")
    if st.button(t("save_plan", n=len(drafted)), key="rp_save"):
        ok, rejects = validate_rows(KINDS["measures"], pd.DataFrame(drafted), estates, existing_ids=records["measures"]["measure_id"])
        if rejects:
            st.error("；".join(reason for _r, reason in rejects))
            return
        try:
            ids = repository.add_records("measures", ok, author=author, reason=f"plan from survey {sid}", store=_store())
        except GeoError as exc:
            st.error(error_text(exc))
            return
        _done("success", t("recorded", id=", ".join(ids)))


def _field_label(kind: str, name: str) -> str:
    f = KINDS[kind].field(name)
    return f.header_zh if lang() == "zh" else f.description or name


def _save(kind: str, row: dict, estates, records) -> None:
    existing = records[kind][KINDS[kind].id_field]
    ok, rejects = validate_rows(KINDS[kind], pd.DataFrame([row]), estates, existing_ids=existing)
    if rejects:
        st.error("；".join(reason for _r, reason in rejects))
        return
    try:
        ids = repository.add_records(kind, ok, author=row.get("author") or "", reason=f"{kind} recorded in the app", store=_store())
    except GeoError as exc:
        st.error(error_text(exc))
        return
    if kind == "meetings" and ok[0]["attendance"] < settings.meeting_min_attendance:
        _done("warning", t("meeting_below", id=ids[0], n=ok[0]["attendance"], min=settings.meeting_min_attendance))
    else:
        _done("success", t("recorded", id=ids[0]))


def _done(level: str, text: str) -> None:
    """Keep the message and run the page again, so every table and list already shows the saved record."""
    st.session_state[state.RECT_RESULT] = (level, text)
    st.rerun()


def _show_result() -> None:
    level, text = st.session_state.pop(state.RECT_RESULT, (None, None))
    if level == "warning":
        st.warning(text)
    elif level == "success":
        st.success(text)


def _status_form(records) -> None:
    ms = records["measures"]
    if not len(ms):
        st.info(t("no_measures"))
        return
    mid = st.selectbox(t("measure"), ms["measure_id"].tolist(), key="rt_measure")
    cur = ms[ms["measure_id"] == mid].iloc[0]
    st.caption(f"{cur['description']} · {_label(cur['status'])} · {cur['responsible_unit']} · {cur['due_date']}")
    new = st.selectbox(t("new_status"), MEASURE_STATUSES, index=MEASURE_STATUSES.index(cur["status"] or "planned"), format_func=_label,
                       key="rt_status")
    verified_by = st.text_input(t("verified_by"), key="rt_vby") if new == "verified" else None
    reason = st.text_input(t("rect_reason"), key="rt_reason")
    author = st.text_input(t("rect_author"), key="rt_author")
    evidence = st.file_uploader(t("evidence"), type=["jpg", "jpeg", "png", "pdf"], key="rt_evidence")
    if st.button(t("rect_save"), key="rt_save"):
        from geo.rectification.attachments import save_attachment

        changes = {"status": new}
        if reason:
            changes["status_note"] = reason
        if new == "verified":
            changes.update(verified_by=verified_by or None, verified_on=dt.date.today().isoformat())
        try:
            if evidence is not None:
                aid = save_attachment(evidence.name, evidence.getvalue(), data_dir=data.data_dir())
                old = [x for x in str(cur.get("evidence") or "").split(";") if x and x != "None"]
                changes["evidence"] = ";".join([*old, aid] if aid not in old else old)
            repository.change_measure(mid, changes, author=author, reason=reason or f"status {new}", base_version=int(cur["version"]), store=_store())
        except GeoError as exc:
            st.error(error_text(exc))
            return
            _done("success", t("recorded", id=mid))


def _import(kind: str, up, author: str, estates, records) -> None:

    try:
        table = io.read_table(up.getvalue(), name=up.name)
    except GeoError as exc:
        st.error(error_text(exc))
        return
    ok, rejects = validate_rows(KINDS[kind], table, estates, existing_ids=records[kind][KINDS[kind].id_field])
    if rejects:
        st.error(t("rejected_rows", n=len(rejects)))
        st.dataframe(pd.DataFrame(rejects, columns=[t("row"), t("rect_reason")]), hide_index=True, width="stretch")
        return
    try:
        repository.add_records(kind, ok, author=author, reason=f"{up.name}: import in the app", store=_store())
    except GeoError as exc:
        st.error(error_text(exc))
        return
    _done("success", t("imported", n=len(ok)))
