"""Coordinate reference systems and Chinese datums.

Two separate concerns live here:

* **Projection for distance work.** Every distance is taken in planar metres in
  a metric CRS: EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E) for Shahe,
  or a UTM zone chosen from the data elsewhere. A geographic CRS (degrees) is
  refused with :class:`~geo.errors.CRSError`.
* **Datums.** WGS-84 and CGCS2000 agree to well under a metre here and are
  treated as one. GCJ-02 (AMap, Tencent) and BD-09 (Baidu) are obfuscated
  datums offset by about 500 m and 1.1 km near Wanzhou. The conversions are the
  public formulas, vectorised over NumPy arrays; points outside China pass
  through unchanged, as the obfuscation is not applied there.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pyproj

from geo import settings
from geo.errors import CRSError, DatumError

#: Positions per thread of the scale factors, at least (see _factors).
_FACTOR_PART = 16_384

if TYPE_CHECKING:
    import geopandas as gpd

# Krasovsky 1940 ellipsoid as used by the GCJ-02 formula.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

#: Datum names accepted everywhere, with their aliases.
DATUM_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs 84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "wgs84",
    "epsg:4490": "wgs84",
    "4490": "wgs84",
    "gps": "wgs84",
    "tianditu": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "tencent": "gcj02",
    "mars": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
}

#: Canonical datum names.
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

#: Convergence threshold of the GCJ-02 -> WGS-84 inverse, degrees.
INVERSE_TOLERANCE_DEG = 1e-9


def normalize_datum(name: str) -> str:
    """Return the canonical name (``wgs84``, ``gcj02`` or ``bd09``) of a datum.

    Parameters
    ----------
    name
        A datum name or alias, case-insensitive (``"GCJ-02"``, ``"amap"``, ``"CGCS2000"``...).

    Returns
    -------
    str
        One of :data:`DATUMS`.

    Raises
    ------
    DatumError
        If the name is not a known datum.
    """
    key = str(name).strip().lower().replace("_", "")
    if key not in DATUM_ALIASES:
        msg = f"unknown datum {name!r}: use one of wgs84 (also cgcs2000), gcj02 (AMap, Tencent) or bd09 (Baidu)"
        raise DatumError(msg)
    return DATUM_ALIASES[key]


def in_china(lon, lat) -> np.ndarray:
    """Return a boolean array: True where a point lies in the China box of :mod:`geo.settings`.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (scalars or arrays).

    Returns
    -------
    numpy.ndarray of bool
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    west, south, east, north = settings.china_bounds
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS-84 point."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a = np.array(lon, dtype=float, ndmin=1, copy=True)
    lat_a = np.array(lat, dtype=float, ndmin=1, copy=True)
    if lon_a.shape != lat_a.shape:
        msg = f"longitude and latitude arrays differ in shape: {lon_a.shape} vs {lat_a.shape}"
        raise ValueError(msg)
    return lon_a, lat_a, scalar


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return float(lon[0]), float(lat[0])
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    """Convert WGS-84 longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or equal-shaped arrays.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02 degrees: floats for scalar input, arrays
        otherwise. Points outside China and NaN pass through unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    mask = in_china(lon_a, lat_a)
    if mask.any():
        dlon, dlat = _gcj_delta(lon_a[mask], lat_a[mask])
        lon_a[mask] += dlon
        lat_a[mask] += dlat
    return _result(lon_a, lat_a, scalar)


def gcj02_to_wgs84(lon, lat, *, tolerance_deg: float = INVERSE_TOLERANCE_DEG, max_iter: int = 30):
    """Convert GCJ-02 longitude/latitude to WGS-84.

    The forward transform has no closed-form inverse; this iterates the fixed
    point ``w <- w + (g - f(w))`` until every point moves less than
    ``tolerance_deg`` (default 1e-9 degrees, about 0.1 mm).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, scalars or equal-shaped arrays.
    tolerance_deg
        Convergence threshold in degrees.
    max_iter
        Upper bound on iterations; the map is a contraction and converges in
        about 5 steps.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84 degrees. Points outside China pass through.
    """
    g_lon, g_lat, scalar = _as_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    mask = in_china(g_lon, g_lat)
    if mask.any():
        gx, gy = g_lon[mask], g_lat[mask]
        wx, wy = gx.copy(), gy.copy()
        for _ in range(max_iter):
            fx, fy = wgs84_to_gcj02(wx, wy)
            ex, ey = gx - fx, gy - fy
            wx += ex
            wy += ey
            if np.nanmax(np.abs(np.concatenate([ex, ey]))) < tolerance_deg:
                break
        w_lon[mask], w_lat[mask] = wx, wy
    return _result(w_lon, w_lat, scalar)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 to BD-09 (Baidu). Points outside China pass through."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    mask = in_china(lon_a, lat_a)
    x, y = lon_a[mask], lat_a[mask]
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    lon_a[mask] = z * np.cos(theta) + 0.0065
    lat_a[mask] = z * np.sin(theta) + 0.006
    return _result(lon_a, lat_a, scalar)


def bd09_to_gcj02(lon, lat, *, tolerance_deg: float = INVERSE_TOLERANCE_DEG, max_iter: int = 30):
    """Convert BD-09 (Baidu) to GCJ-02. Points outside China pass through.

    The published closed form is only approximate (a few centimetres); it is
    the start of a fixed-point iteration refined to ``tolerance_deg``.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    mask = in_china(lon_a, lat_a)
    if mask.any():
        bx, by = lon_a[mask], lat_a[mask]
        x, y = bx - 0.0065, by - 0.006
        z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        gx, gy = z * np.cos(theta), z * np.sin(theta)
        for _ in range(max_iter):
            fx, fy = gcj02_to_bd09(gx, gy)
            ex, ey = bx - fx, by - fy
            gx, gy = gx + ex, gy + ey
            if np.nanmax(np.abs(np.concatenate([ex, ey]))) < tolerance_deg:
                break
        lon_a[mask], lat_a[mask] = gx, gy
    return _result(lon_a, lat_a, scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS-84 to BD-09 through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 to WGS-84 through GCJ-02 (inverse iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def convert(lon, lat, *, src: str, dst: str):
    """Convert coordinates between any two of WGS-84, GCJ-02 and BD-09.

    Parameters
    ----------
    lon, lat
        Degrees in ``src``, scalars or arrays.
    src, dst
        Datum names or aliases (see :func:`normalize_datum`).

    Returns
    -------
    tuple
        ``(lon, lat)`` in ``dst``; a copy of the input when the datums are equal.
    """
    s, d = normalize_datum(src), normalize_datum(dst)
    if s == d:
        lon_a, lat_a, scalar = _as_arrays(lon, lat)
        return _result(lon_a, lat_a, scalar)
    return _CONVERTERS[(s, d)](lon, lat)


def convert_geometries(geoms, *, src: str, dst: str):
    """Convert an array of shapely geometries between datums, vertex by vertex.

    Parameters
    ----------
    geoms
        Array-like of shapely geometries in lon/lat degrees of ``src``.
    src, dst
        Datum names.

    Returns
    -------
    numpy.ndarray
        New geometries in ``dst`` (the input is not modified).
    """
    import shapely

    s, d = normalize_datum(src), normalize_datum(dst)
    geoms = np.asarray(geoms, dtype=object)
    if s == d:
        return geoms.copy()

    def _transform(coords: np.ndarray) -> np.ndarray:
        x, y = convert(coords[:, 0], coords[:, 1], src=s, dst=d)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _transform)


# --- metric projection ------------------------------------------------------


def is_metric(crs) -> bool:
    """Return True when ``crs`` is projected with axis units of metres."""
    if crs is None:
        return False
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        return False
    units = {ax.unit_name for ax in crs.axis_info}
    return units <= {"metre", "meter"}


def require_metric(crs, *, what: str = "geometries") -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` when it is metric; raise otherwise.

    Parameters
    ----------
    crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts, or None.
    what
        Name of the data, for the message.

    Raises
    ------
    CRSError
        If ``crs`` is None, geographic (degrees) or projected in other units.
    """
    if crs is None:
        msg = f"{what} have no CRS: set one (canonical files are WGS-84, EPSG:4326) and project with geo.crs.to_metric before measuring distances"
        raise CRSError(msg)
    crs = pyproj.CRS.from_user_input(crs)
    if not is_metric(crs):
        msg = f"{what} are in {crs.to_string()} ({'degrees' if crs.is_geographic else 'non-metre units'}); distances are taken in metres only: project with geo.crs.to_metric first"
        raise CRSError(msg)
    return crs


def utm_crs_for(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS-84 UTM zone CRS that contains a point.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326zz in the northern hemisphere, EPSG:327zz in the southern.
    """
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    return pyproj.CRS.from_epsg(epsg)


def metric_crs_for_bounds(bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """Choose the metric CRS for data with the given WGS-84 bounds.

    Data that lies inside the 3-degree Gauss-Kruger zone of :data:`geo.settings.metric_crs`
    (the zone's central meridian +/- 1.5 degrees) uses it; anything else gets
    the UTM zone of its centre.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in degrees.

    Returns
    -------
    pyproj.CRS
    """
    west, south, east, north = bounds
    default = pyproj.CRS.from_user_input(settings.metric_crs)
    cm = _central_meridian(default)
    if cm is not None and west >= cm - 1.5 and east <= cm + 1.5 and 18.0 <= south and north <= 53.6:
        return default
    return utm_crs_for((west + east) / 2.0, (south + north) / 2.0)


def scale_factors(crs, x, y, *, threshold: float | None = None) -> np.ndarray | None:
    """Point scale factor of a conformal metric CRS at each position, or None where no correction is due.

    A planar distance in ``crs`` near ``(x, y)`` is the distance on the ground
    times ``k``; dividing by ``k`` at one end gives the ground distance to
    about 1 cm at 1 km (``k`` itself changes by up to about 1e-5 over 1 km at
    5 degrees from a central meridian).

    Parameters
    ----------
    crs
        The metric CRS of ``x`` and ``y``.
    x, y
        Coordinates in ``crs`` (metres).
    threshold
        Largest ``|k - 1|`` left uncorrected; default
        :data:`geo.settings.scale_correction_from`.

    Returns
    -------
    numpy.ndarray or None
        ``k`` per position; None when ``|k - 1|`` stays within ``threshold``
        at every position, when there are none, or when the CRS is not
        conformal (its scale then depends on direction, and no single factor
        corrects a distance).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x):
        return None
    limit = settings.scale_correction_from if threshold is None else float(threshold)
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected:
        return None
    k, distortion = _factors(crs, x, y)
    conformal = np.nanmax(np.abs(distortion)) < 1e-3  # degrees
    if not np.isfinite(k).all() or not conformal or np.abs(k - 1.0).max() <= limit:
        return None
    return k


def _factors(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point scale factor and angular distortion (degrees) at each position, in threads for many positions.

    PROJ runs without the GIL; each thread makes its own Transformer and Proj,
    so no PROJ object is shared. The threads are those of the coverage engine
    (:func:`geo.settings.coverage_threads`), one per :data:`_FACTOR_PART`
    positions at most; the values are those of one call.
    """
    n = len(x)
    workers = max(1, min(settings.coverage_threads(), n // _FACTOR_PART))
    k, distortion = np.empty(n), np.empty(n)
    bounds = np.linspace(0, n, workers + 1).astype(int)

    def work(i: int) -> None:
        sl = slice(bounds[i], bounds[i + 1])
        lon, lat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(x[sl], y[sl])
        factors = pyproj.Proj(crs).get_factors(lon, lat, errcheck=False)
        k[sl] = np.sqrt(np.asarray(factors.meridional_scale) * np.asarray(factors.parallel_scale))
        distortion[sl] = np.asarray(factors.angular_distortion)

    if workers == 1:
        work(0)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, range(workers)))
    return k, distortion


def _central_meridian(crs: pyproj.CRS) -> float | None:
    op = crs.coordinate_operation
    if op is None:
        return None
    for param in op.params:
        if "central meridian" in param.name.lower() or "longitude of natural origin" in param.name.lower():
            return float(param.value)
    return None


def to_metric(gdf: gpd.GeoDataFrame, crs=None) -> gpd.GeoDataFrame:
    """Project a GeoDataFrame to a metric CRS for distance work.

    Parameters
    ----------
    gdf
        Data with a CRS set (normally WGS-84).
    crs
        Target metric CRS; default: chosen from the data's bounds with
        :func:`metric_crs_for_bounds` (EPSG:4545 for Shahe).

    Returns
    -------
    geopandas.GeoDataFrame
        A projected copy; the input is not modified.

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS, or the target is not metric.
    """
    if gdf.crs is None:
        msg = "data has no CRS: canonical files are WGS-84 (EPSG:4326); set it with .set_crs('EPSG:4326') if that is what the coordinates are"
        raise CRSError(msg)
    if crs is None:
        lonlat = gdf.to_crs(settings.storage_crs) if not gdf.crs.equals(pyproj.CRS(settings.storage_crs)) else gdf
        if len(lonlat) == 0 or lonlat.geometry.is_empty.all():
            crs = pyproj.CRS.from_user_input(settings.metric_crs)
        else:
            crs = metric_crs_for_bounds(tuple(lonlat.total_bounds))
    crs = require_metric(crs, what="target CRS")
    return gdf.to_crs(crs)


# --- cached lon/lat <-> metric transformers ---------------------------------------


def _crs_key(metric_crs) -> str:
    crs = settings.metric_crs if metric_crs is None else metric_crs
    return crs.to_string() if isinstance(crs, pyproj.CRS) else str(crs)


@functools.lru_cache(maxsize=16)
def _transformer(src: str, dst: str, metric: str) -> pyproj.Transformer:
    require_metric(metric, what="target CRS")
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_metric_transformer(metric_crs=None) -> pyproj.Transformer:
    """Return a cached transformer from WGS-84 lon/lat to a metric CRS (``always_xy``).

    Parameters
    ----------
    metric_crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts; default
        :data:`geo.settings.metric_crs` (read at call time).

    Returns
    -------
    pyproj.Transformer
        One object per CRS string (cached). Since pyproj 3.1 a Transformer keeps
        one PROJ object per thread, so sharing it between threads is safe; code
        that splits one projection over threads for speed may still build its own.

    Raises
    ------
    CRSError
        If ``metric_crs`` is not in metres.
    """
    key = _crs_key(metric_crs)
    return _transformer(settings.storage_crs, key, key)


def metric_to_lonlat_transformer(metric_crs=None) -> pyproj.Transformer:
    """Return the cached inverse of :func:`lonlat_to_metric_transformer` (metric x/y to WGS-84 lon/lat)."""
    key = _crs_key(metric_crs)
    return _transformer(key, settings.storage_crs, key)


def project_lonlat(lon, lat, metric_crs=None) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS-84 lon/lat to a metric CRS (default :data:`geo.settings.metric_crs`).

    Parameters
    ----------
    lon, lat
        Degrees, scalars or arrays of equal shape.
    metric_crs
        Target CRS in metres.

    Returns
    -------
    (x, y)
        Metres, float64 arrays.
    """
    t = lonlat_to_metric_transformer(metric_crs)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
