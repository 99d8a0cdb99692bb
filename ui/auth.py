"""The editor role: a password kept outside the repository.

The password comes from ``st.secrets["editor_password"]`` (``.streamlit/secrets.toml``,
ignored by git) or the environment variable ``SHAHE_EDITOR_PASSWORD``. Without
either, nobody can edit. Passwords are compared in constant time.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

from ui import state
from ui.i18n import t

ENV_VAR = "SHAHE_EDITOR_PASSWORD"
SECRET_KEY = "editor_password"


def configured_password() -> str | None:
    """The editor password, or None when none is configured (read at every call)."""
    try:
        value = st.secrets.get(SECRET_KEY)
    except (FileNotFoundError, KeyError, ValueError):  # no secrets file (StreamlitSecretNotFoundError is a FileNotFoundError)
        value = None
    if not value:
        value = os.environ.get(ENV_VAR) or None
    return str(value) if value else None


def check_password(given: str, expected: str | None) -> bool:
    """True when ``given`` equals ``expected`` (constant-time); always False without an expected password."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(str(given).encode("utf-8"), str(expected).encode("utf-8"))


def _login() -> None:
    given = st.session_state.get(state.EDITOR_PASSWORD, "")
    ok = check_password(given, configured_password())
    st.session_state[state.EDITOR_OK] = ok
    st.session_state[state.EDITOR_LOGIN_ERROR] = not ok
    st.session_state[state.EDITOR_PASSWORD] = ""


def _logout() -> None:
    st.session_state[state.EDITOR_OK] = False


def is_editor() -> bool:
    """True when this session has logged in and a password is still configured."""
    return bool(st.session_state.get(state.EDITOR_OK)) and configured_password() is not None


def editor_gate(where: str) -> bool:
    """Show the login (or why editing is off) and return whether this session may edit.

    Parameters
    ----------
    where
        Key suffix, so the form can appear in more than one view.
    """
    if configured_password() is None:
        st.session_state[state.EDITOR_OK] = False
        st.warning(t("editor_unset"))
        return False
    if is_editor():
        cols = st.columns([4, 1])
        cols[0].success(t("editor_in"))
        cols[1].button(t("editor_logout"), on_click=_logout, key=f"logout_{where}")
        return True
    st.info(t("editor_locked"))
    with st.form(f"login_{where}", clear_on_submit=False, border=True):
        st.text_input(t("editor_password"), type="password", key=state.EDITOR_PASSWORD)
        st.form_submit_button(t("editor_login"), on_click=_login)
    if st.session_state.get(state.EDITOR_LOGIN_ERROR):
        st.error(t("wrong_password"))
    return False
