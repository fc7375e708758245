"""The store: where Newton's data and what people made live, read and written through one object.

Like datasette's `Database` (`execute_fn`, `execute_write_fn`), a `Store(location)` owns its file: connections and
the lock policy (`connection`), recognising damage (`damage`) and quarantine (`quarantine`), the schema and data
version (`schema`), the logs (`logs`) and Newton's data (`data`). Callers hand it a function of a connection:

    store = open_store(location)   # a Path: the DuckDB file `Store`; a LakeLocation: the `LakeStore`
    state = store.read(data.read_data_state, account)
    store.write(data.upsert_records, account, frame, utc_now())   # one transaction

The account is an argument of each read and write, never bound into the store. A write that changes what the
pages count gives the data a new version in its own transaction (see `schema.new_data_version`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import duckdb

from dashboard.errors import CacheError
from dashboard.store.connection import LOCK_WAIT_SECONDS, connect, one_sync_at_a_time, transaction
from dashboard.store.data import UNKNOWN_STATE, DataState, SyncState
from dashboard.store.lake import LakeStore
from dashboard.store.location import LakeLocation
from dashboard.store.logs import LoggedWrite
from dashboard.store.quarantine import Quarantined, quarantine_if_damaged
from dashboard.store.reading import Reading
from dashboard.store.schema import utc_now

__all__ = [
    "UNKNOWN_STATE", "AnyStore", "DataState", "LakeLocation", "LakeStore", "LoggedWrite", "Quarantined", "Reading",
    "Store", "SyncState", "open_store", "utc_now",
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
            yield Reading(lambda: connect(self.location, wait=self.wait), stack)

    @contextmanager
    def one_sync_at_a_time(
        self, wait: float, busy: Callable[[Any], CacheError], account: str | None = None
    ) -> Iterator[None]:
        """Hold this store's sync lock for one sync, in any process; `busy(location)` is raised when another sync
        keeps it longer than `wait` seconds. The file has one lock for every account (one writer at a time)."""
        with one_sync_at_a_time(self.location, wait, busy):
            yield

    @contextmanager
    def exclusively(self, key: str) -> Iterator[None]:
        """Nothing more than the write itself: DuckDB's file lock and this process's write lock already make
        writes take turns (the lake needs an advisory lock here)."""
        yield

    def quarantine_if_damaged(self) -> Quarantined | None:
        """Open the file once; if it is damaged, move it aside and start afresh with people's tables (see
        `dashboard.store.quarantine`)."""
        return quarantine_if_damaged(self.location, wait=self.wait)


class AnyStore(Protocol):
    """What the pages, the sync and the CLI use of a store: the DuckDB file's `Store` and the `LakeStore` alike."""

    @property
    def identity(self) -> str: ...

    def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    def write(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    def reading(self) -> AbstractContextManager[Reading]: ...

    def one_sync_at_a_time(
        self, wait: float, busy: Callable[[Any], CacheError], account: str | None = None
    ) -> AbstractContextManager[None]: ...

    def exclusively(self, key: str) -> AbstractContextManager[None]: ...

    def quarantine_if_damaged(self) -> Quarantined | None: ...


def open_store(location: Path | LakeLocation) -> AnyStore:
    """The store at `location`: a DuckDB file, or a lake."""
    if isinstance(location, LakeLocation):
        return LakeStore(location)
    return Store(location)


def _write_lock(identity: str) -> threading.RLock:
    with _write_locks_lock:
        return _write_locks.setdefault(identity, threading.RLock())
