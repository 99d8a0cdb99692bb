"""Subcommands ``incidents import``, ``rank``, ``effect`` and ``hotspots``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo._outputs import check_output
from geo.errors import GeoError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the incident subcommands to the command line."""
    inc = sub.add_parser("incidents", help="import incidents (110 calls, criminal cases, disputes)", description="Work with the incident store.")
    isub = inc.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    p = isub.add_parser(
        "import",
        help="import a CSV or XLSX file of incidents into the store",
        description="Import incidents from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or XLSX with Chinese or English headers. "
        "Rows without coordinates are geocoded from their address; every rejected row goes to the rejects file with its row number "
        "and reason. The store is written atomically; ids already in it are reported as duplicates and not imported again.",
    )
    p.add_argument("file", type=Path, help="the file to import")
    p.add_argument("--datum", help="datum of coordinates for rows without a datum column value (wgs84, gcj02, bd09; default wgs84)")
    p.add_argument("--mapping", type=Path, help='JSON file of header -> field, e.g. {"接警时间": "time", "案别": "category"}')
    p.add_argument("--source", help="source of rows without a source column (110, criminal_case, dispute_register)")
    p.add_argument("--out", type=Path, help="the incident store (default data/incidents.csv)")
    p.add_argument("--rejects", type=Path, help="rejects CSV (default: FILE-stem_rejects.csv beside the store)")
    p.add_argument("--chunksize", type=int, help="rows read at a time (default settings.incident_import_chunksize)")
    p.set_defaults(func=_import)

    r = sub.add_parser(
        "rank",
        help="rank estates by incident risk and propose the three-year list",
        description="Score each estate from the incidents around it (weighted, normalised components), rank them, "
        "cut the ranking into thirds and compare with the plan's batches.",
    )
    _common(r)
    r.add_argument("--window", help="years counted, FIRST-LAST (default settings.risk_window, 2019-2021)")
    r.add_argument("--weights", help="component weights, e.g. theft=2,property=1,criminal=1,disputes=1,calls_110=0.5")
    r.add_argument("--normalisation", choices=["z", "rank"], default="z", help="z-score (default) or rank scaled to 0..1")
    r.add_argument("--per-units", action="store_true", help="score rates per 100 units instead of counts")
    r.set_defaults(func=_rank)

    e = sub.add_parser(
        "effect",
        help="incidents per month before and after each estate's rectification window",
        description="Compare monthly incident rates before and after each estate's batch window (the ledger's batch_period, e.g. 2022年1月至2022年11月; Jan-Nov of batch_year when blank) "
        "with a conditional binomial test; summarise per batch and per community.",
    )
    _common(e)
    e.add_argument("--category", action="append", help="count only this category (repeatable; default all)")
    e.add_argument("--by", choices=["estate", "batch_year", "community"], default="estate", help="table per estate (default), batch or community")
    e.set_defaults(func=_effect)

    h = sub.add_parser("hotspots", help="Getis-Ord Gi* hot spots of incidents on a metric grid", description="Gi* on a grid of incident counts.")
    h.add_argument("--incidents", type=Path, help="incident store (default data/incidents.csv)")
    h.add_argument("--cell-m", type=float, help="cell size in metres (default settings.hotspot_cell_m)")
    h.add_argument("--category", action="append", help="only this category (repeatable)")
    h.add_argument("--start", help="first year or month, e.g. 2022 or 2022-03")
    h.add_argument("--end", help="last year or month (inclusive)")
    h.add_argument("--out", type=Path, help="write the cells as GeoJSON")
    h.set_defaults(func=_hotspots)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--incidents", type=Path, help="incident store (default data/incidents.csv)")
    p.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    p.add_argument("--radius-m", type=float, help="incidents within this many metres count (default settings.incident_radius_m)")
    p.add_argument("--mode", choices=["radius", "nearest"], help="every estate within the radius, or only the nearest (default settings)")
    p.add_argument("--out", type=Path, help="write the table as CSV or XLSX")


def _check_out(args) -> None:
    check_output(getattr(args, "out", None), reads=(args.incidents or settings.data_path("incidents.csv"),
                                                    getattr(args, "estates", None) or settings.data_path("estates.geojson")))


