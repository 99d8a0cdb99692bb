"""Subcommand ``response``: 1-3-5 minute response circles from police posts along the roads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from geo import io, settings
from geo.errors import DataFileError
from geo.response import response_times
from geo.store import sources


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``response`` to the command line."""
    p = sub.add_parser(
        "response",
        help="1-3-5 minute response circles: travel time from police posts to every estate along the roads",
        description="For every estate: the travel time from the nearest manned police post or patrol position along the "
        "roads (speed per road class, on foot to and from the nearest road), its tier (reached within 1, 3 or 5 minutes, "
        "or none) and whether it is outside the target tier. Writes the table; --layer-out writes the circles along the "
        "roads as GeoJSON for a map.",
    )
    p.add_argument("--out", type=Path, required=True, help="table to write (.csv or .xlsx)")
    p.add_argument("--layer-out", type=Path, help="GeoJSON of road segments with their time and tier (the circles along the roads)")
    p.add_argument("--posts", type=Path, help="police posts and patrol positions (default data/police_posts.geojson)")
    p.add_argument("--roads", type=Path, help="road centrelines with road_class (default data/gazetteer.geojson)")
    p.add_argument("--estates", type=Path, help="estates file (default data/estates.geojson)")
    p.add_argument("--datum", help="datum of the posts file when it does not declare it (wgs84, gcj02, bd09)")
    p.add_argument("--shift", choices=["day", "night"], help="only posts manned in this shift (and 'all' posts)")
    p.add_argument("--target-min", type=float, help=f"minutes every estate should be reached within (default {settings.response_target_min:g})")
    p.set_defaults(func=_response)


def _response(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in (".csv", ".xlsx"):
        msg = f"--out {args.out}: write the table as .csv or .xlsx"
        raise DataFileError(msg)
    if args.layer_out is not None and args.layer_out.suffix.lower() not in (".geojson", ".json"):
        msg = f"--layer-out {args.layer_out}: the layer is GeoJSON; give a .geojson file name"
        raise DataFileError(msg)
    estates = sources.read_estates(args.estates)
    posts = io.read_posts(args.posts, datum=args.datum)
    for notice in list(estates.attrs.get("notices", [])) + list(posts.attrs.get("notices", [])):
        print(f"note: {notice}", file=sys.stderr)
    roads = args.roads or settings.data_path("gazetteer.geojson")
    res = response_times(estates, posts, roads, shift=args.shift, target_min=args.target_min)
    table = res.estates
    synthetic = bool(posts.attrs.get("metadata", {}).get("synthetic")) or ("synthetic" in posts.columns and bool(posts["synthetic"].fillna(False).any()))
    print(f"{len(posts)} post(s){' (SYNTHETIC demonstration posts)' if synthetic else ''}, {args.shift or 'any'} shift; roads {roads}")
    counts = table["tier"].value_counts()
    tiers = [f"{t:g}" for t in sorted(settings.response_tiers_min)]
    print("estates per tier: " + ", ".join(f"{t} min: {int(counts.get(t, 0))}" for t in tiers) + f", not within {tiers[-1]} min: {int(counts.get('none', 0))}")
    outside = res.outside()
    target = float(table["target_min"].iloc[0]) if len(table) else float(settings.response_target_min)
    if len(outside):
        print(f"outside the {target:g}-minute target ({len(outside)}):")
        for row in outside.itertuples(index=False):
            when = "not reached (the roads do not join it to any post)" if pd.isna(row.time_min) else f"{row.time_min:.1f} min from {row.post_id} {row.post_name}"
            print(f"  {row.estate_id} {row.name}: {when}")
    else:
        print(f"every estate is within the {target:g}-minute target")
    io.write_table(table, args.out)
    print(f"wrote {args.out}")
    if args.layer_out is not None:
        io.write_geojson(res.layer, args.layer_out, metadata={"synthetic": True} if synthetic else None)
        print(f"wrote {args.layer_out} ({len(res.layer)} road segments within {tiers[-1]} min)")
    return 0
