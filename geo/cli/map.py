"""Subcommand ``map``: write the coverage map as one HTML file that opens with no internet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo import io, settings
from geo._outputs import check_output
from geo.errors import DataFileError
from geo.maps.basemaps import BASEMAPS
from geo.store import sources


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``map`` to the command line."""
    p = sub.add_parser(
        "map",
        help="write the coverage map as a self-contained HTML file (works offline)",
        description="Draw estates (coloured by coverage status), patrol routes and their 1-km bands on the project's own "
        "offline basemap and write one HTML file with every script, style and font inside it. The file opens from disk "
        "on a machine with no internet. Online basemaps are used only when chosen with --basemap.",
    )
    p.add_argument("--out", type=Path, required=True, help="HTML file to write")
    p.add_argument("--estates", type=Path, help="estates file (default: data/estates.geojson)")
    p.add_argument("--routes", type=Path, help="patrol routes file (default: data/patrol_routes.geojson when it exists)")
    p.add_argument("--basemap", choices=BASEMAPS, default="offline",
                   help="offline (default, no internet), osm, tianditu (needs --tianditu-key) or amap (GCJ-02; overlays shifted)")
    p.add_argument("--tianditu-key", help="Tianditu key for --basemap tianditu")
    p.add_argument("--no-bands", action="store_true", help="start with the 1-km and cover bands hidden")
    p.set_defaults(func=_map)


def _map(args: argparse.Namespace) -> int:
    from geo.maps import mapview  # folium: imported only when a map is drawn
    from geo.maps.export import add_coverage, write_map

    estates_path = args.estates or settings.data_path("estates.geojson")
    check_output(args.out, reads=(estates_path, args.routes or settings.data_path("patrol_routes.geojson")))
    if args.estates is None and sources.in_store("estates"):
        estates = sources.read_estates()
    else:
        if not Path(estates_path).exists():
            msg = f"{estates_path}: no estates file; geocode the ledger first or give --estates FILE"
            raise DataFileError(msg)
        estates = io.read_estates(estates_path)
    routes_path = args.routes or settings.data_path("patrol_routes.geojson")
    routes = None
    if args.routes is not None:
        routes = io.read_routes(routes_path)
    elif Path(routes_path).exists() or sources.in_store("routes"):
        routes = sources.read_routes()
    for gdf in (estates, routes):
        for notice in (gdf.attrs.get("notices", []) if gdf is not None else []):
            print(f"note: {notice}", file=sys.stderr)
    estates, note = add_coverage(estates, routes)
    if note:
        print(f"note: {note}", file=sys.stderr)
    m = mapview.build_map(estates, routes, basemap=args.basemap, show_bands=not args.no_bands, tianditu_key=args.tianditu_key)
    allow = mapview.ONLINE_BASEMAPS[args.basemap]["hosts"] if args.basemap in mapview.ONLINE_BASEMAPS else ()
    if allow:
        print(f"note: basemap {args.basemap} loads tiles from the internet ({', '.join(allow)})", file=sys.stderr)
    size = write_map(m, args.out, allow_hosts=allow)
    status = "with coverage status" if "status" in estates.columns else "without coverage status"
    print(f"{args.out}: map of {len(estates)} estates and {0 if routes is None else len(routes)} routes {status}, "
          f"{size / 1e6:.1f} MB, basemap {args.basemap}")
    return 0
