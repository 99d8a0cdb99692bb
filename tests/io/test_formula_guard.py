"""Formula guarding with leading blanks and control characters (finding 15 of the attack)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from geo.incidents.importer import import_incidents
from geo.io.writers import guard_formulas


@pytest.mark.parametrize("value", [" =1+1", "\n=1+1", "\xa0=1+1", "\t\t@SUM(A1)", "\u3000+1", "=1+1", "-2+3"])
def test_leading_blank_then_trigger_is_guarded(value):
    out = guard_formulas(pd.DataFrame({"name": [value]}))
    assert out["name"].iloc[0] == "'" + value


@pytest.mark.parametrize("value", ["安居小区", "a =1", " plain", "1+1", ""])
def test_harmless_text_is_kept(value):
    assert guard_formulas(pd.DataFrame({"name": [value]}))["name"].iloc[0] == value


def test_incident_store_never_keeps_a_raw_hyperlink(tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text(
        "id,time,category,source,lon,lat,address,description\n"
        'X-1,2022-01-10 08:30,theft,110,108.36,30.85," =HYPERLINK(""http://evil"")","=HYPERLINK(""http://evil"",""click"")"\n',
        encoding="utf-8",
    )
    store = tmp_path / "incidents.csv"
    res = import_incidents(src, out=store, geocoder=lambda a: None)
    assert res.imported == 1
    with open(store, encoding="utf-8-sig", newline="") as fh:
        row = next(iter(csv.DictReader(fh)))
    assert row["text"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert row["address"].startswith("'")


def test_formula_mask_agrees_with_the_cell_rule_on_random_cells():
    """The first-character shortcut of formula_mask against is_formula_like of each cell (the regular expression alone)."""
    import numpy as np

    from geo.io.writers import FORMULA_STARTS, FORMULA_TRIGGERS, formula_mask, is_formula_like

    rng = np.random.default_rng(7)
    alphabet = list(FORMULA_TRIGGERS) + sorted(FORMULA_STARTS)[::5] + ["a", "1", "安", "'", "\u200c", "\U0001f600"]
    cells = []
    for _ in range(20_000):
        kind = rng.integers(10)
        if kind == 0:
            cells.append([None, np.nan, 3, -2.5, True, b"=x", pd.NA, np.str_("=1+1"), np.str_("a=1"), "\x00=1"][rng.integers(10)])
        else:
            cells.append("".join(rng.choice(alphabet, size=rng.integers(0, 6))))
    want = np.array([is_formula_like(v) for v in cells])
    assert want.sum() > 1000 and (~want).sum() > 1000  # both kinds are well represented
    assert (formula_mask(cells) == want).all()
    assert (formula_mask(np.array(cells, dtype=object)) == want).all()
    guarded = guard_formulas(pd.DataFrame({"c": cells}))["c"].tolist()
    assert [g == "'" + v if w else (g is v or g == v) for g, v, w in zip(guarded, cells, want, strict=True)].count(False) == 0


def test_the_arrow_form_of_the_rule_agrees_with_the_cell_rule_on_random_text():
    """arrow_guarded (the CSV writer's guard, an RE2 expression) against guard_cell of each cell; every start character drawn."""
    import numpy as np
    import pyarrow as pa

    from geo.io.formulas import FORMULA_STARTS, FORMULA_TRIGGERS, arrow_guarded, guard_cell

    rng = np.random.default_rng(11)
    alphabet = list(FORMULA_TRIGGERS) + sorted(FORMULA_STARTS) + ["a", "1", "安", "'", "\u200c", "\u2028", "\U0001f600", "\u3001"]
    cells = ["".join(rng.choice(alphabet, size=rng.integers(0, 5))) for _ in range(30_000)]
    want = [guard_cell(v) for v in cells]
    assert sum(w != v for w, v in zip(want, cells, strict=True)) > 3000  # guarded cells are well represented
    for kind in (pa.string(), pa.large_string()):
        assert arrow_guarded(pa.array(cells, type=kind)).to_pylist() == want


@pytest.mark.parametrize("mixed", [False, True])
def test_a_written_table_is_the_guarded_frame_as_pandas_writes_it(tmp_path, mixed):
    import io

    import numpy as np

    from geo.io.writers import table_bytes, write_table

    rng = np.random.default_rng(3)
    texts = ["=1+1", " -2", "\u3000@x", "安居", "", "a,b", '"=q"', "\t", "x\ny", "'=1"]
    names = [texts[i] for i in rng.integers(len(texts), size=300)]
    if mixed:
        names[::7] = [None, 5, 2.5, np.nan, True] * (len(names[::7]) // 5) + [None] * (len(names[::7]) % 5)
    df = pd.DataFrame({"name": pd.Series(names, dtype=object), "n": np.arange(300), "d": np.linspace(-1, 1, 300)})
    buf = io.StringIO(newline="")
    guard_formulas(df).to_csv(buf, index=False, lineterminator="\r\n")
    want = b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
    assert write_table(df, tmp_path / "t.csv").read_bytes() == want
    assert table_bytes(df, ".csv") == want
