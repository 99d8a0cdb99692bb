"""Subcommand ``map``: write the coverage map as one HTML file that opens with no internet, or the one-page briefing as PDF/PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo import io, settings
from geo._outputs import check_output
from geo.errors import DataFileError
from geo.maps.basemaps import BASEMAPS
from geo.maps.texts import LANGS, check_lang
from geo.store import sources

#: ``--out`` names ending so get the briefing; any other name gets the interactive HTML map.
BRIEFING_SUFFIXES = (".pdf", ".png")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``map`` to the command line."""
    p = sub.add_parser(
        "map",
        help="write the coverage map as a self-contained HTML file (works offline), or the one-page briefing as .pdf/.png",
        description="Draw estates (coloured by coverage status), patrol routes and their 1-km bands on the project's own "
        "offline basemap and write one HTML file with every script, style and font inside it. The file opens from disk "
        "on a machine with no internet. Online basemaps are used only when chosen with --basemap. With --out NAME.pdf or "
        "NAME.png it writes the one-page briefing for leaders instead: the map, the counts under both readings of the rule "
        "(the same as 'coverage' prints), every estate to fix with its cheapest extension, and where the data come from; "
        "drawn on this machine with no internet (Chinese needs Debian's fonts-noto-cjk).",
    )
    p.add_argument("--out", type=Path, required=True, help="file to write: .pdf or .png for the briefing, any other name (map.html) for the interactive map")
    p.add_argument("--lang", choices=LANGS, default=None, help="language of the map or briefing: zh or en (default SHAHE_LANG, else zh)")
    p.add_argument("--radius-m", type=float, help=f"briefing: rule radius in metres (default {settings.rule_radius_m:g})")
    p.add_argument("--cover-m", type=float, help="briefing: cover distance in metres (default the settings' point/footprint values)")
    p.add_argument("--shift", choices=["day", "night"], help="briefing: count only routes of this shift ('all' routes count for both)")
    p.add_argument("--estates", type=Path, help="estates file (default: data/estates.geojson)")
    p.add_argument("--routes", type=Path, help="patrol routes file (default: data/patrol_routes.geojson when it exists)")
    p.add_argument("--basemap", choices=BASEMAPS, default="offline",
                   help="offline (default, no internet), osm, tianditu (needs --tianditu-key) or amap (GCJ-02; overlays shifted)")
    p.add_argument("--tianditu-key", help="Tianditu key for --basemap tianditu")
    p.add_argument("--no-bands", action="store_true", help="start with the 1-km and cover bands hidden")
    p.add_argument("--community", action="append", metavar="NAME",
                   help="map (or brief) only the estates of this community (所属社区); give it again for more. Their coverage "
                   "is the same as in the whole map: every route near them counts")
    p.set_defaults(func=_map)


def _map(args: argparse.Namespace) -> int:
    lang = args.lang or settings.lang
    try:
        check_lang(lang)
    except ValueError as exc:
        msg = f"SHAHE_LANG={lang!r}: use zh or en"
        raise DataFileError(msg) from exc
    suffix = args.out.suffix.lower()
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
    if args.community:
        estates, routes = select_communities(estates, routes, args.community, radius_m=args.radius_m)
    if suffix in BRIEFING_SUFFIXES:
        return _briefing(args, estates, routes, estates_path, lang)
    _check_map_size(estates, routes)
    from geo.maps import mapview  # folium: imported only when a map is drawn
    from geo.maps.export import add_coverage, write_map

    for gdf in (estates, routes):
        for notice in (gdf.attrs.get("notices", []) if gdf is not None else []):
            print(f"note: {notice}", file=sys.stderr)
    estates, note = add_coverage(estates, routes)
    if note:
        print(f"note: {note}", file=sys.stderr)
    m = mapview.build_map(estates, routes, basemap=args.basemap, show_bands=not args.no_bands, tianditu_key=args.tianditu_key, lang=lang)
    allow = mapview.ONLINE_BASEMAPS[args.basemap]["hosts"] if args.basemap in mapview.ONLINE_BASEMAPS else ()
    if allow:
        print(f"note: basemap {args.basemap} loads tiles from the internet ({', '.join(allow)})", file=sys.stderr)
    size = write_map(m, args.out, allow_hosts=allow)
    status = "with coverage status" if "status" in estates.columns else "without coverage status"
    print(f"{args.out}: map of {len(estates)} estates and {0 if routes is None else len(routes)} routes {status}, "
          f"{size / 1e6:.1f} MB, basemap {args.basemap}")
    return 0


