"""Geocoding of Shahe addresses: overrides, an offline gazetteer and online providers.

Order of precedence for one address:

1. **Overrides** (``data/geocode_overrides.csv``): surveyed positions keyed by
   estate id or address; quality ``surveyed``. Rows in GCJ-02 or BD-09 are
   converted to WGS-84.
2. **The provider**: ``offline`` (default) interpolates the house number along
   the road centrelines of ``data/gazetteer.geojson``; ``amap`` (AMap/Gaode web
   geocoding, GCJ-02) and ``tianditu`` (Tianditu geocoder, CGCS2000) are used
   only when a key is configured (``AMAP_KEY``, ``TIANDITU_KEY``).

Every result is WGS-84 longitude/latitude plus a quality (``surveyed``,
``exact``, ``interpolated``, ``road``, ``failed``), the source that produced it,
the parsed parts and a note. A failed result has ``lon``/``lat`` None and a
note that says why; nothing is ever placed at a made-up point.

The shipped gazetteer is drawn by the project, not surveyed: every
interpolated position is approximate and says so.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import LineString, Point

from geo import crs as _crs
from geo import io, settings
from geo._validate import is_blank as _blank
from geo.address import ParsedAddress, normalize_address, outside_reason, parse_address
from geo.errors import DataFileError, DatumError, GeocodeError, GeoError
from geo.schemas import ESTATES, GEOCODE_QUALITIES, ROADS

__all__ = [
    "PROVIDERS",
    "AmapProvider",
    "Gazetteer",
    "GeocodeCache",
    "GeocodeResult",
    "Geocoder",
    "OfflineProvider",
    "Overrides",
    "TiandituProvider",
    "build_estates",
    "geocode_address",
    "geocode_many",
    "load_overrides",
    "make_provider",
    "quality_summary",
]

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
        Parsed parts (number and sub-number as text, e.g. ``"457"``, ``"1、2、3"``), None when unknown.
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


def _failed(source: str, note: str, parsed: ParsedAddress | None = None, **kw) -> GeocodeResult:
    return GeocodeResult(None, None, "failed", source, note=note, **_parts(parsed), **kw)


def _parts(parsed: ParsedAddress | None) -> dict:
    if parsed is None:
        return {"road": None, "number": None, "sub_number": None}
    return {"road": parsed.road, "number": str(parsed.number), "sub_number": parsed.sub_number}


def _in_extent(lon: float, lat: float, *, margin_deg: float | None = None) -> bool:
    if margin_deg is None:
        margin_deg = settings.geocode_bounds_margin_deg
    west, south, east, north = settings.shahe_bounds
    return west - margin_deg <= lon <= east + margin_deg and south - margin_deg <= lat <= north + margin_deg


# --- offline gazetteer ------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    road: str
    segment_id: str
    line_m: LineString  # metric CRS
    left: tuple[int, int] | None
    right: tuple[int, int] | None

    def side_for(self, number: int) -> str | None:
        for side, rng in (("left", self.left), ("right", self.right)):
            if rng is None:
                continue
            lo, hi = min(rng), max(rng)
            if lo <= number <= hi and (number - rng[0]) % 2 == 0:
                return side
        return None


def _gazetteer_problems(props: list[dict], geoms: list, locations: list[str]) -> list[str]:
    """Problems only a gazetteer has: a segment without its road, not one line, or a bad house-number range."""
    problems = []
    for p, geom, loc in zip(props, geoms, locations, strict=True):
        where = loc + (f" ({p['segment_id']})" if not _blank(p.get("segment_id")) else "")
        if _blank(p.get("road")):
            problems.append(f"{where}, field 'road': missing; every segment needs its road name")
        gtype = getattr(geom, "geom_type", None)
        if gtype == "MultiLineString":
            problems.append(f"{where}: geometry is a MultiLineString; a segment is one LineString (split multi-part roads into segments)")
        for side in ("left", "right"):
            lo, hi = p.get(f"{side}_from"), p.get(f"{side}_to")
            if _blank(lo) and _blank(hi):
                continue
            try:
                lo_i, hi_i = int(lo), int(hi)
                ok = lo_i == float(lo) and hi_i == float(hi) and lo_i > 0 and hi_i > 0 and (hi_i - lo_i) % 2 == 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(
                    f"{where}, fields '{side}_from'/'{side}_to': {lo!r}..{hi!r} is not a range of positive whole numbers of one parity; "
                    "give both ends (e.g. 1 and 99) or leave both empty"
                )
    return problems


class Gazetteer:
    """Road centrelines with house-number ranges, for address interpolation.

    Each feature of the file is one LineString segment with properties
    ``road``, ``segment_id``, ``left_from``, ``left_to``, ``right_from``,
    ``right_to`` (house numbers at the first and last vertex on each side;
    null when the side has none) and ``approximate``. Left and right are taken
    facing the direction in which the line is drawn; numbers on one side step
    by 2 (odd on one side, even on the other).

    Parameters
    ----------
    segments
        The segments, with lines in :data:`geo.settings.metric_crs`.
    name
        File name, for ``source``.
    version
        The file's top-level ``version`` member.
    """

    def __init__(self, segments: list[_Segment], *, name: str = "gazetteer", version: str = "?", metric_crs: str | None = None):
        self.segments = segments
        self.name = name
        self.version = version
        self.metric_crs = metric_crs or settings.metric_crs
        self._to_lonlat = pyproj.Transformer.from_crs(self.metric_crs, settings.storage_crs, always_xy=True)
        self.by_road: dict[str, list[_Segment]] = {}
        for seg in segments:
            self.by_road.setdefault(seg.road, []).append(seg)

    @property
    def source(self) -> str:
        """Text for ``geocode_source``."""
        return f"offline:{self.name}@v{self.version} (approximate, not surveyed)"

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None) -> Gazetteer:
        """Read and check a gazetteer GeoJSON file.

        Parameters
        ----------
        path
            Default :data:`geo.settings.gazetteer_path`, else ``data/gazetteer.geojson``.

        Raises
        ------
        DataFileError
            If the file is missing or not a FeatureCollection.
        SchemaError
            With every bad feature (missing road, bad numbers, not a line).
        """
        path = Path(path or settings.gazetteer_path or settings.data_path("gazetteer.geojson"))
        if not path.is_file():
            msg = f"{path}: no gazetteer file; run 'python scripts/make_gazetteer.py' or point settings.gazetteer_path at your own"
            raise DataFileError(msg)
        # The shared reader checks types, geometry and coordinates and converts a declared
        # GCJ-02/BD-09 file to WGS-84; _gazetteer_problems adds what only a gazetteer needs,
        # reported in the same pass.
        roads = io.read_features(path, ROADS, extra_checks=_gazetteer_problems)
        fwd = _crs.lonlat_to_metric_transformer()
        segments: list[_Segment] = []
        records = roads.drop(columns=roads.geometry.name).to_dict("records")
        for i, (props, geom) in enumerate(zip(records, roads.geometry, strict=True)):
            sid = props.get("segment_id")
            road = str(props["road"]).strip()
            sides = {side: None if _blank(props.get(f"{side}_from")) else (int(props[f"{side}_from"]), int(props[f"{side}_to"]))
                     for side in ("left", "right")}
            coords = np.asarray(geom.coords)[:, :2]
            x, y = fwd.transform(coords[:, 0], coords[:, 1])
            segments.append(_Segment(road, str(sid) if not _blank(sid) else f"{road}/{i}", LineString(np.column_stack([x, y])),
                                     sides["left"], sides["right"]))
        return cls(segments, name=path.name, version=str(roads.attrs["metadata"].get("version", "?")))

    def locate(self, parsed: ParsedAddress, *, side_offset_m: float | None = None, sub_setback_m: float | None = None) -> GeocodeResult:
        """Place an address by interpolating its house number along its road.

        The point lies at the fraction ``(n - from) / (to - from)`` of the
        segment whose range on one side holds ``n``, moved ``side_offset_m``
        to that side, plus ``sub_setback_m`` per sub-number (附N号 stand behind
        the street front; for a list 附1、2、3 the mean is used).

        Parameters
        ----------
        parsed
            The parsed address.
        side_offset_m, sub_setback_m
            Metres; defaults from :mod:`geo.settings`.

        Returns
        -------
        GeocodeResult
            ``interpolated`` when a range holds the number, ``road`` (middle of
            the road) when the road is known but no range holds it, ``failed``
            when the road is not in the gazetteer.
        """
        if side_offset_m is None:
            side_offset_m = settings.geocode_side_offset_m
        if sub_setback_m is None:
            sub_setback_m = settings.geocode_sub_setback_m
        segs = self.by_road.get(parsed.road)
        if not segs:
            known = "、".join(sorted(self.by_road))
            return _failed(
                self.source,
                f"road {parsed.road!r} is not in the gazetteer {self.name} (it has {known}); add the road there or the point to the overrides file",
                parsed,
            )
        for seg in segs:
            side = seg.side_for(parsed.number)
            if side is None:
                continue
            lo, hi = getattr(seg, side)
            t = 0.5 if lo == hi else (parsed.number - lo) / (hi - lo)
            sub_k = float(np.mean(parsed.sub_numbers)) if parsed.sub_numbers else 0.0
            offset = side_offset_m + sub_setback_m * sub_k
            x, y = _offset_point(seg.line_m, t, offset, left=(side == "left"))
            lon, lat = self._to_lonlat.transform(x, y)
            sub = f"; 附{parsed.sub_number}号 set back {sub_setback_m * sub_k:g} m behind the street front" if parsed.sub_numbers else ""
            note = (
                f"interpolated between numbers {lo} and {hi} on the {side} side of segment {seg.segment_id}, "
                f"{side_offset_m:g} m from the centreline{sub}; road position approximate, not surveyed"
            )
            return GeocodeResult(float(lon), float(lat), "interpolated", self.source, note=note, **_parts(parsed))
        # Road known, number not in any range: the middle of the road, said plainly.
        ranges = sorted(r for s in segs for r in (s.left, s.right) if r is not None)
        total = sum(s.line_m.length for s in segs)
        half, acc = total / 2.0, 0.0
        for seg in segs:
            if acc + seg.line_m.length >= half:
                pt = seg.line_m.interpolate(half - acc)
                break
            acc += seg.line_m.length
        lon, lat = self._to_lonlat.transform(pt.x, pt.y)
        if ranges:
            span = f"{min(min(r) for r in ranges)}–{max(max(r) for r in ranges)}"
            why = f"number {parsed.number} is outside the numbered ranges of {parsed.road} in the gazetteer ({span})"
        else:
            why = f"{parsed.road} has no house numbers in the gazetteer"
        return GeocodeResult(float(lon), float(lat), "road", self.source, note=f"{why}; placed at the middle of the road", **_parts(parsed))


def _offset_point(line: LineString, t: float, offset_m: float, *, left: bool) -> tuple[float, float]:
    """Point at fraction ``t`` of ``line`` moved ``offset_m`` to its left or right (planar metres)."""
    coords = np.asarray(line.coords)
    seglen = np.hypot(*np.diff(coords, axis=0).T)
    target = t * seglen.sum()
    k = int(np.searchsorted(np.cumsum(seglen), target, side="left"))
    k = min(k, len(seglen) - 1)
    before = seglen[:k].sum()
    (x0, y0), (x1, y1) = coords[k], coords[k + 1]
    f = (target - before) / seglen[k]
    dx, dy = (x1 - x0) / seglen[k], (y1 - y0) / seglen[k]
    nx, ny = (-dy, dx) if left else (dy, -dx)
    return x0 + f * (x1 - x0) + offset_m * nx, y0 + f * (y1 - y0) + offset_m * ny


class OfflineProvider:
    """The default provider: interpolation along the shipped (approximate) gazetteer.

    Parameters
    ----------
    gazetteer
        A :class:`Gazetteer`, a path to one, or None for the default file.
    """

    name = "offline"

    def __init__(self, gazetteer: Gazetteer | str | os.PathLike | None = None):
        self.gazetteer = gazetteer if isinstance(gazetteer, Gazetteer) else _load_gazetteer(gazetteer)

    @property
    def source(self) -> str:
        return self.gazetteer.source

    def geocode(self, parsed: ParsedAddress) -> GeocodeResult:
        """Return the interpolated position of a parsed address."""
        return self.gazetteer.locate(parsed)


_GAZETTEER_CACHE: dict[tuple, Gazetteer] = {}


def _load_gazetteer(path) -> Gazetteer:
    path = Path(path or settings.gazetteer_path or settings.data_path("gazetteer.geojson"))
    try:
        st = path.stat()
    except OSError:
        return Gazetteer.from_file(path)  # raises the proper message
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, settings.metric_crs)
    if key not in _GAZETTEER_CACHE:
        _GAZETTEER_CACHE.clear()
        _GAZETTEER_CACHE[key] = Gazetteer.from_file(path)
    return _GAZETTEER_CACHE[key]


# --- online providers --------------------------------------------------------------------


class GeocodeCache:
    """Answers of online geocoders kept in SQLite, so a batch never asks twice.

    Parameters
    ----------
    path
        SQLite file (created with its folder), or ``":memory:"``; default
        :data:`geo.settings.geocode_cache_path`.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        path = settings.geocode_cache_path if path is None else path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS answers (provider TEXT NOT NULL, query TEXT NOT NULL, response TEXT NOT NULL, "
            "fetched_at TEXT NOT NULL, PRIMARY KEY (provider, query))"
        )
        self._db.commit()

    def get(self, provider: str, query: str) -> str | None:
        """Return the stored response text, or None."""
        row = self._db.execute("SELECT response FROM answers WHERE provider = ? AND query = ?", (provider, query)).fetchone()
        return row[0] if row else None

    def put(self, provider: str, query: str, response: str) -> None:
        """Store a response text (replacing an older one)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", (provider, query, response, stamp))
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()


class _ProviderFailure(Exception):
    """An online provider gave no usable answer; the message says why."""


class _OnlineProvider:
    """Common machinery of the online providers: cache, rate limit, timeout, checks.

    Parameters
    ----------
    key
        The provider's API key.
    session
        Object with ``get(url, params=..., timeout=...)`` returning a response
        with ``status_code`` and ``text`` (a :class:`requests.Session`; tests
        pass a fake). Default: a new ``requests.Session``.
    cache
        A :class:`GeocodeCache`; default one at :data:`geo.settings.geocode_cache_path`.
    timeout_s, min_interval_s
        Defaults from :mod:`geo.settings`.
    sleep, clock
        Injected for tests; default :func:`time.sleep`, :func:`time.monotonic`.
    """

    name = "online"
    url = ""
    datum = "wgs84"

    def __init__(self, key: str, *, session=None, cache: GeocodeCache | None = None, timeout_s: float | None = None,
                 min_interval_s: float | None = None, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        if not key:
            msg = f"the {self.name} provider needs a key: set {KEY_ENV[self.name]} in the environment"
            raise GeocodeError(msg)
        if session is None:
            import requests

            session = requests.Session()
        self.key = key
        self.session = session
        self.cache = cache if cache is not None else GeocodeCache()
        self.timeout_s = settings.geocode_timeout_s if timeout_s is None else timeout_s
        self.min_interval_s = settings.geocode_min_interval_s if min_interval_s is None else min_interval_s
        self._sleep, self._clock = sleep, clock
        self._last: float | None = None
        self.requests_made = 0

    @property
    def source(self) -> str:
        return f"{self.name}:{self.url}"

    def query_text(self, parsed: ParsedAddress) -> str:
        """The address sent to the provider: the full administrative prefix plus road and number."""
        return f"重庆市万州区沙河街道{parsed.canonical}"

    def _params(self, query: str) -> dict:
        raise NotImplementedError

    def _interpret(self, doc) -> tuple[float, float, str, str]:
        """Return (lon, lat, quality, note) in the provider's datum, or raise _ProviderFailure."""
        raise NotImplementedError

    def _fetch(self, query: str) -> str:
        import requests

        if self._last is not None:
            wait = self.min_interval_s - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()
        self.requests_made += 1
        try:
            resp = self.session.get(self.url, params=self._params(query), timeout=self.timeout_s)
        except requests.Timeout as exc:
            raise _ProviderFailure(f"{self.name} did not answer within {self.timeout_s:g} s") from exc
        except requests.RequestException as exc:
            raise _ProviderFailure(f"{self.name} request failed ({type(exc).__name__}: {exc})") from exc
        if resp.status_code != 200:
            raise _ProviderFailure(f"{self.name} answered HTTP {resp.status_code}")
        return resp.text

    def geocode(self, parsed: ParsedAddress) -> GeocodeResult:
        """Ask the provider (or the cache) for an address; never raises on a bad answer."""
        query = self.query_text(parsed)
        text = self.cache.get(self.name, query)
        cached = text is not None
        try:
            if text is None:
                text = self._fetch(query)
            try:
                doc = json.loads(text)
            except ValueError:
                snippet = " ".join(str(text)[:60].split())
                raise _ProviderFailure(f"{self.name} answered something that is not JSON ({snippet!r})") from None
            try:
                lon, lat, quality, note = self._interpret(doc)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise _ProviderFailure(f"{self.name} answered JSON of an unexpected shape ({type(exc).__name__}: {exc})") from None
        except _ProviderFailure as exc:
            return _failed(self.source, str(exc), parsed)
        if not cached:
            # Only well-formed answers of the service are kept (also "no match"), never errors or timeouts.
            self.cache.put(self.name, query, text)
        if quality == "failed":
            return _failed(self.source, note, parsed)
        if not (math.isfinite(lon) and math.isfinite(lat)) or not bool(_crs.in_china(lon, lat)):
            return _failed(self.source, f"{self.name} answered a point outside China ({lon}, {lat})", parsed)
        wlon, wlat = _crs.convert(lon, lat, src=self.datum, dst="wgs84")
        if not _in_extent(wlon, wlat):
            return _failed(
                self.source,
                f"{self.name} answered ({wlon:.6f}, {wlat:.6f}) WGS-84, outside the subdistrict's extent; probably a same-named road elsewhere",
                parsed,
            )
        conv = f"; converted from {self.datum.upper()} to WGS-84" if self.datum != "wgs84" else ""
        return GeocodeResult(float(wlon), float(wlat), quality, self.source, note=note + conv + ("; from cache" if cached else ""), **_parts(parsed))


