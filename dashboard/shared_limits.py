"""What protects one dashboard server protects all of them: the password-tries limit kept in the lake's PostgreSQL.

With the DuckDB file store there is one dashboard server, and `dashboard.access.PASSWORD_TRIES` (an object of the
process) counts the tries. With the lake (`NEWTON_CACHE=ducklake:postgres:<libpq string>`) several servers on
several machines answer the same password, so they count in one table of the lake's catalog database: N servers give
no more tries than one. Each count runs in a transaction that first takes `pg_advisory_xact_lock` for the caller, so
two servers counting the same caller at the same moment take turns, as the threads of one server do.

If PostgreSQL cannot be reached, nobody may try a password (`TriesUnavailable`): the door fails closed, never open.

The idle limit of a password session is not kept here, on purpose: a password session lives in the Streamlit session
of one server process (the proxy pins a browser to it). A browser that lands on another server, or on a restarted
one, gets a new session that starts at the door, so no server can keep alive a session another one ended, and there
is nothing to share (docs/running-at-scale.md, "Sessions").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final, Protocol

import psycopg
from psycopg import conninfo as libpq

from dashboard.access import FIRST_DELAY, MAX_DELAY, PASSWORD_TRIES, TRIES_PER_MINUTE
from dashboard.errors import TriesUnavailable
from dashboard.store.location import LakeLocation, lake_password

TABLE: Final = "newton_password_tries"  # written out in the SQL below; DuckLake's catalog tables are ducklake_*
TIMEOUT: Final = 5  # seconds to connect, and for each statement: a door that cannot count soon says so, never hangs
_LOCK_SPACE: Final = "newton_password_tries:"  # advisory lock keys: hashed with this prefix, apart from others'
_log = logging.getLogger(__name__)


class PasswordTries(Protocol):
    """What the door needs of a tries limiter: `TryLimiter` (one process) or `SharedTryLimiter` (every server)."""

    def wait(self, caller: str) -> float: ...
    def begin(self, caller: str) -> float: ...
    def succeeded(self, caller: str) -> None: ...
    def failed(self, caller: str) -> None: ...
    def delay(self, caller: str) -> float: ...
    def forget(self) -> None: ...


class SharedTryLimiter:
    """At most `limit` password tries that did not succeed per `window` seconds for each caller, counted in
    PostgreSQL for every dashboard server on one catalog; `TryLimiter`'s interface and meaning.

    `catalog` is a libpq connection string; the password comes from where the lake store finds it (PGPASSWORD,
    ~/.pgpass, `[lake] password` in secrets.toml: `lake_password`), so one setting opens both.
    Times are PostgreSQL's clock (one clock for every server, whatever their own clocks say) unless `clock` is
    given (tests: seconds on any one scale)."""

    def __init__(
        self,
        catalog: str,
        limit: int = TRIES_PER_MINUTE,
        window: float = 60.0,
        clock: Callable[[], float] | None = None,
        timeout: int = TIMEOUT,
    ):
        self._catalog, self._limit, self._window, self._clock = catalog, limit, window, clock
        self._timeout = timeout
        self._where = _where(catalog)
        self._ready = False  # the table exists (checked once per object)
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SharedTryLimiter({self._where}, limit={self._limit}, window={self._window})"

    def wait(self, caller: str) -> float:
        """Seconds before `caller` may try again (0 when a try is allowed now). Raises TriesUnavailable."""
        with self._transaction() as cur:
            wait = self._wait(cur, caller, self._now(cur))
        return wait

    def begin(self, caller: str) -> float:
        """Count a try by `caller` now, or return the seconds to wait (and count nothing) when over the limit.
        Raises TriesUnavailable: then no try is allowed."""
        with self._transaction() as cur:
            self._lock(cur, caller)
            now = self._now(cur)
            wait = self._wait(cur, caller, now)
            if wait == 0:
                cur.execute("INSERT INTO newton_password_tries (caller, tried_at) VALUES (%s, %s)", [caller, now])
            self._prune(cur, now)
        return wait

    def succeeded(self, caller: str) -> None:
        """The try just begun opened the door: it does not count against `caller`. If PostgreSQL is gone by now,
        the try stays counted (a try too many, never one too few)."""
        try:
            with self._transaction() as cur:
                self._lock(cur, caller)
                cur.execute(
                    "DELETE FROM newton_password_tries WHERE id = (SELECT max(id) FROM newton_password_tries"
                    " WHERE caller = %s AND tried_at > %s)",
                    [caller, self._now(cur) - self._window],
                )
        except TriesUnavailable as error:
            _log.warning("a right password's try stays counted: %s", error)

    def failed(self, caller: str) -> None:
        """Count one failed try (for a caller that did not `begin` it). Raises TriesUnavailable."""
        with self._transaction() as cur:
            self._lock(cur, caller)
            now = self._now(cur)
            cur.execute("INSERT INTO newton_password_tries (caller, tried_at) VALUES (%s, %s)", [caller, now])

    def delay(self, caller: str) -> float:
        """How long to hold a wrong try before answering: doubling with each recent failure, at most MAX_DELAY
        (MAX_DELAY when PostgreSQL cannot say)."""
        try:
            with self._transaction() as cur:
                failures = len(self._recent(cur, caller, self._now(cur)))
        except TriesUnavailable:
            return MAX_DELAY
        return 0.0 if failures == 0 else min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - 1))

    def forget(self) -> None:
        """Start afresh: every server's tries are forgotten (for tests, and for an operator who locked herself out)."""
        with self._transaction() as cur:
            cur.execute("DELETE FROM newton_password_tries")

    def _wait(self, cur: psycopg.Cursor[tuple[float, ...]], caller: str, now: float) -> float:
        recent = self._recent(cur, caller, now)
        if len(recent) < self._limit:
            return 0.0
        return max(0.0, recent[0] + self._window - now)

    def _recent(self, cur: psycopg.Cursor[tuple[float, ...]], caller: str, now: float) -> list[float]:
        cur.execute(
            "SELECT tried_at FROM newton_password_tries WHERE caller = %s AND tried_at > %s ORDER BY tried_at",
            [caller, now - self._window],
        )
        return [float(row[0]) for row in cur.fetchall()]

    def _prune(self, cur: psycopg.Cursor[tuple[float, ...]], now: float) -> None:
        # Tries older than the window count for nobody. One server prunes at a time (the others skip it rather
        # than wait), so two prunes never lock the same old rows in different orders.
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 2))", [_LOCK_SPACE])
        row = cur.fetchone()
        if row and row[0]:
            cur.execute("DELETE FROM newton_password_tries WHERE tried_at <= %s", [now - self._window])

    def _lock(self, cur: psycopg.Cursor[tuple[float, ...]], caller: str) -> None:
        # Held until the transaction ends: every server counting this caller waits for the one counting now.
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [_LOCK_SPACE + caller])

    def _now(self, cur: psycopg.Cursor[tuple[float, ...]]) -> float:
        if self._clock is not None:
            return self._clock()
        cur.execute("SELECT extract(epoch FROM clock_timestamp())::float8")
        row = cur.fetchone()
        assert row is not None  # noqa: S101 - a SELECT of one value returns one row
        return float(row[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    def _connect(self) -> psycopg.Connection[tuple[float, ...]]:
        # Read on each count, as the lake store reads it on opening: a password changed in secrets.toml applies.
        password = lake_password(LakeLocation(self._catalog, ""))
        extra: dict[str, Any] = {} if password is None else {"password": password}
        try:
            connection: psycopg.Connection[tuple[float, ...]] = psycopg.connect(
                self._catalog, connect_timeout=self._timeout, application_name="newton-dashboard door", **extra
            )
        except psycopg.Error as error:
            raise _unavailable(self._where, _reason(error, self._catalog, password)) from None
        try:
            # Also a count stuck behind a lock (a server that hangs mid-count) ends, and the door fails closed.
            connection.execute("SELECT set_config('statement_timeout', %s, false)", [f"{self._timeout * 1000}"])
            connection.commit()
            if not self._ready:
                with self._ready_lock:
                    self._create(connection)
        except psycopg.Error as error:
            connection.close()
            raise _unavailable(self._where, _reason(error, self._catalog, password)) from None
        return connection

    def _create(self, connection: psycopg.Connection[tuple[float, ...]]) -> None:
        with connection.transaction(), connection.cursor() as cur:
            # Two servers starting at once would both try to create the table: one at a time.
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", [_LOCK_SPACE])
            cur.execute(
                "CREATE TABLE IF NOT EXISTS newton_password_tries ("
                "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, caller text NOT NULL,"
                " tried_at double precision NOT NULL)"
            )
            cur.execute("CREATE INDEX IF NOT EXISTS newton_password_tries_caller ON newton_password_tries (caller)")
            cur.execute("CREATE INDEX IF NOT EXISTS newton_password_tries_when ON newton_password_tries (tried_at)")
        self._ready = True


class _Transaction:
    """One connection and one transaction for one count; every PostgreSQL failure becomes TriesUnavailable."""

    def __init__(self, limiter: SharedTryLimiter):
        self._limiter = limiter
        self._connection: psycopg.Connection[tuple[float, ...]] | None = None

    def __enter__(self) -> psycopg.Cursor[tuple[float, ...]]:
        self._connection = self._limiter._connect()
        return self._connection.cursor()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        connection, self._connection = self._connection, None
        assert connection is not None  # noqa: S101 - __enter__ set it
        try:
            if kind is None:
                connection.commit()
            else:
                connection.rollback()
        except psycopg.Error as failure:
            error = error or failure
        finally:
            connection.close()
        if isinstance(error, psycopg.Error):
            limiter = self._limiter
            raise _unavailable(limiter._where, _reason(error, limiter._catalog)) from None


def _unavailable(where: str, reason: str) -> TriesUnavailable:
    """The error that shuts the door, logged for whoever runs the servers (it names no password)."""
    error = TriesUnavailable(where, reason)
    _log.error("no password can be tried: %s", error)
    return error


def _where(catalog: str) -> str:
    """host:port/database of a libpq string, for messages: never its password (or anything else in it)."""
    try:
        parts = libpq.conninfo_to_dict(catalog)
    except psycopg.Error:
        return "an unreadable connection string"
    host = str(parts.get("host") or parts.get("hostaddr") or "local socket")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"{host}{port}/{parts.get('dbname') or 'default database'}"


def _reason(error: psycopg.Error, catalog: str, given: str | None = None) -> str:
    """libpq's words (they say "connection refused", "password authentication failed"), never a password: libpq
    does not quote one, and one written into the connection string, or `given` beside it, is masked all the same."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    try:
        password = libpq.conninfo_to_dict(catalog).get("password")
    except psycopg.Error:
        password = None
    for secret in (password, given):
        if secret:
            text = text.replace(str(secret), "***")
    return text


_shared: dict[str, SharedTryLimiter] = {}
_shared_lock = threading.Lock()


def shared_try_limiter(catalog: str | None) -> PasswordTries:
    """The password-tries limiter for a store: this process's `PASSWORD_TRIES` with no lake (`catalog` None), else
    the one of the lake's PostgreSQL catalog (`catalog`: its libpq connection string), one object per catalog."""
    if catalog is None:
        return PASSWORD_TRIES
    with _shared_lock:
        if catalog not in _shared:
            _shared[catalog] = SharedTryLimiter(catalog)
        return _shared[catalog]
