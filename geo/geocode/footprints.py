"""Estate footprint polygons recorded with a surveyed position (the ``footprint`` column of the overrides file).

A footprint is stored as WKT in WGS-84 longitude/latitude, whatever the datum
of the row's point: a polygon drawn on a GCJ-02 basemap is converted before it
is written. It is checked in metres (:data:`geo.settings.metric_crs`):

* a valid polygon (no self-intersection, at least three distinct corners);
* its area between :data:`geo.settings.footprint_min_area_m2` and
  :data:`geo.settings.footprint_max_area_m2`, both inclusive;
* it contains the estate's surveyed point or passes within
  :data:`geo.settings.footprint_near_m` of it (inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import wkt as _wkt

from geo import crs as _crs
from geo import settings
from geo.errors import GeocodeError

__all__ = ["FootprintCheck", "check_footprint", "footprint_from_geojson", "parse_footprint"]

_AREAS = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class FootprintCheck:
    """What the register previews before saving a footprint.

    Attributes
    ----------
    area_m2
        Area in square metres.
    distance_m
        Distance from the surveyed point to the polygon (0 when inside).
    problems
        One sentence per refused check (empty when the footprint may be saved).
    valid
        Whether the polygon is valid (no crossing edges).
    """

    area_m2: float
    distance_m: float
    problems: tuple[str, ...]
    valid: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def _metric(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` (WGS-84 lon/lat) projected into :data:`geo.settings.metric_crs`."""
    tr = _crs.lonlat_to_metric_transformer()
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def check_footprint(polygon: shapely.Geometry, lon: float, lat: float) -> FootprintCheck:
    """Check a footprint (WGS-84) against the estate's point (WGS-84 degrees).

    Returns
    -------
    FootprintCheck
        Area, distance to the point and the problems found (see the module's rules).
    """
    if polygon is None or polygon.is_empty or polygon.geom_type not in _AREAS:
        kind = "nothing" if polygon is None or polygon.is_empty else f"a {polygon.geom_type}"
        return FootprintCheck(0.0, float("nan"), (f"the footprint is {kind}; draw a polygon around the estate",), valid=False)
    problems = []
    poly_m = _metric(polygon)
    x, y = _crs.project_lonlat(lon, lat)
    point_m = shapely.Point(float(x), float(y))
    valid = bool(poly_m.is_valid)
    if not valid:
        reason = shapely.is_valid_reason(poly_m)
        problems.append(f"the footprint is not a valid polygon ({reason}); draw its outline without crossing edges")
        poly_m = shapely.make_valid(poly_m)
    area_m2 = float(poly_m.area)
    distance_m = float(poly_m.distance(point_m))
    lo, hi = settings.footprint_min_area_m2, settings.footprint_max_area_m2
    if not lo <= area_m2 <= hi:
        problems.append(f"the footprint's area is {area_m2:,.0f} m²; an estate's lies between {lo:,.0f} and {hi:,.0f} m²")
    if distance_m > settings.footprint_near_m:
        problems.append(f"the footprint lies {distance_m:,.0f} m from the estate's point; it must contain the point or pass "
                        f"within {settings.footprint_near_m:g} m of it")
    return FootprintCheck(area_m2, distance_m, tuple(problems), valid)


def footprint_from_geojson(features, *, datum: str = "wgs84") -> shapely.Geometry | None:
    """The last polygon among GeoJSON features (e.g. Leaflet.draw's drawings), converted from ``datum`` to WGS-84.

    Returns None when there is no polygon.
    """
    polygons = []
    for feat in features or []:
        geom = feat.get("geometry") if isinstance(feat, dict) and feat.get("type") == "Feature" else feat
        if isinstance(geom, dict) and geom.get("type") in _AREAS:
            polygons.append(shapely.geometry.shape(geom))
    if not polygons:
        return None
    out = polygons[-1]
    if _crs.normalize_datum(datum) != "wgs84":
        out = _crs.convert_geometries([out], src=datum, dst="wgs84")[0]
    return out


def parse_footprint(text: str, *, where: str) -> shapely.Geometry:
    """A footprint from its WKT (WGS-84); GeocodeError naming ``where`` when it is not a polygon's WKT."""
    try:
        geom = _wkt.loads(str(text))
    except (shapely.errors.GEOSException, ValueError) as exc:
        msg = f"{where}, field 'footprint': not readable WKT ({exc}); write POLYGON ((lon lat, ...)) in WGS-84 or leave it empty"
        raise GeocodeError(msg) from exc
    if geom.geom_type not in _AREAS:
        msg = f"{where}, field 'footprint': a {geom.geom_type}, not a polygon; write POLYGON ((lon lat, ...)) or leave it empty"
        raise GeocodeError(msg)
    return geom
