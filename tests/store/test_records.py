"""Record tables: versioned CRUD, stale writes refused, one audit entry per change, restore (both backends)."""

from __future__ import annotations

import json

import pytest
import shapely

from geo.errors import ConflictError, DataFileError, SchemaError
from geo.store import TableSpec

SURVEYS = TableSpec("surveys", key="survey_id", columns={"estate_id": str, "score": int, "ratio": float, "done": bool, "notes": dict},
                    geometry="POINT")


def _add(store, key="S-1", **extra):
    store.ensure_table(SURVEYS)
    rec = {"survey_id": key, "estate_id": "SH-01", "score": 3, "ratio": 0.5, "done": False, "notes": {"gate": "东门"},
           "geometry": shapely.Point(108.3701, 30.8402), **extra}
    return store.insert("surveys", rec, author="张三", reason="first visit")


def test_insert_get_list_round_trip_every_kind(store):
    assert _add(store) == 1
    got = store.get("surveys", "S-1")
    assert got["estate_id"] == "SH-01" and got["score"] == 3 and got["ratio"] == 0.5 and got["done"] is False
    assert got["notes"] == {"gate": "东门"}
    assert got["geometry"].equals_exact(shapely.Point(108.3701, 30.8402), 1e-12)
    assert got["version"] == 1 and got["updated_by"] == "张三"
    df = store.list("surveys", where={"estate_id": "SH-01"})
    assert list(df["survey_id"]) == ["S-1"] and list(df["version"]) == [1]
    assert store.list("surveys", where={"estate_id": "SH-02"}).empty
    assert store.get("surveys", "nope") is None


def test_update_delete_with_versions_and_audit(store):
    v1 = _add(store)
    v2 = store.update("surveys", "S-1", {"score": 5}, base_version=v1, author="李四", reason="re-check")
    assert v2 == 2 and store.get("surveys", "S-1")["score"] == 5
    v3 = store.delete("surveys", "S-1", base_version=v2, author="李四", reason="duplicate")
    assert v3 == 3 and store.get("surveys", "S-1") is None
    log = store.log("surveys", "S-1")
    assert list(log["action"]) == ["delete", "update", "insert"]  # newest first, one entry per change
    assert list(log["version"]) == [3, 2, 1]
    upd = log.iloc[1]
    assert json.loads(upd["before"])["score"] == 3 and json.loads(upd["after"])["score"] == 5
    assert upd["author"] == "李四" and upd["reason"] == "re-check"
    assert log.iloc[0]["after"] is None
    # a key inserted again after a delete keeps counting versions up, so an old base_version can never match it
    assert _add(store) == 4


def test_stale_update_and_delete_are_refused_and_write_nothing(store):
    v1 = _add(store)
    store.update("surveys", "S-1", {"score": 4}, base_version=v1, author="甲", reason="a")
    n_log = len(store.log())
    with pytest.raises(ConflictError, match="someone else saved; reload"):
        store.update("surveys", "S-1", {"score": 9}, base_version=v1, author="乙", reason="b")
    with pytest.raises(ConflictError, match="someone else saved; reload"):
        store.delete("surveys", "S-1", base_version=v1, author="乙", reason="b")
    with pytest.raises(ConflictError, match="already exists"):
        _add(store)
    assert store.get("surveys", "S-1")["score"] == 4 and len(store.log()) == n_log


def test_update_of_a_deleted_record_is_a_conflict(store):
    v1 = _add(store)
    store.delete("surveys", "S-1", base_version=v1, author="甲", reason="a")
    with pytest.raises(ConflictError, match="deleted"):
        store.update("surveys", "S-1", {"score": 1}, base_version=v1, author="乙", reason="b")
    with pytest.raises(DataFileError, match="no such record"):
        store.update("surveys", "S-9", {"score": 1}, base_version=1, author="乙", reason="b")


def test_restore_is_a_new_version(store):
    v1 = _add(store)
    v2 = store.update("surveys", "S-1", {"score": 5, "geometry": shapely.Point(108.38, 30.85)}, base_version=v1, author="甲", reason="a")
    v3 = store.restore("surveys", "S-1", 1, author="乙", reason="undo")
    assert v3 == v2 + 1
    got = store.get("surveys", "S-1")
    assert got["score"] == 3 and got["geometry"].equals_exact(shapely.Point(108.3701, 30.8402), 1e-12) and got["version"] == 3
    store.delete("surveys", "S-1", base_version=3, author="甲", reason="gone")
    assert store.restore("surveys", "S-1", 3, author="乙", reason="bring back") == 5
    assert store.get("surveys", "S-1")["score"] == 3


def test_bad_input_names_table_record_and_field(store):
    store.ensure_table(SURVEYS)
    with pytest.raises(SchemaError, match=r"unknown column\(s\) \['colour'\]"):
        store.insert("surveys", {"survey_id": "S-1", "colour": "red"}, author="a", reason="b")
    with pytest.raises(SchemaError, match="field 'score'"):
        store.insert("surveys", {"survey_id": "S-1", "score": "many"}, author="a", reason="b")
    with pytest.raises(SchemaError) as exc:
        store.insert("surveys", {"survey_id": "S-1"}, author=" ", reason="")
    assert exc.value.problems == ["field 'author': missing; say who saves", "field 'reason': missing; say why"]
    with pytest.raises(DataFileError, match="no record table 'meetings'"):
        store.get("meetings", "M-1")
    assert store.log().empty


def test_ensure_table_adds_columns_and_refuses_type_changes(store):
    _add(store)
    store.ensure_table(TableSpec("surveys", key="survey_id", columns={**SURVEYS.columns, "visited_on": str}, geometry="POINT"))
    v = store.update("surveys", "S-1", {"visited_on": "2024-05-01"}, base_version=1, author="a", reason="b")
    assert store.get("surveys", "S-1")["visited_on"] == "2024-05-01" and v == 2
    with pytest.raises(SchemaError, match="another type"):
        store.ensure_table(TableSpec("surveys", key="survey_id", columns={"score": str}, geometry="POINT"))
    with pytest.raises(SchemaError, match="reserved"):
        TableSpec("x", key="k", columns={"version": int}).kinds()


def test_audit_trail_is_append_only(store):
    _add(store)
    with pytest.raises(Exception, match="append-only"), store._write() as conn:
        conn.exec_driver_sql("UPDATE store_audit SET author = 'someone else'")
    assert list(store.log()["author"]) == ["张三"]
