"""Arrow's allocator for the process (geo._arrow_pool): jemalloc where pyarrow has it, the user's choice kept.

Each case runs in a fresh interpreter: the allocator is the process's, and the
test run's own must not change under other tests.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import settings
from geo._arrow_pool import POOL_VARIABLE

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, *, pool: str | None = None, cwd: Path = ROOT, data: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != POOL_VARIABLE}
    if pool is not None:
        env[POOL_VARIABLE] = pool
    if data is not None:  # the app's data folder (it makes its store there)
        env["SHAHE_DATA_DIR"] = str(data)
        env.pop("SHAHE_STORE", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


HAS_JEMALLOC = """
import json, pyarrow as pa
try:
    pa.jemalloc_memory_pool()
    has = True
except NotImplementedError:
    has = False
print(json.dumps({"has": has, "default": pa.default_memory_pool().backend_name}))
"""

USE = """
import json, pyarrow as pa
from geo._arrow_pool import use_jemalloc
name = use_jemalloc()
print(json.dumps({"returned": name, "now": pa.default_memory_pool().backend_name}))
"""


@pytest.fixture(scope="module")
def pyarrow_build() -> dict:
    """Whether this pyarrow has jemalloc, and its own default allocator, asked of pyarrow itself."""
    return _python(HAS_JEMALLOC)


def test_jemalloc_becomes_the_default_where_pyarrow_has_it(pyarrow_build):
    out = _python(USE)
    expected = "jemalloc" if pyarrow_build["has"] else pyarrow_build["default"]
    assert out == {"returned": expected, "now": expected}


def test_linux_wheels_have_jemalloc(pyarrow_build):
    if not sys.platform.startswith("linux"):
        pytest.skip("pyarrow ships jemalloc in its Linux wheels; other platforms keep their default")
    assert pyarrow_build["has"]


@pytest.mark.parametrize("chosen", ["system", "mimalloc"])
def test_the_users_choice_is_kept(chosen):
    assert _python(USE, pool=chosen) == {"returned": chosen, "now": chosen}


def test_the_command_line_switches_before_any_command_runs(pyarrow_build):
    code = f"""
import json, sys, pyarrow as pa
import geo.cli.main
main = sys.modules["geo.cli.main"].main
status = main(["validate", {str(settings.data_path("estates.geojson"))!r}])
print(json.dumps({{"status": status, "now": pa.default_memory_pool().backend_name}}))
"""
    out = _python(code)
    assert out == {"status": 0, "now": "jemalloc" if pyarrow_build["has"] else pyarrow_build["default"]}


def test_the_report_is_the_same_under_every_allocator(tmp_path):
    """The allocator decides where Arrow's buffers live, never what they hold: the report is byte for byte the same."""
    reports = {}
    for pool in (None, "mimalloc", "system"):
        out = tmp_path / f"report_{pool}.csv"
        env = {k: v for k, v in os.environ.items() if k != POOL_VARIABLE}
        if pool is not None:
            env[POOL_VARIABLE] = pool
        subprocess.run([sys.executable, "-m", "geo", "coverage", "--out", str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
        reports[pool] = out.read_bytes()
    assert len(reports[None]) > 1000
    assert reports[None] == reports["mimalloc"] == reports["system"]


def test_the_app_switches_too(pyarrow_build, shipped_data):
    """The Streamlit app, run as a script in a fresh interpreter, leaves jemalloc as Arrow's allocator."""
    code = """
import json
import pyarrow as pa
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120).run()
print(json.dumps({"exceptions": len(at.exception), "now": pa.default_memory_pool().backend_name}))
"""
    out = _python(code, data=shipped_data)  # a copy: the app makes its store in its data folder, never in the repository's
    assert out == {"exceptions": 0, "now": "jemalloc" if pyarrow_build["has"] else pyarrow_build["default"]}
