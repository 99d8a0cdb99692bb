"""Helpers of ``ui.tables`` that decide how a list is shown: row heights of wrapped text, Markdown-safe cells."""

from __future__ import annotations

import pandas as pd
import pytest

from ui.tables import markdown_cells, wrapped_row_height


@pytest.mark.parametrize(("texts", "height"), [
    ([], 36),                              # no text: one line
    (["a" * 52], 36),                      # 52 columns fill one line
    (["a" * 53], 56),                      # one more wraps to a second
    (["短" * 26], 36),                     # 26 Chinese characters take 52 columns
    (["短" * 27, "a"], 56),                # the longest decides
    (["a" * 1000], 96),                    # at most four lines
])
def test_row_height_fits_the_longest_text(texts, height):
    assert wrapped_row_height(texts) == height


def test_markdown_cells_escape_text_and_leave_numbers():
    frame = pd.DataFrame({"name": ["**粗体** [链接](http://x)", "SH-01"], "year": pd.array([2022, None], dtype="Int64")})
    out = markdown_cells(frame)
    assert out["name"].tolist() == [r"\*\*粗体\*\* \[链接\]\(http://x\)", r"SH\-01"]
    assert out["year"].dtype == "Int64" and out["year"].tolist()[0] == 2022
    assert frame["name"].iloc[1] == "SH-01"  # the input is not changed
