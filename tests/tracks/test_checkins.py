"""Check-in points and records: bad rows rejected with reasons, good rows stored and counted per estate."""

from __future__ import annotations

import json

import pytest

from geo import io
from geo.errors import SchemaError
from geo.tracks.checkins import checkin_counts, import_checkins, read_checkin_points, read_checkins


def _points(tmp_path, features):
    p = tmp_path / "points.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": xy}} for props, xy in features]}), encoding="utf-8")
    return p


def test_records_rejected_row_by_row_and_counted(tmp_path):
    estates = io.read_estates()
    pts = read_checkin_points(_points(tmp_path, [({"point_id": "P1", "estate_id": "SH-06"}, [108.3646, 30.8558]),
                                                 ({"point_id": "P2", "estate_id": "SH-07"}, [108.3704, 30.8534])]), estates=estates)
    rec = tmp_path / "rec.csv"
    rec.write_text("point_id,team_id,time\nP1,PS-A,2026-03-04 22:05\nP9,PS-A,2026-03-04 22:06\nP2,,2026-03-04 22:07\n"
                   "P2,VO-B,yesterday\nP2,VO-B,2026-03-04 10:00\nP1,PS-A,2026-03-05 21:00\n", encoding="utf-8")
    out = import_checkins(rec, pts, tracks_path=tmp_path / "s", rejects_out=tmp_path / "rej.csv")
    assert (out["read"], out["stored"], out["rejected"]) == (6, 3, 3)
    assert list(out["rejects"]["row"]) == [3, 4, 5]
    assert "'P9' is not a check-in point" in out["rejects"]["reason"].iat[0]
    assert "empty" in out["rejects"]["reason"].iat[1]
    assert "not a date" in out["rejects"]["reason"].iat[2]
    assert (tmp_path / "rej.csv").exists()
    # Importing again stores nothing new.
    assert import_checkins(rec, pts, tracks_path=tmp_path / "s")["stored"] == 0
    counts = checkin_counts(read_checkins(tmp_path / "s"), by="day").set_index(["period", "estate_id"])["checkins"].to_dict()
    assert counts == {("2026-03-04", "SH-06"): 1, ("2026-03-04", "SH-07"): 1, ("2026-03-05", "SH-06"): 1}
    night = checkin_counts(read_checkins(tmp_path / "s"), by="month", night=True).set_index(["period", "estate_id"])["checkins"].to_dict()
    assert night == {("2026-03-01", "SH-06"): 2}


def test_points_of_unknown_estates_are_refused(tmp_path):
    with pytest.raises(SchemaError) as exc:
        read_checkin_points(_points(tmp_path, [({"point_id": "P1", "estate_id": "SH-99"}, [108.3646, 30.8558])]), estates=io.read_estates())
    assert "feature 1 (P1): field 'estate_id': 'SH-99' is not an estate" in str(exc.value)
