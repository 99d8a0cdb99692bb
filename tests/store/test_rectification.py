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
