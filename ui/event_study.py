"""The overview's event-study chart of the staggered difference-in-differences (synthetic incidents).

For each batch whose window has a not-yet-rectified comparison after it, the chart shows the
treated estates' incidents per month over what the controls' course predicts
(:func:`geo.incidents.did.event_study`), by month relative to the window start, with the exact
Poisson band, the window shaded, and the method and caveat line beside it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui import data
from ui.context import Context
from ui.i18n import t

#: Chart height in pixels.
CHART_HEIGHT = 260


@st.cache_data(show_spinner=False, max_entries=8)
def event_study_frame(path: str, mtime: int, estates_path: str, estates_mtime: int) -> pd.DataFrame:
    """Event study of every window (:func:`geo.incidents.did.event_study`) on the store's incidents."""
    from geo.incidents.did import event_study

    inc = data.load_incidents(path, mtime)
    est = data.load_estates(estates_path, estates_mtime)
    if inc is None or len(inc) == 0:
        return pd.DataFrame()
    return event_study(inc, est)


def chartable_windows(es: pd.DataFrame, min_months_after: int | None = None) -> list[str]:
    """Windows with enough months after them that have a comparison (a finite ratio).

    As many as the difference-in-differences needs for a verdict (:data:`geo.settings.effect_min_months_after`).
    """
    from geo import settings

    if not len(es):
        return []
    need = settings.effect_min_months_after if min_months_after is None else int(min_months_after)
    after = es[(es["phase"] == "after") & es["ratio"].notna()].groupby("window").size()
    return sorted(after.index[after >= need])


def chart(es: pd.DataFrame, window: str) -> alt.LayerChart:
    """Ratio to expectation by relative month with its band, the window shaded and the no-change line at 1."""
    part = es[(es["window"] == window) & es["ratio"].notna()]
    x = alt.X("rel_month:Q", title=t("es_x"))
    band = alt.Chart(part).mark_area(opacity=0.25, color="#1f77b4").encode(x=x, y=alt.Y("ratio_low:Q", title=t("es_y_axis").split("\n")), y2="ratio_high:Q")
    line = alt.Chart(part).mark_line(point=True, color="#1f77b4").encode(
        x=x, y="ratio:Q",
        tooltip=[alt.Tooltip("month:N", title=t("month")), alt.Tooltip("n_treated:Q", title=t("es_observed")),
                 alt.Tooltip("expected:Q", title=t("es_expected"), format=".1f"), alt.Tooltip("ratio:Q", title=t("es_y"), format=".2f")],
    )
    inside = part[part["phase"] == "window"]
    span = pd.DataFrame({"lo": [inside["rel_month"].min() - 0.5], "hi": [inside["rel_month"].max() + 0.5]}) if len(inside) else pd.DataFrame({"lo": [-0.5], "hi": [-0.5]})
    shade = alt.Chart(span).mark_rect(opacity=0.12, color="#888888").encode(x="lo:Q", x2="hi:Q")
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 4], color="#555555").encode(y="y:Q")
    return alt.layer(shade, band, line, one).properties(height=CHART_HEIGHT)


def render(ctx: Context) -> None:
    """Draw the event study under the overview's effect figures."""
    st.markdown(f"**{t('es_title')}**")
    es = event_study_frame(str(ctx.incidents_path), ctx.incidents_mtime, str(ctx.estates_path), ctx.estates_mtime)
    windows = chartable_windows(es)
    if not windows:
        st.info(t("es_none"))
        return
    for window in windows:
        left, right = st.columns([3, 2])
        with left:
            st.altair_chart(chart(es, window), width="stretch", key=f"event_study_{window}")
        with right:
            level = f"{es.attrs.get('level', 0.95) * 100:.0f}"
            st.caption(t("es_caption", window=window, level=level))
