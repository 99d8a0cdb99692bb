"""Every reader and every command against the hostile corpus: one message, exit 1 or 2, no traceback,
the data folder unchanged (the last finding of the attack, and a net for the others)."""

from __future__ import annotations

import pytest

from geo import io
from geo.cli.main import main
from geo.errors import GeoError
from geo.geocode.overrides import load_overrides
from geo.incidents.store import load_incidents
from geo.io.tables import detect_encoding
from geo.routes.edits import lines_from_upload
from geo.routes.load import load_routes, read_gpx
from tests.conftest import folder_digest
from tests.hostile.conftest import build_corpus

COMMANDS = {
    "validate": ["validate", "{f}"],
    "validate_routes": ["validate", "{f}", "--kind", "routes"],
    "convert": ["convert", "--in", "{f}", "--out", "{o}/c.geojson", "--from", "wgs84", "--to", "gcj02"],
    "routes_add": ["routes", "add", "{f}", "--team-id", "PS-SMB", "--shift", "night", "--save", "--author", "a", "--reason", "r"],
    "import": ["incidents", "import", "{f}", "--source", "110", "--rejects", "{o}/rejects.csv"],
    "coverage_estates": ["coverage", "--estates", "{f}"],
    "coverage_routes": ["coverage", "--routes", "{f}"],
    "map_routes": ["map", "--routes", "{f}", "--out", "{o}/m.html"],
    "rank": ["rank", "--incidents", "{f}"],
    "hotspots": ["hotspots", "--incidents", "{f}"],
    "build_estates": ["build-estates", "--ledger", "{f}", "--out", "{o}/e.geojson", "--no-progress"],
}

READERS = {
    "detect_encoding": detect_encoding,
    "read_table": io.read_table,
    "read_estates": io.read_estates,
    "read_routes": io.read_routes,
    "read_lines": io.read_lines,
    "upload": lambda p: lines_from_upload(p.name, p.read_bytes()),
    "load_routes": load_routes,
    "load_incidents": load_incidents,
    "read_gpx": lambda p: read_gpx(p, team_id="T", team="t", org_type="police"),
    "load_overrides": load_overrides,
}

# A command may accept some hostile files: an import that rejects every row reports them and exits 0.
# A routes file with no routes is valid (no route drawn yet): every estate is then a gap.
ACCEPTED = {("import", "formula.csv")} | {
    (command, name) for command in ("validate_routes", "coverage_routes", "map_routes") for name in ("header_only.csv", "no_features.geojson")
}


def _corpus_names() -> list[str]:
    """Names of the corpus files, for test ids (built once into a throwaway folder)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return sorted(build_corpus(Path(tmp)))


CORPUS = _corpus_names()


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_on_hostile_file(command, name, hostile_files, data_copy, tmp_path, capsys):
    before = folder_digest(data_copy)
    argv = [a.format(f=hostile_files[name], o=tmp_path) for a in COMMANDS[command]]
    code = main(argv)  # anything but a GeoError escapes here and fails the test: that would be a traceback
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    if (command, name) not in ACCEPTED:
        assert code in (1, 2), text
        errors = [line for line in out.err.splitlines() if line.startswith("error:")]
        summary = [line for line in out.out.splitlines() if "problem" in line and not line.startswith("  ")]
        assert len(errors) == 1 or (code == 1 and summary), text
    assert folder_digest(data_copy) == before


@pytest.mark.parametrize("name", CORPUS)
@pytest.mark.parametrize("reader", list(READERS))
def test_reader_on_hostile_file(reader, name, hostile_files, data_copy):
    path = hostile_files[name]
    before = folder_digest(data_copy)
    try:
        READERS[reader](path)
    except GeoError as exc:
        first = str(exc).splitlines()[0]
        assert name in first, first
    assert folder_digest(data_copy) == before
