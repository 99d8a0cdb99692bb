"""Archive-scale incident analytics in SedonaDB, on a synthetic archive (runs outside the project's environment).

SedonaDB (Apache Sedona's single-node engine) reads Parquet and runs spatial SQL
in parallel; the same SQL runs on Apache Sedona over Spark when the archive
outgrows one machine. This script writes ``--rows`` synthetic incidents
(seeded, uniform over the Shahe extent, years 2015-2024) as Parquet, runs the
heat-grid and yearly-count queries of ``docs/scaling.md``, and checks the grid
against NumPy + pyproj on the same points before printing any time.

Needs only ``sedonadb``, ``geoarrow-pyarrow``, ``pyproj``, ``pyarrow`` and ``numpy``
(``python -m venv .sedona && .sedona/bin/pip install sedonadb geoarrow-pyarrow pyproj``),
so it runs in its own virtual environment::

    .sedona/bin/python benchmarks/sedona_heat.py --rows 20000000 --folder /tmp/archive
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj

#: Approximate extent of Shahe subdistrict (as geo.settings.shahe_bounds), WGS-84 west, south, east, north.
BOUNDS = (108.350, 30.826, 108.394, 30.860)

HEAT_SQL = """
SELECT floor(ST_X(p) / {cell}) AS ix, floor(ST_Y(p) / {cell}) AS iy, count(*) AS n
FROM (SELECT ST_Transform(ST_SetSRID(ST_Point(lon, lat), 4326), 'EPSG:4545') AS p
      FROM incidents
      WHERE lon >= {w} AND lon <= {e} AND lat >= {s} AND lat <= {n}) q
GROUP BY 1, 2
"""

YEARLY_SQL = "SELECT year, category, count(*) AS n FROM incidents GROUP BY year, category ORDER BY year, category"


def write_archive(folder: Path, rows: int, *, seed: int = 2022, chunk: int = 5_000_000) -> None:
    """Write ``rows`` synthetic incidents as Parquet files of at most ``chunk`` rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, s, e, n = BOUNDS
    for k, start in enumerate(range(0, rows, chunk)):
        m = min(chunk, rows - start)
        table = pa.table({
            "incident_id": pa.array(np.arange(start, start + m, dtype=np.int64)),
            "year": pa.array(rng.integers(2015, 2025, m, dtype=np.int16)),
            "category": pa.array(rng.integers(0, 5, m, dtype=np.int8)),
            "lon": pa.array(rng.uniform(w - 0.01, e + 0.01, m)),
            "lat": pa.array(rng.uniform(s - 0.01, n + 0.01, m)),
            "synthetic": pa.array(np.ones(m, dtype=bool)),
        })
        pq.write_table(table, folder / f"part-{k:04d}.parquet")


def numpy_grid(folder: Path, cell: float) -> dict[tuple[int, int], int]:
    """The same grid with NumPy and pyproj (the independent check)."""
    t = pyproj.Transformer.from_crs(4326, 4545, always_xy=True)
    w, s, e, n = BOUNDS
    counts: dict[tuple[int, int], int] = {}
    for part in sorted(folder.glob("*.parquet")):
        tab = pq.read_table(part, columns=["lon", "lat"])
        lon, lat = tab["lon"].to_numpy(), tab["lat"].to_numpy()
        keep = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        x, y = t.transform(lon[keep], lat[keep])
        ij, c = np.unique(np.stack([np.floor(x / cell), np.floor(y / cell)], axis=1), axis=0, return_counts=True)
        for (i, j), v in zip(ij.astype(np.int64).tolist(), c.tolist(), strict=True):
            counts[(i, j)] = counts.get((i, j), 0) + v
    return counts


def main(argv: list[str] | None = None) -> int:
    """Write the archive, run the queries, check, print the figures."""
    import sedonadb

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--folder", type=Path, default=Path("/tmp/shahe-archive"))
    p.add_argument("--cell-m", type=float, default=50.0)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    write_archive(args.folder, args.rows)
    t_write = time.perf_counter() - t0
    sd = sedonadb.connect()
    sd.read_parquet(str(args.folder / "*.parquet")).to_view("incidents")
    w, s, e, n = BOUNDS
    t0 = time.perf_counter()
    heat = sd.sql(HEAT_SQL.format(cell=args.cell_m, w=w, s=s, e=e, n=n)).to_pandas()
    t_heat = time.perf_counter() - t0
    t0 = time.perf_counter()
    yearly = sd.sql(YEARLY_SQL).to_pandas()
    t_yearly = time.perf_counter() - t0
    t0 = time.perf_counter()
    want = numpy_grid(args.folder, args.cell_m)
    t_numpy = time.perf_counter() - t0
    got = {(int(a), int(b)): int(c) for a, b, c in zip(heat["ix"], heat["iy"], heat["n"], strict=True)}
    if got != want:
        diff = sum(abs(got.get(k, 0) - want.get(k, 0)) for k in set(got) | set(want))
        print(f"MISMATCH: {diff} incidents counted in other cells than NumPy's")
        return 1
    print(f"{args.rows:,} synthetic incidents, Parquet written in {t_write:.1f} s; grid of {args.cell_m:g} m equals NumPy's ({len(got):,} cells)")
    print(f"SedonaDB heat grid      {t_heat:8.2f} s  {args.rows / t_heat:14,.0f} rows/s")
    print(f"SedonaDB yearly counts  {t_yearly:8.2f} s  ({len(yearly)} groups)")
    print(f"NumPy + pyproj grid     {t_numpy:8.2f} s  ratio {t_numpy / t_heat:5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
