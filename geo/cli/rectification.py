"""Subcommands ``survey``, ``measures``, ``meetings``, ``visits`` and ``progress``: carrying out the plan.

``add`` records one record from options, ``import`` a CSV/XLSX file (the
template's Chinese headers or the field names) with a rejects file, ``list``
prints them and ``template`` writes an empty file with the Chinese headers.
``measures status`` moves a measure one step (a step back needs ``--reason``),
``measures plan`` drafts measures from a survey's findings, ``measures attach``
adds evidence. ``progress`` prints the progress and writes the leading group's
briefing (``.docx``, ``.xlsx``) or its map (``.png``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo.errors import DataFileError, SchemaError
from geo.rectification.records import KINDS, MEASURE_STATUSES, VALUE_LABELS_ZH, RecordKind
from geo.store import sources

_COMMANDS = {"survey": "surveys", "measures": "measures", "meetings": "meetings", "visits": "visits"}
_HELP = {
    "survey": "the survey of each estate (排查): security, fire safety, property management, disputes, prevention",
    "measures": "the plan per estate (一区一策): measures, their status, evidence and verification",
    "meetings": "residents' meetings (居民群众会议; at least 30 people to meet the plan)",
    "visits": "visits to residents, deputies and activists, and awareness campaigns",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the rectification subcommands to the command line."""
    for command, kind_name in _COMMANDS.items():
        kind = KINDS[kind_name]
        p = sub.add_parser(command, help=_HELP[command], description=f"{kind.label_zh}: add, import, list or make a template.")
        s = p.add_subparsers(dest=f"{command}_action", metavar="ACTION", required=True)
        add = s.add_parser("add", help=f"record one {kind_name[:-1]}", description=f"Record one {kind_name[:-1]}; --author is required.")
        for f in kind.fields:
            if f.name in (kind.id_field, "synthetic"):
                continue
            flags = ["--estate", "--estate-id"] if f.name == "estate_id" else [f"--{f.name.replace('_', '-')}"]
            choices = f" ({', '.join(f.choices)})" if f.choices else ""
            add.add_argument(*flags, dest=f.name, required=f.required, help=f"{f.header_zh}: {f.description}{choices}")
        add.add_argument("--reason", default="", help="why (kept in the audit trail)")
        add.set_defaults(func=_add, record_kind=kind)
        imp = s.add_parser("import", help="import a CSV or XLSX file (template headers)", description="Import records; every rejected row "
                           "goes to the rejects file with its row number and reason; the accepted rows are stored together or not at all.")
        imp.add_argument("file", type=Path)
        imp.add_argument("--author", required=True, help="who imports")
        imp.add_argument("--reason", default="", help="why")
        imp.add_argument("--rejects", type=Path, help="rejects CSV (default FILE-stem_rejects.csv beside FILE)")
        imp.set_defaults(func=_import, record_kind=kind)
        ls = s.add_parser("list", help="print the records")
        ls.add_argument("--estate", help="only this estate")
        ls.add_argument("--out", type=Path, help="write them as CSV or XLSX instead")
        ls.set_defaults(func=_list, record_kind=kind)
        tp = s.add_parser("template", help="write an empty CSV/XLSX with the Chinese headers")
        tp.add_argument("out", type=Path)
        tp.set_defaults(func=_template, record_kind=kind)
        if command == "measures":
            st = s.add_parser("status", help="move a measure one step: planned, in_progress, done, verified")
            st.add_argument("measure_id")
            st.add_argument("status", choices=MEASURE_STATUSES)
            st.add_argument("--author", required=True)
            st.add_argument("--reason", default="", help="required for a step back")
            st.add_argument("--verified-by", help="who verified it (status verified)")
            st.add_argument("--verified-on", help="day of verification (default today)")
            st.set_defaults(func=_status)
            pl = s.add_parser("plan", help="draft measures from a survey's findings (一区一策)")
            pl.add_argument("survey_id")
            pl.add_argument("--author", required=True)
            pl.add_argument("--save", action="store_true", help="store the drafted measures (default: only print them)")
            pl.set_defaults(func=_plan)
            at = s.add_parser("attach", help="attach a photo (JPEG, PNG) or PDF as evidence")
            at.add_argument("measure_id")
            at.add_argument("file", type=Path)
            at.add_argument("--author", required=True)
            at.set_defaults(func=_attach)
    pr = sub.add_parser("progress", help="progress over three years and the leading group's briefing",
                        description="Progress per estate, batch and community; with --out, the briefing as .docx or .xlsx, "
                        "the progress map as .png, or the per-estate table as .csv.")
    pr.add_argument("--as-of", help="the day the figures are for (default today)")
    pr.add_argument("--out", type=Path, help="briefing.docx, briefing.xlsx, map.png or progress.csv")
    pr.set_defaults(func=_progress)


