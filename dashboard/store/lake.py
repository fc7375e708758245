"""The store on a DuckLake with a PostgreSQL catalog: the same tables and SQL as the file (`dashboard.store`), its
Parquet files under a directory or `s3://`, shared by every process on every machine.

Per process one in-memory DuckDB database per lake holds the lake attached (an ATTACH costs PostgreSQL round
trips); each read or write gets its own cursor. Extensions load by path from the installed wheels, never from the
network. What the file's locks do here is done by PostgreSQL advisory locks, held on a connection of their own for
as long as the work lasts (a killed process frees them): one sync per account, and one claim per write key.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import duckdb
import psycopg

from dashboard.errors import CacheBusy, CacheError
from dashboard.store import schema
from dashboard.store.location import LakeLocation, lake_password, mask
from dashboard.store.quarantine import Quarantined
from dashboard.store.reading import Reading

T = TypeVar("T")
P = ParamSpec("P")
Connection = duckdb.DuckDBPyConnection
ALIAS = schema.LAKE_ALIAS
LOCK_WAIT_SECONDS = 60.0
COMMIT_TRIES = 5  # a write refused as a conflict with another process's commit is run again, up to this often
_DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

_databases: dict[str, duckdb.DuckDBPyConnection] = {}
_databases_lock = threading.Lock()
_extensions: Path | None = None


def _extension(name: str) -> Path:
    """The wheel's extension file, under the name its entry point wants (postgres's is `postgres_scanner`), in a
    folder of this process's own."""
    global _extensions
    if _extensions is None:
        _extensions = Path(tempfile.mkdtemp(prefix="newton-extensions-"))
        atexit.register(shutil.rmtree, _extensions, True)
    module = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres",
              "httpfs": "duckdb_extension_httpfs"}[name]  # fmt: skip
    package = Path(__import__(module).__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    source = package / f"{name.replace('_scanner', '')}.duckdb_extension"
    target = _extensions / f"{name}.duckdb_extension"
    if not target.exists():
        shutil.copyfile(source, target)
    return target


def quoted(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _open_database(location: LakeLocation) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect(config=_DUCKDB_CONFIG)
    try:
        for name in ("ducklake", "postgres_scanner", *(("httpfs",) if location.on_s3 else ())):
            db.execute(f"LOAD {quoted(str(_extension(name)))}")
        password = lake_password(location)
        if password is not None:
            # A secret, not the connection string: DuckDB lists attached paths and quotes them in its errors. The
            # default (unnamed) one: the postgres extension looks for it by that name.
            _create_secret(db, f"CREATE SECRET (TYPE postgres, PASSWORD {quoted(password)})", location)
        if location.on_s3:
            _create_secret(db, _s3_secret(location), location)
        # One process at a time: two attaching a new lake at once would both create DuckLake's catalog tables
        # (and then ours), and the second fails on PostgreSQL's duplicate key.
        with advisory_lock(location, "newton-open", LOCK_WAIT_SECONDS, lambda: _busy_opening(location)):
            db.execute(
                f"ATTACH {quoted('ducklake:postgres:' + location.catalog)} AS {ALIAS} "
                f"(DATA_PATH {quoted(location.data_path)})"
            )
            cursor = db.cursor()
            try:
                cursor.execute(f"USE {ALIAS}")
                schema.prepare(cursor, location.identity(), lake=True)
            finally:
                cursor.close()
    except BaseException as error:
        db.close()
        if not isinstance(error, duckdb.Error):
            raise
        raise CacheError(f"The lake {location} cannot be opened: {mask(str(error))}") from None
    return db


def _create_secret(db: duckdb.DuckDBPyConnection, statement: str, location: LakeLocation) -> None:
    try:
        db.execute(statement)
    except duckdb.Error as error:
        # Never DuckDB's words here: its parser quotes the statement, and so the secret in it (a password holding a
        # NUL character ends the quoted string early, and the rest is shown).
        raise CacheError(
            f"The lake {location} cannot be opened: DuckDB refused its password or S3 settings ({type(error).__name__})"
        ) from None


def _busy_opening(location: LakeLocation) -> CacheError:
    return CacheBusy(f"The lake {location} is busy: another process kept opening it for over {LOCK_WAIT_SECONDS:.0f} s")


def _s3_secret(location: LakeLocation) -> str:
    s3 = location.s3
    options = ["TYPE s3"]
    for key, value in (("KEY_ID", s3.key_id), ("SECRET", s3.secret), ("REGION", s3.region),
                       ("URL_STYLE", s3.url_style)):  # fmt: skip
        if value:
            options.append(f"{key} {quoted(value)}")
    if s3.endpoint:
        endpoint = s3.endpoint
        if endpoint.startswith("http://"):
            options.append("USE_SSL false")
        options.append(f"ENDPOINT {quoted(endpoint.split('://', 1)[-1].rstrip('/'))}")
    return f"CREATE SECRET newton_s3 ({', '.join(options)})"


def database(location: LakeLocation) -> duckdb.DuckDBPyConnection:
    """This process's database with the lake attached (and its schema prepared), opened at the first use."""
    key = location.identity()
    with _databases_lock:
        db = _databases.get(key)
        if db is None:
            db = _databases[key] = _open_database(location)
        return db


def close_databases() -> None:
    """Close every lake this process opened (tests, and a command that is done)."""
    with _databases_lock:
        for db in _databases.values():
            db.close()
        _databases.clear()


@contextmanager
def cursor(location: LakeLocation) -> Iterator[Connection]:
    """A cursor of its own on the lake, for one piece of work, its tables named as in the file."""
    cur = database(location).cursor()
    try:
        cur.execute(f"USE {ALIAS}")
        yield cur
    finally:
        cur.close()


@contextmanager
def advisory_lock(location: LakeLocation, key: str, wait: float, busy: Callable[[], CacheError]) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock `key` on the catalog for the block, on a connection of its own (a killed
    process's connection closes, and frees it); `busy()` is raised after `wait` seconds."""
    password = lake_password(location)
    extra: dict[str, Any] = {"password": password} if password is not None else {}
    try:
        con = psycopg.connect(location.catalog, autocommit=True, connect_timeout=10, **extra)
    except psycopg.Error as error:
        raise CacheError(f"The lake's catalog {location} cannot be reached: {mask(str(error))}") from None
    try:
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            row = con.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key]).fetchone()
            if row is not None and row[0]:
                break
            if time.monotonic() >= deadline:
                raise busy()
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        yield
    finally:
        con.close()  # the lock goes with its session


class LakeStore:
    """The data of every account on one lake: `dashboard.store.Store`'s interface."""

    def __init__(self, location: LakeLocation, wait: float = LOCK_WAIT_SECONDS) -> None:
        self.location = location
        self.wait = wait

    def __repr__(self) -> str:
        return f"LakeStore({self.location})"

    @property
    def identity(self) -> str:
        """The lake's catalog (masked) and data path: a scope of memoized answers."""
        return self.location.identity()

    def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(cursor, *args, **kwargs)` on a cursor of its own."""
        with cursor(self.location) as cur:
            return fn(cur, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(cursor, *args, **kwargs)` in one transaction: all of it is committed, or none. A commit that meets
        another process's (two accounts' syncs rewriting one file, say) is refused by DuckLake as a conflict and
        nothing of it is kept: the whole transaction is run again, a few times."""
        for attempt in range(1, COMMIT_TRIES + 1):
            try:
                return self._write_once(fn, *args, **kwargs)
            except duckdb.TransactionException:
                if attempt == COMMIT_TRIES:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _write_once(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with cursor(self.location) as cur:
            cur.begin()
            try:
                result = fn(cur, *args, **kwargs)
            except BaseException:
                cur.rollback()
                raise
            cur.commit()
            return result

    @contextmanager
    def reading(self) -> Iterator[Reading]:
        """Reads sharing one cursor, taken at the first of them."""
        with ExitStack() as stack:
            yield Reading(lambda: cursor(self.location), stack)

    @contextmanager
    def one_sync_at_a_time(
        self, wait: float, busy: Callable[[Any], CacheError], account: str | None = None
    ) -> Iterator[None]:
        """One sync per account at a time, on every machine: an advisory lock on the catalog."""
        with advisory_lock(self.location, f"newton-sync:{account or ''}", wait, lambda: busy(self.location)):
            yield

    @contextmanager
    def exclusively(self, key: str) -> Iterator[None]:
        """One holder of `key` at a time on every machine (a write's claim): DuckLake's snapshot isolation lets
        two "no claim yet, so insert one" transactions both commit, so they take turns here first."""

        def busy() -> CacheError:
            return CacheBusy(
                f"The lake {self.location} is busy: another server kept {key!r} for over {self.wait:.0f} s"
            )

        with advisory_lock(self.location, f"newton-claim:{key}", self.wait, busy):
            yield

    def quarantine_if_damaged(self) -> Quarantined | None:
        """Nothing to move aside: a lake's files and catalog are not one file (PostgreSQL keeps its own)."""
        return None


def maintain(location: LakeLocation, keep_days: int, now: datetime) -> list[str]:
    """Merge small adjacent files, expire snapshots older than `keep_days` before `now` (naive UTC) and delete the
    files no snapshot needs any more; one line per step saying what it did."""
    done = []
    with cursor(location) as cur:
        # Counted in SQL: the functions' rows hold TIMESTAMP WITH TIME ZONE, which Python reads only with pytz.
        merged = _count(cur, f"ducklake_merge_adjacent_files('{ALIAS}')")
        done.append(f"merged adjacent files: {merged} file(s) written")
        older = (now - timedelta(days=keep_days)).replace(microsecond=0)
        expired = _count(cur, f"ducklake_expire_snapshots('{ALIAS}', older_than => TIMESTAMP '{older.isoformat(' ')}')")
        done.append(f"expired snapshots older than {older:%Y-%m-%d %H:%M} UTC: {expired}")
        cleaned = _count(cur, f"ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)")
        done.append(f"deleted old files: {cleaned}")
    return done


def _count(cur: Connection, call: str) -> int:
    return int(cur.execute(f"SELECT count(*) FROM {call}").fetchall()[0][0])  # noqa: S608 - our own calls
