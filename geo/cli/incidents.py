"""Subcommands ``incidents import``, ``rank``, ``effect``, ``hotspots`` and ``near-repeat``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo._outputs import check_output
from geo.errors import GeoError
from geo.store import sources


def register(sub: argparse._SubParsersAction) -> None:
    """Add the incident subcommands to the command line."""
    inc = sub.add_parser("incidents", help="import incidents (110 calls, criminal cases, disputes)", description="Work with the incident store.")
    isub = inc.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    p = isub.add_parser(
        "import",
        help="import a CSV, XLSX or (Geo)Parquet file of incidents into the store",
        description="Import incidents from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK), XLSX or (Geo)Parquet with Chinese or English headers. "
        "Rows without coordinates are geocoded from their address; every rejected row goes to the rejects file with its row number "
        "and reason. The store is written atomically; ids already in it are reported as duplicates and not imported again.",
    )
    p.add_argument("file", type=Path, help="the file to import")
    p.add_argument("--datum", help="datum of coordinates for rows without a datum column value (wgs84, gcj02, bd09; default wgs84)")
    p.add_argument("--mapping", type=Path, help='JSON file of header -> field, e.g. {"接警时间": "time", "案别": "category"}')
    p.add_argument("--source", help="source of rows without a source column (110, criminal_case, dispute_register)")
    p.add_argument("--out", type=Path, help="the incident store (default data/incidents.csv; a .parquet name keeps it as GeoParquet)")
    p.add_argument("--rejects", type=Path, help="rejects CSV (default: FILE-stem_rejects.csv beside the store)")
    p.add_argument("--chunksize", type=int, help="rows read at a time (default settings.incident_import_chunksize)")
    p.add_argument("--author", help="who imports, for the store's audit trail (default: the login name)")
    p.add_argument("--reason", help="why, for the store's audit trail (default: 'incidents imported from FILE')")
    p.set_defaults(func=_import)

    r = sub.add_parser(
        "rank",
        help="rank estates by incident risk and propose the three-year list",
        description="Score each estate from the incidents around it (weighted, normalised components), rank them, "
        "cut the ranking into thirds and compare with the plan's batches.",
    )
    _common(r)
    r.add_argument("--window", help="years counted, FIRST-LAST (default settings.risk_window, 2019-2021)")
    r.add_argument("--weights", help="component weights, e.g. theft=2,other_property=1,other_criminal=1,disputes=1,other_calls=0.5")
    r.add_argument("--normalisation", choices=["z", "rank"], default="z", help="z-score (default) or rank scaled to 0..1")
    r.add_argument("--per-units", action="store_true", help="score rates per 100 units instead of counts")
    r.set_defaults(func=_rank)

    e = sub.add_parser(
        "effect",
        help="did incidents drop after each estate's rectification window? (difference-in-differences or before/after)",
        description="Difference-in-differences (default): each estate's change after its window (the ledger's batch_period; Jan-Nov of batch_year when blank) "
        "against the estates of later batches before their own windows, with placebo-permutation p-values corrected by Benjamini-Hochberg, "
        "and the change in a ring around each estate beside it (displacement). --method before-after compares each estate's monthly rates "
        "before and after its window alone (conditional binomial test). Each incident counts for the nearest estate within the radius.",
    )
    _common(e)
    e.add_argument("--method", choices=["did", "before-after"], default="did", help="difference-in-differences (default) or before/after")
    e.add_argument("--placebo", type=int, help="placebo permutations of the did test (default settings.effect_placebo_permutations)")
    e.add_argument("--seed", type=int, help="seed of the placebo permutations (default settings.effect_seed)")
    e.add_argument("--ring-outer-m", type=float, help="outer distance of the displacement ring, metres (default settings.displacement_outer_m)")
    e.add_argument("--site-m", type=float, help="did: estates of one window within this distance (m) of each other are one site, and no control "
                   "lies this close to a treated site (default: the radius; smaller splits sites whose incidents overlap, at the risk of "
                   "an effect at one estate showing at its neighbour)")
    e.add_argument("--category", action="append", help="count only this category (repeatable; default all)")
    e.add_argument("--by", choices=["estate", "batch", "batch_year", "community"], default="estate",
                   help="table per estate (default) or pooled: batch (did, before-after), community (before-after)")
    e.add_argument("--event-study", action="store_true", help="also print incidents per estate-month relative to each window, treated beside control")
    e.set_defaults(func=_effect)

    h = sub.add_parser(
        "hotspots",
        help="Getis-Ord Gi* hot spots of incidents on a metric grid (false discovery rate controlled)",
        description="Gi* (esda, star) on a grid of Anscombe-stabilised incident counts; analytical z, corrected with Benjamini-Hochberg (FDR) by default. "
        "Cold spots only where a neighbourhood expects enough incidents (settings.hotspot_cold_min_expected).",
    )
    h.add_argument("--incidents", type=Path, help="incident store (default data/incidents.csv)")
    h.add_argument("--cell-m", type=float, help="cell size in metres (default settings.hotspot_cell_m)")
    h.add_argument("--category", action="append", help="only this category (repeatable)")
    h.add_argument("--start", help="first year or month, e.g. 2022 or 2022-03")
    h.add_argument("--end", help="last year or month (inclusive)")
    h.add_argument("--out", type=Path, help="write the cells as GeoJSON")
    h.add_argument("--emerging", action="store_true", help="emerging hot spots: Gi* per cell and period, Mann-Kendall trend, ESRI's patterns (new, consecutive, ...)")
    h.add_argument("--period", choices=["year", "quarter"], default="year", help="period of --emerging (default year)")
    h.add_argument("--correction", choices=["fdr", "none"], default="fdr", help="Benjamini-Hochberg FDR (default) or none (expect false positives)")
    h.add_argument("--alpha", type=float, help="false discovery rate, or per-cell level with --correction none (default settings.effect_alpha)")
    h.set_defaults(func=_hotspots)


    n = sub.add_parser(
        "near-repeat",
        help="near-repeat risk of burglary and theft from cars (Knox test) and the zones after recent cases",
        description="Knox test: pairs of cases close in space and time against shuffled times (seeded Monte Carlo), Benjamini-Hochberg over the bands. "
        "'Within X m and Y days of a case the risk is k times the baseline'; with --zones, a GeoJSON layer of the zone around each recent case.",
    )
    n.add_argument("--incidents", type=Path, help="incident store (default data/incidents.csv)")
    n.add_argument("--subcategory", action="append", help="subcategory kept (repeatable; default 入室盗窃 and 盗窃车内物品)")
    n.add_argument("--bands-m", help="spatial band limits, metres, e.g. 100,200,400 (default settings.near_repeat_bands_m)")
    n.add_argument("--bands-days", help="temporal band limits, days, e.g. 7,14,30 (default settings.near_repeat_bands_days)")
    n.add_argument("--permutations", type=int, help="Monte-Carlo shuffles (default settings.near_repeat_permutations)")
    n.add_argument("--seed", type=int, help="seed of the shuffles (default settings.near_repeat_seed)")
    n.add_argument("--start", help="first year or month, e.g. 2022 or 2022-03")
    n.add_argument("--end", help="last year or month (inclusive)")
    n.add_argument("--as-of", help="day the zones are for (default the last case)")
    n.add_argument("--zones", type=Path, help="write the zones after recent cases as GeoJSON")
    n.add_argument("--out", type=Path, help="write the Knox table as CSV or XLSX")
    n.set_defaults(func=_near_repeat)


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
    _check_out(args)

    inc = sources.read_incidents(args.incidents)  # the store in use, unless a file is named
    if inc.attrs.get("synthetic"):
        print("note: the incident store holds synthetic demonstration incidents, not real ones", file=sys.stderr)
    return inc


def _import(args: argparse.Namespace) -> int:
    from geo.cli.geocode import login_name
    from geo.incidents.importer import import_incidents, read_mapping
    from geo.store.saving import import_incidents_file

    mapping = read_mapping(args.mapping) if args.mapping else None
    res, note = import_incidents_file(  # with a store in use, the new rows are added to its incidents too
        lambda out: import_incidents(args.file, out=out, datum=args.datum, mapping=mapping, source=args.source, rejects=args.rejects,
                                     chunksize=args.chunksize),
        args.out, author=args.author or login_name(), reason=args.reason or f"incidents imported from {args.file}")
    print(f"{args.file}: {res.summary()}")
    if note:
        print(note)
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
    from geo.incidents.risk import COMPONENTS, risk_method, risk_table

    inc = _load(args)
    estates = sources.read_estates(args.estates)
    try:
        t = risk_table(inc, estates, weights=args.weights, window=args.window, normalisation=args.normalisation, per_units=args.per_units, radius_m=args.radius_m, mode=args.mode)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    a = t.attrs
    print(risk_method(a))
    if a.get("missing_units"):
        print(f"no unit count, so no rate and no rank: {', '.join(a['missing_units'])} (add their 单元 counts to the ledger)")
    vals = [f"{k}_per100u" if args.per_units else k for k in COMPONENTS]
    _show(t, args.out, ["rank", "estate_id", "name", *vals, "score", "proposed_year", "plan_year", "agreement", "why"])
    same = int((t["agreement"] == "same").sum())
    print(f"{same} of {len(t)} estates are in the same batch as the plan")
    return 0


def _p_columns(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of the table with p-value columns written as :func:`geo.incidents.reporting.format_p` does."""
    from geo.incidents.reporting import format_p

    out = table.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].map(format_p)
    return out


