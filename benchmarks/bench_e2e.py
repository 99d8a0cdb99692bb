"""End-to-end benchmark cases: what users run, on files written to disk.

* the coverage command (``python -m geo coverage``) as a child process on the
  synthetic layout written as GeoJSON, and again as GeoParquet;
* the same question answered by PostGIS end to end on the same GeoJSON files:
  the files loaded (read with GDAL, as ``ogr2ogr`` does, copied in, projected to
  EPSG:4545, GiST indexes, ``ANALYZE``), then the per-estate report computed in
  SQL and written as CSV; loading and the query are timed apart;
* bad input at scale: a GeoJSON of about 200 MB with three bad features in the
  middle, given to the coverage command: every problem must be reported with
  its feature number, nothing written, and the command's peak memory is reported.

Peak memory of a command is ``ru_maxrss`` of the child process (``getrusage``
of the waited-for children, taken in a forked case process whose only children
are these commands).

``temporary_postgis`` starts a throw-away PostgreSQL + PostGIS cluster in a
temporary folder (:mod:`benchmarks.pgcluster`: ``initdb``, Unix socket only, no
TCP) for ``bench --postgis auto``.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from benchmarks import pgcluster, scale
from geo import settings
from geo.errors import GeoError

__all__ = ["bad_input_case", "cli_case", "end_to_end_lines", "postgis_end_to_end_case", "temporary_postgis", "write_bad_geojson"]

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_child(cmd: list[str]) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """Run a command; return its wall seconds, CPU seconds (user + system), peak RSS in bytes, and the result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, after.ru_maxrss * 1024, done


def _write_parquet(data: scale.ScaleData, folder: Path, estates_json: Path, routes_json: Path) -> tuple[Path, Path]:
    """The same layout as GeoParquet (properties as in the GeoJSON files, WGS-84), written untimed."""
    import geopandas as gpd

    out = []
    for src, name, geoms in ((estates_json, "estates_synthetic.parquet", data.estate_geoms),
                             (routes_json, "routes_synthetic.parquet", data.route_geoms)):
        with open(src, encoding="utf-8") as fh:
            props = [f["properties"] for f in json.load(fh)["features"]]
        frame = gpd.GeoDataFrame(pd.DataFrame(props), geometry=gpd.GeoSeries(geoms, crs=data.crs).to_crs("EPSG:4326").values)
        frame.to_parquet(folder / name)
        out.append(folder / name)
    return out[0], out[1]


