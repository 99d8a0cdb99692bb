"""The command line imports only the module of the command it runs."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from geo.cli.main import COMMAND_MODULES, COMMANDS, build_parser, command_named


def _registered(module: str) -> list[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).register(sub)
    return list(sub.choices)


def test_every_command_is_mapped_to_the_module_that_registers_it():
    registered = {name: module for module in COMMAND_MODULES for name in _registered(module)}
    assert registered == COMMANDS


def test_the_full_parser_lists_every_command_once():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(COMMANDS)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["coverage", "--estates", "e.geojson"], "coverage"),
        (["--store", "postgresql://u@h/db", "routes", "history"], "routes"),
        (["--store=x.gpkg", "map", "--out", "b.pdf"], "map"),
        (["-h", "coverage"], None),
        (["--help"], None),
        ([], None),
        (["--store", "coverage"], None),  # "coverage" is the store's value here, and no command follows
    ],
)
def test_command_named(argv, expected):
    assert command_named(argv) == expected


def test_a_named_command_parses_as_with_every_command_registered():
    argv = ["--store", "s.gpkg", "coverage", "--estates", "e.geojson", "--routes", "r.geojson", "--strict", "--out", "o.csv"]
    one = vars(build_parser("coverage").parse_args(argv))
    every = vars(build_parser().parse_args(argv))
    assert one.keys() == every.keys()
    assert {k: v for k, v in one.items() if k != "func"} == {k: v for k, v in every.items() if k != "func"}
    assert one["func"] is every["func"]


def test_an_unknown_command_is_refused_with_every_command_listed(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser(command_named(["coverag"])).parse_args(["coverag"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'coverag'" in err
    assert "'coverage'" in err and "'bench'" in err


def test_coverage_starts_without_scipy_sqlalchemy_or_the_benchmarks():
    code = (
        "import sys\n"
        "from geo.cli.main import build_parser\n"
        "build_parser('coverage')\n"
        "import geo.store.sources, geo.coverage.model, geo.report\n"
        "print(sorted(m for m in ('scipy', 'sqlalchemy', 'benchmarks', 'geo.response', 'folium', 'streamlit') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # and the full parser does pull them in, so the check above can fail
    code_all = code.replace("build_parser('coverage')", "build_parser()")
    done_all = subprocess.run([sys.executable, "-c", code_all], capture_output=True, text=True, check=True)
    assert "scipy" in done_all.stdout and "benchmarks" in done_all.stdout


def test_the_store_package_still_gives_its_names():
    import geo.store

    assert geo.store.open_store.__module__ == "geo.store.api"
    assert geo.store.TableSpec.__name__ == "TableSpec"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        geo.store.nothing  # noqa: B018
