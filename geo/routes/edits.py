"""Route edits as pure functions: read new lines, give them to a team, build the draft.

A draft is the current routes with lines added to (or replacing those of) one
team and, optionally, some routes removed. Lines come from the app's drawing
tool, a pasted GeoJSON text or a GeoJSON/GPX file (the editor view and
``python -m geo routes add``); every line is converted to WGS-84 from the
datum the user names before anything is measured.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import io, settings
from geo._validate import check_line_caps
from geo.errors import DataFileError, SchemaError
from geo.routes.load import check_teams, metadata_for, read_gpx
from geo.schemas import ORG_TYPES, SHIFTS

LINE_TYPES = ("LineString", "MultiLineString")
_TEAM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class Team:
    """The team a drawn or uploaded line is given to."""

    team_id: str
    team: str
    org_type: str
    shift: str
    schedule: str = ""


def _geometries(doc) -> list[dict]:
    """GeoJSON geometries of a Feature, FeatureCollection, geometry or list of features."""
    if isinstance(doc, list):
        return [g for item in doc for g in _geometries(item)]
    if not isinstance(doc, dict):
        return []
    kind = doc.get("type")
    if kind == "FeatureCollection":
        return [g for f in doc.get("features") or [] for g in _geometries(f)]
    if kind == "Feature":
        return _geometries(doc.get("geometry"))
    if kind == "GeometryCollection":
        return [g for sub in doc.get("geometries") or [] for g in _geometries(sub)]
    return [doc] if kind else []


def lines_from_geojson(doc, *, datum: str = "wgs84", source: str = "GeoJSON") -> list[shapely.Geometry]:
    """Return the lines of a GeoJSON object (or its text), converted to WGS-84.

    Parameters
    ----------
    doc
        A Feature, FeatureCollection, geometry, a list of features (what the
        map's drawing tool returns) or the JSON text of one.
    datum
        Datum of the coordinates (``wgs84``, ``gcj02``, ``bd09``); a top-level
        ``"datum"`` member of the document wins.
    source
        Name for messages.

    Returns
    -------
    list of shapely LineString / MultiLineString in WGS-84 degrees.

    Raises
    ------
    DataFileError
        If the text is not JSON.
    SchemaError
        Listing every feature that is not a line or has fewer than two points
        (numbered from 0, as :mod:`geo.io` numbers them); or when there is no
        line at all.
    """
    if isinstance(doc, (str, bytes)):
        check_input_size(len(doc.encode("utf-8")) if isinstance(doc, str) else len(doc), source)
        try:
            doc = json.loads(doc)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = f"{source}: not valid JSON ({exc}); paste a GeoJSON Feature or FeatureCollection"
            raise DataFileError(msg) from exc
        except RecursionError as exc:
            msg = f"{source}: the JSON is nested too deeply to be GeoJSON; give a Feature or FeatureCollection with [lon, lat] coordinates"
            raise DataFileError(msg) from exc
    try:
        geometries = _geometries(doc)
    except RecursionError as exc:
        msg = f"{source}: the GeoJSON is nested too deeply; give a Feature or FeatureCollection"
        raise DataFileError(msg) from exc
    collection = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]}
    if isinstance(doc, dict):
        collection.update({k: doc[k] for k in ("datum", "crs") if k in doc})
    try:
        text = json.dumps(collection).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        msg = f"{source}: the GeoJSON cannot be read ({exc}); give a Feature or FeatureCollection with [lon, lat] coordinates"
        raise DataFileError(msg) from exc
    check_input_size(len(text), source)  # a drawing arrives as objects: measured as its text
    return io.read_lines(text, datum=datum, name=source)


def check_input_size(n_bytes: int, source: str) -> None:
    """Refuse a route input over :data:`geo.settings.route_max_input_bytes`, whatever its channel."""
    cap = settings.route_max_input_bytes
    if n_bytes > cap:
        msg = f"{source}: {n_bytes / 1e6:.1f} MB, more than the {cap / 1e6:.1f} MB a route input may have; simplify the lines or split the file"
        raise DataFileError(msg)


def lines_from_upload(name: str, data: bytes, *, datum: str = "wgs84") -> list[shapely.Geometry]:
    """Return the lines of an uploaded ``.geojson``/``.json`` or ``.gpx`` file in WGS-84.

    GPX tracks are read with :func:`geo.routes.read_gpx` (each track one line).
    """
    suffix = Path(name).suffix.lower()
    check_input_size(len(data), name)
    if suffix == ".gpx":
        gdf = read_gpx(data, name=name, team_id="upload", team="upload", org_type="police", datum=datum)
        lines = list(gdf.geometry.values)
        check_line_caps(lines, name)
        return lines
    if suffix in (".geojson", ".json"):
        return lines_from_geojson(data, datum=datum, source=name)
    msg = f"{name}: unknown file type {suffix or '(none)'}; upload a .geojson or .gpx file"
    raise DataFileError(msg)


def check_lines_near(lines, estates: gpd.GeoDataFrame, *, source: str = "the new lines", max_offset_m: float | None = None) -> None:
    """Refuse route lines that stay far from every estate of the register.

    A line whose every point lies more than ``max_offset_m`` metres (default
    :data:`geo.settings.route_max_offset_m`, measured in EPSG:4545 from the
    convex hull of the estates) from the estates can neither cover nor be
    near any of them: its coordinates are in the wrong datum, in metres, or
    from another place.

    Parameters
    ----------
    lines
        Shapely lines in WGS-84 degrees (as :func:`lines_from_geojson` returns them).
    estates
        The register (any CRS).
    source
        Name for messages (the file, "pasted text", "drawing").

    Raises
    ------
    SchemaError
        Naming every such line (numbered from 0) with its distance in km and the fix.
    """
    limit = settings.route_max_offset_m if max_offset_m is None else float(max_offset_m)
    if not len(lines) or estates is None or not len(estates):
        return
    metric = settings.metric_crs
    hull = shapely.convex_hull(shapely.union_all(estates.to_crs(metric).geometry.values))
    metric_lines = gpd.GeoSeries(list(lines), crs=settings.storage_crs).to_crs(metric)
    problems = []
    for i, line in enumerate(metric_lines):
        far_m = float(line.distance(hull))
        if far_m > limit:
            problems.append(f"{source}, line {i}: lies {far_m / 1000:,.1f} km from the nearest estate, more than {limit / 1000:g} km, "
                            "so it is not in Shahe; check the datum chosen and that the coordinates are longitude, latitude in degrees")
    if problems:
        msg = f"{source}: {len(problems)} line(s) far from Shahe; no line was taken"
        raise SchemaError(msg, problems)


def check_new_team(team: Team, routes: gpd.GeoDataFrame) -> list[str]:
    """Problems of a new team's fields (empty when it can be used)."""
    problems = []
    if not _TEAM_ID.match(team.team_id or ""):
        problems.append("field 'team_id': use 1-40 letters, digits, '-', '_' or '.', e.g. PS-NEW")
    elif routes is not None and team.team_id in set(routes["team_id"].astype(str)):
        problems.append(f"field 'team_id': {team.team_id!r} already exists; pick it as an existing team or choose another id")
    if not str(team.team).strip():
        problems.append("field 'team': give the team's name")
    if team.org_type not in ORG_TYPES:
        problems.append(f"field 'org_type': {team.org_type!r} is not one of {', '.join(ORG_TYPES)}")
    if team.shift not in SHIFTS:
        problems.append(f"field 'shift': {team.shift!r} is not one of {', '.join(SHIFTS)}")
    return problems


def existing_team(
    routes: gpd.GeoDataFrame,
    team_id: str,
    *,
    team: str | None = None,
    org_type: str | None = None,
    shift: str | None = None,
    schedule: str | None = None,
) -> Team | None:
    """The :class:`Team` that new lines of an existing team get, or None when ``team_id`` has no route.

    The team's name and type are the team's own (``team`` and ``org_type``,
    when given, must match them). The shift belongs to each route, not to the
    team: any shift of :data:`geo.schemas.SHIFTS` may be given; without one the
    team's shift is used when all its routes share it, and the choice is
    refused when they do not (a police team with a night and an all-day route
    gets no silent "night"). The schedule is ``schedule`` or empty: another
    route's schedule text is never copied onto a new line.

    Raises
    ------
    SchemaError
        Naming each field that contradicts the routes file, an unknown shift,
        or a missing shift for a team with several.
    """
    team_id = str(team_id).strip()
    mine = routes[routes["team_id"].astype(str) == team_id] if routes is not None and len(routes) else routes.iloc[0:0]
    if not len(mine):
        return None
    row = mine.iloc[0]
    known = {"team": str(row["team"]), "org_type": str(row["org_type"])}
    given = {"team": team, "org_type": org_type}
    clash = [f"field {k!r}: {v.strip()!r} (the file has {known[k]!r})" for k, v in given.items() if v is not None and v.strip() != known[k]]
    if clash:
        msg = f"team {team_id} exists with other fields: {'; '.join(clash)}; leave them out to use the existing team, or give a new team id"
        raise SchemaError(msg)
    shifts = [s for s in SHIFTS if s in set(mine["shift"].astype(str))]
    if shift is None or not str(shift).strip():
        if len(shifts) != 1:
            msg = (f"team {team_id} has routes of several shifts ({', '.join(shifts)}): choose the shift of the new lines "
                   f"(one of {', '.join(SHIFTS)})")
            raise SchemaError(msg)
        shift = shifts[0]
    shift = str(shift).strip()
    if shift not in SHIFTS:
        msg = f"field 'shift': {shift!r} is not one of {', '.join(SHIFTS)}"
        raise SchemaError(msg)
    return Team(team_id, known["team"], known["org_type"], shift, (schedule or "").strip())


def team_shifts(routes: gpd.GeoDataFrame, team_id: str) -> list[str]:
    """The shifts of ``team_id``'s routes, in the order of :data:`geo.schemas.SHIFTS`."""
    mine = routes[routes["team_id"].astype(str) == str(team_id)]
    present = set(mine["shift"].astype(str))
    return [s for s in SHIFTS if s in present]


def _next_ids(existing: set[str], team_id: str, n: int) -> list[str]:
    out, k = [], 1
    while len(out) < n:
        rid = f"R-{team_id}-{k}"
        if rid not in existing:
            out.append(rid)
            existing.add(rid)
        k += 1
    return out


def make_draft(
    routes: gpd.GeoDataFrame,
    lines: list[shapely.Geometry],
    team: Team | None,
    *,
    replace: bool = False,
    remove_route_ids: tuple[str, ...] | list[str] = (),
) -> gpd.GeoDataFrame:
    """Return the routes after an edit.

    Parameters
    ----------
    routes
        Current routes (WGS-84) with the columns of :data:`geo.schemas.ROUTES`.
    lines
        New lines in WGS-84, each becoming one route of ``team``.
    team
        The team of the new lines (required when there are lines).
    replace
        Drop the team's current routes first (a redrawn route); default adds
        (an extension or a second route).
    remove_route_ids
        Routes to delete.

    Returns
    -------
    geopandas.GeoDataFrame
        The draft, EPSG:4326, checked with :func:`geo.routes.check_teams`.
    """
    out = routes.copy()
    if remove_route_ids:
        out = out[~out["route_id"].astype(str).isin([str(r) for r in remove_route_ids])]
    if lines:
        if team is None:
            raise ValueError("the new lines need a team")
        if replace:
            out = out[out["team_id"].astype(str) != team.team_id]
        ids = _next_ids(set(out["route_id"].astype(str)) | set(routes["route_id"].astype(str)), team.team_id, len(lines))
        rows = []
        for rid, geom in zip(ids, lines, strict=True):
            row = {"route_id": rid, "team_id": team.team_id, "team": team.team, "org_type": team.org_type, "shift": team.shift}
            if team.schedule:
                row["schedule"] = team.schedule
            if "synthetic" in out.columns:
                row["synthetic"] = False
            row["geometry"] = geom
            rows.append(row)
        new = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.storage_crs)
        out = pd.concat([out.to_crs(settings.storage_crs), new], ignore_index=True)
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=settings.storage_crs)
    out = out.reset_index(drop=True)
    if len(out):
        check_teams(out, source="draft")
    return out


