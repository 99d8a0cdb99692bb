"""The app's launcher (ui.serve): the server prepares the first page (imports, the embedded store) before anyone opens it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.ui.conftest import ROOT, free_port

_WARM = (
    "import sys\n"
    "from ui import serve\n"
    "before = {m for m in ('geopandas', 'folium', 'scipy', 'ui.overview', 'ui.editor', 'matplotlib.backends.backend_agg') if m in sys.modules}\n"
    "seconds = serve.warm_up()\n"
    "after = {m for m in ('geopandas', 'folium', 'scipy', 'ui.overview', 'ui.editor', 'matplotlib.backends.backend_agg') if m in sys.modules}\n"
    "print(sorted(before), sorted(after), seconds > 0)\n"
)


def _warm(data: Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "SHAHE_STORE"} | {"SHAHE_DATA_DIR": str(data), **env}
    done = subprocess.run([sys.executable, "-c", _WARM], cwd=ROOT, env=environ, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_the_warm_up_imports_the_views_and_makes_the_embedded_store(shipped_data):
    assert not (shipped_data / "shahe.gpkg").exists()
    out = _warm(shipped_data)
    assert out == "[] ['folium', 'geopandas', 'matplotlib.backends.backend_agg', 'scipy', 'ui.editor', 'ui.overview'] True"
    assert (shipped_data / "shahe.gpkg").exists()
    # the rectification records are in the store already, as many as the shipped files hold
    import pandas as pd

    from geo.store import open_store

    with open_store(shipped_data / "shahe.gpkg", data_dir=shipped_data) as store:
        for kind in ("measures", "meetings"):
            shipped = pd.read_csv(shipped_data / "rectification" / f"{kind}.csv", dtype=str)
            assert len(store.list(f"rect_{kind}")) == len(shipped) > 0
    made = (shipped_data / "shahe.gpkg").stat().st_mtime_ns
    _warm(shipped_data)  # a store already there is kept as it is
    assert (shipped_data / "shahe.gpkg").stat().st_mtime_ns == made


def test_the_warm_up_makes_no_embedded_store_beside_a_named_store(shipped_data, tmp_path):
    _warm(shipped_data, SHAHE_STORE=str(tmp_path / "shared.gpkg"))
    assert not (shipped_data / "shahe.gpkg").exists()


def test_the_served_app_makes_its_store_before_the_first_page_is_opened(shipped_data, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SHAHE_STORE"} | {"SHAHE_DATA_DIR": str(shipped_data), "PYTHONPATH": str(ROOT)}
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            healthy = False
            while time.monotonic() < deadline and not (healthy and (shipped_data / "shahe.gpkg").exists()):
                if proc.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        healthy = r.status == 200
                except OSError:
                    pass
                time.sleep(0.25)
            assert healthy, log.read_text(errors="replace")[-3000:]
            # no browser has connected: only the launcher's warm-up can have made the store
            assert (shipped_data / "shahe.gpkg").exists(), log.read_text(errors="replace")[-3000:]
            assert "warm-up stopped" not in log.read_text(errors="replace")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
