"""The one-page briefing downloaded from the overview in a real browser, in Chinese and in English."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _download(page, label: str) -> bytes:
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text=label)
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=120000) as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def test_overview_offers_the_briefing_as_pdf_and_png_in_both_languages(browser, server, driver):
    url, _data = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        driver.open(page, url)
        pdf = _download(page, "一页简报 PDF")
        assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)) == 1
        title = "沙河街道老旧小区巡防覆盖简报".encode("utf-16-be")
        assert b"\xfe\xff" in pdf and _unescaped(pdf).find(title) > 0
        png = _download(page, "一页简报图片 PNG")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"

        page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
        driver.settle(page)
        png_en = _download(page, "One-page briefing PNG")
        assert png_en[:8] == b"\x89PNG\r\n\x1a\n" and png_en != png
        width, height = struct.unpack(">II", png_en[16:24])
        assert abs(width / height - 297 / 210) < 0.01
        pdf_en = _download(page, "One-page briefing PDF")
        assert b"Shahe subdistrict: patrol coverage of the old estates" in pdf_en
        assert not errors, errors
    finally:
        context.close()


def _unescaped(pdf: bytes) -> bytes:
    """The PDF with its literal-string backslash escapes of brackets and backslashes undone (enough to find a UTF-16 title)."""
    return re.sub(rb"\\([()\\])", rb"\1", pdf)
