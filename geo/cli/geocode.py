"""Subcommands ``geocode`` and ``build-estates``: place addresses, build the estates layer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo import geocode as _geocode
from geo import settings
from geo._outputs import check_output
from geo.schemas import GEOCODE_QUALITIES


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``geocode`` and ``build-estates`` to the command line."""
    g = sub.add_parser(
        "geocode",
        help="place one Shahe address (approximate unless surveyed)",
        description="Parse and geocode one address. Overrides (data/geocode_overrides.csv) win; then the provider: "
        "offline (the shipped, approximate gazetteer), amap (needs AMAP_KEY) or tianditu (needs TIANDITU_KEY). "
        "A range (凤仙路431-441号) is placed at its middle; words after the number (旁, 对面, 3栋2单元) are named in the note "
        "and give quality 'partial'; an estate name without a number (和谐小区) is placed at the ledger's address for it "
        "(a name at several addresses is refused with the list; --id picks one). "
        "Output is WGS-84. Exit 1 when the address cannot be placed.",
    )
    g.add_argument("address", help="e.g. 凤仙路457号附1号")
    g.add_argument("--provider", choices=_geocode.PROVIDERS, default=None, help="geocoder (default: settings.geocode_provider, offline)")
    g.add_argument("--id", dest="estate_id", default=None, help="estate id, to find an override by id or pick one of several estates of a name")
    g.add_argument("--json", action="store_true", help="print JSON with lon, lat, quality, source, road, number, sub_number, note")
    g.set_defaults(func=_run_geocode)

    b = sub.add_parser(
        "build-estates",
        help="geocode the ledger into data/estates.geojson",
        description="Geocode every row of the ledger and write the estates layer (all ledger fields plus geocode_* fields). "
        "Every row that cannot be placed is listed and nothing is written.",
    )
    b.add_argument("--ledger", type=Path, default=None, help="ledger CSV/XLSX (default: data/ledger.csv)")
    b.add_argument("--out", type=Path, default=None, help="GeoJSON to write (default: data/estates.geojson)")
    b.add_argument("--provider", choices=_geocode.PROVIDERS, default=None, help="geocoder (default: offline)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("--author", help="who rebuilds, for the store's audit trail (default: the login name)")
    b.add_argument("--reason", help="why, for the store's audit trail (default: 'estates geocoded again from LEDGER')")
    b.set_defaults(func=_run_build)


def _run_geocode(args: argparse.Namespace) -> int:
    geocoder = _geocode.Geocoder(args.provider)
    for p in geocoder.problems:
        print(f"warning: override ignored: {p}", file=sys.stderr)
    r = geocoder.geocode(args.address, estate_id=args.estate_id)
    if args.json:
        keys = ("lon", "lat", "quality", "source", "road", "number", "sub_number", "note")
        d = r.to_dict()
        out = {k: d[k] for k in keys}
        if r.ok:
            out["lon"], out["lat"] = round(r.lon, settings.coordinate_precision), round(r.lat, settings.coordinate_precision)
        print(json.dumps(out, ensure_ascii=False))
    elif r.ok:
        print(f"{r.lon:.7f} {r.lat:.7f}  {r.quality}  {r.road} {r.number}" + (f" 附{r.sub_number}" if r.sub_number else ""))
        print(f"  source: {r.source}")
        print(f"  note: {r.note}")
    else:
        print(f"failed: {r.note}", file=sys.stderr)
    return 0 if r.ok else 1


def login_name() -> str:
    """The user's login name (who saves, when no --author is given)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "(command line)"


def _run_build(args: argparse.Namespace) -> int:
    out = args.out or settings.data_path("estates.geojson")
    check_output(out, reads=(args.ledger or settings.data_path("ledger.csv"), settings.data_path("geocode_overrides.csv"),
                             settings.data_path("gazetteer.geojson")), owns=("estates.geojson",))

    def warn(p: str) -> None:
        print(f"warning: override ignored: {p}", file=sys.stderr)

    from geo.store.saving import build_estates_file

    ledger = args.ledger or settings.data_path("ledger.csv")
    gdf = build_estates_file(  # with a store in use, also saved as a new version of its estates
        lambda path: _geocode.build_estates(args.ledger, path, provider=args.provider, progress=not args.no_progress, on_problem=warn),
        out, author=args.author or login_name(), reason=args.reason or f"estates geocoded again from {ledger}")
    counts = gdf["geocode_quality"].value_counts()
    summary = ", ".join(f"{q} {int(counts.get(q, 0))}" for q in GEOCODE_QUALITIES if counts.get(q, 0))
    print(f"{out}: {len(gdf)} estates written ({summary})")
    if gdf["synthetic"].any():
        print(f"note: {int(gdf['synthetic'].sum())} positions are approximate (not surveyed); see geocode_note in the file")
    return 0