def replace_route_geometry(routes: gpd.GeoDataFrame, route_id: str, lines: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    """The routes with the geometry of ``route_id`` replaced by ``lines`` (WGS-84), every other field kept.

    Used when the vertices of an existing route are moved on the map: the route
    keeps its id, team, shift and schedule, so the history shows one route changed.
    Several lines make a MultiLineString. Raises SchemaError when the route is
    unknown or the new geometry is not a line of at least two points.
    """
    ids = routes["route_id"].astype(str)
    if str(route_id) not in set(ids):
        msg = f"route {route_id!r} is not in the routes file; pick one of {', '.join(sorted(set(ids))[:10])}"
        raise SchemaError(msg)
    parts = [p for line in lines for p in shapely.get_parts(line)]
    if not parts or any(p.geom_type != "LineString" or p.length == 0 for p in parts):
        msg = f"route {route_id}: the edited geometry is not a line; keep it a line of at least two points"
        raise SchemaError(msg)
    geom = parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    check_line_caps(parts, f"route {route_id}")
    out = routes.to_crs(settings.storage_crs).copy()
    out.loc[ids.to_numpy() == str(route_id), "geometry"] = geom
    if "synthetic" in out.columns:
        out.loc[ids.to_numpy() == str(route_id), "synthetic"] = False
    out = gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=settings.storage_crs)
    check_teams(out, source="draft")
    return out


