"""Shared pytest fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# --- browser (tests marked `browser`) ------------------------------------------------

#: Debian's Chromium; Playwright's own browser download is never used.
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def cannot_run(reason: str) -> None:
    """Skip a test that needs something missing; under ``CI=true`` fail instead, so CI never passes by skipping."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a test that cannot run fails)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def require():
    """:func:`cannot_run` as a fixture, for test modules elsewhere in the tree."""
    return cannot_run


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright; skips when either is missing (fails under CI=true)."""
    if not CHROMIUM_PATH.exists() and shutil.which("chromium") is None:
        cannot_run("browser test skipped: /usr/bin/chromium is missing (Debian: apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        cannot_run("browser test skipped: playwright for Python is not installed (pip install -r requirements-dev.txt)")
    executable = str(CHROMIUM_PATH) if CHROMIUM_PATH.exists() else shutil.which("chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# --- shared data -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DATA = ROOT / "data"


#: What running the app or the command line on ``data/`` leaves there (a user's store and its copies; see .gitignore):
#: never copied with the shipped files, so a test sees the same folder on a fresh checkout and after a local run.
LOCAL_STATE = ("shahe.gpkg", "shahe.gpkg-*", ".shahe.gpkg.*", "patrol_routes.before-store-*.geojson", "*.before-store-*.csv")


def pytest_sessionstart(session) -> None:
    session.config.shipped_store_before = (SHIPPED_DATA / "shahe.gpkg").exists()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run when a test made a store in the repository's data folder (an app or command run on it, not a copy)."""
    if not session.config.shipped_store_before and (SHIPPED_DATA / "shahe.gpkg").exists():
        session.config.get_terminal_writer().line(
            f"error: a test made {SHIPPED_DATA / 'shahe.gpkg'}; run the app or command on a copy (the shipped_data fixture)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def pool_sizes(monkeypatch):
    """``pool_sizes(module)``: a list that gets the ``max_workers`` of every ThreadPoolExecutor ``module`` makes from then on."""

    def watch(module) -> list:
        sizes = []
        real = module.ThreadPoolExecutor

        def counting(*args, **kwargs):
            sizes.append(kwargs.get("max_workers"))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "ThreadPoolExecutor", counting)
        return sizes

    return watch


def copy_shipped_data(dest: Path, *leave_out: str) -> Path:
    """Copy the shipped ``data/`` folder to ``dest`` without :data:`LOCAL_STATE` and the ``leave_out`` patterns."""
    shutil.copytree(SHIPPED_DATA, dest, ignore=shutil.ignore_patterns(*LOCAL_STATE, *leave_out))
    return dest


@pytest.fixture
def shipped_data(tmp_path) -> Path:
    """A copy of the shipped ``data/`` folder (without route history) to run against and change."""
    return copy_shipped_data(tmp_path / "data", "route_history")


@pytest.fixture
def incident_store(tmp_path):
    """Write incidents as a store file: ``incident_store(frame, synthetic=True) -> path``.

    ``frame`` has ``lon``, ``lat``, ``time`` (datetimes, local), ``category`` and
    ``source``; the other store columns are filled (ids ``T0``, ``T1``, ...).
    """
    from geo.incidents.store import STORE_COLUMNS, write_store

    def write(frame, *, synthetic: bool = True, path: Path | None = None) -> Path:
        store = frame.assign(
            incident_id=[f"T{i}" for i in range(len(frame))],
            time=frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            subcategory="",
            address="",
            text="",
            synthetic="true" if synthetic else "false",
            x_geocode_quality="given",
        )[list(STORE_COLUMNS)]
        return write_store(store, path or tmp_path / "incidents.csv")

    return write


# --- a private copy of the shipped data folder ------------------------------------------

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

    folder = copy_shipped_data(tmp_path / "data")
    monkeypatch.setattr(settings, "data_dir", folder)
    monkeypatch.setenv("SHAHE_DATA_DIR", str(folder))
    return folder
