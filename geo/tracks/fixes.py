"""Reading GPS fixes from GPX logs and CSV/XLSX tables, mapping devices to teams, and cleaning them.

A *fix* is one recorded position of a team at a time. Every reader returns the
same frame (:data:`FIX_COLUMNS`): ``team_id``, ``time_s`` (local Asia/Shanghai
seconds since 1970, as :mod:`geo.incidents.times`), ``lon``/``lat`` in WGS-84
(converted from GCJ-02 or BD-09 when the source says so), ``speed_mps`` (NaN
when not recorded), ``source`` (the file) and ``row`` (spreadsheet row or GPX
point number, for messages).

Problems that make a file unusable (no times, times out of order in a GPX
recording, fixes far outside the district, devices mapped to no team) are
collected per file and row and raised together; :func:`clean` then drops
duplicates, GPS jumps and impossible speeds and reports each drop.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import crs as _crs
from geo import io, settings
from geo._validate import is_blank
from geo.errors import DataFileError, SchemaError
from geo.incidents.times import parse_time
from geo.io.features import parse_degrees

__all__ = ["FIX_COLUMNS", "CleanReport", "clean", "read_devices", "read_fix_file", "read_fix_table", "read_gpx_fixes"]

FIX_COLUMNS = ("team_id", "time_s", "lon", "lat", "speed_mps", "source", "row")

TEAM_COLUMNS = ("team_id", "team", "队伍编号", "队伍")
DEVICE_COLUMNS = ("device_id", "device", "imei", "设备编号", "设备号", "设备")
TIME_COLUMNS = ("time", "timestamp", "datetime", "时间", "定位时间")
SPEED_COLUMNS = ("speed_mps", "speed", "速度")
SPEED_KMH_COLUMNS = ("speed_kmh", "速度(km/h)", "速度（km/h）")

_EPOCH = dt.datetime(1970, 1, 1)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
_MAX_LISTED = 20


def _find(columns, names) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for n in names:
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= _MAX_LISTED:
        return problems
    return [*problems[:_MAX_LISTED], f"... and {len(problems) - _MAX_LISTED} more like these"]


def _seconds(t: dt.datetime) -> int:
    return int((t - _EPOCH).total_seconds())


def parse_times(values: pd.Series) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Parse times to local seconds: a vectorised path for ``YYYY-MM-DD HH:MM[:SS]``, :func:`parse_time` for the rest.

    Returns
    -------
    (seconds, failures)
        ``seconds`` int64 (0 where it failed); ``failures`` lists ``(position, reason)``.
    """
    text = values.astype(object).where(values.notna(), "")
    text = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    out = np.zeros(len(values), dtype=np.int64)
    done = np.zeros(len(values), dtype=bool)
    simple = text.map(lambda v: isinstance(v, str) and bool(_ISO_RE.match(v))).to_numpy(dtype=bool)
    if simple.any():
        parsed = pd.to_datetime(text[simple].str.replace("T", " ", regex=False), format="mixed", errors="coerce")
        ok = parsed.notna().to_numpy()
        idx = np.flatnonzero(simple)[ok]
        out[idx] = (parsed[ok].to_numpy(dtype="datetime64[s]").astype(np.int64))
        done[idx] = True
    failures = []
    for i in np.flatnonzero(~done):
        v = text.iloc[i]
        if is_blank(v):
            failures.append((int(i), "no time given; dosage needs the time of every fix"))
            continue
        try:
            out[i] = _seconds(parse_time(v))
        except ValueError as exc:
            failures.append((int(i), str(exc)))
    return out, failures


def read_devices(path: str | os.PathLike) -> dict[str, str]:
    """Read the device-to-team table (CSV/XLSX with ``device_id`` and ``team_id`` columns).

    Raises
    ------
    SchemaError
        If a column is missing, a row is blank, or one device is given two teams.
    """
    df = io.read_table(path)
    dcol, tcol = _find(df.columns, DEVICE_COLUMNS), _find(df.columns, TEAM_COLUMNS)
    if dcol is None or tcol is None:
        msg = f"{path}: the device table needs columns 'device_id' and 'team_id' (found: {', '.join(map(str, df.columns))})"
        raise SchemaError(msg)
    out: dict[str, str] = {}
    problems = []
    for row, dev, team in zip(df.attrs["rows"], df[dcol], df[tcol], strict=True):
        if is_blank(dev) or is_blank(team):
            problems.append(f"row {row}: field '{dcol if is_blank(dev) else tcol}': empty; give both the device and its team")
            continue
        dev, team = str(dev).strip(), str(team).strip()
        if dev in out and out[dev] != team:
            problems.append(f"row {row}: device {dev!r} is already mapped to team {out[dev]!r}; one device, one team")
        out[dev] = team
    if problems:
        msg = f"{path}: {len(problems)} problem(s) in the device table"
        raise SchemaError(msg, problems)
    return out


