"""The store's tables: Newton's (rebuilt by syncing whenever the schema changes) and people's (migrated, never
dropped), the schema version, and the data version that tells the answer cache when to ask again."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from dashboard import caller_facts, callers, channels, chat_facts
from dashboard.api import RECORD_SCHEMA

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_DUCKDB_TYPES = {pl.String: "VARCHAR", pl.Datetime: "TIMESTAMP", pl.Int64: "BIGINT"}
RECORD_COLUMNS = list(RECORD_SCHEMA)


def _record_columns_ddl() -> str:
    columns = [f'"{name}" {_DUCKDB_TYPES[type(dtype)]}' for name, dtype in RECORD_SCHEMA.items()]
    return ",\n    ".join(columns)


def _chat_facts_ddl() -> str:
    return ", ".join(f"{name} {sql_type}" for name, sql_type in chat_facts.COLUMNS.items())


# What Newton can give back: dropped and created again when the schema version changes, then filled by a sync.
NEWTON_TABLES = ("meta", "records", "widgets", "departments", "chat_sessions", "chat_messages", "sync_state",
                 "sync_runs", "sync_ranges")  # fmt: skip
SCHEMA = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE records (
    account VARCHAR NOT NULL,
    {_record_columns_ddl()},
    synced_at TIMESTAMP NOT NULL,
    channel VARCHAR,
    phone VARCHAR,
    is_ours BOOLEAN,
    phone_first_at TIMESTAMP,
    phone_first_id VARCHAR,
    {", ".join(f"{name} {sql_type}" for name, sql_type in caller_facts.COLUMNS.items())}
);
CREATE TABLE widgets (account VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR, synced_at TIMESTAMP NOT NULL);
CREATE TABLE departments (
    account VARCHAR NOT NULL, widget_id VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR
);
CREATE TABLE chat_sessions (
    account VARCHAR NOT NULL, client_id VARCHAR NOT NULL, start_time TIMESTAMP, widget_id VARCHAR,
    operator VARCHAR, ip VARCHAR, messages INTEGER NOT NULL, synced_at TIMESTAMP NOT NULL,
    {_chat_facts_ddl()}
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
"""


@dataclass(frozen=True)
class PeoplesTable:
    """A table of what people made, which no sync can give back: created if missing, then brought up to date by
    its `migrations` (statements safe to run on every open); never dropped, and carried over into a fresh file
    when a damaged one is quarantined."""

    name: str
    create: str
    migrations: tuple[str, ...] = ()


PEOPLES_TABLES = (
    PeoplesTable("write_log", """CREATE TABLE IF NOT EXISTS write_log (
        write_id VARCHAR PRIMARY KEY, account VARCHAR NOT NULL, written_at TIMESTAMP NOT NULL, actor VARCHAR,
        action VARCHAR NOT NULL, params VARCHAR NOT NULL, outcome VARCHAR NOT NULL, message VARCHAR,
        claim_key VARCHAR)""",
        # Added after schema version 1: the key under which a write is claimed (see dashboard.writes).
        ("ALTER TABLE write_log ADD COLUMN IF NOT EXISTS claim_key VARCHAR",)),
    PeoplesTable("saved_views", """CREATE TABLE IF NOT EXISTS saved_views (
        account VARCHAR NOT NULL, name VARCHAR NOT NULL, page VARCHAR NOT NULL, query VARCHAR NOT NULL,
        created_by VARCHAR, created_at TIMESTAMP NOT NULL, PRIMARY KEY (account, name))"""),
    # Marks on lost leads (dashboard/store/marks.py): one per phone, never sent to Newton.
    PeoplesTable("lead_marks", """CREATE TABLE IF NOT EXISTS lead_marks (
        account VARCHAR NOT NULL, phone VARCHAR NOT NULL, kind VARCHAR NOT NULL, marked_by VARCHAR,
        marked_at TIMESTAMP NOT NULL, PRIMARY KEY (account, phone))"""),
    # One row per alert and channel (dashboard/alerts/sent.py): decided and claimed 'sending' in one transaction,
    # then 'sent' once the channel accepted it, or 'failed' (tried again on the next run).
    PeoplesTable("sent_alerts", """CREATE TABLE IF NOT EXISTS sent_alerts (
        account VARCHAR NOT NULL, rule VARCHAR NOT NULL, alert_key VARCHAR NOT NULL, event VARCHAR NOT NULL,
        channel VARCHAR NOT NULL, decided_at TIMESTAMP NOT NULL, state VARCHAR NOT NULL,
        claimed_at TIMESTAMP NOT NULL, sent_at TIMESTAMP, attempts INTEGER NOT NULL, subject VARCHAR NOT NULL,
        text VARCHAR NOT NULL, error VARCHAR, PRIMARY KEY (account, rule, alert_key, event, channel))"""),
    # Ad costs (dashboard/costs.py): money in kopecks per day, source, medium, campaign and kind of file; the
    # `*_key` columns are the trimmed lower-case values costs are matched by.
    PeoplesTable("costs", """CREATE TABLE IF NOT EXISTS costs (
        account VARCHAR NOT NULL, day DATE NOT NULL,
        utm_source VARCHAR NOT NULL, utm_medium VARCHAR NOT NULL, utm_campaign VARCHAR NOT NULL,
        campaign_id VARCHAR NOT NULL, kopecks BIGINT NOT NULL, origin VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL, file_type VARCHAR NOT NULL, imported_by VARCHAR, imported_at TIMESTAMP NOT NULL,
        source_key VARCHAR NOT NULL, medium_key VARCHAR NOT NULL, campaign_key VARCHAR NOT NULL,
        PRIMARY KEY (account, day, source_key, medium_key, campaign_key, origin))"""),
)  # fmt: skip

