"""The 方案 (plan) section of 路线调整 in headless Chromium: the plan goes through the preview and is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import io as gio
from geo.report import coverage_table

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]


def _settle(page) -> None:
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => !(document.querySelector('[data-testid=\"stStatusWidget\"]')?.innerText || '').match(/Running|Stop/)", timeout=60000
    )
    page.wait_for_timeout(300)


def test_plan_flows_through_preview_and_save(browser, server, driver):
    url, data = server
    routes_path = data / "patrol_routes.geojson"
    original = routes_path.read_bytes()
    n_before = len(gio.read_routes(routes_path))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        page.wait_for_selector("text=覆盖率", timeout=90000)
        page.locator('[data-testid="stSidebar"]').get_by_text("路线调整", exact=True).click()
        page.wait_for_selector('h2:has-text("路线调整")', timeout=60000)
        _settle(page)
        page.get_by_label("编辑口令").fill(driver.password)
        page.get_by_role("button", name="登录编辑").click()
        page.wait_for_selector("text=已登录编辑权限", timeout=30000)
        _settle(page)
        page.get_by_text("方案：自动规划最省里程的路线延伸").click()
        page.wait_for_selector("text=方案共", timeout=120000)
        page.wait_for_selector("text=状态变化的小区", timeout=60000)
        _settle(page)
        summary = page.locator('[data-testid="stMarkdown"]').filter(has_text="方案共").first.inner_text()
        n_detours = int(summary.split("方案共")[1].split("段")[0].strip())
        assert "已证明最优" in summary
        page.get_by_text("每增加一段里程能多覆盖多少小区").click()  # the budget chart and its table
        page.wait_for_selector("text=达到目标的小区数", timeout=30000)
        _settle(page)
        assert routes_path.read_bytes() == original  # nothing saved by a preview
        page.get_by_label("修改人").fill("测试员")
        page.get_by_label("修改人").press("Enter")
        _settle(page)
        page.get_by_label("修改原因").fill("按方案延伸")
        page.get_by_label("修改原因").press("Enter")
        _settle(page)
        page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('保存路线') && !b.disabled)",
                               timeout=30000)
        page.screenshot(path="/tmp/app_plan.png")
        page.get_by_role("button", name="保存路线").click()
        page.wait_for_selector("text=已保存为第 2 版", timeout=60000)
        saved = gio.read_routes(routes_path)
        assert len(saved) == n_before + n_detours
        table = coverage_table(gio.read_estates(data / "estates.geojson"), saved)
        assert (table["status"] == "covered").all()
        assert errors == []
    finally:
        context.close()
