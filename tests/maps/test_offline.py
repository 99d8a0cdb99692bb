"""Tests of geo.offline: vendored assets, localized maps, the remote-URL check."""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import folium
import pytest
from folium.plugins import Draw, HeatMap, MarkerCluster

from geo.maps import offline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def vendor(tmp_path_factory) -> Path:
    """A tiny vendor folder: a manifest naming every URL the vendored elements use, with stand-in files."""
    folder = tmp_path_factory.mktemp("vendor")
    assets = {}
    for i, (url, kind) in enumerate(offline.asset_urls().items()):
        rel = f"pkg/{i}.{kind}"
        (folder / "pkg").mkdir(exist_ok=True)
        if kind == "css":
            text = f"/* {url} */ .x{i}{{background:url(img/dot.png)}} @font-face{{font-family:f{i};src:url(f.woff2) format(\"woff2\"),url(f.ttf) format(\"truetype\")}}"
        else:
            text = f"window.asset{i} = {i};"
        (folder / rel).write_text(text, encoding="utf-8")
        assets[url] = {"path": rel, "type": kind}
    (folder / "pkg" / "img").mkdir()
    (folder / "pkg" / "img" / "dot.png").write_bytes(b"\x89PNG-dot")
    (folder / "pkg" / "f.woff2").write_bytes(b"WOFF2-font")
    (folder / "pkg" / "f.ttf").write_bytes(b"TTF-font")
    (folder / offline.MANIFEST_NAME).write_text(json.dumps({"assets": assets}), encoding="utf-8")
    return folder


def _decode(uri: str) -> bytes:
    assert uri.startswith("data:")
    return base64.b64decode(uri.split(",", 1)[1])


class TestAssetUrls:
    def test_lists_the_map_and_plugin_urls_of_installed_folium(self):
        urls = offline.asset_urls()
        for _, url in folium.Map.default_js + folium.Map.default_css + HeatMap.default_js + Draw.default_js + Draw.default_css:
            assert url in urls
        assert urls[folium.Map.default_js[0][1]] == "js"
        assert urls[folium.Map.default_css[0][1]] == "css"


class TestLocalizeMap:
    def _map(self):
        m = folium.Map(location=[30.84, 108.37], tiles=None)
        HeatMap([[30.84, 108.37, 1.0]]).add_to(m)
        Draw().add_to(m)
        MarkerCluster().add_to(m)
        return m

    def test_inline_mode_leaves_no_remote_url(self, vendor):
        html = offline.render_html(self._map(), mode="inline", vendor_dir=vendor)
        assert offline.find_remote_urls(html) == []
        srcs = re.findall(r'<script src="([^"]+)"', html)
        assert srcs and all(s.startswith("data:text/javascript;base64,") for s in srcs)

    def test_inline_css_embeds_images_and_keeps_only_woff2_fonts(self, vendor):
        html = offline.render_html(self._map(), mode="inline", vendor_dir=vendor)
        hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert hrefs
        css = _decode(hrefs[0]).decode()
        inner = re.findall(r'url\("(data:[^"]+)"\)', css)
        assert {_decode(u) for u in inner} == {b"\x89PNG-dot", b"WOFF2-font"}
        assert ".ttf" not in css

    def test_url_mode_points_at_base_url(self, vendor):
        html = offline.render_html(self._map(), mode="url", base_url="/app/static/vendor/", vendor_dir=vendor)
        links = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', html)
        assert links and all(re.fullmatch(r"/app/static/vendor/pkg/\d+\.(js|css)", u) for u in links)
        assert offline.find_remote_urls(html) == []

    def test_class_lists_of_folium_are_not_changed(self, vendor):
        before = list(folium.Map.default_js)
        offline.localize_map(self._map(), mode="inline", vendor_dir=vendor)
        assert folium.Map.default_js == before

    def test_unknown_url_is_reported(self, vendor):
        m = folium.Map(tiles=None)
        m.default_js = [*folium.Map.default_js, ("extra", "https://cdn.example.org/extra.js")]
        with pytest.raises(offline.OfflineAssetError, match=re.escape("cdn.example.org/extra.js")):
            offline.localize_map(m, vendor_dir=vendor)

    def test_missing_vendor_folder_says_how_to_fix(self, tmp_path):
        with pytest.raises(offline.OfflineAssetError, match=re.escape("vendor_assets.py")):
            offline.localize_map(folium.Map(tiles=None), vendor_dir=tmp_path)

    def test_url_mode_needs_base_url(self, vendor):
        with pytest.raises(ValueError, match="base_url"):
            offline.localize_map(folium.Map(tiles=None), mode="url", vendor_dir=vendor)

    def test_default_folium_page_is_flagged(self):
        html = folium.Map(location=[30.84, 108.37]).get_root().render()
        remote = offline.find_remote_urls(html)
        assert any("leaflet" in u for u in remote)
        assert any("tile.openstreetmap.org" in u for u in remote)


