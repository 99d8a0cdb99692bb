"""Snap a drawn route to the road network: each leg between two vertices becomes the shortest road path.

The network is :class:`geo.extensions.RoadNetwork` built from the gazetteer's
road centrelines (:func:`geo.extensions.read_network`) in
:data:`geo.settings.metric_crs`; lines come and go in WGS-84. A vertex is moved
to the nearest point of the nearest road segment; where two consecutive snapped
vertices lie on parts of the network that are not connected, the leg is kept
straight between them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import shapely

from geo import crs as _crs
from geo import settings
from geo.extensions import RoadNetwork, read_network

__all__ = ["SnapResult", "road_network", "snap_line"]


def road_network(gazetteer_path: str | Path) -> RoadNetwork:
    """The road network of a gazetteer file, in :data:`geo.settings.metric_crs`."""
    return read_network(gazetteer_path, crs=settings.metric_crs)


class SnapResult:
    """A snapped line (WGS-84) with its length and how far the vertices moved.

    Attributes
    ----------
    line
        The snapped line, WGS-84.
    length_m
        Its length in metres.
    max_shift_m
        The largest distance a drawn vertex was moved onto a road.
    straight_legs
        Legs kept straight because their ends lie on unconnected roads.
    """

    def __init__(self, line: shapely.LineString, length_m: float, max_shift_m: float, straight_legs: int):
        self.line = line
        self.length_m = length_m
        self.max_shift_m = max_shift_m
        self.straight_legs = straight_legs


def snap_line(line: shapely.Geometry, network: RoadNetwork) -> SnapResult:
    """Replace the vertices of ``line`` (WGS-84, one part or several) by the road path through their snapped positions.

    Parts of a MultiLineString are snapped one by one and returned as a
    MultiLineString.
    """
    to_m = _crs.lonlat_to_metric_transformer(network.crs)
    to_ll = _crs.metric_to_lonlat_transformer(network.crs)
    out_parts, total_m, max_shift_m, straight = [], 0.0, 0.0, 0
    for part in shapely.get_parts(line):
        xy = shapely.get_coordinates(part)
        mx, my = to_m.transform(xy[:, 0], xy[:, 1])
        points = shapely.points(np.column_stack([mx, my]))
        snapped = network.snap_points(points)
        max_shift_m = max(max_shift_m, float(np.max(np.hypot(snapped[:, 0] - mx, snapped[:, 1] - my))))
        coords: list[np.ndarray] = []
        for a, b in itertools.pairwise(snapped):
            found = network.path(shapely.Point(a), shapely.Point(b))
            leg = shapely.get_coordinates(found[1]) if found is not None else np.vstack([a, b])
            straight += found is None
            coords.extend(leg if not coords else leg[1:])
        pts = np.asarray(coords)
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(np.abs(np.diff(pts, axis=0)) > 1e-6, axis=1)
        pts = pts[keep]
        if len(pts) < 2:  # every vertex snapped to one spot: keep the drawn part
            pts = np.column_stack([mx, my])
        metric = shapely.LineString(pts)
        total_m += float(metric.length)
        lon, lat = to_ll.transform(pts[:, 0], pts[:, 1])
        out_parts.append(shapely.LineString(np.column_stack([lon, lat])))
    geom = out_parts[0] if len(out_parts) == 1 else shapely.MultiLineString(out_parts)
    return SnapResult(geom, total_m, max_shift_m, straight)
