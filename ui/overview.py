"""领导总览: coverage at a glance, the uncovered estates and the incident figures (synthetic)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from geo import report
from ui import data, downloads, event_study, maps, sidebar, state, tables
from ui import tracks as tracks_ui
from ui.context import Context
from ui.i18n import category_label, lang, list_sep, status_label, t

OVERVIEW_MAP_HEIGHT = 460


def render(ctx: Context) -> None:
    """Draw the leadership view."""
    st.header(t("view_overview"))
    shown = ctx.shown
    counts = {s: int((shown["status"] == s).sum()) for s in ("covered", "coverable", "gap")}
    n = len(shown)
    cols = st.columns(4)
    cols[0].metric(t("coverage_rate"), f"{(counts['covered'] / n * 100 if n else 0):.0f}%", help=t("coverage_rate_help", n=n))
    for col, s in zip(cols[1:], ("covered", "coverable", "gap"), strict=True):
        col.metric(status_label(s), counts[s])
    st.caption(t("rule_caption", radius=f"{ctx.filters.rule.radius_m:g}", cover=sidebar.cover_text(ctx.filters.rule.cover_m),
                 mode=t("mode_strict") if ctx.filters.rule.strict else t("mode_default"), shift=t(f"shift_{ctx.filters.rule.shift or 'any'}")))
    focus = _focus(counts)
    _map(ctx, shown if focus == "all" else shown[shown["status"] == focus])
    _both_readings(ctx, shown)
    downloads.briefing(ctx)

    summary = report.status_summary(shown)
    left, right = st.columns(2)
    with left:
        st.subheader(t("by_community"))
        if "community" in summary:
            st.dataframe(tables.summary_frame(summary["community"], t("community")), width="stretch")
    with right:
        st.subheader(t("by_batch"))
        if "batch_year" in summary:
            st.dataframe(tables.summary_frame(summary["batch_year"], t("batch")), width="stretch")

    st.subheader(t("uncovered_list"))
    unc = tables.uncovered_rows(shown if focus in ("all", "covered") else shown[shown["status"] == focus], ctx.cov.teams,
                                radius_m=ctx.filters.rule.radius_m)
    if len(unc):
        tables.show_wrapped(unc, wide=t("col_fix"), key="overview_uncovered")
    else:
        st.success(t("all_covered"))

    tracks_ui.plan_actual_section(ctx)
    _incidents(ctx)
    _ranking(ctx)
    downloads.render(ctx)


def _focus(counts: dict[str, int]) -> str:
    """The figure the leader picked ("6 应延伸覆盖"): the map and the uncovered table show only those estates."""
    options = ["all", "gap", "coverable", "covered"]
    total = sum(counts.values())
    labels = {"all": t("focus_all", n=total), **{s: f"{counts[s]} {status_label(s)}" for s in ("gap", "coverable", "covered")}}
    picked = st.pills(t("focus"), options, format_func=labels.get, key=state.OVERVIEW_FOCUS, default="all", selection_mode="single")
    return picked or "all"


def _map(ctx: Context, estates: pd.DataFrame) -> None:
    """The coverage map of the picked estates, at a height that keeps it above the fold at 1400×900."""
    key = maps.digest("overview", ctx.routes_text, ctx.estates_mtime, ctx.filters, tuple(estates["estate_id"]), lang())
    m = maps.coverage_map(ctx.cov, ctx.routes, estates, ctx.filters, routes_text=ctx.routes_text, view_key="overview")
    maps.show(m, key=f"overview_map_{key}", returned=[], height=OVERVIEW_MAP_HEIGHT)


def _both_readings(ctx: Context, shown: pd.DataFrame) -> None:
    """Counts of the shown estates under the default and the strict reading of 都应, side by side."""
    rule = ctx.filters.rule
    other = data.compute_coverage(str(ctx.estates_path), ctx.estates_mtime, ctx.routes_text, replace(rule, strict=not rule.strict))
    default, strict = (other.table, ctx.cov.table) if rule.strict else (ctx.cov.table, other.table)
    counts = report.status_counts_by_reading(default, strict, estate_ids=shown["estate_id"])
    st.subheader(t("both_readings"))
    st.dataframe(pd.DataFrame({t("col_status"): [status_label(s) for s in counts.index],
                               t("reading_default"): counts["default"].to_numpy(), t("reading_strict"): counts["strict"].to_numpy()}),
                 hide_index=True, width="content")
    st.caption(t("readings_caption"))


def _incidents(ctx: Context) -> None:
    st.subheader(t("incident_trend"))
    if ctx.incidents is None:
        st.info(t("no_incidents"))
        return
    if ctx.incidents.attrs.get("synthetic"):
        st.warning(t("synthetic_incidents"))
    trend = data.incident_trend(str(ctx.incidents_path), ctx.incidents_mtime)
    if len(trend):
        st.line_chart(trend.rename(columns=category_label), height=260, x_label=t("month"), y_label=t("incidents_per_month"))
    st.subheader(t("effect"))
    per_estate, per_batch = data.effect_tables(str(ctx.incidents_path), ctx.incidents_mtime, str(ctx.estates_path), ctx.estates_mtime)
    if len(per_batch):
        show = pd.DataFrame({
            t("batch"): per_batch["batch_year"].astype(str),
            t("col_estates_n"): per_batch["estates"],
            t("col_rate_before"): per_batch["rate_before"].map(tables.number_text),
            t("col_rate_after"): per_batch["rate_after"].map(tables.number_text),
            t("col_change"): per_batch["change_pct"].map(lambda v: tables.number_text(v, ".1f")),
            t("col_p"): per_batch["p_value"].map(tables.p_text),
            t("col_verdict"): per_batch.apply(tables.verdict_label, axis=1),
        })
        st.dataframe(show, hide_index=True, width="stretch")
        st.caption(t("effect_caption", start=per_estate.attrs.get("data_months", ("?", "?"))[0],
                     end=per_estate.attrs.get("data_months", ("?", "?"))[1], radius=f"{per_estate.attrs.get('radius_m', 0):g}"))
        did = data.did_batches(str(ctx.incidents_path), ctx.incidents_mtime, str(ctx.estates_path), ctx.estates_mtime)
        st.caption(t("did_caption", rows=("；" if lang() == "zh" else "; ").join(_did_rows(did))))
        event_study.render(ctx)
        with st.expander(t("effect_per_estate")):
            keep = ["estate_id", "name", "community", "batch_year", "n_before", "rate_before", "n_after", "rate_after", "change_pct", "verdict"]
            table = per_estate[[c for c in keep if c in per_estate.columns]].round(2)
            st.dataframe(table.assign(verdict=per_estate.loc[table.index].apply(tables.verdict_label, axis=1)), hide_index=True, width="stretch")


def _did_rows(did: pd.DataFrame) -> list[str]:
    """One short phrase per batch of the difference-in-differences (change and p, or why there is none)."""
    out = []
    for _, row in did.iterrows():
        batch = str(row["batch"])[:4]
        code = row["verdict_code"]
        if code == "too_short":
            out.append(t("did_too_short", batch=batch))
        elif code in ("no_control", "no_batch_year"):
            out.append(t("did_no_control", batch=batch))
        else:
            out.append(t("did_row", batch=batch, change=f"{row['change_pct']:+.0f}%", p=tables.p_text(row["q_value"])))
    return out


#: Components of the risk score: column of the ranking -> (Chinese, English) name, for the table and its caption.
_COMPONENTS = {"theft": ("盗窃", "theft"), "other_property": ("其他侵财", "other property crime"), "other_criminal": ("其他刑事", "other criminal"),
               "disputes": ("矛盾纠纷", "disputes"), "other_calls": ("其他110警情", "other 110 calls")}
_AGREEMENT = {"same": ("一致", "same batch"), "plan later": ("方案排得更晚", "plan is later"), "plan earlier": ("方案排得更早", "plan is earlier")}


def _ranking(ctx: Context) -> None:
    """The composite risk ranking beside the plan's own batches (P3 of the plan)."""
    if ctx.incidents is None:
        return
    st.subheader(t("risk"))
    ranking = data.risk_ranking(str(ctx.incidents_path), ctx.incidents_mtime, str(ctx.estates_path), ctx.estates_mtime)
    if not len(ranking):
        st.info(t("no_incidents"))
        return
    zh = lang() == "zh"
    show = pd.DataFrame({
        t("col_rank"): ranking["rank"],
        t("col_id"): ranking["estate_id"].astype(str),
        t("col_name"): ranking["name"].astype(str),
        t("col_community"): ranking["community"].astype(str),
        **{names[0 if zh else 1]: ranking[key].astype(int) for key, names in _COMPONENTS.items()},
        t("col_score"): ranking["score"].round(2),
        t("col_proposed"): ranking["proposed_year"],
        t("col_plan_year"): ranking["plan_year"],
        t("col_agreement"): ranking["agreement"].map(lambda a: _AGREEMENT.get(a, (a, a))[0 if zh else 1]),
    })
    st.dataframe(show, hide_index=True, width="stretch", key="overview_ranking")
    attrs = ranking.attrs
    weights = list_sep().join(f"{_COMPONENTS.get(k, (k, k))[0 if zh else 1]}={v:g}" for k, v in attrs.get("weights", {}).items())
    window = attrs.get("window", ("?", "?"))
    st.caption(t("risk_caption", start=window[0], end=window[1], radius=f"{attrs.get('radius_m', 0):g}", weights=weights,
                 same=int((ranking["agreement"] == "same").sum()), n=len(ranking)))
