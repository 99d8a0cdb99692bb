"""Make folium maps work with no internet: local scripts, styles and fonts.

folium points every ``<script>`` and stylesheet at public CDNs. At install time
``scripts/vendor_assets.py`` copies each of those files from the npm registry
(or from folium's own wheel) into :data:`VENDOR_DIR` and writes a manifest that
maps each CDN URL to its local file. This module rewrites a map to use them:

* ``mode="inline"``: every script and stylesheet becomes a ``data:`` URI inside
  the page, and the fonts and images a stylesheet references become ``data:``
  URIs inside it. The page is one self-contained file that opens from disk,
  and the same map passed to ``streamlit_folium.st_folium`` loads without any
  server configuration (the component loads ``default_js`` with ``<script src>``).
* ``mode="url"``: links point at ``base_url`` + the file's path under
  :data:`VENDOR_DIR`, e.g. ``/app/static/vendor/`` when Streamlit serves
  ``./static`` (a link to ``geo/static`` made by the vendor script).

:func:`find_remote_urls` lists every non-local http(s) URL left in a page; the
exporter refuses to write a map that would need the internet.
"""

from __future__ import annotations

import base64
import functools
import importlib
import ipaddress
import json
import mimetypes
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from geo.errors import DataFileError

#: Folder of the vendored files (ignored by git; filled by scripts/vendor_assets.py).
VENDOR_DIR: Path = Path(__file__).resolve().parents[1] / "static" / "vendor"

#: Name of the manifest inside :data:`VENDOR_DIR`.
MANIFEST_NAME = "manifest.json"

#: folium elements whose scripts and styles are vendored: the map itself and the
#: plugins this project uses. Their CDN URLs are read from the installed folium.
VENDORED_ELEMENTS: tuple[str, ...] = (
    "folium.Map",
    "folium.plugins.HeatMap",
    "folium.plugins.Draw",
    "folium.plugins.MarkerCluster",
    "folium.plugins.Fullscreen",
    "folium.plugins.MeasureControl",
)

#: Hosts that are this machine.
LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1", "0.0.0.0"})

MODES = ("inline", "url")

_FETCH_HINT = "run `.venv/bin/python scripts/vendor_assets.py` (it runs in `./run setup`)"


class OfflineAssetError(DataFileError):
    """A script or style a map needs has no local copy, or a page would load something from the internet.

    ``remote_urls`` lists the URLs found by :func:`render_offline_html` (empty otherwise).
    """

    remote_urls: tuple[str, ...] = ()


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def asset_urls(elements: tuple[str, ...] | None = None) -> dict[str, str]:
    """Return every CDN URL the given folium elements load, read from the installed folium.

    Parameters
    ----------
    elements
        Dotted class names; default :data:`VENDORED_ELEMENTS`.

    Returns
    -------
    dict
        ``{url: "js" | "css"}`` in a stable order.
    """
    urls: dict[str, str] = {}
    for dotted in elements or VENDORED_ELEMENTS:
        cls = _resolve(dotted)
        for _, url in getattr(cls, "default_js", []):
            urls.setdefault(url, "js")
        for _, url in getattr(cls, "default_css", []):
            urls.setdefault(url, "css")
    return urls


