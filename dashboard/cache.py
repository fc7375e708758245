"""The local DuckDB cache: schema, upserts, sync state, the write log, and short-lived connections.

DuckDB lets one process at a time hold a file, and no other process may even read it meanwhile. So nothing
keeps the cache open: every piece of work opens it, does its part in one transaction and closes it, and an open
that meets another process's lock waits and tries again. That way `newton-dashboard sync` run from cron and the
dashboard serving pages take turns instead of failing.
"""

from __future__ import annotations

import errno
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import orjson
import polars as pl

from dashboard import channels
from dashboard.api import RECORD_SCHEMA, ChatSession, Widget
from dashboard.api.records import API_FIELDS, EXTRA, UNPARSED
from dashboard.errors import DAMAGE_KINDS, STORAGE_WORDS, CacheBusy, CacheDamaged, CacheError, CacheStorageFailure

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
LOCK_WAIT_SECONDS = 60.0

_DUCKDB_TYPES = {pl.String: "VARCHAR", pl.Datetime: "TIMESTAMP", pl.Int64: "BIGINT"}
RECORD_COLUMNS = list(RECORD_SCHEMA)
_TABLES = ("records", "widgets", "departments", "chat_sessions", "chat_messages", "sync_state", "sync_runs",
           "write_log", "saved_views", "meta", "sync_ranges")  # fmt: skip


_STORAGE_ERRNOS = {
    errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EFBIG: "too_large", errno.EROFS: "read_only",
    errno.EACCES: "permission", errno.EPERM: "permission",
}  # fmt: skip


def is_storage_errno(error: OSError) -> bool:
    """Whether the operating system refused a write for lack of space or of permission."""
    return error.errno in _STORAGE_ERRNOS


def storage_failure(path: Path, error: BaseException) -> CacheStorageFailure | None:
    """The storage failure `error` (a DuckDB error, an OSError, or one hidden in their context) proves, or None."""
    cause: BaseException | None = error
    for _ in range(8):
        if cause is None:
            return None
        if isinstance(cause, CacheStorageFailure):
            return cause
        if isinstance(cause, OSError) and cause.errno in _STORAGE_ERRNOS:
            return CacheStorageFailure(path, _STORAGE_ERRNOS[cause.errno], f"{cause.strerror}: {cause.filename}")
        if isinstance(cause, duckdb.Error):
            text = _words(cause, path)
            for words, reason in STORAGE_WORDS.items():
                if words in text:
                    return CacheStorageFailure(path, reason, _first_line(cause))
        cause = cause.__cause__ or cause.__context__
    return None


@dataclass(frozen=True)
class SetAside:
    """A damaged cache renamed out of the way, never deleted: it still holds its write log."""

    path: Path
    moved_to: Path
    wal_moved_to: Path | None
    kind: str
    detail: str

    def __str__(self) -> str:
        wal = f" and its write-ahead log to {self.wal_moved_to}" if self.wal_moved_to else ""
        return (
            f"The cache {self.path} was damaged ({DAMAGE_KINDS[self.kind]}: {self.detail}). It was moved to "
            f"{self.moved_to}{wal}; nothing was deleted. A fresh cache was started; a full sync fills it."
        )


def _record_columns_ddl() -> str:
    columns = [f'"{name}" {_DUCKDB_TYPES[type(dtype)]}' for name, dtype in RECORD_SCHEMA.items()]
    return ",\n    ".join(columns)