def routes_to_text(routes: gpd.GeoDataFrame, *, metadata: dict | None = None) -> str:
    """GeoJSON text of routes as :func:`geo.io.write_geojson` writes it.

    ``metadata`` (e.g. :func:`file_metadata` of the current file) passes
    through :func:`metadata_for`, so a file whose routes are all real no longer
    says it is synthetic.
    """
    return json.dumps(io.to_geojson_dict(routes, metadata=metadata_for(routes, metadata)), ensure_ascii=False)


def file_metadata(text: str) -> dict:
    """Top-level members of a GeoJSON text other than its features (e.g. ``synthetic``, ``note``)."""
    try:
        doc = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}
    return {k: v for k, v in doc.items() if k not in ("type", "features", "datum", "crs")} if isinstance(doc, dict) else {}


def status_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Estates whose status differs between two coverage tables.

    Returns
    -------
    pandas.DataFrame
        ``estate_id, name, community, before, after`` for changed estates only,
        in the order of ``before``.
    """
    keep = [c for c in ("estate_id", "name", "community", "status") if c in before.columns]
    b = pd.DataFrame(before[keep]).rename(columns={"status": "before"})
    a = pd.DataFrame(after[["estate_id", "status"]]).rename(columns={"status": "after"})
    merged = b.merge(a, on="estate_id", how="left")
    return merged[merged["before"] != merged["after"]].reset_index(drop=True)


def status_counts(table: pd.DataFrame) -> dict[str, int]:
    """Number of estates per status (covered, coverable, gap)."""
    counts = table["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in ("covered", "coverable", "gap")}


def plan_draft(routes: gpd.GeoDataFrame, plan: gpd.GeoDataFrame, *, plan_ids=None, team_ids=None) -> gpd.GeoDataFrame:
    """Return the routes with the detours of an extension plan added, team per feature.

    Parameters
    ----------
    routes
        Current routes (WGS-84).
    plan
        A plan as :func:`geo.io.read_plan` returns it (``plan_id``, ``team_id``,
        ``team``, ``org_type``, ``shift`` per feature).
    plan_ids, team_ids
        Accept only these detours, or only the detours of these teams (team by
        team); None accepts the whole plan.

    Returns
    -------
    geopandas.GeoDataFrame
        The draft: each accepted detour becomes a new route of its team, with
        the shift of the route it leaves. A team already in ``routes`` keeps its
        name and organisation type from there; a new team (a new police loop)
        takes them from the plan.

    Raises
    ------
    SchemaError
        If a named plan id or team is not in the plan, or a new team's fields are unusable.
    """
    chosen = plan
    problems = []
    if plan_ids is not None:
        wanted = [str(p) for p in plan_ids]
        problems += [f"plan id {p!r} is not in the plan; see its plan_id values" for p in wanted if p not in set(plan["plan_id"].astype(str))]
        chosen = chosen[chosen["plan_id"].astype(str).isin(wanted)]
    if team_ids is not None:
        wanted = [str(t) for t in team_ids]
        problems += [f"team {t!r} has no detour in the plan; see its team_id values" for t in wanted if t not in set(plan["team_id"].astype(str))]
        chosen = chosen[chosen["team_id"].astype(str).isin(wanted)]
    if problems:
        raise SchemaError(f"{len(problems)} selection problem(s) in the plan", problems)
    draft = routes
    known = routes.drop_duplicates("team_id").set_index(routes.drop_duplicates("team_id")["team_id"].astype(str))
    for (team_id, shift), group in chosen.groupby([chosen["team_id"].astype(str), chosen["shift"].astype(str)], sort=True):
        if team_id in known.index:
            row = known.loc[team_id]
            team = Team(team_id, str(row["team"]), str(row["org_type"]), shift)
        else:
            first = group.iloc[0]
            team = Team(team_id, str(first["team"]), str(first["org_type"]), shift)
            bad = check_new_team(team, draft)
            if bad:
                raise SchemaError(f"plan: new team {team_id!r} cannot be added", bad)
        draft = make_draft(draft, list(group.geometry.values), team)
    return draft