def load_manifest(vendor_dir: str | Path | None = None) -> dict:
    """Return the vendor manifest: ``{"assets": {cdn_url: {"path": ..., "type": ...}}, ...}``.

    Raises
    ------
    OfflineAssetError
        If the vendored files have not been fetched.
    """
    vendor = Path(vendor_dir) if vendor_dir is not None else VENDOR_DIR
    path = vendor / MANIFEST_NAME
    try:
        return _load_manifest_cached(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        msg = f"{path}: no vendored map assets, so maps would need the internet; {_FETCH_HINT}"
        raise OfflineAssetError(msg) from None


@functools.lru_cache(maxsize=4)
def _load_manifest_cached(path: str, _mtime_ns: int) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localize_map(m, *, mode: str = "inline", base_url: str | None = None, vendor_dir: str | Path | None = None):
    """Point every script and stylesheet of a folium map (and its plugins) at local copies.

    Parameters
    ----------
    m
        A :class:`folium.Map` (or any branca element); changed in place.
    mode
        ``"inline"``: embed files as ``data:`` URIs (self-contained page, works
        from disk and in ``st_folium`` with no server setup). ``"url"``: link to
        ``base_url`` + the file's path under the vendor folder.
    base_url
        Prefix of the links in ``"url"`` mode, e.g. ``"/app/static/vendor/"``
        (Streamlit static serving) or ``"vendor/"`` next to an exported page.
    vendor_dir
        Folder of the vendored files; default :data:`VENDOR_DIR`.

    Returns
    -------
    The same map, for chaining.

    Raises
    ------
    OfflineAssetError
        Listing every URL of the map that has no local copy.
    ValueError
        On an unknown mode, or ``"url"`` mode without ``base_url``.
    """
    if mode not in MODES:
        msg = f"unknown mode {mode!r}: use one of {', '.join(MODES)}"
        raise ValueError(msg)
    if mode == "url" and not base_url:
        msg = "mode='url' needs base_url, e.g. '/app/static/vendor/' for Streamlit's static serving"
        raise ValueError(msg)
    vendor = Path(vendor_dir) if vendor_dir is not None else VENDOR_DIR
    assets = load_manifest(vendor).get("assets", {})
    missing: dict[str, str] = {}

    def local(url: str, owner) -> str:
        if is_local_url(url):
            return url
        entry = assets.get(url)
        if entry is None:
            missing.setdefault(url, type(owner).__name__)
            return url
        if mode == "url":
            return base_url.rstrip("/") + "/" + entry["path"]
        return data_uri(vendor / entry["path"])

    from branca.element import CssLink, JavascriptLink

    root = m.get_root() if hasattr(m, "get_root") else m
    elements = list(_walk(m))
    if root is not m:
        elements += list(_walk(root))
    for el in elements:
        # Instance attributes: folium's lists are class attributes shared by every map.
        if getattr(el, "default_js", None):
            el.default_js = [(name, local(url, el)) for name, url in el.default_js]
        if getattr(el, "default_css", None):
            el.default_css = [(name, local(url, el)) for name, url in el.default_css]
        if isinstance(el, (JavascriptLink, CssLink)):
            el.url = local(el.url, el)
    if missing:
        lines = [f"  - {url} (from {owner})" for url, owner in sorted(missing.items())]
        msg = (
            f"{len(missing)} script/style URL(s) of this map have no local copy, so it would need the internet:\n"
            + "\n".join(lines)
            + f"\nIf the element is new, add it to geo.offline.VENDORED_ELEMENTS and {_FETCH_HINT}."
        )
        raise OfflineAssetError(msg)
    return m


def render_html(m, *, mode: str = "inline", base_url: str | None = None, vendor_dir: str | Path | None = None) -> str:
    """Localize a map (see :func:`localize_map`) and return its full HTML page."""
    localize_map(m, mode=mode, base_url=base_url, vendor_dir=vendor_dir)
    return m.get_root().render()


# --- data: URIs ---------------------------------------------------------------------

_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_FONT_SRC = re.compile(r"(src\s*:)([^;}]*)")
_MIME = {".js": "text/javascript", ".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
         ".eot": "application/vnd.ms-fontobject", ".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif"}


def _mime(path: Path) -> str:
    return _MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def data_uri(path: str | Path) -> str:
    """Return a file as a base64 ``data:`` URI; a stylesheet gets its own references inlined first."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        msg = f"{path}: vendored file missing; {_FETCH_HINT}"
        raise OfflineAssetError(msg) from None
    return _data_uri_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _data_uri_cached(path_s: str, _mtime_ns: int, _size: int) -> str:
    path = Path(path_s)
    if path.suffix.lower() == ".css":
        data = inline_css(path.read_text(encoding="utf-8"), path.parent).encode("utf-8")
    else:
        data = path.read_bytes()
    return f"data:{_mime(path)};base64,{base64.b64encode(data).decode('ascii')}"


def _keep_woff2_only(css: str) -> str:
    """In @font-face ``src`` lists that offer WOFF2, drop the other formats (every current browser reads WOFF2)."""

    def fix(match: re.Match) -> str:
        prefix, value = match.groups()
        parts = re.split(r",(?![^(]*\))", value)
        woff2 = [p for p in parts if ".woff2" in p]
        return prefix + ",".join(woff2) if woff2 and len(woff2) < len(parts) else match.group(0)

    return _FONT_SRC.sub(fix, css)


def inline_css(css: str, folder: Path) -> str:
    """Replace each relative ``url(...)`` of a stylesheet by a ``data:`` URI of the file it names.

    References to files that do not exist are left as they are (a browser
    ignores them); remote references are left for :func:`find_remote_urls`.
    """
    css = _keep_woff2_only(css)

    def fix(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "http:", "https:", "//", "#", "about:")):
            return match.group(0)
        clean = ref.split("#", 1)[0].split("?", 1)[0]
        target = (folder / posixpath.normpath(clean)).resolve()
        if not clean or not target.is_file():
            return match.group(0)
        return f'url("{data_uri(target)}")'

    return _CSS_URL.sub(fix, css)


# --- checking a page --------------------------------------------------------------

#: Attributes through which an element makes the browser load something (``<a href>`` is only a link).
_LOADING_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",),
    "embed": ("src",), "source": ("src", "srcset"), "track": ("src",), "audio": ("src",), "video": ("src", "poster"),
    "object": ("data",), "input": ("src",), "image": ("href", "xlink:href"), "use": ("href", "xlink:href"),
}
_CSS_LOAD = re.compile(r"""(?i)url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""")
# In inline scripts: a URL string passed as the first argument of a call, e.g. L.tileLayer("https://...").
_JS_CALL_URL = re.compile(r"""\(\s*(["'`])((?:https?:|wss?:|ftp:)?//[^"'`\s]+)\1""", re.I)


class _LoadFinder(HTMLParser):
    """Collects what a page loads: element sources, CSS ``url()``, URL arguments of script calls."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in _LOADING_ATTRS.get(tag, ()):
                parts = [c.strip().split()[0] for c in value.split(",") if c.strip()] if name == "srcset" else [value]
                self.urls.extend(parts)
            elif name == "style":
                self._css(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self._css(data)
        elif self._in == "script":
            self.urls.extend(m.group(2) for m in _JS_CALL_URL.finditer(data))
            inner = _LoadFinder()  # elements written as HTML inside the script's strings (popup templates)
            inner.feed(data)
            inner.close()
            self.urls.extend(inner.urls)

    def _css(self, css: str) -> None:
        self.urls.extend(m.group(1) or m.group(2) for m in _CSS_LOAD.finditer(css))


def _host(url: str) -> str:
    try:
        return (urlsplit(url if "://" in url else "http:" + url).hostname or "").lower()
    except ValueError:
        return ""


def is_local_url(url: str) -> bool:
    """True for URLs that never leave this machine: relative paths, ``data:``, ``blob:``, ``file:`` and loopback hosts."""
    u = url.strip()
    low = u.lower()
    if low.startswith(("data:", "blob:", "file:", "about:", "javascript:", "#")):
        return True
    if "://" not in u and not u.startswith("//"):
        return True
    host = _host(u)
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_remote_urls(html: str, *, allow_hosts: tuple[str, ...] | list[str] = ()) -> list[str]:
    """List every URL in a page that points at another machine.

    Looks at what the page loads, not at its text: the sources of elements
    (``script src``, ``link href``, ``img src``/``srcset``, ``iframe``,
    ``video``, ...), CSS ``url()`` and ``@import`` in ``<style>`` and ``style``
    attributes, URL arguments of calls in inline scripts (``L.tileLayer("https://...")``)
    and elements written as HTML inside inline scripts (popup templates). A URL
    in escaped popup text or in a link (``<a href>``) is not loaded and not
    reported. Loopback hosts are not reported; files embedded as base64
    ``data:`` URIs are not decoded.

    Parameters
    ----------
    html
        The page.
    allow_hosts
        Host names to accept (e.g. the tile servers of an online basemap the
        user chose explicitly); ``"*.example.org"`` matches subdomains.

    Returns
    -------
    list of str
        Unique URLs in order of first appearance; empty when the page is offline-safe.
    """
    allowed = [h.lower() for h in allow_hosts]

    def ok(host: str) -> bool:
        return any(host == a or (a.startswith("*.") and host.endswith(a[1:])) for a in allowed)

    finder = _LoadFinder()
    finder.feed(html)
    finder.close()
    found: dict[str, None] = {}
    for url in finder.urls:
        url = url.strip()
        if is_local_url(url) or ok(_host(url)):
            continue
        found.setdefault(url, None)
    return list(found)


def render_offline_html(m, *, allow_hosts: tuple[str, ...] | list[str] = (), vendor_dir: str | Path | None = None) -> str:
    """Render a map with every asset inline and return its page, refusing a page that needs the internet.

    Parameters
    ----------
    m
        A folium map (e.g. from :func:`geo.mapview.build_map`).
    allow_hosts
        Hosts the page may load from (the tile servers of an online basemap
        the user chose); see :func:`find_remote_urls`.
    vendor_dir
        Folder of the vendored assets; default :data:`VENDOR_DIR`.

    Returns
    -------
    str
        The full HTML page.

    Raises
    ------
    OfflineAssetError
        If an asset has no local copy, or the page would still load a URL from
        another host; the error's ``remote_urls`` lists every such URL.
    """
    page = render_html(m, mode="inline", vendor_dir=vendor_dir)
    remote = find_remote_urls(page, allow_hosts=allow_hosts)
    if remote:
        listed = "\n".join(f"  - {u}" for u in remote[:20])
        more = f"\n  ... and {len(remote) - 20} more" if len(remote) > 20 else ""
        msg = f"the map would load {len(remote)} URL(s) from the internet:\n{listed}{more}"
        err = OfflineAssetError(msg)
        err.remote_urls = tuple(remote)
        raise err
    return page
