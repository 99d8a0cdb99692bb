"""Subcommand ``routes``: add a route to a team, preview the coverage change, save, list and restore versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import crs as _crs
from geo import io, settings
from geo.coverage.rule import STATUS_LABELS_ZH, Rule
from geo.errors import DataFileError, SchemaError
from geo.maps.texts import LANGS
from geo.report import coverage_table
from geo.routes import phrases
from geo.routes.edits import (
    Team,
    check_lines_near,
    check_new_team,
    existing_team,
    lines_from_upload,
    make_draft,
    plan_draft,
    status_changes,
    status_counts,
)
from geo.routes.load import load_routes
from geo.routes.shared import open_route_store, sync_routes_file
from geo.schemas import ORG_TYPES, SHIFTS
from geo.store import sources

_DATUMS = ("wgs84", "gcj02", "bd09")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``routes add``, ``routes history`` and ``routes restore`` to the command line."""
    p = sub.add_parser(
        "routes",
        help="edit the patrol routes: add a line to a team, preview, save with history, restore",
        description="Edit data/patrol_routes.geojson the way the app's route editor does. Every save keeps the earlier "
        "file in data/route_history/ with who saved it and why; any version can be restored.",
    )
    rsub = p.add_subparsers(dest="routes_command", metavar="ACTION", required=True)

    a = rsub.add_parser(
        "add",
        help="give the lines of a GeoJSON or GPX file to a team; preview the coverage change; --save to keep it",
        description="Read the lines of FILE (GeoJSON or GPX), give them to an existing team (--team-id of a team in the "
        "routes file; its name, org type and shift are taken from there) or to a new team (--team, --org-type and --shift "
        "required), and print the coverage status counts before -> after and every estate whose status changes. "
        "Nothing is written unless --save is given with --author and --reason.",
    )
    a.add_argument("file", type=Path, metavar="FILE",
                   help="lines to add: .geojson/.json (LineString/MultiLineString features) or .gpx (each track one route); "
                   "or, without --team-id, a plan from 'python -m geo optimise' (team per feature)")
    a.add_argument("--datum", choices=_DATUMS, default="wgs84",
                   help="datum of FILE's coordinates (default wgs84; gcj02 for Gaode/Tencent exports, bd09 for Baidu); a GeoJSON 'datum' member wins")
    a.add_argument("--team-id", help="team that gets the lines: an existing team id, or a new one (1-40 letters, digits, '-', '_', '.'); "
                   "leave it out for a plan file, whose features name their teams")
    a.add_argument("--plan-ids", default="", metavar="P1,P2", help="with a plan file: accept only these detours (plan_id values), comma-separated")
    a.add_argument("--plan-teams", default="", metavar="T1,T2", help="with a plan file: accept only these teams' detours (team by team), comma-separated")
    a.add_argument("--team", help="team name (required for a new team; for an existing team it must match the routes file)")
    a.add_argument("--org-type", choices=ORG_TYPES, help="organisation type of a new team")
    a.add_argument("--shift", choices=SHIFTS, help="shift of the new routes: required for a new team and for a team whose routes have several shifts")
    a.add_argument("--schedule", help="schedule text of the new routes, e.g. '每日 20:00-22:00' (default none; never copied from another route)")
    a.add_argument("--replace", action="store_true", help="drop the team's current routes first (a redrawn route); default adds")
    a.add_argument("--remove", default="", metavar="R1,R2", help="route ids to delete, comma-separated")
    _common(a)
    a.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    a.add_argument("--radius-m", type=float, help=f"rule radius in metres (default {settings.rule_radius_m:g})")
    a.add_argument("--cover-m", type=float, help="cover distance in metres for every estate (default: the settings' point/footprint values)")
    a.add_argument("--strict", action="store_true", help="strict reading: covered only when every nearby team covers the estate")
    a.add_argument("--shift-filter", choices=["day", "night"], help="count only routes of this shift ('all' routes count for both)")
    a.add_argument("--author", help="who saves (with --save)")
    a.add_argument("--reason", help="why the routes change (with --save)")
    a.add_argument("--save", action="store_true", help="save the draft as the routes file and a new version")
    a.set_defaults(func=_add)

    h = rsub.add_parser(
        "history",
        help="list the saved versions of the routes file",
        description="Print every version (number, saved_at, author, reason, n_routes, restored_from) and any problem of "
        "the history (a missing version file, a routes file edited by hand). Exits 1 when there is a problem.",
    )
    _common(h)
    _lang(h)
    h.set_defaults(func=_history)

    r = rsub.add_parser(
        "restore",
        help="make an earlier version the routes file again (kept as a new version)",
        description="Restore version N: the routes file gets back N's bytes exactly, saved as a new version, so the "
        "history is never rewritten and the restore itself can be undone.",
    )
    r.add_argument("number", type=int, metavar="N", help="version number to restore (see 'routes history')")
    r.add_argument("--author", required=True, help="who restores")
    r.add_argument("--reason", default="", help="why (default '恢复到第 N 版', or 'restore version N' with --lang en)")
    _common(r)
    _lang(r)
    r.set_defaults(func=_restore)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--routes", type=Path, help="the routes GeoJSON file (default data/patrol_routes.geojson); its history is route_history/ beside it")


