"""The route history as users read it: local times, the store's own phrases in the interface language (Chinese by default)."""

from __future__ import annotations

from ui import tables


def test_saved_time_is_local_to_the_minute():
    # 21:59 UTC is 05:59 the next day in China Standard Time (UTC+8, no daylight saving).
    assert tables.time_text("2026-11-30T21:59:03+00:00") == "2026-12-01 05:59"
    assert tables.time_text("2026-12-01T05:59:59+08:00") == "2026-12-01 05:59"


def test_store_phrases_are_translated():
    assert tables.history_text("(as found)") == "（原有文件）"
    assert tables.history_text("the routes file before the first save") == "首次保存前的路线文件"
    assert tables.history_text("restore version 12") == "恢复到第 12 版"  # what `routes restore` records by default
    assert tables.history_text("覆盖盲区") == "覆盖盲区"  # a user's own reason stays as written
