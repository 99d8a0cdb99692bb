"""The editor role: a password kept outside the repository.

The password comes from ``st.secrets["editor_password"]`` (``.streamlit/secrets.toml``,
ignored by git) or the environment variable ``SHAHE_EDITOR_PASSWORD``. Without
either, nobody can edit. Passwords are compared in constant time.

Wrong passwords are slowed down: after :data:`SESSION_FREE_TRIES` wrong tries in
one browser session, or :data:`PROCESS_FREE_TRIES` in the whole app (a new
session does not start afresh), every further try must wait, twice as long
after each failure, up to :data:`MAX_WAIT_S` seconds; a try during the wait is
not checked at all.
"""

from __future__ import annotations

import hmac
import math
import os
import threading
import time
from dataclasses import dataclass

import streamlit as st

from ui import state
from ui.i18n import t

ENV_VAR = "SHAHE_EDITOR_PASSWORD"
SECRET_KEY = "editor_password"


#: Wrong tries in one session before the waits begin.
SESSION_FREE_TRIES = 3
#: Wrong tries in the whole app process (every session) before the waits begin.
PROCESS_FREE_TRIES = 10
#: First wait in seconds; it doubles with each further wrong try.
FIRST_WAIT_S = 2.0
#: Longest wait in seconds.
MAX_WAIT_S = 60.0


@dataclass
class Throttle:
    """Counts wrong passwords and says how long the next try must wait.

    Parameters
    ----------
    free_tries
        Wrong tries allowed before any wait.
    """

    free_tries: int
    failures: int = 0
    blocked_until: float = 0.0

    def wait_s(self, now: float) -> float:
        """Seconds before the next try is checked (0: now)."""
        return max(0.0, self.blocked_until - now)

    def failed(self, now: float) -> None:
        """Record a wrong password at ``now`` (monotonic seconds)."""
        self.failures += 1
        if self.failures >= self.free_tries:
            self.blocked_until = now + min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (self.failures - self.free_tries))

    def succeeded(self) -> None:
        """Forget the wrong tries."""
        self.failures, self.blocked_until = 0, 0.0


_PROCESS = Throttle(PROCESS_FREE_TRIES)
_PROCESS_LOCK = threading.Lock()


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
    st.session_state[state.EDITOR_PASSWORD] = ""
    session = st.session_state.setdefault(state.EDITOR_THROTTLE, Throttle(SESSION_FREE_TRIES))
    now = time.monotonic()
    with _PROCESS_LOCK:
        wait = max(session.wait_s(now), _PROCESS.wait_s(now))
        if wait > 0:  # not checked at all: guessing during the wait gains nothing
            st.session_state[state.EDITOR_OK] = False
            st.session_state[state.EDITOR_LOGIN_ERROR] = False
            st.session_state[state.EDITOR_LOGIN_WAIT] = math.ceil(wait)
            return
        ok = check_password(given, configured_password())
        for throttle in (session, _PROCESS):
            if ok:
                throttle.succeeded()
            else:
                throttle.failed(now)
    st.session_state[state.EDITOR_OK] = ok
    st.session_state[state.EDITOR_LOGIN_ERROR] = not ok
    st.session_state[state.EDITOR_LOGIN_WAIT] = 0


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
        The view: ``"edit"``, ``"register"`` or ``"progress"``; it names what
        the editor role allows there and keys the form, so the form can appear
        in more than one view.
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
    st.info(t("editor_locked", what=t(f"editor_what_{where}")))
    with st.form(f"login_{where}", clear_on_submit=False, border=True):
        st.text_input(t("editor_password"), type="password", key=state.EDITOR_PASSWORD)
        st.form_submit_button(t("editor_login"), on_click=_login)
    if st.session_state.get(state.EDITOR_LOGIN_WAIT):
        st.error(t("login_wait", s=st.session_state[state.EDITOR_LOGIN_WAIT]))
    elif st.session_state.get(state.EDITOR_LOGIN_ERROR):
        st.error(t("wrong_password"))
    return False