def _level_quality(level: str) -> str:
    level = str(level or "")
    if any(k in level for k in ("门牌", "门址", "楼栋", "单元", "兴趣点", "POI")):
        return "exact"
    if "道路" in level or level.endswith(("路", "街")):
        return "road"
    return "failed"


class AmapProvider(_OnlineProvider):
    """AMap (Gaode) web geocoding, ``restapi.amap.com/v3/geocode/geo``; answers in GCJ-02.

    The answer is ``{"status": "1", "info": "OK", "geocodes": [{"location": "lng,lat", "level": "门牌号", ...}]}``;
    ``status`` ``"0"`` carries the reason in ``info``/``infocode``.
    """

    name = "amap"
    url = "https://restapi.amap.com/v3/geocode/geo"
    datum = "gcj02"

    def _params(self, query: str) -> dict:
        return {"key": self.key, "address": query, "city": "万州区", "output": "JSON"}

    def _interpret(self, doc) -> tuple[float, float, str, str]:
        if str(doc.get("status")) != "1":
            raise _ProviderFailure(f"amap refused the request: {doc.get('info', '?')} (infocode {doc.get('infocode', '?')})")
        geocodes = doc.get("geocodes") or []
        if not geocodes:
            return math.nan, math.nan, "failed", "amap found no match"
        g = geocodes[0]
        lon_s, lat_s = str(g["location"]).split(",")
        level = g.get("level") or ""
        quality = _level_quality(level)
        if quality == "failed":
            return math.nan, math.nan, "failed", f"amap located the address only to the level {level!r}"
        return float(lon_s), float(lat_s), quality, f"amap level {level!r}: {g.get('formatted_address', '')}"