def cli_case(data: scale.ScaleData, *, fmt: str = "geojson", by: str = "estate"):
    """The coverage command users run, end to end: a child ``python -m geo coverage`` on files on disk (GeoJSON or GeoParquet).

    ``by="team"`` runs ``--by team`` (each team's obligations under both readings) instead of the estate report.
    """

    def fn(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            estates, routes = scale.write_geojson(data, tmp)
            if fmt == "parquet":
                estates, routes = _write_parquet(data, Path(tmp), estates, routes)
            report = Path(tmp) / "report.csv"
            cmd = [sys.executable, "-m", "geo", "coverage", "--estates", str(estates), "--routes", str(routes), "--by", by, "--out", str(report)]
            times, cpu, peak = [], [], 0
            for _ in range(repeats):
                wall, c, peak, done = _run_child(cmd)
                times.append(wall)
                cpu.append(c)
                if done.returncode != 0:
                    msg = f"python -m geo coverage exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
                    raise GeoError(msg)
            rows = len(pd.read_csv(report, usecols=[0]))
            return times, None, {
                "format": fmt,
                "by": by,
                "estates_mb": round(estates.stat().st_size / 1e6, 1),
                "routes_mb": round(routes.stat().st_size / 1e6, 1),
                "rows_written": rows,
                "cli_peak_rss_mb": round(peak / 1e6),
                "cpu_s_median": round(statistics.median(cpu), 2),
            }

    return fn


# --- PostGIS on the same files -------------------------------------------------------

#: The per-estate report in SQL. The distances of the pairs within reach are computed once, in a
#: materialised CTE of narrow rows (estate id, team id, metres), before any grouping: grouping the
#: join itself made PostgreSQL sort every pair with both geometries (on disk at province size, where
#: the query did not finish in 23 minutes); the per-(estate, team) minimum is then a hash aggregate,
#: and only the per-estate lists are ordered.
_REPORT_SQL = """
WITH near AS MATERIALIZED (
    SELECT e.estate_id, r.team_id, ST_Distance(e.geom, r.geom) / e.k AS d
    FROM e2e_estates e JOIN e2e_routes r ON ST_DWithin(e.geom, r.geom, {far})
), pairs AS (
    SELECT estate_id, team_id, min(d) AS d FROM near WHERE d <= {reach} GROUP BY estate_id, team_id
), agg AS (
    SELECT estate_id,
           count(*) AS nearby_count,
           count(*) FILTER (WHERE d <= {cover}) AS covering_count,
           (array_agg(team_id ORDER BY d, team_id))[1] AS nearest_team_id,
           min(d) AS nearest_distance_m,
           string_agg(team_id, ';' ORDER BY team_id) FILTER (WHERE d <= {cover}) AS covering_team_ids,
           string_agg(team_id, ';' ORDER BY team_id) AS nearby_team_ids
    FROM pairs GROUP BY estate_id
)
SELECT e.estate_id, e.name, e.community, e.address, e.batch_year,
       CASE WHEN a.covering_count > 0 THEN 'covered' WHEN a.nearby_count > 0 THEN 'coverable' ELSE 'gap' END AS status,
       coalesce(a.covering_count, 0) AS covering_count, coalesce(a.nearby_count, 0) AS nearby_count,
       coalesce(a.nearest_team_id, '') AS nearest_team_id, round(a.nearest_distance_m::numeric, 2) AS nearest_distance_m,
       coalesce(a.covering_team_ids, '') AS covering_team_ids, coalesce(a.nearby_team_ids, '') AS nearby_team_ids
FROM e2e_estates e LEFT JOIN agg a USING (estate_id)
ORDER BY e.ord
"""


def _read_layer(path: Path, columns: list[str]):
    """Read a vector file with GDAL (pyogrio, Arrow): its columns as a frame with ``ord`` first, and its geometries."""
    import pyogrio
    import shapely

    _, arrow = pyogrio.read_arrow(path, columns=columns)
    frame = arrow.to_pandas()
    geom_col = next(c for c in frame.columns if c not in columns)
    geoms = shapely.from_wkb(frame.pop(geom_col).to_numpy())
    frame.insert(0, "ord", np.arange(len(frame)))
    return frame, geoms


def _copy_frame(cur, frame: pd.DataFrame, geoms, table: str) -> None:
    """COPY a frame and its geometries (WKB, no SRID) into ``table``."""
    import shapely

    frame = frame.assign(geom=shapely.to_wkb(geoms, hex=True, include_srid=False))
    with cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as cp:
        cp.write(frame.to_csv(index=False, header=False))


def postgis_load_files(dsn: str, estates: Path, routes: Path) -> int:
    """Load the GeoJSON files into ``e2e_estates`` and ``e2e_routes`` with GiST indexes; return the SRID used.

    Projected to the metric CRS the coverage command chooses for the same data
    (:func:`geo.crs.metric_crs_for_bounds`), each estate with the scale factor
    ``k`` the command divides its distances by (1 where it corrects none).
    """
    import psycopg
    import shapely

    from geo import crs as _crs

    est_frame, est_geoms = _read_layer(estates, ["estate_id", "name", "community", "address", "batch_year"])
    rt_frame, rt_geoms = _read_layer(routes, ["route_id", "team_id"])
    metric = _crs.metric_crs_for_bounds(tuple(shapely.total_bounds(np.concatenate([est_geoms, rt_geoms]))))
    srid = int(metric.to_epsg())
    x, y = pyproj.Transformer.from_crs(4326, metric, always_xy=True).transform(shapely.get_x(est_geoms), shapely.get_y(est_geoms))
    k = _crs.scale_factors(metric, x, y)
    est_frame["k"] = 1.0 if k is None else k
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute("DROP TABLE IF EXISTS e2e_estates, e2e_routes, e2e_raw_estates, e2e_raw_routes")
        cur.execute("CREATE UNLOGGED TABLE e2e_raw_estates (ord int, estate_id text, name text, community text, address text, "
                    "batch_year int, k float8, geom geometry)")
        cur.execute("CREATE UNLOGGED TABLE e2e_raw_routes (ord int, route_id text, team_id text, geom geometry)")
        _copy_frame(cur, est_frame, est_geoms, "e2e_raw_estates")
        _copy_frame(cur, rt_frame, rt_geoms, "e2e_raw_routes")
        cur.execute(f"CREATE TABLE e2e_estates AS SELECT ord, estate_id, name, community, address, batch_year, k, "
                    f"ST_Transform(ST_SetSRID(geom, 4326), {srid})::geometry(Point, {srid}) AS geom FROM e2e_raw_estates")
        cur.execute(f"CREATE TABLE e2e_routes AS SELECT ord, route_id, team_id, "
                    f"ST_Transform(ST_SetSRID(geom, 4326), {srid})::geometry(LineString, {srid}) AS geom FROM e2e_raw_routes")
        cur.execute("DROP TABLE e2e_raw_estates, e2e_raw_routes")
        cur.execute("CREATE INDEX ON e2e_estates USING gist (geom)")
        cur.execute("CREATE INDEX ON e2e_routes USING gist (geom)")
        cur.execute("ANALYZE e2e_estates")
        cur.execute("ANALYZE e2e_routes")
    return srid


def postgis_report(dsn: str, out: Path) -> None:
    """The per-estate report in SQL, written as CSV through ``COPY ... TO STDOUT``."""
    import psycopg

    tol = settings.distance_tolerance_m
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, "wb") as fh:
        kmax = float(cur.execute("SELECT max(k) FROM e2e_estates").fetchone()[0] or 1.0)
        reach = settings.rule_radius_m + tol
        sql = _REPORT_SQL.format(far=reach * kmax, reach=reach, cover=settings.cover_distance_m + tol)
        cur.execute("SET work_mem = '256MB'")
        # The spatial join's cost estimate is in the millions, so PostgreSQL would compile the query
        # (about 1 s at city size, more than it saves); the plan is the same without.
        cur.execute("SET jit = off")
        with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as cp:
            for block in cp:
                fh.write(block)


