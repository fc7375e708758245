"""The Lost leads page's list: the callers shown for a choice (lost, reached, marked, all), what became of each
"Call back now" (from the write log), and the marks people put on a caller. No Streamlit here.

The rows come from `LostLeads.callers_with_misses` (dashboard/lost_leads.py); a caller is in exactly one of lost,
reached and marked (a marked phone counts only as marked, as in `LostLeads.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from dashboard import i18n, writes
from dashboard.access import Person
from dashboard.calls import playable
from dashboard.errors import InvalidInput, NotAllowed
from dashboard.export import to_csv_bytes
from dashboard.i18n import Problem
from dashboard.store import AnyStore, LoggedWrite, marks
from dashboard.store.reading import Reading
from dashboard.timezones import local_time

CHOICES = ("lost", "reached", "marked", "all")
CALL_BACK = "call_back"  # the column with the outcome of the row's last "Call back now"
SEARCH_MAX_CHARS = 50
SHOWN_LIMIT = 1_000  # the callers a page draws, newest first (the download has every one)


def shown(callers: pl.DataFrame, choice: str, search: str = "") -> pl.DataFrame:
    """The callers of `choice` whose phone contains the digits searched for, in the given order (newest miss
    first)."""
    if choice not in CHOICES:
        raise InvalidInput({"show": f"must be one of: {', '.join(CHOICES)}"})
    unmarked = pl.col("mark").is_null()
    kept = {
        "lost": unmarked & ~pl.col("reached"),
        "reached": unmarked & pl.col("reached"),
        "marked": ~unmarked,
        "all": pl.lit(True),
    }[choice]
    digits = "".join(ch for ch in (search or "")[:SEARCH_MAX_CHARS] if ch.isdigit())
    if digits:
        kept = kept & pl.col("phone").str.replace_all(r"\D", "").str.contains(digits, literal=True)
    return callers.filter(kept)


def with_call_backs(
    rows: pl.DataFrame, logged: Mapping[str, LoggedWrite], now: datetime, zone: ZoneInfo, lang: str
) -> pl.DataFrame:
    """The rows with the outcome of each phone's last call back (`writes.call_backs`) in words: "sent 05.12 14:05,
    alice"; empty for a phone never called back."""
    said = [call_back_said(logged.get(phone), now, zone, lang) for phone in rows["phone"].to_list()]
    return rows.with_columns(pl.Series(CALL_BACK, said, dtype=pl.String))


def call_back_said(write: LoggedWrite | None, now: datetime, zone: ZoneInfo, lang: str) -> str | None:
    """A call back's outcome, when and by whom, in a few words for a table cell."""
    if write is None:
        return None
    outcome = i18n.label("write_outcome", writes.state(write, now), lang)
    when = f"{local_time(write.written_at, zone):%d.%m %H:%M}"
    return ", ".join(part for part in (outcome, when, write.actor) if part)


@dataclass(frozen=True)
class Caller:
    """One listed caller as the page acts on it: where to call them back, and the recording of the last try."""

    phone: str
    last_missed_at: datetime  # local
    widget_id: str | None
    department_id: str | None
    recording: str | None
    mark: str | None
    marked_by: str | None
    marked_at: datetime | None  # local

    @property
    def recording_playable(self) -> bool:
        """Whether the recording may be played or linked (an http(s) address, as on the Calls page)."""
        return playable(self.recording)


def callers_of(rows: pl.DataFrame) -> dict[str, Caller]:
    """The listed callers by phone, in the listing's order."""
    columns = ("phone", "last_missed_at", "last_widget_id", "last_department_id", "last_recording", "mark",
               "marked_by", "marked_at")  # fmt: skip
    return {row[0]: Caller(*row) for row in rows.select(columns).iter_rows()}


def listed_csv(rows: pl.DataFrame, columns: Sequence[str]) -> bytes:
    """The raw download of the list: the `columns` shown, under their own names, with their values as they are."""
    return to_csv_bytes(rows.select(name for name in columns if name in rows.columns))


def mark(store: AnyStore, account: str, person: Person, phone: str, kind: str | None, now: datetime) -> None:
    """Mark `phone` as `kind` (None takes its mark off) on behalf of `person`, an editor: a viewer is refused even
    if a widget is forced. Never sent to Newton."""
    if not person.can_write:
        raise NotAllowed(Problem("view_only", who=person.name or person.role, action="mark"))
    if kind is None:
        store.write(marks.unmark_phone, account, phone)
    else:
        store.write(marks.mark_phone, account, phone, kind, person.name, now)


def call_back_outcomes(
    store: AnyStore | Reading, account: str, rows: pl.DataFrame, now: datetime
) -> dict[str, LoggedWrite]:
    """`writes.call_backs` of the listed phones, read from the store (or in a block of reads already open)."""
    return store.read(writes.call_backs, account, rows["phone"].to_list(), now)
