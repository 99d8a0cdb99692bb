"""Surveyed positions recorded through the store (both backends): kept rows, audit, and no lost update."""

from __future__ import annotations

import pytest

from geo import geocode
from geo.errors import ConflictError
from geo.store.files import import_dir
from ui import overrides

# Two positions inside the subdistrict (WGS-84), away from every edge of its extent.
P1 = (108.3701, 30.8402)
P2 = (108.3755, 30.8455)


def test_two_recordings_are_both_kept_and_audited(store, data_dir):
    import_dir(store, data_dir, author="导入", reason="load")
    path = data_dir / "geocode_overrides.csv"
    overrides.record_override(path, "SH-01", *P1, author="王测绘", store=store, note="RTK 2024-05")
    overrides.record_override(path, "SH-02", *P2, author="李测绘", store=store)
    frame, version = store.read_layer("geocode_overrides")
    assert frame["estate_id"].tolist() == ["SH-01", "SH-02"] and version == 3
    assert [float(x) for x in frame["lon"]] == [P1[0], P2[0]]
    log = store.log("geocode_overrides")
    assert log["author"].tolist() == ["李测绘", "王测绘", "导入"]
    assert "SH-01" in log.iloc[1]["reason"]
    # the CSV follows the store and the geocoder reads it as before
    loaded = geocode.load_overrides(path)
    assert set(loaded.by_id) == {"SH-01", "SH-02"} and not loaded.problems


def test_a_recording_based_on_a_stale_table_is_refused(store, data_dir, monkeypatch):
    import_dir(store, data_dir, author="导入", reason="load")
    path = data_dir / "geocode_overrides.csv"
    real_read = store.read_layer

    def read_then_someone_else_saves(name):
        frame, version = real_read(name)
        other = frame.copy()
        other.loc[len(other)] = {"estate_id": "SH-05", "address": None, "lon": "108.3720000", "lat": "30.8410000", "datum": "wgs84", "note": None}
        store.replace_layer(name, other, base_version=version, author="另一位", reason="SH-05")
        return frame, version

    monkeypatch.setattr(store, "read_layer", read_then_someone_else_saves)
    with pytest.raises(ConflictError, match="someone else saved; reload"):
        overrides.record_override(path, "SH-01", *P1, author="王测绘", store=store)
    monkeypatch.undo()
    frame, _ = store.read_layer("geocode_overrides")
    assert frame["estate_id"].tolist() == ["SH-05"]  # the other recording survives; ours was not half-written


def test_the_register_table_reads_the_shared_store_not_the_local_file(store_url, data_dir, tmp_path, monkeypatch):
    from geo import settings
    from geo.store import open_store, sources

    with open_store(store_url) as store:
        import_dir(store, data_dir, author="导入", reason="load")
        overrides.record_override(data_dir / "geocode_overrides.csv", "SH-01", *P1, author="王测绘", store=store, note="RTK")
    here = tmp_path / "here"
    here.mkdir()
    # this machine's copy is stale: another estate, and a row with a latitude out of range
    (here / "geocode_overrides.csv").write_text("estate_id,address,lon,lat,datum,note\nSH-09,,108.37,30.84,wgs84,old\n"
                                                "SH-10,,108.37,95,wgs84,bad\n", encoding="utf-8")
    monkeypatch.setenv("SHAHE_STORE", store_url)
    monkeypatch.setattr(settings, "data_dir", here)
    table, problems = sources.read_overrides(data_dir=here)
    assert table["estate_id"].tolist() == ["SH-01"] and table["note"].tolist() == ["RTK"]
    assert [float(v) for v in table["lon"]] == [P1[0]] and problems == []
    monkeypatch.delenv("SHAHE_STORE")  # no store in use: the folder's file, with its bad row reported
    table, problems = sources.read_overrides(data_dir=here)
    assert table["estate_id"].tolist() == ["SH-09", "SH-10"] and len(problems) == 1 and "row 3" in problems[0]
