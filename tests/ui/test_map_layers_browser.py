"""The patrol map in a real browser: the heat layer's year slider and category menu redraw only that layer
and keep the view; switching the heat layer on in the page keeps the view the user chose; estate labels do not overlap; estates at one spot show as one symbol with a count; the
measure and full-screen tools speak the page's language."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = "/tmp"

#: JavaScript run in the map's frame: the Leaflet map object of the page.
_MAP = "(() => { for (const k of Object.keys(window)) { try { if (window[k] instanceof L.Map) return window[k]; } catch (e) {} } })()"


def _map_frame(page, driver):
    """The Playwright frame of the first map (to evaluate JavaScript inside it)."""
    handle = page.locator(driver.map_iframe).first.element_handle(timeout=90000)
    frame = handle.content_frame()
    frame.wait_for_selector("path.estate-marker", state="attached", timeout=90000)
    frame.wait_for_function(f"() => !!{_MAP}", timeout=30000)
    return frame


def _view(frame) -> tuple[float, float, int]:
    return tuple(frame.evaluate(f"() => {{ const m = {_MAP}, c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }}"))


def _boxes(frame, selector: str) -> list[list[float]]:
    return frame.evaluate(
        """sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
                   .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, e.textContent]; })""",
        selector)


def _overlap(a, b) -> bool:
    """Whether two boxes (as :func:`_boxes` gives them) overlap by more than half a pixel each way."""
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def _overlapping(boxes) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (brute force over every pair)."""
    return [(a[4], b[4]) for k, a in enumerate(boxes) for b in boxes[k + 1:] if _overlap(a, b)]