_prepared: set[str] = set()
_prepared_lock = threading.Lock()


def utc_now() -> datetime:
    """Now, as the naive UTC timestamp the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def prepare(con: duckdb.DuckDBPyConnection, path: Path | str, *, lake: bool = False) -> None:
    """Create the schema, or rebuild Newton's tables of a file of another schema version rather than half-read
    them; people's tables are kept and migrated. Once per file (or lake, by its identity) and process.

    On a lake (`lake`) the same tables are made without PRIMARY KEY (DuckLake has no constraints): the upserts
    keep the keys unique (`put_meta`, `dashboard.store.data`)."""
    key = str(path.resolve()) if isinstance(path, Path) else path
    ddl = without_keys if lake else _same
    with _prepared_lock:
        if key in _prepared:
            return
        # Only the store's own database: a lake's connection also sees `memory` and the catalog's tables.
        existing = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        }
        version = None
        if "meta" in existing:
            rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
            version = rows[0][0] if rows else None
        if version != str(SCHEMA_VERSION):
            if existing:
                log.warning(
                    "The cache %s has schema version %s, this program uses %s: rebuilding Newton's data (people's "
                    "tables are kept); the next sync fetches the full history.",
                    path, version, SCHEMA_VERSION,
                )  # fmt: skip
            con.begin()
            for table in NEWTON_TABLES:
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(ddl(SCHEMA))
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            con.commit()
        for kept in PEOPLES_TABLES:
            con.execute(ddl(kept.create))
            for statement in kept.migrations:
                con.execute(statement)
        _add_sync_ranges(con)
        # A cache from before data versions, or a new one: its first version, unique to this file.
        con.execute(
            "INSERT INTO meta SELECT 'data_version', ? "
            "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'data_version')",
            [uuid.uuid4().hex],
        )
        for worked_out in WORKED_OUT:
            _store_worked_out(con, worked_out)
        _prepared.add(key)


def _same(ddl: str) -> str:
    return ddl


_KEY_CLAUSE = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)|\s+PRIMARY KEY\b|\s+UNIQUE\b")


def without_keys(ddl: str) -> str:
    """`ddl` without PRIMARY KEY and UNIQUE, which DuckLake does not support."""
    return _KEY_CLAUSE.sub("", ddl)


def put_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set `meta`'s `key` to `value`: a delete and an insert in the caller's transaction, so that a lake (no keys,
    no INSERT OR REPLACE) keeps one row per key as the file does."""
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def forget_prepared(path: Path) -> None:
    """The file at `path` was replaced: prepare the next one opened there."""
    with _prepared_lock:
        _prepared.discard(str(path.resolve()))


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


@dataclass(frozen=True)
class WorkedOut:
    """Columns of `records` worked out from a record's own fields when it is written (`columns`: name → type and
    SQL over the record `r`), kept under the version of their rules (`version`, in meta as `key`); `after` then
    fills the columns `kept` (name → type) that depend on other rows. Of another `table`, only `kept` and `after`."""

    key: str
    version: str
    columns: dict[str, tuple[str, str]]
    kept: dict[str, str] = field(default_factory=dict)
    after: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    table: str = "records"