def _effect(args: argparse.Namespace) -> int:
    from geo.incidents.did import did_table, event_study
    from geo.incidents.effect import effect_summary, effect_table

    inc = _load(args)
    estates = sources.read_estates(args.estates)
    by = "batch_year" if args.by == "batch" and args.method == "before-after" else args.by
    by = "batch" if by == "batch_year" and args.method == "did" else by
    if args.method == "did" and by not in ("estate", "batch"):
        raise GeoError(f"--by {args.by} is for --method before-after; the difference-in-differences pools per batch (--by batch)")
    try:
        if args.method == "did":
            t = did_table(inc, estates, categories=args.category, radius_m=args.radius_m, mode=args.mode, permutations=args.placebo,
                          seed=args.seed, ring_outer_m=args.ring_outer_m, site_m=args.site_m, by=by)
        else:
            t = effect_table(inc, estates, categories=args.category, radius_m=args.radius_m, mode=args.mode)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    first, last = t.attrs["data_months"]
    for warning in t.attrs.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"data {first} to {last}; window = batch_period (Jan-Nov of batch_year when blank)")
    print(f"attribution: {t.attrs['attribution']}")
    if args.method == "did":
        print(t.attrs["method"])
        t = t.assign(verdict=t["verdict_code"].map(_DID_VERDICTS))
        cols = ["window", "controls", "post_months", "n_pre", "n_post", "irr", "change_pct", "p_value", "q_value", "verdict",
                "ring_n_pre", "ring_n_post", "ring_change_pct", "ring_p_value"]
        head = ["estate_id", "name", "separable"] if by == "estate" else ["batch", "estates"]
        cols = cols if by == "estate" else cols[1:]
        if args.out is not None:
            io.write_table(t, args.out)
            print(f"{args.out}: {len(t)} rows written")
        _show(_p_columns(t.round(3), ["p_value", "q_value", "ring_p_value"]), None, [*head, *cols])
        if args.event_study:
            es = event_study(inc, estates, categories=args.category, radius_m=args.radius_m, mode=args.mode, site_m=args.site_m)
            print("event study: incidents per estate-month by month relative to the window start (0), treated beside not-yet-rectified controls")
            with pd.option_context("display.max_rows", 1000, "display.width", 200):
                print(es.round(3).to_string(index=False))
        return 0
    print(t.attrs["method"])
    cols = ["months_before", "n_before", "rate_before", "months_after", "n_after", "rate_after", "change_pct", "p_value", "verdict"]
    table = t if by == "estate" else effect_summary(t, by=by)
    if args.out is not None:
        io.write_table(table, args.out)
        print(f"{args.out}: {len(table)} rows written")
    head = ["estate_id", "name", "batch_year", "window_start", "window_end"] if by == "estate" else [by, "estates"]
    _show(_p_columns(table.round(3), ["p_value"]), None, [*head, *cols])
    return 0


