"""Fixtures of the store suite: every test runs on the embedded GeoPackage and on a real PostGIS.

The PostGIS server is a throw-away cluster made for the test session
(:func:`benchmarks.pgcluster.temporary_cluster`: ``initdb`` from Debian's
``postgresql-15-postgis-3``, trust authentication, a Unix socket in a temporary
folder, no TCP; run as root, as CI does, through ``runuser`` as ``postgres``).
Each test gets a fresh database copied from a template that already has PostGIS.

Without the server binaries the PostGIS half skips with the command that
installs them; under ``CI=true`` it fails instead, so CI never passes untested.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from pathlib import Path

import pytest

from benchmarks.pgcluster import ClusterUnavailable, temporary_cluster
from tests.conftest import copy_shipped_data

DATA = Path(__file__).resolve().parents[2] / "data"
_counter = itertools.count()


def skip_or_fail(reason: str) -> None:
    """Skip a test for want of PostGIS, or fail it under ``CI=true``."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgis_server():
    """Start a throw-away PostgreSQL+PostGIS cluster; yield (socket folder, template database)."""
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(temporary_cluster(database="shahe_template"))
        except ClusterUnavailable as exc:
            skip_or_fail(f"PostGIS tests need a PostgreSQL cluster: {exc}")
        yield cluster.socket_dir, cluster.database


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
    copy_shipped_data(folder)
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
