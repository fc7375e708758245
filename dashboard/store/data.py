"""Newton's data in the store: upserts of records, chats and widgets, lead prices, sync state and ranges, and reads.

A write here that changes what the pages count gives the data a new version in its own transaction; one that only
rewrites the same rows (a look-back over days already synced) keeps it, and so every session's memoized answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import duckdb
import polars as pl

from dashboard import caller_facts, chat_facts
from dashboard.api import ChatSession, Widget
from dashboard.api.models import MESSAGE_SCHEMA, ChatMessages
from dashboard.api.records import API_FIELDS, EXTRA, UNPARSED
from dashboard.store.schema import (
    RECORD_COLUMNS,
    data_version,
    new_data_version,
    put_meta,
    refresh_first_requests,
    utc_now,
    worked_out_columns,
)


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


def upsert_records(
    con: duckdb.DuckDBPyConnection,
    account: str,
    records: pl.DataFrame,
    synced_at: datetime,
) -> int:
    """Insert or replace records by id; a batch holding one id twice keeps its last copy. Returns the rows written
    or found unchanged (`upsert_records_changed` also tells how many were written)."""
    return upsert_records_changed(con, account, records, synced_at)[0]


def upsert_records_changed(
    con: duckdb.DuckDBPyConnection,
    account: str,
    records: pl.DataFrame,
    synced_at: datetime,
) -> tuple[int, int]:
    """`upsert_records`, returning the rows written or found unchanged and the rows written. Only records new or
    different are written (stamped `synced_at`) and give the data a new version: a look-back over days already
    synced, unchanged, writes nothing."""
    batch = records.filter(pl.col("id").is_not_null() & (pl.col("id") != "")).unique(
        "id", keep="last", maintain_order=True
    )
    if batch.is_empty():
        return 0, 0
    columns = ", ".join(f'"{name}"' for name in RECORD_COLUMNS)
    con.register("incoming_records", batch.select(RECORD_COLUMNS))
    try:
        # The records not stored yet (all of them in a first sync), then one anti-join on every column (EXCEPT holds
        # NULLs equal) for those stored: the records new or different. Comparing only what is stored spares a first
        # sync hashing every column of every record.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE stored_ids AS
            SELECT id FROM records WHERE account = ? AND id IN (SELECT id FROM incoming_records)""",
            [account],
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE changed_records AS
            SELECT id FROM incoming_records ANTI JOIN stored_ids USING (id)
            UNION ALL
            SELECT id FROM (
                SELECT {columns} FROM incoming_records SEMI JOIN stored_ids USING (id)
                EXCEPT SELECT {columns} FROM records WHERE account = ? AND id IN (SELECT id FROM stored_ids))""",  # noqa: S608 - our own names
            [account],
        )
        changed = int(con.execute("SELECT count(*) FROM changed_records").fetchall()[0][0])
        if changed:
            new_data_version(con)
            _replace_changed_records(con, account, columns, synced_at)
    finally:
        con.execute("DROP TABLE IF EXISTS changed_records")
        con.execute("DROP TABLE IF EXISTS stored_ids")
        con.unregister("incoming_records")
    return batch.height, changed


def _replace_changed_records(con: duckdb.DuckDBPyConnection, account: str, columns: str, synced_at: datetime) -> None:
    """Replace the records listed in `changed_records` by their incoming rows, and move the first request of
    every phone they had or now have."""
    phones = "SELECT DISTINCT phone FROM records WHERE account = ? AND id IN (SELECT id FROM changed_records)"
    replaced = con.execute(phones, [account]).pl()
    con.execute("DELETE FROM records WHERE account = ? AND id IN (SELECT id FROM changed_records)", [account])
    worked_out = worked_out_columns()
    con.execute(
        f"INSERT INTO records (account, {columns}, synced_at, {', '.join(worked_out)}) "  # noqa: S608 - our own
        f"SELECT ?, {columns}, ?, {', '.join(worked_out.values())} FROM incoming_records r "  # names and rules
        "WHERE id IN (SELECT id FROM changed_records)",
        [account, synced_at],
    )
    # The first request of every phone written or replaced may have moved (an older record synced late).
    con.register("touched_phones", pl.concat([replaced, con.execute(phones, [account]).pl()]))
    try:
        refresh_first_requests(con, account, "SELECT phone FROM touched_phones")
        caller_facts.refresh_previous_requests(con, account, "SELECT phone FROM touched_phones")
    finally:
        con.unregister("touched_phones")


_HEAD_SCHEMA: Final[dict[str, pl.DataType]] = {
    "client_id": pl.String(), "start_time": pl.Datetime("us"), "widget_id": pl.String(), "operator": pl.String(),
    "ip": pl.String(), "messages": pl.Int32(),
}  # fmt: skip
_SPAN_SCHEMA: Final[dict[str, pl.DataType]] = {
    "client_id": pl.String(), "start_time": pl.Datetime("us"), "row": pl.Int64(), "length": pl.Int64(),
}  # fmt: skip


def chat_frames(sessions: Sequence[tuple[ChatSession, str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sessions and their messages as frames, one session per (client id, start time)."""
    unique: dict[tuple[str, datetime | None], tuple[ChatSession, str | None]] = {}
    for session, widget_id in sessions:
        key = (session.client_id, session.start_time)
        # A session seen in a per-widget answer keeps its widget even if the all-widgets answer repeats it.
        if key not in unique or unique[key][1] is None:
            unique[key] = (session, widget_id)
    kept = list(unique.values())
    heads = pl.DataFrame(
        {
            "client_id": [s.client_id for s, _ in kept], "start_time": [s.start_time for s, _ in kept],
            "widget_id": [w for _, w in kept], "operator": [s.operator for s, _ in kept],
            "ip": [s.ip for s, _ in kept], "messages": [len(s.messages) for s, _ in kept],
        },
        schema=_HEAD_SCHEMA,
    )  # fmt: skip
    return heads, _message_frame([s for s, _ in kept])


