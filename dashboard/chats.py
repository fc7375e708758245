"""The Chats page's data: the filtered chat sessions, one session's transcript, and their export.

Sessions are filtered as the chat metrics filter them (docs/metrics.md, "Chats"): the period on the session's
start in the dashboard's time zone, and the widget by name. The other sidebar filters describe callback records
and do not apply to chats (`applies_to_chats`). A session is named by an opaque `session` string made from
(clientId, startTime), since Newton gives chats no id.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from dashboard import datasets
from dashboard.export import to_csv_bytes
from dashboard.metrics import Filters, chat_filter, chat_sessions
from dashboard.timezones import OFFSETS_CTE, local_days_utc, local_times, offsets_params

SHOWN_SESSIONS = 500

# (client id, start time) as one string; the start time at microsecond precision, empty when Newton sent none.
_SESSION_ID = "s.client_id || '|' || coalesce(strftime(s.start_time, '%Y-%m-%dT%H:%M:%S.%f'), '')"


@dataclass(frozen=True)
class SessionList:
    """The newest sessions that pass the filters, and how many passed in all."""

    sessions: pl.DataFrame
    total: int


def sessions(
    con: duckdb.DuckDBPyConnection,
    account: str,
    filters: Filters,
    zone: ZoneInfo,
    *,
    containing: str | None = None,
    limit: int = SHOWN_SESSIONS,
) -> SessionList:
    """The filtered sessions, newest first, at most `limit`; `containing` keeps those with a message holding it.

    Columns: session, start_time_local, operator, widget, messages, first_response_seconds, unanswered, client_id.
    Rows are the chat metrics' own (`metrics.chat_sessions`), so the list and the numbers cannot disagree.
    """
    every, params = chat_sessions(account, zone, filters, containing)
    shown, _ = chat_sessions(account, zone, filters, containing, newest=limit)  # the same parameters, and $newest
    period = filters.period
    start, end = local_days_utc(period.first, period.last, zone) if period else (None, None)
    params |= {"newest": limit, **offsets_params(zone, start, end)}
    sql = f"""
WITH {OFFSETS_CTE}
SELECT {_SESSION_ID} AS session,
       s.start_time + to_seconds(o.seconds) AS start_time_local,
       s.operator, s.widget, s.messages, s.first_response_seconds, s.unanswered, s.client_id,
       (SELECT count(*) FROM ({every})) AS total
FROM ({shown}) s
ASOF LEFT JOIN zone_offsets o ON s.start_time >= o.utc_start
ORDER BY s.start_time DESC NULLS LAST, s.client_id"""  # noqa: S608 - our own expressions; values are parameters
    frame: pl.DataFrame = con.sql(sql, params=params).pl()
    total = int(frame["total"][0]) if frame.height else 0
    return SessionList(
        frame.drop("total").with_columns(
            pl.col("start_time_local").dt.replace_time_zone(None),
            pl.col("messages").cast(pl.Int64),
            pl.col("first_response_seconds").cast(pl.Float64),
        ),
        total,
    )


def transcript(con: duckdb.DuckDBPyConnection, account: str, session: str, zone: ZoneInfo) -> pl.DataFrame:
    """One session's messages in order: position, time_local (None when Newton sent none), from_client, text."""
    sql = f"""
SELECT m.position, m.time AS time_local, m.from_client, m.text
FROM chat_sessions s
JOIN chat_messages m ON m.account = s.account AND m.client_id = s.client_id
     AND m.start_time IS NOT DISTINCT FROM s.start_time
WHERE s.account = $account AND {_SESSION_ID} = $session
ORDER BY m.position"""  # noqa: S608 - our own expression; values are parameters
    frame: pl.DataFrame = con.sql(sql, params={"account": account, "session": session}).pl()
    return frame.with_columns(local_times(frame["time_local"], zone))  # UTC as kept, then local by zoneinfo


def export_csv(
    con: duckdb.DuckDBPyConnection, account: str, filters: Filters, zone: ZoneInfo, *, containing: str | None = None
) -> bytes:
    """Every message of the sessions the list shows (without its limit), as the one CSV export (UTF-8, BOM)."""
    period = filters.period
    start, end = local_days_utc(period.first, period.last, zone) if period else (None, None)
    messages = datasets.chats_for_export(con, account, start, end, zone)
    if applies_to_chats(filters) or (containing and containing.strip()):
        facts, params = chat_sessions(account, zone, filters, containing)
        sql = f'SELECT client_id AS "clientId", start_time AS "startTime" FROM ({facts})'  # noqa: S608
        keys: pl.DataFrame = con.sql(sql, params=params).pl()
        messages = messages.join(keys, on=["clientId", "startTime"], how="semi", nulls_equal=True)
    return to_csv_bytes(messages)


def applies_to_chats(filters: Filters) -> bool:
    """Whether a chosen filter narrows the chats (the widget does; the filters of callback records do not)."""
    return any(chat_filter(name) for name in filters.chosen)


def ignored_by_chats(filters: Filters) -> bool:
    """Whether a filter is chosen that does not apply to chats, so the page can say the numbers ignore it."""
    return any(not chat_filter(name) for name in filters.chosen)
