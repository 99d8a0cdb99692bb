"""Subcommand ``optimise``: the cheapest route extensions that bring every estate to k covering teams."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo.coverage.rule import STATUS_LABELS_ZH
from geo.errors import DataFileError, SchemaError
from geo.io.parts import row_list
from geo.report import coverage_table
from geo.routes.edits import plan_draft, status_counts
from geo.store import sources

#: Ids listed in a line before it says "and N more".
_NOTE_IDS = 12


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``optimise`` to the command line."""
    p = sub.add_parser(
        "optimise",
        help="plan the cheapest route extensions so every estate is covered by k teams; write them as route drafts",
        description="Choose, among detours of every team along the roads, the set with the fewest added metres (there and "
        "back) such that every estate is covered by at least k teams (existing cover counts), solved exactly by HiGHS "
        "(optimality gap reported; greedy if no plan comes in time). Estates no team reaches get the nearest team's "
        "extension beyond the radius or a new police loop from the nearest post, whichever is cheaper. With --budget-m: "
        "the most estates (weighted) within that many added metres, and a table of what each budget buys. The plan file "
        "is applied with 'python -m geo routes add PLAN' (preview; --save to keep it).",
    )
    p.add_argument("--out", type=Path, required=True, help="plan GeoJSON to write: one feature per detour, with team_id and cost_m")
    p.add_argument("--k", type=int, default=1, help="covering teams every estate should have (default 1; 2 for cross-patrol 交叉巡逻)")
    p.add_argument("--strict", action="store_true", help="strict reading: every nearby team must cover the estate")
    p.add_argument("--shift", choices=["day", "night"], help="plan for one shift: only its routes (and 'all' routes) count and are extended")
    p.add_argument("--budget-m", type=float, help="added metres available: maximal covering instead of covering everything")
    p.add_argument("--risk-weights", action="store_true", help="with --budget-m: weight estates by their incident risk rank (worst first), from the incident store")
    p.add_argument("--time-limit-s", type=float, help=f"seconds HiGHS may take (default {settings.optimise_time_limit_s:g})")
    p.add_argument("--greedy", action="store_true", help="use the greedy plan only (no solver)")
    p.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    p.add_argument("--routes", type=Path, help="patrol routes file (default data/patrol_routes.geojson)")
    p.add_argument("--roads", type=Path, help="road centrelines to route detours along (default data/gazetteer.geojson)")
    p.add_argument("--straight", action="store_true", help="straight detours, no road network")
    p.add_argument("--posts", type=Path, help="police posts for new loops at the gaps (default data/police_posts.geojson when present)")
    p.add_argument("--no-gaps", action="store_true", help="leave the gaps (estates no team reaches) out of the plan")
    p.add_argument("--curve-out", type=Path, help="with --budget-m: write the budget table (covered estates against added metres) as CSV")
    p.add_argument("--radius-m", type=float, help=f"rule radius in metres (default {settings.rule_radius_m:g})")
    p.add_argument("--cover-m", type=float, help="cover distance in metres for every estate (default: the settings' point/footprint values)")
    p.set_defaults(func=_optimise)


