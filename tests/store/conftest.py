"""Fixtures of the store suite: every test runs on the embedded GeoPackage and on a real PostGIS.

The PostGIS server is a throw-away cluster made for the test session: ``initdb``
from Debian's ``postgresql-15-postgis-3``, trust authentication, listening only
on a Unix socket in a temporary folder (no TCP). Run as root (as CI does), the
cluster commands run as the ``postgres`` user through ``runuser``. Each test
gets a fresh database copied from a template that already has PostGIS.

Without the server binaries the PostGIS half skips with the command that
installs them; under ``CI=true`` it fails instead, so CI never passes untested.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("SHAHE_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
DATA = Path(__file__).resolve().parents[2] / "data"
_counter = itertools.count()


def skip_or_fail(reason: str) -> None:
    """Skip a test for want of PostGIS, or fail it under ``CI=true``."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def _as_cluster_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgis_server():
    """Start a throw-away PostgreSQL+PostGIS cluster; yield (socket folder, template database)."""
    if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
        skip_or_fail(f"PostGIS tests need {PG_BIN}/initdb and PostGIS (Debian: apt-get install postgresql-15-postgis-3)")
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            skip_or_fail("running as root and there is no 'postgres' user to run the test cluster as")
    root = Path(tempfile.mkdtemp(prefix="shahe-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        os.chmod(root, 0o755)
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    log = root / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run(_as_cluster_user([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                       check=True, capture_output=True, env=env)
        opts = f"-k {sock} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(_as_cluster_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]),
                       check=True, capture_output=True, env=env)
    except subprocess.CalledProcessError as exc:
        text = (exc.stderr or b"").decode(errors="replace") + (log.read_text() if log.exists() else "")
        shutil.rmtree(root, ignore_errors=True)
        skip_or_fail(f"the test PostgreSQL cluster did not start: {text.strip()[-500:]}")
    try:
        import psycopg

        with psycopg.connect(host=str(sock), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE shahe_template")
        with psycopg.connect(host=str(sock), user="postgres", dbname="shahe_template", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield sock, "shahe_template"
    finally:
        subprocess.run(_as_cluster_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def fresh_postgis_url(server) -> str:
    """A new, empty database with PostGIS on the test cluster; its URL."""
    import psycopg

    sock, template = server
    name = f"shahe_t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(host=str(sock), user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"postgresql://postgres@/{name}?host={sock}"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A copy of the shipped data folder."""
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder / "route_history")
    return folder


@pytest.fixture(params=["geopackage", "postgis"])
def store_url(request, tmp_path) -> str:
    """URL of an empty store with its schema, on each backend in turn."""
    if request.param == "geopackage":
        url = str(tmp_path / "empty.gpkg")
        from geo.store.api import Store
        from geo.store.sqlite import SqliteBackend

        Store(SqliteBackend(url), auto_migrate=True).close()
        return url
    server = request.getfixturevalue("postgis_server")
    url = fresh_postgis_url(server)
    from geo.store.api import Store
    from geo.store.postgis import PostgisBackend

    Store(PostgisBackend(url), auto_migrate=True).close()  # what "python -m geo store init" does
    return url


@pytest.fixture
def store(store_url):
    """An open, empty store on each backend in turn."""
    from geo.store import open_store

    s = open_store(store_url)
    yield s
    s.close()
