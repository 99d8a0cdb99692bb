"""Subcommand ``coverage``: the 1-km rule report for every estate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj

from geo import io, settings
from geo._outputs import check_output
from geo._text import display_width
from geo.coverage.estate_index import EstateIndex, prepare_estates
from geo.coverage.model import CoverageModel, solved_model
from geo.coverage.rule import STATUS_LABELS_ZH, STATUSES, Rule
from geo.errors import DataFileError
from geo.io.parts import row_list
from geo.report import (
    READINGS_NOTE,
    approximate_positions,
    coverage_table,
    report_columns,
    status_counts_by_reading,
    status_summary,
    synthetic_flags,
    team_obligations_by_reading,
)
from geo.store import sources

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
    p.add_argument("--estates", type=Path,
                   help="estates file: GeoJSON, GeoPackage, FlatGeobuf (.fgb), GeoParquet (.parquet), CSV/XLSX with lon/lat "
                   "(default data/estates.geojson)")
    p.add_argument("--routes", type=Path,
                   help="patrol routes file: GeoJSON, GeoPackage, FlatGeobuf (.fgb), GeoParquet (.parquet), CSV/XLSX with WKT, GPX "
                   "(default data/patrol_routes.geojson)")
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
    p.add_argument(
        "--by",
        choices=["estate", "team"],
        default="estate",
        help="estate (default): one row per estate; team: each team's obligations (estates it must bring in, metres) "
        "under the default and the strict reading side by side",
    )
    p.add_argument("--out", type=Path, help="write the report: .csv (UTF-8 with BOM), .xlsx or .geojson (.geojson only with --by estate)")
    # Everything it writes is closed on return: python -m geo may end at once (geo.cli.main.leave_now).
    p.set_defaults(func=_coverage, leave_at_once=True)


def _coverage(args: argparse.Namespace) -> int:
    check_output(args.out, reads=(args.estates or settings.data_path("estates.geojson"),
                                  args.routes or settings.data_path("patrol_routes.geojson"), args.network))
    # The store's layers, unless files are named. The model's estate side is made while the routes' process finishes.
    ahead: dict[str, EstateIndex | None] = {}
    estates, routes = sources.read_estates_and_routes(args.estates, args.routes, datum=args.datum,
                                                      on_estates=lambda frame: ahead.update(index=prepare_estates(frame)))
    for notice in list(estates.attrs.get("notices", [])) + list(routes.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)
    for note in data_notes(estates, routes):
        print(f"note: {note}", file=sys.stderr)
    rule = Rule(radius_m=args.radius_m, cover_m=args.cover_m, strict=args.strict, shift=args.shift)
    if args.by == "team":
        return _by_team(args, estates, routes, rule, estate_index=ahead.get("index"))
    model = solved_model(estates, routes, rule=rule, estate_index=ahead.get("index"))
    table = coverage_table(estates, routes, network=args.network, model=model)
    table["approximate_position"] = approximate_positions(estates).to_numpy()
    # the other reading's statuses only: the summary counts them (its whole table would join every team list again)
    other_model = model.with_reading(strict=not model.strict)
    other = pd.DataFrame({"estate_id": other_model.estate_ids,
                          "status": np.asarray(STATUSES, dtype=object)[other_model.summary_arrays()["status"]]})
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
            report = pd.DataFrame({c: table[c] for c in cols}, copy=False)  # the columns themselves: table[cols] copies all 16
            for col in ("nearest_distance_m", "recommended_extension_m"):  # column by column: DataFrame.round copies every column
                if col in report:
                    report[col] = report[col].round(2)
            io.write_table(report, args.out)
        else:
            msg = f"{args.out}: unsupported report type {suffix!r}; use .csv, .xlsx or .geojson"
            raise DataFileError(msg)
        print(f"{args.out}: {len(table)} estates written")
    else:
        _print_table(table[cols])
    print(method_line(model.radius_m, args.cover_m, "strict" if model.strict else "default", crs=model.crs, scale=model.estate_scale))
    readings = status_counts_by_reading(other, table) if model.strict else status_counts_by_reading(table, other)
    _print_summary(table, model, readings)
    args.results = (estates, routes, model, other_model, table)  # freed with args, or left to the process's end
    return 0


#: The summary lists every community up to this many; above it, this many with the most gaps.
COMMUNITIES_SHOWN = 30


#: Columns of the team report, in order.
TEAM_COLUMNS = [
    "team_id",
    "team",
    "org_type",
    "route_ids",
    "covered_count",
    "nearby_count",
    "default_obliged_count",
    "default_obliged_estate_ids",
    "default_extension_m",
    "strict_obliged_count",
    "strict_obliged_estate_ids",
    "strict_extension_m",
]


def method_line(radius_m: float, cover_m: float | None, reading: str, *, crs=None, scale=None) -> str:
    """The method and caveat of the estate table, in one line.

    ``crs`` is the CRS the distances were measured in (default
    :data:`geo.settings.metric_crs`); ``scale`` the scale factors the engine
    divided them by (:attr:`CoverageModel.estate_scale`), if any.
    """
    cover = f"{cover_m:g} m" if cover_m is not None else f"{settings.cover_distance_m:g} m ({settings.cover_distance_polygon_m:g} m for footprints)"
    name = settings.metric_crs if crs is None else _crs_name(crs)
    measured = (f"smallest planar distance ({name}) from each team's routes to the estate" if scale is None else
                f"smallest distance on the ground from each team's routes to the estate (planar in {name}, divided by its scale factor "
                f"at the estate, {scale.min():.5f} to {scale.max():.5f}: good to about 1 cm at 1 km)")
    return (
        f"method: {measured}; nearby <= {radius_m:g} m, covers <= {cover}, "
        f"inclusive with a {settings.distance_tolerance_m * 100:g} cm allowance; {reading} reading. "
        "caveat: distances are only as good as the positions (approximate unless surveyed), so an estate near a threshold may change status"
    )


def _crs_name(crs) -> str:
    """``EPSG:n`` where the CRS has a code, else its name."""
    crs = pyproj.CRS.from_user_input(crs)
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def team_method_line(radius_m: float) -> str:
    """The method and caveat of the team table, in one line."""
    return (
        f"method: a team is obliged for each estate within {radius_m:g} m of its routes that it does not cover and that is coverable in that "
        "reading; ext_m = extra metres there and back to take them all. caveat: each estate's extension is counted on its own "
        "(a detour shared by two estates counts twice) and positions are approximate unless surveyed"
    )


def _by_team(args: argparse.Namespace, estates: pd.DataFrame, routes: pd.DataFrame, rule: Rule, *,
             estate_index: EstateIndex | None = None) -> int:
    teams = team_obligations_by_reading(estates, routes, rule=rule, network=args.network, estate_index=estate_index)
    teams = teams[[c for c in TEAM_COLUMNS if c in teams.columns]]
    radius_m = settings.rule_radius_m if args.radius_m is None else args.radius_m
    if args.out is not None:
        suffix = args.out.suffix.lower()
        if suffix not in {".csv", ".xlsx"}:
            msg = f"{args.out}: unsupported report type {suffix!r} for --by team (a team table has no geometry); use .csv or .xlsx"
            raise DataFileError(msg)
        io.write_table(teams.round({"default_extension_m": 2, "strict_extension_m": 2}), args.out)
        print(f"{args.out}: {len(teams)} teams written")
    else:
        view = pd.DataFrame(
            {
                "team": teams["team_id"],
                "name": teams["team"],
                "covers": teams["covered_count"],
                "nearby": teams["nearby_count"],
                "default: must bring in": teams["default_obliged_estate_ids"].map(_ids_text),
                "default ext_m": teams["default_extension_m"].map(lambda v: f"{v:.0f}"),
                "strict: must bring in": teams["strict_obliged_estate_ids"].map(_ids_text),
                "strict ext_m": teams["strict_extension_m"].map(lambda v: f"{v:.0f}"),
            }
        )
        with pd.option_context("display.max_rows", None, "display.width", 250, "display.max_colwidth", 200, "display.unicode.east_asian_width", True):
            print(view.to_string(index=False))
    shift = args.shift or "any shift"
    print(f"\nteams ({shift}, radius {radius_m:g} m): estates to bring in, default {int(teams['default_obliged_count'].sum())}, "
          f"strict {int(teams['strict_obliged_count'].sum())} (an estate counts once per obliged team)")
    print(f"  {READINGS_NOTE}")
    print(team_method_line(radius_m))
    return 0


def _ids_text(ids: str) -> str:
    """Ids joined with ';' as a short list for the terminal."""
    return ", ".join(i for i in str(ids).split(";") if i) or "-"


def data_notes(estates: pd.DataFrame, routes: pd.DataFrame) -> list[str]:
    """Notes on approximate estate positions and synthetic routes, one line each (empty when all is real)."""
    notes = []
    approx = approximate_positions(estates)
    if approx.any():
        notes.append(
            f"{int(approx.sum())} of {len(estates)} estate positions are approximate (not surveyed, or synthetic): "
            f"{row_list(estates.loc[approx, 'estate_id'].to_numpy(), limit=_NOTE_IDS)}; their distances and statuses carry that error"
        )
    synthetic = synthetic_flags(routes)
    if synthetic.any():
        notes.append(
            f"{int(synthetic.sum())} of {len(routes)} routes are synthetic demonstration routes, not real patrols: "
            f"{row_list(routes.loc[synthetic, 'route_id'].to_numpy(), limit=_NOTE_IDS)}"
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


def _print_summary(table: pd.DataFrame, model: CoverageModel, readings: pd.DataFrame) -> None:
    mode = "strict" if model.strict else "default"
    shift = model.shift or "any shift"
    print(f"\nsummary ({shift}, radius {model.radius_m:g} m), both readings of the rule:")
    labels = {s: f"{s} {STATUS_LABELS_ZH[s]}" for s in readings.index}
    width = max(display_width(v) for v in labels.values()) + 2
    print("  " + " " * width + "".join(f"{c:>8}" for c in readings.columns))
    for s in readings.index:
        pad = " " * (width - display_width(labels[s]))
        print("  " + labels[s] + pad + "".join(f"{int(readings.loc[s, c]):>8}" for c in readings.columns))
    print(f"  {READINGS_NOTE}")
    cross = int((table["covering_count"] >= 2).sum())
    print(f"  cross-patrolled (2+ teams cover): {cross}")
    parts = status_summary(table)
    for key, title in (("community", "per community"), ("batch_year", "per batch")):
        if key not in parts:
            continue
        counts = parts[key]
        if key == "community" and len(counts) > COMMUNITIES_SHOWN:
            # A province has hundreds of communities: those with the most gaps, then the most to bring in.
            order = np.lexsort((-counts["coverable"].to_numpy(), -counts["gap"].to_numpy()))  # stable: ties keep name order
            counts = counts.iloc[order[:COMMUNITIES_SHOWN]]
            note = (f", the {COMMUNITIES_SHOWN} of {len(parts[key])} with the most gaps (then the most coverable); "
                    "the report (--out) has every estate's community")
        else:
            note = ""
        print(f"  {title} ({mode} reading){note}:")
        with pd.option_context("display.unicode.east_asian_width", True):
            print("    " + counts.to_string().replace("\n", "\n    "))
