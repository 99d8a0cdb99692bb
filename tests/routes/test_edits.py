"""Route edits (geo.route_edits) and the ``python -m geo routes`` subcommands, run on a temporary copy of data/."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo import cli, settings
from geo import io as gio
from geo.crs import convert, gcj02_to_wgs84
from geo.errors import DataFileError, SchemaError
from geo.routes import edits

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
HERE = Path(__file__).resolve().parents[1] / "data" / "route_edits"
GEOD = pyproj.Geod(ellps="WGS84")
GAP = "SH-06"

pytestmark = pytest.mark.skipif(not (DATA / "estates.geojson").exists(), reason="shipped estates missing")


@pytest.fixture
def data(tmp_path) -> Path:
    """estates.geojson and patrol_routes.geojson copied into a temporary folder."""
    out = tmp_path / "data"
    out.mkdir()
    for name in ("estates.geojson", "patrol_routes.geojson"):
        shutil.copy(DATA / name, out / name)
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _line_near(data: Path, estate_id: str, *, east_m: float = 40.0, half_length_m: float = 150.0) -> Path:
    """A GeoJSON file with one north-south line ``east_m`` east of the estate's point (geodesic offsets)."""
    est = gio.read_estates(data / "estates.geojson")
    pt = est.loc[est["estate_id"] == estate_id].geometry.iloc[0]
    x, y, _ = GEOD.fwd(pt.x, pt.y, 90.0, east_m)
    x0, y0, _ = GEOD.fwd(x, y, 180.0, half_length_m)
    x1, y1, _ = GEOD.fwd(x, y, 0.0, half_length_m)
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "延伸段"},
                                                       "geometry": {"type": "LineString", "coordinates": [[x0, y0], [x1, y1]]}}]}
    path = data.parent / "extension.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _geodesic_min_distance_m(lon: float, lat: float, lines, *, step_deg: float = 1e-5) -> float:
    """Smallest geodesic distance from a point to lines densified to about 1 m (brute force)."""
    pts = np.vstack([shapely.get_coordinates(shapely.segmentize(g, step_deg)) for g in lines])
    _, _, dist = GEOD.inv(np.full(len(pts), lon), np.full(len(pts), lat), pts[:, 0], pts[:, 1])
    return float(np.min(dist))


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _add(data: Path, file: Path, *extra: str) -> list[str]:
    return ["routes", "add", str(file), "--routes", str(data / "patrol_routes.geojson"), "--estates", str(data / "estates.geojson"), *extra]


NEW_TEAM = ("--team-id", "PS-NEW", "--team", "申明坝派出所夜巡二组", "--org-type", "police", "--shift", "night")


# --- pure functions ---------------------------------------------------------------------------


class TestLines:
    def test_lines_from_geojson_converts_datum(self):
        coords = [[108.37, 30.84], [108.372, 30.842]]
        got = edits.lines_from_geojson({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}}]},
                                       datum="gcj02")
        lon, lat = convert([c[0] for c in coords], [c[1] for c in coords], src="gcj02", dst="wgs84")
        assert shapely.equals_exact(got[0], shapely.LineString(list(zip(lon, lat, strict=True))), tolerance=1e-9)

    def test_declared_datum_wins(self):
        doc = {"type": "FeatureCollection", "datum": "bd09", "features": [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[108.37, 30.84], [108.38, 30.85]]}}]}
        got = edits.lines_from_geojson(json.dumps(doc), datum="wgs84")
        lon, lat = convert(108.37, 30.84, src="bd09", dst="wgs84")
        assert got[0].coords[0] == pytest.approx((float(lon), float(lat)), abs=1e-9)

    def test_every_bad_feature_is_listed(self):
        doc = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}},
               {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[108.36, 30.84], [108.36, 30.84]]}}]
        with pytest.raises(SchemaError) as err:
            edits.lines_from_geojson(doc)
        assert len(err.value.problems) == 2
        # numbered from 0, and worded as `validate` words them (one path for every route input)
        assert err.value.problems[0].startswith("GeoJSON, feature 0: geometry is a Point; this file takes LineString or MultiLineString")
        assert err.value.problems[1].startswith("GeoJSON, feature 1: the line has zero length")

    def test_one_point_line_is_a_problem_not_a_crash(self):
        cases = (
            ({"type": "LineString", "coordinates": [[108.37, 30.84]]}, "the line has 1 point(s); a line needs at least two different points"),
            ({"type": "MultiLineString", "coordinates": [[[108.37, 30.84]]]},
             "part 0 of the MultiLineString has 1 point(s); give every part at least two points or remove it"),
        )
        for doc, message in cases:
            with pytest.raises(SchemaError) as err:
                edits.lines_from_geojson(doc)
            assert err.value.problems == [f"GeoJSON, feature 0: {message}"]

    def test_gpx_of_waypoints_only_is_refused(self):
        gpx = b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="30.84" lon="108.37"/></gpx>'
        with pytest.raises(SchemaError, match=r"w\.gpx: the GPX file has no track"):
            edits.lines_from_upload("w.gpx", gpx)

    def test_unreadable_gpx_names_the_users_file(self):
        with pytest.raises(DataFileError, match=r"^track\.gpx: not a readable GPX file"):
            edits.lines_from_upload("track.gpx", b"<gpx>broken")

    def test_unknown_file_type(self):
        with pytest.raises(DataFileError, match=r"track\.kml: unknown file type \.kml"):
            edits.lines_from_upload("track.kml", b"")


