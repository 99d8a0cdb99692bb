"""Regression tests of defects users met in the browser: each drives the real app in headless Chromium."""

from __future__ import annotations

import json

import pyproj
import pytest

from geo import io as gio
from geo import report
from geo.routes.shared import open_route_store
from geo.tracks import plan_vs_actual  # version 1 from the store the app made on its first start

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GEOD = pyproj.Geod(ellps="WGS84")


def _line_near_gap(data) -> dict:
    """A 300 m north-south GeoJSON line 40 m east of the first gap estate (geodesic offsets)."""
    est = gio.read_estates(data / "estates.geojson")
    table = report.coverage_table(est, gio.read_routes(data / "patrol_routes.geojson"))
    gap = table.loc[table["status"] == "gap", "estate_id"].iloc[0]
    pt = est.loc[est["estate_id"] == gap].geometry.iloc[0]
    x, y, _ = GEOD.fwd(pt.x, pt.y, 90.0, 40.0)
    x0, y0, _ = GEOD.fwd(x, y, 180.0, 150.0)
    x1, y1, _ = GEOD.fwd(x, y, 0.0, 150.0)
    return {"type": "LineString", "coordinates": [[x0, y0], [x1, y1]]}


def _draft_by_paste(page, driver, data) -> None:
    """Log in, paste a line near the gap, give it to PS-SMB's all-day shift: the preview appears."""
    driver.pick_view(page, "路线调整")
    driver.login(page)
    page.get_by_role("tab", name="粘贴 GeoJSON").click()
    area = page.get_by_label("GeoJSON（线）")
    area.fill(json.dumps(_line_near_gap(data)))
    area.press("Control+Enter")
    driver.settle(page)
    driver.choose(page, "新路线班次", "全天")
    page.wait_for_selector("text=状态变化的小区", timeout=60000)


def test_preview_map_shows_the_draft(browser, server, driver):
    """The preview map used to stay blank: its draft layer was declared after the layer control naming it."""
    url, data = server
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        _draft_by_paste(page, driver, data)
        page.get_by_text("预览地图").click()
        driver.settle(page)
        page.wait_for_function(f"() => document.querySelectorAll(\"{driver.map_iframe}\").length === 2", timeout=60000)
        preview = driver.maps(page)[1]
        preview.locator("path.draft-line").first.wait_for(state="attached", timeout=60000)
        assert preview.locator("path.estate-marker").count() == 24
        assert preview.locator(".leaflet-control-layers-overlays label").filter(has_text="草稿").count() == 1
        assert errors == []
    finally:
        context.close()


def test_save_takes_one_click_after_typing_the_reason(browser, server, driver):
    """Typing the reason and clicking Save once saves (the click used to only commit the text field)."""
    url, data = server
    routes_path = data / "patrol_routes.geojson"
    original = routes_path.read_bytes()
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        _draft_by_paste(page, driver, data)
        page.get_by_label("修改人").fill("测试员")
        page.get_by_label("修改原因").fill("覆盖盲区")  # no Enter, no click elsewhere: straight to the button
        page.get_by_role("button", name="保存路线").click()
        page.wait_for_selector("text=已保存为第 2 版", timeout=30000)
        assert routes_path.read_bytes() != original
        saved = gio.read_routes(routes_path)
        new = saved[~saved["route_id"].isin(open_route_store(routes_path).read_version(1)["route_id"])]
        assert list(new["shift"]) == ["all"]
        assert errors == []
    finally:
        context.close()


def test_first_click_on_an_estate_selects_it(browser, server, driver):
    """On a freshly opened page the very first click on a marker selects that estate."""
    url, data = server
    est = gio.read_estates(data / "estates.geojson")
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "巡防地图")
        frame = driver.maps(page)[0]
        markers = frame.locator("path.estate-marker")
        markers.first.wait_for(timeout=90000)
        last = len(est) - 1  # not the first estate, which is selected anyway
        markers.nth(last).click(force=True)
        want = str(est["estate_id"].iloc[last])
        page.wait_for_function(
            "id => [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')].some(i => i.value.startsWith(id + ' '))",
            arg=want, timeout=15000)
        assert errors == []
    finally:
        context.close()


def _spread(frame) -> tuple[float, float, float, float]:
    """Width and height of the box around the estate markers, and the map's width and height (CSS pixels)."""
    return frame.locator(".leaflet-container").evaluate(
        """c => { const r = c.getBoundingClientRect();
                 const boxes = [...c.querySelectorAll('path.estate-marker')].map(p => p.getBoundingClientRect()).filter(b => b.width > 0);  // grouped markers are hidden
                 const xs = boxes.flatMap(b => [b.left, b.right]), ys = boxes.flatMap(b => [b.top, b.bottom]);
                 return [Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), r.width, r.height]; }""")


