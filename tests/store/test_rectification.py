"""Rectification records on both backends: stored, audited, and a stale status change refused."""

from __future__ import annotations

import pytest

from geo import settings
from geo.errors import ConflictError, SchemaError
from geo.rectification import repository


@pytest.fixture(autouse=True)
def no_seed_files(tmp_path, monkeypatch):
    """A data folder without the shipped demo records, so the store starts empty."""
    monkeypatch.setattr(settings, "data_dir", tmp_path)


def _measure(mid="MS-SH-01-fence"):
    return {"measure_id": mid, "estate_id": "SH-01", "kind": "fence", "description": "补护栏", "responsible_unit": "社区",
            "due_date": "2022-11-30", "status": "planned", "author": "张三", "synthetic": False}


def test_records_round_trip_with_one_audit_entry_each(store):
    repository.add_records("measures", [_measure(), _measure("MS-SH-01-flue")], author="张三", reason="plan", store=store)
    got = repository.load_records("measures", store=store).set_index("measure_id")
    assert got.loc["MS-SH-01-fence", "description"] == "补护栏" and got.loc["MS-SH-01-fence", "version"] == 1
    assert len(store.log(repository.table_name("measures"))) == 2


def test_status_steps_are_checked_and_a_stale_change_is_refused(store):
    repository.add_records("measures", [_measure()], author="张三", reason="plan", store=store)
    with pytest.raises(SchemaError, match="refused"):
        repository.change_measure("MS-SH-01-fence", {"status": "done"}, author="张三", reason="x", store=store)
    repository.change_measure("MS-SH-01-fence", {"status": "in_progress"}, author="张三", reason="start", base_version=1, store=store)
    # Another editor still looking at version 1 cannot overwrite version 2.
    with pytest.raises(ConflictError, match="reload"):
        repository.change_measure("MS-SH-01-fence", {"status": "done"}, author="李四", reason="y", base_version=1, store=store)
    assert repository.load_records("measures", store=store)["status"].tolist() == ["in_progress"]
    log = store.log(repository.table_name("measures"), "MS-SH-01-fence")
    assert len(log) == 2


def _seed_folder(tmp_path, measures: int):
    """A data folder whose rectification/measures.csv holds ``measures`` records (and no other kind)."""
    import pandas as pd

    folder = tmp_path / "seeded"
    (folder / "rectification").mkdir(parents=True)
    pd.DataFrame([_measure(f"MS-SH-01-{i:03d}") for i in range(measures)]).to_csv(folder / "rectification" / "measures.csv", index=False)
    return folder


def test_the_shipped_records_fill_an_empty_store_once_in_one_transaction(store, tmp_path):
    folder = _seed_folder(tmp_path, 5)
    repository.open_records_store(store, data_dir=folder)
    got = repository.load_records("measures", store=store)
    assert sorted(got["measure_id"]) == [f"MS-SH-01-{i:03d}" for i in range(5)]
    log = store.log(repository.table_name("measures"))
    assert len(log) == 5 and set(log["author"]) == {repository.SEED_AUTHOR}
    # opened again: nothing more; and a table that held records is never filled again, even when emptied
    repository.open_records_store(store, data_dir=folder)
    assert len(store.log(repository.table_name("measures"))) == 5
    for key in got["measure_id"]:
        store.delete(repository.table_name("measures"), key, base_version=1, author="张三", reason="clear")
    repository.open_records_store(store, data_dir=folder)
    assert repository.load_records("measures", store=store).empty


def test_filling_writes_nothing_when_a_table_held_a_record_or_a_record_is_bad(store):
    table = repository.table_name("measures")
    repository.open_records_store(store)  # the tables, empty (no shipped files in this data folder)
    bad = {**_measure("MS-SH-01-b"), "no_such_field": "x"}  # a column the table does not have
    with pytest.raises(SchemaError):
        store.fill_empty({table: ([_measure("MS-SH-01-a"), bad], "shipped")}, author="初始导入")
    assert store.list(table).empty and store.log(table).empty  # the good record before the bad one was not kept
    assert store.fill_empty({table: ([_measure("MS-SH-01-a")], "shipped")}, author="初始导入") is True
    assert store.fill_empty({table: ([_measure("MS-SH-01-c")], "shipped")}, author="初始导入") is False
    assert store.list(table)["measure_id"].tolist() == ["MS-SH-01-a"]


def test_first_opens_at_the_same_moment_make_one_copy_and_read_it_whole(store_url, tmp_path):
    # Four processes open the records of one new store at once (two sessions, the app's start, a command): before,
    # one failed with a conflict and another read a part of the records while they were being imported.
    import os
    import subprocess
    import sys
    import time

    folder = _seed_folder(tmp_path, 60)
    start = time.time() + 4
    code = (
        "import time, sys\n"
        "from pathlib import Path\n"
        "from geo.store import open_store\n"
        "from geo.rectification import repository\n"
        f"store = open_store({store_url!r})\n"
        f"while time.time() < {start}: pass\n"
        f"repository.open_records_store(store, data_dir=Path({str(folder)!r}))\n"
        "print(len(repository.load_records('measures', store=store)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SHAHE_STORE"}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-2000:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["60"] * 4
    from geo.store import open_store

    with open_store(store_url) as store:
        assert len(store.log(repository.table_name("measures"))) == 60
