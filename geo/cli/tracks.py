"""Subcommands ``tracks import``, ``tracks checkins``, ``tracks compare`` and ``dosage``: plan versus reality."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo import io, settings
from geo.store import sources


def register(sub: argparse._SubParsersAction) -> None:
    """Add the track subcommands and ``dosage`` to the command line."""
    tr = sub.add_parser("tracks", help="import patrol GPS tracks and check-ins; compare the plan with them",
                        description="Patrol tracks (GPX, CSV/XLSX of fixes) stored as GeoParquet by month in data/tracks/.")
    tsub = tr.add_subparsers(dest="tracks_command", metavar="ACTION", required=True)
    p = tsub.add_parser(
        "import",
        help="import a GPX/CSV/XLSX file of fixes, or a folder of them, into the track store",
        description="Read every file first (team or device id, time, lon, lat, optional speed; GPX track points with times). "
        "A file with fixes that have no time, times out of order in a GPX log, fixes far outside Shahe or devices mapped to no team "
        "stops the import with every problem listed, and nothing is stored. Otherwise the fixes are cleaned (duplicates, GPS jumps, "
        "impossible speeds dropped and counted; gaps counted) and merged into the store in one atomic write per month.",
    )
    p.add_argument("path", type=Path, help="a GPX, CSV or XLSX file, or a folder of them")
    p.add_argument("--team-id", help="team of files that name none (GPX logs, tables without a team or device column)")
    p.add_argument("--datum", help="datum of the coordinates: wgs84 (default), gcj02 (AMap, Tencent) or bd09 (Baidu)")
    p.add_argument("--devices", type=Path, help="CSV/XLSX table device_id -> team_id, for tables of device ids")
    p.add_argument("--dropped", type=Path, help="write the fixes dropped by cleaning, with the reason, to this CSV/XLSX")
    p.add_argument("--synthetic", action="store_true", help="mark the fixes as synthetic (demonstration data)")
    p.add_argument("--dry-run", action="store_true", help="check and clean, store nothing")
    _store_arg(p)
    p.set_defaults(func=_import)

    c = tsub.add_parser("checkins", help="import check-in records (point, team, time) into the store",
                        description="Rows with an unknown point, a device mapped to no team or an unreadable time go to the rejects file "
                        "with their row number and reason; the others are stored in data/tracks/checkins.parquet.")
    c.add_argument("file", type=Path, help="CSV/XLSX of check-ins: point_id, team_id (or device_id), time")
    c.add_argument("--points", type=Path, help="check-in points (default data/checkin_points.geojson)")
    c.add_argument("--devices", type=Path, help="CSV/XLSX table device_id -> team_id")
    c.add_argument("--rejects", type=Path, help="rejects CSV (default FILE-stem_rejects.csv beside FILE)")
    _store_arg(c)
    c.set_defaults(func=_checkins)

    m = tsub.add_parser(
        "compare",
        help="plan against actual per team: metres, share of each route covered, 1-km-rule obligations met",
        description="For each team of the plan: planned route length against metres patrolled, the share of each planned route "
        "its own tracks passed within the tolerance, and whether it visited the estates its routes cover or the 1-km rule obliges "
        "it to take in. Also lists the estates the plan covers that no team visited at night in the last N nights.",
    )
    _window(m)
    m.add_argument("--routes", type=Path, help="planned routes (default data/patrol_routes.geojson)")
    m.add_argument("--tolerance-m", type=float, help=f"a route point counts as patrolled within this distance (default {settings.plan_tolerance_m:g})")
    m.add_argument("--nights", type=int, default=7, help="list covered estates with no night visit in this many nights (default 7)")
    m.add_argument("--out", type=Path, help="write the per-team table (CSV/XLSX)")
    m.add_argument("--routes-out", type=Path, help="write the per-route shares (CSV/XLSX)")
    m.add_argument("--unvisited-out", type=Path, help="write the unvisited covered estates (CSV/XLSX)")
    m.set_defaults(func=_compare)

    d = sub.add_parser(
        "dosage",
        help="patrol dosage per estate: visits, minutes, night presence, 10-15 min stops, time since last visit",
        description="Stream the track store once: a visit is a stretch within the cover distance of an estate (segments between "
        "fixes interpolated, so a drive-past between two fixes counts); stops last 10-15 minutes (settings). One row per estate and "
        "day, week or month.",
    )
    _window(d)
    d.add_argument("--night", action="store_true", help="count night presence only (settings.night_start_hour to night_end_hour)")
    d.add_argument("--by", choices=["day", "week", "month"], default="day", help="period of each row (default day)")
    d.add_argument("--points", type=Path, help="check-in points, to add the check-ins per estate (default data/checkin_points.geojson when present)")
    d.add_argument("--out", type=Path, required=True, help="the dosage table (CSV/XLSX)")
    d.set_defaults(func=_dosage)


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tracks-dir", type=Path, help="the track store folder (default data/tracks)")


def _window(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start", help="first day, month or year counted, e.g. 2026-03-01 or 2026-03")
    p.add_argument("--end", help="last day, month or year counted (inclusive)")
    p.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    _store_arg(p)


def _import(args: argparse.Namespace) -> int:
    from geo.tracks import import_tracks

    rep = import_tracks(args.path, team_id=args.team_id, datum=args.datum, devices=args.devices, tracks_path=args.tracks_dir,
                        synthetic=args.synthetic, dropped_out=args.dropped, dry_run=args.dry_run)
    for line in rep.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing stored")
    return 0


def _checkins(args: argparse.Namespace) -> int:
    from geo.tracks.checkins import import_checkins, read_checkin_points
    from geo.tracks.fixes import read_devices

    points = read_checkin_points(args.points, estates=sources.read_estates())
    rejects = args.rejects or args.file.with_name(f"{args.file.stem}_rejects.csv")
    out = import_checkins(args.file, points, devices=read_devices(args.devices) if args.devices else None,
                          tracks_path=args.tracks_dir, rejects_out=rejects)
    print(f"read {out['read']} check-ins, stored {out['stored']} new, rejected {out['rejected']} (see {rejects})")
    for _, r in out["rejects"].head(20).iterrows():
        print(f"  row {r['row']}: {r['reason']}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from geo.tracks import plan_vs_actual, unvisited_estates

    estates, routes = sources.read_estates_and_routes(args.estates, args.routes)
    teams, per_route, res = plan_vs_actual(estates, routes, start=args.start, end=args.end, tracks_path=args.tracks_dir,
                                           tolerance_m=args.tolerance_m)
    if res.fixes == 0:
        print("no fixes in the track store for this window; import tracks first (python -m geo tracks import)")
    print(f"{res.fixes} fixes; route points count as patrolled within {teams.attrs['tolerance_m']:g} m")
    for _, t in teams.iterrows():
        share = "-" if t["route_share"] != t["route_share"] else f"{t['route_share'] * 100:.0f}%"
        print(f"{t['team_id']}: planned {t['planned_m']:.0f} m, patrolled {t['patrolled_m']:.0f} m ({t['patrolled_m_per_day']:.0f} m a day), routes covered {share}, "
              f"obligations met {t['obligations_met']}/{t['obligations']}" + (f" (not visited: {t['unmet_estate_ids']})" if t["unmet_estate_ids"] else ""))
    unvisited = unvisited_estates(res, estates, routes, nights=args.nights)
    print(f"{len(unvisited)} covered estate(s) with no night visit in the last {args.nights} nights"
          + (f": {', '.join(unvisited['estate_id'])}" if len(unvisited) else ""))
    for df, path in ((teams, args.out), (per_route, args.routes_out), (unvisited, args.unvisited_out)):
        if path is not None:
            io.write_table(df, path)
            print(f"wrote {path}")
    return 0


def _dosage(args: argparse.Namespace) -> int:
    from geo.tracks import dosage_table, run_scan
    from geo.tracks.checkins import checkin_counts, read_checkins

    estates = sources.read_estates(args.estates)
    res = run_scan(estates, start=args.start, end=args.end, tracks_path=args.tracks_dir)
    if res.fixes == 0:
        print("no fixes in the track store for this window; import tracks first (python -m geo tracks import)")
    table = dosage_table(res, estates, by=args.by, night=args.night, start=args.start, end=args.end)
    records = read_checkins(args.tracks_dir)
    if len(records):
        counts = checkin_counts(records, by=args.by, night=args.night)
        table = table.merge(counts, on=["period", "estate_id"], how="left")
        table["checkins"] = table["checkins"].fillna(0).astype(int)
    io.write_table(table, args.out)
    visited = int((table["visits"] > 0).sum()) if len(table) else 0
    print(f"{res.fixes} fixes in {res.chunks} chunk(s); {len(res.visits)} visits; {visited} of {len(table)} estate-{args.by} rows visited"
          + (" (night only)" if args.night else ""))
    print(f"wrote {args.out}")
    return 0
