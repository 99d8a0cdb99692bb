"""Subcommand ``store``: create or migrate the store, import and export the data folder, read the audit trail."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo import settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``store init``, ``store import``, ``store export`` and ``store log`` to the command line."""
    p = sub.add_parser(
        "store",
        help="the store of everything users edit: init/migrate, import or export the data folder, audit log",
        description="The store holds the estates, routes (every version), geocode overrides, ledger, incidents and the "
        "records users add, with an audit trail of every change. By default it is data/shahe.gpkg (a GeoPackage, "
        "created from the data folder on first use); SHAHE_STORE or --store postgresql://USER@HOST/DB selects a shared PostGIS.",
    )
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)

    i = ssub.add_parser("init", help="create the store's schema, or migrate an older one", description=(
        "Create the schema in an empty database (PostGIS: the extension too, if this user may), or apply the missing "
        "migrations to a store made by an older version. Safe to run again."))
    _common(i)
    i.set_defaults(func=_init)

    im = ssub.add_parser("import", help="load the GeoJSON/CSV files of a folder into the store (one version per changed layer)",
                         description="Read and validate every store file found in DIR (estates.geojson, patrol_routes.geojson, "
                         "geocode_overrides.csv, ledger.csv, incidents.csv) and save each layer that differs as a new version. "
                         "A bad file stops the import before anything is written.")
    im.add_argument("folder", type=Path, metavar="DIR")
    im.add_argument("--author", required=True, help="who imports")
    im.add_argument("--reason", help="why (default 'import from DIR')")
    _common(im)
    im.set_defaults(func=_import)

    ex = ssub.add_parser("export", help="write every layer of the store as GeoJSON/CSV files into a folder",
                         description="Write the store's layers to DIR in the data folder's formats; 'store import DIR' reads them back unchanged.")
    ex.add_argument("folder", type=Path, metavar="DIR")
    _common(ex)
    ex.set_defaults(func=_export)

    lg = ssub.add_parser("log", help="print the audit trail (newest first)", description=(
        "Print one line per change: when, who, action, table or layer, record, version, why. --json prints the "
        "content before and after too."))
    lg.add_argument("--table", help="only this table or layer (e.g. routes, surveys)")
    lg.add_argument("--key", help="only this record")
    lg.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50; 0 for all)")
    lg.add_argument("--json", action="store_true", help="one JSON object per line, with before and after")
    _common(lg)
    lg.set_defaults(func=_log)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", help="postgresql://USER[:PASSWORD]@HOST[:PORT]/DB or a .gpkg file (default: SHAHE_STORE, else shahe.gpkg in the data folder)")
    p.add_argument("--data-dir", type=Path, help=f"data folder (default {settings.data_dir})")


def _open(args, **kw):
    from geo.store import open_store

    return open_store(args.store, data_dir=args.data_dir, **kw)


def _init(args) -> int:
    from geo.store.migrations import SCHEMA_VERSION

    with _open(args, migrate=True) as store:
        print(f"store {store.url} ({store.kind}): schema version {store.schema_version()} of {SCHEMA_VERSION}, ready")
    return 0


def _import(args) -> int:
    from geo.store.files import import_dir

    with _open(args) as store:
        saved = import_dir(store, args.folder, author=args.author, reason=args.reason or f"import from {args.folder}")
        for layer, version in saved.items():
            print(f"{layer}: saved as version {version}")
        if not saved:
            print(f"nothing to import: every layer in {args.folder} equals the store's")
    return 0


def _export(args) -> int:
    from geo.store.files import export_dir

    with _open(args) as store:
        for path in export_dir(store, args.folder):
            print(path)
    return 0


def _log(args) -> int:
    with _open(args) as store:
        log = store.log(args.table, args.key, limit=args.limit or None)
    for rec in log.to_dict("records"):
        if args.json:
            rec = {**rec, "before": json.loads(rec["before"]) if rec["before"] else None, "after": json.loads(rec["after"]) if rec["after"] else None}
            print(json.dumps(rec, ensure_ascii=False))
        else:
            key = f" {rec['record_key']}" if rec["record_key"] else ""
            print(f"{rec['at']}  {rec['author']}  {rec['action']} {rec['table_name']}{key} -> v{rec['version']}  {rec['reason']}")
    return 0