class TiandituProvider(_OnlineProvider):
    """Tianditu geocoder, ``api.tianditu.gov.cn/geocoder?ds={"keyWord": ...}``; answers in CGCS2000.

    The answer is ``{"status": "0", "msg": "ok", "location": {"lon": ..., "lat": ..., "level": "门址", "score": ...}}``;
    any other status is a refusal with the reason in ``msg``. CGCS2000 is taken as WGS-84.
    """

    name = "tianditu"
    url = "https://api.tianditu.gov.cn/geocoder"
    datum = "wgs84"

    def _params(self, query: str) -> dict:
        return {"ds": json.dumps({"keyWord": query}, ensure_ascii=False), "tk": self.key}

    def _interpret(self, doc) -> tuple[float, float, str, str]:
        if str(doc.get("status")) != "0":
            raise _ProviderFailure(f"tianditu refused the request: status {doc.get('status')!r}, {doc.get('msg', '?')}")
        loc = doc.get("location")
        if not loc:
            return math.nan, math.nan, "failed", "tianditu found no match"
        level = loc.get("level") or ""
        quality = _level_quality(level)
        if quality == "failed":
            return math.nan, math.nan, "failed", f"tianditu located the address only to the level {level!r}"
        return float(loc["lon"]), float(loc["lat"]), quality, f"tianditu level {level!r}, score {loc.get('score', '?')}"