def _bounds_problems(lon: np.ndarray, lat: np.ndarray, rows, where: str) -> list[str]:
    west, south, east, north = settings.shahe_bounds
    m = settings.track_bounds_margin_deg
    far = ~((lon >= west - m) & (lon <= east + m) & (lat >= south - m) & (lat <= north + m))
    return [
        f"{where} {r}: the fix ({x:.6f}, {y:.6f}) lies far outside Shahe (more than {m:g} degrees beyond the district box); "
        "check the longitude/latitude columns and the datum, or remove the fix"
        for r, x, y in zip(np.asarray(rows)[far], lon[far], lat[far], strict=True)
    ]


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str | None) -> tuple[np.ndarray, np.ndarray]:
    src = _crs.normalize_datum(datum) if datum else "wgs84"
    if src == "wgs84":
        return lon, lat
    return tuple(np.asarray(v, dtype=float) for v in _crs.convert(lon, lat, src=src, dst="wgs84"))


def read_gpx_fixes(path: str | os.PathLike, *, team_id: str | None, datum: str | None = None) -> pd.DataFrame:
    """Read the timed track points of a GPX log as fixes of one team.

    Raises
    ------
    SchemaError
        If no team is given, the file holds only waypoints or routes, a point has
        no time, or times go backwards within a track segment.
    """
    from geo.routes.load import read_gpx_points

    path = Path(path)
    pts = read_gpx_points(path)
    if team_id is None or is_blank(team_id):
        msg = f"{path}: a GPX log carries no team; give the team with --team-id"
        raise SchemaError(msg)
    if not len(pts):
        extra = []
        if pts.attrs.get("waypoints") or pts.attrs.get("route_points"):
            extra = [f"it has {pts.attrs['waypoints']} waypoint(s) and {pts.attrs['route_points']} route point(s), which carry no time "
                     "of passage; export the recorded track (<trk>) instead"]
        msg = f"{path}: the GPX file has no track points (<trkpt>)"
        raise SchemaError(msg, extra)
    problems = []
    times = np.zeros(len(pts), dtype=np.int64)
    for i, (k, t) in enumerate(zip(pts["point"], pts["time"], strict=True)):
        if t is None:
            problems.append(f"point {k}: no <time>; dosage needs the time of every fix, record the track with times")
        else:
            times[i] = _seconds(parse_time(t))
    if len(problems) == len(pts):
        msg = f"{path}: the track has no times (refused: dosage needs the time of every fix); record the track with times"
        raise SchemaError(msg)
    lon, lat = _to_wgs84(pts["lon"].to_numpy(float), pts["lat"].to_numpy(float), datum)
    if not problems:
        same_seg = (pts["track"].to_numpy()[1:] == pts["track"].to_numpy()[:-1]) & (pts["segment"].to_numpy()[1:] == pts["segment"].to_numpy()[:-1])
        back = np.flatnonzero(same_seg & (times[1:] < times[:-1]))
        for j in back:
            problems.append(f"point {pts['point'].iat[j + 1]}: time {_fmt(times[j + 1])} is earlier than the point before it "
                            f"({_fmt(times[j])}); times out of order: the log is damaged or merges several devices, split it")
    problems += _bounds_problems(lon, lat, pts["point"].to_numpy(), "point")
    if problems:
        msg = f"{path}: {len(problems)} problem(s); nothing of this file was imported"
        raise SchemaError(msg, _listed(problems))
    return pd.DataFrame({
        "team_id": str(team_id), "time_s": times, "lon": lon, "lat": lat, "speed_mps": np.nan,
        "source": str(path), "row": pts["point"].to_numpy(np.int64),
    })


def _fmt(t_s) -> str:
    return str(np.datetime64(int(t_s), "s")).replace("T", " ")