def refresh_first_requests(con: duckdb.DuckDBPyConnection, account: str | None = None, phones: str = "") -> None:
    """Give each record its phone's first request in the cache (`phone_first_at`, `phone_first_id`: the earliest
    by request time, then id; our own call backs never count): for every phone, or for the account's phones that
    the query `phones` lists. Stored, so that "new caller" and "first touch" read a column instead of grouping
    the whole cache by phone on every question (docs/metrics.md, "Callers")."""
    only = f"AND account = $account AND phone IN ({phones})" if phones else ""
    con.execute(
        f"""UPDATE records AS r SET phone_first_at = f.first_at, phone_first_id = f.first_id
        FROM (SELECT account, phone, min(requestDate) AS first_at, arg_min(id, (requestDate, id)) AS first_id
              FROM records WHERE phone IS NOT NULL AND requestDate IS NOT NULL AND NOT is_ours {only}
              GROUP BY account, phone) f
        WHERE r.account = f.account AND r.phone = f.phone""",  # noqa: S608 - our own SQL
        {"account": account} if phones else {},
    )


def store_chat_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Give every chat session the values its messages say about it (dashboard/chat_facts.py), as a write does."""
    keys = ("account", "client_id", "start_time")
    facts = chat_facts.per_session("chat_sessions", "chat_messages", keys)
    same = " AND ".join(f"f.{key} IS NOT DISTINCT FROM t.{key}" for key in keys)
    assignments = ", ".join(f"{name} = f.{name}" for name in chat_facts.COLUMNS)
    con.execute(f"UPDATE chat_sessions AS t SET {assignments} FROM ({facts}) f WHERE {same}")  # noqa: S608


WORKED_OUT = (
    WorkedOut("channel_rules", channels.RULES_VERSION, {"channel": ("VARCHAR", channels.CHANNEL_SQL)}),
    WorkedOut("caller_rules", f"{callers.RULES_VERSION}-first",
              {"phone": ("VARCHAR", callers.PHONE_SQL), "is_ours": ("BOOLEAN", callers.IS_OURS_SQL)},
              {"phone_first_at": "TIMESTAMP", "phone_first_id": "VARCHAR"}, refresh_first_requests),
    # After the caller rules: the previous request of each caller (dashboard/caller_facts.py).
    WorkedOut("caller_previous", caller_facts.RULES_VERSION, {}, caller_facts.COLUMNS,
              caller_facts.refresh_previous_requests),
    WorkedOut("chat_rules", chat_facts.RULES_VERSION, {}, chat_facts.COLUMNS, store_chat_facts, "chat_sessions"),
)  # fmt: skip


def worked_out_columns() -> dict[str, str]:
    """Every worked-out column of `records` and its SQL over the record `r` (what a write stores with it)."""
    return {name: sql for kind in WORKED_OUT if kind.table == "records" for name, (_, sql) in kind.columns.items()}


def _store_worked_out(con: duckdb.DuckDBPyConnection, kind: WorkedOut) -> None:
    """Give every record its worked-out columns by the current rules, once: in a cache from before they were
    stored, or after the rules changed. Answers memoized under the old version are then asked again."""
    rules = con.execute("SELECT value FROM meta WHERE key = ?", [kind.key]).fetchall()
    if rules and rules[0][0] == kind.version:
        return
    con.begin()
    types = {name: sql_type for name, (sql_type, _) in kind.columns.items()} | kind.kept
    for name, sql_type in types.items():
        con.execute(f"ALTER TABLE {kind.table} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    if kind.columns:
        assignments = ", ".join(f"{name} = {sql}" for name, (_, sql) in kind.columns.items())
        con.execute(f"UPDATE records AS r SET {assignments}")  # noqa: S608 - our own rules
    if kind.after:
        kind.after(con)
    put_meta(con, kind.key, kind.version)
    new_data_version(con)
    con.commit()


LAKE_ALIAS = "newton_lake"  # the name a lake is attached under (dashboard/store/lake.py)


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """What the pages count, as one value that changes whenever it does (see `new_data_version`). The same on a
    lake: every read there sees the latest commit of any process on any machine, so a sync elsewhere that changed
    what the pages count shows on the next run. Not the lake's snapshot id, which every commit moves: a re-sync
    that changes nothing (four commits) made every server ask every answer again (the lake load benchmark)."""
    rows = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return str(rows[0][0]) if rows else ""


def new_data_version(con: duckdb.DuckDBPyConnection) -> None:
    """Give the data a new version, in the transaction that changes what the pages count: answers memoized under
    the old version are then asked again once it commits. A random value, so that a file quarantined and rebuilt
    never repeats a version of the old one."""
    put_meta(con, "data_version", uuid.uuid4().hex)