def test_heat_slider_and_category_keep_the_view(browser, server, driver):
    url, _ = server
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "巡防地图")
        page.get_by_text("警情热力图", exact=True).first.click()
        driver.settle(page)
        frame = _map_frame(page, driver)
        frame.wait_for_selector("canvas.heat-grid", state="attached", timeout=60000)
        frame.wait_for_function("() => document.querySelector('.heat-legend .heat-tick')", timeout=30000)
        # the user pans and zooms first: the slider must keep that view
        frame.evaluate(f"() => {{ const m = {_MAP}; m.setView([30.842, 108.372], 16, {{animate: false}}); }}")
        frame.evaluate("() => { window.sameFrame = true; }")
        before = _view(frame)
        canvas = frame.locator("canvas.heat-grid")
        all_years = canvas.get_attribute("data-cells"), canvas.get_attribute("data-period")
        assert all_years[1] == "0"
        assert frame.locator(".heat-period-label").inner_text() == "全部年份（年均）"
        pixels_before = frame.evaluate("() => document.querySelector('canvas.heat-grid').toDataURL()")

        slider = frame.locator("input.heat-period")
        slider.evaluate("el => { el.value = '1'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
        assert canvas.get_attribute("data-period") == "1"
        year = frame.locator(".heat-period-label").inner_text()
        assert year.isdigit() and 2000 < int(year) < 2100
        assert frame.evaluate("() => document.querySelector('canvas.heat-grid').toDataURL()") != pixels_before
        assert _view(frame) == before

        scale_all = frame.locator(".heat-legend").get_attribute("data-scale")
        frame.locator("select.heat-category").select_option(index=1)
        assert canvas.get_attribute("data-cat") == "1"
        assert frame.locator(".heat-legend").get_attribute("data-scale") != scale_all  # the legend follows the category
        assert _view(frame) == before
        page.wait_for_timeout(1000)
        assert frame.evaluate("() => window.sameFrame === true")  # the map was not rebuilt or reloaded
        assert _view(frame) == before
        # switched off in the layer list: the canvas, its controls and its legend rows go, the view stays
        frame.locator(".leaflet-control-layers-overlays label", has_text="警情热力").locator("input").click()
        assert frame.locator("canvas.heat-grid").count() == 0 and frame.locator(".heat-control").count() == 0
        assert not frame.locator(".heat-legend").is_visible()
        assert _view(frame) == before
        frame.locator(".leaflet-control-layers-overlays label", has_text="警情热力").locator("input").click()
        frame.wait_for_selector("canvas.heat-grid", state="attached", timeout=5000)
        assert frame.locator(".heat-legend").is_visible()
        # the layer is masked: nothing drawn outside the subdistrict outline (a corner of the map frame is outside it)
        frame.evaluate(f"() => {{ const m = {_MAP}; m.setView([30.843, 108.372], 13, {{animate: false}}); }}")
        corner = frame.evaluate("""() => { const c = document.querySelector('canvas.heat-grid');
                                           return Array.from(c.getContext('2d').getImageData(0, 0, 40, 40).data).some(v => v > 0); }""")
        assert not corner
        assert errors == []
    finally:
        context.close()


def _settled_labels(page, frame, *, selector: str = ".estate-label", timeout_s: float = 30.0) -> list[list[float]]:
    """The boxes of ``selector`` once the layout has settled: the same boxes on two looks 500 ms apart (the labels are
    laid out again when the web fonts arrive, which on a busy machine can be seconds after the map; the legend is
    fitted a frame after its corner changes)."""
    import time

    before, deadline = None, time.monotonic() + timeout_s
    while True:
        page.wait_for_timeout(500)
        boxes = _boxes(frame, selector)
        if boxes == before or time.monotonic() > deadline:
            return boxes
        before = boxes


def test_labels_groups_and_tools_in_both_languages(browser, server, driver):
    url, _ = server
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "巡防地图")
        frame = _map_frame(page, driver)
        frame.wait_for_selector(".estate-label", timeout=30000)
        labels = _settled_labels(page, frame)
        assert len(labels) >= 10
        assert _overlapping(labels) == []
        # labels do not sit on another estate's symbol either
        symbols = _boxes(frame, "path.estate-marker, .estate-group")
        texts = [b[4] for b in labels]
        assert any(t.startswith("SH-") for t in texts)

        # the eight 花园小区 estates within 70 m of each other: one symbol with their count
        group = frame.locator(".estate-group", has_text="8")
        assert group.count() == 1, (texts, _view(frame), frame.evaluate("() => JSON.stringify(window.shaheEstateMarks.groups())"))
        assert "花园小区（8处）" in texts
        assert len(symbols) >= len(labels)

        # tools in Chinese
        assert frame.locator("a.leaflet-control-zoom-fullscreen").get_attribute("title") == "全屏显示"
        assert "测量" in frame.locator(".leaflet-control-measure").inner_text()
        assert frame.locator("a.leaflet-control-measure-toggle").get_attribute("title") == "同时测量距离和面积"

        # a click on the group zooms to its members and the group opens
        start = _view(frame)
        group.click()
        frame.wait_for_function(f"() => {_MAP}.getZoom() > {start[2]}", timeout=30000)
        frame.locator(".estate-group", has_text="8").wait_for(state="detached", timeout=30000)
        assert _overlapping(_settled_labels(page, frame)) == []
        page.wait_for_timeout(500)  # the zoom's animation has ended
        zoomed = _view(frame)

        # switching the heat layer on rebuilds the map: it opens where the user left it, not at the whole subdistrict
        page.get_by_text("警情热力图", exact=True).first.click()
        driver.settle(page)
        frame = _map_frame(page, driver)
        frame.wait_for_selector("canvas.heat-grid", state="attached", timeout=60000)
        kept = _view(frame)
        # the same zoom and centre, to under a metre (the map rounds the centre to whole pixels: 0.3 m at zoom 19); the
        # whole-subdistrict view it would otherwise open at is kilometres and several zoom levels away
        assert kept[2] == zoomed[2] and abs(kept[0] - zoomed[0]) < 1e-5 and abs(kept[1] - zoomed[1]) < 1e-5, (kept, zoomed)
        frame.evaluate(f"() => {{ const m = {_MAP}; m.setView([{start[0]}, {start[1]}], {start[2]}, {{animate: false}}); }}")
        page.wait_for_timeout(1000)
        page.screenshot(path=f"{SHOTS}/map_heat_zh.png")

        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        page.wait_for_selector('h2:has-text("Patrol map")', timeout=60000)
        driver.settle(page)
        frame = _map_frame(page, driver)
        frame.wait_for_selector("canvas.heat-grid", state="attached", timeout=60000)
        assert frame.locator("a.leaflet-control-zoom-fullscreen").get_attribute("title") == "Full screen"
        measure = frame.locator(".leaflet-control-measure").inner_text()
        assert "Measure" in measure and "测量" not in measure
        assert frame.locator("a.leaflet-control-measure-toggle").get_attribute("title") == "Measure distances and areas"
        assert frame.locator(".heat-period-label").inner_text() == "all years (yearly mean)"
        assert "Incident density" in frame.locator(".heat-legend").inner_text()
        frame.evaluate(f"() => {{ const m = {_MAP}; m.setView([{start[0]}, {start[1]}], {start[2]}, {{animate: false}}); }}")
        assert any("(8 sites)" in b[4] for b in _settled_labels(page, frame))
        page.wait_for_timeout(1000)
        page.screenshot(path=f"{SHOTS}/map_heat_en.png")
        assert errors == []
    finally:
        context.close()