SCHEMA = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE records (
    account VARCHAR NOT NULL,
    {_record_columns_ddl()},
    synced_at TIMESTAMP NOT NULL,
    channel VARCHAR
);
CREATE TABLE widgets (account VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR, synced_at TIMESTAMP NOT NULL);
CREATE TABLE departments (
    account VARCHAR NOT NULL, widget_id VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR
);
CREATE TABLE chat_sessions (
    account VARCHAR NOT NULL, client_id VARCHAR NOT NULL, start_time TIMESTAMP, widget_id VARCHAR,
    operator VARCHAR, ip VARCHAR, messages INTEGER NOT NULL, synced_at TIMESTAMP NOT NULL
);
CREATE TABLE chat_messages (
    account VARCHAR NOT NULL, client_id VARCHAR NOT NULL, start_time TIMESTAMP, position INTEGER NOT NULL,
    from_client BOOLEAN NOT NULL, text VARCHAR, time TIMESTAMP
);
CREATE TABLE sync_state (
    account VARCHAR NOT NULL, resource VARCHAR NOT NULL, synced_from TIMESTAMP, synced_through TIMESTAMP,
    updated_at TIMESTAMP NOT NULL, PRIMARY KEY (account, resource)
);
CREATE TABLE sync_runs (
    run_id VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
    outcome VARCHAR NOT NULL, windows_done INTEGER NOT NULL, windows_total INTEGER NOT NULL,
    records INTEGER NOT NULL, chats INTEGER NOT NULL, message VARCHAR
);
CREATE TABLE write_log (
    write_id VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, written_at TIMESTAMP NOT NULL, actor VARCHAR,
    action VARCHAR NOT NULL, params VARCHAR NOT NULL, outcome VARCHAR NOT NULL, message VARCHAR
);
"""
SAVED_VIEWS = """
CREATE TABLE IF NOT EXISTS saved_views (
    account VARCHAR NOT NULL, name VARCHAR NOT NULL, page VARCHAR NOT NULL, query VARCHAR NOT NULL,
    created_by VARCHAR, created_at TIMESTAMP NOT NULL, PRIMARY KEY (account, name)
)"""

_prepared: set[Path] = set()
_prepared_lock = threading.Lock()
_version_lock = threading.Lock()
# Files found damaged while in use (a bad block shows only when read), by path: (device, inode), kind, words.
_damaged: dict[Path, tuple[tuple[int, int], str, str]] = {}
_recovery_lock = threading.Lock()
_LOCK = re.compile(r"\block\b", re.IGNORECASE)  # "Could not set lock", "Conflicting lock"; never "block"
# DuckDB 1.5 shares one database per file within a process: opening it while another thread closes the last
# connection to it meets "Unique file handle conflict ... already attached". Passing; wait and open again.
_CLOSING = "Unique file handle conflict"


def utc_now() -> datetime:
    """Now, as the naive UTC timestamp the cache stores."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@contextmanager
