"""Fetch, at install time, every script and style our folium maps load, so maps work offline.

folium writes ``<script src>`` and ``<link href>`` tags that point at public CDNs
(jsdelivr, cdnjs, code.jquery.com...). On a closed network those requests fail
and the map is blank. This script:

1. enumerates the CDN URLs of :data:`geo.offline.VENDORED_ELEMENTS` from the
   *installed* folium (``default_js`` / ``default_css`` of the map and of each
   plugin we use), so a folium upgrade cannot slip a new URL past us;
2. maps each URL to a file of a package from the npm registry (tarball checked
   against the registry's sha512 integrity) or of an installed PyPI package,
   and fails listing every URL that has no source;
3. extracts those files, plus every file their CSS ``url(...)`` references
   (fonts, images), into ``geo/static/vendor/`` and writes ``manifest.json``
   mapping each CDN URL to its local file;
4. makes the files reachable by Streamlit's static serving (``./static`` is
   served at ``/app/static/``): creates the symlink ``static -> geo/static``
   when ``static`` does not exist (or copies into ``static/vendor`` when
   ``static`` is a real folder).

Nothing fetched is committed: ``geo/static/vendor/`` is ignored by git. A second
run with nothing to do is quick and, with ``--quiet``, prints nothing.

Usage::

    python scripts/vendor_assets.py [--quiet] [--force] [--check] [--no-static-link]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import io
import json
import os
import posixpath
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo.maps import offline  # noqa: E402

#: Bump when the rules below change, so an old manifest is rebuilt.
RULES_VERSION = 3

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
TIMEOUT_S = 60


@dataclass(frozen=True)
class Source:
    """Where the local copy of one CDN URL comes from."""

    kind: str  # "npm", "pypi" or "generated"
    package: str  # npm name, Python distribution/module, or generator name
    version: str
    paths: tuple[str, ...]  # candidate paths inside the package, first found wins

    @property
    def folder(self) -> str:
        """Folder name under the vendor dir (no '@' or '/', safe in URLs)."""
        name = self.package.lstrip("@").replace("/", "-")
        return f"{name}-{self.version}" if self.version else name


# CDN URLs that do not name an npm package directly: URL -> (npm package, version, path).
_EXPLICIT_NPM: dict[str, tuple[str, str, str]] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "3.7.1", "dist/jquery.min.js"),
    # Leaflet.awesome-markers 2.0.2 is published on npm as a straight repackaging.
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "drmonty-leaflet-awesome-markers", "2.0.2", "js/leaflet.awesome-markers.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "drmonty-leaflet-awesome-markers", "2.0.2", "css/leaflet.awesome-markers.css"),
    # Bootstrap 3.0.0's separate glyphicons sheet is not on npm; this package holds the
    # Bootstrap 3 glyphicon rules and fonts only (Icon(prefix="glyphicon") needs them).
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "glyphicons-only-bootstrap", "1.0.1", "css/bootstrap.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": ("leaflet-draw", "1.0.2", "dist/leaflet.draw.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": ("leaflet-draw", "1.0.2", "dist/leaflet.draw.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster", "1.1.0", "dist/leaflet.markercluster.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster", "1.1.0", "dist/MarkerCluster.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster", "1.1.0", "dist/MarkerCluster.Default.css"),
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": (
        "leaflet-measure", "2.1.7", "dist/leaflet-measure.min.js"),
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": (
        "leaflet-measure", "2.1.7", "dist/leaflet-measure.css"),
}

# Files folium itself ships in its wheel (from PyPI): URL -> path inside the folium package.
_FOLIUM_FILES: dict[str, str] = {
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": "templates/leaflet_heat.min.js",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_hm.min.js": "templates/pa7_hm.min.js",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_leaflet_hm.min.js": "templates/pa7_leaflet_hm.min.js",
}

# Small stylesheets we generate ourselves: URL -> generator name.
_GENERATED: dict[str, str] = {
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": "awesome-rotate",
}

_JSDELIVR_NPM = re.compile(r"^https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)$")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def source_for(url: str) -> Source | None:
    """Return the local source of a CDN URL, or None when there is no rule for it."""
    if url in _EXPLICIT_NPM:
        name, version, path = _EXPLICIT_NPM[url]
        return Source("npm", name, version, (path,))
    if url in _FOLIUM_FILES:
        import folium

        return Source("pypi", "folium", folium.__version__, (_FOLIUM_FILES[url],))
    if url in _GENERATED:
        return Source("generated", _GENERATED[url], "", ("style.css",))
    m = _JSDELIVR_NPM.match(url)
    if m:
        name, version, path = m.groups()
        paths = [path]
        # Some packages ship no minified file at the path the CDN minifies on the fly.
        for ext in (".js", ".css"):
            if path.endswith(".min" + ext):
                paths.append(path[: -len(".min" + ext)] + ext)
        return Source("npm", name, version, tuple(paths))
    return None


def _generate(name: str) -> bytes:
    if name == "awesome-rotate":
        # Icon(angle=N) adds the class fa-rotate-N to the marker's icon.
        rules = [f".fa-rotate-{d}{{transform:rotate({d}deg);}}" for d in range(360)]
        return ("\n".join(rules) + "\n").encode()
    msg = f"no generator named {name!r}"
    raise KeyError(msg)


# --- the npm registry ---------------------------------------------------------------


def registry_url() -> str:
    """Return the npm registry to use: $NPM_CONFIG_REGISTRY, else the public one."""
    reg = os.environ.get("NPM_CONFIG_REGISTRY") or os.environ.get("npm_config_registry") or DEFAULT_REGISTRY
    return reg if reg.endswith("/") else reg + "/"


def _get(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json, application/octet-stream", "User-Agent": "shahe-vendor-assets"})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
        return resp.read()


def fetch_npm_tarball(name: str, version: str) -> tuple[bytes, dict]:
    """Download ``name@version`` from the npm registry and check its integrity.

    Returns
    -------
    tuple
        The tarball bytes and ``{"tarball": url, "integrity": "sha512-..."}``.
    """
    meta_url = registry_url() + urllib.parse.quote(name, safe="@") + "/" + urllib.parse.quote(version)
    meta = json.loads(_get(meta_url))
    dist = meta.get("dist") or {}
    tar_url = dist.get("tarball")
    if not tar_url:
        msg = f"npm registry gave no tarball for {name}@{version} ({meta_url})"
        raise RuntimeError(msg)
    data = _get(tar_url)
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        want = base64.b64decode(integrity[len("sha512-"):])
        if hashlib.sha512(data).digest() != want:
            msg = f"{name}@{version}: tarball does not match the registry's sha512 integrity; refusing it"
            raise RuntimeError(msg)
    elif dist.get("shasum"):
        if hashlib.sha1(data).hexdigest() != dist["shasum"]:  # the registry's own (legacy) checksum
            msg = f"{name}@{version}: tarball does not match the registry's shasum; refusing it"
            raise RuntimeError(msg)
    return data, {"tarball": tar_url, "integrity": integrity or dist.get("shasum", "")}


class _Package:
    """Read files of one package (npm tarball, installed Python package or generator)."""

    def __init__(self, source: Source):
        self.source = source
        self.info: dict = {"source": f"{source.kind}:{source.package}" + (f"@{source.version}" if source.version else "")}
        self._files: dict[str, bytes] = {}
        if source.kind == "npm":
            data, meta = fetch_npm_tarball(source.package, source.version)
            self.info.update(meta)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        # npm tarballs hold one top folder, usually "package/".
                        rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
                        fh = tar.extractfile(member)
                        if fh is not None:
                            self._files[rel] = fh.read()
        elif source.kind == "pypi":
            mod = importlib.import_module(source.package)
            self._root = Path(mod.__file__).resolve().parent
        self._generated = _generate(source.package) if source.kind == "generated" else None

    def read(self, path: str) -> bytes | None:
        if self.source.kind == "npm":
            return self._files.get(path)
        if self.source.kind == "pypi":
            p = (self._root / path).resolve()
            return p.read_bytes() if p.is_file() and self._root in p.parents else None
        return self._generated if path == "style.css" else None


def _css_references(css: str, css_path: str) -> list[str]:
    """Relative files a stylesheet references with url(...), resolved against its path."""
    refs = []
    for _, ref in _CSS_URL.findall(css):
        ref = ref.strip()
        if ref.startswith(("data:", "http:", "https:", "//", "#", "about:")):
            continue
        ref = ref.split("#", 1)[0].split("?", 1)[0]
        if ref:
            refs.append(posixpath.normpath(posixpath.join(posixpath.dirname(css_path), ref)))
    return refs


def required_urls() -> dict[str, str]:
    """Every CDN URL the vendored folium elements reference: url -> "js" or "css"."""
    return offline.asset_urls()


def build(dest: Path, *, log) -> dict:
    """Fetch and extract every asset into ``dest`` (a fresh folder); return the manifest."""
    urls = required_urls()
    sources = {u: source_for(u) for u in urls}
    missing = sorted(u for u, s in sources.items() if s is None)
    if missing:
        msg = "no local source for these CDN URLs of the installed folium; add a rule to scripts/vendor_assets.py:\n" + "\n".join(
            f"  - {u}" for u in missing
        )
        raise SystemExit(msg)
    packages: dict[Source, _Package] = {}
    manifest = {"format": 1, "rules_version": RULES_VERSION, "folium": _folium_version(), "assets": {}, "packages": {}}
    problems = []
    for url, src in sorted(sources.items()):
        key = Source(src.kind, src.package, src.version, ())
        if key not in packages:
            log(f"fetching {src.kind} {src.package}{'@' + src.version if src.version else ''}")
            packages[key] = _Package(src)
            manifest["packages"][src.folder] = packages[key].info
        pkg = packages[key]
        chosen = next((p for p in src.paths if pkg.read(p) is not None), None)
        if chosen is None:
            problems.append(f"{url}: none of {', '.join(src.paths)} found in {src.kind}:{src.package}@{src.version}")
            continue
        todo = [chosen]
        done: set[str] = set()
        while todo:
            path = todo.pop()
            if path in done:
                continue
            done.add(path)
            data = pkg.read(path)
            if data is None:
                log(f"note: {src.package}: {path} is referenced by a stylesheet but not in the package; skipped")
                continue
            target = dest / src.folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if path.endswith(".css"):
                todo.extend(_css_references(data.decode("utf-8", "replace"), path))
        manifest["assets"][url] = {"path": f"{src.folder}/{chosen}", "type": urls[url]}
    if problems:
        raise SystemExit("cannot vendor every asset:\n" + "\n".join(f"  - {p}" for p in problems))
    (dest / offline.MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def _folium_version() -> str:
    import folium

    return folium.__version__


def is_up_to_date(vendor: Path) -> bool:
    """True when the manifest covers every required URL and every file exists."""
    try:
        manifest = json.loads((vendor / offline.MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("rules_version") != RULES_VERSION or manifest.get("folium") != _folium_version():
        return False
    assets = manifest.get("assets", {})
    return all(u in assets and (vendor / assets[u]["path"]).is_file() for u in required_urls())


def link_static(root: Path, vendor: Path, *, log) -> None:
    """Make ``vendor`` reachable under ``root/static/vendor`` for Streamlit's static serving.

    Streamlit resolves symlinks and refuses files outside the real ``static``
    folder, so the link is made one level up: ``static -> geo/static``.
    """
    static = root / "static"
    target = vendor.parent  # geo/static
    if static.is_symlink():
        return
    if not static.exists():
        static.symlink_to(os.path.relpath(target, root), target_is_directory=True)
        log(f"linked {static} -> {os.path.relpath(target, root)} (served by Streamlit at /app/static/)")
        return
    if static.resolve() == target.resolve():
        return
    copy = static / "vendor"
    if copy.exists() and is_up_to_date(copy):
        return
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(vendor, copy)
    log(f"copied {vendor} to {copy} (served by Streamlit at /app/static/vendor/)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="print nothing unless something is fetched or fails")
    parser.add_argument("--force", action="store_true", help="fetch again even when everything is present")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when something is missing")
    parser.add_argument("--no-static-link", action="store_true", help="do not create ./static for Streamlit's static serving")
    parser.add_argument("--dest", type=Path, default=offline.VENDOR_DIR, help="vendor folder (default: geo/static/vendor)")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    vendor = args.dest.resolve()
    fresh = is_up_to_date(vendor)
    if args.check:
        if not fresh:
            print(f"{vendor}: vendored assets missing or stale; run python scripts/vendor_assets.py", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"{vendor}: up to date")
        return 0
    if fresh and not args.force:
        if not args.quiet:
            print(f"{vendor}: up to date ({len(required_urls())} assets)")
    else:
        vendor.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".vendor-", dir=vendor.parent))
        try:
            manifest = build(tmp, log=log)
            old = vendor.with_name(vendor.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if vendor.exists():
                vendor.rename(old)
            tmp.rename(vendor)
            vendor.chmod(0o755)  # mkdtemp made it private; the web server must read it
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"vendored {len(manifest['assets'])} assets from {len(manifest['packages'])} packages into {vendor}")
    if not args.no_static_link and vendor == offline.VENDOR_DIR.resolve():
        link_static(ROOT, vendor, log=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
