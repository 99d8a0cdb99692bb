"""`python -m geo validate` and `python -m geo convert`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geo import crs

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parents[1] / "data" / "io"


def run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "geo", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    return proc


class TestValidate:
    def test_clean_file_exits_zero(self):
        proc = run("validate", str(DATA / "estates_ok.geojson"))
        assert proc.returncode == 0
        assert proc.stdout.strip().endswith("OK, 2 estates features, no problems")

    def test_every_problem_printed_with_location(self):
        proc = run("validate", str(DATA / "estates_rows.csv"))
        assert proc.returncode == 1
        lines = proc.stdout.splitlines()
        assert lines[0].endswith("5 problems in this estates file (checked as estates)")
        assert [ln.split(",")[0].split(":")[0] for ln in lines[1:]] == [
            "  - row 4 (SH-03)",
            "  - row 6",
            "  - row 7 (SH-05)",
            "  - row 7 (SH-05)",
            "  - row 8 (SH-06)",
        ]

    def test_kind_is_guessed_from_fields(self):
        proc = run("validate", str(DATA / "routes_zero.geojson"))
        assert proc.returncode == 1 and "(checked as routes)" in proc.stdout
        assert "feature 1 (R2), part 1: the line has zero length" in proc.stdout

    def test_table_without_coordinates(self):
        proc = run("validate", "data/ledger.csv")
        assert proc.returncode == 1
        assert "file: no coordinate columns: add 'lon' and 'lat' (or 经度 and 纬度)" in proc.stdout
        assert len(proc.stdout.splitlines()) == 2

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            # column 44 is the stray comma: the 43 characters before it counted with len()
            ("bad.geojson", b'{"type": "FeatureCollection", "features": [,]}', "malformed JSON at line 1, column 44"),
            ("empty.geojson", b"", "the file is empty"),
            ("empty.csv", b"", "the file is empty"),
            ("x.kml", b"<kml/>", "unsupported file type"),
        ],
    )
    def test_unreadable_files_are_one_line_errors(self, tmp_path, name, content, message):
        path = tmp_path / name
        path.write_bytes(content)
        proc = run("validate", str(path))
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and message in proc.stderr
        assert path.read_bytes() == content

    def test_missing_file(self, tmp_path):
        proc = run("validate", str(tmp_path / "nope.geojson"))
        assert proc.returncode == 2 and "no such file" in proc.stderr

    def test_unknown_datum_option(self):
        proc = run("validate", str(DATA / "estates_ok.geojson"), "--datum", "xian80")
        assert proc.returncode == 2 and "unknown datum 'xian80'" in proc.stderr

    def test_datum_option_converts_and_says_so(self, tmp_path):
        proc = run("validate", str(DATA / "estates_ok.csv"), "--datum", "gcj02")
        assert proc.returncode == 0 and "note: " in proc.stdout and "converted to WGS-84" in proc.stdout


class TestConvert:
    def test_point(self):
        proc = run("convert", "--from", "gcj02", "--to", "wgs84", "108.380246", "30.807807")
        assert proc.returncode == 0
        lon, lat = map(float, proc.stdout.split())
        # Going forward again with the public formula must land on the input.
        back = crs.wgs84_to_gcj02(lon, lat)
        assert abs(back[0] - 108.380246) < 2e-7 and abs(back[1] - 30.807807) < 2e-7

    def test_point_full_width_and_json(self):
        proc = run("convert", "--from", "wgs84", "--to", "wgs84", "--json", "１０８．３７", "30.84")
        assert json.loads(proc.stdout) == {"lon": 108.37, "lat": 30.84, "datum": "wgs84"}

    def test_swapped_point(self):
        proc = run("convert", "--from", "gcj02", "--to", "wgs84", "30.807807", "108.380246")
        assert proc.returncode == 2 and "looks like LAT LON" in proc.stderr

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["108.3"], "give one point as LON LAT"),
            (["--out", "x.geojson"], "--out needs --in"),
            (["--in", "tests/data/io/estates_ok.geojson"], "--in needs --out"),
            (["--in", "tests/data/io/estates_ok.geojson", "--out", "x.geojson", "108.3", "30.8"], "not both"),
            (["--in", "tests/data/io/estates_ok.geojson", "--out", "x.csv"], "writes GeoJSON"),
        ],
    )
    def test_argument_mistakes(self, args, message):
        proc = run("convert", "--from", "gcj02", "--to", "wgs84", *args)
        assert proc.returncode == 2 and message in proc.stderr
        assert not (ROOT / "x.geojson").exists()

    def test_bad_number_and_datum(self):
        proc = run("convert", "--from", "gcj02", "--to", "wgs84", "abc", "30.8")
        assert proc.returncode == 2 and "is not a number of degrees" in proc.stderr
        proc = run("convert", "--from", "mars2", "--to", "wgs84", "108.3", "30.8")
        assert proc.returncode == 2 and "unknown datum 'mars2'" in proc.stderr

    def test_file_round_trip(self, tmp_path):
        gcj_file = tmp_path / "gcj.geojson"
        proc = run("convert", "--from", "wgs84", "--to", "gcj02", "--in", str(DATA / "estates_ok.geojson"), "--out", str(gcj_file))
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(gcj_file.read_text(encoding="utf-8"))
        assert doc["datum"] == "gcj02"
        back_file = tmp_path / "wgs.geojson"
        proc = run("convert", "--from", "gcj02", "--to", "wgs84", "--in", str(gcj_file), "--out", str(back_file))
        assert proc.returncode == 0, proc.stderr
        start = json.loads((DATA / "estates_ok.geojson").read_text(encoding="utf-8"))["features"][0]["geometry"]["coordinates"]
        end = json.loads(back_file.read_text(encoding="utf-8"))["features"][0]["geometry"]["coordinates"]
        assert abs(start[0] - end[0]) <= 2e-7 and abs(start[1] - end[1]) <= 2e-7

    def test_file_with_problems_writes_nothing(self, tmp_path):
        out = tmp_path / "out.geojson"
        out.write_text("old", encoding="utf-8")
        proc = run("convert", "--from", "wgs84", "--to", "gcj02", "--in", str(DATA / "estates_bad.geojson"), "--out", str(out))
        assert proc.returncode == 2 and "11 problems" in proc.stderr
        assert out.read_text(encoding="utf-8") == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.geojson"]

    def test_datum_conflicting_with_file(self, tmp_path):
        gcj_file = tmp_path / "gcj.geojson"
        run("convert", "--from", "wgs84", "--to", "gcj02", "--in", str(DATA / "estates_ok.geojson"), "--out", str(gcj_file))
        proc = run("convert", "--from", "wgs84", "--to", "bd09", "--in", str(gcj_file), "--out", str(tmp_path / "bd.geojson"))
        assert proc.returncode == 2 and "declares datum gcj02 but wgs84 was asked for" in proc.stderr


@pytest.mark.parametrize("command", [[], ["validate"], ["convert"]])
def test_help_works(command):
    proc = run(*command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m geo")
