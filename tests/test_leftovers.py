"""Temporary files of killed atomic writes are cleaned at the next start (finding 13 of the attack)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KILLED_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from geo._atomic import atomic_writer
    with atomic_writer(sys.argv[1], "w") as fh:
        fh.write("half of a store" * 1000)
        fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_cli_start_removes_old_leftovers_of_its_own_only(data_copy):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHAHE_DATA_DIR": str(data_copy)}
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(data_copy / "incidents.csv")], env=env, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p for p in data_copy.iterdir() if p.name.startswith(".incidents.csv.") and p.name.endswith(".tmp")]
    assert len(leftovers) == 1
    old = time.time() - 120
    os.utime(leftovers[0], (old, old))
    (data_copy / "route_history").mkdir()
    stale_version = data_copy / "route_history" / ".v0002.geojson.ab12cd_9.tmp"
    stale_version.write_text("{")
    os.utime(stale_version, (old, old))
    young = data_copy / ".patrol_routes.geojson.zz99yy88.tmp"  # a write in progress: kept
    young.write_text("{")
    foreign = [data_copy / ".mine.tmp", data_copy / "notes.abcdefgh.tmp", data_copy / ".x.abcdefgh.tmp.bak"]
    for f in foreign:
        f.write_text("user's own")
        os.utime(f, (old, old))
    run = subprocess.run([sys.executable, "-m", "geo", "validate", str(data_copy / "estates.geojson")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert not leftovers[0].exists() and not stale_version.exists()
    assert young.exists()
    assert all(f.exists() for f in foreign)
