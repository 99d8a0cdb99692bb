"""Draw the approximate road gazetteer and basemap of Shahe subdistrict.

No street-level coordinates of Shahe are public (see the README). This script
lays out a plausible, internally consistent network inside the subdistrict's
approximate extent (``geo.settings.shahe_bounds``) from what public sources
say: the roads named in the plan's ledger, the 申明坝 industrial park with
天子湖 lake, the 苎溪河 stream flowing south toward the Yangtze, and national
road G318 crossing the subdistrict. Every feature it writes carries
``approximate: true`` and a ``source`` saying it is drawn, not surveyed.

The layout is written in local metres east and north of the south-west corner
of ``shahe_bounds`` and converted to WGS-84 through EPSG:4545, so the script
is deterministic: running it again writes the same bytes.

Usage::

    python scripts/make_gazetteer.py [--out-dir data]

Writes ``gazetteer.geojson`` (road centrelines with house-number ranges) and
``basemap.geojson`` (outline, lake, stream, community labels).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import io, settings

GAZETTEER_VERSION = "1"
SOURCE = "drawn by the project from public descriptions of Shahe; not surveyed; positions may be off by several hundred metres"
AREA_KM2 = 11.2  # published area of the subdistrict

# --- roads: (name, class, vertices in local metres, odd range, even range) --------
# Numbers run from the first vertex to the last; odd numbers on the left, even on
# the right, facing the direction of increasing numbers (左单右双).
ROADS: list[tuple[str, str, list[tuple[float, float]], tuple[int, int] | None, tuple[int, int] | None]] = [
    ("申明大道", "avenue", [(2450, 3500), (2480, 2900), (2500, 2300), (3000, 1650), (3500, 1000), (3800, 400)], (1, 419), (2, 420)),
    ("申明北路", "street", [(700, 3250), (1500, 3300), (2300, 3350), (2460, 3355)], (1, 159), (2, 160)),
    ("申明中路", "street", [(800, 3020), (1650, 3050), (2480, 3080)], (1, 299), (2, 300)),
    ("滨湖路", "street", [(700, 2450), (1100, 2300), (1600, 2350), (1900, 2650), (1850, 2950)], (1421, 1699), (1422, 1700)),
    ("凤仙路", "street", [(600, 2200), (1100, 1900), (1600, 1500), (2100, 1000), (2400, 500)], (1, 699), (2, 700)),
    ("青年路", "street", [(2600, 1200), (3300, 1450), (3800, 1700)], (1, 159), (2, 160)),
    ("花园路", "street", [(2700, 550), (3300, 700), (3900, 800)], (1, 119), (2, 120)),
    ("文家巷", "lane", [(3100, 650), (3130, 480), (3150, 300)], (1, 39), (2, 40)),
    # Roads not in the ledger, for a map that reads like the place; no numbers known.
    ("花青路", "street", [(3300, 700), (3350, 1100), (3400, 1450)], None, None),
    ("G318国道", "national", [(0, 1650), (1300, 1350), (2600, 1200), (3400, 1100), (4200, 1000)], None, None),
]

# --- basemap ------------------------------------------------------------------------
OUTLINE = [(250, 350), (1500, 150), (2800, 200), (3900, 500), (4050, 1500), (3900, 2700), (3300, 3500), (2000, 3650), (800, 3500), (200, 2700), (120, 1500)]
STREAM = ("苎溪河", [(700, 3770), (1000, 3200), (1250, 2750), (1450, 2550), (1700, 2300), (2300, 1800), (2700, 1200), (3000, 600), (3200, 30)])
LAKE_CENTRE, LAKE_AXES_M, LAKE_ROTATION_DEG = (1330, 2640), (330, 120), -40.0
LABELS = [
    ("凤仙路社区", "community", (1300, 1950)),
    ("申明社区", "community", (1500, 3180)),
    ("沙河社区", "community", (3050, 1350)),
    ("花青路社区", "community", (3400, 550)),
    ("申明坝工业园", "place", (1900, 3420)),
    ("天子湖", "water", (1330, 2640)),
]


class LocalFrame:
    """Local metres east/north of the south-west corner of ``shahe_bounds``, through EPSG:4545."""

    def __init__(self):
        west, south, _, _ = settings.shahe_bounds
        self._fwd = pyproj.Transformer.from_crs(settings.storage_crs, settings.metric_crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(settings.metric_crs, settings.storage_crs, always_xy=True)
        self.e0, self.n0 = self._fwd.transform(west, south)

    def to_lonlat(self, geom):
        def _t(coords):
            lon, lat = self._inv.transform(coords[:, 0] + self.e0, coords[:, 1] + self.n0)
            return np.column_stack([lon, lat])

        return shapely.transform(geom, _t)


def _parity_range(lo: float, hi: float, first: int, last: int, *, is_last: bool) -> tuple[int, int] | None:
    """Numbers of one parity in [lo, hi) (or [lo, last] for the last segment)."""
    step = 2
    start = first + step * max(0, math.ceil((lo - first) / step))
    end = last if is_last else first + step * math.floor((hi - first - 1e-9) / step)
    if end >= hi and not is_last:
        end -= step
    if start > end:
        return None
    return start, end


def road_segments(frame: LocalFrame) -> gpd.GeoDataFrame:
    """Split every road at its vertices and give each piece its share of the number ranges."""
    rows, geoms = [], []
    for name, road_class, verts, odd, even in ROADS:
        line = LineString(verts)
        total = line.length
        cum = [0.0]
        for a, b in itertools.pairwise(verts):
            cum.append(cum[-1] + math.dist(a, b))
        n_seg = len(verts) - 1
        for k in range(n_seg):
            f0, f1 = cum[k] / total, cum[k + 1] / total
            last = k == n_seg - 1
            left = right = None
            if odd is not None:
                span = odd[1] - odd[0] + 2
                left = _parity_range(odd[0] + f0 * span, odd[0] + f1 * span, odd[0], odd[1], is_last=last)
            if even is not None:
                span = even[1] - even[0] + 2
                right = _parity_range(even[0] + f0 * span, even[0] + f1 * span, even[0], even[1], is_last=last)
            rows.append(
                {
                    "road": name,
                    "segment_id": f"{name}/{k + 1}",
                    "road_class": road_class,
                    "numbered": odd is not None,
                    "left_from": left[0] if left else None,
                    "left_to": left[1] if left else None,
                    "right_from": right[0] if right else None,
                    "right_to": right[1] if right else None,
                    "left_parity": "odd" if left else None,
                    "right_parity": "even" if right else None,
                    "approximate": True,
                    "source": SOURCE,
                }
            )
            geoms.append(frame.to_lonlat(LineString(verts[k : k + 2])))
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.storage_crs)
    for col in ("left_from", "left_to", "right_from", "right_to"):
        gdf[col] = gdf[col].astype("Int64")
    return gdf


def _scaled_outline() -> Polygon:
    poly = Polygon(OUTLINE)
    factor = math.sqrt(AREA_KM2 * 1e6 / poly.area)
    return shapely.affinity.scale(poly, xfact=factor, yfact=factor, origin=poly.centroid)


def _lake() -> Polygon:
    cx, cy = LAKE_CENTRE
    a, b = LAKE_AXES_M
    rot = math.radians(LAKE_ROTATION_DEG)
    pts = []
    for i in range(24):
        t = 2 * math.pi * i / 24
        # a slightly irregular shore, fixed so the file is reproducible
        r = 1.0 + 0.08 * math.sin(3 * t) + 0.05 * math.cos(5 * t)
        x, y = a * r * math.cos(t), b * r * math.sin(t)
        pts.append((cx + x * math.cos(rot) - y * math.sin(rot), cy + x * math.sin(rot) + y * math.cos(rot)))
    return Polygon(pts)


def basemap(frame: LocalFrame) -> gpd.GeoDataFrame:
    """Outline, lake, stream and labels, every one approximate."""
    rows, geoms = [], []

    def add(kind, name, geom, note):
        rows.append({"kind": kind, "name": name, "approximate": True, "source": SOURCE, "note": note})
        geoms.append(frame.to_lonlat(geom))

    add("outline", "沙河街道", _scaled_outline(), f"approximate outline with the published area of {AREA_KM2} km²; the official boundary is not public")
    add("water", "天子湖", _lake(), "lake at 申明坝; shape and size drawn, not surveyed")
    add("river", STREAM[0], LineString(STREAM[1]), "stream flowing south toward the Yangtze; course drawn, not surveyed")
    for name, kind, xy in LABELS:
        add("label", name, Point(xy), f"label of a {kind}; placed by the project")
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.storage_crs)


def main(argv: list[str] | None = None) -> int:
    """Write gazetteer.geojson and basemap.geojson; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=None, help="folder to write into (default: the data folder)")
    args = parser.parse_args(argv)
    out_dir = args.out_dir or Path(settings.data_dir)
    frame = LocalFrame()
    note = "APPROXIMATE: drawn by the project, not surveyed; no street-level data of Shahe is public. Replace with surveyed centrelines (see README)."
    roads = road_segments(frame)
    io.write_geojson(
        roads,
        out_dir / "gazetteer.geojson",
        metadata={
            "name": "shahe-gazetteer",
            "version": GAZETTEER_VERSION,
            "approximate": True,
            "synthetic": True,
            "numbering": "odd numbers on the left, even on the right, facing the direction of increasing numbers (左单右双)",
            "note": note,
        },
    )
    io.write_geojson(
        basemap(frame),
        out_dir / "basemap.geojson",
        metadata={"name": "shahe-basemap", "version": GAZETTEER_VERSION, "approximate": True, "synthetic": True, "note": note},
    )
    print(f"wrote {out_dir / 'gazetteer.geojson'} ({len(roads)} segments) and {out_dir / 'basemap.geojson'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
