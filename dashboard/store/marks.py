"""Marks on lost leads: a phone marked "handled elsewhere", "not a lead" or "spam", by whom and when.

What only we know (never sent to Newton), kept in the people's table `lead_marks`: one mark per phone, the newest
replacing the one before. A mark covers the phone's misses up to its time; a missed request after it reopens the
phone (dashboard/lost_leads.py). Marking changes what the pages count, so it gives the data a new version.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from dashboard.errors import InvalidInput
from dashboard.store.schema import new_data_version

MARK_KINDS = ("handled_elsewhere", "not_a_lead", "spam")
PHONE_LONGEST = 200  # a phone that cannot be normalised is kept as sent: bounded like any visitor text


def check_kind(kind: str) -> str:
    """The kind of a mark, or a message naming the field and the kinds there are."""
    if kind not in MARK_KINDS:
        raise InvalidInput({"kind": f"must be one of: {', '.join(MARK_KINDS)}"})
    return kind


def _check_phone(phone: str) -> str:
    if not isinstance(phone, str) or not phone.strip() or len(phone) > PHONE_LONGEST:
        raise InvalidInput({"phone": "must be a caller's phone as the lost leads list it"})
    return phone


def mark_phone(
    con: duckdb.DuckDBPyConnection, account: str, phone: str, kind: str, by: str | None, now: datetime
) -> None:
    """Mark `phone` (as the lost leads list it) as `kind`, by `by`, at `now` (naive UTC); replaces its mark."""
    check_kind(kind)
    _check_phone(phone)
    # A delete and an insert in the write's transaction, not INSERT OR REPLACE: a lake has no keys to replace by.
    con.execute("DELETE FROM lead_marks WHERE account = ? AND phone = ?", [account, phone])
    con.execute(
        "INSERT INTO lead_marks (account, phone, kind, marked_by, marked_at) VALUES (?, ?, ?, ?, ?)",
        [account, phone, kind, by, now],
    )
    new_data_version(con)


def unmark_phone(con: duckdb.DuckDBPyConnection, account: str, phone: str) -> None:
    """Take the mark off `phone` (nothing happens when it has none)."""
    _check_phone(phone)
    # Counted first, then deleted (a lake's DELETE has no RETURNING), in the write's transaction.
    marked = "FROM lead_marks WHERE account = ? AND phone = ?"
    removed = con.execute(f"SELECT count(*) {marked}", [account, phone]).fetchall()[0][0]
    con.execute(f"DELETE {marked}", [account, phone])
    if removed:
        new_data_version(con)
