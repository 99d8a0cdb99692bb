"""The estates' side of a coverage model: their metric geometries, boxes, scale factors and tree.

:class:`~geo.coverage.model.CoverageModel` builds it for its estates
(:func:`build_estate_index`). A command that reads the estates and the routes
at once (:func:`geo.store.sources.read_estates_and_routes`) can build it with
:func:`prepare_estates` while the routes are still being read, and hand it to
:meth:`~geo.coverage.model.CoverageModel.from_geodataframes`: the model then
takes it only when it was made from the same geometries in the metric CRS the
model chooses for both layers (the routes can move that choice), and builds it
itself otherwise. Either way the model holds the same arrays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo import crs as _crs
from geo import settings
from geo._gc import collector_paused

__all__ = ["EstateIndex", "build_estate_index", "choose_metric_crs", "prepare_estates"]


@dataclass(frozen=True, eq=False)
class EstateIndex:
    """Estates in a metric CRS and what the pair queries need of them.

    Attributes
    ----------
    crs
        The metric CRS of ``geoms``.
    geoms
        The estates' geometries in ``crs`` (object array of shapely geometries).
    bounds
        ``(n, 4)`` boxes of ``geoms``: minx, miny, maxx, maxy in metres.
    scale
        The CRS's scale factor at each estate (:func:`geo.crs.scale_factors`),
        or None where no correction is due.
    source
        The geometry array of the frame the geometries were projected from
        (:func:`prepare_estates`), or None.
    """

    crs: pyproj.CRS
    geoms: np.ndarray
    bounds: np.ndarray
    scale: np.ndarray | None
    source: object = None

    @functools.cached_property
    def tree(self) -> shapely.STRtree:
        """:class:`shapely.STRtree` of ``geoms``, built on first use: a solve needs none, a route edit does."""
        return shapely.STRtree(self.geoms)

    def made_from(self, estates: gpd.GeoDataFrame, crs) -> bool:
        """True when this index holds ``estates``' own geometries projected to ``crs``."""
        return (self.source is not None and self.source is estates.geometry.values and len(self.geoms) == len(estates)
                and self.crs == pyproj.CRS.from_user_input(crs))


def build_estate_index(geoms: np.ndarray, crs, *, source=None) -> EstateIndex:
    """The :class:`EstateIndex` of metric geometries ``geoms`` in ``crs``.

    Each estate's scale factor is taken at the centre of its box.
    """
    crs = pyproj.CRS.from_user_input(crs)
    bounds = shapely.bounds(geoms)
    scale = _crs.scale_factors(crs, (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    return EstateIndex(crs=crs, geoms=geoms, bounds=bounds, scale=scale, source=source)


def choose_metric_crs(*frames: gpd.GeoDataFrame) -> pyproj.CRS:
    """The metric CRS a coverage model measures ``frames`` in (all in one CRS).

    A projected CRS is kept (it is refused later if it is not metric);
    geographic data gets :func:`geo.crs.metric_crs_for_bounds` of the
    bounds of every present, non-empty geometry of every frame
    (:data:`geo.settings.metric_crs` when there is none).
    """
    if frames[0].crs.is_projected:
        return frames[0].crs
    geoms = np.concatenate([frame.geometry.to_crs(settings.storage_crs).values for frame in frames])
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    bounds = tuple(shapely.total_bounds(geoms)) if len(geoms) else None
    return _crs.metric_crs_for_bounds(bounds) if bounds else pyproj.CRS.from_user_input(settings.metric_crs)


def prepare_estates(estates: gpd.GeoDataFrame) -> EstateIndex | None:
    """The :class:`EstateIndex` of ``estates`` in the metric CRS chosen from the estates alone, or None.

    Made ahead of the model (see the module text); any problem with the
    estates gives None, so that the model, building the index itself,
    raises the error it always raises, in its order.
    """
    try:
        crs = _crs.require_metric(choose_metric_crs(estates), what="the metric CRS")
        with collector_paused():  # a projected copy of every geometry (geo._gc)
            geoms = np.asarray(estates.geometry.to_crs(crs).values, dtype=object)
        return build_estate_index(geoms, crs, source=estates.geometry.values)
    except Exception:  # noqa: BLE001 - made ahead only to save time: the model reports any problem
        return None
