"""Write the synthetic demonstration incidents ``data/incidents.csv`` (none of them real).

Usage: ``python scripts/make_demo_incidents.py [--seed N] [--estates data/estates.geojson] [--out data/incidents.csv]``.
The generator and its documented properties live in :mod:`benchmarks.demo_incidents`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.demo_incidents import DemoParams, make_demo_incidents
from geo import io, settings
from geo.errors import GeoError
from geo.incidents.store import write_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic demonstration incidents (every row marked synthetic=true).")
    parser.add_argument("--seed", type=int, default=DemoParams().seed, help="random seed (default %(default)s)")
    parser.add_argument("--estates", type=Path, default=None, help="estates file (default data/estates.geojson)")
    parser.add_argument("--out", type=Path, default=None, help="output store (default data/incidents.csv)")
    args = parser.parse_args(argv)
    try:
        estates = io.read_estates(args.estates)
    except GeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    df = make_demo_incidents(estates, params=DemoParams(seed=args.seed))
    out = args.out or settings.data_path("incidents.csv")
    write_store(df, out)
    print(f"{out}: {len(df)} synthetic incidents, {df['time'].min()[:10]} to {df['time'].max()[:10]}; "
          f"estates whose rates drop after their batch: {', '.join(df.attrs['effective'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
