"""Loading patrol routes: checks beyond the schema, GPX tracks, GCJ-02 sources.

:func:`load_routes` is the reader the coverage engine uses. On top of
:func:`geo.io.read_routes` (schema, datum conversion, zero-length lines) it

* refuses a team id used with two names (:func:`check_teams`), naming both
  names and the route ids, because coverage is counted per team id;
* reports self-crossing lines as notices in ``gdf.attrs["notices"]``
  (:func:`self_crossing_notices`): a patrol loop may cross itself, but a GPS
  track that crosses itself many times is suspect. These are reported, not refused;
* reads GPX tracks (:func:`read_gpx`), e.g. a patrol's phone or radio GPS log;
  :func:`read_gpx_points` gives the same file's points with their times, for
  the track store of :mod:`geo.tracks`.

GCJ-02 (AMap, Tencent) or BD-09 (Baidu) sources are read with ``datum="gcj02"``
or a top-level ``"datum"`` member in the GeoJSON; they are converted to WGS-84
before anything is measured.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as _crs
from geo import io, settings
from geo._gc import collector_paused
from geo.errors import DataFileError, SchemaError
from geo.io import Source
from geo.io.parts import row_list
from geo.routes.crossings import count_self_crossings

__all__ = ["check_teams", "count_self_crossings", "load_routes", "read_gpx", "read_gpx_points", "self_crossing_notices"]


def check_teams(routes: gpd.GeoDataFrame, *, source: str | None = None) -> None:
    """Refuse team ids that carry more than one team name.

    Parameters
    ----------
    routes
        Routes with ``route_id``, ``team_id`` and ``team`` columns.
    source
        File name for the message.

    Raises
    ------
    SchemaError
        One problem per inconsistent team id, naming every name and the route ids that use it.
    """
    frame = pd.DataFrame(
        {"rid": routes["route_id"].astype(str).to_numpy(), "tid": routes["team_id"].astype(str).to_numpy(), "name": routes["team"].astype(str).to_numpy()}
    )
    # One name per team id is the rule: only the ids that break it are looked at one by one.
    counts = frame.groupby("tid", sort=False)["name"].nunique()
    bad = counts.index[counts.to_numpy() > 1]
    problems = []
    for tid in sorted(bad):
        rows = frame[frame["tid"] == tid]
        by_name = {n: g["rid"].tolist() for n, g in rows.groupby("name", sort=True)}
        parts = "; ".join(f"'{n}' on routes {', '.join(r)}" for n, r in sorted(by_name.items()))
        problems.append(
            f"field 'team': team id {tid!r} is used with {len(by_name)} names: {parts}; give one team id one name (or use separate team ids)"
        )
    if problems:
        where = f"{source}: " if source else ""
        msg = f"{where}{len(problems)} team id{'s' if len(problems) != 1 else ''} with more than one name"
        raise SchemaError(msg, problems)


#: Self-crossing routes of one kind (loops, suspect tracks) listed one notice each up to this many; more are summed up.
NOTICE_ROUTES = 20


def self_crossing_notices(routes: gpd.GeoDataFrame, *, suspect_count: int | None = None, listed: int = NOTICE_ROUTES) -> list[str]:
    """Notices for routes whose lines cross themselves.

    Parameters
    ----------
    routes
        Routes with ``route_id``.
    suspect_count
        More crossings than this mark a track as suspect (default
        :data:`geo.settings.self_crossing_suspect_count`).
    listed
        Up to this many routes of a kind (patrol loops; suspect tracks) get
        a notice each; above it the kind gets one notice that counts them
        and names the first ``listed`` with their crossings (a province-size
        file has thousands of loops).

    Returns
    -------
    list of str
        The notices; empty when no route crosses itself.
    """
    if suspect_count is None:
        suspect_count = settings.self_crossing_suspect_count
    with collector_paused():  # a line per segment of every route that is not simple (geo._gc)
        counts = count_self_crossings(routes.geometry.values)
    ids = routes["route_id"].astype(str).to_numpy()
    suspect = np.flatnonzero(counts > suspect_count)
    loops = np.flatnonzero((counts > 0) & (counts <= suspect_count))
    tangled = "a GPS track this tangled is suspect (signal jumps, or several trips in one track): check it on the map and clean it or split it"
    summed, single = [], []  # summed-up kinds first; single notices in file order
    if len(loops) > listed:
        summed.append(f"{len(loops)} routes cross themselves 1 to {suspect_count} times (patrol loops may do this; kept as is): "
                      + row_list([f"{ids[i]} ({counts[i]})" for i in loops], limit=listed))
    else:
        single += [(i, f"route {ids[i]}: the line crosses itself {counts[i]} time{'s' if counts[i] != 1 else ''} "
                       "(a patrol loop may do this; kept as is)") for i in loops]
    if len(suspect) > listed:
        summed.append(f"{len(suspect)} routes cross themselves more than {suspect_count} times; {tangled.replace('a GPS track', 'each GPS track')}: "
                      + row_list([f"{ids[i]} ({counts[i]})" for i in suspect], limit=listed))
    else:
        single += [(i, f"route {ids[i]}: the line crosses itself {counts[i]} times; {tangled}") for i in suspect]
    return summed + [text for _, text in sorted(single)]


def load_routes(path: Source | None = None, *, datum: str | None = None, name: str | None = None, **gpx_fields) -> gpd.GeoDataFrame:
    """Read patrol routes for the coverage engine, with every check.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, CSV/XLSX (WKT ``geometry`` column) or GPX: a path,
        bytes or a binary file object; default ``data/patrol_routes.geojson``.
    datum
        Datum of the coordinates when the file does not declare it
        (``wgs84``, ``gcj02``, ``bd09``).
    name
        The file's name for messages and its format (needed for bytes).
    **gpx_fields
        For a GPX file: the team fields, see :func:`read_gpx`.

    Returns
    -------
    geopandas.GeoDataFrame
        Routes in WGS-84 (EPSG:4326); ``attrs["notices"]`` lists datum
        conversions and self-crossing lines.

    Raises
    ------
    SchemaError
        With every schema problem, or team ids used with two names.
    DataFileError
        If the file is missing or unreadable.
    """
    path = io.as_input(settings.data_path("patrol_routes.geojson") if path is None else path, name=name)
    if path.suffix == ".gpx":
        missing = [k for k in ("team_id", "team", "org_type") if not gpx_fields.get(k)]
        if missing:
            msg = (f"{path}: a GPX track carries no team; add it to the routes with "
                   f"'python -m geo routes add {path.label} --team-id ...' (it needs {', '.join(missing)})")
            raise DataFileError(msg)
        gdf = read_gpx(path, datum=datum, **gpx_fields)
    else:
        if gpx_fields:
            msg = f"{path}: team fields ({', '.join(gpx_fields)}) are only taken for GPX files; put them in the file's properties"
            raise TypeError(msg)
        gdf = io.read_routes(path, datum=datum)
    check_teams(gdf, source=str(path))
    gdf.attrs["notices"] = list(gdf.attrs.get("notices", [])) + self_crossing_notices(gdf)
    return gdf


def read_gpx(
    path: Source,
    *,
    name: str | None = None,
    team_id: str,
    team: str,
    org_type: str,
    shift: str = "all",
    schedule: str | None = None,
    route_id: str | None = None,
    datum: str | None = None,
    synthetic: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read the tracks of a GPX file as patrol routes of one team.

    Each ``<trk>`` becomes one route (its segments a MultiLineString); a file
    with only ``<rte>`` elements gives one route per ``<rte>``. Waypoints are ignored.

    Parameters
    ----------
    path
        The GPX file: a path, bytes or a binary file object.
    name
        The file's name for messages (default the path).
    team_id, team, org_type, shift, schedule
        Route properties (see :data:`geo.schemas.ROUTES`).
    route_id
        Route id prefix (default: the file's stem); tracks get ``-1``, ``-2`` ... when there are several.
    datum
        ``wgs84`` (GPX's own datum, the default) or ``gcj02``/``bd09`` for
        exports of Chinese map apps that write shifted coordinates.
    synthetic
        Set the ``synthetic`` property.

    Returns
    -------
    geopandas.GeoDataFrame
        Routes in WGS-84, validated against the routes schema;
        ``attrs["notices"]`` says when coordinates were converted.

    Raises
    ------
    DataFileError
        If the file is missing or not GPX.
    SchemaError
        If a track has fewer than two points, or a property is invalid.
    """
    path = io.as_input(path, name=name)
    doc = _parse_gpx(path)
    lines: list[list[list[tuple[float, float]]]] = []
    names: list[str | None] = []
    for trk in doc.tracks:
        lines.append([[(p.longitude, p.latitude) for p in seg.points] for seg in trk.segments])
        names.append(trk.name)
    if not lines:
        for rte in doc.routes:
            lines.append([[(p.longitude, p.latitude) for p in rte.points]])
            names.append(rte.name)
    if not lines:
        msg = f"{path}: the GPX file has no track (<trk>) or route (<rte>)"
        raise SchemaError(msg, ["record the patrol as a track, or draw it as a route, and export again"])
    prefix = route_id or Path(path.label).stem
    props, geoms = [], []
    problems = []
    for k, (parts, name) in enumerate(zip(lines, names, strict=True)):
        rid = prefix if len(lines) == 1 else f"{prefix}-{k + 1}"
        good = [p for p in parts if len(p) >= 2]
        if len(good) < len(parts):
            problems.append(f"track {k + 1} ({name or rid}): {len(parts) - len(good)} segment(s) with fewer than two points were dropped")
        geom = None
        if len(good) == 1:
            geom = shapely.LineString(good[0])
        elif good:
            geom = shapely.MultiLineString(good)
        p = {"route_id": rid, "team_id": team_id, "team": team, "org_type": org_type, "shift": shift}
        if schedule:
            p["schedule"] = schedule
        if synthetic is not None:
            p["synthetic"] = synthetic
        if name:
            p["note"] = f"GPX track: {name}"
        props.append(p)
        geoms.append(geom)
    src = _crs.normalize_datum(datum) if datum else "wgs84"
    gdf = _validated(path, props, geoms, src)
    notices = [f"{path}: {p}" for p in problems] + [n.replace(gdf.attrs["source"], str(path)) for n in gdf.attrs.get("notices", [])]
    gdf.attrs["notices"] = notices
    gdf.attrs["source"] = str(path)
    return gdf


