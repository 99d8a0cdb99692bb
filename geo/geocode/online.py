"""Online geocoders (AMap, Tianditu), used only with a key: cached, rate-limited, with a timeout.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from geo import crs as _crs
from geo import settings
from geo.errors import GeocodeError
from geo.geocode.address import ParsedAddress
from geo.geocode.gazetteer import OfflineProvider
from geo.geocode.result import KEY_ENV, PROVIDERS, GeocodeResult, address_parts, failed_result, in_extent

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
            return failed_result(self.source, str(exc), parsed)
        if not cached:
            # Only well-formed answers of the service are kept (also "no match"), never errors or timeouts.
            self.cache.put(self.name, query, text)
        if quality == "failed":
            return failed_result(self.source, note, parsed)
        if not (math.isfinite(lon) and math.isfinite(lat)) or not bool(_crs.in_china(lon, lat)):
            return failed_result(self.source, f"{self.name} answered a point outside China ({lon}, {lat})", parsed)
        wlon, wlat = _crs.convert(lon, lat, src=self.datum, dst="wgs84")
        if not in_extent(wlon, wlat):
            return failed_result(
                self.source,
                f"{self.name} answered ({wlon:.6f}, {wlat:.6f}) WGS-84, outside the subdistrict's extent; probably a same-named road elsewhere",
                parsed,
            )
        conv = f"; converted from {self.datum.upper()} to WGS-84" if self.datum != "wgs84" else ""
        return GeocodeResult(float(wlon), float(wlat), quality, self.source, note=note + conv + ("; from cache" if cached else ""), **address_parts(parsed))


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
