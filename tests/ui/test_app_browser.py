"""The app end to end in headless Chromium: map, layers, click, login, upload, preview, save; nothing leaves the machine."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pyproj
import pytest

from geo import io as gio
from geo.routes.shared import open_route_store  # version 1 from the store the app made on its first start

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}
GEOD = pyproj.Geod(ellps="WGS84")
FOLIUM_IFRAME = "iframe[title='streamlit_folium.st_folium']"

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the server fixture skips (fails under CI=true) without vendored assets


def _remote(urls: list[str]) -> list[str]:
    bad = []
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme in {"data", "blob", "about", "file", "chrome-extension"}:
            continue
        if (parts.hostname or "") not in LOCAL:
            bad.append(u)
    return bad


def _route_near_gap(data: Path) -> tuple[Path, str]:
    """A GeoJSON file with one line 40 m east of the first gap estate, and that estate's id."""
    from geo import report

    est = gio.read_estates(data / "estates.geojson")
    table = report.coverage_table(est, gio.read_routes(data / "patrol_routes.geojson"))
    gap = table.loc[table["status"] == "gap", "estate_id"].iloc[0]
    pt = est.loc[est["estate_id"] == gap].geometry.iloc[0]
    x, y, _ = GEOD.fwd(pt.x, pt.y, 90.0, 40.0)
    x0, y0, _ = GEOD.fwd(x, y, 180.0, 150.0)
    x1, y1, _ = GEOD.fwd(x, y, 0.0, 150.0)
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "延伸段"},
                                                       "geometry": {"type": "LineString", "coordinates": [[x0, y0], [x1, y1]]}}]}
    path = data.parent / "extension.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, gap


def test_app_end_to_end_offline(browser, server, driver):
    url, data = server
    routes_path = data / "patrol_routes.geojson"
    original = routes_path.read_bytes()
    extension, gap = _route_near_gap(data)
    est = gio.read_estates(data / "estates.geojson")

    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        page.wait_for_selector("text=覆盖率", timeout=90000)
        page.wait_for_timeout(1500)
        page.screenshot(path="/tmp/app_overview.png")
        # The overview's event study of the difference-in-differences: its title, a drawn chart and the method line.
        page.get_by_text("事件研究", exact=False).first.wait_for(timeout=90000)
        page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for(timeout=90000)  # the incident trend, then the event study
        assert page.get_by_text("窗口 2022-01..2022-11", exact=False).count() >= 1

        # Planner: the map inside the component's iframe.
        driver.pick_view(page, "巡防地图")
        frame = page.frame_locator(FOLIUM_IFRAME).first
        markers = frame.locator("path.estate-marker")
        markers.first.wait_for(timeout=90000)
        assert markers.count() == 24
        assert frame.locator(".map-legend").count() == 1
        routes_before = frame.locator("path.route-line").count()
        assert routes_before > 0
        toggle = frame.locator(".leaflet-control-layers-overlays label", has_text="巡逻路线").locator("input")
        toggle.click()
        assert frame.locator("path.route-line").count() == 0
        toggle.click()
        assert frame.locator("path.route-line").count() == routes_before
        page.screenshot(path="/tmp/app_map.png")

        # Clicking an estate on the map selects it below the map.
        index = int(est.index[est["estate_id"] == gap][0])
        name = str(est["name"].iloc[index])
        markers.nth(index).click(force=True)
        page.locator('[data-testid="stMarkdown"]').filter(has_text=f"小区：{name}").first.wait_for(timeout=30000)
        assert page.locator('[data-testid="stSelectbox"] input').last.input_value().startswith(gap)
        assert frame.locator("path.estate-marker").count() == 24  # the map is still there after the rerun

        # Route editing: log in, upload a line, preview, save.
        driver.pick_view(page, "路线调整")
        page.frame_locator(FOLIUM_IFRAME).first.locator("path.estate-marker").first.wait_for(timeout=90000)
        page.get_by_label("编辑口令").fill(driver.password)
        page.get_by_role("button", name="登录编辑").click()
        page.wait_for_selector("text=已登录编辑权限", timeout=30000)
        driver.settle(page)
        # Draw a line with Leaflet.draw: the polyline tool, three clicks, then "Finish".
        editor_map = page.frame_locator(FOLIUM_IFRAME).first
        editor_map.locator("path.estate-marker").first.wait_for(timeout=90000)
        editor_map.locator("a.leaflet-draw-draw-polyline").click()
        container = editor_map.locator(".leaflet-container")
        box = container.bounding_box()
        for dx, dy in ((0.30, 0.30), (0.40, 0.32), (0.45, 0.40)):
            container.click(position={"x": box["width"] * dx, "y": box["height"] * dy}, force=True)
            page.wait_for_timeout(300)
        editor_map.locator(".leaflet-draw-actions a", has_text="完成").click()  # Leaflet.draw in Chinese
        page.wait_for_selector("text=已读取 1 条线", timeout=60000)
        driver.settle(page)
        driver.choose(page, "新路线班次", "全天")  # PS-SMB patrols at night and all day: the new route's shift is asked for
        page.get_by_role("tab", name="上传文件").click()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(extension))
        page.wait_for_selector("text=已读取 2 条线", timeout=60000)
        page.wait_for_selector("text=状态变化的小区", timeout=60000)
        driver.settle(page)
        assert routes_path.read_bytes() == original
        page.get_by_label("修改人").fill("测试员")
        page.get_by_label("修改人").press("Enter")
        driver.settle(page)
        page.get_by_label("修改原因").fill("覆盖盲区")
        page.get_by_label("修改原因").press("Enter")
        driver.settle(page)
        save = page.get_by_role("button", name="保存路线")
        save.wait_for(timeout=30000)
        page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('保存路线') && !b.disabled)",
                               timeout=30000)
        page.screenshot(path="/tmp/app_edit.png")
        save.click()
        page.wait_for_selector("text=已保存为第 2 版", timeout=60000)
        assert routes_path.read_bytes() != original
        saved = gio.read_routes(routes_path)
        assert len(saved) == len(open_route_store(routes_path).read_version(1)) + 2  # the drawn and the uploaded line

        driver.pick_view(page, "台账")
        page.wait_for_timeout(1500)
        page.screenshot(path="/tmp/app_register.png")

        # Switching the language keeps the current view selected under its new label.
        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        page.wait_for_selector('h2:has-text("Register")', timeout=60000)
        driver.settle(page)
        checked = page.locator('[data-testid="stSidebar"] [role="radiogroup"] input:checked')
        assert checked.count() == 1
        assert checked.first.locator("xpath=ancestor::label").inner_text().strip() == "Register"

        assert errors == []
        assert _remote(requests) == [], _remote(requests)[:10]
        assert any(urlsplit(u).hostname in LOCAL for u in requests)
    finally:
        context.close()
