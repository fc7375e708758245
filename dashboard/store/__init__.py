"""The store: where Newton's data and what people made live, read and written through one object.

Like datasette's `Database` (`execute_fn`, `execute_write_fn`), a `Store(location)` owns its file: connections and
the lock policy (`connection`), recognising damage (`damage`) and quarantine (`quarantine`), the schema and data
version (`schema`), the logs (`logs`) and Newton's data (`data`). Callers hand it a function of a connection:

    store = Store(path)
    state = store.read(data.read_data_state, account)
    store.write(data.upsert_records, account, frame, utc_now())   # one transaction

The account is an argument of each read and write, never bound into the store. A write that changes what the
pages count gives the data a new version in its own transaction (see `schema.new_data_version`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

from dashboard.errors import CacheError
from dashboard.store.connection import LOCK_WAIT_SECONDS, connect, one_sync_at_a_time, transaction
from dashboard.store.data import UNKNOWN_STATE, DataState, SyncState
from dashboard.store.logs import LoggedWrite
from dashboard.store.quarantine import Quarantined, quarantine_if_damaged
from dashboard.store.schema import utc_now

__all__ = [
    "UNKNOWN_STATE", "DataState", "LoggedWrite", "Quarantined", "Reading",
    "Store", "SyncState", "utc_now",
]  # fmt: skip


T = TypeVar("T")
P = ParamSpec("P")
Connection = duckdb.DuckDBPyConnection

_write_locks: dict[str, threading.RLock] = {}
_write_locks_lock = threading.Lock()


@dataclass(frozen=True)
class Store:
    """The data of every account at one location (a DuckDB file), opened only for each piece of work."""

    location: Path
    wait: float = LOCK_WAIT_SECONDS  # how long to wait while another process holds the file

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", Path(self.location))

    @property
    def identity(self) -> str:
        """What tells this store from any other (the file's absolute path): a scope of memoized answers."""
        return str(self.location.resolve())

    def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(connection, *args, **kwargs)` on a connection opened for it alone."""
        with connect(self.location, wait=self.wait) as con:
            return fn(con, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(connection, *args, **kwargs)` in one transaction: all of it is written, or none. The writes of one
        process take turns (DuckDB's file lock already makes processes take turns)."""
        with _write_lock(self.identity), transaction(self.location, wait=self.wait) as con:
            return fn(con, *args, **kwargs)

    @contextmanager
    def reading(self) -> Iterator[Reading]:
        """Reads sharing one connection, opened at the first of them and closed at the end of the block: a page run
        whose answers are all memoized never opens the file, and a sync in another process can take its turn."""
        with ExitStack() as stack:
            yield Reading(self, stack)

    @contextmanager
    def one_sync_at_a_time(self, wait: float, busy: Callable[[Path], CacheError]) -> Iterator[None]:
        """Hold this store's sync lock for one sync, in any process; `busy(location)` is raised when another sync
        keeps it longer than `wait` seconds."""
        with one_sync_at_a_time(self.location, wait, busy):
            yield

    def quarantine_if_damaged(self) -> Quarantined | None:
        """Open the file once; if it is damaged, move it aside and start afresh with people's tables (see
        `dashboard.store.quarantine`)."""
        return quarantine_if_damaged(self.location, wait=self.wait)


class Reading:
    """A connection opened at its first use, for the reads of one block (`Store.reading`)."""

    def __init__(self, store: Store, stack: ExitStack) -> None:
        self.store = store
        self._stack = stack
        self._con: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The open connection, opened now if it is not yet."""
        if self._con is None:
            self._con = self._stack.enter_context(connect(self.store.location, wait=self.store.wait))
        return self._con

    def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(connection, *args, **kwargs)` on this block's connection."""
        return fn(self.connection, *args, **kwargs)


def _write_lock(identity: str) -> threading.RLock:
    with _write_locks_lock:
        return _write_locks.setdefault(identity, threading.RLock())