def read_fix_table(path: str | os.PathLike, *, team_id: str | None = None, devices: dict[str, str] | None = None,
                   datum: str | None = None) -> pd.DataFrame:
    """Read a CSV/XLSX table of fixes: team or device id, time, lon, lat and optional speed.

    Parameters
    ----------
    path
        The table.
    team_id
        Team of every row when the table has no team or device column.
    devices
        Device id -> team id, for tables with a device column.
    datum
        Datum of the coordinates (default WGS-84; a ``datum`` column wins).

    Raises
    ------
    SchemaError
        With every row that has no time, an unreadable time or coordinate, a
        device mapped to no team, or a fix far outside the district.
    """
    path = Path(path)
    df = io.read_table(path)
    rows = np.asarray(df.attrs["rows"])
    cols = df.columns
    tcol, dcol = _find(cols, TEAM_COLUMNS), _find(cols, DEVICE_COLUMNS)
    time_col = _find(cols, TIME_COLUMNS)
    lon_col, lat_col = _find(cols, io.LON_COLUMNS), _find(cols, io.LAT_COLUMNS)
    missing = [n for n, c in (("time", time_col), ("lon", lon_col), ("lat", lat_col)) if c is None]
    if missing:
        why = "dosage needs the time of every fix; " if "time" in missing else ""
        msg = (f"{path}: no {' / '.join(missing)} column ({why}found: {', '.join(map(str, cols))}); "
               f"name them e.g. time, lon, lat")
        raise SchemaError(msg)
    problems: list[str] = []
    n = len(df)
    teams = np.empty(n, dtype=object)
    if tcol is not None:
        teams[:] = df[tcol].map(lambda v: None if is_blank(v) else str(v).strip()).to_numpy()
    elif dcol is not None:
        if devices is None:
            msg = f"{path}: the table identifies devices (column {dcol!r}); give the device-to-team table with --devices"
            raise SchemaError(msg)
        dev = df[dcol].map(lambda v: None if is_blank(v) else str(v).strip())
        teams[:] = dev.map(devices).to_numpy()
        for r, d in zip(rows[dev.isna().to_numpy() | pd.isna(teams)], dev[dev.isna().to_numpy() | pd.isna(teams)], strict=True):
            problems.append(f"row {r}: field {dcol!r}: " + ("empty" if d is None else f"device {d!r} is mapped to no team")
                            + "; add it to the device table")
    elif team_id is not None:
        teams[:] = str(team_id)
    else:
        msg = f"{path}: no team_id or device_id column; add one, or give the team with --team-id"
        raise SchemaError(msg)
    if tcol is not None:
        blank = pd.isna(teams)
        if team_id is not None:
            teams[blank] = str(team_id)
        else:
            problems += [f"row {r}: field {tcol!r}: empty; give the team of the fix" for r in rows[blank]]
    times, failures = parse_times(df[time_col])
    problems += [f"row {rows[i]}: field {time_col!r}: {why}" for i, why in failures]
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    for arr, col in ((lon, lon_col), (lat, lat_col)):
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~np.isfinite(vals))
        for i in bad:
            v = parse_degrees(df[col].iat[i])
            if v is None:
                problems.append(f"row {rows[i]}: field {col!r}: {df[col].iat[i]!r} is not a number of degrees")
            else:
                vals[i] = v
        arr[:] = vals
    datum_col = _find(cols, ("datum", "坐标系"))
    ok = np.isfinite(lon) & np.isfinite(lat)
    if datum_col is not None:
        for d, idx in df.groupby(df[datum_col].fillna(datum or "wgs84").astype(str)).indices.items():
            idx = idx[ok[idx]]
            lon[idx], lat[idx] = _to_wgs84(lon[idx], lat[idx], d)
    else:
        lon[ok], lat[ok] = _to_wgs84(lon[ok], lat[ok], datum)
    problems += _bounds_problems(lon[ok], lat[ok], rows[ok], "row")
    speed = np.full(n, np.nan)
    scol, kcol = _find(cols, SPEED_COLUMNS), _find(cols, SPEED_KMH_COLUMNS)
    if scol is not None:
        speed = pd.to_numeric(df[scol], errors="coerce").to_numpy(float)
    elif kcol is not None:
        speed = pd.to_numeric(df[kcol], errors="coerce").to_numpy(float) / 3.6
    if problems:
        problems.sort(key=lambda p: int(re.match(r"row (\d+)", p).group(1)))
        msg = f"{path}: {len(problems)} problem(s); nothing of this file was imported"
        raise SchemaError(msg, _listed(problems))
    out = pd.DataFrame({"team_id": teams.astype(str), "time_s": times, "lon": lon, "lat": lat, "speed_mps": speed,
                        "source": str(path), "row": rows.astype(np.int64)})
    out.attrs["out_of_order"] = _out_of_order(out)
    return out


def _out_of_order(df: pd.DataFrame) -> int:
    """Rows whose time is earlier than the previous row of the same team (they are sorted, and reported)."""
    n = 0
    for _, t in df.groupby("team_id", sort=False)["time_s"]:
        v = t.to_numpy()
        n += int((v[1:] < v[:-1]).sum())
    return n


