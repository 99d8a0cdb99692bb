"""Tests of geo.routes: team consistency, self-crossing notices, GPX and GCJ-02 sources."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo import io
from geo.errors import DataFileError, SchemaError
from geo.routes.crossings import DENSE_SEGMENTS
from geo.routes.load import check_teams, count_self_crossings, load_routes, read_gpx, self_crossing_notices

DATA = Path(__file__).parents[1] / "data" / "coverage"
GEOD = pyproj.Geod(ellps="WGS84")


class TestTeams:
    def test_team_id_with_two_names_names_both_and_the_routes(self):
        with pytest.raises(SchemaError) as info:
            load_routes(DATA / "routes_team_names.geojson")
        text = str(info.value)
        assert "routes_team_names.geojson" in text and "'t1'" in text
        assert "'物业一队' on routes a1, a3" in text and "'物业二队' on routes a2" in text

    def test_consistent_teams_pass(self):
        routes = load_routes(DATA / "routes.geojson")
        check_teams(routes)
        assert sorted(routes["team_id"].unique()) == ["t-police", "t-school"]


class TestSelfCrossing:
    def test_counts(self):
        simple = shapely.LineString([(0, 0), (1, 0), (2, 1)])
        loop_once = shapely.LineString([(0, 0), (2, 2), (2, 0), (0, 2)])  # crosses at (1, 1)
        closed = shapely.LineString([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)])
        zigzag = shapely.LineString([(0, 0), (10, 0)] + [(k, (-1) ** k * 2) for k in range(9, -1, -1)])  # crosses y=0 nine times
        through_vertex = shapely.LineString([(0, 0), (2, 0), (2, 1), (1, 1), (1, -1)])  # crosses at (1, 0)
        counts = count_self_crossings([simple, loop_once, closed, zigzag, through_vertex])
        assert list(counts[:4]) == [0, 1, 0, 9] and counts[4] == 1

    def test_lines_counted_together_do_not_cross_each_other(self):
        # Two copies of the same loop lie on each other: each crosses itself once (at (1, 1)), never the other.
        loop = shapely.LineString([(0, 0), (2, 2), (2, 0), (0, 2)])
        straight = shapely.LineString([(-1, 1), (3, 1)])  # passes through both loops' crossing, simple itself
        # Two parts crossing at (1, 1), and a third part with its own loop crossing at (11, 1).
        multi = shapely.MultiLineString([[(0, 0), (2, 2)], [(0, 2), (2, 0)], [(10, 0), (12, 2), (12, 0), (10, 2)]])
        counts = count_self_crossings([loop, straight, loop, multi, None])
        assert list(counts) == [1, 0, 1, 2, 0]

    @pytest.mark.parametrize("teeth", [30, 47, 48, 49, 200])  # 31 to 201 segments
    def test_short_and_long_lines_count_alike(self, teeth):
        # A baseline from (0, 0) to (teeth, 0), then teeth points zigzagging back above and below it: each tooth after the
        # first crosses the baseline once, between two vertices (teeth - 1 crossings). Lines of up to DENSE_SEGMENTS
        # segments are paired in arrays, longer ones through a tree: the count is the same.
        zigzag = shapely.LineString([(0, 0), (teeth, 0)] + [(k, (-1) ** k * 2) for k in range(teeth - 1, -1, -1)])
        assert 31 <= DENSE_SEGMENTS < 201  # both ways are taken
        shifted = shapely.transform(zigzag, lambda c: c + np.array([0.5, 0]))
        # the shifted copy lies across the first: counted together, neither line crosses the other
        assert list(count_self_crossings([zigzag, shifted])) == [teeth - 1, teeth - 1]

    def test_a_repeated_point_is_not_a_crossing(self):
        # GPS tracks repeat a fix when the patrol stands still: the loop still crosses itself once (at (1, 1)), a closed
        # line with its first point repeated is still a plain loop, and a repeat on a simple line changes nothing
        loop = [(0, 0), (2, 2), (2, 0), (0, 2)]
        repeats = [
            shapely.LineString([(0, 0), (2, 2), (2, 2), (2, 0), (0, 2)]),
            shapely.LineString([(0, 0), (0, 0), (2, 2), (2, 0), (2, 0), (0, 2), (0, 2)]),
            shapely.LineString([(0, 0), (0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]),
            shapely.MultiLineString([[(0, 0), (2, 2), (2, 2)], [(0, 2), (2, 0)]]),
        ]
        assert list(count_self_crossings([shapely.LineString(loop), *repeats])) == [1, 1, 1, 0, 1]

    def test_notices_warn_but_keep(self):
        routes = gpd.GeoDataFrame(
            {"route_id": ["loop", "gps", "ok"]},
            geometry=[
                shapely.LineString([(0, 0), (2, 2), (2, 0), (0, 2)]),
                shapely.LineString([(0, 0), (10, 0)] + [(k, (-1) ** k * 2) for k in range(9, -1, -1)]),
                shapely.LineString([(0, 0), (1, 1)]),
            ],
        )
        notes = self_crossing_notices(routes)
        assert len(notes) == 2
        assert notes[0].startswith("route loop: the line crosses itself 1 time") and "suspect" not in notes[0]
        assert notes[1].startswith("route gps: the line crosses itself 9 times") and "suspect" in notes[1]

    def test_many_self_crossing_routes_are_summed_up_per_kind(self):
        # 25 loops (1 crossing) and 3 tangled tracks (9 crossings): above 20 loops one notice counts them
        loop = shapely.LineString([(0, 0), (2, 2), (2, 0), (0, 2)])
        gps = shapely.LineString([(0, 0), (10, 0)] + [(k, (-1) ** k * 2) for k in range(9, -1, -1)])
        ids = [f"L{i:02d}" for i in range(25)] + ["G1", "G2", "G3"]
        routes = gpd.GeoDataFrame({"route_id": ids}, geometry=[loop] * 25 + [gps] * 3)
        notes = self_crossing_notices(routes)
        assert len(notes) == 4
        assert notes[0].startswith("25 routes cross themselves 1 to 3 times (patrol loops may do this; kept as is): L00 (1), L01 (1)")
        assert notes[0].endswith("L19 (1) and 5 more") and "L20" not in notes[0]
        assert [n.split(":")[0] for n in notes[1:]] == ["route G1", "route G2", "route G3"]
        assert all("crosses itself 9 times" in n and "suspect" in n for n in notes[1:])
        many = self_crossing_notices(routes, listed=2)
        assert len(many) == 2 and many[1].startswith("3 routes cross themselves more than 3 times; each GPS track this tangled is suspect")
        assert many[1].endswith("G1 (9), G2 (9) and 1 more")

    def test_load_routes_reports_self_crossing_as_notice(self, tmp_path):
        routes = load_routes(DATA / "routes.geojson")
        routes.loc[0, "geometry"] = shapely.LineString([(108.369, 30.840), (108.371, 30.842), (108.371, 30.840), (108.369, 30.842)])
        path = tmp_path / "loop.geojson"
        io.write_geojson(routes, path)
        again = load_routes(path)
        assert len(again) == 3
        assert any("route r1: the line crosses itself 1 time" in n for n in again.attrs["notices"])


class TestBadLines:
    def test_zero_length_line_is_refused_by_the_reader(self, tmp_path):
        text = (DATA / "routes.geojson").read_text(encoding="utf-8")
        text = text.replace("[[108.3750, 30.8465], [108.3800, 30.8465]]", "[[108.3750, 30.8465], [108.3750, 30.8465]]")
        path = tmp_path / "zero.geojson"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SchemaError, match="zero length"):
            load_routes(path)


class TestGpx:
    def test_track_becomes_one_route_of_its_segments(self):
        gdf = read_gpx(DATA / "patrol.gpx", team_id="v1", team="群防群治志愿者", org_type="volunteer", shift="night", synthetic=True)
        assert len(gdf) == 1 and gdf.crs.to_epsg() == 4326
        row = gdf.iloc[0]
        assert row["route_id"] == "patrol" and row["team"] == "群防群治志愿者" and row["shift"] == "night"
        assert row.geometry.geom_type == "MultiLineString"
        assert len(shapely.get_parts(row.geometry)) == 2
        assert shapely.get_coordinates(row.geometry)[0].tolist() == [108.369, 30.84]
        assert "夜间巡逻" in row["note"]

    def test_load_routes_takes_gpx_with_team_fields(self):
        gdf = load_routes(DATA / "patrol.gpx", team_id="v1", team="志愿者", org_type="volunteer")
        assert gdf.iloc[0]["shift"] == "all"

    def test_gcj02_gpx_is_converted_about_500_m(self):
        wgs = read_gpx(DATA / "patrol.gpx", team_id="v1", team="志愿者", org_type="volunteer")
        gcj = read_gpx(DATA / "patrol.gpx", team_id="v1", team="志愿者", org_type="volunteer", datum="gcj02")
        a = shapely.get_coordinates(wgs.geometry.values[0])
        b = shapely.get_coordinates(gcj.geometry.values[0])
        d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]
        assert np.all((d > 450) & (d < 560))
        assert (b[:, 0] < a[:, 0]).all()  # WGS-84 lies west of the GCJ-02 numbers
        assert any("GCJ02" in n for n in gcj.attrs["notices"])

    def test_bad_gpx(self, tmp_path):
        bad = tmp_path / "bad.gpx"
        bad.write_text("<gpx><trk><trkseg><trkpt lat='x' lon='1'/></trkseg></trk></gpx>", encoding="utf-8")
        with pytest.raises(DataFileError, match="not a readable GPX"):
            read_gpx(bad, team_id="v", team="v", org_type="volunteer")
        with pytest.raises(DataFileError, match="no such file"):
            read_gpx(tmp_path / "missing.gpx", team_id="v", team="v", org_type="volunteer")

    def test_bad_team_fields_are_reported(self):
        with pytest.raises(SchemaError, match="org_type"):
            read_gpx(DATA / "patrol.gpx", team_id="v1", team="志愿者", org_type="army")


class TestGcj02Source:
    def test_declared_gcj02_geojson_is_converted_before_measuring(self):
        gdf = load_routes(DATA / "routes_gcj02.geojson")
        lon, lat = shapely.get_coordinates(gdf.geometry.values[0])[0]
        d = GEOD.inv(108.3744, 30.8376, lon, lat)[2]
        assert 450 < d < 560 and lon < 108.3744 and lat > 30.8376
        assert any("GCJ02" in n for n in gdf.attrs["notices"])