def postgis_end_to_end_case(data: scale.ScaleData, dsn: str):
    """PostGIS end to end on the GeoJSON files the coverage command reads: load and query timed apart; statuses compared."""

    def fn(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            estates, routes = scale.write_geojson(data, tmp)
            report = Path(tmp) / "postgis_report.csv"
            loads, queries, times = [], [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                postgis_load_files(dsn, estates, routes)
                t1 = time.perf_counter()
                postgis_report(dsn, report)
                t2 = time.perf_counter()
                loads.append(t1 - t0)
                queries.append(t2 - t1)
                times.append(t2 - t0)
            ours = Path(tmp) / "ours.csv"
            done = subprocess.run([sys.executable, "-m", "geo", "coverage", "--estates", str(estates), "--routes", str(routes),
                                   "--out", str(ours)], capture_output=True, text=True, env=_env(), check=False, cwd=ROOT)
            if done.returncode != 0:
                msg = f"python -m geo coverage exited {done.returncode}"
                raise GeoError(msg)
            a = pd.read_csv(ours, encoding="utf-8-sig", keep_default_na=False, dtype=str)
            b = pd.read_csv(report, keep_default_na=False, dtype=str)
            same = {c: int((a[c].to_numpy() == b[c].to_numpy()).sum()) for c in ("estate_id", "status", "nearby_team_ids", "covering_team_ids")}
            if any(v != len(a) for v in same.values()):
                msg = f"PostGIS and the coverage command differ: {same} of {len(a)} rows equal"
                raise GeoError(msg)
            return times, None, {
                "load_s_median": round(statistics.median(loads), 2),
                "query_s_median": round(statistics.median(queries), 2),
                "rows_written": len(b),
                "same_as_cli": "statuses and team lists equal",
            }

    return fn


@contextlib.contextmanager
def temporary_postgis():
    """Start a throw-away PostgreSQL + PostGIS cluster (:func:`benchmarks.pgcluster.temporary_cluster`); yield its DSN, or None with the reason.

    Yields
    ------
    (dsn, reason)
        ``dsn`` None when the server binaries or PostGIS are missing, or the
        cluster does not start; ``reason`` says why.
    """
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(pgcluster.temporary_cluster(prefix="shahe-bench-pg-"))
        except pgcluster.ClusterUnavailable as exc:
            yield None, str(exc)
            return
        yield cluster.dsn, ""


# --- bad input at scale ----------------------------------------------------------------


def write_bad_geojson(path: Path, *, target_mb: float = 200.0, seed: int = 2022) -> tuple[int, list[int]]:
    """Write a synthetic estates GeoJSON of about ``target_mb`` with three bad features in the middle.

    The bad ones: latitude and longitude swapped, a batch year in Chinese numerals,
    and an id used before. Returns the number of features and the bad features' numbers.
    """
    rng = np.random.default_rng(seed)
    per_feature = 285  # bytes, about, for the properties below
    n = int(target_mb * 1e6 / per_feature)
    bad = [n // 2 - 1000, n // 2, n // 2 + 1000]
    lon = 108.38 + rng.normal(0, 0.2, n)
    lat = 30.81 + rng.normal(0, 0.2, n)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"type": "FeatureCollection", "synthetic": true, "note": "synthetic benchmark data with three bad features", "features": [\n')
        for i in range(n):
            x, y = (lat[i], lon[i]) if i == bad[0] else (lon[i], lat[i])
            year = '"二〇二二"' if i == bad[1] else str(2022 + i % 3)
            eid = "B0000000" if i == bad[2] else f"B{i:07d}"
            sep = ",\n" if i else ""
            fh.write(f'{sep}{{"type": "Feature", "properties": {{"estate_id": "{eid}", "name": "合成小区{i}", "community": "合成社区{i % 900}", '
                     f'"address": "合成路{i}号", "batch_year": {year}, "synthetic": true}}, '
                     f'"geometry": {{"type": "Point", "coordinates": [{x:.7f}, {y:.7f}]}}}}')
        fh.write("\n]}\n")
    return n, bad


def bad_input_case(*, target_mb: float = 200.0):
    """A large GeoJSON with three bad features given to ``python -m geo coverage``: every problem named, nothing written."""

    def fn(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            estates = Path(tmp) / "estates_bad.geojson"
            n, bad = write_bad_geojson(estates, target_mb=target_mb)
            report = Path(tmp) / "report.csv"
            cmd = [sys.executable, "-m", "geo", "coverage", "--estates", str(estates), "--routes", str(ROOT / "data" / "patrol_routes.geojson"),
                   "--out", str(report)]
            times, peak, done = [], 0, None
            for _ in range(repeats):
                wall, _, peak, done = _run_child(cmd)
                times.append(wall)
            named = [k for k in bad if any(f"feature {k}" in line for line in done.stderr.splitlines())]
            if done.returncode == 0 or report.exists() or len(named) != 3 or "Traceback" in done.stderr:
                msg = f"the bad file was not refused as expected (exit {done.returncode}, {len(named)} of 3 features named, report written: {report.exists()})"
                raise GeoError(msg)
            return times, None, {
                "file_mb": round(estates.stat().st_size / 1e6),
                "features": n,
                "bad_features_named": "3 of 3",
                "written": "nothing",
                "cli_peak_rss_mb": round(peak / 1e6),
            }

    return fn


def end_to_end_lines(results) -> list[str]:
    """The command's time beside the engine's and PostGIS end to end, with their ratios (targets: <= 2x the engine, <= 0.5x PostGIS)."""
    engine = next((r for r in results if r.name.startswith("coverage: engine") and r.times_s), None)
    cli = next((r for r in results if r.name.startswith("coverage CLI end to end") and r.times_s), None)
    pg = next((r for r in results if r.name.startswith("PostGIS end to end") and r.times_s), None)
    if engine is None or cli is None:
        return []
    lines = [
        f"end to end: python -m geo coverage {cli.median_s:.2f} s (median), the engine alone {engine.median_s:.2f} s: "
        f"{cli.median_s / engine.median_s:.1f}x the engine (target <= 2x)"
    ]
    cpu_cli, cpu_engine = cli.extra.get("cpu_s_median"), engine.extra.get("cpu_s_median")
    if cpu_cli and cpu_engine:
        lines.append(
            f"CPU time (user + system, steadier on a busy machine): {cpu_cli:.2f} s vs {cpu_engine:.2f} s: {cpu_cli / cpu_engine:.1f}x"
        )
    parquet = next((r for r in results if r.name.startswith("coverage CLI, GeoParquet") and r.times_s), None)
    teams = next((r for r in results if r.name.startswith("coverage CLI --by team") and r.times_s), None)
    if parquet is not None:
        lines.append(f"the same command on GeoParquet files: {parquet.median_s:.2f} s, {parquet.median_s / engine.median_s:.1f}x the engine")
    if teams is not None:
        lines.append(f"the team table of both readings (--by team), GeoJSON in: {teams.median_s:.2f} s, peak {teams.extra.get('cli_peak_rss_mb')} MB")
    if pg is not None:
        q = pg.extra.get("query_s_median")
        lines.append(
            f"PostGIS end to end on the same GeoJSON files: {pg.median_s:.2f} s (load {pg.extra.get('load_s_median')} s, query and CSV {q} s); "
            f"the command is {cli.median_s / pg.median_s:.2f}x PostGIS end to end and {cli.median_s / q:.2f}x its query alone (target <= 0.5x)"
        )
    if "cli_peak_rss_mb" in cli.extra:
        lines.append(f"peak memory of the command: {cli.extra['cli_peak_rss_mb']} MB")
    return lines