_DID_VERDICTS = {
    "fewer": "fewer", "more": "more", "no_clear_change": "no clear change", "too_short": "too short: fewer post months with a control than required",
    "no_control": "no control: no later batch left to compare with", "no_batch_year": "no batch year", "no_incidents": "no incidents",
}


def _hotspots(args: argparse.Namespace) -> int:
    from geo.incidents.hotspots import hotspot_cells, hotspot_table

    inc = _load(args)
    if args.emerging:
        return _emerging(args, inc)
    try:
        cells = hotspot_cells(inc, cell_m=args.cell_m, categories=args.category, start=args.start, end=args.end, correction=args.correction, alpha=args.alpha)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    a = cells.attrs
    if args.out is not None:
        io.write_geojson(cells, args.out, metadata={"note": "Getis-Ord Gi* cells", "cell_m": a["cell_m"], "method": a["method"]})
        print(f"{args.out}: {len(cells)} cells written")
    t = hotspot_table(cells)
    print(a["method"])
    if a.get("resolution_note"):
        print(f"note: {a['resolution_note']}")
    raw_hot, raw_cold = int((cells["label_uncorrected"] == "hot").sum()), int((cells["label_uncorrected"] == "cold").sum())
    print(f"{len(cells)} cells of {a['cell_m']:g} m; {int((cells['label'] == 'hot').sum())} hot, {int((cells['label'] == 'cold').sum())} cold "
          f"({a['correction']} at {a['alpha']:g}; without correction {raw_hot} hot, {raw_cold} cold)")
    with pd.option_context("display.max_rows", 100, "display.width", 200):
        print(_p_columns(t[["count", "expected", "gi_z", "p_value", "q_value", "label", "lon", "lat"]].round(5), ["p_value", "q_value"]).head(30).to_string(index=False))
    return 0