def _message_frame(sessions: Sequence[ChatSession]) -> pl.DataFrame:
    """Every session's messages with their session and position: the answers' message columns gathered, not
    rebuilt from objects (sessions made by hand, with a tuple of messages, are made columns first)."""
    blocks: dict[int, int] = {}  # id of an answer's message frame -> where its rows start in `frames`
    frames: list[pl.DataFrame] = []
    rows: list[int] = []
    gathered = 0
    for session in sessions:
        messages = session.messages
        if not isinstance(messages, ChatMessages):
            messages = ChatMessages(pl.DataFrame(messages, schema=MESSAGE_SCHEMA, orient="row"), 0, len(messages))
        if id(messages.block) not in blocks:
            blocks[id(messages.block)] = gathered
            frames.append(messages.block)
            gathered += messages.block.height
        rows.append(blocks[id(messages.block)] + messages.start)
    spans = pl.DataFrame(
        {
            "client_id": [s.client_id for s in sessions], "start_time": [s.start_time for s in sessions],
            "row": rows, "length": [len(s.messages) for s in sessions],
        },
        schema=_SPAN_SCHEMA,
    ).filter(pl.col("length") > 0)  # fmt: skip
    placed = spans.select(
        "client_id",
        "start_time",
        pl.int_ranges("row", pl.col("row") + pl.col("length")).alias("row"),
        pl.int_ranges(0, "length", dtype=pl.Int32).alias("position"),
    ).explode("row", "position")
    said = pl.concat(frames) if frames else pl.DataFrame(schema=MESSAGE_SCHEMA)
    return placed.select("client_id", "start_time", "position").hstack(said[placed["row"]])


