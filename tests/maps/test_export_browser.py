"""The exported map in a real browser with no internet: every request stays on this machine."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from geo import io, settings
from geo.maps import mapview, offline
from geo.maps.export import add_coverage, write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists(), reason="assets not vendored (run ./run setup)"),
]

DATA = Path(__file__).resolve().parents[1] / "data" / "map"
SHIPPED_ESTATES = settings.data_path("estates.geojson")


def _estates_file() -> tuple[Path, int]:
    """The shipped estates when they exist (24), else the small fixture; with the feature count read from the file."""
    path = SHIPPED_ESTATES if SHIPPED_ESTATES.exists() else DATA / "estates.geojson"
    with open(path, encoding="utf-8") as fh:
        return path, len(json.load(fh)["features"])


def _export(tmp_path: Path, estates_path: Path) -> Path:
    estates = io.read_estates(estates_path)
    routes = io.read_routes(DATA / "routes.geojson")
    estates, _ = add_coverage(estates, routes)
    out = tmp_path / "map.html"
    write_map(mapview.build_map(estates, routes), out)
    return out


class _Session:
    """Open a page and record every request, dialog and script error."""

    def __init__(self, browser, url: str):
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.wait_for_function("window.L !== undefined && document.querySelectorAll('path.estate-marker').length > 0", timeout=15000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def remote_requests(self) -> list[str]:
        bad = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in {"data", "file", "blob", "about"}:
                continue
            if parts.hostname not in offline.LOCAL_HOSTS:
                bad.append(url)
        return bad


def test_shipped_map_works_offline(browser, tmp_path):
    estates_path, expected = _estates_file()
    out = _export(tmp_path, estates_path)
    s = _Session(browser, out.as_uri())
    try:
        assert s.page.evaluate("typeof window.L") == "object"
        assert s.page.locator("path.estate-marker").count() == expected
        if estates_path == SHIPPED_ESTATES:
            assert expected == 24
        # Layer toggle: patrol routes off and on again.
        routes_before = s.page.locator("path.route-line").count()
        assert routes_before > 0
        toggle = s.page.locator(".leaflet-control-layers-overlays label", has_text="巡逻路线").locator("input")
        toggle.click()
        assert s.page.locator("path.route-line").count() == 0
        toggle.click()
        assert s.page.locator("path.route-line").count() == routes_before
        s.page.screenshot(path="/tmp/map.png")
        assert s.remote_requests() == []
        assert s.dialogs == []
        assert s.errors == []
    finally:
        s.page.close()


def test_hostile_names_show_as_text(browser, tmp_path):
    out = _export(tmp_path, DATA / "estates.geojson")
    s = _Session(browser, out.as_uri())
    try:
        # Open every estate and route popup (their HTML is built from data), one after the other.
        texts: list[str] = []
        for selector in ("path.estate-marker", "path.route-line"):
            for i in range(s.page.locator(selector).count()):
                s.page.locator(selector).nth(i).click(force=True)
                texts += s.page.locator(".leaflet-popup-content").all_inner_texts()
                assert s.page.locator('img[src="x"]').count() == 0
                assert s.page.locator(".leaflet-popup-content script").count() == 0
        popups = " ".join(texts)
        assert "<img src=x onerror=alert(1)>" in popups  # the hostile estate name, shown as text
        assert "<img src=x onerror=alert(4)>" in popups  # the hostile team name
        assert "${alert(2)}" in popups
        assert s.dialogs == []
        assert s.errors == []
        assert s.remote_requests() == []
    finally:
        s.page.close()


_FIND_MAP = "Object.values(window).find(v => { try { return v instanceof L.Map; } catch (e) { return false; } })"


def _canvas_page(browser, tmp_path: Path, monkeypatch, estates_path: Path):
    """The exported map of ``estates_path`` with every layer on the canvas (CANVAS_FROM = 2), opened and laid out;
    with the list of the page's script errors."""
    from geo.maps import vector_layer

    monkeypatch.setattr(vector_layer, "CANVAS_FROM", 2)
    out = _export(tmp_path, estates_path)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_function("window.shaheEstateMarks && document.querySelector('.estate-labels[data-zoom]')", timeout=15000)
    return page, errors


