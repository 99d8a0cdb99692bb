"""Subcommand ``coverage``: the 1-km rule report for every estate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo._outputs import check_output
from geo.coverage.model import CoverageModel, solved_model
from geo.coverage.rule import STATUS_LABELS_ZH, Rule
from geo.errors import DataFileError
from geo.report import approximate_positions, coverage_table, report_columns, status_summary, synthetic_flags
from geo.routes.load import load_routes

#: Ids listed in a note before it says "and N more".
_NOTE_IDS = 10


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``coverage`` to the command line."""
    p = sub.add_parser(
        "coverage",
        help="check the 1-km patrol rule: covered, coverable and gap estates",
        description="For every estate: covered (a team's route passes within the cover distance), coverable (no team "
        "covers it but a team is within the rule radius, which obliges it to extend) or gap (no team within the radius). "
        "Distances are planar metres in EPSG:4545; both thresholds are inclusive.",
    )
    p.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    p.add_argument("--routes", type=Path, help="patrol routes file: GeoJSON, GPKG, CSV/XLSX with WKT (default data/patrol_routes.geojson)")
    p.add_argument("--datum", help="datum of the routes file when it does not declare it (wgs84, gcj02, bd09)")
    p.add_argument("--radius-m", type=float, help=f"rule radius in metres (default {settings.rule_radius_m:g})")
    p.add_argument(
        "--cover-m",
        type=float,
        help=f"cover distance in metres for every estate (default {settings.cover_distance_m:g} for points, "
        f"{settings.cover_distance_polygon_m:g} for footprints)",
    )
    p.add_argument("--strict", action="store_true", help="strict reading: an estate is covered only when every nearby team covers it")
    p.add_argument("--shift", choices=["day", "night"], help="only routes of this shift (routes with shift 'all' count for both)")
    p.add_argument("--network", type=Path, help="road network GeoJSON (e.g. data/gazetteer.geojson): measure extensions along roads")
    p.add_argument("--out", type=Path, help="write the report: .csv (UTF-8 with BOM), .xlsx or .geojson")
    p.set_defaults(func=_coverage)


def _coverage(args: argparse.Namespace) -> int:
    check_output(args.out, reads=(args.estates or settings.data_path("estates.geojson"),
                                  args.routes or settings.data_path("patrol_routes.geojson"), args.network))
    estates = io.read_estates(args.estates)
    routes = load_routes(args.routes, datum=args.datum)
    for notice in list(estates.attrs.get("notices", [])) + list(routes.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)
    rule = Rule(radius_m=args.radius_m, cover_m=args.cover_m, strict=args.strict, shift=args.shift)
    model = solved_model(estates, routes, rule=rule)
    table = coverage_table(estates, routes, network=args.network, model=model)
    table["approximate_position"] = approximate_positions(estates).to_numpy()
    for note in data_notes(estates, routes):
        print(f"note: {note}", file=sys.stderr)
    cols = report_columns(table)
    if args.out is not None:
        suffix = args.out.suffix.lower()
        if suffix in {".geojson", ".json"}:
            synthetic = bool(synthetic_flags(estates).any() or synthetic_flags(routes).any())
            meta = {"report": "coverage", "radius_m": model.radius_m, "strict": model.strict, "shift": model.shift or "any"}
            if synthetic:
                meta["synthetic"] = True
                meta["note"] = "computed from approximate or synthetic demonstration data"
            io.write_geojson(table[[*cols, table.geometry.name]], args.out, metadata=meta)
        elif suffix in {".csv", ".xlsx"}:
            io.write_table(pd.DataFrame(table[cols]).round({"nearest_distance_m": 2, "recommended_extension_m": 2}), args.out)
        else:
            msg = f"{args.out}: unsupported report type {suffix!r}; use .csv, .xlsx or .geojson"
            raise DataFileError(msg)
        print(f"{args.out}: {len(table)} estates written")
    else:
        _print_table(table[cols])
    _print_summary(table, model)
    return 0


def _ids(values) -> str:
    values = [str(v) for v in values]
    more = f" and {len(values) - _NOTE_IDS} more" if len(values) > _NOTE_IDS else ""
    return ", ".join(values[:_NOTE_IDS]) + more


def data_notes(estates: pd.DataFrame, routes: pd.DataFrame) -> list[str]:
    """Notes on approximate estate positions and synthetic routes, one line each (empty when all is real)."""
    notes = []
    approx = approximate_positions(estates)
    if approx.any():
        notes.append(
            f"{int(approx.sum())} of {len(estates)} estate positions are approximate (not surveyed, or synthetic): "
            f"{_ids(estates.loc[approx, 'estate_id'])}; their distances and statuses carry that error"
        )
    synthetic = synthetic_flags(routes)
    if synthetic.any():
        notes.append(
            f"{int(synthetic.sum())} of {len(routes)} routes are synthetic demonstration routes, not real patrols: "
            f"{_ids(routes.loc[synthetic, 'route_id'])}"
        )
    return notes


def _print_table(table: pd.DataFrame) -> None:
    view = pd.DataFrame(
        {
            "estate": table["estate_id"],
            "name": table.get("name", ""),
            "status": table["status"].map(lambda s: f"{s} {STATUS_LABELS_ZH.get(s, '')}"),
            "teams": table["covering_count"].astype(str) + "/" + table["nearby_count"].astype(str),
            "nearest": table["nearest_team_id"],
            "dist_m": table["nearest_distance_m"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
            "recommend": table["recommended_team_id"],
            "ext_m": table["recommended_extension_m"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
        }
    )
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.unicode.east_asian_width", True):
        print(view.to_string(index=False))
    print("teams = covering/nearby; ext_m = extra metres there and back for the recommended team")


def _print_summary(table: pd.DataFrame, model: CoverageModel) -> None:
    mode = "strict" if model.strict else "default"
    shift = model.shift or "any shift"
    print(f"\nsummary ({mode} mode, {shift}, radius {model.radius_m:g} m):")
    parts = status_summary(table)
    total = parts["total"].iloc[0]
    print("  " + ", ".join(f"{s} {STATUS_LABELS_ZH[s]}: {int(total[s])}" for s in total.index))
    cross = int((table["covering_count"] >= 2).sum())
    print(f"  cross-patrolled (2+ teams cover): {cross}")
    for key, title in (("community", "per community"), ("batch_year", "per batch")):
        if key in parts:
            print(f"  {title}:")
            with pd.option_context("display.unicode.east_asian_width", True):
                print("    " + parts[key].to_string().replace("\n", "\n    "))
