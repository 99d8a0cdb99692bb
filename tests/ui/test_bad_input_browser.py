"""Bad route input in the editor, in a real browser: one sentence in the current language, nothing saved, the draft kept."""

from __future__ import annotations

import json

import pyproj
import pytest

from tests.conftest import folder_digest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_X, _Y = pyproj.Transformer.from_crs(4326, 4545, always_xy=True).transform(108.37, 30.84)
GPX_WAYPOINTS = ('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                 '<wpt lat="30.84" lon="108.37"/><wpt lat="30.845" lon="108.372"/></gpx>')

#: case -> (how it is given, content, the sentence the page must show in Chinese, and in English)
CASES = {
    "epsg4545_metres": ("paste", {"type": "LineString", "coordinates": [[_X, _Y], [_X + 300.0, _Y + 200.0]]},
                        "坐标不是经纬度（像是以米为单位的投影坐标", "The coordinates are not longitude and latitude"),
    "far_outside_shahe": ("paste", {"type": "LineString", "coordinates": [[116.39, 39.90], [116.40, 39.91]]},
                          "这条线不在沙河街道（离每个老旧小区都超过 5 公里）", "This line is not in Shahe (more than 5 km from every estate)"),
    "one_point": ("paste", {"type": "LineString", "coordinates": [[108.37, 30.84]]},
                  "这条线只有一个点", "This line has only one point"),
    "polygon": ("paste", {"type": "Polygon", "coordinates": [[[108.37, 30.84], [108.371, 30.84], [108.371, 30.841], [108.37, 30.84]]]},
                "这是面或点，不是线", "This is a polygon or a point, not a line"),
    "gpx_waypoints_only": ("upload", GPX_WAYPOINTS, "GPX 文件只有航点，没有轨迹", "The GPX file has only waypoints"),
    "upload_of_50_mb": ("upload_big", None, "文件太大：路线文件最多 5 MB", "The file is too large: a route file may have at most 5 MB"),
}


def _saved(data) -> tuple[dict[str, str], int]:
    """What a save would change: the data folder's files (the embedded store the app makes on its first start left
    out, as its file changes on every read in WAL mode) and the number of route versions in the store in use."""
    from geo.routes.shared import open_route_store

    files = {k: v for k, v in folder_digest(data).items() if not k.startswith(("shahe.gpkg", ".shahe.gpkg"))}
    return files, len(open_route_store(data / "patrol_routes.geojson").versions())


def _alerts(page, text: str):
    return page.locator('[data-testid="stAlertContentError"]').filter(has_text=text)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_route_input_is_answered_in_the_page(case, browser, server, driver, tmp_path):
    how, content, zh, en = CASES[case]
    url, data = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        driver.open(page, url)
        driver.pick_view(page, "路线调整")
        driver.login(page)
        before = _saved(data)  # after the first page run, which makes the embedded store from the shipped files
        if how == "paste":
            text = json.dumps(content)
            page.get_by_role("tab", name="粘贴 GeoJSON").click()
            area = page.get_by_label("GeoJSON（线）")
            area.fill(text)
            area.press("Control+Enter")
        else:
            name = "walk.gpx" if how == "upload" else "big.geojson"
            path = tmp_path / name
            if how == "upload":
                path.write_text(content, encoding="utf-8")
            else:
                with path.open("wb") as f:  # 50 MB: more than the route limit (5 MB), less than Streamlit's upload cap (60 MB)
                    f.write(b'{"type": "LineString", "coordinates": [[108.37, 30.84], [108.372, 30.841]]}')
                    f.truncate(50 * 1024 * 1024)
            page.get_by_role("tab", name="上传文件").click()
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
        driver.settle(page)
        _alerts(page, zh).first.wait_for(timeout=60000)
        assert _alerts(page, zh).count() == 1
        assert "MB or smaller" not in page.content()  # not Streamlit's own English size message
        # Nothing saved: no draft to save, the data folder and the route versions untouched.
        assert page.get_by_role("button", name="保存路线").is_disabled()
        assert _saved(data) == before
        # The draft is kept: the pasted text or the uploaded file is still there to fix ...
        if how == "paste":
            assert area.input_value() == text
        else:
            assert page.locator('[data-testid="stFileUploader"]').get_by_text(name, exact=True).count() == 1
        # ... also after switching to English, where the same sentence reads in English only.
        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        driver.settle(page)
        page.get_by_role("tab", name="Paste GeoJSON" if how == "paste" else "Upload a file").click()  # tabs open on the first again
        _alerts(page, en).first.wait_for(timeout=60000)
        assert _alerts(page, zh).count() == 0
        if how == "paste":
            assert page.get_by_label("GeoJSON (lines)").input_value() == text
        assert _saved(data) == before
        assert not errors, errors
    finally:
        context.close()