class TestDraft:
    def test_make_draft_adds_replaces_and_removes(self):
        routes = gio.read_routes(DATA / "patrol_routes.geojson")
        team = edits.Team("PM-HY", "花园小区物业保安队", "property", "all")
        line = shapely.LineString([(108.37, 30.84), (108.371, 30.841)])
        added = edits.make_draft(routes, [line], team)
        assert len(added) == len(routes) + 1
        assert added["route_id"].is_unique
        replaced = edits.make_draft(routes, [line], team, replace=True)
        assert list(replaced.loc[replaced["team_id"] == "PM-HY", "route_id"]) == ["R-PM-HY-1"]
        removed = edits.make_draft(routes, [], None, remove_route_ids=["R-PS-1"])
        assert "R-PS-1" not in set(removed["route_id"]) and len(removed) == len(routes) - 1

    def test_new_team_checks(self):
        routes = gio.read_routes(DATA / "patrol_routes.geojson")
        assert edits.check_new_team(edits.Team("PS-NEW", "组", "police", "day"), routes) == []
        problems = edits.check_new_team(edits.Team("PS-SMB", "", "army", "dusk"), routes)
        assert len(problems) == 4

    def test_status_changes(self):
        before = pd.DataFrame({"estate_id": ["A", "B"], "name": ["a", "b"], "community": ["c", "c"], "status": ["gap", "covered"]})
        after = pd.DataFrame({"estate_id": ["A", "B"], "status": ["covered", "covered"]})
        out = edits.status_changes(before, after)
        assert out[["estate_id", "before", "after"]].to_dict("records") == [{"estate_id": "A", "before": "gap", "after": "covered"}]

    def test_status_counts(self):
        table = pd.DataFrame({"status": ["gap", "covered", "covered", "coverable", "covered"]})
        assert edits.status_counts(table) == {"covered": 3, "coverable": 1, "gap": 1}


# --- python -m geo routes add -----------------------------------------------------------------


META = {"synthetic": True, "note": "SYNTHETIC demonstration routes", "name": "routes"}


