"""Check-in points (巡更点) per estate and check-in records (point, team, time).

Points are a vector file of :data:`geo.schemas.CHECKIN_POINTS` (default
``data/checkin_points.geojson``). Records are CSV/XLSX tables of
:data:`geo.schemas.CHECKINS`; a row with an unknown point, a device mapped to
no team or an unreadable time is rejected (written with its reason to a
rejects file) and the others are stored in ``<tracks_dir>/checkins.parquet``,
merged with what is there (one row per point, team and second), atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import io, settings
from geo._atomic import atomic_writer
from geo._validate import is_blank
from geo.errors import DataFileError, SchemaError
from geo.schemas import CHECKIN_POINTS
from geo.tracks import store
from geo.tracks.fixes import DEVICE_COLUMNS, TEAM_COLUMNS, TIME_COLUMNS, _find, parse_times

__all__ = ["checkin_counts", "import_checkins", "read_checkin_points", "read_checkins"]

_POINT_COLUMNS = ("point_id", "point", "巡更点", "巡更点编号")


def read_checkin_points(path: str | os.PathLike | None = None, *, estates: gpd.GeoDataFrame | None = None,
                        datum: str | None = None) -> gpd.GeoDataFrame:
    """Read check-in points; with ``estates``, refuse points of unknown estates (each named)."""
    path = Path(path) if path is not None else settings.data_path("checkin_points.geojson")
    pts = io.read_features(path, CHECKIN_POINTS, datum=datum)
    problems = []
    dup = pts["point_id"].astype(str).duplicated(keep="first")
    problems += [f"feature {i + 1}: point_id {p!r} is used twice; give each point its own id" for i, p in zip(np.flatnonzero(dup), pts["point_id"][dup], strict=True)]
    if estates is not None:
        known = set(estates["estate_id"].astype(str))
        problems += [f"feature {i + 1} ({p}): field 'estate_id': {e!r} is not an estate of the estates file"
                     for i, (p, e) in enumerate(zip(pts["point_id"], pts["estate_id"], strict=True)) if str(e) not in known]
    if problems:
        msg = f"{path}: {len(problems)} problem(s) in the check-in points"
        raise SchemaError(msg, problems)
    return pts


def _store_path(tracks_path) -> Path:
    return store.store_dir(tracks_path) / "checkins.parquet"


def read_checkins(tracks_path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Stored check-ins: ``point_id``, ``estate_id``, ``team_id``, ``time_s`` (empty when none)."""
    p = _store_path(tracks_path)
    if not p.exists():
        return pd.DataFrame({"point_id": pd.Series(dtype=str), "estate_id": pd.Series(dtype=str), "team_id": pd.Series(dtype=str),
                             "time_s": pd.Series(dtype=np.int64)})
    try:
        return pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        msg = f"{p}: cannot be read ({type(exc).__name__}: {exc}); import the check-ins again"
        raise DataFileError(msg) from exc


def import_checkins(path: str | os.PathLike, points: gpd.GeoDataFrame, *, devices: dict[str, str] | None = None,
                    tracks_path: str | os.PathLike | None = None, rejects_out: str | os.PathLike | None = None) -> dict:
    """Import a table of check-in records; reject bad rows with their reason.

    Returns
    -------
    dict
        ``read``, ``stored`` (new rows), ``rejected`` and ``rejects`` (a frame: row, reason, and the row's cells).
    """
    df = io.read_table(path)
    rows = np.asarray(df.attrs["rows"])
    pcol, tcol, dcol, time_col = (_find(df.columns, c) for c in (_POINT_COLUMNS, TEAM_COLUMNS, DEVICE_COLUMNS, TIME_COLUMNS))
    missing = [n for n, c in (("point_id", pcol), ("time", time_col)) if c is None]
    if tcol is None and dcol is None:
        missing.append("team_id (or device_id)")
    if missing:
        msg = f"{path}: no {', '.join(missing)} column (found: {', '.join(map(str, df.columns))})"
        raise SchemaError(msg)
    if tcol is None and devices is None:
        msg = f"{path}: the records identify devices (column {dcol!r}); give the device-to-team table with --devices"
        raise SchemaError(msg)
    estate_of = dict(zip(points["point_id"].astype(str), points["estate_id"].astype(str), strict=True))
    reasons = np.full(len(df), "", dtype=object)
    point = df[pcol].map(lambda v: "" if is_blank(v) else str(v).strip()).to_numpy(dtype=object)
    for i, p in enumerate(point):
        if not p:
            reasons[i] = f"field {pcol!r}: empty"
        elif p not in estate_of:
            reasons[i] = f"field {pcol!r}: {p!r} is not a check-in point of the points file"
    if tcol is not None:
        team = df[tcol].map(lambda v: "" if is_blank(v) else str(v).strip()).to_numpy(dtype=object)
        for i in np.flatnonzero(team == ""):
            reasons[i] = reasons[i] or f"field {tcol!r}: empty"
    else:
        dev = df[dcol].map(lambda v: "" if is_blank(v) else str(v).strip())
        team = dev.map(lambda d: devices.get(d, "")).to_numpy(dtype=object)
        for i in np.flatnonzero(team == ""):
            reasons[i] = reasons[i] or f"field {dcol!r}: device {dev.iat[i]!r} is mapped to no team; add it to the device table"
    times, failures = parse_times(df[time_col])
    for i, why in failures:
        reasons[i] = reasons[i] or f"field {time_col!r}: {why}"
    bad = reasons != ""
    rejects = df[bad].assign(row=rows[bad], reason=reasons[bad])
    rejects = rejects[["row", "reason", *df.columns]]
    good = pd.DataFrame({"point_id": point[~bad].astype(str), "estate_id": [estate_of[p] for p in point[~bad]],
                         "team_id": team[~bad].astype(str), "time_s": times[~bad]})
    if rejects_out is not None:
        io.write_table(rejects, rejects_out)
    old = read_checkins(tracks_path)
    merged = pd.concat([old, good], ignore_index=True).drop_duplicates(["point_id", "team_id", "time_s"], keep="first")
    merged = merged.sort_values(["time_s", "point_id", "team_id"], kind="stable").reset_index(drop=True)
    stored = len(merged) - len(old)
    if stored:
        with atomic_writer(_store_path(tracks_path), "wb") as fh:
            merged.to_parquet(fh, index=False)
    return {"read": len(df), "stored": stored, "rejected": int(bad.sum()), "rejects": rejects}


def checkin_counts(records: pd.DataFrame, *, by: str = "day", night: bool = False) -> pd.DataFrame:
    """Check-ins per estate and period (``period``, ``estate_id``, ``checkins``); ``night`` keeps night check-ins only."""
    from geo.tracks.dosage import _is_night, _period_start

    if night:
        records = records[_is_night(records["time_s"].to_numpy())]
    if not len(records):
        return pd.DataFrame(columns=["period", "estate_id", "checkins"])
    per = _period_start(records["time_s"].to_numpy(), by).astype(str)
    out = records.assign(period=per).groupby(["period", "estate_id"]).size().rename("checkins").reset_index()
    return out