def test_large_layers_share_one_canvas_and_stay_clickable(browser, tmp_path, monkeypatch):
    """Above CANVAS_FROM features a layer is drawn on a canvas; every such layer shares one, so a click reaches the
    routes under the estates as well as the estates (separate canvases would each swallow the clicks of the ones below)."""
    page, errors = _canvas_page(browser, tmp_path, monkeypatch, DATA / "estates.geojson")  # 5 test estates, 3 routes
    try:
        assert page.locator("path.estate-marker").count() == 0 and page.locator("path.route-line").count() == 0
        assert page.locator(".leaflet-overlay-pane canvas").count() == 1
        find_map = _FIND_MAP

        def click_at(lat: float, lng: float) -> str:
            page.evaluate("() => document.querySelectorAll('.leaflet-popup-close-button').forEach(b => b.click())")
            x, y = page.evaluate(f"([lat, lng]) => {{ const m = {find_map}, r = m.getContainer().getBoundingClientRect(),"
                                 " p = m.latLngToContainerPoint([lat, lng]); return [r.left + p.x, r.top + p.y]; }", [lat, lng])
            page.mouse.click(x, y)
            page.wait_for_selector(".leaflet-popup-content", timeout=5000)
            return " ".join(page.locator(".leaflet-popup-content").all_inner_texts())

        assert "测试小区甲" in click_at(30.842, 108.370)  # estate T-01
        assert "申明坝派出所巡逻组" in click_at(30.842, 108.370 + 0.001)  # on route R-1 (108.369, 30.841)-(108.371, 30.843)
        assert len(page.evaluate("() => window.shaheEstateMarks.shown()")) == 5
        assert errors == []
    finally:
        page.close()


def test_group_symbols_are_drawn_on_the_canvas_with_their_count(browser, tmp_path, monkeypatch):
    """With the estates on the canvas, estates at one spot are drawn as one symbol on that canvas too (no DOM element
    per group, which made a pan stutter at district size): its count is painted in it, and a click zooms to the group."""
    from io import BytesIO

    from PIL import Image

    page, errors = _canvas_page(browser, tmp_path, monkeypatch, _estates_file()[0])
    try:
        page.wait_for_timeout(300)
        assert page.locator(".estate-group").count() == 0
        symbols = page.evaluate("() => window.shaheEstateMarks.symbols()")
        groups = [g for g in page.evaluate("() => window.shaheEstateMarks.groups()") if len(g["members"]) > 1]
        assert symbols and len(symbols) == len(groups)
        assert all(s["canvas"] for s in symbols)
        assert sorted(int(s["count"]) for s in symbols) == sorted(len(g["members"]) for g in groups)
        biggest = max(symbols, key=lambda s: int(s["count"]))
        box = page.evaluate("() => { const r = document.querySelector('.leaflet-container').getBoundingClientRect(); return [r.left, r.top]; }")
        x, y = box[0] + biggest["x"], box[1] + biggest["y"]
        # the symbol's middle holds the white digits on the status colour: both near-white and strongly coloured pixels
        shot = Image.open(BytesIO(page.screenshot(clip={"x": x - 6, "y": y - 6, "width": 12, "height": 12}))).convert("RGB")
        pixels = [shot.getpixel((i, j)) for i in range(shot.width) for j in range(shot.height)]
        assert any(min(p) > 225 for p in pixels)
        assert any(max(p) - min(p) > 80 for p in pixels)
        zoom = page.evaluate(f"() => {_FIND_MAP}.getZoom()")
        page.mouse.click(x, y)
        page.wait_for_function(f"() => {_FIND_MAP}.getZoom() > {zoom}", timeout=5000)
        assert errors == []
    finally:
        page.close()



def test_legend_folds_to_its_title_and_stays_folded_in_the_tab(browser, tmp_path):
    """The legend covers the map's lower left; its title folds it (click, or Enter on the focused title) and the tab
    keeps the choice for the maps it shows after (a reload here, a rerun in the app)."""
    out = _export(tmp_path, _estates_file()[0])
    s = _Session(browser, out.as_uri())
    page = s.page
    try:
        legend, head, body = page.locator(".map-legend").first, page.locator(".map-legend .legend-head"), page.locator(".map-legend .legend-body")
        assert body.is_visible() and "已覆盖" in body.inner_text()
        open_height = legend.bounding_box()["height"]
        assert head.get_attribute("aria-expanded") == "true" and head.get_attribute("title") == "点击收起图例"
        head.click()
        assert not body.is_visible()
        assert head.get_attribute("aria-expanded") == "false" and head.get_attribute("title") == "点击展开图例"
        folded_height = legend.bounding_box()["height"]
        assert folded_height < 40 < open_height, (folded_height, open_height)
        page.reload()
        page.wait_for_function("document.querySelectorAll('path.estate-marker').length > 0", timeout=15000)
        assert not page.locator(".map-legend .legend-body").is_visible()  # the tab remembers
        page.locator(".map-legend .legend-head").focus()
        page.keyboard.press("Enter")
        assert page.locator(".map-legend .legend-body").is_visible()
        assert page.evaluate("() => window.sessionStorage.getItem('shahe-legend-folded')") == "0"
        assert s.errors == [] and s.remote_requests() == []
    finally:
        page.close()