def _lang(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="language of what is printed and of the phrases recorded in the history: zh or en (default SHAHE_LANG, else zh)")


def _chosen_lang(args: argparse.Namespace) -> str:
    chosen = args.lang or settings.lang
    if chosen not in LANGS:
        msg = f"SHAHE_LANG={chosen!r}: use one of {', '.join(LANGS)}"
        raise SchemaError(msg)
    return chosen


#: Column names of ``routes history`` in each language.
_HISTORY_COLUMNS = {
    "zh": ("版本", "保存时间", "保存人", "原因", "路线数", "恢复自", "说明"),
    "en": ("number", "saved_at", "author", "reason", "n_routes", "restored_from", "note"),
}


def _routes_path(args: argparse.Namespace) -> Path:
    path = args.routes if args.routes is not None else settings.data_path("patrol_routes.geojson")
    if path.suffix.lower() not in (".geojson", ".json"):
        msg = f"{path}: the routes file kept with history is GeoJSON; convert it first (python -m geo convert --in {path} --out routes.geojson)"
        raise DataFileError(msg)
    return path


def _label(status: str) -> str:
    return f"{status} {STATUS_LABELS_ZH.get(status, '')}".strip()


# --- add --------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    routes_path = _routes_path(args)
    if args.save:
        missing = [f"--{k}" for k in ("author", "reason") if not str(getattr(args, k) or "").strip()]
        if missing:
            msg = f"--save needs {' and '.join(missing)}: say who saves the routes and why"
            raise SchemaError(msg)
    store = open_route_store(routes_path)
    if args.routes is None:
        sync_routes_file(routes_path)  # with a store in use, the draft starts from the store's current routes
    base_sha256 = store.current_sha256()  # a save is refused if someone else saves meanwhile
    routes = load_routes(routes_path)
    estates = sources.read_estates(args.estates)
    for notice in list(estates.attrs.get("notices", [])) + list(routes.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)

    if not args.file.is_file():
        msg = f"{args.file}: no such file; give a .geojson or .gpx file of the lines to add"
        raise DataFileError(msg)
    if args.team_id is None:
        return _add_plan(args, store, base_sha256, routes, estates, routes_path)
    if args.plan_ids or args.plan_teams:
        msg = "--plan-ids and --plan-teams select detours of a plan file; leave out --team-id to apply a plan"
        raise SchemaError(msg)
    team, is_new = _team(args, routes)
    remove = [r.strip() for r in str(args.remove).split(",") if r.strip()]
    unknown = [r for r in remove if r not in set(routes["route_id"].astype(str))]
    if unknown:
        msg = f"--remove: no route {', '.join(repr(r) for r in unknown)} in {routes_path}; see the route_id values there"
        raise SchemaError(msg)
    lines = lines_from_upload(str(args.file), args.file.read_bytes(), datum=args.datum)
    check_lines_near(lines, estates, source=str(args.file))
    draft = make_draft(routes, lines, team, replace=args.replace, remove_route_ids=remove)

    kind = "new team" if is_new else "existing team"
    print(f"team {team.team_id} {team.team} ({team.org_type}, {team.shift}; {kind})")
    converted = f", converted from {args.datum} to WGS-84" if args.datum != "wgs84" else ""
    print(f"{args.file}: {len(lines)} line(s){converted}")
    return _preview_and_save(args, store, base_sha256, routes, draft, estates, routes_path)


