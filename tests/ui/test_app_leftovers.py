"""The app removes temporary files of killed writes when it starts (finding 13 of the attack)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from geo import settings
from tests.conftest import copy_shipped_data

ROOT = Path(__file__).resolve().parents[2]


def test_app_start_cleans_old_leftovers(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    data = tmp_path / "data"
    copy_shipped_data(data, "route_history")
    monkeypatch.setenv("SHAHE_DATA_DIR", str(data))
    monkeypatch.setattr(settings, "data_dir", data)
    old = data / ".incidents.csv.k3j9x_2a.tmp"
    old.write_text("half a store")
    then = time.time() - 300
    os.utime(old, (then, then))
    young = data / ".estates.geojson.abcd1234.tmp"
    young.write_text("{")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert not old.exists()
    assert young.exists()
