"""Two input files read at once, one in a forked process (geo.io.beside, geo.store.sources.read_estates_and_routes).

Every case compares the outcome with reading one file after the other: the
same frames, notices and errors, whatever the child does.
"""

import json
import os
import pickle
import signal
import time

import pytest
import shapely

from geo import settings
from geo.cli.main import main
from geo.errors import SchemaError
from geo.io.beside import Beside, beside, dumps, worth_forking
from geo.routes.load import load_routes
from geo.store import sources
from tests.conftest import SHIPPED_DATA

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (Linux, macOS)")

ESTATES = SHIPPED_DATA / "estates.geojson"
ROUTES = SHIPPED_DATA / "patrol_routes.geojson"


@pytest.fixture()
def always_fork(monkeypatch):
    """Fork whatever the files' size, on any machine with fork."""
    monkeypatch.setattr(settings, "read_beside_from_mb", 0.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_worth_forking_follows_the_setting(monkeypatch):
    size_mb = (ESTATES.stat().st_size + ROUTES.stat().st_size) / 1e6
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(settings, "read_beside_from_mb", size_mb * 0.99)
    assert worth_forking(ESTATES, ROUTES)
    monkeypatch.setattr(settings, "read_beside_from_mb", size_mb * 1.01)
    assert not worth_forking(ESTATES, ROUTES)
    assert not worth_forking(None, b"bytes are no file")  # uploads and the store count as nothing
    monkeypatch.setattr(settings, "read_beside_from_mb", 0.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not worth_forking(ESTATES, ROUTES)  # one core: nothing to gain


def test_files_read_at_once_equal_one_after_the_other(always_fork):
    estates, routes = sources.read_estates_and_routes(ESTATES, ROUTES)
    want_estates, want_routes = sources.read_estates(ESTATES), load_routes(ROUTES)
    assert estates.equals(want_estates) and routes.equals(want_routes)
    assert routes.crs == want_routes.crs
    assert routes.attrs == want_routes.attrs and estates.attrs == want_estates.attrs


def test_the_child_really_reads(always_fork):
    parent = os.getpid()
    with beside(os.getpid) as job:
        assert job.forked
        assert job.result() != parent


def test_a_bad_routes_file_gives_the_same_error(always_fork, tmp_path):
    doc = json.loads(ROUTES.read_text(encoding="utf-8"))
    doc["features"][1]["properties"]["shift"] = "evening"
    doc["features"][2]["geometry"]["coordinates"] = [doc["features"][2]["geometry"]["coordinates"][0]]
    bad = tmp_path / "routes.geojson"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SchemaError) as alone:
        load_routes(bad)
    with pytest.raises(SchemaError) as forked:
        sources.read_estates_and_routes(ESTATES, bad)
    assert len(alone.value.problems) == 2
    assert forked.value.problems == alone.value.problems
    assert str(forked.value) == str(alone.value) and forked.value.summary == alone.value.summary


def test_the_estates_error_comes_first_and_the_child_is_stopped(always_fork, tmp_path):
    bad = tmp_path / "estates.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(OSError, match=r"estates\.geojson") as exc:
        sources.read_estates_and_routes(bad, ROUTES)
    with pytest.raises(OSError) as alone:
        sources.read_estates(bad)
    assert str(exc.value) == str(alone.value)

    with pytest.raises(ValueError, match="the caller's own work"), beside(time.sleep, 600) as job:
        pid = job._proc.pid
        raise ValueError("the caller's own work failed")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped, not left sleeping


class _Local(Exception):
    """An exception whose extra state does not survive pickling."""

    def __init__(self, text):
        super().__init__(text)
        self.handle = lambda: text


def _calls_here(counter, fail):
    counter.append(os.getpid())
    if fail:
        raise _Local("cannot travel")
    return lambda: "a result that cannot be pickled"


def test_what_cannot_travel_is_run_again_here(always_fork):
    here = []
    with beside(_calls_here, here, True) as job, pytest.raises(_Local, match="cannot travel"):
        job.result()
    assert here == [os.getpid()]  # the child's run left no trace here; the one run here gave the error
    here.clear()
    with beside(_calls_here, here, False) as job:
        assert job.result()() == "a result that cannot be pickled"
    assert here == [os.getpid()]


def test_a_child_that_dies_falls_back_to_here(always_fork):
    parent = os.getpid()

    def die_in_child():
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return "read here"

    with beside(die_in_child) as job:
        assert job.forked
        assert job.result() == "read here"


def test_no_fork_runs_on_result():
    calls = []
    job = Beside(calls.append, (1,), {}, fork=False)
    assert calls == [] and not job.forked
    job.result()
    assert calls == [1]


def test_coverage_report_is_the_same_with_the_child(always_fork, tmp_path, capsys, monkeypatch):
    args = ["coverage", "--estates", str(ESTATES), "--routes", str(ROUTES)]
    assert main([*args, "--out", str(tmp_path / "forked.csv")]) == 0
    forked = capsys.readouterr()
    monkeypatch.setattr(settings, "read_beside_from_mb", float("inf"))
    assert main([*args, "--out", str(tmp_path / "alone.csv")]) == 0
    alone = capsys.readouterr()
    assert (tmp_path / "forked.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes()
    assert forked.err == alone.err
    assert forked.out.replace("forked.csv", "alone.csv") == alone.out


def test_schema_errors_travel_whole():
    import pickle

    err = SchemaError("routes.geojson: 2 problems", ["feature 1: field 'shift' ...", "feature 2: geometry ..."])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is SchemaError
    assert (back.summary, back.problems, str(back)) == (err.summary, err.problems, str(err))


def test_parquet_files_count_as_the_geojson_they_read_like(monkeypatch, tmp_path):
    """A GeoParquet file weighs three times its size: the same features take about as long to read as a GeoJSON three times as large."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    text, columns = tmp_path / "a.geojson", tmp_path / "a.parquet"
    text.write_bytes(b"x" * 1000)
    columns.write_bytes(b"x" * 1000)
    monkeypatch.setattr(settings, "read_beside_from_mb", 2999 / 1e6)
    assert worth_forking(columns)
    assert not worth_forking(text)
    monkeypatch.setattr(settings, "read_beside_from_mb", 3001 / 1e6)
    assert not worth_forking(columns)
    assert worth_forking(text, columns)  # 1,000 + 3,000 bytes


# --- geometries travel as coordinates ----------------------------------------------


def _frame(geoms, crs="EPSG:4326"):
    import geopandas as gpd

    return gpd.GeoDataFrame({"id": [f"g{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs)


SQUARE = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
HOLE = [(1, 1), (1, 2), (2, 2), (1, 1)]
GEOMETRY_CASES = {
    "points": ["POINT (108.38 30.81)", "POINT (-0.1 51.5)", "POINT (1e-9 -1e9)"],
    "lines": ["LINESTRING (0 0, 1 1, 2 0)", "LINESTRING (5 5, 6 6)"],
    "polygons with a hole": [shapely.Polygon(SQUARE, [HOLE]).wkt, "POLYGON ((10 10, 11 10, 11 11, 10 10))"],
    "multi lines": ["MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 2))", "MULTILINESTRING ((9 9, 8 8))"],
    "multi polygons": [shapely.MultiPolygon([shapely.Polygon(SQUARE, [HOLE]), shapely.box(5, 5, 6, 6)]).wkt],
    "multi points": ["MULTIPOINT (0 0, 1 1)", "MULTIPOINT (2 2)"],
    # these keep geopandas' own pickling
    "mixed types": ["POINT (0 0)", "LINESTRING (0 0, 1 1)"],
    "a line and a multi line": ["LINESTRING (0 0, 1 1)", "MULTILINESTRING ((0 0, 1 1))"],
    "with a missing geometry": ["POINT (0 0)", None],
    "with an empty geometry": ["LINESTRING (0 0, 1 1)", "LINESTRING EMPTY"],
    "three dimensions": ["POINT Z (0 0 5)", "POINT Z (1 1 6)"],
    "a collection": ["GEOMETRYCOLLECTION (POINT (0 0), LINESTRING (0 0, 1 1))"],
}


@pytest.mark.parametrize("case", list(GEOMETRY_CASES))
def test_geometries_come_back_exactly(case):
    geoms = [None if g is None else shapely.from_wkt(g) if isinstance(g, str) else g for g in GEOMETRY_CASES[case]]
    frame = _frame(geoms, crs="EPSG:4545" if case == "lines" else "EPSG:4326")
    back = pickle.loads(dumps(frame))
    want = pickle.loads(pickle.dumps(frame))  # geopandas' own round trip, through WKB
    # the same geometry types, parts, rings and coordinates, bit for bit
    assert shapely.to_wkb(back.geometry.values.to_numpy()).tolist() == shapely.to_wkb(want.geometry.values.to_numpy()).tolist()
    assert back.geometry.isna().tolist() == want.geometry.isna().tolist()
    assert back.crs == frame.crs and back.equals(want)


def test_one_type_in_two_dimensions_travels_as_coordinates():
    lines = _frame([shapely.LineString([(0, 0), (1, 1)])] * 500)
    mixed = _frame([shapely.LineString([(0, 0), (1, 1)])] * 499 + [shapely.Point(0, 0)])
    # the pickle names the function that rebuilds the array from coordinates, or geopandas' own WKB state
    assert b"_geometry_array" in dumps(lines) and b"_geometry_array" not in dumps(mixed)
    assert dumps(mixed) == pickle.dumps(mixed, protocol=pickle.HIGHEST_PROTOCOL)


def test_routes_read_in_the_child_have_their_geometries(always_fork, tmp_path):
    wkt = "MULTILINESTRING ((108.38 30.81, 108.39 30.81), (108.39 30.82, 108.40 30.82))"
    data = json.loads(ROUTES.read_text(encoding="utf-8"))
    data["features"][0]["geometry"] = json.loads(shapely.to_geojson(shapely.from_wkt(wkt)))
    path = tmp_path / "routes.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    _, routes = sources.read_estates_and_routes(ESTATES, path)
    want = load_routes(path)
    assert shapely.to_wkb(routes.geometry.values.to_numpy()).tolist() == shapely.to_wkb(want.geometry.values.to_numpy()).tolist()
    assert routes.equals(want)
