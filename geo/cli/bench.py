"""Subcommand ``bench``: time the engine on synthetic data (see docs/benchmarks.md)."""

from __future__ import annotations

import argparse

from benchmarks import scale


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bench`` to the command line."""
    p = sub.add_parser(
        "bench",
        help="benchmark coverage, route edits, heat layers, imports, extension plans and (--tracks) track dosage on synthetic data",
        description="Generate seeded synthetic estates, routes and incidents (every coordinate invented) and time the engine "
        "against a buffer-and-join baseline and, with --postgis, PostGIS ST_DWithin. The answers are checked to agree before "
        "any timing is printed. Each case runs in a forked child process; peak memory is that child's peak resident set.",
    )
    p.add_argument("--size", choices=list(scale.SIZES), default="district", help="data size (default: district)")
    p.add_argument("--repeats", type=_positive, default=3, help="repeats per case; min and median are reported (default: 3)")
    p.add_argument(
        "--postgis",
        metavar="DSN",
        help="libpq connection string of a PostGIS database on this machine, e.g. "
        "'host=127.0.0.1 dbname=bench user=bench password=...' (tables bench_* and e2e_* are replaced), or 'auto' to start a "
        "throw-away cluster for the run (needs Debian's postgresql-15-postgis-3)",
    )
    p.add_argument("--bad-input-mb", type=float, metavar="MB",
                   help="also give the coverage command a GeoJSON of about MB megabytes with three bad features (e.g. 200)")
    p.add_argument("--seed", type=int, default=2022, help="seed of the synthetic data (default: 2022)")
    p.add_argument("--import-rows", type=_positive, default=1_000_000, help="rows of the incident CSV import case (default: 1000000)")
    p.add_argument(
        "--end-to-end",
        action="store_true",
        help="only the engine and the coverage command end to end (GeoJSON files on disk, CSV report), with their ratio",
    )
    p.add_argument(
        "--imports",
        action="store_true",
        help="run only the import benchmark: a synthetic CSV of --import-rows rows (bad rows planted) imported into the CSV and "
        "GeoParquet stores, against pandas.read_csv of the same file",
    )
    p.add_argument("--optimise", action="store_true",
                   help="only the extension plan (k = 1 along a 300 m road grid over the size's layout): time, optimality gap, "
                        "added metres against the per-estate extensions and greedy")
    p.add_argument("--threads", nargs="?", const="", type=_counts, metavar="COUNTS",
                   help="only the engine's thread curve: the same solve on each thread count (comma-separated, e.g. 1,2,4; "
                        "default: the powers of two up to the cores, and the cores), --repeats rounds, with the speed-up over one "
                        "thread")
    p.add_argument("--tracks", action="store_true", help="run the track dosage benchmark (a year of synthetic fixes streamed into dosage per estate) instead")
    p.add_argument("--track-teams", type=_positive, default=50, help="teams of the track benchmark (default: 50)")
    p.add_argument("--track-days", type=_positive, default=365, help="days of tracks (default: 365)")
    p.add_argument("--track-step-s", type=_positive, default=10, help="seconds between fixes (default: 10)")
    p.add_argument("--track-fraction", type=_fraction, default=1.0,
                   help="run this fraction of the days and extrapolate to all of them (default: 1, the whole year)")
    p.set_defaults(func=_bench)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value <= 1.0:
        msg = f"{text!r} is not a fraction in (0, 1]"
        raise argparse.ArgumentTypeError(msg)
    return value


def _counts(text: str) -> list[int]:
    """``"1,2,8"`` -> ``[1, 2, 8]``; ``""`` -> ``[]`` (the default counts)."""
    counts = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        counts.append(_positive(part))
    return counts


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"{text!r} is not a positive whole number"
        raise argparse.ArgumentTypeError(msg)
    return value


def _bench(args: argparse.Namespace) -> int:
    from benchmarks.bench import machine_description, run_benchmark

    for k, v in machine_description().items():
        print(f"{k}: {v}")
    if args.tracks:
        from benchmarks.tracks import run_tracks_benchmark

        run_tracks_benchmark(teams=args.track_teams, days=args.track_days, step_s=args.track_step_s, fraction=args.track_fraction,
                             seed=args.seed)
        return 0
    if args.threads is not None:
        from benchmarks.threads import run_threads_benchmark

        run_threads_benchmark(args.size, repeats=args.repeats, seed=args.seed, counts=args.threads or None)
        return 0
    if args.imports:
        from benchmarks.imports import run_import_benchmark

        run_import_benchmark(args.import_rows, repeats=args.repeats, seed=args.seed)
        return 0
    run_benchmark(args.size, repeats=args.repeats, postgis=args.postgis, seed=args.seed, import_rows=args.import_rows,
                  end_to_end_only=args.end_to_end, optimise_only=args.optimise, bad_input_mb=args.bad_input_mb)
    return 0
