"""The command line: ``python -m geo COMMAND ...``.

Each topic module registers its subcommands through a ``register(subparsers)``
function in a ``geo/cli/*.py`` module; :data:`COMMANDS` names the module of
each command, and a command line imports only the module of its command.
Errors the engine raises on purpose (:class:`~geo.errors.GeoError`) print as
one line on standard error and exit with status 2; a tool problem exits 1.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import NoReturn

from geo._arrow_pool import use_jemalloc
from geo._heap import keep_heap
from geo.errors import GeoError, SchemaError

#: Each command and the module that registers it, in the order ``--help`` lists them.
#: A command line that names a command imports only that command's module, so
#: ``coverage`` does not pay for SciPy, SQLAlchemy or the benchmarks at start-up.
COMMANDS: dict[str, str] = {
    "validate": "geo.cli.data",
    "convert": "geo.cli.data",
    "geocode": "geo.cli.geocode",
    "build-estates": "geo.cli.geocode",
    "coverage": "geo.cli.coverage",
    "routes": "geo.cli.routes",
    "optimise": "geo.cli.optimise",
    "response": "geo.cli.response",
    "map": "geo.cli.map",
    "incidents": "geo.cli.incidents",
    "rank": "geo.cli.incidents",
    "effect": "geo.cli.incidents",
    "hotspots": "geo.cli.incidents",
    "near-repeat": "geo.cli.incidents",
    "tracks": "geo.cli.tracks",
    "dosage": "geo.cli.tracks",
    "survey": "geo.cli.rectification",
    "measures": "geo.cli.rectification",
    "meetings": "geo.cli.rectification",
    "visits": "geo.cli.rectification",
    "progress": "geo.cli.rectification",
    "bench": "geo.cli.bench",
    "store": "geo.cli.store",
}

#: Modules that add subcommands, each once, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))

#: Options of the top-level parser that take a value (skipped when looking for the command).
_VALUED_OPTIONS = frozenset({"--store"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the top-level parser.

    Parameters
    ----------
    command : str, optional
        A command of :data:`COMMANDS`: only its module is imported and
        registered. Otherwise (None, or a name that is no command) every
        module is, so ``--help`` and argparse's errors list every command.
    """
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="沙河街道老旧小区巡防覆盖工具 — patrol coverage of the old estates of Shahe subdistrict.",
    )
    parser.add_argument("--store", dest="global_store", metavar="URL",
                        help="the store every command uses: postgresql://USER@HOST/DB or a .gpkg file (as SHAHE_STORE; default data/shahe.gpkg when it exists)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _store_option_everywhere(sub)
    return parser


def command_named(argv: list[str]) -> str | None:
    """The command a command line names: its first word that is not an option or an option's value.

    None when there is none, or when ``-h``/``--help`` comes before it (the
    top-level help lists every command).
    """
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("-h", "--help"):
            return None
        elif word in _VALUED_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def _store_option_everywhere(sub: argparse._SubParsersAction) -> None:
    """Give every command ``--store URL`` (as the global option) unless it has its own ``--store``."""
    for parser in set(sub.choices.values()):
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for inner in nested:
                _store_option_everywhere(inner)
            continue
        if "--store" not in parser._option_string_actions:
            parser.add_argument("--store", dest="command_store", metavar="URL",
                                help="read and write the store at URL: postgresql://USER@HOST/DB or a .gpkg file (as SHAHE_STORE)")


def main(argv: list[str] | None = None, *, leave: bool = False) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv
        The arguments (default ``sys.argv[1:]``).
    leave
        ``python -m geo`` passes True: a command that allows it (its parser
        default ``leave_at_once``) then ends the process as soon as its output
        is flushed (:func:`leave_now`), instead of returning; its imports are
        frozen first (:func:`freeze_for_the_run`) and glibc's heaps kept
        (:func:`geo._heap.keep_heap`).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    use_jemalloc()  # Arrow's buffers in jemalloc: a second less of kernel time at province size (geo._arrow_pool)
    parser = build_parser(command_named(argv))
    args = parser.parse_args(argv)
    store_url = getattr(args, "command_store", None) or getattr(args, "global_store", None)
    if store_url:
        os.environ["SHAHE_STORE"] = store_url  # read by geo.store.open_store/active_store wherever a command saves
    from geo import settings
    from geo._atomic import clean_leftovers

    clean_leftovers(settings.data_dir)  # temporary files of writes killed earlier
    leaving = leave and getattr(args, "leave_at_once", False)
    if leaving:
        # The modules, classes and functions imported so far live until the process leaves: moved out of the
        # collector's reach, no later collection walks them again (see freeze_for_the_run).
        freeze_for_the_run()
        keep_heap()  # the engine's temporaries come and go without growing and shrinking the heaps (geo._heap)
    status = _run(args)
    if leaving:
        leave_now(status)
    return status


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except SchemaError as exc:
        print(f"error: {exc.summary}", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 2
    except GeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def freeze_for_the_run() -> None:
    """Move every object alive now out of the cyclic collector's reach (:func:`gc.freeze`), for a process that leaves at once.

    After the imports a command holds some 70,000 objects that live until the
    process ends, and every full collection walked them again. At province
    size the collector took 0.12-0.13 s of the coverage command, and 0.07 s
    with them frozen; a child forked later (the routes' reader) starts with
    them frozen too. Frozen objects are still freed when nothing refers to
    them; only a cycle among them would stay, and in a process that ends with
    :func:`leave_now` nothing is freed anyway.
    """
    gc.freeze()


def leave_now(status: int) -> NoReturn:
    """End the process with ``status`` once standard output and error are flushed, freeing nothing one by one.

    A province-size coverage run holds millions of Python objects (frames,
    geometries, team lists); freeing them one at a time and tearing the
    interpreter down took 0.35 s after the report was written. A command
    allows this (``leave_at_once``) only when everything it writes is closed
    before it returns (files through :func:`geo._atomic.atomic_writer`, no
    store connection left open), and it keeps its large results on its
    ``args`` so that they are not freed on its return either.
    """
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (... | head) or stream: nothing more can be shown
            pass
    os._exit(status)
