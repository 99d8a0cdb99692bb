"""Seeded synthetic data at scale: estates, patrol routes and incidents.

Every coordinate made here is invented (``synthetic``): the generator exists to
measure the engine at sizes far beyond the 24 estates of Shahe. The layout is
metric and real in kind: EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E)
around Wanzhou (108.38E, 30.81N), spreading over the whole Chongqing box for
the province size.

* **Towns**: centres drawn uniformly in the size's box, with Pareto-like
  weights (a few big towns, many small ones); the first town sits on Wanzhou
  and is the largest. A town's spread grows with the square root of its
  expected routes, so route density stays near :data:`ROUTE_DENSITY_PER_KM2`.
* **Estates**: address points drawn from a normal distribution around a town
  centre (town chosen by weight), so they cluster as real estates do.
* **Routes**: street-like polylines on a town's own street grid (each town has
  a random orientation): a walk of straight blocks of 150-600 m that goes on
  or turns by 90 degrees, until the route is 2-6 km long. Two routes per team
  on average (teams are numbered per town).
* **Incidents**: :class:`geo.incidents.IncidentArrays` (never a shapely
  object per incident), 85 % near an estate (normal, 150 m), 15 % scattered in
  the town; times uniform over 2019-2024; categories and sources by fixed
  weights.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyproj
import shapely

from geo.errors import GeoError
from geo.incidents.store import IncidentArrays
from geo.incidents.taxonomy import CATEGORY_NAMES, SOURCE_NAMES

__all__ = ["SIZES", "ScaleData", "ScaleSize", "available_memory_bytes", "check_memory", "estimate_bytes", "generate"]

#: CRS of every generated geometry.
SCALE_CRS = "EPSG:4545"
#: Wanzhou, WGS-84 lon/lat: the centre of the district and city layouts.
WANZHOU_LONLAT = (108.38, 30.81)
#: Route starts per km2 in a town (sets the town's spread; about 50 teams within 1 km of an estate).
ROUTE_DENSITY_PER_KM2 = 3.0
#: Approximate WGS-84 box of Chongqing municipality (west, south, east, north).
CHONGQING_BOUNDS = (105.3, 28.2, 110.2, 32.2)


@dataclass(frozen=True)
class ScaleSize:
    """Counts and extent of one benchmark size."""

    name: str
    estates: int
    routes: int
    incidents: int
    towns: int
    half_width_m: float | None  # square box around Wanzhou; None: the Chongqing box


#: The three benchmark sizes.
SIZES: dict[str, ScaleSize] = {
    "district": ScaleSize("district", 2_000, 500, 200_000, 12, 12_000.0),
    "city": ScaleSize("city", 20_000, 5_000, 2_000_000, 100, 40_000.0),
    "province": ScaleSize("province", 170_000, 50_000, 10_000_000, 900, None),
}


@dataclass
class ScaleData:
    """One generated data set (metric geometries in :attr:`crs`).

    Attributes
    ----------
    estate_ids, estate_geoms
        Estate ids (``E000001``...) and address points.
    route_ids, route_geoms, route_team_ids, route_shifts
        One entry per route: id, LineString, team id, shift.
    incidents
        :class:`~geo.incidents.IncidentArrays` in WGS-84 lon/lat.
    bounds_m
        Box of the layout in :attr:`crs` (xmin, ymin, xmax, ymax).
    town_xy, estate_town
        Town centres (metres) and each estate's town index.
    """

    size: ScaleSize
    seed: int
    estate_ids: np.ndarray
    estate_geoms: np.ndarray
    route_ids: np.ndarray
    route_geoms: np.ndarray
    route_team_ids: np.ndarray
    route_shifts: np.ndarray
    incidents: IncidentArrays
    bounds_m: tuple[float, float, float, float]
    town_xy: np.ndarray
    estate_town: np.ndarray
    crs: str = SCALE_CRS
    synthetic: bool = True
    attrs: dict = field(default_factory=dict)

    def frames(self):
        """Estates and routes as GeoDataFrames in :attr:`crs` (with a ``synthetic`` column)."""
        import geopandas as gpd

        estates = gpd.GeoDataFrame({"estate_id": self.estate_ids, "synthetic": True}, geometry=self.estate_geoms, crs=self.crs)
        routes = gpd.GeoDataFrame(
            {"route_id": self.route_ids, "team_id": self.route_team_ids, "shift": self.route_shifts, "synthetic": True},
            geometry=self.route_geoms,
            crs=self.crs,
        )
        return estates, routes


def _size(size: str | ScaleSize) -> ScaleSize:
    if isinstance(size, ScaleSize):
        return size
    if size not in SIZES:
        msg = f"unknown size {size!r}: use one of {', '.join(SIZES)}"
        raise ValueError(msg)
    return SIZES[size]


def estimate_bytes(size: str | ScaleSize) -> int:
    """Rough peak memory of generating and benchmarking one size, bytes.

    Per incident about 120 bytes (arrays and projection temporaries), per
    estate about 6 kB (geometry, pair tables of about 100 nearby routes), per
    route about 40 kB (line, its 1-km buffer polygon in the baseline), plus
    500 MB for the interpreter and libraries.
    """
    s = _size(size)
    return int(s.incidents * 120 + s.estates * 6_000 + s.routes * 40_000 + 500e6)


def available_memory_bytes() -> int | None:
    """``MemAvailable`` from /proc/meminfo in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(size: str | ScaleSize) -> int:
    """Refuse a size whose estimate exceeds the available memory; return the estimate.

    Raises
    ------
    GeoError
        With the estimate and the memory available.
    """
    s = _size(size)
    need = estimate_bytes(s)
    have = available_memory_bytes()
    if have is not None and need > have:
        msg = (
            f"size {s.name!r} needs about {need / 1e9:.1f} GB ({s.estates} estates, {s.routes} routes, "
            f"{s.incidents} incidents) but only {have / 1e9:.1f} GB is available; choose a smaller --size"
        )
        raise GeoError(msg)
    return need


