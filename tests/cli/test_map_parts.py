"""``python -m geo map`` on a part of the estates (``--community``) and its refusal of maps too large for a page."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from geo import settings
from geo.cli.main import main
from geo.maps import offline

needs_vendor = pytest.mark.skipif(not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists(), reason="assets not vendored (run ./run setup)")


def _report(tmp_path, *extra) -> pd.DataFrame:
    assert main(["coverage", "--out", str(tmp_path / "all.csv"), *extra]) == 0
    return pd.read_csv(tmp_path / "all.csv", encoding="utf-8-sig")


@pytest.mark.parametrize("names", [["凤仙路社区"], ["申明社区", "沙河社区"]])
def test_a_briefing_of_some_communities_has_their_coverage_on_the_whole_map(data_copy, tmp_path, capsys, names):
    report = _report(tmp_path)
    part = report[report["community"].isin(names)]
    capsys.readouterr()
    args = ["map", "--out", str(tmp_path / "b.png")]
    for n in names:
        args += ["--community", n]
    assert main(args) == 0
    out = capsys.readouterr().out
    counts = part["status"].value_counts()
    cross = int(((part["status"] == "covered") & (part["covering_count"] >= 2)).sum())
    assert (f"{len(part)} estates: default {counts.get('covered', 0)} covered ({cross} cross-patrolled) / "
            f"{counts.get('coverable', 0)} coverable / {counts.get('gap', 0)} gap") in out


def test_the_routes_kept_for_a_part_give_every_estate_its_whole_coverage(tmp_path):
    """On 2,000 synthetic estates in 12 communities: each community's estates, solved with the routes kept for it, have
    the report's statuses, distances and teams."""
    from benchmarks import scale
    from geo.cli.map import select_communities
    from geo.io import read_estates, read_routes
    from geo.report import coverage_table

    estates_path, routes_path = scale.write_geojson(scale.generate("district", incidents=False), tmp_path)
    estates, routes = read_estates(estates_path), read_routes(routes_path)
    whole = coverage_table(estates, routes).set_index("estate_id")
    columns = ["status", "nearest_team_id", "nearest_distance_m", "covering_team_ids", "nearby_team_ids", "recommended_team_id"]
    for name in sorted(estates["community"].unique())[:4]:
        kept, near = select_communities(estates, routes, [name], radius_m=None)
        assert 0 < len(near) < len(routes)
        part = coverage_table(kept, near).set_index("estate_id")
        pd.testing.assert_frame_equal(part[columns], whole.loc[part.index, columns])


def test_an_unknown_community_is_refused_naming_those_there_are(data_copy, tmp_path, capsys):
    assert main(["map", "--out", str(tmp_path / "m.html"), "--community", "沙河社区", "--community", "天城社区"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--community '天城社区': no estate has this community" in err[0]
    for known in ("凤仙路社区", "沙河社区", "申明社区", "花青路社区"):
        assert known in err[0]
    assert not (tmp_path / "m.html").exists()


def test_a_map_with_more_estates_than_a_page_shows_is_refused_before_any_work(data_copy, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(settings, "map_estates_max", 20)
    assert main(["map", "--out", str(tmp_path / "m.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert re.search(r"24 estates and \d+ routes are more than one HTML map can show \(at most 20 estates", err[0])
    assert "--community NAME (4 communities; the largest, 凤仙路社区, has 16 estates)" in err[0]
    assert "--out briefing.pdf" in err[0] and "python -m geo coverage --out report.csv" in err[0]
    assert not (tmp_path / "m.html").exists()


@needs_vendor
def test_a_part_of_a_map_too_large_is_drawn(data_copy, tmp_path, capsys, monkeypatch):
    report = _report(tmp_path)
    monkeypatch.setattr(settings, "map_estates_max", 20)
    capsys.readouterr()
    assert main(["map", "--out", str(tmp_path / "m.html"), "--community", "凤仙路社区"]) == 0
    out = capsys.readouterr().out
    assert f"map of {int((report['community'] == '凤仙路社区').sum())} estates" in out
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "SH-09" in page and "SH-06" not in page  # SH-06 is in 申明社区
