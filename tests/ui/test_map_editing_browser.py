"""Map work for the editors in headless Chromium: search and zoom, a surveyed position placed and dragged on the map,
a footprint drawn, an existing route's vertices moved, a line snapped to the roads."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
import shapely

from geo import io as gio

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GEOD = pyproj.Geod(ellps="WGS84")
ZOOM_JS = "() => { const m = Object.values(window).find(v => v && window.L && v instanceof L.Map); return m ? m.getZoom() : -1; }"


def _map_frame(page, driver, index: int = 0):
    frame = driver.maps(page)[index]
    frame.locator("path.estate-marker").first.wait_for(state="attached", timeout=90000)
    return frame


def _zoom(page, driver, index: int = 0) -> int:
    handle = page.locator(driver.map_iframe).nth(index).element_handle()
    return int(handle.content_frame().evaluate(ZOOM_JS))


def _number(page, label: str) -> float:
    return float(page.get_by_label(label, exact=True).input_value())


def test_search_zooms_to_the_estate_and_rings_it(browser, server, driver):
    url, data = server
    est = gio.read_estates(data / "estates.geojson")
    unique = est[~est["name"].duplicated(keep=False)]
    target = unique.iloc[len(unique) // 2]  # a name no other estate has, so typing it picks this one
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "巡防地图")
        _map_frame(page, driver)
        zoom_before = _zoom(page, driver)
        assert page.locator(driver.map_iframe).count() == 1
        driver.choose(page, "搜索小区", str(target["name"]))  # by name, in Chinese
        frame = _map_frame(page, driver)
        frame.locator("path.estate-highlight").wait_for(state="attached", timeout=60000)
        page.wait_for_timeout(800)
        assert _zoom(page, driver) >= max(16, zoom_before + 2)
        # the estate picked is the selected one too, and the ring sits on it
        page.wait_for_function(
            "id => [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')].some(i => i.value.startsWith(id + ' '))",
            arg=str(target["estate_id"]), timeout=15000)
        ring = frame.locator("path.estate-highlight").bounding_box()
        box = frame.locator(".leaflet-container").bounding_box()
        # zoomed onto it: the ring is at the middle of the map (within 15 %)
        assert abs(ring["x"] + ring["width"] / 2 - (box["x"] + box["width"] / 2)) < 0.15 * box["width"]
        assert abs(ring["y"] + ring["height"] / 2 - (box["y"] + box["height"] / 2)) < 0.15 * box["height"]
        # by id in English mode on the editor's map
        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        driver.settle(page)
        driver.pick_view(page, "Route editing")
        other = est.iloc[3]
        driver.choose(page, "Find an estate", str(other["estate_id"]))
        frame = _map_frame(page, driver)
        frame.locator("path.estate-highlight").wait_for(state="attached", timeout=60000)
        page.wait_for_timeout(800)
        assert _zoom(page, driver) >= 16
        assert errors == []
    finally:
        context.close()


def test_register_places_drags_and_draws_then_saves(browser, server, driver):
    url, data = server
    est = gio.read_estates(data / "estates.geojson")
    eid = str(est["estate_id"].iloc[5])
    start = est.geometry.iloc[5]
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "台账")
        driver.login(page)
        driver.choose(page, "查看小区", eid)
        frame = _map_frame(page, driver)
        frame.locator(".survey-pin").wait_for(timeout=60000)
        # a click places the pin: the fields take the clicked WGS-84 position
        box = frame.locator(".leaflet-container").bounding_box()
        frame.locator(".leaflet-container").click(position={"x": box["width"] * 0.5 + 60, "y": box["height"] * 0.5 - 40}, force=True)
        # the preview's "位置移动" shows 0 m before the click too: wait for the field to take the clicked position
        page.wait_for_function("v => { const i = [...document.querySelectorAll('input')].find(e => e.getAttribute('aria-label') === '经度'); "
                               "return i && Math.abs(parseFloat(i.value) - v) > 1e-6; }", arg=float(start.x), timeout=60000)
        driver.settle(page)
        lon1, lat1 = _number(page, "经度"), _number(page, "纬度")
        _, _, d1 = GEOD.inv(start.x, start.y, lon1, lat1)
        assert 10 < d1 < 300
        shown = page.locator('[data-testid="stMetric"]').filter(has_text="位置移动").locator('[data-testid="stMetricValue"]').inner_text()
        assert abs(float(shown.replace(",", "").split()[0]) - d1) < 0.5  # the preview's metres against the geodesic distance
        # a drag moves it again
        frame = _map_frame(page, driver)
        pin = frame.locator(".survey-pin").bounding_box()
        cx, cy = pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        for step in range(1, 6):
            page.mouse.move(cx - 12 * step, cy + 8 * step)
            page.wait_for_timeout(50)
        page.mouse.up()
        page.wait_for_function("v => { const i = [...document.querySelectorAll('input')].find(e => e.getAttribute('aria-label') === '经度'); "
                               "return i && Math.abs(parseFloat(i.value) - v) > 1e-6; }", arg=lon1, timeout=60000)
        driver.settle(page)
        lon2, lat2 = _number(page, "经度"), _number(page, "纬度")
        assert lon2 < lon1 and lat2 < lat1  # dragged left and down
        # draw a footprint around the pin
        page.get_by_text("画小区范围", exact=True).click()
        driver.settle(page)
        frame = _map_frame(page, driver)
        frame.locator("a.leaflet-draw-draw-polygon").click()
        box = frame.locator(".leaflet-container").bounding_box()
        pin = frame.locator("path.estate-highlight").first  # the estate being corrected is ringed
        pin.wait_for(state="attached")
        p = page.locator(driver.map_iframe).first.element_handle().content_frame().evaluate(
            "() => { const m = Object.values(window).find(v => v && window.L && v instanceof L.Map);"
            f" const q = m.latLngToContainerPoint([{lat2}, {lon2}]); return [q.x, q.y]; }}")
        corners = [(-30, -30), (30, -30), (30, 30), (-30, 30), (-30, -30)]
        for dx, dy in corners:
            frame.locator(".leaflet-container").click(position={"x": p[0] + dx, "y": p[1] + dy}, force=True)
            page.wait_for_timeout(300)
        page.wait_for_selector("text=可以保存", timeout=60000)
        driver.settle(page)
        page.get_by_label("修改人").fill("测量员")
        page.get_by_label("说明（测量人、方法、日期）").fill("现场 GPS 2026-11")
        page.get_by_role("button", name="记录实测坐标").click()
        page.wait_for_selector("text=小区范围已一并保存", timeout=60000)
        rows = gio.read_table(data / "geocode_overrides.csv")
        row = rows[rows["estate_id"].astype(str) == eid].iloc[0]
        assert row["datum"] == "wgs84" and abs(float(row["lon"]) - lon2) < 1e-6 and abs(float(row["lat"]) - lat2) < 1e-6
        assert "测量员" in row["note"]
        polygon = shapely.from_wkt(row["footprint"])
        assert polygon.contains(shapely.Point(lon2, lat2))
        area_m2 = abs(GEOD.geometry_area_perimeter(polygon)[0])
        assert 500 < area_m2 < 20000  # 60 px square at street zoom: tens of metres a side
        saved = gpd.read_file(data / "estates.geojson")
        geom = saved.loc[saved["estate_id"] == eid].geometry.iloc[0]
        assert geom.geom_type == "Polygon" and geom.normalize().equals_exact(polygon.normalize(), 1e-6)  # RFC 7946 winding aside
        assert errors == []
    finally:
        context.close()


def _roads(data):
    roads = gpd.read_file(data / "gazetteer.geojson").to_crs("EPSG:4545")
    return shapely.union_all(roads.geometry.values)


def test_drawn_line_snapped_to_roads_then_saved(browser, server, driver):
    """A line drawn with "snap to roads" on is saved along the roads: every vertex on a gazetteer centreline."""
    url, data = server
    routes_path = data / "patrol_routes.geojson"
    before = gio.read_routes(routes_path)
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "路线调整")
        driver.login(page)
        page.get_by_text("贴合道路", exact=True).click()
        driver.settle(page)
        frame = _map_frame(page, driver)
        frame.locator("a.leaflet-draw-draw-polyline").click()
        container = frame.locator(".leaflet-container")
        box = container.bounding_box()
        for dx, dy in ((0.30, 0.30), (0.40, 0.32), (0.45, 0.40)):
            container.click(position={"x": box["width"] * dx, "y": box["height"] * dy}, force=True)
            page.wait_for_timeout(300)
        frame.locator(".leaflet-draw-actions a", has_text="完成").click()
        page.wait_for_selector("text=已贴合道路", timeout=60000)
        driver.settle(page)
        driver.choose(page, "新路线班次", "全天")
        page.wait_for_selector("text=预览覆盖变化", timeout=60000)
        page.get_by_label("修改人").fill("测试员")
        page.get_by_label("修改原因").fill("沿道路新增路线")
        page.get_by_role("button", name="保存路线").click()
        page.wait_for_selector("text=已保存为第 2 版", timeout=60000)
        after = gio.read_routes(routes_path)
        new = after[~after["route_id"].isin(before["route_id"])]
        assert len(new) == 1
        metric = gpd.GeoSeries(list(new.geometry), crs="EPSG:4326").to_crs("EPSG:4545").iloc[0]
        roads = _roads(data)
        far = [shapely.Point(xy).distance(roads) for xy in shapely.get_coordinates(metric)]
        assert max(far) < 0.5, far
        assert errors == []
    finally:
        context.close()


def test_route_vertices_edited_and_snapped_then_saved(browser, server, driver):
    url, data = server
    routes_path = data / "patrol_routes.geojson"
    before = gio.read_routes(routes_path)
    rid = str(before["route_id"].iloc[0])
    context, page, errors = driver.new_page(browser)
    try:
        driver.open(page, url)
        driver.pick_view(page, "路线调整")
        driver.login(page)
        page.get_by_text("修改已有路线的节点", exact=True).click()
        driver.settle(page)
        driver.choose(page, "要修改的路线", rid)
        frame = _map_frame(page, driver)
        frame.locator("path.editable-route").first.wait_for(state="attached", timeout=60000)
        frame.locator("a.leaflet-draw-edit-edit").click()
        handle = frame.locator(".leaflet-editing-icon").nth(1)
        handle.wait_for(timeout=30000)
        b = handle.bounding_box()
        cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        for step in range(1, 6):
            page.mouse.move(cx + 10 * step, cy + 6 * step)
            page.wait_for_timeout(50)
        page.mouse.up()
        frame.locator(".leaflet-draw-actions a", has_text="保存").click()
        page.wait_for_selector(f"text=路线 {rid} 已修改", timeout=60000)
        page.wait_for_selector("text=预览覆盖变化", timeout=60000)
        driver.settle(page)
        # snapping: every vertex of the draft lies on a road
        page.get_by_text("贴合道路", exact=True).click()
        page.wait_for_selector("text=已贴合道路", timeout=60000)
        driver.settle(page)
        page.get_by_label("修改人").fill("测试员")
        page.get_by_label("修改原因").fill("节点调整并贴合道路")
        page.get_by_role("button", name="保存路线").click()
        page.wait_for_selector("text=已保存为第 2 版", timeout=60000)
        after = gio.read_routes(routes_path)
        assert sorted(after["route_id"].astype(str)) == sorted(before["route_id"].astype(str))  # same routes, same ids
        new = after.loc[after["route_id"].astype(str) == rid].iloc[0]
        old = before.loc[before["route_id"].astype(str) == rid].iloc[0]
        assert new["team_id"] == old["team_id"] and new["shift"] == old["shift"]
        assert not new.geometry.equals_exact(old.geometry, 1e-7)
        metric = gpd.GeoSeries([new.geometry], crs="EPSG:4326").to_crs("EPSG:4545").iloc[0]
        roads = _roads(data)
        far = [shapely.Point(xy).distance(roads) for xy in shapely.get_coordinates(metric)]
        assert max(far) < 0.5, far
        others = after[after["route_id"].astype(str) != rid].set_index("route_id").geometry
        assert all(others[r].equals_exact(g, 1e-7) for r, g in before[before["route_id"].astype(str) != rid].set_index("route_id").geometry.items())
        assert errors == []
    finally:
        context.close()
