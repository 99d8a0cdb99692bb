"""Concurrent writers with real processes: no row lost (geo._lock; findings 1 and 4 of the attack)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from geo._lock import fingerprint, store_lock
from geo.errors import ConflictError

ROOT = Path(__file__).parents[1]

# Each worker waits for the start file, then runs slowly enough (a pause per
# chunk / before the write) that the two read-modify-writes overlap in time.
IMPORT_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import geo.incidents.importer as imp
    src, out, go = sys.argv[1:4]
    original = imp._process_chunk
    def slow(*a, **k):
        time.sleep(0.05)
        return original(*a, **k)
    imp._process_chunk = slow
    while not Path(go).exists():
        time.sleep(0.01)
    res = imp.import_incidents(src, out=out, chunksize=20, geocoder=lambda a: None)
    print(res.imported, res.store_total)
    """
)

OVERRIDE_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import geo.io as io
    original = io.write_table
    def slow(*a, **k):
        time.sleep(0.05)
        return original(*a, **k)
    io.write_table = slow
    from ui import overrides
    path, prefix, go = sys.argv[1:4]
    while not Path(go).exists():
        time.sleep(0.01)
    for i in range(12):
        overrides.record_override(path, f"{prefix}-{i:02d}", 108.36 + i * 1e-4, 30.85, note="surveyed")
    """
)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _run_together(script: str, args_per_worker: list[list[str]], go: Path) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *args], env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in args_per_worker
    ]
    time.sleep(1.0)  # both interpreters up and waiting
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        outs.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return outs


def _incident_csv(path: Path, prefix: str, n: int) -> None:
    rows = [f"{prefix}-{i},2022-01-{1 + i % 28:02d} 08:{i % 60:02d},theft,burglary,110,{108.36 + i * 1e-5:.6f},30.85,," for i in range(n)]
    path.write_text("id,time,category,subcategory,source,lon,lat,address,description\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_two_imports_at_once_lose_no_row(tmp_path):
    a, b, store, go = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "incidents.csv", tmp_path / "go"
    _incident_csv(a, "A", 400)
    _incident_csv(b, "B", 400)
    results = _run_together(IMPORT_WORKER, [[str(a), str(store), str(go)], [str(b), str(store), str(go)]], go)
    for r in results:
        assert r.returncode == 0, r.stderr
    ids = pd.read_csv(store, encoding="utf-8-sig", dtype=str)["incident_id"]
    assert len(ids) == 800
    assert set(ids) == {f"A-{i}" for i in range(400)} | {f"B-{i}" for i in range(400)}
    # the totals printed: one run saw 400, the other 800 (it waited, then appended)
    totals = sorted(int(r.stdout.split()[1]) for r in results)
    assert totals == [400, 800]


def test_two_processes_recording_overrides_lose_no_row(tmp_path):
    path, go = tmp_path / "geocode_overrides.csv", tmp_path / "go"
    results = _run_together(OVERRIDE_WORKER, [[str(path), "SH", str(go)], [str(path), "XX", str(go)]], go)
    for r in results:
        assert r.returncode == 0, r.stderr
    ids = set(pd.read_csv(path, dtype=str)["estate_id"])
    assert ids == {f"SH-{i:02d}" for i in range(12)} | {f"XX-{i:02d}" for i in range(12)}


def test_stale_write_is_refused(tmp_path):
    path = tmp_path / "store.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    before = fingerprint(path)
    path.write_text("a\n1\n2\n", encoding="utf-8")  # someone else saved in between
    with pytest.raises(ConflictError, match="changed by someone else"), store_lock(path, expected=before):
        pytest.fail("the body must not run")
    with store_lock(path, expected=fingerprint(path)):
        pass
    assert fingerprint(tmp_path / "missing") is None
