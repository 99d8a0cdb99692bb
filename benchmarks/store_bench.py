"""Benchmark of the store: bulk load, bulk read and the heat grid, on the embedded GeoPackage or a PostGIS.

Run ``python -m benchmarks.store_bench --store URL --incidents 1000000``
(``--store`` a ``.gpkg`` path or ``postgresql://...``). The incidents are
synthetic (uniform over the subdistrict's extent, seeded). The grid counted
by the store is compared with :func:`geo.incidents.heat.aggregate_grid` on the
same points before any time is printed; figures are wall seconds of one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo import settings
from geo.crs import project_lonlat
from geo.incidents.heat import aggregate_grid


def synthetic_incidents(n: int, *, seed: int = 2022) -> gpd.GeoDataFrame:
    """``n`` synthetic incidents spread uniformly over :data:`geo.settings.shahe_bounds`."""
    rng = np.random.default_rng(seed)
    west, south, east, north = settings.shahe_bounds
    lon, lat = rng.uniform(west, east, n), rng.uniform(south, north, n)
    return gpd.GeoDataFrame(
        {"incident_id": np.char.add("SYN-", np.arange(n).astype(str)).astype(object), "category": rng.choice(["盗窃", "纠纷", "诈骗"], n).astype(object),
         "synthetic": np.ones(n, dtype=bool)},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
    )


def run(url: str, n: int, *, cell_m: float = 50.0) -> list[str]:
    """Load ``n`` incidents into a fresh layer of the store at ``url``; return the report lines."""
    from geo.store import open_store

    frame = synthetic_incidents(n)
    store = open_store(url, migrate=True, data_dir=tempfile.mkdtemp())
    layer = f"bench_incidents_{n}"
    lines = [f"store: {store.kind} at {store.url}; {n} synthetic incidents; cell {cell_m:g} m"]
    t0 = time.perf_counter()
    base = store.layer_version(layer)
    store.replace_layer(layer, frame, base_version=base, author="bench", reason="benchmark", keep_history=False)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    back, _ = store.read_layer(layer)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    cells = store.heat_cells(cell_m, layer=layer)
    t_heat = time.perf_counter() - t0
    t0 = time.perf_counter()
    x, y = project_lonlat(back.geometry.x.to_numpy(), back.geometry.y.to_numpy())
    cx, cy, total = aggregate_grid(np.asarray(x), np.asarray(y), cell_m)
    t_py = time.perf_counter() - t0
    order = np.lexsort((cy, cx))
    same = len(cx) == len(cells) and np.allclose(cx[order], cells["x_m"]) and np.allclose(cy[order], cells["y_m"]) \
        and np.array_equal(total[order].astype(np.int64), cells["count"].to_numpy())
    if not same or int(cells["count"].sum()) != n:
        lines.append(f"MISMATCH: store {len(cells)} cells / {int(cells['count'].sum())} incidents, Python {len(cx)} / {int(total.sum())}")
    lines += [
        f"load (replace_layer)          {t_load:8.2f} s  {n / t_load:12,.0f} rows/s",
        f"read_layer (bulk WKB)         {t_read:8.2f} s  {n / t_read:12,.0f} rows/s",
        f"heat_cells in the store       {t_heat:8.2f} s  {len(cells):,} cells travel",
        f"read + grid in Python         {t_read + t_py:8.2f} s  ratio {(t_read + t_py) / t_heat:5.1f}x",
    ]
    store.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.store_bench", description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="a .gpkg path or postgresql://... URL (a fresh layer is written into it)")
    p.add_argument("--incidents", type=int, default=1_000_000)
    p.add_argument("--cell-m", type=float, default=50.0)
    args = p.parse_args(argv)
    if not args.store.startswith("postgres"):
        Path(args.store).unlink(missing_ok=True)
    for line in run(args.store, args.incidents, cell_m=args.cell_m):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
