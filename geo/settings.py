"""Typed defaults of the engine, read at call time.

Every function that takes one of these values as an optional argument reads the
module attribute when it is called, not when it is defined, so a test or the app
can change a setting for a whole run::

    from geo import settings
    settings.rule_radius_m = 800.0

All distances are planar metres in :data:`metric_crs`.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- the 1-km rule ----------------------------------------------------------

#: Radius of the plan's rule (P5): a team whose route comes within this many
#: metres of an estate (inclusive) is *nearby* and must bring it into its patrol.
rule_radius_m: float = 1000.0

#: A route *covers* an estate whose address point lies within this many metres
#: (inclusive): the patrol actually reaches the estate's gate.
cover_distance_m: float = 100.0

#: Cover distance used when an estate is given as a footprint polygon.
cover_distance_polygon_m: float = 30.0

# --- coordinate reference systems ------------------------------------------

#: Canonical storage CRS: WGS-84 longitude/latitude (RFC 7946 GeoJSON).
storage_crs: str = "EPSG:4326"

#: Metric CRS for every distance in Shahe: CGCS2000 / 3-degree Gauss-Kruger
#: CM 108E. Its scale factor at Wanzhou is about 1.00002 (2 cm per km).
metric_crs: str = "EPSG:4545"

#: Decimal places kept for longitude/latitude in written GeoJSON (about 1 cm).
coordinate_precision: int = 7

#: Rough bounding box of mainland China and its islands, (west, south, east,
#: north) in degrees; used for the "outside China" check and the datum
#: conversions, which pass points outside it through unchanged.
china_bounds: tuple[float, float, float, float] = (73.5, 18.0, 135.1, 53.6)

#: Approximate extent of Shahe subdistrict (WGS-84, west, south, east, north).
#: No official boundary is public; this box is drawn around the subdistrict's
#: known neighbours and landmarks and is labelled approximate wherever shown.
shahe_bounds: tuple[float, float, float, float] = (108.350, 30.826, 108.394, 30.860)

# --- data paths --------------------------------------------------------------

#: Folder of the shipped data; ``SHAHE_DATA_DIR`` in the environment overrides it.
data_dir: Path = Path(os.environ.get("SHAHE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))


def data_path(name: str) -> Path:
    """Return the path of a data file inside :data:`data_dir`.

    Parameters
    ----------
    name
        File name, e.g. ``"estates.geojson"``.

    Returns
    -------
    pathlib.Path
        ``data_dir / name``, read at call time.
    """
    return Path(data_dir) / name
