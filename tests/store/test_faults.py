"""Faults with real processes (both backends): two saves at once, SIGKILL during a write; old schemas; a server that is down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from geo.errors import StoreError
from geo.store import TableSpec, open_store

ROOT = Path(__file__).resolve().parents[2]

_SAVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from geo.errors import ConflictError
    from geo.store import open_store
    url, kind, go, who = sys.argv[1:5]
    store = open_store(url)
    if kind == "record":
        base = store.get("surveys", "S-1")["version"]
    else:
        frame, base = store.read_layer("routes")
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    try:
        if kind == "record":
            store.update("surveys", "S-1", {"score": int(who)}, base_version=base, author=who, reason="race")
        else:
            store.replace_layer("routes", frame.iloc[: int(who)], base_version=base, author=who, reason="race")
        print("saved", flush=True)
    except ConflictError as exc:
        print("conflict", exc, flush=True)
""")


def _spawn(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("kind", ["record", "layer"])
def test_two_saves_at_once_one_wins_one_conflict_one_audit_entry(store_url, data_dir, tmp_path, kind):
    from geo import io

    store = open_store(store_url)
    if kind == "record":
        store.ensure_table(TableSpec("surveys", key="survey_id", columns={"score": int}))
        store.insert("surveys", {"survey_id": "S-1", "score": 0}, author="setup", reason="setup")
    else:
        store.replace_layer("routes", io.read_routes(data_dir / "patrol_routes.geojson"), base_version=0, author="setup", reason="setup")
    n_log = len(store.log())
    go = tmp_path / "go"
    procs = [_spawn(_SAVER, store_url, kind, str(go), who) for who in ("3", "5")]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    go.touch()
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert sorted(o.split()[0] for o in outs) == ["conflict", "saved"], outs
    assert "someone else saved; reload" in next(o for o in outs if o.startswith("conflict"))
    log = store.log()
    assert len(log) == n_log + 1
    winner = log.iloc[0]["author"]
    if kind == "record":
        assert store.get("surveys", "S-1")["score"] == int(winner) and store.get("surveys", "S-1")["version"] == 2
    else:
        frame, version = store.read_layer("routes")
        assert len(frame) == int(winner) and version == 2
    store.close()


_KILLED = textwrap.dedent("""
    import sys
    import geopandas as gpd, numpy as np, pandas as pd
    from geo.store import open_store
    store = open_store(sys.argv[1])
    n = 300_000
    rng = np.random.default_rng(1)
    frame = gpd.GeoDataFrame({"incident_id": [f"X-{i}" for i in range(n)], "category": "盗窃"},
        geometry=gpd.points_from_xy(rng.uniform(108.35, 108.39, n), rng.uniform(30.83, 30.86, n)), crs="EPSG:4326")
    print("writing", flush=True)
    store.replace_layer("incidents", frame, base_version=1, author="killed", reason="never finishes")
    print("done", flush=True)
""")


def test_sigkill_during_a_write_leaves_the_previous_state(store_url, data_dir):
    from geo.store.files import LAYER_FILES, read_layer_file

    store = open_store(store_url)
    inc = read_layer_file(next(s for s in LAYER_FILES if s.layer == "incidents"), data_dir / "incidents.csv")
    store.replace_layer("incidents", inc.iloc[:500], base_version=0, author="setup", reason="setup")
    n_log = len(store.log())
    store.close()
    proc = _spawn(_KILLED, store_url)
    assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
    time.sleep(1.5)  # building 300 000 rows and inserting them takes longer than this
    assert proc.poll() is None, "the write finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    again = open_store(store_url)
    frame, version = again.read_layer("incidents")
    assert version == 1 and list(frame["incident_id"]) == list(inc["incident_id"].iloc[:500])
    assert len(again.log()) == n_log
    # the killed writer's lock is gone: the next save goes through
    assert again.replace_layer("incidents", inc.iloc[:10], base_version=1, author="next", reason="after the crash") == 2
    again.close()


@pytest.mark.parametrize("kind", ["geopackage", "postgis"])
def test_an_older_schema_is_migrated_or_refused_with_the_command(kind, request, tmp_path):
    from geo.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate

    if kind == "postgis":
        from geo.store.postgis import PostgisBackend

        from .conftest import fresh_postgis_url

        url = fresh_postgis_url(request.getfixturevalue("postgis_server"))
        backend = PostgisBackend(url)
    else:
        from geo.store.sqlite import SqliteBackend

        url = str(tmp_path / "old.gpkg")
        backend = SqliteBackend(url)
    with backend.engine.connect() as conn, conn.begin():
        migrate(conn, backend, upto=1)  # a store as the first version of the program made it
    backend.dispose()
    if kind == "postgis":
        with pytest.raises(StoreError, match=rf"schema version 1, older than this program's {SCHEMA_VERSION}; run: python -m geo store init --store 'postgresql://"):
            open_store(url)
        from geo.cli.main import main

        assert main(["store", "init", "--store", url]) == 0
    store = open_store(url)  # the embedded store migrates itself on opening
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    store.ensure_table(TableSpec("t", key="k"))
    store.insert("t", {"k": "1"}, author="a", reason="b")
    with pytest.raises(Exception, match="append-only"), store._write() as conn:
        conn.exec_driver_sql("DELETE FROM store_audit")  # migration 2's trigger is there
    with store._write() as conn:
        conn.exec_driver_sql("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'")
    store.close()
    with pytest.raises(StoreError, match=f"newer than this program's {SCHEMA_VERSION}; update the program"):
        open_store(url)


def test_a_server_that_is_down_gives_one_line_without_the_password(tmp_path):
    url = f"postgresql://planner:s3cret@/shahe?host={tmp_path}"  # no server listens in this folder
    with pytest.raises(StoreError) as exc:
        open_store(url)
    text = str(exc.value)
    assert "\n" not in text and "s3cret" not in text and "planner:***@" in text
    assert "check that the PostgreSQL server is running" in text
    from geo.cli.main import main

    assert main(["store", "log", "--store", url]) == 2
