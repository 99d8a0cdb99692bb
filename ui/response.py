"""The response circles in the planner view: the map layer (off by default) and the estates outside the target."""

from __future__ import annotations

import streamlit as st

from geo import io
from geo.errors import GeoError
from geo.maps.response_layer import response_layer
from geo.response import ResponseResult, response_times
from ui import data
from ui.i18n import lang, t


@st.cache_data(show_spinner=False, max_entries=8)
def _result(estates_path: str, estates_mtime: int, posts_path: str, posts_mtime: int, roads_path: str, roads_mtime: int,
            shift: str | None) -> tuple[ResponseResult | None, str]:
    """Response times of the data folder's estates from its posts along its roads (the mtimes key the cache)."""
    try:
        estates = data.load_estates(estates_path, estates_mtime)
        posts = io.read_posts(posts_path)
        return response_times(estates, posts, roads_path, shift=shift), ""
    except GeoError as exc:
        return None, str(exc)


def result(ctx, shift: str | None) -> ResponseResult | None:
    """The response circles for the current data and shift; None (with a note) when there are no posts or they cannot be read."""
    posts, roads = data.path_of("police_posts.geojson"), data.path_of("gazetteer.geojson")
    if not posts.exists() or not roads.exists():
        return None
    res, problem = _result(str(ctx.estates_path), ctx.estates_mtime, str(posts), data.mtime_ns(posts), str(roads), data.mtime_ns(roads), shift)
    if problem:
        st.warning(t("response_unavailable", problem=problem))
    return res


def layer(res: ResponseResult | None, estates, basemap: str):
    """The folium layer of the circles (in the basemap's datum), or None."""
    if res is None:
        return None
    return response_layer(res, estates, lang=lang(), datum="gcj02" if basemap == "amap" else "wgs84")


def outside_table(res: ResponseResult | None) -> None:
    """The estates outside the tier they should be in, slowest first."""
    if res is None:
        return
    out = res.outside()
    target = float(res.estates["target_min"].iloc[0]) if len(res.estates) else 0.0
    with st.expander(t("response_outside_title", n=len(out), target=f"{target:g}"), expanded=False):
        st.caption(t("response_caption"))
        if not len(out):
            st.success(t("response_all_within", target=f"{target:g}"))
            return
        rows = out.assign(
            time=[t("response_not_reached") if v != v else f"{v:.1f}" for v in out["time_min"]],
            tier=[t("response_tier_none") if v == "none" else t("response_tier", m=v) for v in out["tier"]],
        )
        view = rows[["estate_id", "name", "community", "time", "tier", "post_id", "post_name"]].rename(columns={
            "estate_id": t("col_id"), "name": t("col_name"), "community": t("col_community"), "time": t("response_col_time"),
            "tier": t("response_col_tier"), "post_id": t("response_col_post"), "post_name": t("response_col_post_name")})
        st.dataframe(view, hide_index=True, width="stretch", key="response_outside")