def make_provider(name: str | None = None, *, session=None, cache: GeocodeCache | None = None):
    """Return a provider by name.

    Parameters
    ----------
    name
        ``"offline"``, ``"amap"`` or ``"tianditu"``; default :data:`geo.settings.geocode_provider`.
    session, cache
        Passed to an online provider.

    Raises
    ------
    GeocodeError
        If the name is unknown, or an online provider has no key in the environment.
    """
    name = (name or settings.geocode_provider).strip().lower()
    if name == "offline":
        return OfflineProvider()
    if name in KEY_ENV:
        key = os.environ.get(KEY_ENV[name], "").strip()
        if not key:
            msg = f"the {name} provider needs a key: set {KEY_ENV[name]} in the environment, or use --provider offline"
            raise GeocodeError(msg)
        cls = AmapProvider if name == "amap" else TiandituProvider
        return cls(key, session=session, cache=cache)
    msg = f"unknown geocoding provider {name!r}: use one of {', '.join(PROVIDERS)}"
    raise GeocodeError(msg)


# --- overrides ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Override:
    lon: float
    lat: float
    datum: str
    note: str
    row: int


@dataclass
class Overrides:
    """Surveyed positions that win over every provider.

    Attributes
    ----------
    by_id, by_address
        Good rows keyed by estate id and by canonical address.
    problems
        One message per rejected row (file, row, field, fix).
    rejected
        Keys (estate id or canonical address) of rejected rows -> reason, so the
        affected address's note can say its override was ignored.
    """

    path: Path | None = None
    by_id: dict[str, _Override] = field(default_factory=dict)
    by_address: dict[str, _Override] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)

    def find(self, address: str, estate_id: str | None) -> tuple[_Override | None, str | None]:
        """Return (override, rejection reason) for an address/id."""
        key = address_key(address)
        if estate_id and estate_id in self.by_id:
            return self.by_id[estate_id], None
        if key in self.by_address:
            return self.by_address[key], None
        return None, self.rejected.get(estate_id) or self.rejected.get(key)