def _optimise(args: argparse.Namespace) -> int:
    from geo.optimise.plan import KINDS, budget_curve, plan_extensions  # scipy's solver: only this command needs it

    if args.out.suffix.lower() not in (".geojson", ".json"):
        msg = f"--out {args.out}: the plan is GeoJSON; give a .geojson file name"
        raise DataFileError(msg)
    if args.budget_m is not None and not args.budget_m > 0:
        msg = f"--budget-m {args.budget_m:g}: give a budget of added metres greater than 0 (e.g. --budget-m 5000)"
        raise SchemaError(msg)
    if args.k < 1:
        msg = f"--k {args.k}: give the number of covering teams every estate should have, 1 or more (2 for cross-patrol)"
        raise SchemaError(msg)
    estates, routes = sources.read_estates_and_routes(args.estates, args.routes)  # the store's, unless files are named
    roads = None if args.straight else (args.roads or settings.data_path("gazetteer.geojson"))
    posts_path = args.posts or settings.data_path("police_posts.geojson")
    posts = io.read_posts(posts_path) if (args.posts is not None or Path(posts_path).is_file()) else None
    for notice in list(estates.attrs.get("notices", [])) + list(routes.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)
    weights = _risk_weights(estates) if args.risk_weights else None
    rule = {"radius_m": args.radius_m, "cover_m": args.cover_m}
    res = plan_extensions(
        estates, routes, k=args.k, strict=args.strict, shift=args.shift, network=roads, posts=posts, budget_m=args.budget_m,
        weights=weights, time_limit_s=args.time_limit_s, method="greedy" if args.greedy else "milp", gaps=not args.no_gaps, **rule,
    )
    for notice in res.notices:
        print(f"note: {notice}", file=sys.stderr)
    plan = res.plan
    mode = "strict" if args.strict else "default"
    print(f"target: every estate covered by at least {args.k} team(s) ({mode} reading, {args.shift or 'any'} shift; "
          f"{'roads from ' + str(roads) if roads else 'straight detours'})")
    if res.unmeetable:
        print(f"cannot reach k={args.k} (fewer teams could ever cover them; planned for as many as can): {row_list(res.unmeetable, limit=_NOTE_IDS)}")
    if plan.method == "milp":
        proof = "proven optimal" if plan.optimal else f"best found in the time limit, optimality gap {plan.gap:.2%}"
        print(f"solver: HiGHS, {proof}, {plan.seconds:.2f} s")
    else:
        print(f"solver: greedy ({'asked for' if args.greedy else 'HiGHS gave no plan in the time limit'}), optimality unknown, {plan.seconds:.2f} s")
    if args.budget_m is not None:
        served = int((res.model.need > 0).sum())
        print(f"budget {args.budget_m:.0f} m: {plan.added_m:.0f} m used, {int((plan.met & (res.model.need > 0)).sum())} of {served} estates brought to target "
              f"(weight {plan.objective:.2f})")
    else:
        print(f"added: {plan.added_m:.0f} m there and back, in {len(res.features)} detour(s); separate per-estate extensions would add {res.per_estate_sum_m:.0f} m")
    if len(res.features):
        per_team = res.features.groupby(["team_id", "team"], sort=True).agg(detours=("plan_id", "size"), cost_m=("cost_m", "sum")).reset_index()
        with pd.option_context("display.width", 200, "display.unicode.east_asian_width", True):
            print("\nper team:")
            print(per_team.round({"cost_m": 0}).to_string(index=False))
            print("\ndetours:")
            print(res.features[["plan_id", "team_id", "kind", "cost_m", "measure", "estate_ids"]].to_string(index=False))
        print("\nkinds: " + "; ".join(f"{k} = {v}" for k, v in KINDS.items() if k in set(res.features["kind"])))
        draft = plan_draft(routes, res.features)
        before = coverage_table(estates, routes, shift=args.shift, strict=args.strict, **rule)
        after = coverage_table(estates, draft, shift=args.shift, strict=args.strict, **rule)
        b, a = status_counts(before), status_counts(after)
        print("\nstatus before -> after the plan:")
        for s in ("covered", "coverable", "gap"):
            print(f"  {s} {STATUS_LABELS_ZH[s]}: {b[s]} -> {a[s]}")
        if args.k > 1:
            met_b, met_a = int((before["covering_count"] >= args.k).sum()), int((after["covering_count"] >= args.k).sum())
            print(f"  covered by {args.k}+ teams (cross-patrol): {met_b} -> {met_a} of {len(after)}")
    else:
        print("nothing to add: every estate already meets the target")
    if args.budget_m is not None:
        full = res.model.solve(time_limit_s=args.time_limit_s)
        curve = budget_curve(res.model, full_m=full.added_m, time_limit_s=args.time_limit_s)
        print("\nwhat each budget buys (maximal covering):")
        print(curve.to_string(index=False))
        if args.curve_out is not None:
            io.write_table(curve, args.curve_out)
            print(f"wrote {args.curve_out}")
    meta = {
        "plan": True,
        "k": args.k,
        "strict": bool(args.strict),
        "shift": args.shift or "any",
        "added_m": round(plan.added_m, 2),
        "per_estate_sum_m": round(res.per_estate_sum_m, 2),
        "method": plan.method,
        "optimal": bool(plan.optimal),
        "note": "Route extensions planned by python -m geo optimise; apply with python -m geo routes add PLAN (preview, then --save).",
    }
    if res.features["synthetic"].any():
        meta["synthetic"] = True
    io.write_geojson(res.features, args.out, metadata=meta)
    print(f"\nwrote {args.out} ({len(res.features)} detour(s)); apply with: python -m geo routes add {args.out}")
    return 0


def _risk_weights(estates) -> dict[str, float]:
    """Weight per estate from the incident risk ranking: the worst of n estates weighs n, the best 1."""
    from geo.incidents.risk import risk_table
    table = risk_table(sources.read_incidents(), estates)
    n = len(table)
    return {str(e): float(n + 1 - r) for e, r in zip(table["estate_id"], table["rank"], strict=True)}
