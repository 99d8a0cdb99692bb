"""Validation by column (geo.io.frames.check_table) against the feature-by-feature rule (geo._validate.check_frame).

Columns where every cell is text take a shorter path than mixed columns; on
random tables of both kinds (whitespace of every sort, whitespace-only cells,
duplicate ids that differ only by padding, values outside a field's choices)
both validators must give the same problems and the same typed frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo._validate import check_frame
from geo.io.frames import check_table
from geo.schemas import ROUTES

_PADS = ["", " ", "\t", "\u3000", "\xa0", "\n", "\x1c"]


def _cell(rng: np.random.Generator, core: str, *, mixed: bool):
    r = rng.random()
    if r < 0.05:
        return str(rng.choice(_PADS[1:]))  # whitespace only: blank
    if mixed and r < 0.1:
        return [None, 7, 2.5][int(rng.integers(3))]
    return str(rng.choice(_PADS)) + core + str(rng.choice(_PADS))


def _table(seed: int, n: int, *, mixed: bool) -> tuple[list[dict], list]:
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        records.append(
            {
                "route_id": _cell(rng, f"R{int(rng.integers(n * 0.9))}", mixed=mixed),  # some ids used twice
                "team_id": _cell(rng, f"T{i % 7}", mixed=mixed),
                "team": _cell(rng, f"队{i % 7}", mixed=mixed),
                "org_type": _cell(rng, str(rng.choice(["police", "property", "school", "army"])), mixed=mixed),
                "shift": _cell(rng, str(rng.choice(["day", "night", "all", "dusk"])), mixed=mixed),
            }
        )
    x = 108.37 + rng.random(n) * 0.01
    geoms = list(shapely.linestrings(np.stack([np.column_stack([x, np.full(n, 30.84)]), np.column_stack([x + 1e-3, np.full(n, 30.85)])], axis=1)))
    return records, geoms


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("mixed", [False, True])
def test_column_checks_match_the_feature_by_feature_rule(seed, mixed):
    records, geoms = _table(seed, 400, mixed=mixed)
    want_problems, want = check_frame(records, geoms, ROUTES, broken=object())
    got_problems, got = check_table(pd.DataFrame(records, dtype=object), np.asarray(geoms, dtype=object), ROUTES)
    assert got_problems == want_problems
    assert want_problems  # the random tables hold problems: duplicates, blanks, unknown choices
    assert got is None and want is None


@pytest.mark.parametrize("seed", range(4))
def test_clean_text_columns_give_the_same_frame(seed):
    rng = np.random.default_rng(50 + seed)
    n = 300
    records = [
        {
            "route_id": str(rng.choice(_PADS)) + f"R{i}" + str(rng.choice(_PADS)),
            "team_id": f"T{i % 5}\u3000",
            "team": f" 队{i % 5}",
            "org_type": str(rng.choice(["police", " property", "school\t"])),
            "shift": str(rng.choice(["day", "night ", "all"])),
        }
        for i in range(n)
    ]
    geoms = list(shapely.linestrings([[(108.37 + i * 1e-5, 30.84), (108.38, 30.85)] for i in range(n)]))
    want_problems, want = check_frame(records, geoms, ROUTES, broken=object())
    got_problems, got = check_table(pd.DataFrame(records, dtype=object), np.asarray(geoms, dtype=object), ROUTES)
    assert got_problems == want_problems == []
    pd.testing.assert_frame_equal(got, want)
    assert got["route_id"].iloc[0] == "R0" and got["team_id"].iloc[0] == "T0"