def _validated(path: io.Input, props: list[dict], geoms: list, datum: str) -> gpd.GeoDataFrame:
    """Validate GPX-derived features with the routes reader (schema checks, datum conversion)."""
    features = [
        {"type": "Feature", "properties": p, "geometry": None if g is None else json.loads(shapely.to_geojson(g))}
        for p, g in zip(props, geoms, strict=True)
    ]
    doc = {"type": "FeatureCollection", "datum": datum, "features": features}
    staged = io.Input(path.label, ".geojson", data=json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    try:
        return io.read_routes(staged)
    except SchemaError as exc:
        msg = f"{path}: {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''} in the GPX tracks"
        raise SchemaError(msg, exc.problems) from None


def metadata_for(routes: gpd.GeoDataFrame, base_metadata: dict | None) -> dict:
    """Top-level members for a file of ``routes``, starting from those of the file they were edited from.

    The file-level ``synthetic: true`` and its ``note`` (e.g. "SYNTHETIC
    demonstration routes ...") are kept only while some route still has
    ``synthetic`` true; once every route says ``synthetic`` false (or empty),
    both are dropped. When no route carries a ``synthetic`` value at all, the
    file-level declaration is the only one there is and is kept.

    Parameters
    ----------
    routes
        The routes to be written.
    base_metadata
        Top-level members of the earlier file (:func:`geo.routes.edits.file_metadata`), or None.

    Returns
    -------
    dict
        A new dict; ``base_metadata`` is not changed.
    """
    meta = dict(base_metadata or {})
    if not meta.get("synthetic") or "synthetic" not in routes.columns:
        return meta
    flags = routes["synthetic"]
    if flags.isna().all():
        return meta
    if flags.astype("boolean").fillna(False).astype(bool).any():
        return meta
    meta.pop("synthetic", None)
    meta.pop("note", None)
    return meta


def _parse_gpx(path: io.Input):
    """Parse a GPX input with gpxpy; a malformed file is a :class:`DataFileError`."""
    import gpxpy
    import gpxpy.gpx

    try:
        with path.open() as fh:
            return gpxpy.parse(fh.read().decode("utf-8-sig"))
    except (gpxpy.gpx.GPXException, ValueError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a readable GPX file ({exc})"
        raise DataFileError(msg) from exc


def read_gpx_points(path: Source):
    """Read every track point of a GPX file with its time, as recorded (no datum conversion).

    Parameters
    ----------
    path
        The GPX file.

    Returns
    -------
    pandas.DataFrame
        One row per ``<trkpt>`` in file order: ``track`` and ``segment``
        (1-based), ``point`` (1-based position in the file's track points),
        ``name`` (the track's name or ""), ``lon``, ``lat`` and ``time`` (the
        ``<time>`` as gpxpy reads it, a datetime or None).
        ``attrs["waypoints"]`` and ``attrs["route_points"]`` count the
        ``<wpt>`` and ``<rtept>`` elements, which carry no track.

    Raises
    ------
    DataFileError
        If the file is missing or not GPX.
    """
    import pandas as pd

    doc = _parse_gpx(io.as_input(path))
    rows = []
    k = 0
    for ti, trk in enumerate(doc.tracks, start=1):
        for si, seg in enumerate(trk.segments, start=1):
            for p in seg.points:
                k += 1
                rows.append((ti, si, k, trk.name or "", p.longitude, p.latitude, p.time))
    df = pd.DataFrame(rows, columns=["track", "segment", "point", "name", "lon", "lat", "time"])
    df.attrs["waypoints"] = len(doc.waypoints)
    df.attrs["route_points"] = sum(len(r.points) for r in doc.routes)
    return df
