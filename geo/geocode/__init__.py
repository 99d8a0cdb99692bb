"""Geocoding Shahe addresses: ``address`` (parsing), ``result``, ``gazetteer`` (offline), ``names`` (ledger names),
``online`` (AMap, Tianditu), ``overrides`` (surveyed positions) and ``geocoder`` (the order
of sources, building ``estates.geojson``).
"""

from __future__ import annotations

from geo.geocode.address import (
    CITY,
    COMMUNITIES,
    DISTRICT,
    ROAD_SUFFIXES,
    SUBDISTRICT,
    ParsedAddress,
    normalize_address,
    outside_reason,
    parse_address,
)
from geo.geocode.gazetteer import Gazetteer, OfflineProvider
from geo.geocode.geocoder import Geocoder, build_estates, geocode_address, geocode_many, quality_summary
from geo.geocode.names import EstateNames
from geo.geocode.online import AmapProvider, GeocodeCache, TiandituProvider, make_provider
from geo.geocode.overrides import Overrides, address_key, load_overrides
from geo.geocode.result import APPROXIMATE_NOTE, KEY_ENV, PROVIDERS, GeocodeResult

__all__ = ["APPROXIMATE_NOTE", "CITY", "COMMUNITIES", "DISTRICT", "KEY_ENV", "PROVIDERS", "ROAD_SUFFIXES", "SUBDISTRICT", "AmapProvider", "EstateNames", "Gazetteer", "GeocodeCache", "GeocodeResult", "Geocoder", "OfflineProvider", "Overrides", "ParsedAddress", "TiandituProvider", "address_key", "build_estates", "geocode_address", "geocode_many", "load_overrides", "make_provider", "normalize_address", "outside_reason", "parse_address", "quality_summary"]
