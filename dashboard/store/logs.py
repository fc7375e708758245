"""The store's logs: sync runs, and the write log of what was sent to Newton. Writing them changes nothing the
pages count, so the data keeps its version."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import orjson
import polars as pl

from dashboard.store.schema import utc_now


def start_run(con: duckdb.DuckDBPyConnection, account: str, windows_total: int) -> str:
    """Record a sync run as started; earlier runs left 'running' were killed, so say so."""
    con.execute("UPDATE sync_runs SET outcome = 'interrupted' WHERE account = ? AND outcome = 'running'", [account])
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


def recent_runs(con: duckdb.DuckDBPyConnection, account: str, limit: int = 20) -> pl.DataFrame:
    """The account's latest sync runs, newest first."""
    frame: pl.DataFrame = con.sql(
        """SELECT started_at, finished_at, outcome, windows_done, windows_total, records, chats, message
        FROM sync_runs WHERE account = ? ORDER BY started_at DESC LIMIT ?""",
        params=[account, limit],
    ).pl()
    return frame


def write_history(con: duckdb.DuckDBPyConnection, account: str) -> pl.DataFrame:
    """Every write logged for `account`, newest first (naive UTC `time`)."""
    frame: pl.DataFrame = con.sql(
        """SELECT written_at AS time, action, params AS parameters, outcome, message, actor
        FROM write_log WHERE account = ? ORDER BY written_at DESC, rowid DESC""",
        params=[account],
    ).pl()
    return frame
