"""Tests of geo.route_store: versioned, atomic saves of the routes file."""

import json
import re
import threading

import geopandas as gpd
import pytest
import shapely

from geo import io
from geo.errors import ConflictError, DataFileError, SchemaError
from geo.routes.store import RouteStore


def _routes(*names):
    return gpd.GeoDataFrame(
        {
            "route_id": [f"R{i}" for i in range(len(names))],
            "team_id": [f"T{i}" for i in range(len(names))],
            "team": list(names),
            "org_type": ["police"] * len(names),
            "shift": ["all"] * len(names),
        },
        geometry=[shapely.LineString([(108.36 + 0.001 * i, 30.84), (108.37 + 0.001 * i, 30.845)]) for i in range(len(names))],
        crs="EPSG:4326",
    )


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "patrol_routes.geojson"
    io.write_geojson(_routes("申明坝派出所"), path, metadata={"synthetic": True})
    return RouteStore(path)


class TestSave:
    def test_first_save_keeps_the_file_as_found(self, store):
        original = store.path.read_bytes()
        v = store.save(_routes("申明坝派出所", "物业"), author="张警官", reason="增加物业巡逻")
        versions = store.versions()
        assert [x.number for x in versions] == [1, 2]
        assert store.version_path(1).read_bytes() == original
        assert v.number == 2 and v.author == "张警官" and v.n_routes == 2
        assert store.path.read_bytes() == store.version_path(2).read_bytes()
        assert store.check() == []

    def test_metadata_of_the_file_is_kept(self, store):
        store.save(_routes("a"), author="x", reason="y")
        assert json.loads(store.path.read_text(encoding="utf-8"))["synthetic"] is True

    def test_author_and_reason_are_required(self, store):
        before = store.path.read_bytes()
        with pytest.raises(SchemaError) as err:
            store.save(_routes("a"), author=" ", reason="")
        assert len(err.value.problems) == 2
        assert store.path.read_bytes() == before
        assert store.versions() == []

    def test_invalid_routes_write_nothing(self, store):
        bad = _routes("a", "b")
        bad.loc[1, "org_type"] = "army"
        before = store.path.read_bytes()
        with pytest.raises(SchemaError, match="1 problem"):
            store.save(bad, author="x", reason="y")
        assert store.path.read_bytes() == before
        assert not store.log_path.exists()

    def test_team_id_with_two_names_writes_nothing(self, store):
        bad = _routes("甲", "乙")
        bad["team_id"] = "T0"
        before = store.path.read_bytes()
        with pytest.raises(SchemaError, match="team id 'T0' is used with 2 names"):
            store.save(bad, author="x", reason="y")
        assert store.path.read_bytes() == before

    def test_failed_replace_leaves_routes_file_unchanged(self, store, monkeypatch):
        before = store.path.read_bytes()
        import geo.routes.store as rs

        def boom(path, data):
            if path == store.path:
                raise OSError("disk full")
            return real(path, data)

        real = rs.atomic_write
        monkeypatch.setattr(rs, "atomic_write", boom)
        with pytest.raises(OSError, match="disk full"):
            store.save(_routes("a", "b"), author="x", reason="y")
        assert store.path.read_bytes() == before
        assert any("version 2 was logged but never took effect" in p for p in store.check())


class TestRestore:
    def test_undo_round_trips_the_file_exactly(self, store):
        original = store.path.read_bytes()
        store.save(_routes("a", "b"), author="x", reason="edit 1")
        store.save(_routes("a", "b", "c"), author="x", reason="edit 2")
        v = store.restore(1, author="y")
        assert store.path.read_bytes() == original
        assert v.restored_from == 1 and v.number == 4
        assert len(store.read_version(3)) == 3

    def test_unknown_version_is_reported(self, store):
        store.save(_routes("a"), author="x", reason="y")
        with pytest.raises(DataFileError, match=r"no version 9 to restore \(versions: 1, 2\)"):
            store.restore(9, author="x")


class TestConcurrency:
    def test_save_built_on_an_older_file_is_refused_and_writes_nothing(self, store):
        started_from = store.current_sha256()
        other = store.save(_routes("a", "b"), author="李警官", reason="other editor")
        before = store.path.read_bytes()
        log_before = store.log_path.read_bytes()
        with pytest.raises(ConflictError, match=rf"someone else saved version 2 at {re.escape(other.saved_at)} by 李警官.*reload"):
            store.save(_routes("c"), author="张警官", reason="stale draft", expected_sha256=started_from)
        assert store.path.read_bytes() == before
        assert store.log_path.read_bytes() == log_before
        assert not store.version_path(3).exists()

    def test_restore_checks_the_expected_file_too(self, store):
        started_from = store.current_sha256()
        store.save(_routes("a", "b"), author="x", reason="y")
        with pytest.raises(ConflictError):
            store.restore(1, author="z", expected_sha256=started_from)
        assert [v.number for v in store.versions()] == [1, 2]

    def test_save_on_the_current_file_goes_through(self, store):
        v = store.save(_routes("a"), author="x", reason="y", expected_sha256=store.current_sha256())
        assert v.number == 2
        assert store.current_sha256() == v.sha256

    def test_hand_edit_is_reported_as_such(self, store):
        started_from = store.current_sha256()
        store.path.write_bytes(store.path.read_bytes() + b"\n")
        with pytest.raises(ConflictError, match="changed since the edit began"):
            store.save(_routes("a"), author="x", reason="y", expected_sha256=started_from)

    def test_missing_file_has_no_hash(self, tmp_path):
        assert RouteStore(tmp_path / "none.geojson").current_sha256() is None

    def test_concurrent_saves_get_distinct_consecutive_versions(self, store):
        n = 8
        barrier = threading.Barrier(n)
        results, errors = [], []

        def work(i):
            try:
                routes = _routes(*[f"队{i}-{k}" for k in range(i % 3 + 1)])
                barrier.wait()
                results.append(store.save(routes, author=f"editor{i}", reason=f"edit {i}"))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(v.number for v in results) == list(range(2, n + 2))
        logged = store.versions()
        assert [v.number for v in logged] == list(range(1, n + 2))
        assert sorted(v.author for v in logged[1:]) == sorted(f"editor{i}" for i in range(n))
        assert store.check() == []

    def test_log_is_appended_not_rewritten(self, store):
        store.save(_routes("a"), author="x", reason="y")
        inode = store.log_path.stat().st_ino
        first = store.log_path.read_bytes()
        store.save(_routes("b"), author="x", reason="z")
        assert store.log_path.stat().st_ino == inode
        assert store.log_path.read_bytes().startswith(first)

    def test_torn_last_line_is_reported_with_its_number(self, store):
        store.save(_routes("a"), author="x", reason="y")
        with open(store.log_path, "a", encoding="utf-8") as fh:
            fh.write('{"number": 3, "saved_')
        assert [v.number for v in store.versions()] == [1, 2]
        assert any("line 3" in p and "incomplete" in p for p in store.check())
