"""A throw-away PostgreSQL + PostGIS cluster in a temporary folder, for the store tests and ``bench --postgis auto``.

``initdb`` from Debian's ``postgresql-15-postgis-3`` (``SHAHE_PG_BIN`` names
another folder of server binaries), trust authentication, listening only on a
Unix socket in the folder (no TCP), fsync off. Run as root (as CI does), the
cluster commands run as the ``postgres`` user through ``runuser``. The cluster
is stopped and its folder removed on leaving the ``with`` block.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PG_BIN", "POSTGIS_CONTROL", "Cluster", "ClusterUnavailable", "temporary_cluster"]

#: Folder of the PostgreSQL server binaries (``initdb``, ``pg_ctl``).
PG_BIN = Path(os.environ.get("SHAHE_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: Present when PostGIS is installed for that server.
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


class ClusterUnavailable(Exception):
    """No cluster can be started here; the message says why and how to fix it."""


@dataclass(frozen=True)
class Cluster:
    """A running throw-away cluster: its socket folder and the database that has PostGIS."""

    socket_dir: Path
    database: str

    @property
    def dsn(self) -> str:
        """libpq connection string of :attr:`database`."""
        return f"host={self.socket_dir} user=postgres dbname={self.database}"


def _as_cluster_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def temporary_cluster(*, database: str = "postgres", prefix: str = "shahe-pg-"):
    """Start a throw-away cluster with PostGIS in ``database`` (made when it is not ``postgres``); yield a :class:`Cluster`.

    Raises
    ------
    ClusterUnavailable
        Before yielding, when the server binaries or PostGIS are missing, when
        run as root without a ``postgres`` user, or when the cluster does not start.
    """
    if not (PG_BIN / "initdb").exists() or not POSTGIS_CONTROL.exists():
        msg = f"no {PG_BIN}/initdb with PostGIS (Debian: apt-get install postgresql-15-postgis-3)"
        raise ClusterUnavailable(msg)
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            msg = "running as root and there is no 'postgres' user to run the cluster as"
            raise ClusterUnavailable(msg) from None
    root = Path(tempfile.mkdtemp(prefix=prefix))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    if owner is not None:
        os.chmod(root, 0o755)
        for p in (root, sock):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    started = False
    try:
        try:
            subprocess.run(_as_cluster_user([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                           check=True, capture_output=True, env=env)
            opts = f"-k {sock} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            subprocess.run(_as_cluster_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]),
                           check=True, capture_output=True, env=env)
            started = True
        except subprocess.CalledProcessError as exc:
            text = (exc.stderr or b"").decode(errors="replace") + (log.read_text(errors="replace") if log.exists() else "")
            msg = f"the temporary PostgreSQL cluster did not start: {text.strip()[-500:]}"
            raise ClusterUnavailable(msg) from None
        import psycopg

        if database != "postgres":
            with psycopg.connect(host=str(sock), user="postgres", dbname="postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
        with psycopg.connect(host=str(sock), user="postgres", dbname=database, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield Cluster(sock, database)
    finally:
        if started:
            subprocess.run(_as_cluster_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