class TestSyntheticMetadata:
    def _routes(self, flags):
        routes = gio.read_routes(DATA / "patrol_routes.geojson").iloc[: len(flags)].copy()
        routes["synthetic"] = flags
        return routes

    def test_kept_while_a_route_is_synthetic(self):
        assert edits.metadata_for(self._routes([True, False]), META) == META

    def test_dropped_once_every_route_is_real(self):
        assert edits.metadata_for(self._routes([False, None]), META) == {"name": "routes"}
        assert META["synthetic"] is True  # the caller's dict is left as it was

    def test_kept_when_routes_say_nothing(self):
        routes = self._routes([None, None])
        assert edits.metadata_for(routes, META) == META
        assert edits.metadata_for(routes.drop(columns="synthetic"), META) == META

    def test_routes_to_text_applies_it(self):
        text = (DATA / "patrol_routes.geojson").read_text(encoding="utf-8")
        routes = gio.read_routes(DATA / "patrol_routes.geojson")
        team = edits.Team("PS-REAL", "真实巡逻队", "police", "all")
        line = shapely.LineString([(108.37, 30.84), (108.371, 30.841)])
        kept = json.loads(edits.routes_to_text(edits.make_draft(routes, [line], team), metadata=edits.file_metadata(text)))
        assert kept["synthetic"] is True and "SYNTHETIC" in kept["note"]
        real = edits.make_draft(routes, [line], team, remove_route_ids=list(routes["route_id"]))
        doc = json.loads(edits.routes_to_text(real, metadata=edits.file_metadata(text)))
        assert "synthetic" not in doc and "note" not in doc
        assert [f["properties"]["synthetic"] for f in doc["features"]] == [False]

    def test_store_drops_it_when_the_last_synthetic_route_goes(self, tmp_path):
        from geo.routes.store import RouteStore

        path = tmp_path / "patrol_routes.geojson"
        shutil.copy(DATA / "patrol_routes.geojson", path)
        routes = gio.read_routes(path)
        real = routes.iloc[:1].copy()
        real["synthetic"] = False
        RouteStore(path).save(real, author="x", reason="real route")
        assert "synthetic" not in json.loads(path.read_text(encoding="utf-8"))