def _estates() -> pd.DataFrame:
    return sources.read_estates()


def _print(df: pd.DataFrame) -> None:
    with pd.option_context("display.max_rows", 500, "display.max_columns", 30, "display.width", 200):
        print(df.to_string(index=False) if len(df) else "(none)")


def _store_and_report(kind: RecordKind, records: list[dict], args) -> int:
    from geo.rectification import repository

    ids = repository.add_records(kind.name, records, author=args.author, reason=args.reason or f"{kind.name}: {len(records)} added")
    for rid, rec in zip(ids, records, strict=True):
        flag = ""
        if kind.name == "meetings" and rec["attendance"] < settings.meeting_min_attendance:
            flag = f"  不达标: {rec['attendance']} < {settings.meeting_min_attendance} attendees (kept, flagged as not meeting the plan)"
        print(f"recorded {rid}{flag}")
    return 0


def _add(args) -> int:
    from geo.rectification import repository
    from geo.rectification.validation import validate_rows

    kind: RecordKind = args.record_kind
    row = {f.name: getattr(args, f.name, None) for f in kind.fields if hasattr(args, f.name)}
    existing = repository.load_records(kind.name)
    records, rejects = validate_rows(kind, pd.DataFrame([row]), _estates(), existing_ids=existing[kind.id_field])
    if rejects:
        raise SchemaError(f"{kind.name}: not recorded", [reason for _row, reason in rejects])
    return _store_and_report(kind, records, args)


def _import(args) -> int:
    from geo.rectification import repository
    from geo.rectification.validation import validate_rows

    kind: RecordKind = args.record_kind
    table = io.read_table(args.file)
    existing = repository.load_records(kind.name)
    records, rejects = validate_rows(kind, table, _estates(), existing_ids=existing[kind.id_field])
    rejects_path = args.rejects or args.file.with_name(f"{args.file.stem}_rejects.csv")
    if rejects:
        if rejects_path.resolve() == args.file.resolve():
            raise DataFileError(f"{rejects_path}: the rejects file would overwrite the file being imported; give another --rejects")
        io.write_table(pd.DataFrame(rejects, columns=["row", "reason"]), rejects_path)
        for row, reason in rejects:
            print(f"{args.file}, row {row}: {reason}", file=sys.stderr)
    if records:
        _store_and_report(kind, records, args)
    print(f"{len(records)} {kind.name} recorded, {len(rejects)} rejected" + (f" (see {rejects_path})" if rejects else ""))
    return 1 if rejects else 0


def _list(args) -> int:
    from geo.rectification import repository

    kind: RecordKind = args.record_kind
    df = repository.load_records(kind.name)
    if args.estate:
        df = df[df["estate_id"] == args.estate]
    if kind.name == "meetings" and len(df):
        df = df.assign(meets_plan=pd.to_numeric(df["attendance"]) >= settings.meeting_min_attendance)
    if args.out:
        io.write_table(df, args.out)
        print(f"wrote {len(df)} {kind.name} to {args.out}")
    else:
        _print(df)
    return 0


def _template(args) -> int:
    kind: RecordKind = args.record_kind
    headers = [f.header_zh for f in kind.fields if f.name != "synthetic"]
    io.write_table(pd.DataFrame(columns=headers), args.out)
    print(f"wrote the {kind.label_zh} template to {args.out} ({len(headers)} columns)")
    return 0


def _status(args) -> int:
    from geo.rectification import repository

    changes = {"status": args.status}
    if args.reason:
        changes["status_note"] = args.reason
    if args.status == "verified":
        changes["verified_by"] = args.verified_by
        changes["verified_on"] = args.verified_on or dt.date.today().isoformat()
    old, new = repository.change_measure(args.measure_id, changes, author=args.author, reason=args.reason or f"status {args.status}")
    print(f"{args.measure_id}: {VALUE_LABELS_ZH[old['status']]} -> {VALUE_LABELS_ZH[new['status']]} ({old['status']} -> {new['status']})")
    return 0