#: The controls in the map's top-left and bottom-left corners.
_TOP_LEFT, _BOTTOM_LEFT = ".leaflet-top.leaflet-left > .leaflet-control", ".leaflet-bottom.leaflet-left > .leaflet-control"


def test_the_legend_and_scale_leave_the_zoom_and_tools_free_in_both_languages(browser, server, driver):
    """On the overview's short map the legend and the scale bar above it used to cover the zoom-out and full-screen
    buttons (English) or the full-screen button (Chinese); the legend's body now scrolls within the room left."""
    url, _ = server
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)  # the leadership overview
        for lang in ("zh", "en"):
            if lang == "en":
                page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
                page.wait_for_selector('h2:has-text("Leadership overview")', timeout=60000)
                driver.settle(page)
            frame = _map_frame(page, driver)
            frame.wait_for_selector(".map-legend .legend-body", timeout=30000)
            for fold in (False, True, False):  # as drawn, folded by its title, unfolded again
                if fold or frame.locator(".map-legend.folded").count():
                    frame.locator(".map-legend .legend-head").click()
                bottom = _settled_labels(page, frame, selector=_BOTTOM_LEFT)
                top = _boxes(frame, _TOP_LEFT)
                assert len(top) >= 2 and len(bottom) >= 2, (top, bottom)  # tools and zoom; the scale bar and the legend
                clashes = [(a[4][:20], b[4][:20]) for a in top for b in bottom if _overlap(a, b)]
                assert clashes == [], (lang, fold, clashes)
            # every line of the legend can still be reached: its last note scrolls into the body's view
            reach = frame.evaluate("""() => { const b = document.querySelector('.map-legend .legend-body');
                const notes = b.querySelectorAll('.note'), last = notes[notes.length - 1];
                b.scrollTop = b.scrollHeight; const r = last.getBoundingClientRect(), v = b.getBoundingClientRect();
                return [notes.length, r.top >= v.top - 1 && r.bottom <= v.bottom + 1, b.clientHeight, r.bottom, v.bottom]; }""")
            assert reach[0] >= 1 and reach[1], (lang, str(reach))
            assert reach[2] >= 48, (lang, reach)  # geo.maps.legend.LEGEND_MIN_BODY_PX
            page.screenshot(path=f"{SHOTS}/overview_legend_{lang}.png")
        assert errors == []
    finally:
        context.close()