def read_fix_file(path: str | os.PathLike, *, team_id: str | None = None, devices: dict[str, str] | None = None,
                  datum: str | None = None) -> pd.DataFrame:
    """Read one file of fixes: GPX, or a CSV/XLSX table (see :func:`read_fix_table`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gpx":
        return read_gpx_fixes(path, team_id=team_id, datum=datum)
    if suffix in {".csv", ".txt", ".xlsx", ".xlsm"}:
        return read_fix_table(path, team_id=team_id, devices=devices, datum=datum)
    msg = f"{path}: not a track file; give GPX, CSV or XLSX"
    raise DataFileError(msg)


@dataclass
class CleanReport:
    """What :func:`clean` dropped, and why: counts per reason and the dropped rows."""

    kept: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {"duplicate": 0, "jump": 0, "speed": 0})
    gaps: int = 0
    out_of_order: int = 0
    rows: pd.DataFrame | None = None

    def lines(self) -> list[str]:
        """One line per reason, for the command line."""
        d = self.dropped
        return [
            f"kept {self.kept} fixes",
            f"dropped {d['duplicate']} duplicate fixes (same team and second)",
            f"dropped {d['jump']} GPS jumps (a fix more than {settings.track_jump_m:g} m from both neighbours, which lie close together)",
            f"dropped {d['speed']} fixes reached faster than {settings.track_max_speed_mps:g} m/s",
            f"{self.gaps} gaps longer than {settings.track_gap_s:g} s (kept; nothing is interpolated across them)",
            f"{self.out_of_order} rows were out of time order within their team (sorted)",
        ]


def clean(fixes: pd.DataFrame, *, max_speed_mps: float | None = None, jump_m: float | None = None,
          gap_s: float | None = None) -> tuple[pd.DataFrame, CleanReport]:
    """Sort fixes by team and time and drop duplicates, GPS jumps and impossible speeds.

    Parameters
    ----------
    fixes
        Frame of :data:`FIX_COLUMNS`.
    max_speed_mps, jump_m, gap_s
        Defaults :data:`geo.settings.track_max_speed_mps`, ``track_jump_m``, ``track_gap_s``.

    Returns
    -------
    (cleaned, report)
        The kept fixes sorted by team and time, and the report; ``report.rows``
        lists every dropped fix with its ``source``, ``row`` and ``reason``.
    """
    vmax = settings.track_max_speed_mps if max_speed_mps is None else max_speed_mps
    jump = settings.track_jump_m if jump_m is None else jump_m
    gap = settings.track_gap_s if gap_s is None else gap_s
    rep = CleanReport(out_of_order=int(fixes.attrs.get("out_of_order", 0)))
    df = fixes.sort_values(["team_id", "time_s"], kind="stable").reset_index(drop=True)
    reasons = np.full(len(df), "", dtype=object)
    dup = df.duplicated(["team_id", "time_s"], keep="first").to_numpy()
    reasons[dup] = "duplicate"
    keep = ~dup
    x, y = _crs.project_lonlat(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    team = df["team_id"].to_numpy()
    t = df["time_s"].to_numpy(np.int64)
    idx = np.flatnonzero(keep)
    if len(idx) >= 3:
        p, c, nx = idx[:-2], idx[1:-1], idx[2:]
        same = (team[p] == team[c]) & (team[c] == team[nx])
        d_in = np.hypot(x[c] - x[p], y[c] - y[p])
        d_out = np.hypot(x[nx] - x[c], y[nx] - y[c])
        d_skip = np.hypot(x[nx] - x[p], y[nx] - y[p])
        spike = same & (d_in > jump) & (d_out > jump) & (d_skip <= jump) & ((t[nx] - t[p]) <= gap)
        reasons[c[spike]] = "jump"
        keep[c[spike]] = False
    # Impossible speeds, from the last kept fix of the same team.
    idx = np.flatnonzero(keep)
    if len(idx) >= 2:
        a, b = idx[:-1], idx[1:]
        dt_s = np.maximum(t[b] - t[a], 1e-9)
        fast = (team[a] == team[b]) & (np.hypot(x[b] - x[a], y[b] - y[a]) / dt_s > vmax + 1e-9)
        if fast.any():
            first = int(np.flatnonzero(fast)[0])
            last = int(idx[first])
            for i in idx[first + 1:]:
                if team[i] != team[last]:
                    last = i
                    continue
                if np.hypot(x[i] - x[last], y[i] - y[last]) / max(t[i] - t[last], 1e-9) > vmax + 1e-9:
                    keep[i] = False
                    reasons[i] = "speed"
                else:
                    last = i
    for k in rep.dropped:
        rep.dropped[k] = int((reasons == k).sum())
    kept = df[keep].reset_index(drop=True)
    kt, kteam = kept["time_s"].to_numpy(), kept["team_id"].to_numpy()
    rep.gaps = int(((kteam[1:] == kteam[:-1]) & ((kt[1:] - kt[:-1]) > gap)).sum())
    rep.kept = len(kept)
    dropped = df.loc[~keep, ["source", "row", "team_id", "time_s"]].assign(reason=reasons[~keep])
    rep.rows = dropped.reset_index(drop=True)
    return kept, rep