def _add_plan(args, store, base_sha256, routes, estates, routes_path) -> int:
    """Apply a plan file of ``python -m geo optimise`` (team per feature), whole or by detour / team."""
    if args.replace or args.remove or args.team or args.org_type or args.shift or args.schedule:
        msg = "a plan file names its teams per feature: leave out --team, --org-type, --shift, --schedule, --replace and --remove"
        raise SchemaError(msg)
    plan = io.read_plan(args.file, datum=None if args.datum == "wgs84" else args.datum)
    pick = [p.strip() for p in str(args.plan_ids).split(",") if p.strip()] or None
    teams = [t.strip() for t in str(args.plan_teams).split(",") if t.strip()] or None
    draft = plan_draft(routes, plan, plan_ids=pick, team_ids=teams)
    accepted = plan
    if pick is not None:
        accepted = accepted[accepted["plan_id"].astype(str).isin(pick)]
    if teams is not None:
        accepted = accepted[accepted["team_id"].astype(str).isin(teams)]
    print(f"{args.file}: plan of {len(plan)} detour(s); accepting {len(accepted)} ({accepted['cost_m'].sum():.0f} m added, there and back)")
    for row in accepted.itertuples(index=False):
        print(f"  {row.plan_id} {row.team_id} {row.team}: {row.kind}, {row.cost_m:.0f} m -> {row.estate_ids or '-'}")
    return _preview_and_save(args, store, base_sha256, routes, draft, estates, routes_path)


def _preview_and_save(args, store, base_sha256, routes, draft, estates, routes_path) -> int:
    """Print the coverage change of ``draft``; save it with --save."""
    rule = Rule(radius_m=args.radius_m, cover_m=args.cover_m, strict=args.strict, shift=args.shift_filter)
    before = coverage_table(estates, routes, rule=rule)
    after = coverage_table(estates, draft, rule=rule)

    new_ids = sorted(set(draft["route_id"].astype(str)) - set(routes["route_id"].astype(str)))
    gone = sorted(set(routes["route_id"].astype(str)) - set(draft["route_id"].astype(str)))
    new_rows = draft[draft["route_id"].astype(str).isin(new_ids)]
    lengths = _crs.to_metric(new_rows).geometry.length
    for rid, length_m in zip(new_rows["route_id"], lengths, strict=True):
        print(f"  + {rid}: {length_m:.0f} m")
    for rid in gone:
        print(f"  - {rid}")
    print(f"routes: {len(routes)} -> {len(draft)}")

    mode = "strict" if args.strict else "default"
    print(f"\nstatus before -> after ({mode} mode, {args.shift_filter or 'any shift'}):")
    b, a = status_counts(before), status_counts(after)
    for s in ("covered", "coverable", "gap"):
        print(f"  {_label(s)}: {b[s]} -> {a[s]}")
    changes = status_changes(pd.DataFrame(before), pd.DataFrame(after))
    if len(changes):
        print("estates whose status changes:")
        for row in changes.itertuples(index=False):
            print(f"  {row.estate_id} {getattr(row, 'name', '')}: {_label(row.before)} -> {_label(row.after)}")
    else:
        print("no estate changes status")

    if not args.save:
        print("\nnothing saved; add --save --author ... --reason ... to save")
        return 0
    version = store.save(draft, author=args.author, reason=args.reason, expected_sha256=base_sha256)
    print(f"\nsaved {routes_path} as version {version.number} ({version.n_routes} routes, by {version.author})")
    return 0