def address_key(address: str) -> str:
    """Key that matches one address however it is written (prefix, full-width, spacing)."""
    try:
        return parse_address(address).canonical
    except GeocodeError:
        return normalize_address(address or "")


def load_overrides(path: str | os.PathLike | None = None) -> Overrides:
    """Read the overrides table; a bad row is reported and skipped, never fatal.

    Columns: ``estate_id`` and/or ``address`` (one is needed), ``lon``, ``lat``
    (degrees), ``datum`` (``wgs84``/``cgcs2000`` when empty, ``gcj02``, ``bd09``),
    ``note``. CSV (UTF-8 or GB18030) or XLSX. Lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        Default :data:`geo.settings.geocode_overrides_path`, else ``data/geocode_overrides.csv``.
        A missing file means no overrides.

    Returns
    -------
    Overrides
    """
    path = Path(path or settings.geocode_overrides_path or settings.data_path("geocode_overrides.csv"))
    out = Overrides(path=path)
    if not path.is_file():
        return out
    df = io.read_table(path)
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing or not ({"estate_id", "address"} & set(df.columns)):
        out.problems.append(f"{path}: needs columns estate_id and/or address, lon, lat (datum, note optional); missing {missing or ['estate_id/address']}")
        return out
    for i, rec in enumerate(df.to_dict("records"), start=2):
        where = f"{path.name} row {i}"
        first = rec.get(df.columns[0])
        if isinstance(first, str) and first.lstrip().startswith("#"):
            continue  # a comment line
        get = lambda k, rec=rec: "" if pd.isna(rec.get(k)) else str(rec.get(k)).strip()  # noqa: E731
        eid, addr = get("estate_id"), get("address")
        keys = [k for k in (eid, address_key(addr) if addr else "") if k]
        row_problems = []
        if not keys:
            row_problems.append("field 'estate_id'/'address': both empty; give the estate id (e.g. SH-01) or the address")
        lon = lat = None
        try:
            lon, lat = float(get("lon").translate(_FULLWIDTH)), float(get("lat").translate(_FULLWIDTH))
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise ValueError
        except ValueError:
            row_problems.append(f"fields 'lon'/'lat': {get('lon')!r}, {get('lat')!r} are not numbers of degrees")
        try:
            datum = _crs.normalize_datum(get("datum") or "wgs84")
        except DatumError as exc:
            row_problems.append(f"field 'datum': {exc}")
            datum = None
        if lon is not None and lat is not None and not row_problems:
            if not bool(_crs.in_china(lon, lat)) and bool(_crs.in_china(lat, lon)):
                row_problems.append(f"fields 'lon'/'lat': ({lon}, {lat}) look swapped (latitude first); put longitude in 'lon' and latitude in 'lat'")
            elif not bool(_crs.in_china(lon, lat)):
                row_problems.append(f"fields 'lon'/'lat': ({lon}, {lat}) lie outside China; check the numbers")
            else:
                lon, lat = _crs.convert(lon, lat, src=datum, dst="wgs84")
                if not _in_extent(lon, lat):
                    row_problems.append(f"fields 'lon'/'lat': ({lon:.6f}, {lat:.6f}) WGS-84 lie outside the subdistrict's extent; check the numbers and the datum")
        if row_problems:
            reason = f"{where}: " + "; ".join(row_problems)
            out.problems.append(reason)
            for k in keys:
                out.rejected[k] = reason
            continue
        ov = _Override(float(lon), float(lat), datum, get("note"), i)
        if eid:
            out.by_id[eid] = ov
        if addr:
            out.by_address[address_key(addr)] = ov
    return out


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


