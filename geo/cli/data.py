"""Subcommands ``validate`` and ``convert``: check data files, convert datums."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo import crs as _crs
from geo import io
from geo._outputs import check_output
from geo.errors import DataFileError, GeoError, SchemaError
from geo.schemas import SCHEMAS

_KIND_KEYS = {"route_id": "routes", "team_id": "routes", "estate_id": "estates", "incident_id": "incidents"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``validate`` and ``convert`` to the command line."""
    p = sub.add_parser(
        "validate",
        help="check a data file against its schema and print every problem",
        description="Check an estates, routes or incidents file (GeoJSON, GeoPackage, CSV, XLSX). "
        "Prints every problem with its feature or row and field; exits 1 when there is one, 0 when the file is clean.",
    )
    p.add_argument("file", type=Path, help="the file to check: GeoJSON, GeoPackage, FlatGeobuf (.fgb), GeoParquet (.parquet), CSV or XLSX")
    p.add_argument("--kind", choices=["auto", *SCHEMAS], default="auto", help="schema to check against (default: guessed from the fields)")
    p.add_argument("--datum", help="datum of the coordinates when the file does not declare it (wgs84, gcj02, bd09)")
    p.set_defaults(func=_validate)

    c = sub.add_parser(
        "convert",
        help="convert coordinates between WGS-84, GCJ-02 and BD-09",
        description="Convert one point (LON LAT) or a whole file (--in/--out) between datums. "
        "Files are written as WGS-84 GeoJSON unless --to names another datum, in which case a top-level 'datum' member says so.",
    )
    c.add_argument("coords", nargs="*", type=_degrees, metavar="LON LAT", help="one point: longitude then latitude, in degrees")
    c.add_argument("--from", dest="src", required=True, help="datum of the input (wgs84, gcj02, bd09)")
    c.add_argument("--to", dest="dst", required=True, help="datum of the output (wgs84, gcj02, bd09)")
    c.add_argument("--in", dest="infile", type=Path, help="input file (GeoJSON, GeoPackage, FlatGeobuf, GeoParquet, CSV, XLSX)")
    c.add_argument("--out", dest="outfile", type=Path, help="output GeoJSON file")
    c.add_argument("--kind", choices=["auto", *SCHEMAS], default="auto", help="schema of the input file (default: guessed)")
    c.add_argument("--json", action="store_true", help="print a point as JSON")
    c.set_defaults(func=_convert)


def _degrees(text: str) -> float:
    value = io.parse_degrees(text)
    if value is None:
        msg = f"{text!r} is not a number of degrees"
        raise argparse.ArgumentTypeError(msg)
    return value


def guess_kind(path: Path) -> str:
    """Guess which schema a file follows from its field names."""
    names: set[str] = set()
    suffix = path.suffix.lower()
    if suffix in {".geojson", ".json"}:
        try:
            with open(path, encoding="utf-8-sig") as fh:
                doc = json.load(fh)
            for feat in (doc.get("features") or [])[:50] if isinstance(doc, dict) else []:
                if isinstance(feat, dict) and isinstance(feat.get("properties"), dict):
                    names.update(feat["properties"])
        except (OSError, ValueError, RecursionError):
            return "estates"  # the reader reports the real problem
    elif suffix in {".csv", ".txt", ".xlsx", ".xlsm"}:
        try:
            names.update(io.read_table(path, nrows=1).columns)
        except (GeoError, OSError):
            return "estates"
    elif suffix in {".gpkg", ".fgb"}:
        import pyogrio

        try:
            names.update(pyogrio.read_info(path)["fields"])
        except Exception:  # noqa: BLE001 - the reader reports the real problem
            return "estates"
    elif suffix in {".parquet", ".geoparquet"}:
        import pyarrow.parquet as pq

        try:
            names.update(pq.read_schema(path).names)
        except Exception:  # noqa: BLE001 - the reader reports the real problem
            return "estates"
    for key, kind in _KIND_KEYS.items():
        if key in names:
            return kind
    return "estates"


def _validate(args: argparse.Namespace) -> int:
    kind = guess_kind(args.file) if args.kind == "auto" else args.kind
    try:
        gdf = io.read_features(args.file, SCHEMAS[kind], datum=args.datum)
    except OSError as exc:
        if isinstance(exc, GeoError):
            raise
        msg = f"{args.file}: cannot be read ({exc.strerror or exc})"
        raise DataFileError(msg) from exc
    except SchemaError as exc:
        print(f"{exc.summary} (checked as {kind})")
        for p in exc.problems:
            print(f"  - {p}")
        return 1
    for notice in gdf.attrs.get("notices", []):
        print(f"note: {notice}")
    print(f"{args.file}: OK, {len(gdf)} {kind} feature{'s' if len(gdf) != 1 else ''}, no problems")
    return 0


def _convert(args: argparse.Namespace) -> int:
    src, dst = _crs.normalize_datum(args.src), _crs.normalize_datum(args.dst)
    if args.infile is not None and args.coords:
        print("error: give either a point (LON LAT) or a file (--in/--out), not both", file=sys.stderr)
        return 2
    if args.infile is None:
        if args.outfile is not None:
            print("error: --out needs --in (the file to convert)", file=sys.stderr)
            return 2
        if len(args.coords) != 2:
            print("error: give one point as LON LAT, or a file with --in and --out", file=sys.stderr)
            return 2
        lon, lat = args.coords
        if not bool(_crs.in_china(lon, lat)) and bool(_crs.in_china(lat, lon)):
            print(f"error: {lon} {lat} looks like LAT LON; give longitude first", file=sys.stderr)
            return 2
        x, y = _crs.convert(lon, lat, src=src, dst=dst)
        if args.json:
            print(json.dumps({"lon": round(x, 7), "lat": round(y, 7), "datum": dst}))
        else:
            print(f"{x:.7f} {y:.7f}")
        return 0
    if args.outfile is None:
        print("error: --in needs --out (a GeoJSON file to write)", file=sys.stderr)
        return 2
    if args.outfile.suffix.lower() not in {".geojson", ".json"}:
        print(f"error: {args.outfile}: --out writes GeoJSON; give it a .geojson name", file=sys.stderr)
        return 2
    check_output(args.outfile, reads=(args.infile,))
    kind = guess_kind(args.infile) if args.kind == "auto" else args.kind
    try:
        gdf = io.read_features(args.infile, SCHEMAS[kind], datum=src)
    except OSError as exc:
        if isinstance(exc, GeoError):
            raise
        msg = f"{args.infile}: cannot be read ({exc.strerror or exc})"
        raise DataFileError(msg) from exc
    metadata = None
    if dst != "wgs84":
        gdf = gdf.set_geometry(_crs.convert_geometries(gdf.geometry.values, src="wgs84", dst=dst), crs=gdf.crs)
        metadata = {"datum": dst}
    io.write_geojson(gdf, args.outfile, metadata=metadata)
    print(f"{args.outfile}: {len(gdf)} {kind} features written in {dst.upper()}")
    return 0