def connect(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the cache for one short piece of work, waiting while another process holds it; always closed.

    Raises CacheBusy when another process keeps it too long, CacheDamaged when the file is damaged,
    CacheStorageFailure when it cannot be written (a full disk, permissions), and CacheError when it cannot be used
    for another reason (a folder that is a file).
    """
    path = Path(path)
    con = _open(path, wait)
    try:
        try:
            _prepare(con, path)
        except duckdb.Error as error:
            raise _in_use_failure(path, error) or CacheError(
                f"The cache {path} cannot be used ({type(error).__name__}); move it aside and sync"
            ) from error
        try:
            yield con
        except duckdb.Error as error:
            failure = _in_use_failure(path, error)
            if failure is None:
                raise
            raise failure from error
    finally:
        _close(con, path)


def _close(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.close()
    except duckdb.Error as error:  # the checkpoint on closing met a full disk, say
        raise _in_use_failure(path, error) or CacheError(f"Closing the cache {path} failed: {error}") from error


class LazyConnection:
    """A cache connection opened at its first use: a page run whose answers are all kept never opens the file."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        self._path = path
        self._stack = stack
        self._con: duckdb.DuckDBPyConnection | None = None

    def get(self) -> duckdb.DuckDBPyConnection:
        """The open connection, opened now if it is not yet."""
        if self._con is None:
            self._con = self._stack.enter_context(connect(self._path))
        return self._con


def opened(con: duckdb.DuckDBPyConnection | LazyConnection) -> duckdb.DuckDBPyConnection:
    """An open connection, from either an open one or a lazy one."""
    return con.get() if isinstance(con, LazyConnection) else con


@contextmanager
def lazily(path: Path) -> Iterator[LazyConnection]:
    """`connect`, put off until the connection is first used; closed (if opened) at the end of the block."""
    with ExitStack() as stack:
        yield LazyConnection(Path(path), stack)


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


def _open(path: Path, wait: float) -> duckdb.DuckDBPyConnection:
    make_folder(path)
    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            con = duckdb.connect(str(path))
        except duckdb.Error as error:
            # A lock first: a file another process holds is busy, whatever else DuckDB might say about it.
            words = _words(error, path)
            if not _LOCK.search(words) and _CLOSING not in words:
                raise _open_failure(path, error) from error
            if time.monotonic() >= deadline:
                raise CacheBusy(
                    f"The cache {path} is busy: another process (a sync?) kept it for over {wait:.0f} s. "
                    "Try again in a moment."
                ) from error
        else:
            known = _damaged.get(path.resolve()) if _damaged else None
            if known is not None and known[0] == _inode(path):
                con.close()
                raise CacheDamaged(path, known[1], known[2])
            return con
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def make_folder(path: Path) -> None:
    """Create the cache's folder; a folder that cannot be written is a storage failure, a path through a file is
    a setting to fix."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise storage_failure(path, error) or CacheError(
            f"Cannot create the folder {path.parent} for the cache: {error}"
        ) from error


def _words(error: duckdb.Error, path: Path) -> str:
    """DuckDB's message without the file's name, which could hold any word ("lock", say)."""
    text = str(error)
    for name in sorted({str(path.resolve()), str(path.absolute()), str(path)}, key=len, reverse=True):
        text = text.replace(name, "")
    return text


def _damage_kind(error: duckdb.Error, path: Path) -> str | None:
    """The damage DuckDB's refusal proves (a key of DAMAGE_KINDS), or None: a lock, a permission or a full disk
    proves none."""
    text = _words(error, path)
    if _LOCK.search(text) or any(words in text for words in STORAGE_WORDS):
        return None
    if "Failure while replaying WAL" in text:
        return "corrupt_wal"
    if "not a valid DuckDB database file" in text:
        return "not_a_database"
    if "Could not read enough bytes" in text:
        return "truncated"
    if "Trying to read a database file with" in text and "version number" in text:
        return "incompatible_version"
    if isinstance(error, duckdb.SerializationException) or "Corrupt database file" in text:
        return "corrupt"
    return None


def _open_failure(path: Path, error: duckdb.Error) -> CacheError:
    kind = _damage_kind(error, path)
    if kind is not None:
        return CacheDamaged(path, kind, _first_line(error))
    return storage_failure(path, error) or CacheError(f"Cannot open the cache {path}: {error}")


def _in_use_failure(path: Path, error: duckdb.Error) -> CacheError | None:
    """What an error met while using an open cache means, or None for an ordinary error (a bad query)."""
    # A write the disk refused first: DuckDB may go on to call the file invalid, but the file is not damaged.
    storage = storage_failure(path, error)
    if storage is not None:
        return storage
    proof = _damage_behind(error, path)
    if proof is None:
        return None
    inode = _inode(path)
    if inode is not None:
        # Opening it again would succeed: remember, so that `set_aside_if_damaged` in this process knows.
        _damaged[path.resolve()] = (inode, *proof)
    return CacheDamaged(path, *proof)


def _damage_behind(error: BaseException, path: Path) -> tuple[str, str] | None:
    """The damage (kind, DuckDB's words) proven by `error` or by an error it hides: a cleanup after a failed
    statement meets "transaction is aborted", with the proof only in its context."""
    cause: BaseException | None = error
    for _ in range(8):
        if cause is None:
            break
        if isinstance(cause, duckdb.Error) and (kind := _damage_kind(cause, path)) is not None:
            return kind, _first_line(cause)
        cause = cause.__cause__ or cause.__context__
    return None


def _first_line(error: duckdb.Error) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _inode(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode), or None when there is none. It also tells whether another process replaced the
    cache (renamed it aside, started a fresh one) meanwhile: only a new inode proves that. DuckDB itself writes the
    file, and creates or removes its WAL, whenever it opens or closes it, so its size and times prove nothing, and
    judging by them made a damaged file look "still changing" on every try."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def set_aside_if_damaged(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> SetAside | None:
    """Open the cache once; if the file is damaged, rename it (and its WAL) aside and start a fresh cache.

    Only DuckDB's proof of damage moves a file. A file another process holds raises CacheBusy after `wait`, and
    a permission problem raises CacheError; neither moves anything. Nothing is ever deleted: the file set aside
    keeps the write log, and the returned notice says where it went.
    """
    path = Path(path)
    with _recovery_lock:
        for _ in range(3):
            before = _inode(path)
            try:
                with connect(path, wait=wait):
                    return None
            except CacheDamaged as damage:
                moved = _move_aside(path, damage, before)
            if moved is None:
                continue  # another process replaced the file meanwhile: judge the new one
            log.warning("%s", moved)
            with connect(path, wait=wait):
                pass  # the fresh cache, with its schema
            return moved
    raise CacheError(f"The cache {path} kept changing while it was being checked; try again.")


def _move_aside(path: Path, damage: CacheDamaged, judged: tuple[int, int] | None) -> SetAside | None:
    """Rename the damaged file and its WAL to `<name>.damaged-<UTC time>`; None if it is not the file judged."""
    if not path.is_file():
        raise CacheError(f"{damage} It is not a regular file, so it was left alone.") from damage
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists() or _wal(target).exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    if _inode(path) != judged:
        return None
    wal_target = None
    try:
        path.rename(target)
        if _wal(path).exists():
            _wal(path).rename(_wal(target))
            wal_target = _wal(target)
    except OSError as error:
        raise CacheError(
            f"{damage} Moving it aside failed ({error}); move {path} and {_wal(path)} away by hand."
        ) from error
    key = path.resolve()
    _damaged.pop(key, None)
    with _prepared_lock:
        _prepared.discard(key)
    return SetAside(path, target, wal_target, damage.kind, damage.detail)


def _prepare(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Create the schema, or rebuild a cache of another schema version rather than half-read it."""
    key = path.resolve()
    with _prepared_lock:
        if key in _prepared:
            return
        existing = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        version = None
        if "meta" in existing:
            rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            version = rows[0][0] if rows else None
        if version != str(SCHEMA_VERSION):
            if existing:
                log.warning(
                    "The cache %s has schema version %s, this program uses %s: rebuilding it; "
                    "the next sync fetches the full history.",
                    path, version, SCHEMA_VERSION,
                )  # fmt: skip
            con.begin()
            for table in _TABLES:
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(SCHEMA)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            con.commit()
        # Added after schema version 1 (a version bump would rebuild the file and lose the write history): the key
        # under which a write is claimed, so the same write is not sent twice (see dashboard.writes).
        con.execute("ALTER TABLE write_log ADD COLUMN IF NOT EXISTS claim_key VARCHAR")
        _add_sync_ranges(con)
        # Added after schema version 1 too, for the same reason: people's named views (dashboard.saved_views).
        con.execute(SAVED_VIEWS)
        # A cache from before data versions, or a new one: its first version, unique to this file.
        con.execute("INSERT INTO meta VALUES ('data_version', ?) ON CONFLICT DO NOTHING", [uuid.uuid4().hex])
        _store_channels(con)
        _prepared.add(key)


def _add_sync_ranges(con: duckdb.DuckDBPyConnection) -> None:
    """The complete ranges of each resource (added after schema version 1, like claim_key). A cache from before
    them had one span with nothing missing inside (`sync_state`): that span is its one complete range."""
    con.execute(
        """CREATE TABLE IF NOT EXISTS sync_ranges (
            account VARCHAR NOT NULL, resource VARCHAR NOT NULL, range_from TIMESTAMP NOT NULL,
            range_to TIMESTAMP NOT NULL
        )"""
    )
    con.execute(
        """INSERT INTO sync_ranges
        SELECT account, resource, synced_from, synced_through FROM sync_state s
        WHERE synced_from IS NOT NULL AND synced_through IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM sync_ranges r WHERE r.account = s.account AND r.resource = s.resource)"""
    )


def _store_channels(con: duckdb.DuckDBPyConnection) -> None:
    """Give every record its channel by the current rules, once: in a cache from before stored channels, or after
    the rules changed. Answers kept under the old version are then asked again."""
    rules = con.execute("SELECT value FROM meta WHERE key = 'channel_rules'").fetchall()
    if rules and rules[0][0] == channels.RULES_VERSION:
        return
    con.begin()
    con.execute("ALTER TABLE records ADD COLUMN IF NOT EXISTS channel VARCHAR")
    con.execute(f"UPDATE records AS r SET channel = {channels.CHANNEL_SQL}")  # noqa: S608 - our own rules
    con.execute("INSERT OR REPLACE INTO meta VALUES ('channel_rules', ?)", [channels.RULES_VERSION])
    con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [uuid.uuid4().hex])
    con.commit()


# Writes -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataState:
    """What a page run needs to know about the cache before it reads: when it was synced, and its data version."""

    synced_at: datetime | None  # naive UTC; None when never synced
    version: str
    # Naive UTC: from here to the last sync the records are complete; older days may still be loading (or lie
    # outside the history). None when never synced.
    complete_from: datetime | None = None


UNKNOWN_STATE: Final = DataState(None, "")


def read_data_state(con: duckdb.DuckDBPyConnection, account: str) -> DataState:
    """The account's last sync and the data version, in one short read."""
    state = read_sync_state(con, account, "records")
    return DataState(state.updated_at, data_version(con), state.synced_from)


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """What the pages count, as one value that changes whenever it does (see `mark_changed`)."""
    rows = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return str(rows[0][0]) if rows else ""


def mark_changed(path: Path) -> None:
    """Give the data a new version, once a change the pages count is committed (the end of a sync, a lead price
    saved): answers kept under the old version are then asked again. A random value, so that a file set aside
    and rebuilt never repeats a version of the old one."""
    with _version_lock, transaction(path) as con:  # one writer of the row at a time: no write-write conflict
        con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [uuid.uuid4().hex])


