"""A throwaway PostgreSQL cluster for the lake store's tests: Debian's `postgresql` package (`.ci/run` installs it),
initialised into a temporary folder and served on a free loopback port, as the `postgres` user when run as root
(PostgreSQL refuses to run as root). Each test asks for a database of its own (`Cluster.new_database`).

The cluster trusts loopback connections for the `newton` role except `secret_role`, which must give its password
(`SECRET_PASSWORD`): tests of the password's ways in (PGPASSWORD, ~/.pgpass, secrets.toml) sign in as that one.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

SECRET_ROLE = "secret_role"
SECRET_PASSWORD = "lake-test-password-42"  # a throwaway cluster's
_numbers = itertools.count(1)


def server_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None when the package is not installed."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").is_file():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass(frozen=True)
class Cluster:
    """A running cluster on 127.0.0.1:`port`."""

    port: int
    folder: Path

    def conninfo(self, database: str, user: str = "newton") -> str:
        """A libpq connection string without a password."""
        return f"dbname={database} host=127.0.0.1 port={self.port} user={user}"

    def new_database(self, prefix: str = "lake") -> str:
        """A new empty database, owned by `newton`; its name."""
        name = f"{prefix}_{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}" OWNER newton')
        return name

    def sessions(self, database: str) -> int:
        """How many connections are open to `database` now (the lake's own, a lock's)."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as con:
            row = con.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
            ).fetchone()
        return int(row[0]) if row else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a cluster for the tests and stop it (and remove its files) afterwards."""
    bin_folder = server_bin()
    if bin_folder is None:
        raise RuntimeError("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="newton-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    run = _as_postgres
    subprocess.run(run([str(bin_folder / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                   check=True, capture_output=True)  # fmt: skip
    hba = data / "pg_hba.conf"
    rules = f"host all {SECRET_ROLE} 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\nlocal all all trust\n"
    _write_as_postgres(hba, rules)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
    subprocess.run(run([str(bin_folder / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w",
                        "start"]), check=True, capture_output=True)  # fmt: skip
    cluster = Cluster(port, folder)
    try:
        with psycopg.connect(cluster.conninfo("postgres", "postgres"), autocommit=True) as con:
            con.execute("CREATE ROLE newton LOGIN CREATEDB")
            con.execute(f"CREATE ROLE {SECRET_ROLE} LOGIN CREATEDB PASSWORD '{SECRET_PASSWORD}'")
            con.execute("GRANT newton TO secret_role")
        yield cluster
    finally:
        subprocess.run(run([str(bin_folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _write_as_postgres(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