def _emerging(args: argparse.Namespace, inc) -> int:
    from geo import settings
    from geo.incidents.emerging import emerging_hotspots

    try:
        cells = emerging_hotspots(inc, period=args.period, cell_m=args.cell_m, categories=args.category, start=args.start, end=args.end, alpha=args.alpha)
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    a = cells.attrs
    if args.out is not None:
        io.write_geojson(cells, args.out, metadata={"note": "emerging hot spots", "periods": a["periods"], "method": a["method"]})
        print(f"{args.out}: {len(cells)} cells written")
    print(a["method"])
    print(f"periods {a['periods'][0]} to {a['periods'][-1]} ({len(a['periods'])}); {len(cells)} cells with incidents")
    counts = cells["pattern"].value_counts()
    print("; ".join(f"{k}: {v}" for k, v in counts.items()))
    shown = cells[cells["pattern"] != "no pattern"].copy()
    c = shown.geometry.to_crs(settings.metric_crs).centroid.to_crs(settings.storage_crs)
    shown["lon"], shown["lat"] = c.x.round(5), c.y.round(5)
    with pd.option_context("display.max_rows", 100, "display.width", 200):
        print(_p_columns(shown.sort_values(["pattern", "final_z"], ascending=[True, False])[
            ["pattern", "count", "hot_periods", "cold_periods", "final_z", "trend_tau", "trend_p", "lon", "lat"]].round(3), ["trend_p"]).head(50).to_string(index=False))
    return 0



def _bands(text: str | None, what: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace("，", ",").split(",") if v.strip()]
    except ValueError as exc:
        raise GeoError(f"--bands-{what} {text!r}: write numbers separated by commas, e.g. 100,200,400") from exc


def _near_repeat(args: argparse.Namespace) -> int:
    from geo.incidents.nearrepeat import NEAR_REPEAT_SUBCATEGORIES, knox_test, near_repeat_zones

    inc = _load(args)
    try:
        t = knox_test(inc, subcategories=args.subcategory or NEAR_REPEAT_SUBCATEGORIES, bands_m=_bands(args.bands_m, "m"),
                      bands_days=_bands(args.bands_days, "days"), permutations=args.permutations, seed=args.seed, start=args.start, end=args.end)
        zones = near_repeat_zones(inc, t, as_of=args.as_of) if args.zones is not None else None
    except ValueError as exc:
        raise GeoError(str(exc)) from exc
    print(t.attrs["method"])
    print(t.attrs["headline"])
    _show(_p_columns(t.round(3), ["p_value", "q_value"]), None, ["distance_m", "days", "observed", "expected", "ratio", "p_value", "q_value", "significant"])
    if args.out is not None:
        io.write_table(t, args.out)
        print(f"{args.out}: {len(t)} rows written")
    if zones is not None:
        io.write_geojson(zones, args.zones, metadata={"note": "near-repeat zones", "headline": t.attrs["headline"], "method": t.attrs["method"]})
        print(f"{args.zones}: {len(zones)} zones written" + (f" ({zones.attrs['note']})" if zones.attrs.get("note") else ""))
    return 0