class TestRoutesAdd:
    def test_preview_changes_nothing_on_disk(self, data, capsys):
        line = _line_near(data, GAP)
        before = _snapshot(data)
        rc, out, _ = _run(capsys, *_add(data, line, *NEW_TEAM))
        assert rc == 0
        assert _snapshot(data) == before
        assert not (data / "route_history").exists()
        assert "nothing saved; add --save --author ... --reason ... to save" in out
        assert "  coverable 应延伸覆盖: " in out  # the label every view uses (geo.coverage.STATUS_LABELS_ZH)

    def test_line_near_the_gap_estate_covers_it(self, data, capsys):
        est = gio.read_estates(data / "estates.geojson")
        routes = gio.read_routes(data / "patrol_routes.geojson")
        pt = est.loc[est["estate_id"] == GAP].geometry.iloc[0]
        # Independent check of the premise: no current route within the rule radius, so SH-06 is a gap.
        assert _geodesic_min_distance_m(pt.x, pt.y, routes.geometry) > settings.rule_radius_m
        line = _line_near(data, GAP)
        new = edits.lines_from_geojson(line.read_text(encoding="utf-8"))
        assert _geodesic_min_distance_m(pt.x, pt.y, new) == pytest.approx(40.0, abs=0.5)
        assert 40.0 < settings.cover_distance_m
        rc, out, _ = _run(capsys, *_add(data, line, *NEW_TEAM))
        assert rc == 0
        assert re.search(rf"^  {GAP} .*: gap 盲区 -> covered 已覆盖$", out, flags=re.MULTILINE), out
        changed = re.findall(r"^  (SH-\d\d) ", out, flags=re.MULTILINE)
        assert changed == [GAP]
        assert "R-PS-NEW-1: 300 m" in out

    def test_save_history_and_restore(self, data, capsys):
        original = (data / "patrol_routes.geojson").read_bytes()
        n_before = len(gio.read_routes(data / "patrol_routes.geojson"))
        line = _line_near(data, GAP)
        rc, out, _ = _run(capsys, *_add(data, line, *NEW_TEAM, "--save", "--author", "王警官", "--reason", "补盲区 SH-06"))
        assert rc == 0
        assert "as version 2" in out
        saved = gio.read_routes(data / "patrol_routes.geojson")
        assert len(saved) == n_before + 1
        new = saved[saved["team_id"] == "PS-NEW"].iloc[0]
        assert (new["team"], new["org_type"], new["shift"]) == ("申明坝派出所夜巡二组", "police", "night")

        rc, out, _ = _run(capsys, "routes", "history", "--routes", str(data / "patrol_routes.geojson"))
        assert rc == 0
        rows = [ln.split() for ln in out.splitlines()[1:] if ln.strip()]
        assert [r[0] for r in rows] == ["1", "2"]
        assert "王警官" in out and "补盲区" in out
        assert (data / "route_history" / "v0001.geojson").read_bytes() == original

        rc, out, _ = _run(capsys, "routes", "restore", "1", "--author", "王警官", "--routes", str(data / "patrol_routes.geojson"), "--lang", "en")
        assert rc == 0 and "as version 3" in out
        assert (data / "patrol_routes.geojson").read_bytes() == original
        rc, out, _ = _run(capsys, "routes", "history", "--routes", str(data / "patrol_routes.geojson"))
        assert rc == 0
        last = out.splitlines()[-1].split()
        assert last[0] == "3" and last[-1] == "1"  # restored_from

    def test_existing_team_takes_its_fields_and_replace(self, data, capsys):
        routes = gio.read_routes(data / "patrol_routes.geojson")
        team_id = str(routes["team_id"].iloc[0])
        theirs = routes[routes["team_id"] == team_id]
        line = _line_near(data, GAP)
        shift = str(theirs["shift"].iloc[-1])  # the team patrols in two shifts: the new line's shift is named
        rc, out, _ = _run(capsys, *_add(data, line, "--team-id", team_id, "--shift", shift, "--replace", "--save", "--author", "a", "--reason", "redrawn"))
        assert rc == 0
        for rid in theirs["route_id"]:
            assert f"  - {rid}" in out
        saved = gio.read_routes(data / "patrol_routes.geojson")
        mine = saved[saved["team_id"] == team_id]
        assert len(mine) == 1
        assert (mine["team"].iloc[0], mine["org_type"].iloc[0], mine["shift"].iloc[0]) == (theirs["team"].iloc[0], theirs["org_type"].iloc[0], shift)

    def test_existing_team_route_of_its_all_day_shift(self, data, capsys):
        # PS-SMB has a night route and an all-day route; a new all-day route is what the planner asks for.
        routes = gio.read_routes(data / "patrol_routes.geojson")
        assert set(routes.loc[routes["team_id"] == "PS-SMB", "shift"]) == {"night", "all"}
        rc, _, err = _run(capsys, *_add(data, _line_near(data, GAP), "--team-id", "PS-SMB", "--shift", "all", "--save", "--author", "a", "--reason", "r"))
        assert rc == 0, err
        saved = gio.read_routes(data / "patrol_routes.geojson")
        new = saved[~saved["route_id"].isin(routes["route_id"])]
        assert len(new) == 1
        assert new["shift"].iloc[0] == "all"
        # No schedule was given: none is invented or copied from the team's other routes.
        assert "schedule" not in new.columns or new["schedule"].isna().all() or set(new["schedule"].fillna("")) == {""}

    def test_existing_team_of_two_shifts_needs_a_shift(self, data, capsys):
        before = _snapshot(data)
        rc, _, err = _run(capsys, *_add(data, _line_near(data, GAP), "--team-id", "PS-SMB", "--save", "--author", "a", "--reason", "r"))
        assert rc == 2
        assert "several shifts (night, all)" in err and "--shift" in err
        assert _snapshot(data) == before

    def test_existing_team_schedule_is_the_one_given(self, data, capsys):
        rc, _, err = _run(capsys, *_add(data, _line_near(data, GAP), "--team-id", "PM-HX", "--schedule", "每日 18:00-22:00",
                                         "--save", "--author", "a", "--reason", "r"))
        assert rc == 0, err
        saved = gio.read_routes(data / "patrol_routes.geojson")
        new = saved[saved["route_id"] == "R-PM-HX-1"]
        assert (new["shift"].iloc[0], new["schedule"].iloc[0]) == ("day", "每日 18:00-22:00")  # PM-HX patrols only by day

    def test_remove_routes(self, data, capsys):
        routes = gio.read_routes(data / "patrol_routes.geojson")
        drop = list(routes["route_id"].astype(str).iloc[:2])
        rc, _, _ = _run(capsys, *_add(data, _line_near(data, GAP), *NEW_TEAM, "--remove", ",".join(drop), "--save", "--author", "a", "--reason", "r"))
        assert rc == 0
        saved = set(gio.read_routes(data / "patrol_routes.geojson")["route_id"])
        assert not saved & set(drop)
        assert len(saved) == len(routes) - 2 + 1

    def test_gcj02_gpx_is_converted(self, data, capsys):
        gpx = HERE / "gcj02_track.gpx"
        ns = {"g": "http://www.topografix.com/GPX/1/1"}
        pts = [(float(p.get("lon")), float(p.get("lat"))) for p in ET.parse(gpx).getroot().iterfind(".//g:trkpt", ns)]
        rc, out, _ = _run(capsys, *_add(data, gpx, "--datum", "gcj02", *NEW_TEAM, "--save", "--author", "a", "--reason", "gpx"))
        assert rc == 0
        assert "converted from gcj02 to WGS-84" in out
        saved = gio.read_routes(data / "patrol_routes.geojson")
        got = shapely.get_coordinates(saved.loc[saved["team_id"] == "PS-NEW"].geometry.iloc[0])
        want_lon, want_lat = gcj02_to_wgs84(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        np.testing.assert_allclose(got[:, 0], want_lon, atol=1.5e-7)
        np.testing.assert_allclose(got[:, 1], want_lat, atol=1.5e-7)
        # The conversion really moved the points (GCJ-02 is hundreds of metres off here).
        _, _, shift_m = GEOD.inv(got[0, 0], got[0, 1], pts[0][0], pts[0][1])
        assert 100 < shift_m < 1000


class TestRoutesAddErrors:
    @staticmethod
    def _one_line_error(capsys, data, argv) -> str:
        before = _snapshot(data)
        rc, out, err = _run(capsys, *argv)
        assert rc == 2
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "saved" not in out
        assert _snapshot(data) == before
        return lines[0]

    def test_new_team_without_org_type(self, data, capsys):
        argv = _add(data, _line_near(data, GAP), "--team-id", "PS-NEW", "--team", "新组", "--shift", "day")
        msg = self._one_line_error(capsys, data, argv)
        assert "new team" in msg and "--org-type" in msg

    def test_existing_team_with_another_name(self, data, capsys):
        routes = gio.read_routes(data / "patrol_routes.geojson")
        team_id, name = str(routes["team_id"].iloc[0]), str(routes["team"].iloc[0])
        argv = _add(data, _line_near(data, GAP), "--team-id", team_id, "--team", name + "二组")
        msg = self._one_line_error(capsys, data, argv)
        assert team_id in msg and repr(name) in msg

    def test_save_without_author(self, data, capsys):
        argv = _add(data, _line_near(data, GAP), *NEW_TEAM, "--save", "--reason", "r")
        assert "--author" in self._one_line_error(capsys, data, argv)

    def test_unknown_route_to_remove(self, data, capsys):
        argv = _add(data, _line_near(data, GAP), *NEW_TEAM, "--remove", "R-NOPE")
        assert "R-NOPE" in self._one_line_error(capsys, data, argv)

    def test_missing_file(self, data, capsys):
        argv = _add(data, data / "nope.geojson", *NEW_TEAM)
        assert "nope.geojson: no such file" in self._one_line_error(capsys, data, argv)

    def test_bad_team_id(self, data, capsys):
        argv = _add(data, _line_near(data, GAP), "--team-id", "bad id!", "--team", "x", "--org-type", "police", "--shift", "day")
        assert "field 'team_id'" in self._one_line_error(capsys, data, argv)

    def test_restore_unknown_version(self, data, capsys):
        argv = ["routes", "restore", "7", "--author", "a", "--routes", str(data / "patrol_routes.geojson")]
        assert "no version 7" in self._one_line_error(capsys, data, argv)


class TestRoutesHistory:
    def test_no_versions_yet(self, data, capsys):
        rc, out, _ = _run(capsys, "routes", "history", "--routes", str(data / "patrol_routes.geojson"), "--lang", "en")
        assert rc == 0 and "no saved versions yet" in out
        rc, out, _ = _run(capsys, "routes", "history", "--routes", str(data / "patrol_routes.geojson"), "--lang", "zh")
        assert rc == 0 and "尚无保存的版本" in out

    def test_hand_edit_is_reported(self, data, capsys):
        path = data / "patrol_routes.geojson"
        _run(capsys, *_add(data, _line_near(data, GAP), *NEW_TEAM, "--save", "--author", "a", "--reason", "r"))
        path.write_bytes(path.read_bytes() + b"\n")
        rc, out, _ = _run(capsys, "routes", "history", "--routes", str(path))
        assert rc == 1
        assert "problem:" in out and "differs from the last saved version 2" in out


@pytest.mark.parametrize("argv", [["routes"], ["routes", "add"], ["routes", "history"], ["routes", "restore"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "usage: python -m geo routes" in capsys.readouterr().out
