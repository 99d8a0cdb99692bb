"""Route saves through the store (both backends): the app's draft token, stale saves refused, history, restore, file sync."""

from __future__ import annotations

import hashlib
import os

import pytest

from geo import io
from geo.errors import ConflictError
from geo.routes.shared import StoreRoutes, open_route_store, sync_routes_file
from geo.routes.store import RouteStore


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_without_a_store_the_file_history_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SHAHE_STORE", "")  # recorded, so the teardown removes what a test sets
    assert type(open_route_store(tmp_path / "patrol_routes.geojson")) is RouteStore


def test_saves_go_through_the_store_with_the_stale_check(store, data_dir):
    path = data_dir / "patrol_routes.geojson"
    routes = io.read_routes(path)
    rs = open_route_store(path, store=store)
    assert isinstance(rs, StoreRoutes)
    token = _sha(path)  # what the app hands back: the hash of the file the draft was built from
    v = rs.save(routes.iloc[:5], author="所长", reason="trim", expected_sha256=token)
    assert [x.number for x in rs.versions()] == [1, 2] and v.number == 2 and v.n_routes == 5
    assert rs.versions()[0].author == "(as found)"
    assert len(io.read_routes(path)) == 5  # the working copy follows
    assert rs.current_sha256() == _sha(path)
    with pytest.raises(ConflictError, match="someone else saved"):
        rs.save(routes.iloc[:3], author="乙", reason="old draft", expected_sha256=token)
    assert store.layer_version("routes") == 2 and len(store.log("routes")) == 2
    r = rs.restore(1, author="所长", reason="undo", expected_sha256=_sha(path))
    assert r.number == 3 and r.restored_from == 1 and len(io.read_routes(path)) == len(routes)
    assert rs.read_version(2)["route_id"].tolist() == routes["route_id"].iloc[:5].tolist()
    assert rs.check() == []


def test_the_file_follows_a_save_made_elsewhere(store, store_url, data_dir, monkeypatch):
    path = data_dir / "patrol_routes.geojson"
    routes = io.read_routes(path)
    rs = open_route_store(path, store=store)
    rs.save(routes, author="甲", reason="first")
    store.replace_layer("routes", routes.iloc[:2], base_version=store.layer_version("routes"), author="乙", reason="other office")
    monkeypatch.setenv("SHAHE_STORE", store_url)
    assert "replaced by version" in sync_routes_file(path)
    assert len(io.read_routes(path)) == 2
    assert sync_routes_file(path) is None  # already in step
    backups = list(data_dir.glob("patrol_routes.before-store-*.geojson"))
    assert len(backups) == 1 and len(io.read_routes(backups[0])) == len(routes)



def test_the_file_is_checked_again_after_any_change_to_it_or_to_the_store(store, store_url, data_dir, monkeypatch):
    path = data_dir / "patrol_routes.geojson"
    routes = io.read_routes(path)
    open_route_store(path, store=store).save(routes, author="甲", reason="first")
    monkeypatch.setenv("SHAHE_STORE", store_url)
    sync_routes_file(path)
    assert sync_routes_file(path) is None
    in_step = path.read_bytes()
    # an edit by hand of the same length (one digit of a coordinate changed), with a new modification time
    text = in_step.decode("utf-8")
    i = text.index("108.") + 5
    edited = text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:]
    path.write_text(edited, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert "replaced by version" in sync_routes_file(path)
    assert path.read_bytes() == in_step
    assert [p.read_text(encoding="utf-8") for p in data_dir.glob("patrol_routes.before-store-*.geojson")] == [edited]
    # a new version in the store, the file untouched
    store.replace_layer("routes", routes.iloc[:3], base_version=store.layer_version("routes"), author="乙", reason="other office")
    assert "replaced by version" in sync_routes_file(path)
    assert len(io.read_routes(path)) == 3
    # both files it replaced are kept, even within one second
    kept = sorted(p.read_bytes() for p in data_dir.glob("patrol_routes.before-store-*.geojson"))
    assert kept == sorted([edited.encode("utf-8"), in_step])
