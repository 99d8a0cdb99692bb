"""The route history as people read it: the store's own phrases in Chinese or English, times as local minutes.

The history records a few phrases of its own ("(as found)", "restore version 3").
A restore records its default reason in the language asked (``zh`` or ``en``,
:data:`geo.settings.lang`); the others stay as the store wrote them and are
translated when shown, by the app and by ``python -m geo routes history``.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["HISTORY_PHRASES", "history_text", "local_time_text", "restore_reason"]

#: What the route store writes -> (Chinese, English) as shown.
HISTORY_PHRASES: dict[str, tuple[str, str]] = {
    "(as found)": ("（原有文件）", "(file as found)"),
    "(edited by hand)": ("（手工修改的文件）", "(file edited by hand)"),
    "the routes file before the first save": ("首次保存前的路线文件", "the routes file before the first save"),
    "the routes file as found, edited outside the app; kept before the next change": (
        "在本工具之外修改过的路线文件，在下次修改前留存", "the routes file as found, edited outside the app; kept before the next change"),
}

_RESTORE = re.compile(r"^(?:restore version (\d+)|恢复到第 ?(\d+) ?版)$")

#: Time zone of the subdistrict (China Standard Time, no daylight saving).
LOCAL_TZ = "Asia/Shanghai"


def restore_reason(number: int, lang: str = "zh") -> str:
    """The reason a restore records when none is given: ``恢复到第 3 版`` or ``restore version 3``."""
    return f"restore version {number}" if lang == "en" else f"恢复到第 {number} 版"


def history_text(value, lang: str = "zh") -> str:
    """An author or reason of the route history in ``lang``: the store's own phrases translated, a person's words as written."""
    text = "" if value is None else str(value)
    if text in HISTORY_PHRASES:
        return HISTORY_PHRASES[text][lang == "en"]
    hit = _RESTORE.match(text.strip())
    if hit:
        return restore_reason(int(hit.group(1) or hit.group(2)), lang)
    return text


def local_time_text(value) -> str:
    """A saved time as local time of the subdistrict to the minute, ``2026-12-01 05:59`` (a time without zone is taken as local)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if ts is pd.NaT:
        return ""
    if ts.tzinfo is None:
        ts = ts.tz_localize(LOCAL_TZ)
    return ts.tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