def select_communities(estates, routes, names: list[str], *, radius_m: float | None):
    """The estates of the communities ``names``, and the routes that may be near one of them.

    An estate's coverage depends only on the routes within the rule's radius
    of it, so the routes kept (those within twice the radius of a kept
    estate, measured in a metric CRS of their area) give every kept estate the
    coverage it has on the whole map. A name that no estate has is refused, naming the communities there are.
    """
    import numpy as np
    import shapely

    from geo.crs import metric_crs_for_bounds

    if "community" not in estates.columns:
        msg = "--community: the estates have no 'community' field; map them all, or add the field to the estates file"
        raise DataFileError(msg)
    have = estates["community"].astype(str)
    missing = [n for n in names if not (have == n).any()]
    if missing:
        known = sorted(set(have[estates["community"].notna()]))
        listed = "、".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        msg = f"--community {', '.join(repr(n) for n in missing)}: no estate has this community; the estates' communities: {listed}"
        raise DataFileError(msg)
    kept = estates[have.isin(names).to_numpy()]
    if routes is None or not len(routes):
        return kept, routes
    crs = metric_crs_for_bounds(tuple(shapely.total_bounds(kept.geometry.values)))
    reach = 2.0 * (settings.rule_radius_m if radius_m is None else radius_m)
    tree = shapely.STRtree(routes.to_crs(crs).geometry.values)
    near = np.unique(tree.query(kept.to_crs(crs).geometry.values, predicate="dwithin", distance=reach)[1])
    return kept, routes.iloc[near]


def _check_map_size(estates, routes) -> None:
    """Refuse, before any work, a map with more estates than one HTML page can show (:data:`geo.settings.map_estates_max`)."""
    limit = settings.map_estates_max
    if len(estates) <= limit:
        return
    n_routes = 0 if routes is None else len(routes)
    parts = ""
    if "community" in estates.columns:
        sizes = estates["community"].dropna().astype(str).value_counts()
        if len(sizes):
            parts = (f"Map a part with --community NAME ({len(sizes):,} communities; the largest, {sizes.index[0]}, has "
                     f"{int(sizes.iloc[0]):,} estates), or write")
    msg = (f"{len(estates):,} estates and {n_routes:,} routes are more than one HTML map can show (at most {limit:,} estates; "
           f"a page of 20,000 is about 64 MB). {parts or 'Write'} the one-page briefing (--out briefing.pdf) or the report "
           "(python -m geo coverage --out report.csv)")
    raise DataFileError(msg)


def _briefing(args: argparse.Namespace, estates, routes, estates_path: Path, lang: str) -> int:
    """Write the one-page briefing: the same coverage as ``python -m geo coverage`` with the same options."""
    from geo.cli.coverage import data_notes
    from geo.coverage.model import solved_model
    from geo.coverage.rule import Rule
    from geo.maps.briefing import briefing_figures, render_briefing
    from geo.report import coverage_table

    if routes is None:
        msg = f"{args.routes or settings.data_path('patrol_routes.geojson')}: no routes; the briefing needs the patrol routes (give --routes FILE)"
        raise DataFileError(msg)
    for notice in list(estates.attrs.get("notices", [])) + list(routes.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)
    for note in data_notes(estates, routes):
        print(f"note: {note}", file=sys.stderr)
    model = solved_model(estates, routes, rule=Rule(radius_m=args.radius_m, cover_m=args.cover_m, strict=False, shift=args.shift))
    default = coverage_table(estates, routes, model=model)
    strict = model.with_reading(strict=True).table()
    fmt = args.out.suffix.lower().lstrip(".")
    sources = (Path(estates_path).name, Path(args.routes or settings.data_path("patrol_routes.geojson")).name)
    shift = {"day": ("白天", "day"), "night": ("夜间", "night")}.get(args.shift or "", None)
    picture = render_briefing(default, strict, routes, estates=estates, fmt=fmt, lang=lang, radius_m=model.radius_m, cover_m=args.cover_m,
                              shift=None if shift is None else shift[lang == "en"], data_dir=Path(estates_path).parent, sources=sources)
    io.atomic_write(args.out, picture)
    f = briefing_figures(default, strict)
    print(f"{args.out}: one-page briefing ({lang}), {len(default)} estates: default {f.default['covered']} covered "
          f"({f.cross_patrolled['default']} cross-patrolled) / {f.default['coverable']} coverable / {f.default['gap']} gap; "
          f"strict {f.strict['covered']} / {f.strict['coverable']} / {f.strict['gap']}")
    return 0
