"""Route history survives damage, loss, hand edits and kills (findings 3, 5, 8 and 10 of the attack)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo import io
from geo.cli.main import main
from geo.routes.store import RouteStore

ROOT = Path(__file__).resolve().parents[2]


def _routes(*names):
    return gpd.GeoDataFrame(
        {"route_id": [f"R{i}" for i in range(len(names))], "team_id": [f"T{i}" for i in range(len(names))], "team": list(names),
         "org_type": ["police"] * len(names), "shift": ["all"] * len(names)},
        geometry=[shapely.LineString([(108.36 + 0.001 * i, 30.84), (108.37 + 0.001 * i, 30.845)]) for i in range(len(names))],
        crs="EPSG:4326",
    )


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "patrol_routes.geojson"
    io.write_geojson(_routes("申明坝派出所"), path, metadata={"synthetic": True})
    s = RouteStore(path)
    s.save(_routes("a"), author="x", reason="one")
    s.save(_routes("a", "b"), author="x", reason="two")  # versions 1 (as found), 2, 3
    return s


def _files(store):
    return {n: store.version_path(n).read_bytes() for n in (1, 2, 3)}


@pytest.mark.parametrize("damage", ["empty", "deleted", "truncated"])
def test_lost_log_never_overwrites_versions_and_history_says_so(store, damage, capsys):
    before = _files(store)
    if damage == "empty":
        store.log_path.write_bytes(b"")
    elif damage == "deleted":
        store.log_path.unlink()
    else:
        store.log_path.write_bytes(store.log_path.read_bytes().splitlines(keepends=True)[0])
    assert main(["routes", "history", "--routes", str(store.path)]) == 1
    out = capsys.readouterr().out
    assert "has no record in the log" in out
    v = store.save(_routes("c"), author="y", reason="after the damage")
    assert v.number == 4
    assert _files(store) == before  # nothing overwritten
    assert [x.number for x in store.versions()] == [1, 2, 3, 4]
    assert "adopted" in (v.note or "")
    assert store.check() == []


@pytest.mark.parametrize("record", ['{"number": "3"}', "3.5", "null", "random"])
def test_damaged_records_are_set_aside_not_fatal(store, record, capsys):
    raw = os.urandom(100) if record == "random" else None
    lines = store.log_path.read_bytes().splitlines(keepends=True)
    if raw is None:
        rec = json.loads(lines[2])
        rec["number"] = json.loads(record) if record != '{"number": "3"}' else "3"
        lines[2] = (json.dumps(rec) + "\n").encode()
        store.log_path.write_bytes(b"".join(lines))
    else:
        with open(store.log_path, "ab") as fh:
            fh.write(raw.replace(b"\n", b"x") + b"\n")
    assert main(["routes", "history", "--routes", str(store.path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "not a version record" in captured.out or "no record in the log" in captured.out
    v = store.save(_routes("z"), author="y", reason="still saves")
    assert v.number == 4
    assert store.version_path(3).exists() and store.current_sha256() == v.sha256


def test_torn_last_line_is_set_aside_and_saves_go_on(store):
    with open(store.log_path, "ab") as fh:
        fh.write(b'{"number": 4, "saved_at": "2024-')
    v = store.save(_routes("q"), author="y", reason="after a crash")
    assert v.number == 4 and "set aside" in v.note
    assert (store.history_dir / "log.damaged.txt").read_bytes().endswith(b'{"number": 4, "saved_at": "2024-\n')
    assert store.check() == []


def test_hand_edit_is_kept_as_its_own_version_before_a_save(store):
    edited = store.path.read_bytes().replace(b'"a"', b'"hand"')
    store.path.write_bytes(edited)
    v = store.save(_routes("next"), author="y", reason="z")
    kept = store.versions()[-2]
    assert (kept.number, kept.author, v.number) == (4, "(edited by hand)", 5)
    assert store.version_path(4).read_bytes() == edited


def test_restore_over_a_broken_hand_edit_keeps_a_copy(store):
    store.path.write_bytes(b'{"type": "FeatureCollection", "features": [')
    v = store.restore(1, author="y")
    assert store.version_path(4).read_bytes() == b'{"type": "FeatureCollection", "features": ['
    assert v.number == 5 and store.path.read_bytes() == store.version_path(1).read_bytes()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import geopandas as gpd, shapely
    import geo.routes.store as rs
    real = rs.atomic_write
    def killing(path, data):
        if str(path) == sys.argv[1]:
            os.kill(os.getpid(), signal.SIGKILL)  # after the log append, before the routes file is replaced
        return real(path, data)
    rs.atomic_write = killing
    g = gpd.GeoDataFrame({"route_id": ["K"], "team_id": ["T0"], "team": ["a"], "org_type": ["police"], "shift": ["all"]},
                         geometry=[shapely.LineString([(108.36, 30.84), (108.37, 30.85)])], crs="EPSG:4326")
    rs.RouteStore(sys.argv[1]).save(g, author="killed", reason="never lands")
    """
)


def test_kill_between_log_append_and_replace_is_reported_and_recorded(store):
    proc = subprocess.run([sys.executable, "-c", KILLER, str(store.path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    problems = store.check()
    assert any("version 4 was logged but never took effect" in p and "still version 3" in p for p in problems)
    v = store.save(_routes("after"), author="y", reason="z")
    assert v.number == 5
    assert "version 4 was logged but never took effect" in v.note  # recorded in the log, not silently cleared
    assert "never took effect" in json.loads(store.log_path.read_bytes().splitlines()[-1])["note"]