# --- the geocoder -------------------------------------------------------------------------


class Geocoder:
    """Overrides first, then one provider; keeps both loaded for a batch.

    Parameters
    ----------
    provider
        A provider name (see :func:`make_provider`) or object with
        ``geocode(parsed) -> GeocodeResult`` and ``source``; default
        :data:`geo.settings.geocode_provider`.
    overrides
        An :class:`Overrides`, a path, or None for the default file.
    """

    def __init__(self, provider=None, *, overrides: Overrides | str | os.PathLike | None = None):
        self.provider = make_provider(provider) if provider is None or isinstance(provider, str) else provider
        self.overrides = overrides if isinstance(overrides, Overrides) else load_overrides(overrides)
        self._memo: dict[str, GeocodeResult] = {}

    @property
    def problems(self) -> list[str]:
        """Rejected override rows, one message each."""
        return list(self.overrides.problems)

    def geocode(self, address: str, *, estate_id: str | None = None, strict: bool = False) -> GeocodeResult:
        """Geocode one address; see :func:`geocode_address`."""
        address = "" if address is None or (isinstance(address, float) and math.isnan(address)) else str(address)
        ov, rejected = self.overrides.find(address, estate_id)
        try:
            parsed = parse_address(address)
        except GeocodeError as exc:
            if ov is None:
                if strict:
                    raise
                return _failed("parser", str(exc), address=address, estate_id=estate_id)
            parsed = None
        if ov is not None:
            conv = f", converted from {ov.datum.upper()}" if ov.datum != "wgs84" else ""
            note = f"surveyed position from {self.overrides.path.name} row {ov.row}{conv}" + (f": {ov.note}" if ov.note else "")
            return GeocodeResult(ov.lon, ov.lat, "surveyed", f"override:{self.overrides.path.name}", note=note, address=address,
                                 estate_id=estate_id, **_parts(parsed))
        reason = outside_reason(parsed)
        if reason:
            if strict:
                raise GeocodeError(f"address {address!r}: {reason}")
            return _failed("parser", f"{reason}; this tool geocodes Shahe addresses only", parsed, address=address, estate_id=estate_id)
        key = parsed.canonical
        if key not in self._memo:
            self._memo[key] = self.provider.geocode(parsed)
        result = replace(self._memo[key], address=address, estate_id=estate_id)
        if rejected:
            result = replace(result, note=f"{result.note}; override ignored: {rejected}")
        if strict and not result.ok:
            raise GeocodeError(f"address {address!r}: {result.note}")
        return result

    def geocode_many(self, addresses: Iterable[str], *, ids: Iterable[str | None] | None = None, progress: bool = False) -> list[GeocodeResult]:
        """Geocode a batch; a bad address gives a failed result and the batch goes on."""
        addresses = list(addresses)
        ids = [None] * len(addresses) if ids is None else list(ids)
        if len(ids) != len(addresses):
            msg = f"ids has {len(ids)} items but addresses has {len(addresses)}; give one id per address"
            raise ValueError(msg)
        from tqdm import tqdm

        results = []
        for addr, eid in tqdm(list(zip(addresses, ids, strict=True)), desc="geocoding", unit="address", disable=not progress, file=sys.stderr):
            try:
                results.append(self.geocode(addr, estate_id=eid))
            except GeoError as exc:  # a broken provider file etc. is reported on the row, not raised
                results.append(_failed(getattr(self.provider, "source", "?"), str(exc), address=str(addr), estate_id=eid))
        return results


