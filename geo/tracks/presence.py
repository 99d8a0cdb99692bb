"""Actual presence on a grid: minutes of patrol per metric cell, for a map layer that never shows raw positions.

Each segment between consecutive fixes of a team (no longer than
:data:`geo.settings.track_gap_s`) gives its duration to the cell of its
midpoint. Cells are squares of ``cell_m`` metres in :data:`geo.settings.metric_crs`.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.tracks.scan import _segments
from geo.tracks.store import Chunk

__all__ = ["presence_cells"]


def presence_cells(chunks: Iterable[Chunk], *, cell_m: float = 100.0, min_minutes: float = 1.0,
                   gap_s: float | None = None) -> gpd.GeoDataFrame:
    """Minutes of presence and number of teams per grid cell, streamed.

    Parameters
    ----------
    chunks
        Fixes sorted by team and time.
    cell_m
        Cell size, metres.
    min_minutes
        Cells with less presence are left out (inclusive limit kept).
    gap_s
        Default :data:`geo.settings.track_gap_s`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``minutes``, ``teams`` and the cell square in WGS-84 (EPSG:4326).
    """
    gap = settings.track_gap_s if gap_s is None else gap_s
    parts: list[pd.Series] = []
    carry: dict = {}
    for ch in chunks:
        for a_t, a_x, a_y, b_t, b_x, b_y, team in _segments(ch.team, ch.time_s, ch.x, ch.y, carry, gap):
            if not len(a_t):
                continue
            frame = pd.DataFrame({
                "cx": np.floor(0.5 * (a_x + b_x) / cell_m).astype(np.int64),
                "cy": np.floor(0.5 * (a_y + b_y) / cell_m).astype(np.int64),
                "team": np.asarray(ch.team_ids, dtype=object)[team], "min": (b_t - a_t) / 60.0,
            })
            # Per cell and team: bounded by the cells patrolled, not by the fixes.
            parts.append(frame.groupby(["cx", "cy", "team"])["min"].sum())
    if not parts:
        return gpd.GeoDataFrame({"minutes": [], "teams": []}, geometry=[], crs=settings.storage_crs)
    per_team = pd.concat(parts).groupby(level=[0, 1, 2]).sum().reset_index()
    cells = per_team.groupby(["cx", "cy"]).agg(minutes=("min", "sum"), teams=("team", "nunique")).reset_index()
    cells = cells[cells["minutes"] >= min_minutes]
    x, y = cells["cx"].to_numpy() * cell_m, cells["cy"].to_numpy() * cell_m
    gdf = gpd.GeoDataFrame({"minutes": cells["minutes"].to_numpy(), "teams": cells["teams"].to_numpy()},
                           geometry=shapely.box(x, y, x + cell_m, y + cell_m), crs=settings.metric_crs)
    return gdf.to_crs(settings.storage_crs).sort_values("minutes", ascending=False).reset_index(drop=True)