@dataclass
class Changes:
    """Whether writes changed anything the pages count: a sync that only rewrote the same rows (a look-back over
    days already synced) leaves the data version, and so every session's kept answers, as they were."""

    found: bool = False


def _differs(con: duckdb.DuckDBPyConnection, new: str, old: str, params: Sequence[object]) -> bool:
    """Whether the rows of query `new` and of query `old` (which takes `params`) differ, as multisets."""
    sql = f"SELECT EXISTS ({new} EXCEPT ALL {old}) OR EXISTS ({old} EXCEPT ALL {new})"
    return bool(con.execute(sql, [*params, *params]).fetchall()[0][0])


def upsert_records(
    con: duckdb.DuckDBPyConnection,
    account: str,
    records: pl.DataFrame,
    synced_at: datetime,
    changes: Changes | None = None,
) -> int:
    """Insert or replace records by id; a batch holding one id twice keeps its last copy. Returns rows written.
    With `changes`, notes whether any record is new or different."""
    batch = records.filter(pl.col("id").is_not_null() & (pl.col("id") != "")).unique(
        "id", keep="last", maintain_order=True
    )
    if batch.is_empty():
        return 0
    columns = ", ".join(f'"{name}"' for name in RECORD_COLUMNS)
    con.register("incoming_records", batch.select(RECORD_COLUMNS))
    try:
        if changes is not None and not changes.found:
            changes.found = _differs(
                con,
                f"SELECT {columns} FROM incoming_records",  # noqa: S608 - our own column names
                f"SELECT {columns} FROM records WHERE account = ? AND id IN (SELECT id FROM incoming_records)",  # noqa: S608
                [account],
            )
        con.execute("DELETE FROM records WHERE account = ? AND id IN (SELECT id FROM incoming_records)", [account])
        con.execute(
            f"INSERT INTO records (account, {columns}, synced_at, channel) "  # noqa: S608 - our own names and rules
            f"SELECT ?, {columns}, ?, {channels.CHANNEL_SQL} FROM incoming_records r",
            [account, synced_at],
        )
    finally:
        con.unregister("incoming_records")
    return batch.height


