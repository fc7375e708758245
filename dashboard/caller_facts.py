"""What a record's phone says across the records, stored with the record when a sync writes it: the time of the
same caller's previous request (`phone_prev_at`).

A caller is counted once however many requests (docs/metrics.md, "Callers"): over a million records that is a
distinct count of hundreds of thousands of phones, most of a headline's cost. Ordered by request time, then id,
a caller's first request in a period is the one whose previous request is before the period (or that has none),
and a new caller's is the one with no previous request at all; so over every record of a period (no filter
chosen) the callers are a plain count. Our own call backs and records without a request time are no request of
the caller's here, as in `phone_first_at` (dashboard/store/schema.py).
"""

from __future__ import annotations

import hashlib

import duckdb

from dashboard import callers

# The column worked out for each record, beside `phone_first_at`, by type.
COLUMNS = {"phone_prev_at": "TIMESTAMP"}

# The requests of callers: what a headline counts (dashboard/metrics.py, `record_facts`), by account and phone.
_PREVIOUS = """
SELECT account, id, lag(requestDate) OVER (PARTITION BY account, phone ORDER BY requestDate, id) AS prev_at
FROM records WHERE phone IS NOT NULL AND requestDate IS NOT NULL AND NOT is_ours {only}"""

# Kept in meta beside the caller rules: a change to either works the column out again for every record.
RULES_VERSION = hashlib.sha256((callers.RULES_VERSION + _PREVIOUS).encode()).hexdigest()[:16]


def refresh_previous_requests(con: duckdb.DuckDBPyConnection, account: str | None = None, phones: str = "") -> None:
    """Give each request its caller's previous request time: for every phone, or for the account's phones that the
    query `phones` lists (those whose requests a write added, replaced or moved)."""
    only = f"AND account = $account AND phone IN ({phones})" if phones else ""
    con.execute(
        f"""UPDATE records AS r SET phone_prev_at = p.prev_at
        FROM ({_PREVIOUS.format(only=only)}) p
        WHERE r.account = p.account AND r.id = p.id AND r.phone_prev_at IS DISTINCT FROM p.prev_at""",  # noqa: S608 - our own SQL
        {"account": account} if phones else {},
    )


def callers_sql() -> str:
    """The caller columns of a view that holds every request of a period from `$start` (no filter chosen), as
    aggregates over its records (`phone`, `phone_prev_at`): each caller's first request in the period counts it,
    and a new caller's is its first request at all. Without a period (`$start` NULL) every caller is new."""
    return """
    count(*) FILTER (WHERE phone IS NOT NULL AND (phone_prev_at IS NULL OR phone_prev_at < $start)) AS callers,
    count(*) FILTER (WHERE phone IS NOT NULL AND phone_prev_at IS NULL) AS new_callers,
    count(*) FILTER (WHERE phone IS NOT NULL AND phone_prev_at < $start) AS repeat_callers"""
