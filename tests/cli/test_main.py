"""The command line imports only the module of the command it runs."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

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


def test_a_command_on_a_folder_of_files_does_not_load_the_store_layer_and_one_with_a_store_uses_it(data_copy, monkeypatch):
    monkeypatch.delenv("SHAHE_STORE", raising=False)
    code = (
        "import sys\n"
        "from geo.cli.main import main\n"
        f"assert main(['coverage', '--out', {str(data_copy / 'r.csv')!r}]) == 0\n"
        "print('sqlalchemy' in sys.modules)\n"
    )

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()[-1]

    assert run() == "False"
    from geo.store.sources import store_in_use

    store_in_use(data_copy, create=True).close()  # the embedded store, as the app makes it on its first start
    assert (data_copy / "shahe.gpkg").exists()
    assert run() == "True"
    monkeypatch.setenv("SHAHE_STORE", str(data_copy / "elsewhere.gpkg"))
    (data_copy / "shahe.gpkg").unlink()
    assert run() == "True"


def test_the_store_package_still_gives_its_names():
    import geo.store

    assert geo.store.open_store.__module__ == "geo.store.api"
    assert geo.store.TableSpec.__name__ == "TableSpec"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        geo.store.nothing  # noqa: B018


def _program(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    """``python -m geo ARGV`` as a program whose atexit hook says whether the interpreter was torn down."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('torn down'))\n"
        "from geo.cli.main import main\n"
        f"sys.argv = ['geo', *{list(argv)!r}]\n"
        "sys.exit(main(leave=True))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path)


def test_coverage_leaves_at_once_with_its_output_flushed_and_written(tmp_path, capsys):
    from geo.cli.main import main

    done = _program(tmp_path, "coverage", "--out", str(tmp_path / "left.csv"))
    assert done.returncode == 0, done.stderr
    assert "torn down" not in done.stdout  # ended by leave_now, with no teardown
    assert main(["coverage", "--out", str(tmp_path / "returned.csv")]) == 0  # in-process: returns as before
    captured = capsys.readouterr()
    assert done.stdout == captured.out.replace("returned.csv", "left.csv")  # every line reached the pipe
    assert done.stderr == captured.err
    assert (tmp_path / "left.csv").read_bytes() == (tmp_path / "returned.csv").read_bytes()


def _read_at_the_end(tmp_path, setup: str, value: str, *argv: str) -> int:
    """Run ``argv`` as ``python -m geo`` would (``main(leave=True)``) after ``setup``; the integer ``value`` as the process ends.

    It is printed by leave_now for a command that leaves at once, else as the interpreter tears down.
    """
    code = (
        "import atexit, gc, sys\n"
        "import geo.cli.main\n"
        "cli = sys.modules['geo.cli.main']\n"
        f"{setup}\n"
        "leave = cli.leave_now\n"
        f"cli.leave_now = lambda status: (print('value', {value}, file=sys.stderr), leave(status))\n"
        f"atexit.register(lambda: print('value', {value}, file=sys.stderr))\n"
        f"sys.argv = ['geo', *{list(argv)!r}]\n"
        "sys.exit(cli.main(leave=True))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1].split()[1])


def test_a_command_that_leaves_at_once_freezes_what_it_imported(tmp_path):
    # How many objects the collector no longer walks.
    def frozen(*argv: str) -> int:
        return _read_at_the_end(tmp_path, "", "gc.get_freeze_count()", *argv)

    assert frozen("coverage", "--out", str(tmp_path / "report.csv")) > 10_000  # its libraries' modules, classes, functions
    assert frozen("validate", str(Path(__file__).parents[2] / "data" / "estates.geojson")) == 0  # returns: nothing frozen


def test_a_command_that_leaves_at_once_keeps_the_heap(tmp_path):
    # How many times main kept glibc's heaps (geo._heap.keep_heap).
    def kept(*argv: str) -> int:
        return _read_at_the_end(tmp_path, "calls = []\ncli.keep_heap = lambda: calls.append(1) or True", "len(calls)", *argv)

    assert kept("coverage", "--out", str(tmp_path / "report.csv")) == 1
    assert kept("validate", str(Path(__file__).parents[2] / "data" / "estates.geojson")) == 0  # returns: glibc's defaults


def test_commands_that_do_not_allow_it_and_errors_end_as_usual(tmp_path):
    done = _program(tmp_path, "validate", str(Path(__file__).parents[2] / "data" / "estates.geojson"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("torn down")
    bad = _program(tmp_path, "coverage", "--estates", str(tmp_path / "missing.geojson"))
    assert bad.returncode == 2 and "missing.geojson" in bad.stderr