class TestRenderOfflineHtml:
    def _map(self):
        m = folium.Map(location=[30.84, 108.37], tiles=None)
        HeatMap([[30.84, 108.37, 1.0]]).add_to(m)
        return m

    def test_offline_page_is_returned(self, vendor):
        page = offline.render_offline_html(self._map(), vendor_dir=vendor)
        assert "<html" in page and offline.find_remote_urls(page) == []

    def test_page_needing_the_internet_is_refused_with_its_urls(self, vendor):
        m = self._map()
        folium.TileLayer("OpenStreetMap").add_to(m)
        with pytest.raises(offline.OfflineAssetError, match=r"would load \d+ URL\(s\) from the internet") as err:
            offline.render_offline_html(m, vendor_dir=vendor)
        assert err.value.remote_urls
        assert all("openstreetmap.org" in u and u in str(err.value) for u in err.value.remote_urls)

    def test_allowed_hosts_pass(self, vendor):
        m = self._map()
        folium.TileLayer("OpenStreetMap").add_to(m)
        page = offline.render_offline_html(m, allow_hosts=("*.openstreetmap.org", "openstreetmap.org"), vendor_dir=vendor)
        assert "openstreetmap.org" in page


class TestFindRemoteUrls:
    def test_remote_and_protocol_relative(self):
        page = ('<script src="//cdn.example.org/a.js"></script><link href="https://x.example.com/b.css"><p>http://y.example.net/c</p>'
                '<div style="background: url(\'https://z.example.com/bg.png\')"></div>')
        assert offline.find_remote_urls(page) == ["//cdn.example.org/a.js", "https://x.example.com/b.css", "https://z.example.com/bg.png"]

    def test_local_and_namespaces_pass(self):
        page = (
            '<script src="/app/static/vendor/l.js"></script><img src="data:image/png;base64,AAAA//8=">'
            '<a href="http://127.0.0.1:8501/x">x</a><a href="http://localhost/y">y</a>'
            '<svg xmlns="http://www.w3.org/2000/svg"></svg><script src="vendor/z.js"></script>'
        )
        assert offline.find_remote_urls(page) == []

    def test_allow_hosts(self):
        page = "<script>L.tileLayer('https://webrd0{s}.is.autonavi.com/appmaptile?x={x}'); fetch('https://evil.example.org/')</script>"
        assert offline.find_remote_urls(page, allow_hosts=["webrd0{s}.is.autonavi.com"]) == ["https://evil.example.org/"]
        assert offline.find_remote_urls('<img src="https://a.tiles.example.org/1">', allow_hosts=["*.example.org"]) == []

    def test_url_in_popup_text_is_not_a_load(self):
        """Finding 12: an office's intranet address in a route's schedule must not block the offline export."""
        m = folium.Map(location=[30.84, 108.37], tiles=None)
        folium.Marker([30.84, 108.37], popup=folium.Popup("巡逻表见 http://intranet.example/schedule", parse_html=True)).add_to(m)
        feature = {"type": "Feature", "properties": {"schedule": "http://intranet.example/s"},
                   "geometry": {"type": "Point", "coordinates": [108.37, 30.84]}}
        folium.GeoJson({"type": "FeatureCollection", "features": [feature]}, tooltip=folium.GeoJsonTooltip(["schedule"])).add_to(m)
        page = m.get_root().render()
        assert not [u for u in offline.find_remote_urls(page) if "intranet" in u]
        assert any("leaflet" in u for u in offline.find_remote_urls(page))  # what the page does load is still found

    def test_element_inside_a_popup_template_is_a_load(self):
        page = '<script>var html = $(`<div><img src="https://tracker.example.org/p.gif"></div>`)[0];</script>'
        assert offline.find_remote_urls(page) == ["https://tracker.example.org/p.gif"]

    @pytest.mark.parametrize("url", ["data:text/css;base64,xx", "blob:abc", "vendor/a.js", "http://[::1]:8000/a", "http://127.0.0.2/a"])
    def test_is_local(self, url):
        assert offline.is_local_url(url)


@pytest.fixture(scope="module")
def script():
    """The module scripts/vendor_assets.py."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import vendor_assets
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return vendor_assets


class TestVendorScript:
    """The rules of scripts/vendor_assets.py cover every URL (no network needed)."""

    def test_every_required_url_has_a_source(self, script):
        missing = [u for u in script.required_urls() if script.source_for(u) is None]
        assert missing == []

    def test_jsdelivr_npm_rule(self, script):
        src = script.source_for("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css")
        assert (src.kind, src.package, src.version, src.paths[0]) == ("npm", "@fortawesome/fontawesome-free", "6.2.0", "css/all.min.css")
        assert "/" not in src.folder and "@" not in src.folder
        assert script.source_for("https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js").paths == (
            "Control.FullScreen.min.js", "Control.FullScreen.js")

    def test_unknown_url_has_no_source(self, script):
        assert script.source_for("https://cdn.example.org/x.js") is None

    def test_css_references_resolve_relative_paths(self, script):
        css = "a{background:url('../img/a.png?v=1#x')} b{src:url(data:font/woff2;base64,AA)} c{background:url(https://x.org/y.png)}"
        assert script._css_references(css, "dist/css/s.css") == ["dist/img/a.png"]

    @pytest.mark.skipif(not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists(), reason="assets not vendored yet (run ./run setup)")
    def test_installed_vendor_folder_is_complete(self, script):
        assert script.is_up_to_date(offline.VENDOR_DIR)
        manifest = offline.load_manifest()
        for entry in manifest["assets"].values():
            assert (offline.VENDOR_DIR / entry["path"]).stat().st_size > 0
