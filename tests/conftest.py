"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# --- browser (tests marked `browser`) ------------------------------------------------

#: Debian's Chromium; Playwright's own browser download is never used.
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright; skips when either is missing."""
    if not CHROMIUM_PATH.exists() and shutil.which("chromium") is None:
        pytest.skip("browser test skipped: /usr/bin/chromium is missing (Debian: apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser test skipped: playwright for Python is not installed (pip install -r requirements-dev.txt)")
    executable = str(CHROMIUM_PATH) if CHROMIUM_PATH.exists() else shutil.which("chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# --- a private copy of the shipped data folder ------------------------------------------

SHIPPED_DATA = Path(__file__).resolve().parents[1] / "data"


def folder_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (lock files, which carry no data, left out)."""
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the shipped data folder that the engine uses as its data folder (``SHAHE_DATA_DIR`` too)."""
    from geo import settings

    folder = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, folder)
    monkeypatch.setattr(settings, "data_dir", folder)
    monkeypatch.setenv("SHAHE_DATA_DIR", str(folder))
    return folder
