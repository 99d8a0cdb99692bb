"""Write the synthetic demonstration patrol routes, data/patrol_routes.geojson.

The routes are INVENTED. No real patrol route of Shahe is public. They are
placed along the project's approximate road centrelines (data/gazetteer.geojson)
relative to the approximate estate positions (data/estates.geojson), so that
the demo shows every case of the 1-km rule: covered estates (some
cross-patrolled by two teams), coverable estates with obliged teams, one gap
(no team within 1 km), and estates whose coverage differs between day and night.

Deterministic: the same inputs give the same file. Run after the estates or
the gazetteer change::

    .venv/bin/python scripts/make_demo_routes.py [--check]

``--check`` only verifies that the shipped file matches what would be written.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely import ops

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import io, settings
from geo.coverage.model import CoverageModel

NOTE = (
    "SYNTHETIC demonstration routes: invented by the project, not real patrol routes. They follow the project's "
    "approximate road centrelines (data/gazetteer.geojson) near approximate estate positions (data/estates.geojson). "
    "Replace them with the teams' real routes (GeoJSON, GPX tracks or GCJ-02 exports)."
)


@dataclass(frozen=True)
class Team:
    team_id: str
    team: str
    org_type: str


@dataclass(frozen=True)
class Leg:
    """A stretch of one road: from (estate, metres along the road from its projection) to another."""

    route_id: str
    team: Team
    shift: str
    road: str
    start: tuple[str, float]
    end: tuple[str, float]
    schedule: str


POLICE = Team("PS-SMB", "申明坝派出所巡逻组", "police")
GARDEN_PROPERTY = Team("PM-HY", "花园小区物业保安队", "property")
HEXIANG_PROPERTY = Team("PM-HX", "和祥小区物业保安", "property")
PARK = Team("EN-SMB", "申明坝工业园区企业联防保安队", "enterprise")
SCHOOL = Team("SC-HQ", "花青路片区学校护校队", "school")
VOLUNTEERS_FX = Team("VO-FX", "凤仙路社区群防群治巡逻队", "volunteer")

LEGS: tuple[Leg, ...] = (
    Leg("R-PS-1", POLICE, "night", "申明大道", ("SH-02", -300), ("SH-05", 200), "每日 20:00-次日 02:00 夜间巡逻"),
    Leg("R-PS-2", POLICE, "all", "青年路", ("SH-20", -200), ("SH-20", 200), "全天 步巡"),
    Leg("R-HY-1", GARDEN_PROPERTY, "all", "凤仙路", ("SH-15", -100), ("SH-19", 60), "全天 小区周边巡逻"),
    Leg("R-HX-1", HEXIANG_PROPERTY, "day", "凤仙路", ("SH-18", -150), ("SH-18", 150), "每日 08:00-18:00"),
    Leg("R-VO-1", VOLUNTEERS_FX, "night", "凤仙路", ("SH-09", -50), ("SH-19", -10), "每晚 19:00-22:00 群防群治"),
    Leg("R-VO-2", VOLUNTEERS_FX, "all", "滨湖路", ("SH-01", -734), ("SH-01", -350), "周末 及 节假日 沿湖巡逻"),
    Leg("R-EN-1", PARK, "all", "申明大道", ("SH-02", -1765), ("SH-02", -700), "全天 园区内及周边"),
    Leg("R-SC-1", SCHOOL, "day", "花园路", ("SH-22", -150), ("SH-24", 100), "上学日 07:00-08:30, 16:30-18:00"),
)

#: What the demo must show (checked every time the file is written).
GAP_ESTATE = "SH-06"


def road_lines(gazetteer: gpd.GeoDataFrame) -> dict[str, shapely.LineString]:
    """One merged line per road, in the gazetteer's CRS."""
    out = {}
    for road, grp in gazetteer.groupby("road"):
        merged = ops.linemerge(shapely.union_all(grp.geometry.values))
        if merged.geom_type != "LineString":
            msg = f"road {road} does not merge into one line; the demo expects single roads"
            raise SystemExit(msg)
        out[road] = merged
    return out


def build(estates_path: Path, gazetteer_path: Path) -> gpd.GeoDataFrame:
    """Return the demo routes in WGS-84."""
    estates = io.read_estates(estates_path)
    metric = estates.to_crs(settings.metric_crs).set_index("estate_id")
    gaz = gpd.read_file(gazetteer_path).to_crs(settings.metric_crs)
    roads = road_lines(gaz[gaz.geometry.geom_type.isin(["LineString", "MultiLineString"])])
    rows = []
    for leg in LEGS:
        line = roads[leg.road]
        a = line.project(metric.geometry[leg.start[0]]) + leg.start[1]
        b = line.project(metric.geometry[leg.end[0]]) + leg.end[1]
        a, b = max(0.0, min(a, b)), min(line.length, max(a, b))
        rows.append(
            {
                "route_id": leg.route_id,
                "team_id": leg.team.team_id,
                "team": leg.team.team,
                "org_type": leg.team.org_type,
                "shift": leg.shift,
                "schedule": leg.schedule,
                "synthetic": True,
                "note": f"synthetic demo route along the approximate centreline of {leg.road}",
                "geometry": ops.substring(line, a, b),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.metric_crs).to_crs(settings.storage_crs)


def check(estates_path: Path, routes_path: Path) -> list[str]:
    """Return what the demo fails to show (empty when it shows every case)."""
    from geo.routes.load import load_routes

    estates = io.read_estates(estates_path)
    routes = load_routes(routes_path)
    tables = {
        shift: CoverageModel.from_geodataframes(estates, routes, shift=shift).solve().table().set_index("estate_id")
        for shift in (None, "day", "night")
    }
    t = tables[None]
    missing = []
    if set(t["status"]) != {"covered", "coverable", "gap"}:
        missing.append(f"statuses shown: {sorted(set(t['status']))}")
    if t.loc[GAP_ESTATE, "status"] != "gap":
        missing.append(f"{GAP_ESTATE} should be the gap")
    if not (t["covering_count"] >= 2).any():
        missing.append("no cross-patrolled estate")
    if not (tables["day"]["status"] != tables["night"]["status"]).any():
        missing.append("no estate whose coverage differs between day and night")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estates", type=Path, default=settings.data_path("estates.geojson"))
    parser.add_argument("--gazetteer", type=Path, default=settings.data_path("gazetteer.geojson"))
    parser.add_argument("--out", type=Path, default=settings.data_path("patrol_routes.geojson"))
    parser.add_argument("--check", action="store_true", help="only check that the shipped file is current")
    args = parser.parse_args(argv)
    routes = build(args.estates, args.gazetteer)
    meta = {"name": "shahe-demo-patrol-routes", "synthetic": True, "note": NOTE}
    if args.check:
        want = io.to_geojson_dict(routes, metadata=meta)
        import json

        have = json.loads(args.out.read_text(encoding="utf-8"))
        same = have == json.loads(json.dumps(want))
        print(f"{args.out}: {'current' if same else 'OUT OF DATE: run scripts/make_demo_routes.py'}")
        return 0 if same else 1
    io.write_geojson(routes, args.out, metadata=meta)
    problems = check(args.estates, args.out)
    print(f"{args.out}: {len(routes)} synthetic routes of {routes['team_id'].nunique()} teams written")
    for p in problems:
        print(f"demo incomplete: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
