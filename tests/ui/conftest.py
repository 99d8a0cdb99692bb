"""Fixtures of the browser tests: the app served on a free port against a copy of data/, and page helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser-test-pw"
FOLIUM_IFRAME = "iframe[title='streamlit_folium.st_folium']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, require, shipped_data):
    """The app served as ``./run app`` serves it (``python -m ui.serve``) on a free port against a copy of data/; killed
    afterwards. Yields (url, data folder)."""
    from geo.maps import offline

    if not (offline.VENDOR_DIR / offline.MANIFEST_NAME).exists():
        require("map assets not vendored (run ./run setup)")
    data = shipped_data
    port = free_port()
    env = {**os.environ, "SHAHE_DATA_DIR": str(data), "SHAHE_EDITOR_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the app did not start:\n{(tmp_path / 'server.log').read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url, data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


class Driver:
    """Helpers that drive the app's page the way a user does."""

    password = PASSWORD
    map_iframe = FOLIUM_IFRAME

    @staticmethod
    def settle(page, *, quiet_checks: int = 4, timeout_s: float = 90.0) -> None:
        """Wait until no script run is going on for ``quiet_checks`` checks in a row (250 ms apart)."""
        quiet, deadline = 0, time.monotonic() + timeout_s
        while quiet < quiet_checks:
            if time.monotonic() > deadline:
                pytest.fail(f"the app kept running for more than {timeout_s:.0f} s")
            page.wait_for_timeout(250)
            busy = page.evaluate("() => /Running|Stop/.test(document.querySelector('[data-testid=stStatusWidget]')?.innerText || '')")
            quiet = 0 if busy else quiet + 1

    @staticmethod
    def new_page(browser):
        """A fresh context and page at 1400 x 1000 and the list its page errors go to: ``(context, page, errors)``."""
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        return context, page, errors

    def open(self, page, url: str) -> None:
        page.goto(url)
        page.wait_for_selector("h2", timeout=90000)
        self.settle(page)

    def pick_view(self, page, label: str) -> None:
        page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
        page.wait_for_selector(f'h2:has-text("{label}")', timeout=60000)
        self.settle(page)

    def login(self, page) -> None:
        page.get_by_label("编辑口令").fill(PASSWORD)
        page.get_by_role("button", name="登录编辑").click()
        page.wait_for_selector("text=已登录编辑权限", timeout=30000)
        self.settle(page)

    def choose(self, page, label: str, option: str) -> None:
        """Pick ``option`` in the select box labelled ``label`` by typing it (the list's own clicks are flaky)."""
        box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).last
        field = box.locator("input")
        field.click()
        field.fill(option)
        field.press("Enter")
        self.settle(page)

    def maps(self, page):
        """The map iframes of the page, as frame locators."""
        return [page.frame_locator(FOLIUM_IFRAME).nth(i) for i in range(page.locator(FOLIUM_IFRAME).count())]


@pytest.fixture
def driver() -> Driver:
    return Driver()