def _box(s: ScaleSize, to_m: pyproj.Transformer) -> tuple[float, float, float, float]:
    if s.half_width_m is None:
        w, so, e, n = CHONGQING_BOUNDS
        xs, ys = to_m.transform([w, e, w, e], [so, so, n, n])
        return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))
    cx, cy = to_m.transform(*WANZHOU_LONLAT)
    h = s.half_width_m
    return cx - h, cy - h, cx + h, cy + h


def _walk(rng: np.random.Generator, start: np.ndarray, angle: float) -> np.ndarray:
    """One street-like route: blocks of 150-600 m on a grid turned by ``angle``, 2-6 km long."""
    target = rng.uniform(2_000.0, 6_000.0)
    blocks = rng.uniform(150.0, 600.0, size=64)
    n = int(np.searchsorted(np.cumsum(blocks), target)) + 1
    blocks = blocks[:n]
    blocks[-1] -= blocks.sum() - target  # exact total length
    if blocks[-1] < 50.0:
        blocks = blocks[:-1]
        blocks[-1] += target - blocks.sum()
    turns = rng.choice([0, 1, -1], size=n, p=[0.5, 0.25, 0.25])
    heading = (rng.integers(0, 4) + np.cumsum(turns)) % 4
    theta = angle + heading[: len(blocks)] * (np.pi / 2)
    steps = np.column_stack([np.cos(theta), np.sin(theta)]) * blocks[:, None]
    return np.vstack([start, start + np.cumsum(steps, axis=0)])