def chat_frames(sessions: Sequence[tuple[ChatSession, str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sessions and their messages as frames, one session per (client id, start time)."""
    unique: dict[tuple[str, datetime | None], tuple[ChatSession, str | None]] = {}
    for session, widget_id in sessions:
        key = (session.client_id, session.start_time)
        # A session seen in a per-widget answer keeps its widget even if the all-widgets answer repeats it.
        if key not in unique or unique[key][1] is None:
            unique[key] = (session, widget_id)
    heads = pl.DataFrame(
        [
            {
                "client_id": s.client_id, "start_time": s.start_time, "widget_id": w, "operator": s.operator,
                "ip": s.ip, "messages": len(s.messages),
            }
            for s, w in unique.values()
        ],
        schema={"client_id": pl.String, "start_time": pl.Datetime("us"), "widget_id": pl.String,
                "operator": pl.String, "ip": pl.String, "messages": pl.Int32},
    )  # fmt: skip
    messages = pl.DataFrame(
        [
            {
                "client_id": s.client_id, "start_time": s.start_time, "position": i, "from_client": m.from_client,
                "text": m.text, "time": m.time,
            }
            for s, _ in unique.values()
            for i, m in enumerate(s.messages)
        ],
        schema={"client_id": pl.String, "start_time": pl.Datetime("us"), "position": pl.Int32,
                "from_client": pl.Boolean, "text": pl.String, "time": pl.Datetime("us")},
    )  # fmt: skip
    return heads, messages


def upsert_chats(
    con: duckdb.DuckDBPyConnection,
    account: str,
    sessions: Sequence[tuple[ChatSession, str | None]],
    synced_at: datetime,
    changes: Changes | None = None,
) -> int:
    """Insert or replace chat sessions by (client id, start time), their messages replaced whole. With `changes`,
    notes whether any session or message is new or different."""
    heads, messages = chat_frames(sessions)
    if heads.is_empty():
        return 0
    con.register("incoming_heads", heads)
    con.register("incoming_messages", messages)
    try:
        # A session re-read without a widget (its widget is no longer listed) keeps the widget it had.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE incoming_sessions AS
            SELECT i.client_id, i.start_time, coalesce(i.widget_id, s.widget_id) AS widget_id, i.operator, i.ip,
                   i.messages
            FROM incoming_heads i LEFT JOIN chat_sessions s ON s.account = ? AND s.client_id = i.client_id
                 AND s.start_time IS NOT DISTINCT FROM i.start_time""",
            [account],
        )
        if changes is not None and not changes.found:
            changes.found = _chats_differ(con, account)
        for table in ("chat_sessions", "chat_messages"):
            con.execute(
                f"""DELETE FROM {table} t WHERE account = ? AND EXISTS (
                    SELECT 1 FROM incoming_sessions i WHERE {_SAME_SESSION})""",  # noqa: S608 - our own table names
                [account],
            )
        con.execute(
            "INSERT INTO chat_sessions SELECT ?, client_id, start_time, widget_id, operator, ip, messages, ? "
            "FROM incoming_sessions",
            [account, synced_at],
        )
        con.execute(
            "INSERT INTO chat_messages SELECT ?, client_id, start_time, position, from_client, text, time "
            "FROM incoming_messages",
            [account],
        )
    finally:
        con.execute("DROP TABLE IF EXISTS incoming_sessions")
        con.unregister("incoming_heads")
        con.unregister("incoming_messages")
    return heads.height


_SAME_SESSION = "i.client_id = t.client_id AND i.start_time IS NOT DISTINCT FROM t.start_time"


def _chats_differ(con: duckdb.DuckDBPyConnection, account: str) -> bool:
    """Whether `incoming_sessions` and `incoming_messages` differ from the stored sessions they replace."""
    session_columns = "client_id, start_time, widget_id, operator, ip, messages"
    message_columns = "client_id, start_time, position, from_client, text, time"
    stored = f"FROM {{table}} t WHERE account = ? AND EXISTS (SELECT 1 FROM incoming_sessions i WHERE {_SAME_SESSION})"  # noqa: S608
    return _differs(
        con,
        f"SELECT {session_columns} FROM incoming_sessions",  # noqa: S608 - our own names
        f"SELECT {session_columns} " + stored.format(table="chat_sessions"),
        [account],
    ) or _differs(
        con,
        f"SELECT {message_columns} FROM incoming_messages",  # noqa: S608 - our own names
        f"SELECT {message_columns} " + stored.format(table="chat_messages"),
        [account],
    )


def _listed_widgets(con: duckdb.DuckDBPyConnection, account: str) -> tuple[list[tuple[Any, ...]], ...]:
    widgets = con.execute("SELECT id, name FROM widgets WHERE account = ? ORDER BY ALL", [account]).fetchall()
    departments = con.execute(
        "SELECT widget_id, id, name FROM departments WHERE account = ? ORDER BY ALL", [account]
    ).fetchall()
    return widgets, departments


def replace_widgets(
    con: duckdb.DuckDBPyConnection,
    account: str,
    widgets: Sequence[Widget],
    at: datetime,
    changes: Changes | None = None,
) -> None:
    """The account's widgets and departments, as Newton lists them now. With `changes`, notes whether a widget
    or department was added, removed or renamed (their names are what the pages group by)."""
    before = _listed_widgets(con, account) if changes is not None else None
    con.execute("DELETE FROM widgets WHERE account = ?", [account])
    con.execute("DELETE FROM departments WHERE account = ?", [account])
    # Keyed by id so a widget or department listed twice cannot make a record join twice.
    by_id = {w.id: w for w in widgets}
    if by_id:
        con.executemany(
            "INSERT INTO widgets VALUES (?, ?, ?, ?)", [[account, w.id, w.name, at] for w in by_id.values()]
        )
    departments = {(w.id, d.id): d.name for w in by_id.values() for d in w.departments}
    if departments:
        con.executemany(
            "INSERT INTO departments VALUES (?, ?, ?, ?)",
            [[account, w, d, name] for (w, d), name in departments.items()],
        )
    if changes is not None and before != _listed_widgets(con, account):
        changes.found = True


@dataclass(frozen=True)
class SyncState:
    """The newest complete range of a resource, [synced_from, synced_through): nothing inside it is missing (older
    complete ranges may exist apart from it, see `complete_ranges`); and when a sync last wrote it."""

    synced_from: datetime | None
    synced_through: datetime | None
    updated_at: datetime | None


def read_sync_state(con: duckdb.DuckDBPyConnection, account: str, resource: str) -> SyncState:
    """The stored sync state, or an empty one for a resource never synced."""
    # fetchall, not fetchone: a half-read result left on the connection blocks its next statement in DuckDB 2.
    rows = con.execute(
        "SELECT synced_from, synced_through, updated_at FROM sync_state WHERE account = ? AND resource = ?",
        [account, resource],
    ).fetchall()
    return SyncState(*rows[0]) if rows else SyncState(None, None, None)


def complete_ranges(con: duckdb.DuckDBPyConnection, account: str, resource: str) -> list[tuple[datetime, datetime]]:
    """The [from, to) ranges of a resource that hold everything Newton had, oldest first, none touching another."""
    rows = con.execute(
        "SELECT range_from, range_to FROM sync_ranges WHERE account = ? AND resource = ? ORDER BY range_from",
        [account, resource],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def merge_ranges(ranges: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Ranges that overlap or touch become one; oldest first."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def save_complete_ranges(
    con: duckdb.DuckDBPyConnection, account: str, resource: str, written: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Add ranges a sync has just written whole to the resource's complete ranges, merged; returns them all.

    Call it in the transaction that wrote the ranges' rows: a sync killed at any point leaves ranges that are
    really complete, and the next one fetches exactly what lies outside them (`dashboard.sync.plan_spans`).
    `sync_state` keeps the range holding the newest data: from its start on nothing is missing."""
    ranges = merge_ranges([*complete_ranges(con, account, resource), *written])
    con.execute("DELETE FROM sync_ranges WHERE account = ? AND resource = ?", [account, resource])
    con.executemany(
        "INSERT INTO sync_ranges VALUES (?, ?, ?, ?)", [[account, resource, start, end] for start, end in ranges]
    )
    if ranges:
        newest = ranges[-1]
        con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?)", [account, resource, *newest, utc_now()])
    return ranges


def start_run(con: duckdb.DuckDBPyConnection, account: str, windows_total: int, changes: Changes | None = None) -> str:
    """Record a sync run as started; earlier runs left 'running' were killed, so say so. With `changes`, a killed
    run counts as a change: it may have written windows without giving the data a new version."""
    killed = con.execute(
        "UPDATE sync_runs SET outcome = 'interrupted' WHERE account = ? AND outcome = 'running'", [account]
    ).fetchall()[0][0]
    if changes is not None and killed:
        changes.found = True
    run_id = uuid.uuid4().hex
    con.execute(
        "INSERT INTO sync_runs VALUES (?, ?, ?, NULL, 'running', 0, ?, 0, 0, NULL)",
        [run_id, account, utc_now(), windows_total],
    )
    return run_id


def progress_run(con: duckdb.DuckDBPyConnection, run_id: str, windows_done: int, records: int, chats: int) -> None:
    """Note a run's progress, in the same transaction as the window it describes."""
    con.execute(
        "UPDATE sync_runs SET windows_done = ?, records = ?, chats = ? WHERE run_id = ?",
        [windows_done, records, chats, run_id],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, outcome: str, message: str | None = None) -> None:
    """Close a run as 'ok' or 'failed', with a message for people."""
    con.execute(
        "UPDATE sync_runs SET outcome = ?, finished_at = ?, message = ? WHERE run_id = ?",
        [outcome, utc_now(), message, run_id],
    )


def log_write(
    con: duckdb.DuckDBPyConnection,
    account: str,
    action: str,
    params: dict[str, Any],
    outcome: str,
    message: str | None = None,
    actor: str | None = None,
    *,
    claim_key: str | None = None,
    now: datetime | None = None,
) -> str:
    """Record a write made from the dashboard or the CLI (params never include the token), under `claim_key`
    when it is claimed (the same write is then not sent twice)."""
    safe = {k: v for k, v in params.items() if k not in ("token", "userId")}
    write_id = uuid.uuid4().hex
    con.execute(
        """INSERT INTO write_log (write_id, account, written_at, actor, action, params, outcome, message, claim_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [write_id, account, now or utc_now(), actor, action, orjson.dumps(safe).decode(), outcome, message,
         claim_key],
    )  # fmt: skip
    return write_id


@dataclass(frozen=True)
class LoggedWrite:
    """One row of the write log."""

    write_id: str
    written_at: datetime  # naive UTC, when it was claimed (just before it was sent)
    actor: str | None
    action: str
    params: dict[str, Any]
    outcome: str  # 'sending', 'ok', 'refused', 'failed', 'unknown'
    message: str | None


_LOGGED = "SELECT write_id, written_at, actor, action, params, outcome, message FROM write_log"


def _logged(row: tuple[Any, ...]) -> LoggedWrite:
    params = orjson.loads(row[4])
    return LoggedWrite(row[0], row[1], row[2], row[3], params if isinstance(params, dict) else {}, row[5], row[6])


def claimed_writes(
    con: duckdb.DuckDBPyConnection, account: str, claim_keys: Sequence[str], since: datetime
) -> dict[str, list[LoggedWrite]]:
    """The writes claimed under each key since `since`, newest first (keys with none are left out)."""
    found: dict[str, list[LoggedWrite]] = {}
    if not claim_keys:
        return found
    rows = con.execute(
        """SELECT claim_key, write_id, written_at, actor, action, params, outcome, message FROM write_log
        WHERE account = ? AND written_at >= ? AND list_contains(?::VARCHAR[], claim_key)
        ORDER BY written_at DESC, rowid DESC""",
        [account, since, list(claim_keys)],
    ).fetchall()
    for row in rows:
        found.setdefault(row[0], []).append(_logged(row[1:]))
    return found


def logged_write(con: duckdb.DuckDBPyConnection, write_id: str) -> LoggedWrite | None:
    """One logged write by its id, or None once it is forgotten."""
    rows = con.execute(f"{_LOGGED} WHERE write_id = ?", [write_id]).fetchall()
    return _logged(rows[0]) if rows else None


def settle_write(con: duckdb.DuckDBPyConnection, write_id: str, outcome: str, message: str | None = None) -> None:
    """Record how a logged write ended ('ok', 'refused', 'failed', 'unknown')."""
    con.execute("UPDATE write_log SET outcome = ?, message = ? WHERE write_id = ?", [outcome, message, write_id])


def forget_write(con: duckdb.DuckDBPyConnection, write_id: str) -> None:
    """Drop a logged write that was never sent (its input was refused before sending)."""
    con.execute("DELETE FROM write_log WHERE write_id = ?", [write_id])


# Reads ------------------------------------------------------------------------------------------------------


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
    """Run a read query and return a polars frame."""
    frame: pl.DataFrame = con.sql(sql, params=list(params) if params else None).pl()
    return frame


def records_between(
    con: duckdb.DuckDBPyConnection, account: str, start: datetime | None = None, end: datetime | None = None
) -> pl.DataFrame:
    """The account's records with `start <= requestDate < end` (naive UTC; None: unbounded), oldest first."""
    columns = ", ".join(f'r."{name}"' for name in API_FIELDS)
    return query(
        con,
        f"""SELECT {columns}, r.{EXTRA}, r.{UNPARSED}, w.name AS widget_name, d.name AS department_name
        FROM records r
        LEFT JOIN widgets w ON w.account = r.account AND w.id = r.widgetId
        LEFT JOIN departments d ON d.account = r.account AND d.widget_id = r.widgetId AND d.id = r.departmentId
        WHERE r.account = ?
          AND (?::TIMESTAMP IS NULL OR r.requestDate >= ?)
          AND (?::TIMESTAMP IS NULL OR r.requestDate < ?)
        ORDER BY r.requestDate, r.id""",  # noqa: S608 - our own column names
        [account, start, start, end, end],
    )


def chat_messages_between(
    con: duckdb.DuckDBPyConnection, account: str, start: datetime | None = None, end: datetime | None = None
) -> pl.DataFrame:
    """Every message of the chats that started in [start, end) (naive UTC; None: unbounded), in order."""
    return query(
        con,
        """SELECT s.start_time, s.client_id, s.widget_id, w.name AS widget_name, s.operator, s.ip,
                  m.position, m.from_client, m.text, m.time
        FROM chat_sessions s
        LEFT JOIN chat_messages m ON m.account = s.account AND m.client_id = s.client_id
             AND m.start_time IS NOT DISTINCT FROM s.start_time
        LEFT JOIN widgets w ON w.account = s.account AND w.id = s.widget_id
        WHERE s.account = ?
          AND (?::TIMESTAMP IS NULL OR s.start_time >= ?)
          AND (?::TIMESTAMP IS NULL OR s.start_time < ?)
        ORDER BY s.start_time, s.client_id, m.position""",
        [account, start, start, end, end],
    )


def sync_states(con: duckdb.DuckDBPyConnection, account: str) -> pl.DataFrame:
    """How far each resource of the account is synced, and when it last was."""
    return query(
        con,
        "SELECT resource, synced_from, synced_through, updated_at FROM sync_state WHERE account = ? ORDER BY resource",
        [account],
    )


def counts(con: duckdb.DuckDBPyConnection, account: str) -> tuple[int, int]:
    """How many records and chat sessions of the account the cache holds."""
    row = con.execute(
        """SELECT (SELECT count(*) FROM records WHERE account = ?),
        (SELECT count(*) FROM chat_sessions WHERE account = ?)""",
        [account, account],
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def recent_runs(con: duckdb.DuckDBPyConnection, account: str, limit: int = 20) -> pl.DataFrame:
    """The account's latest sync runs, newest first."""
    return query(
        con,
        """SELECT started_at, finished_at, outcome, windows_done, windows_total, records, chats, message
        FROM sync_runs WHERE account = ? ORDER BY started_at DESC LIMIT ?""",
        [account, limit],
    )


def widget_departments(con: duckdb.DuckDBPyConnection, account: str) -> pl.DataFrame:
    """The account's widgets with their departments (one row per department; a widget without any has one row)."""
    return query(
        con,
        """SELECT w.id AS widget_id, w.name AS widget, d.id AS department_id, d.name AS department
        FROM widgets w LEFT JOIN departments d ON d.account = w.account AND d.widget_id = w.id
        WHERE w.account = ? ORDER BY w.name, w.id, d.name, d.id""",
        [account],
    )
