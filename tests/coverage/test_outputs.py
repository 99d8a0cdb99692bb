"""Frames the coverage model and the reports hand out own their arrays: changing one never changes the model."""

import pandas as pd

from geo.coverage.model import CoverageModel
from geo.extensions import extension_proposals
from geo.report import coverage_table, team_table
from tests.coverage.test_team_table import layout


def scribble(frame: pd.DataFrame) -> None:
    """Write over every column in place (through the arrays, as an in-place edit by a caller would)."""
    for col in frame.columns:
        values = frame[col].to_numpy()
        if values.dtype.kind in "fiub":
            values[:] = values.dtype.type(0) if values.dtype.kind != "b" else ~values
        elif values.dtype == object:
            values[:] = "changed"


def test_changing_handed_out_frames_leaves_the_model_and_the_next_frames_as_they_were():
    est, rts = layout(7)
    model = CoverageModel.from_geodataframes(est, rts, strict=True).solve()
    table, pairs = model.table(), model.pairs()
    obligations = model.pairs(obligations_only=True)
    props = extension_proposals(est, rts, model=model, lines=False)
    report, teams = coverage_table(est, rts, model=model), team_table(est, rts, model=model)
    before = [f.copy(deep=True) for f in (table, pairs, obligations, props.drop(columns="geometry"), pd.DataFrame(report.drop(columns="geometry")), teams)]
    for frame in (table, pairs, obligations, props, report, teams):
        scribble(frame)
    assert (table["estate_id"] == "changed").all()  # the writes went through
    again = [model.table(), model.pairs(), model.pairs(obligations_only=True),
             extension_proposals(est, rts, model=model, lines=False).drop(columns="geometry"),
             pd.DataFrame(coverage_table(est, rts, model=model).drop(columns="geometry")), team_table(est, rts, model=model)]
    for want, got in zip(before, again, strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