def _team(args: argparse.Namespace, routes) -> tuple[Team, bool]:
    """The team of the new lines and whether it is new; refuse fields that contradict the routes file."""
    team_id = str(args.team_id).strip()
    try:
        team = existing_team(routes, team_id, team=args.team, org_type=args.org_type, shift=args.shift, schedule=args.schedule)
    except SchemaError as exc:  # name the options, not the fields
        msg = str(exc).replace("field 'org_type'", "--org-type").replace("field 'team'", "--team").replace("field 'shift'", "--shift")
        msg = msg.replace("choose the shift of the new lines", "give --shift for the new lines")
        raise SchemaError(msg) from None
    if team is not None:
        return team, False
    missing = [f"--{k}" for k in ("team", "org_type", "shift") if not str(getattr(args, k) or "").strip()]
    if missing:
        msg = (f"--team-id {team_id!r} is not in the routes file, so it is a new team and needs "
               f"{', '.join(m.replace('_', '-') for m in missing)} (org types: {', '.join(ORG_TYPES)}; shifts: {', '.join(SHIFTS)})")
        raise SchemaError(msg)
    team = Team(team_id, args.team.strip(), args.org_type, args.shift, (args.schedule or "").strip())
    problems = check_new_team(team, routes)
    if problems:
        msg = f"new team {team_id!r}: {'; '.join(problems)}"
        raise SchemaError(msg)
    return team, True


# --- history and restore ----------------------------------------------------------------------


def _history(args: argparse.Namespace) -> int:
    lang = _chosen_lang(args)
    store = open_route_store(_routes_path(args))
    versions = store.versions()
    if not versions:
        print(f"{store.path}: 尚无保存的版本（第一次保存时先存下现有文件作为第 1 版）" if lang == "zh"
              else f"{store.path}: no saved versions yet (the first save keeps the current file as version 1)")
    else:
        cols = _HISTORY_COLUMNS[lang]
        view = pd.DataFrame(
            {
                cols[0]: [v.number for v in versions],
                cols[1]: [phrases.local_time_text(v.saved_at) for v in versions],  # local time (UTC+8) to the minute
                cols[2]: [phrases.history_text(v.author, lang) for v in versions],
                cols[3]: [phrases.history_text(v.reason, lang) for v in versions],
                cols[4]: [v.n_routes for v in versions],
                cols[5]: ["" if v.restored_from is None else str(v.restored_from) for v in versions],
            }
        )
        if any(v.note for v in versions):
            view[cols[6]] = [v.note or "" for v in versions]
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60,
                               "display.unicode.east_asian_width", True):
            print(view.to_string(index=False))
    problems = store.check()
    for problem in problems:
        print(f"problem: {problem}")
    return 1 if problems else 0


def _restore(args: argparse.Namespace) -> int:
    if not str(args.author).strip():
        msg = "--author is empty: say who restores the routes"
        raise SchemaError(msg)
    lang = _chosen_lang(args)
    store = open_route_store(_routes_path(args))
    reason = str(args.reason).strip() or phrases.restore_reason(args.number, lang)
    version = store.restore(args.number, author=args.author, reason=reason)
    if lang == "zh":
        print(f"已恢复第 {args.number} 版，保存为 {store.path} 的第 {version.number} 版（{version.n_routes} 条路线）")
    else:
        print(f"restored version {args.number} as version {version.number} of {store.path} ({version.n_routes} routes)")
    return 0
