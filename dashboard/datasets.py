"""The raw data one can export: records and chat messages as the API gave them, plus a few derived columns."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from dashboard.api.records import API_FIELDS, INTEGER_FIELDS, NEWTON_TIME, TIMESTAMP_FIELDS, UNPARSED
from dashboard.store import data
from dashboard.timezones import local_times


def _local(frame: pl.DataFrame, column: str, zone: ZoneInfo, alias: str) -> pl.Series:
    # From the dashboard's one source of zone rules (dashboard/timezones.py), not polars' own.
    return local_times(frame[column], zone).alias(alias)


def _as_sent(frame: pl.DataFrame) -> pl.DataFrame:
    """Put back, as text, the values Newton sent that could not be read as their type, so an export loses nothing."""
    if frame.is_empty() or frame[UNPARSED].null_count() == frame.height:
        return frame
    fixes = []
    for name in (*TIMESTAMP_FIELDS, *INTEGER_FIELDS):
        raw = pl.col(UNPARSED).str.json_path_match(f"$.{name}")
        if frame.select(raw.is_not_null().any()).item():
            typed = pl.col(name).dt.strftime(NEWTON_TIME) if name in TIMESTAMP_FIELDS else pl.col(name).cast(pl.String)
            fixes.append(pl.coalesce(typed, raw).alias(name))
    return frame.with_columns(fixes)


def records_for_export(
    con: duckdb.DuckDBPyConnection, account: str, start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> pl.DataFrame:
    """Records with requestDate in [start, end): every API field by its API name (UTC), then derived columns."""
    frame = data.records_between(con, account, start, end)
    # The local time comes from the typed column, before an unreadable requestDate is put back as text.
    frame = frame.with_columns(_local(frame, "requestDate", zone, "request_time_local"))
    derived = [
        pl.col("request_time_local"),
        pl.col("widget_name"),
        pl.col("department_name"),
        pl.col("extra"),
        pl.col(UNPARSED),
    ]
    return _as_sent(frame).select(*[pl.col(name) for name in API_FIELDS], *derived)


def chats_for_export(
    con: duckdb.DuckDBPyConnection, account: str, start: datetime | None, end: datetime | None, zone: ZoneInfo
) -> pl.DataFrame:
    """One row per chat message, with its session's fields under the API's names (UTC), then derived columns."""
    frame = data.chat_messages_between(con, account, start, end)
    return frame.select(
        pl.col("start_time").alias("startTime"),
        pl.col("client_id").alias("clientId"),
        pl.col("operator"),
        pl.col("ip"),
        pl.col("widget_id").alias("widgetId"),
        pl.col("position").alias("message_number"),
        pl.col("from_client").alias("from"),
        pl.col("text"),
        pl.col("time"),
        _local(frame, "start_time", zone, "start_time_local"),
        pl.col("widget_name"),
    )
