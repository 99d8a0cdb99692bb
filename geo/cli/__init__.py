"""The command line, ``python -m geo``: one module per group of subcommands."""

from geo.cli.main import main

__all__ = ["main"]