def generate(size: str | ScaleSize = "district", *, seed: int = 2022, incidents: bool = True) -> ScaleData:
    """Generate one synthetic data set.

    Parameters
    ----------
    size
        ``"district"``, ``"city"``, ``"province"`` or a :class:`ScaleSize`.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same data.
    incidents
        Make the incidents (False: an empty :class:`~geo.incidents.IncidentArrays`).

    Returns
    -------
    ScaleData
        Synthetic estates, routes (EPSG:4545 metres) and incidents (WGS-84).
    """
    s = _size(size)
    rng = np.random.default_rng(seed)
    to_m = pyproj.Transformer.from_crs("EPSG:4326", SCALE_CRS, always_xy=True)
    xmin, ymin, xmax, ymax = _box(s, to_m)

    # Towns: Wanzhou first and largest, then Pareto weights.
    town_xy = np.column_stack([rng.uniform(xmin, xmax, s.towns), rng.uniform(ymin, ymax, s.towns)])
    town_xy[0] = to_m.transform(*WANZHOU_LONLAT)
    weight = rng.pareto(1.5, s.towns) + 1.0
    weight[0] = weight.max()
    weight /= weight.sum()
    # A town's spread keeps about ROUTE_DENSITY_PER_KM2 route starts per km2 within
    # one standard deviation: towns grow in area, not in density, as real ones do.
    spread = np.maximum(400.0, 1_000.0 * np.sqrt(weight * s.routes / (2 * np.pi * ROUTE_DENSITY_PER_KM2)))
    angle = rng.uniform(0, np.pi / 2, s.towns)

    # Estates around their towns, clipped into the box.
    et = rng.choice(s.towns, size=s.estates, p=weight)
    exy = town_xy[et] + rng.normal(size=(s.estates, 2)) * spread[et, None]
    exy[:, 0] = exy[:, 0].clip(xmin, xmax)
    exy[:, 1] = exy[:, 1].clip(ymin, ymax)
    estate_ids = np.array([f"E{i + 1:06d}" for i in range(s.estates)], dtype=object)
    estate_geoms = shapely.points(exy)

    # Routes: town by weight, start near the town centre, a grid walk.
    rt = rng.choice(s.towns, size=s.routes, p=weight)
    rt.sort()
    starts = town_xy[rt] + rng.normal(size=(s.routes, 2)) * spread[rt, None] * 0.8
    coords, counts = [], []
    for i in range(s.routes):
        c = _walk(rng, starts[i], angle[rt[i]])
        coords.append(c)
        counts.append(len(c))
    flat = np.vstack(coords)
    route_geoms = shapely.linestrings(flat, indices=np.repeat(np.arange(s.routes), counts))
    # Teams: numbered per town, two routes per team on average.
    within = np.arange(s.routes) - np.searchsorted(rt, rt)
    team_no = within // 2 + (rng.random(s.routes) < 0.2)
    route_team_ids = np.array([f"T{t:04d}-{k:03d}" for t, k in zip(rt.tolist(), team_no.tolist(), strict=True)], dtype=object)
    route_ids = np.array([f"R{i + 1:06d}" for i in range(s.routes)], dtype=object)
    route_shifts = rng.choice(np.array(["day", "night", "all"], dtype=object), size=s.routes, p=[0.3, 0.3, 0.4])

    inc = _incidents(rng, s.incidents if incidents else 0, exy, et, town_xy, spread, weight)
    return ScaleData(
        size=s,
        seed=seed,
        estate_ids=estate_ids,
        estate_geoms=estate_geoms,
        route_ids=route_ids,
        route_geoms=route_geoms,
        route_team_ids=route_team_ids,
        route_shifts=route_shifts,
        incidents=inc,
        bounds_m=(xmin, ymin, xmax, ymax),
        town_xy=town_xy,
        estate_town=et,
        attrs={"synthetic": True, "note": "synthetic benchmark data; no coordinate or incident is real"},
    )


def _incidents(rng, n, exy, et, town_xy, spread, weight) -> IncidentArrays:
    near = rng.random(n) < 0.85
    xy = np.empty((n, 2))
    k = int(near.sum())
    pick = rng.integers(0, len(exy), size=k)
    xy[near] = exy[pick] + rng.normal(scale=150.0, size=(k, 2))
    town = rng.choice(len(town_xy), size=n - k, p=weight)
    xy[~near] = town_xy[town] + rng.normal(size=(n - k, 2)) * spread[town, None]
    to_ll = pyproj.Transformer.from_crs(SCALE_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    t0 = int((dt.datetime(2019, 1, 1) - dt.datetime(1970, 1, 1)).total_seconds())
    t1 = int((dt.datetime(2025, 1, 1) - dt.datetime(1970, 1, 1)).total_seconds())
    cat_p = np.linspace(2.0, 1.0, len(CATEGORY_NAMES))
    src_p = np.linspace(3.0, 1.0, len(SOURCE_NAMES))
    return IncidentArrays(
        np.asarray(lon, dtype=float),
        np.asarray(lat, dtype=float),
        rng.integers(t0, t1, size=n, dtype=np.int64),
        rng.choice(len(CATEGORY_NAMES), size=n, p=cat_p / cat_p.sum()).astype(np.int8),
        np.full(n, -1, dtype=np.int8),
        rng.choice(len(SOURCE_NAMES), size=n, p=src_p / src_p.sum()).astype(np.int8),
        None,
        {"synthetic": True},
    )


def grid_roads(data: ScaleData, *, step_m: float = 300.0):
    """A synthetic road grid over the layout (lines every ``step_m`` metres both ways), as a GeoDataFrame in :attr:`ScaleData.crs`."""
    import geopandas as gpd
    import shapely

    x0, y0, x1, y1 = data.bounds_m
    xs = np.arange(x0, x1 + step_m, step_m)
    ys = np.arange(y0, y1 + step_m, step_m)
    lines = [shapely.LineString([(x, y0), (x, y1)]) for x in xs] + [shapely.LineString([(x0, y), (x1, y)]) for y in ys]
    n = len(lines)
    return gpd.GeoDataFrame({"road_class": ["street"] * n, "synthetic": [True] * n}, geometry=lines, crs=data.crs)