def geocode_address(address: str, *, provider=None, estate_id: str | None = None, strict: bool = False) -> GeocodeResult:
    """Geocode one address: overrides first, then the provider.

    Parameters
    ----------
    address
        A Shahe address, e.g. ``"凤仙路457号附1号"`` (prefix, full-width digits and spaces allowed).
    provider
        ``"offline"`` (default, :data:`geo.settings.geocode_provider`), ``"amap"``,
        ``"tianditu"``, or a provider object.
    estate_id
        Id of the estate, to find an override by id.
    strict
        Raise :class:`~geo.errors.GeocodeError` instead of returning a failed result.

    Returns
    -------
    GeocodeResult
        WGS-84 lon/lat (None when failed), quality, source, parsed parts and a note.

    Raises
    ------
    GeocodeError
        For a configuration problem (unknown provider, missing key, broken
        gazetteer), or any failure when ``strict``.
    """
    return Geocoder(provider).geocode(address, estate_id=estate_id, strict=strict)


def geocode_many(addresses: Iterable[str], *, provider=None, ids: Iterable[str | None] | None = None, progress: bool = False,
                 on_problem: Callable[[str], None] | None = None) -> list[GeocodeResult]:
    """Geocode many addresses with one provider; never raises on a single address.

    Parameters
    ----------
    addresses
        Addresses.
    provider
        As in :func:`geocode_address`.
    ids
        Estate ids, one per address (or None), for overrides by id.
    progress
        Show a progress bar (tqdm) on standard error.
    on_problem
        Called with each rejected override row's message (default: ignored;
        the affected rows' notes say so too).

    Returns
    -------
    list of GeocodeResult
        One per address, in order.
    """
    geocoder = Geocoder(provider)
    for p in geocoder.problems:
        if on_problem is not None:
            on_problem(p)
    return geocoder.geocode_many(addresses, ids=ids, progress=progress)