def _load(args):
    from geo.incidents.store import load_incidents

    _check_out(args)

    inc = load_incidents(args.incidents)
    if inc.attrs.get("synthetic"):
        print("note: the incident store holds synthetic demonstration incidents, not real ones", file=sys.stderr)
    return inc


def _import(args: argparse.Namespace) -> int:
    from geo.incidents.importer import import_incidents, read_mapping

    mapping = read_mapping(args.mapping) if args.mapping else None
    res = import_incidents(
        args.file, out=args.out, datum=args.datum, mapping=mapping, source=args.source, rejects=args.rejects, chunksize=args.chunksize
    )
    print(f"{args.file}: {res.summary()}")
    for row, reason in res.rejects[:20]:
        print(f"  row {row}: {reason}")
    if res.rejected > 20:
        print(f"  ... {res.rejected - 20} more in {res.rejects_path}")
    return 0


def _show(table: pd.DataFrame, out: Path | None, columns: list[str]) -> None:
    if out is not None:
        io.write_table(table, out)
        print(f"{out}: {len(table)} rows written")
    with pd.option_context("display.max_rows", 200, "display.width", 200, "display.max_colwidth", 90):
        print(table[columns].to_string(index=False))


def _rank(args: argparse.Namespace) -> int:
    from geo.incidents.risk import COMPONENTS, risk_table

    inc = _load(args)
    estates = io.read_estates(args.estates)
    try:
        t = risk_table(inc, estates, weights=args.weights, window=args.window, normalisation=args.normalisation, per_units=args.per_units, radius_m=args.radius_m, mode=args.mode)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    a = t.attrs
    print(f"window {a['window'][0]}-{a['window'][1]}, radius {a['radius_m']:g} m ({a['mode']}), normalisation {a['normalisation']}, "
          f"weights {', '.join(f'{k}={v:g}' for k, v in a['weights'].items())}")
    vals = [f"{k}_per100u" if args.per_units else k for k in COMPONENTS]
    _show(t, args.out, ["rank", "estate_id", "name", *vals, "score", "proposed_year", "plan_year", "agreement", "why"])
    same = int((t["agreement"] == "same").sum())
    print(f"{same} of {len(t)} estates are in the same batch as the plan")
    return 0


def _effect(args: argparse.Namespace) -> int:
    from geo.incidents.effect import effect_summary, effect_table

    inc = _load(args)
    estates = io.read_estates(args.estates)
    try:
        t = effect_table(inc, estates, categories=args.category, radius_m=args.radius_m, mode=args.mode)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    first, last = t.attrs["data_months"]
    print(f"data {first} to {last}; window = batch_period (Jan-Nov of batch_year when blank); rates per month; "
          "p from a conditional binomial test")
    for warning in t.attrs.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    cols = ["months_before", "n_before", "rate_before", "months_after", "n_after", "rate_after", "change_pct", "p_value", "verdict"]
    if args.by == "estate":
        _show(t.round(3), args.out, ["estate_id", "name", "batch_year", "window_start", "window_end", *cols])
    else:
        s = effect_summary(t, by=args.by)
        _show(s.round(3), args.out, [args.by, "estates", *cols])
    return 0


def _hotspots(args: argparse.Namespace) -> int:
    from geo.incidents.hotspots import hotspot_cells, hotspot_table

    inc = _load(args)
    try:
        cells = hotspot_cells(inc, cell_m=args.cell_m, categories=args.category, start=args.start, end=args.end)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    if args.out is not None:
        io.write_geojson(cells, args.out, metadata={"note": "Getis-Ord Gi* cells", "cell_m": cells.attrs["cell_m"]})
        print(f"{args.out}: {len(cells)} cells written")
    t = hotspot_table(cells)
    a = cells.attrs
    print(f"{len(cells)} cells of {a['cell_m']:g} m; {int((cells['label'] == 'hot').sum())} hot, {int((cells['label'] == 'cold').sum())} cold "
          f"(alpha {a['alpha']}, {a['permutations']} permutations, seed {a['seed']})")
    with pd.option_context("display.max_rows", 100, "display.width", 200):
        print(t[["count", "gi_z", "p_sim", "label", "lon", "lat"]].round(5).head(30).to_string(index=False))
    return 0
