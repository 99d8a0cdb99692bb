"""Entry point of ``python -m geo``."""

import sys

from geo.cli.main import main

sys.exit(main(leave=True))
