"""The track store: cleaned fixes as GeoParquet, one file per month, written in bulk and atomically.

Layout: ``<tracks_dir>/month=YYYY-MM/fixes.parquet`` (default ``data/tracks/``),
each file sorted by team and time, with columns ``team_id``, ``time_s`` (local
seconds since 1970), ``lon``/``lat`` (WGS-84), ``x``/``y`` (metres in
:data:`geo.settings.metric_crs`, so dosage never reprojects), ``speed_mps``,
``synthetic`` and a WKB ``geometry`` (GeoParquet 1.0 metadata, EPSG:4326).

An import merges its fixes into the months it touches: every new month file is
written to a temporary file first, and only when all are written are they
renamed over the old ones, so a failed import leaves the store as it was.
A fix already stored for the same team and second is kept, the new one dropped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as _crs
from geo import settings
from geo._atomic import atomic_writer
from geo.errors import DataFileError

__all__ = ["STORE_COLUMNS", "Chunk", "iter_chunks", "month_files", "read_fixes", "store_dir", "write_fixes"]

STORE_COLUMNS = ("team_id", "time_s", "lon", "lat", "x", "y", "speed_mps", "synthetic")


def store_dir(path: str | os.PathLike | None = None) -> Path:
    """The store folder: ``path``, else :data:`geo.settings.tracks_dir`, else ``data/tracks``."""
    if path is not None:
        return Path(path)
    return Path(settings.tracks_dir) if settings.tracks_dir is not None else settings.data_path("tracks")


def month_files(path: str | os.PathLike | None = None) -> list[Path]:
    """Month files of the store in time order (empty when there is no store)."""
    root = store_dir(path)
    return sorted(root.glob("month=*/fixes.parquet")) if root.exists() else []


def _month_key(time_s: np.ndarray) -> np.ndarray:
    return np.asarray(time_s, dtype=np.int64).astype("datetime64[s]").astype("datetime64[M]").astype(str)


def write_fixes(fixes: pd.DataFrame, path: str | os.PathLike | None = None, *, synthetic: bool = False) -> dict[str, int]:
    """Merge cleaned fixes into the store, all months at once.

    Parameters
    ----------
    fixes
        Frame with ``team_id``, ``time_s``, ``lon``, ``lat`` (WGS-84) and optionally ``speed_mps``.
    path
        Store folder (default :func:`store_dir`).
    synthetic
        Mark the fixes as synthetic (demonstration data).

    Returns
    -------
    dict
        Month ("YYYY-MM") -> number of fixes added to it.
    """
    root = store_dir(path)
    df = pd.DataFrame({
        "team_id": fixes["team_id"].astype(str).to_numpy(),
        "time_s": fixes["time_s"].to_numpy(np.int64),
        "lon": fixes["lon"].to_numpy(float),
        "lat": fixes["lat"].to_numpy(float),
    })
    df["x"], df["y"] = _crs.project_lonlat(df["lon"].to_numpy(), df["lat"].to_numpy())
    df["speed_mps"] = fixes["speed_mps"].to_numpy(float) if "speed_mps" in fixes else np.nan
    df["synthetic"] = bool(synthetic)
    months = _month_key(df["time_s"].to_numpy())
    added: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        for month in sorted(set(months)):
            new = df[months == month]
            target = root / f"month={month}" / "fixes.parquet"
            old = read_fixes(target) if target.exists() else None
            merged = new if old is None else pd.concat([old[list(STORE_COLUMNS)], new], ignore_index=True)
            before = 0 if old is None else len(old)
            merged = merged.drop_duplicates(["team_id", "time_s"], keep="first")
            merged = merged.sort_values(["team_id", "time_s"], kind="stable").reset_index(drop=True)
            added[month] = len(merged) - before
            fh = stack.enter_context(atomic_writer(target, "wb"))
            _to_geoparquet(merged, fh)
    return added


def _to_geoparquet(df: pd.DataFrame, fh) -> None:
    gdf = gpd.GeoDataFrame(df.assign(team_id=df["team_id"].astype("category")),
                           geometry=shapely.points(df["lon"].to_numpy(), df["lat"].to_numpy()), crs=settings.storage_crs)
    gdf.to_parquet(fh, index=False, compression="zstd", row_group_size=500_000)


def read_fixes(path: str | os.PathLike | None = None, *, start_s: int | None = None, end_s: int | None = None,
               teams=None) -> pd.DataFrame:
    """Read fixes (one month file, or the whole store) into memory, optionally within ``[start_s, end_s)``.

    For large stores use :func:`iter_chunks`, which streams.
    """
    p = Path(path) if path is not None else None
    files = [p] if p is not None and p.is_file() else month_files(p)
    cols = list(STORE_COLUMNS)
    parts = []
    for f in files:
        try:
            df = pd.read_parquet(f, columns=cols)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
            msg = f"{f}: cannot be read as GeoParquet ({type(exc).__name__}: {exc}); restore it from a backup or import again"
            raise DataFileError(msg) from exc
        df["team_id"] = df["team_id"].astype(str)
        parts.append(df)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(cols, (str, np.int64, float, float, float, float, float, bool), strict=True)})
    out = pd.concat(parts, ignore_index=True)
    keep = np.ones(len(out), dtype=bool)
    if start_s is not None:
        keep &= out["time_s"].to_numpy() >= start_s
    if end_s is not None:
        keep &= out["time_s"].to_numpy() < end_s
    if teams is not None:
        keep &= out["team_id"].isin(list(teams)).to_numpy()
    return out[keep].reset_index(drop=True)


class Chunk:
    """A block of fixes sorted by team and time: ``team`` codes into ``team_ids``, ``time_s``, ``x``, ``y``."""

    __slots__ = ("team", "team_ids", "time_s", "x", "y")

    def __init__(self, team: np.ndarray, time_s: np.ndarray, x: np.ndarray, y: np.ndarray, team_ids: list[str]):
        self.team, self.time_s, self.x, self.y, self.team_ids = team, time_s, x, y, team_ids

    def __len__(self) -> int:
        return len(self.time_s)


def iter_chunks(path: str | os.PathLike | None = None, *, start_s: int | None = None, end_s: int | None = None,
                chunk_rows: int | None = None) -> Iterator[Chunk]:
    """Stream the store's fixes in chunks of at most ``chunk_rows`` (default :data:`geo.settings.track_chunk_rows`).

    Team codes index one list shared by every chunk (it grows as new teams appear).
    """
    import pyarrow.parquet as pq

    rows = settings.track_chunk_rows if chunk_rows is None else chunk_rows
    team_ids: list[str] = []
    codes: dict[str, int] = {}
    for f in month_files(path):
        month_lo = int(np.datetime64(f.parent.name.split("=", 1)[1], "M").astype("datetime64[s]").astype(np.int64))
        month_hi = int((np.datetime64(f.parent.name.split("=", 1)[1], "M") + 1).astype("datetime64[s]").astype(np.int64))
        if (end_s is not None and month_lo >= end_s) or (start_s is not None and month_hi <= start_s):
            continue
        pf = pq.ParquetFile(f, read_dictionary=["team_id"])
        for batch in pf.iter_batches(batch_size=rows, columns=["team_id", "time_s", "x", "y"]):
            dict_arr = batch.column(0)
            names = dict_arr.dictionary.to_pylist()
            for name in names:
                if name not in codes:
                    codes[name] = len(team_ids)
                    team_ids.append(name)
            remap = np.array([codes[n] for n in names], dtype=np.int32)
            team = remap[dict_arr.indices.to_numpy(zero_copy_only=False)]
            t = batch.column(1).to_numpy()
            x = batch.column(2).to_numpy()
            y = batch.column(3).to_numpy()
            if start_s is not None or end_s is not None:
                keep = np.ones(len(t), dtype=bool)
                if start_s is not None:
                    keep &= t >= start_s
                if end_s is not None:
                    keep &= t < end_s
                team, t, x, y = team[keep], t[keep], x[keep], y[keep]
            if len(t):
                yield Chunk(team, t, x, y, team_ids)
