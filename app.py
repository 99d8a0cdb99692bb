"""Streamlit app: 沙河街道老旧小区巡防覆盖 (Shahe patrol coverage).

Run with ``./run app``. The views live in ``ui/``, the engine in ``geo/``.
"""

import streamlit as st

from geo._arrow_pool import use_jemalloc
from geo.errors import GeoError
from ui import context, editor, overview, planner, progress, register, sidebar, state
from ui.i18n import LANGS, t
from ui.tables import error_text

use_jemalloc()  # Arrow's allocator, as on the command line (geo._arrow_pool)
st.set_page_config(page_title="沙河街道老旧小区巡防覆盖", page_icon="🗺️", layout="wide", initial_sidebar_state="expanded")

VIEWS = {
    "overview": overview.render,
    "progress": progress.render,
    "map": planner.render,
    "edit": editor.render,
    "register": register.render,
}


def _relabel() -> None:
    """Set translated widgets' values again so the browser matches them to the new labels."""
    for key in state.TRANSLATED:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


st.sidebar.segmented_control(t("lang"), LANGS, key=state.LANG, default="zh", format_func=lambda x: {"zh": "中文", "en": "English"}[x],
                             required=True, on_change=_relabel)
view = st.sidebar.radio(t("view"), list(VIEWS), key=state.VIEW, format_func=lambda v: t(f"view_{v}"))

st.title(t("title"))
st.caption(t("demo_banner"))

try:
    estates_path, estates_mtime, estates, routes_path, routes_text, routes_sha256 = context.base_inputs()
except GeoError as exc:
    st.error(f"{t('load_error')} {error_text(exc)}")
    st.stop()

filters = sidebar.render(estates)
try:
    ctx = context.build(filters, estates_path, estates_mtime, routes_path, routes_text, routes_sha256)
except GeoError as exc:
    st.error(f"{t('load_error')} {error_text(exc)}")
    st.stop()

VIEWS[view](ctx)
