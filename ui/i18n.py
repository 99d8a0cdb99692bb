"""The interface's language: Chinese first, English as a switch (the texts are in :mod:`ui.texts`)."""

from __future__ import annotations

import re

import streamlit as st

from geo.incidents.taxonomy import CATEGORY_ENGLISH, SOURCES
from geo.maps import labels
from ui import state
from ui.texts import TEXTS

LANGS = ("zh", "en")


def lang() -> str:
    """Return the current interface language (``zh`` by default)."""
    return st.session_state.get(state.LANG, "zh")


def t(key: str, **fmt) -> str:
    """Return the interface text ``key`` in the current language."""
    zh, en = TEXTS[key]
    text = zh if lang() == "zh" else en
    return text.format(**fmt) if fmt else text


def radius_text(radius_m: float | None) -> str:
    """A rule radius as text in the current language ("1公里" / "1 km", "500米" / "500 m"), as the map writes it."""
    zh, en = labels.radius_text(radius_m)
    return zh if lang() == "zh" else en


def colon() -> str:
    """The colon after a label: full-width in Chinese, ``": "`` in English."""
    return "：" if lang() == "zh" else ": "


def list_sep() -> str:
    """The separator of a list of names or ids: ``、`` in Chinese, ``", "`` in English."""
    return "、" if lang() == "zh" else ", "


def category_label(name: str) -> str:
    """An incident category (stored in Chinese, e.g. 盗窃) in the current language."""
    return str(name) if lang() == "zh" else CATEGORY_ENGLISH.get(str(name), str(name))


def source_label(code: str) -> str:
    """An incident source (``110``, ``criminal_case``, ``dispute_register``) in the current language."""
    both = re.fullmatch(r"(.*) \((.*)\)", SOURCES.get(str(code), ""))
    if both is None:
        return str(code)
    return both[1] if lang() == "zh" else both[2]


def status_label(status: str) -> str:
    """Return the label of a coverage status in the current language."""
    return t(status) if status in ("covered", "coverable", "gap") else str(status)
