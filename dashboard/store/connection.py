"""Short-lived connections to the DuckDB file, and the policy for its lock.

DuckDB lets one process at a time hold a file, and no other process may even read it meanwhile. So nothing
keeps the file open: every piece of work opens it, does its part in one transaction and closes it, and an open
that meets another process's lock waits and tries again. That way `newton-dashboard sync` run from cron and the
dashboard serving pages take turns instead of failing.
"""

from __future__ import annotations

import contextlib
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from dashboard.errors import CacheBusy, CacheError
from dashboard.store import damage, schema

LOCK_WAIT_SECONDS = 60.0
# DuckDB 1.5 shares one database per file within a process: opening it while another thread closes the last
# connection to it meets "Unique file handle conflict ... already attached". Passing; wait and open again.
_CLOSING = "Unique file handle conflict"
SYNC_LOCK_MODE = 0o600  # the `<cache>.sync-lock` file: its owner's alone


@contextmanager
def connect(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the file for one short piece of work, waiting while another process holds it; always closed.

    Raises CacheBusy when another process keeps it too long, CacheDamaged when the file is damaged,
    CacheStorageFailure when it cannot be written (a full disk, permissions), and CacheError when it cannot be used
    for another reason (a folder that is a file).
    """
    path = Path(path)
    con = _open(path, wait)
    try:
        try:
            schema.prepare(con, path)
        except duckdb.Error as error:
            raise damage.in_use_failure(path, error) or CacheError(
                f"The cache {path} cannot be used ({type(error).__name__}); move it aside and sync"
            ) from error
        try:
            yield con
        except duckdb.Error as error:
            failure = damage.in_use_failure(path, error)
            if failure is None:
                raise
            raise failure from error
    finally:
        _close(con, path)


@contextmanager
def transaction(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` inside one transaction: all of it is written, or none."""
    with connect(path, wait=wait) as con:
        con.begin()
        try:
            yield con
        except BaseException:
            con.rollback()
            raise
        con.commit()


def _close(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.close()
    except duckdb.Error as error:  # the checkpoint on closing met a full disk, say
        raise damage.in_use_failure(path, error) or CacheError(f"Closing the cache {path} failed: {error}") from error


def _open(path: Path, wait: float) -> duckdb.DuckDBPyConnection:
    make_folder(path)
    deadline = time.monotonic() + wait
    con = _try_open(path, deadline)
    if con is not None:
        return con
    # Another process holds the file. One thread of this process at a time asks for it again and again; the others
    # wait for that one and then find the file open in this process. Every refused open costs DuckDB milliseconds
    # of CPU, which twenty page runs asking at once would take from the sync they wait for.
    gate = _gate(path)
    if not gate.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
        raise _busy(path, wait)
    try:
        pause = 0.02
        while True:
            con = _try_open(path, deadline, wait)
            if con is not None:
                return con
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
    finally:
        gate.release()


def _try_open(path: Path, deadline: float, wait: float | None = None) -> duckdb.DuckDBPyConnection | None:
    """The file opened, or None while another process holds it (CacheBusy past the deadline, with `wait`)."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as error:
        # A lock first: a file another process holds is busy, whatever else DuckDB might say about it.
        words = damage.words(error, path)
        if not damage.LOCK.search(words) and _CLOSING not in words:
            raise damage.open_failure(path, error) from error
        if wait is not None and time.monotonic() >= deadline:
            raise _busy(path, wait) from error
        return None
    known = damage.known_damage(path)
    if known is not None:
        con.close()
        raise known
    return con


def _busy(path: Path, wait: float) -> CacheBusy:
    return CacheBusy(
        f"The cache {path} is busy: another process (a sync?) kept it for over {wait:.0f} s. Try again in a moment."
    )


_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def _gate(path: Path) -> threading.Lock:
    with _gates_lock:
        return _gates.setdefault(str(path.resolve()), threading.Lock())


def make_folder(path: Path) -> None:
    """Create the file's folder; a folder that cannot be written is a storage failure, a path through a file is
    a setting to fix."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise damage.storage_failure(path, error) or CacheError(
            f"Cannot create the folder {path.parent} for the cache: {error}"
        ) from error


def wal(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside the file."""
    return path.with_name(path.name + ".wal")


@contextmanager
def one_sync_at_a_time(path: Path, wait: float, busy: Callable[[Path], CacheError]) -> Iterator[None]:
    """Hold the file's sync lock (a file beside it, locked by the operating system, so a killed sync frees it);
    `busy(path)` is raised when another sync keeps it for longer than `wait` seconds."""
    make_folder(path)
    # Readable and writable by its owner only, whatever the umask: the user who runs the syncs (cron's and the
    # dashboard's must be the same user, the one that owns the cache file).
    lock_path = Path(f"{path}.sync-lock")
    lock = FileLock(lock_path, mode=SYNC_LOCK_MODE)
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise busy(path) from None
    except OSError as error:
        raise damage.storage_failure(path, error) or CacheError(
            f"Cannot use the sync lock {lock_path}: {error}"
        ) from error
    _owner_only(lock_path)
    try:
        yield
    finally:
        lock.release()


def _owner_only(lock_path: Path) -> None:
    """Tighten a lock file made before it was created owner-only (or by an older filelock that left it to umask)."""
    with contextlib.suppress(OSError):  # another user's file: theirs to keep
        if stat.S_IMODE(lock_path.stat().st_mode) != SYNC_LOCK_MODE:
            lock_path.chmod(SYNC_LOCK_MODE)
