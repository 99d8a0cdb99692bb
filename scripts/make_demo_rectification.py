"""Write the synthetic demonstration rectification records ``data/rectification/*.csv`` (none of them real).

Usage: ``python scripts/make_demo_rectification.py [--seed N] [--out data/rectification]``.
The generator and what it shows live in :mod:`benchmarks.demo_rectification`. A
store that has never held rectification records is filled from these files once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from benchmarks.demo_rectification import make_demo_rectification
from geo import io, settings
from geo.errors import GeoError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic rectification records (every row marked synthetic=true).")
    parser.add_argument("--seed", type=int, default=2022, help="random seed (default %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default data/rectification)")
    args = parser.parse_args(argv)
    try:
        estates = io.read_estates(settings.data_path("estates.geojson"))
    except GeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or settings.data_path("rectification")
    out.mkdir(parents=True, exist_ok=True)
    for kind, df in make_demo_rectification(pd.DataFrame(estates.drop(columns="geometry")), seed=args.seed).items():
        io.write_table(df, out / f"{kind}.csv")
        print(f"{out / f'{kind}.csv'}: {len(df)} synthetic {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
