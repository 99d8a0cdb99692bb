"""The command line: ``python -m geo COMMAND ...``.

Each topic module registers its subcommands through a ``register(subparsers)``
function in a ``geo/cli/*.py`` module listed in :data:`COMMAND_MODULES`.
Errors the engine raises on purpose (:class:`~geo.errors.GeoError`) print as
one line on standard error and exit with status 2; a tool problem exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from geo.errors import GeoError, SchemaError

#: Modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "geo.cli.data",
    "geo.cli.geocode",
    "geo.cli.coverage",
    "geo.cli.routes",
    "geo.cli.optimise",
    "geo.cli.response",
    "geo.cli.map",
    "geo.cli.incidents",
    "geo.cli.tracks",
    "geo.cli.rectification",
    "geo.cli.bench",
    "geo.cli.store",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="沙河街道老旧小区巡防覆盖工具 — patrol coverage of the old estates of Shahe subdistrict.",
    )
    parser.add_argument("--store", dest="global_store", metavar="URL",
                        help="the store every command uses: postgresql://USER@HOST/DB or a .gpkg file (as SHAHE_STORE; default data/shahe.gpkg when it exists)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _store_option_everywhere(sub)
    return parser


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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    store_url = getattr(args, "command_store", None) or getattr(args, "global_store", None)
    if store_url:
        os.environ["SHAHE_STORE"] = store_url  # read by geo.store.open_store/active_store wherever a command saves
    from geo import settings
    from geo._atomic import clean_leftovers

    clean_leftovers(settings.data_dir)  # temporary files of writes killed earlier
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
