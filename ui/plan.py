"""方案 / Plan, inside 路线调整: the optimal extension plan, shown on the map, accepted whole or team by team."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.coverage.rule import Rule
from geo.errors import GeoError
from geo.io import read_posts
from geo.optimise.plan import budget_curve, plan_extensions
from geo.routes import edits
from ui import data
from ui.context import Context
from ui.i18n import list_sep, t
from ui.tables import error_text

PLAN_ON = "plan_on"
PLAN_K = "plan_k"
PLAN_TEAMS = "plan_teams"


@st.cache_data(show_spinner=False, max_entries=8)
def compute_plan(estates_path: str, estates_mtime: int, routes_text: str, rule: Rule, k: int) -> tuple[gpd.GeoDataFrame, dict]:
    """The extension plan for the routes in ``routes_text`` (roads of the gazetteer, posts when present)."""
    est = data.load_estates(estates_path, estates_mtime)
    rts = data.routes_from_text(routes_text)
    roads = data.path_of("gazetteer.geojson")
    posts_path = data.path_of("police_posts.geojson")
    posts = read_posts(posts_path) if Path(posts_path).is_file() else None
    res = plan_extensions(est, rts, k=k, strict=rule.strict, shift=rule.shift, network=roads if Path(roads).is_file() else None,
                          posts=posts, radius_m=rule.radius_m, cover_m=rule.cover_m)
    p = res.plan
    info = {"added_m": p.added_m, "per_estate_m": res.per_estate_sum_m, "method": p.method, "optimal": bool(p.optimal),
            "gap": float(p.gap), "unmeetable": list(res.unmeetable), "notices": list(res.notices)}
    info["curve"] = budget_curve(res.model, full_m=p.added_m, time_limit_s=10) if p.added_m > 0 else pd.DataFrame()
    return res.features, info


def render(ctx: Context) -> tuple[str | None, list]:
    """Draw the plan section; return the draft text of the accepted detours (None when the plan is off) and their lines."""
    if not st.toggle(t("plan_toggle"), key=PLAN_ON, help=t("plan_help")):
        return None, []
    k = st.radio(t("plan_k"), (1, 2), horizontal=True, key=PLAN_K, format_func=lambda v: t(f"plan_k{v}"))
    try:
        with st.spinner(t("plan_running")):
            features, info = compute_plan(str(ctx.estates_path), ctx.estates_mtime, ctx.routes_text, ctx.filters.rule, int(k))
    except GeoError as exc:
        st.error(error_text(exc))
        return None, []
    if info["method"] == "greedy":
        solver = t("plan_greedy")
    elif info["optimal"]:
        solver = t("plan_optimal")
    else:
        solver = t("plan_gap", gap=f"{info['gap']:.2%}")
    if info["unmeetable"]:
        st.warning(t("plan_unmeetable", k=k, ids=list_sep().join(info["unmeetable"])))
    if not len(features):
        st.info(t("plan_none"))
        return None, []
    st.markdown(t("plan_summary", added=f"{info['added_m']:,.0f}", n=len(features), sum=f"{info['per_estate_m']:,.0f}", solver=solver))
    per_team = features.groupby(["team_id", "team"], sort=True).agg(n=("plan_id", "size"), cost=("cost_m", "sum")).reset_index()
    st.dataframe(pd.DataFrame({
        t("plan_col_team"): per_team["team"] + " (" + per_team["team_id"] + ")",
        t("plan_col_detours"): per_team["n"],
        t("plan_col_cost"): per_team["cost"].round(0).astype(int),
    }), hide_index=True, width="stretch", key="plan_teams_table")
    with st.expander(t("plan_details")):
        st.dataframe(pd.DataFrame({
            "ID": features["plan_id"], t("plan_col_team"): features["team"], t("plan_col_kind"): features["kind"].map(lambda x: t(f"plan_kind_{x}")),
            t("plan_col_cost"): features["cost_m"].round(0).astype(int), t("plan_col_estates"): features["estate_ids"],
            t("plan_col_measure"): features["measure"],
        }), hide_index=True, width="stretch", key="plan_detours_table")
        for notice in info["notices"]:
            st.caption(notice)
    curve = info["curve"]
    if len(curve):
        with st.expander(t("plan_curve")):
            st.caption(t("plan_curve_caption"))
            view = pd.DataFrame({t("plan_curve_metres"): curve["added_m"], t("plan_curve_estates"): curve["estates_met"]})
            st.line_chart(view, x=t("plan_curve_metres"), y=t("plan_curve_estates"))
            st.dataframe(pd.DataFrame({t("plan_curve_budget"): curve["budget_m"].round(0).astype(int), t("plan_curve_metres"): curve["added_m"],
                                       t("plan_curve_estates"): curve["estates_met"]}), hide_index=True, width="stretch", key="plan_curve_table")
    teams = list(dict.fromkeys(features["team_id"].astype(str)))
    names = dict(zip(features["team_id"].astype(str), features["team"].astype(str), strict=False))
    picked = st.multiselect(t("plan_accept"), teams, default=teams, key=PLAN_TEAMS, format_func=lambda i: f"{names.get(i, i)} ({i})")
    if not picked:
        st.warning(t("plan_pick_team"))
        return None, []
    try:
        draft = edits.plan_draft(ctx.routes, features, team_ids=picked)
        text = edits.routes_to_text(draft, metadata=edits.file_metadata(ctx.routes_text))
    except GeoError as exc:
        st.error(error_text(exc))
        return None, []
    lines = list(features.loc[features["team_id"].astype(str).isin(picked)].geometry.values)
    return text, lines