def _plan(args) -> int:
    from geo.rectification import repository
    from geo.rectification.workflow import measures_from_survey

    surveys = repository.load_records("surveys")
    hit = surveys[surveys["survey_id"] == args.survey_id]
    if not len(hit):
        raise SchemaError(f"survey {args.survey_id!r} is not recorded; see 'python -m geo survey list'")
    survey = hit.iloc[0].to_dict()
    estates = _estates()
    est = estates[estates["estate_id"] == survey["estate_id"]].iloc[0].to_dict()
    drafted = measures_from_survey(survey, est, author=args.author)
    _print(pd.DataFrame(drafted)[["estate_id", "kind", "description", "responsible_unit", "due_date"]] if drafted else pd.DataFrame())
    if args.save and drafted:
        from geo.rectification.validation import validate_rows

        existing = repository.load_records("measures")
        records, rejects = validate_rows(KINDS["measures"], pd.DataFrame(drafted), estates, existing_ids=existing["measure_id"])
        if rejects:
            raise SchemaError("measures: not recorded", [reason for _row, reason in rejects])
        args.reason = f"plan from survey {args.survey_id}"
        return _store_and_report(KINDS["measures"], records, args)
    if not args.save:
        print("(draft only: add --save to store these measures)")
    return 0


def _attach(args) -> int:
    from geo.rectification import repository
    from geo.rectification.attachments import save_attachment

    if not args.file.is_file():
        raise DataFileError(f"{args.file}: no such file")
    attachment_id = save_attachment(args.file.name, args.file.read_bytes(), data_dir=settings.data_dir)
    measures = repository.load_records("measures")
    hit = measures[measures["measure_id"] == args.measure_id]
    if not len(hit):
        raise SchemaError(f"measure {args.measure_id!r} is not recorded; see 'python -m geo measures list'")
    current = str(hit.iloc[0].get("evidence") or "")
    ids = [x for x in current.split(";") if x]
    if attachment_id not in ids:
        ids.append(attachment_id)
    repository.change_measure(args.measure_id, {"evidence": ";".join(ids)}, author=args.author, reason=f"evidence {args.file.name}")
    print(f"{args.measure_id}: attached {args.file.name} as {attachment_id}")
    return 0


def _progress(args) -> int:
    from geo.rectification import repository
    from geo.rectification.briefing import build_briefing, key_figures, progress_map_png, write_docx, write_xlsx

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date.today()
    estates = _estates()
    records = repository.load_all()
    coverage, routes_synthetic, incidents = _coverage_and_incidents(estates)
    b = build_briefing(estates, records, as_of=as_of, coverage=coverage, routes_synthetic=routes_synthetic, incidents=incidents)
    for line in key_figures(b) + [f"说明：{n}" for n in b.notes]:
        print(line)
    if args.out is None:
        _print(b.by_batch)
        return 0
    suffix = args.out.suffix.lower()
    if suffix == ".docx":
        write_docx(b, args.out, map_png=progress_map_png(estates, b.table))
    elif suffix == ".xlsx":
        write_xlsx(b, args.out)
    elif suffix == ".png":
        from geo._atomic import atomic_write

        atomic_write(args.out, progress_map_png(estates, b.table))
    elif suffix == ".csv":
        io.write_table(b.table, args.out)
    else:
        raise DataFileError(f"{args.out}: write the briefing as .docx or .xlsx, the map as .png or the table as .csv")
    print(f"wrote {args.out}")
    return 0


def _coverage_and_incidents(estates):
    """The coverage report, whether its routes are synthetic, and the incidents; None where their files are missing."""
    coverage = incidents = None
    routes_synthetic = False
    routes_path = settings.data_path("patrol_routes.geojson")
    if Path(routes_path).exists() or sources.in_store("routes"):
        from geo import report

        routes = sources.read_routes()
        routes_synthetic = bool(routes["synthetic"].fillna(False).astype(bool).any()) if "synthetic" in routes else False
        coverage = report.coverage_table(estates, routes)
    incidents = sources.read_incident_columns(["time", "category", "synthetic"])
    return coverage, routes_synthetic, incidents
