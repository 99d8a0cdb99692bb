"""The result of geocoding one address, and the extent check shared by every provider.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from geo import settings
from geo.geocode.address import ParsedAddress

#: Names accepted by ``provider=``.
PROVIDERS: tuple[str, ...] = ("offline", "amap", "tianditu")

#: Environment variables holding the keys of the online providers.
KEY_ENV: dict[str, str] = {"amap": "AMAP_KEY", "tianditu": "TIANDITU_KEY"}

#: Note written into estates.geojson and shown wherever the shipped positions appear.
APPROXIMATE_NOTE = (
    "approximate positions (unless geocode_quality is 'surveyed'): interpolated by house number along road centrelines drawn by the project "
    "(data/gazetteer.geojson), not surveyed; no street-level data of Shahe is public. "
    "Put surveyed points in data/geocode_overrides.csv and run build-estates again."
)


# --- result --------------------------------------------------------------------------


@dataclass(frozen=True)
class GeocodeResult:
    """The position of one address.

    Attributes
    ----------
    lon, lat
        WGS-84 degrees, or None when ``quality`` is ``failed``.
    quality
        One of :data:`geo.schemas.GEOCODE_QUALITIES`.
    source
        Provider and file/version that produced the point.
    road, number, sub_number
        Parsed parts (number and sub-number as text, e.g. ``"457"``, ``"431-441"``, ``"1、2、3"``), None when unknown.
    note
        Why the point is where it is, or why there is none.
    address
        The address as given.
    estate_id
        The id the caller gave, if any.
    """

    lon: float | None
    lat: float | None
    quality: str
    source: str
    road: str | None = None
    number: str | None = None
    sub_number: str | None = None
    note: str = ""
    address: str = ""
    estate_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the result has a point."""
        return self.quality != "failed" and self.lon is not None and self.lat is not None

    def to_dict(self) -> dict:
        """Return the result as a JSON-ready dict (keys lon, lat, quality, source, road, number, sub_number, note, ...)."""
        return asdict(self)


def failed_result(source: str, note: str, parsed: ParsedAddress | None = None, **kw) -> GeocodeResult:
    return GeocodeResult(None, None, "failed", source, note=note, **address_parts(parsed), **kw)


def address_parts(parsed: ParsedAddress | None) -> dict:
    if parsed is None:
        return {"road": None, "number": None, "sub_number": None}
    return {"road": parsed.road, "number": parsed.number_text, "sub_number": parsed.sub_number}


def in_extent(lon: float, lat: float, *, margin_deg: float | None = None) -> bool:
    if margin_deg is None:
        margin_deg = settings.geocode_bounds_margin_deg
    west, south, east, north = settings.shahe_bounds
    return west - margin_deg <= lon <= east + margin_deg and south - margin_deg <= lat <= north + margin_deg