def test_map_keeps_its_size_when_heat_is_switched_on(browser, server, driver):
    """After switching heat on the map fills its frame and the estates spread over it (it once redrew as a tiny blob)."""
    url, _ = server
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "巡防地图")
        driver.maps(page)[0].locator("path.estate-marker").first.wait_for(timeout=90000)
        for _ in range(2):
            page.get_by_text("警情热力图", exact=True).first.click()
            driver.settle(page)
            frame = driver.maps(page)[0]
            frame.locator("path.estate-marker").first.wait_for(timeout=60000)
            page.wait_for_timeout(1500)
            w, h, map_w, map_h = _spread(frame)
            assert map_w > 800 and map_h > 500, (map_w, map_h)
            # fitted to the estates: they span most of the map one way or the other
            assert max(w / map_w, h / map_h) > 0.4, (w, h, map_w, map_h)
        assert errors == []
    finally:
        context.close()


def test_overview_map_follows_the_picked_figure(browser, server, driver):
    """The overview has a map; picking a figure ("6 应延伸覆盖") leaves only those estates on it and in the list."""
    url, data = server
    table = report.coverage_table(gio.read_estates(data / "estates.geojson"), gio.read_routes(data / "patrol_routes.geojson"))
    n_coverable = int((table["status"] == "coverable").sum())
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        frame = driver.maps(page)[0]
        frame.locator("path.estate-marker").first.wait_for(state="attached", timeout=90000)
        assert frame.locator("path.estate-marker").count() == len(table)
        page.get_by_text(f"{n_coverable} 应延伸覆盖", exact=True).click()
        driver.settle(page)
        frame = driver.maps(page)[0]
        page.wait_for_function(
            "([sel, n]) => { const f = document.querySelector(sel); const d = f && f.contentDocument;"
            " return d && d.querySelectorAll('path.estate-marker').length === n; }",
            arg=[driver.map_iframe, n_coverable], timeout=60000)
        assert frame.locator("path.estate-coverable").count() == n_coverable
        assert errors == []
    finally:
        context.close()


def test_recommended_fixes_are_shown_whole_on_the_overview(browser, server, driver):
    """The list of uncovered estates showed each recommended fix cut off at the table's right edge (1400 px wide), and
    the plan-vs-actual table its list of unvisited estates: both must be on the page in full, inside its width."""
    url, data = server
    table = report.coverage_table(gio.read_estates(data / "estates.geojson"), gio.read_routes(data / "patrol_routes.geojson"))
    coverable = table[table["status"] == "coverable"]
    assert len(coverable) >= 2
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        heading = page.locator("h3", has_text="未覆盖小区及建议")
        heading.wait_for(timeout=60000)
        listing = page.locator('[data-testid="stTable"]').filter(has_text=str(coverable["estate_id"].iloc[0])).first
        listing.scroll_into_view_if_needed()
        text = listing.inner_text()
        for row in coverable.itertuples():
            # the recommended team and its extension in whole metres, as the engine computed them
            assert f"({row.recommended_team_id}) 延伸路线约 {row.recommended_extension_m:.0f} 米" in text, row.estate_id
        page_right = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        box = listing.bounding_box()
        assert box["x"] + box["width"] <= page_right["x"] + page_right["width"] + 1
        overflowing = listing.evaluate("t => [...t.querySelectorAll('td, th')].filter(c => c.scrollWidth > c.clientWidth + 1).length")
        assert overflowing == 0
        # the plan-vs-actual table's last column, the estates each team has not visited, is whole too
        teams, _, _ = plan_vs_actual(gio.read_estates(data / "estates.geojson"), gio.read_routes(data / "patrol_routes.geojson"),
                                     tracks_path=data / "tracks")
        unmet = [ids.replace(";", "、") for ids in teams["unmet_estate_ids"] if ids]
        assert unmet
        plan = page.locator('[data-testid="stTable"]').filter(has_text="未到小区").first
        plan.scroll_into_view_if_needed()
        plan_text = plan.inner_text()
        assert all(ids in plan_text for ids in unmet), unmet
        box = plan.bounding_box()
        assert box["x"] + box["width"] <= page_right["x"] + page_right["width"] + 1
        assert errors == []
    finally:
        context.close()
