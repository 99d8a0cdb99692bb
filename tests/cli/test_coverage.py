"""``python -m geo coverage``: both readings side by side, ``--by team``, method and caveat lines (geo.cli.coverage, geo.report)."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import io
from geo.cli.main import main
from geo.coverage.model import CoverageModel
from geo.report import status_counts_by_reading, team_obligations_by_reading

X0, Y0 = 536000.0, 3413000.0  # EPSG:4545 metres, inside Shahe

# Hand-built layout; distances by construction (metres):
# E1 at 50 m from team A's route (covers) and 550 m from team B's (nearby, does not cover);
# E2 at 300 m from team C's route (nearby, does not cover); E3 more than 1 km from every route.
# default: E1 covered, E2 coverable, E3 gap.  strict: E1 coverable (B does not cover), E2 coverable, E3 gap.
# Obligations: default C -> E2 (2 x (300 - 100) = 400 m); strict B -> E1 (2 x (550 - 100) = 900 m) and C -> E2 (400 m).
ESTATES = [("E1", X0, Y0 + 50.0), ("E2", X0 + 3000.0, Y0 + 300.0), ("E3", X0 + 10000.0, Y0)]
ROUTES = [
    ("R-A", "A", "甲队", [(X0 - 100, Y0), (X0 + 100, Y0)]),
    ("R-B", "B", "乙队", [(X0 - 100, Y0 + 600), (X0 + 100, Y0 + 600)]),
    ("R-C", "C", "丙队", [(X0 + 2900, Y0), (X0 + 3100, Y0)]),
]


@pytest.fixture()
def layout(tmp_path):
    est = gpd.GeoDataFrame(
        {
            "estate_id": [e for e, _, _ in ESTATES],
            "name": ["一号小区", "二号小区", "三号小区"],
            "community": ["凤仙路社区"] * 3,
            "address": ["凤仙路1号", "凤仙路3号", "凤仙路5号"],
            "batch_year": [2022, 2023, 2024],
        },
        geometry=[shapely.Point(x, y) for _, x, y in ESTATES],
        crs="EPSG:4545",
    )
    rts = gpd.GeoDataFrame(
        {
            "route_id": [r[0] for r in ROUTES],
            "team_id": [r[1] for r in ROUTES],
            "team": [r[2] for r in ROUTES],
            "org_type": ["police", "property", "volunteer"],
            "shift": ["all"] * 3,
        },
        geometry=[shapely.LineString(r[3]) for r in ROUTES],
        crs="EPSG:4545",
    )
    io.write_geojson(est, tmp_path / "e.geojson")
    io.write_geojson(rts, tmp_path / "r.geojson")
    return tmp_path / "e.geojson", tmp_path / "r.geojson"


def run(layout, *args):
    return main(["coverage", "--estates", str(layout[0]), "--routes", str(layout[1]), *args])


class TestReport:
    def test_status_counts_side_by_side(self, layout):
        est, rts = io.read_estates(layout[0]), io.read_routes(layout[1])
        default = CoverageModel.from_geodataframes(est, rts).solve().table()
        strict = CoverageModel.from_geodataframes(est, rts, strict=True).solve().table()
        counts = status_counts_by_reading(default, strict)
        assert counts.to_dict() == {"default": {"covered": 1, "coverable": 1, "gap": 1}, "strict": {"covered": 0, "coverable": 2, "gap": 1}}
        only = status_counts_by_reading(default, strict, estate_ids=["E1"])
        assert only.loc["covered", "default"] == 1 and only.loc["coverable", "strict"] == 1 and only.to_numpy().sum() == 2

    def test_team_obligations_under_both_readings(self, layout):
        est, rts = io.read_estates(layout[0]), io.read_routes(layout[1])
        t = team_obligations_by_reading(est, rts).set_index("team_id")
        assert list(t.index) == ["A", "B", "C"]
        assert t.loc["A", ["covered_count", "nearby_count", "default_obliged_count", "strict_obliged_count"]].tolist() == [1, 1, 0, 0]
        assert t.loc["B", "default_obliged_estate_ids"] == "" and t.loc["B", "strict_obliged_estate_ids"] == "E1"
        assert t.loc["B", "default_extension_m"] == 0.0
        assert t.loc["B", "strict_extension_m"] == pytest.approx(900.0, abs=0.05)  # positions stored to ~1 cm
        assert t.loc["C", "default_obliged_estate_ids"] == t.loc["C", "strict_obliged_estate_ids"] == "E2"
        assert t.loc["C", "default_extension_m"] == pytest.approx(400.0, abs=0.05)
        assert t.loc["C", "strict_extension_m"] == pytest.approx(400.0, abs=0.05)


class TestCommandLine:
    def test_summary_shows_both_readings_side_by_side(self, layout, capsys):
        for args in ((), ("--strict",)):  # the same counts whichever reading the table uses
            assert run(layout, *args) == 0
            out = capsys.readouterr().out
            lines = out.splitlines()
            header = next(i for i, line in enumerate(lines) if line.split() == ["default", "strict"])
            rows = {line.split()[0]: line.split()[-2:] for line in lines[header + 1 : header + 4]}
            assert rows == {"covered": ["1", "0"], "coverable": ["1", "2"], "gap": ["1", "1"]}
            assert "strict (都应 read literally)" in out
            method = [line for line in lines if line.startswith("method:")]
            assert len(method) == 1 and "caveat:" in method[0] and "EPSG:4545" in method[0]
            assert ("strict reading" if args else "default reading") in method[0]

    def test_method_names_the_crs_and_the_scale_correction_of_a_wide_layout(self, tmp_path, capsys):
        # Two estates 4.5 degrees apart: beyond EPSG:4545's zone, measured in UTM 48N, whose scale at 110 E is 1.0027
        est = gpd.GeoDataFrame({"estate_id": ["W1", "W2"], "name": ["西小区", "东小区"], "community": ["测试社区"] * 2,
                                "address": ["测试路1号", "测试路2号"], "batch_year": [2022, 2023]},
                               geometry=[shapely.Point(105.5, 29.0), shapely.Point(110.0, 30.0)], crs="EPSG:4326")
        rts = gpd.GeoDataFrame({"route_id": ["R1"], "team_id": ["T1"], "team": ["测试队"], "org_type": ["police"], "shift": ["all"]},
                               geometry=[shapely.LineString([(110.0, 30.005), (110.01, 30.005)])], crs="EPSG:4326")
        io.write_geojson(est, tmp_path / "e.geojson")
        io.write_geojson(rts, tmp_path / "r.geojson")
        assert run((tmp_path / "e.geojson", tmp_path / "r.geojson")) == 0
        method = [line for line in capsys.readouterr().out.splitlines() if line.startswith("method:")]
        assert len(method) == 1 and "EPSG:32648" in method[0] and "on the ground" in method[0] and "scale factor" in method[0]
        assert "EPSG:4545" not in method[0]

    def test_by_team_prints_each_teams_obligations(self, layout, capsys):
        assert run(layout, "--by", "team") == 0
        out = capsys.readouterr().out
        rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split() and line.split()[0] in {"A", "B", "C"}}
        assert rows["B"][-4:] == ["-", "0", "E1", "900"]
        assert rows["C"][-4:] == ["E2", "400", "E2", "400"]
        assert rows["A"][-4:] == ["-", "0", "-", "0"]
        assert "default 1, strict 2" in out
        method = [line for line in out.splitlines() if line.startswith("method:")]
        assert len(method) == 1 and "caveat:" in method[0]

    def test_by_team_writes_csv_and_refuses_geojson(self, layout, tmp_path, capsys):
        out = tmp_path / "teams.csv"
        assert run(layout, "--by", "team", "--out", str(out)) == 0
        t = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False).set_index("team_id")
        assert t.loc["B", "strict_obliged_estate_ids"] == "E1" and float(t.loc["B", "strict_extension_m"]) == pytest.approx(900.0, abs=0.05)
        assert t.loc["B", "team"] == "乙队"
        capsys.readouterr()
        assert run(layout, "--by", "team", "--out", str(tmp_path / "t.geojson")) != 0
        err = capsys.readouterr().err
        assert "--by team" in err and ".csv" in err and "Traceback" not in err


def test_summary_of_many_communities_lists_those_with_the_most_gaps(tmp_path, capsys):
    # 45 communities; community k has k + 1 estates, all gaps (far from the one route) except one covered estate in
    # community 0. The 30 with the most gaps are communities 44 down to 15.
    rows = [(f"社区{k:02d}", i) for k in range(45) for i in range(k + 1)]
    est = gpd.GeoDataFrame(
        {
            "estate_id": [f"E{j:04d}" for j in range(len(rows))] + ["E-near"],
            "name": [f"小区{j}" for j in range(len(rows) + 1)],
            "community": [c for c, _ in rows] + ["社区00"],
            "address": [f"路{j}号" for j in range(len(rows) + 1)],
            "batch_year": 2022,
        },
        geometry=[shapely.Point(X0 + 50000 + 20 * j, Y0) for j in range(len(rows))] + [shapely.Point(X0, Y0 + 50)],
        crs="EPSG:4545",
    )
    rts = gpd.GeoDataFrame({"route_id": ["R-A"], "team_id": ["A"], "team": ["甲队"], "org_type": ["police"], "shift": ["all"]},
                           geometry=[shapely.LineString(ROUTES[0][3])], crs="EPSG:4545")
    io.write_geojson(est, tmp_path / "e.geojson")
    io.write_geojson(rts, tmp_path / "r.geojson")
    assert run((tmp_path / "e.geojson", tmp_path / "r.geojson"), "--out", str(tmp_path / "report.csv")) == 0
    out = capsys.readouterr().out
    block = out.split("per community")[1].split("per batch")[0] if "per batch" in out else out.split("per community")[1]
    assert "the 30 of 45 with the most gaps" in block
    listed = [line.split()[0] for line in block.splitlines() if line.strip().startswith("社区")]
    assert listed == [f"社区{k:02d}" for k in range(44, 14, -1)]
    gaps = {line.split()[0]: int(line.split()[-1]) for line in block.splitlines() if line.strip().startswith("社区")}
    assert gaps["社区44"] == 45 and gaps["社区15"] == 16
    assert len(pd.read_csv(tmp_path / "report.csv", encoding="utf-8-sig")) == len(rows) + 1


def test_summary_of_few_communities_lists_them_all(layout, capsys):
    assert run(layout) == 0
    block = capsys.readouterr().out.split("per community")[1]
    assert block.startswith(" (default reading):") and "凤仙路社区" in block and "with the most gaps" not in block
