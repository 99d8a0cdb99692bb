"""A data folder for the app at a synthetic size, to start it with ``SHAHE_DATA_DIR`` (browser benchmark).

Writes the layout of :func:`benchmarks.scale.generate` (estates, routes and
incidents, all **synthetic**, marked so in every file) as the files the app
reads from its data folder: ``estates.geojson``, ``patrol_routes.geojson`` and
``incidents.csv`` in the store's columns, with the shipped offline basemap and
gazetteer copied beside them. Run::

    python -m benchmarks.app_data --size district OUT_DIR
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import scale
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES

ROOT = Path(__file__).resolve().parents[1]
#: Shipped files the app draws beside the layers (the offline basemap).
COPIED = ("basemap.geojson", "gazetteer.geojson")


def write_incidents(incidents, path: Path) -> int:
    """Write :class:`geo.incidents.store.IncidentArrays` as the store's CSV (UTF-8 with BOM); return the rows written."""
    n = len(incidents)
    times = pd.to_datetime(incidents.time_s, unit="s").strftime("%Y-%m-%dT%H:%M:%S+08:00")
    frame = pd.DataFrame({
        "incident_id": [f"SYN-{k:07d}" for k in range(1, n + 1)],
        "time": times,
        "category": np.asarray(CATEGORY_NAMES, dtype=object)[incidents.category],
        "subcategory": "",
        "source": np.asarray(SOURCE_NAMES, dtype=object)[incidents.source],
        "lon": np.round(incidents.lon, 7),
        "lat": np.round(incidents.lat, 7),
        "address": "",
        "text": "",
        "synthetic": "true",
        "x_geocode_quality": "synthetic",
    })
    frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.7f")
    return n


def write_folder(size: str, folder: str | Path, *, seed: int = 2022) -> Path:
    """Write a data folder of ``size`` (``district``, ``city``, ...) into ``folder``; return the folder.

    Every estate, route and incident is invented (``synthetic: true`` in each
    file); the basemap is the shipped one of Shahe, so most of a larger layout
    lies beyond it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = scale.generate(size, seed=seed)
    estates, routes = scale.write_geojson(data, folder)
    estates.replace(folder / "estates.geojson")
    routes.replace(folder / "patrol_routes.geojson")
    write_incidents(data.incidents, folder / "incidents.csv")
    for name in COPIED:
        shutil.copy2(ROOT / "data" / name, folder / name)
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--size", default="district", choices=list(scale.SIZES))
    ap.add_argument("--seed", type=int, default=2022)
    args = ap.parse_args(argv)
    out = write_folder(args.size, args.folder, seed=args.seed)
    print(f"wrote a synthetic {args.size} data folder to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