# --- estates ---------------------------------------------------------------------------------

_INT_FIELDS = ("seq", "batch_year", "buildings", "units")


def build_estates(ledger_path: str | os.PathLike | None = None, out_path: str | os.PathLike | None = None, *, provider=None,
                  progress: bool = False, on_problem: Callable[[str], None] | None = None) -> gpd.GeoDataFrame:
    """Geocode the ledger into the estates layer.

    Every ledger field is kept; the geocode fields of :data:`geo.schemas.ESTATES`
    are added; ``synthetic`` is true for every position that is not surveyed.

    Parameters
    ----------
    ledger_path
        Default ``data/ledger.csv``.
    out_path
        GeoJSON to write (atomically), then read back with
        :func:`geo.io.read_estates` to check it; None writes nothing.
    provider
        As in :func:`geocode_address`.
    progress
        Show a progress bar.
    on_problem
        Called with each rejected override row's message.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per ledger row, WGS-84 (EPSG:4326).

    Raises
    ------
    GeocodeError
        After the whole batch, when any row failed (each listed with its
        reason); nothing is written then.
    """
    ledger_path = Path(ledger_path or settings.data_path("ledger.csv"))
    df = io.read_table(ledger_path)
    for col in ("estate_id", "address"):
        if col not in df.columns:
            msg = f"{ledger_path}: no '{col}' column; the ledger needs estate_id and address"
            raise DataFileError(msg)
    results = geocode_many(df["address"].tolist(), provider=provider, ids=df["estate_id"].tolist(), progress=progress, on_problem=on_problem)
    failed = [f"row {i} ({r.estate_id}, {r.address}): {r.note}" for i, r in enumerate(results, start=2) if not r.ok]
    if failed:
        msg = f"{ledger_path}: {len(failed)} of {len(results)} addresses could not be placed; add them to the overrides file or fix the gazetteer"
        msg += "\n" + "\n".join(f"  - {f}" for f in failed)
        raise GeocodeError(msg)
    known = set(ESTATES.field_index)
    props: dict[str, list] = {}
    for col in df.columns:
        name = col if col in known else f"x_{col}"
        values = df[col].tolist()
        if col in _INT_FIELDS:
            values = [None if pd.isna(v) else int(str(v).strip()) for v in values]
        else:
            values = [None if pd.isna(v) or not str(v).strip() else str(v) for v in values]
        props[name] = values
    props["geocode_quality"] = [r.quality for r in results]
    props["geocode_source"] = [r.source for r in results]
    props["geocode_road"] = [r.road for r in results]
    props["geocode_number"] = [r.number for r in results]
    props["geocode_sub_number"] = [r.sub_number for r in results]
    props["geocode_note"] = [r.note for r in results]
    props["synthetic"] = [r.quality != "surveyed" for r in results]
    frame = pd.DataFrame(props)
    for col in _INT_FIELDS:
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    gdf = gpd.GeoDataFrame(frame, geometry=[Point(r.lon, r.lat) for r in results], crs=settings.storage_crs)
    if out_path is not None:
        io.write_geojson(gdf, out_path, metadata={"synthetic": any(props["synthetic"]), "note": APPROXIMATE_NOTE})
        io.read_estates(out_path)
    return gdf


def quality_summary(results: Iterable[GeocodeResult]) -> dict[str, int]:
    """Count results per quality, in the order of :data:`geo.schemas.GEOCODE_QUALITIES`."""
    counts = Counter(r.quality for r in results)
    return {q: counts.get(q, 0) for q in GEOCODE_QUALITIES}