def upsert_chats(
    con: duckdb.DuckDBPyConnection,
    account: str,
    sessions: Sequence[tuple[ChatSession, str | None]],
    synced_at: datetime,
) -> int:
    """Insert or replace chat sessions by (client id, start time), their messages replaced whole, each stored with
    what the chat metrics need from its messages (dashboard/chat_facts.py). Only sessions new or different are
    written, and they give the data a new version: a re-sync of days already synced writes nothing. Returns the
    sessions written or found unchanged."""
    heads, messages = chat_frames(sessions)
    if heads.is_empty():
        return 0
    con.register("incoming_heads", heads)
    con.register("incoming_messages", messages)
    starts = heads["start_time"]
    span: dict[str, Any] = {"account": account, "first": starts.min(), "last": starts.max()}
    try:
        # A session re-read without a widget (its widget is no longer listed) keeps the widget it had.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE incoming_sessions AS
            SELECT i.client_id, i.start_time, coalesce(i.widget_id, t.widget_id) AS widget_id, i.operator, i.ip,
                   i.messages
            FROM incoming_heads i LEFT JOIN (SELECT * FROM chat_sessions t WHERE {_NEAR}) t ON {_SAME_SESSION}""",  # noqa: S608
            span,
        )
        if _keep_changed_sessions(con, span):
            new_data_version(con)
            _replace_changed_sessions(con, span, synced_at)
    finally:
        con.execute("DROP TABLE IF EXISTS incoming_sessions")
        con.execute("DROP TABLE IF EXISTS changed_sessions")
        con.unregister("incoming_heads")
        con.unregister("incoming_messages")
    return heads.height


_SAME_SESSION = "i.client_id = t.client_id AND i.start_time IS NOT DISTINCT FROM t.start_time"
# The stored rows `t` that may belong to the incoming sessions: those of the account within their starts (so the
# file's other days are skipped unread), and those without a start.
_NEAR = "t.account = $account AND (t.start_time BETWEEN $first AND $last OR t.start_time IS NULL)"
_SESSION_COLUMNS = "client_id, start_time, widget_id, operator, ip, messages"
_MESSAGE_COLUMNS = "client_id, start_time, position, from_client, text, time"


def _keep_changed_sessions(con: duckdb.DuckDBPyConnection, span: dict[str, Any]) -> int:
    """Keep the sessions of `incoming_sessions` that are new or differ from the stored ones, in their session or
    any message, as the temporary table `changed_sessions`; returns how many. A stored session holds `messages`
    messages at positions 0, 1, …: with the same count, the same message at each incoming position is the same
    transcript."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE changed_sessions AS
        WITH differing AS (
            SELECT i.client_id, i.start_time
            FROM incoming_sessions i LEFT JOIN (SELECT * FROM chat_sessions t WHERE {_NEAR}) t ON {_SAME_SESSION}
            WHERE t.client_id IS NULL OR (i.widget_id, i.operator, i.ip, i.messages)
                  IS DISTINCT FROM (t.widget_id, t.operator, t.ip, t.messages)
            UNION
            SELECT i.client_id, i.start_time
            FROM incoming_messages i LEFT JOIN (SELECT * FROM chat_messages t WHERE {_NEAR}) t
                 ON {_SAME_SESSION} AND t.position = i.position
            WHERE t.client_id IS NULL
               OR (i.from_client, i.text, i.time) IS DISTINCT FROM (t.from_client, t.text, t.time)
        )
        SELECT i.* FROM incoming_sessions i SEMI JOIN differing t ON {_SAME_SESSION}""",  # noqa: S608 - our own names
        span,
    )
    return int(con.execute("SELECT count(*) FROM changed_sessions").fetchall()[0][0])


def _replace_changed_sessions(con: duckdb.DuckDBPyConnection, span: dict[str, Any], synced_at: datetime) -> None:
    """Write `changed_sessions` and their messages over the stored ones, with what their messages say."""
    for table in ("chat_sessions", "chat_messages"):
        con.execute(
            f"""DELETE FROM {table} t WHERE {_NEAR} AND EXISTS (
                SELECT 1 FROM changed_sessions i WHERE {_SAME_SESSION})""",  # noqa: S608 - our own table names
            span,
        )
    account = span["account"]
    facts = ", ".join(chat_facts.COLUMNS)
    con.execute(
        f"""INSERT INTO chat_sessions (account, {_SESSION_COLUMNS}, synced_at, {facts})
        SELECT ?, {", ".join(f"i.{name}" for name in _SESSION_COLUMNS.split(", "))}, ?, {facts}
        FROM changed_sessions i JOIN ({chat_facts.per_session("changed_sessions", "incoming_messages")}) t
             ON {_SAME_SESSION}""",  # noqa: S608 - our own names
        [account, synced_at],
    )
    con.execute(
        f"""INSERT INTO chat_messages SELECT ?, {_MESSAGE_COLUMNS} FROM incoming_messages t
        WHERE EXISTS (SELECT 1 FROM changed_sessions i WHERE {_SAME_SESSION})""",  # noqa: S608 - our own names
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
) -> None:
    """The account's widgets and departments, as Newton lists them now. A widget or department added, removed or
    renamed (their names are what the pages group by) gives the data a new version."""
    before = _listed_widgets(con, account)
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
    if before != _listed_widgets(con, account):
        new_data_version(con)


def set_lead_price(con: duckdb.DuckDBPyConnection, account: str, call_id: str, price: int) -> None:
    """A call's lead price as Newton now has it, so it shows before the next sync; a new price is a new version."""
    changed = con.execute(
        "UPDATE records SET leadPrice = ? WHERE account = ? AND id = ? AND leadPrice IS DISTINCT FROM ?",
        [price, account, call_id, price],
    ).fetchall()[0][0]
    if changed:
        new_data_version(con)


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
    before = complete_ranges(con, account, resource)
    ranges = merge_ranges([*before, *written])
    if ranges != before:  # a look-back inside the newest range completes nothing new: nothing to rewrite
        con.execute("DELETE FROM sync_ranges WHERE account = ? AND resource = ?", [account, resource])
        con.executemany(
            "INSERT INTO sync_ranges VALUES (?, ?, ?, ?)", [[account, resource, start, end] for start, end in ranges]
        )
    if ranges:
        newest = ranges[-1]
        # A delete and an insert, not INSERT OR REPLACE: a lake has no keys to replace by.
        con.execute("DELETE FROM sync_state WHERE account = ? AND resource = ?", [account, resource])
        con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, ?)", [account, resource, *newest, utc_now()])
    return ranges


# + account, in `meta`: the spans that fitted at the end of the account's last sync, in whole seconds: one records
# request's, and one window's (its chat requests).
_STEP_KEYS = ("sync_step_seconds:", "sync_window_seconds:")


def save_sync_steps(con: duckdb.DuckDBPyConnection, account: str, steps: tuple[timedelta, timedelta]) -> None:
    """Remember the records step and the window that fit the account's answers now, for its next sync."""
    for key, step in zip(_STEP_KEYS, steps, strict=True):
        put_meta(con, key + account, str(int(step.total_seconds())))


def sync_steps(con: duckdb.DuckDBPyConnection, account: str) -> tuple[timedelta | None, timedelta | None]:
    """The records step and the window the account's last sync ended with; None where none is remembered."""
    remembered = []
    for key in _STEP_KEYS:
        rows = con.execute("SELECT value FROM meta WHERE key = ?", [key + account]).fetchall()
        seconds = str(rows[0][0]) if rows else ""
        remembered.append(timedelta(seconds=int(seconds)) if seconds.isdecimal() and int(seconds) > 0 else None)
    return remembered[0], remembered[1]


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


def widget_departments(con: duckdb.DuckDBPyConnection, account: str) -> pl.DataFrame:
    """The account's widgets with their departments (one row per department; a widget without any has one row)."""
    return query(
        con,
        """SELECT w.id AS widget_id, w.name AS widget, d.id AS department_id, d.name AS department
        FROM widgets w LEFT JOIN departments d ON d.account = w.account AND d.widget_id = w.id
        WHERE w.account = ? ORDER BY w.name, w.id, d.name, d.id""",
        [account],
    )
