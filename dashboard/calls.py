"""The Calls page's data: the filtered records newest first with a text search, their export, and price edits.

The records are the same rows every metric counts (`metrics.record_facts`), joined back to the cache for the
values a person reads. The search string is always a query parameter, never part of the SQL text.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import polars as pl

from dashboard import i18n, writes
from dashboard.api import validate
from dashboard.datasets import records_for_export
from dashboard.dimensions import NONE, dimension
from dashboard.errors import InvalidInput
from dashboard.export import to_csv_bytes
from dashboard.metrics import Definitions, Filters, Reader, raw_fields, record_facts
from dashboard.phones import try_parse_phone
from dashboard.results import ResultScope, memoized
from dashboard.store import AnyStore
from dashboard.timezones import local_days_utc
from dashboard.writes import Writer

SHOWN_LIMIT = 2_000
# The orders a listing can be in (the Calls page's "Sort by"), each ending in the id so that ties keep one order.
SORTS = {
    "newest": "r_requestDate DESC, id DESC",
    "oldest": "r_requestDate ASC, id ASC",
    "longest_talk": "r_callDurationClient DESC NULLS LAST, r_requestDate DESC, id DESC",
    "slowest_callback": "speed_seconds DESC NULLS LAST, r_requestDate DESC, id DESC",
}
SEARCH_MAX_CHARS = 200
LEAD_PRICE = "lead_price"
# The columns of a listing, in the order the page shows them (the editable price where it is seen without scrolling
# sideways); `id` becomes the editor's row label.
COLUMNS = (
    "id", "request_time", "phone", "type", "call_status", "our_call_back", "talk_seconds", "callback_seconds",
    LEAD_PRICE, "channel", "utm_source", "utm_campaign", "landing_page", "city", "device", "recording",
)  # fmt: skip
# What a search looks in (case-insensitive substring), besides the phone's digits.
SEARCHED_FIELDS = (
    "id", "clientPhone", "landingUtmSource", "landingUtmMedium", "landingUtmCampaign", "landingUtmTerm",
    "landingUtmContent", "ipCity", "landingUrl", "landingSearchPhrase", "comment",
)  # fmt: skip
# A search made only of what a phone is typed with looks in the phone's digits (at least 3, from anywhere in it).
_PHONE_LIKE = re.compile(r"[\d\s().+\-]+")
# The record fields a listing shows or a search looks in, besides the id.
_RAW_FIELDS = tuple(sorted({
    "type", "callStatus", "callDurationClient", "leadPrice", "landingUtmSource", "landingUtmCampaign", "ipCity",
    "conversationFile", "requestDate", "landingUrl", "userAgentDeviceType", *SEARCHED_FIELDS} - {"id"}))  # fmt: skip


@dataclass(frozen=True)
class CallList:
    """The newest matching records (at most the limit) and how many match in all."""

    rows: pl.DataFrame
    total: int
    # Of `total`, the call backs we placed ourselves: listed (flagged `our_call_back`) but counted in no metric.
    ours: int = 0

    @property
    def shown(self) -> int:
        """How many rows the listing holds."""
        return self.rows.height


class Calls(Reader):
    """The records of one account in an open cache connection, as a list to read, search, export and edit."""

    def _matching(self, filters: Filters, search: str) -> tuple[str, dict[str, Any]]:
        """The filtered records that contain `search`: the filtered records' values, their channel, and the raw
        fields a listing shows or a search looks in (as `r_<field>`). Our own call backs are listed too, flagged
        `is_ours`, so a person sees every call placed to a client."""
        facts, params = record_facts(
            self._account, self.definitions, filters, ("channel",), raw=_RAW_FIELDS, with_ours=True
        )
        needle = clean_search(search)
        phone = try_parse_phone(needle)  # a whole phone however typed (8 979 538-21-77): its digits as stored
        digits = phone[1:] if phone else re.sub(r"\D", "", needle) if _PHONE_LIKE.fullmatch(needle) else ""
        params |= {"needle": needle.lower(), "digits": digits if len(digits) >= 3 else ""}
        found = " OR ".join(
            f"contains(lower(coalesce(f.\"{'id' if name == 'id' else 'r_' + name}\", '')), $needle)"
            for name in SEARCHED_FIELDS
        )
        sql = f"""
SELECT * FROM ({facts}) f
WHERE $needle = ''
   OR {found}
   OR ($digits <> '' AND contains(regexp_replace(coalesce(f.r_clientPhone, ''), '\\D', '', 'g'), $digits))"""  # noqa: S608 - field names are ours, values are parameters
        return sql, params

    @memoized
    def listing(
        self, filters: Filters, search: str = "", *, limit: int = SHOWN_LIMIT, lang: str = "en", sort: str = "newest"
    ) -> CallList:
        """The first `limit` records in `sort` order (see SORTS) matching the filters and the search, and how many
        match in all.

        The newest are picked first and only they get their landing page and device worked out; the total is
        counted on its own, so a long period costs a count, not a listing of every call in it.
        """
        sql, params = self._matching(filters, search)
        params["none"] = NONE
        query = f"""
WITH matching AS ({sql})
SELECT
    l.id,
    l.local_time AS request_time,
    l.r_clientPhone AS phone,
    l.r_type AS type,
    l.r_callStatus AS call_status,
    l.is_ours AS our_call_back,
    l.r_callDurationClient AS talk_seconds,
    round(l.speed_seconds)::BIGINT AS callback_seconds,
    l.r_leadPrice AS {LEAD_PRICE},
    l.channel,
    l.r_landingUtmSource AS utm_source,
    l.r_landingUtmCampaign AS utm_campaign,
    nullif({dimension("landing_page").over(raw_fields("l"))}, $none) AS landing_page,
    l.r_ipCity AS city,
    nullif({dimension("device_type").over(raw_fields("l"))}, $none) AS device,
    l.r_conversationFile AS recording,
    (SELECT count(*) FROM matching) AS matching,
    (SELECT count(*) FILTER (WHERE is_ours) FROM matching) AS ours
FROM (SELECT * FROM matching ORDER BY {SORTS[sort]} LIMIT {int(limit)}) l
ORDER BY {SORTS[sort]}"""  # noqa: S608 - our own names
        frame: pl.DataFrame = self._con.sql(query, params=params).pl()
        total, ours = (int(frame["matching"][0]), int(frame["ours"][0])) if frame.height else (0, 0)
        named = i18n.names("channel", lang)  # every channel has its name in both languages
        rows = frame.drop("matching", "ours").with_columns(pl.col("channel").replace(named))
        return CallList(rows, total, ours)

    def export(self, filters: Filters, search: str = "") -> pl.DataFrame:
        """Every matching record (no limit), newest first, with every API field under its API name."""
        sql, params = self._matching(filters, search)
        ids: pl.DataFrame = self._con.sql(f"SELECT id FROM ({sql})", params=params).pl()  # noqa: S608
        first, last = (filters.period.first, filters.period.last) if filters.period else (None, None)
        start, end = local_days_utc(first, last, self.definitions.zone)
        frame = records_for_export(self._con, self._account, start, end, self.definitions.zone)
        return frame.join(ids, on="id", how="semi").sort(["requestDate", "id"], descending=True)


@contextmanager
def open_calls(store: AnyStore, account: str, zone: ZoneInfo, scope: ResultScope | None = None) -> Iterator[Calls]:
    """The store for one piece of work, opened when first needed (with `scope`, only for answers not memoized)."""
    with store.reading() as reading:
        yield Calls(reading, account, Definitions(zone=zone), scope=scope)


def export_csv(store: AnyStore, account: str, zone: ZoneInfo, filters: Filters, search: str = "") -> bytes:
    """Every matching record as the CSV a download gives (opens and closes the store itself)."""
    with open_calls(store, account, zone) as calls:
        return to_csv_bytes(calls.export(filters, search))


def clean_search(search: str | None) -> str:
    """The search as it is looked for: without surrounding space, at most `SEARCH_MAX_CHARS` characters."""
    return (search or "").strip()[:SEARCH_MAX_CHARS]


# Recordings -------------------------------------------------------------------------------------------------


def playable(url: str | None) -> bool:
    """Whether a recording address may be handed to the browser: an http(s) URL with a host, nothing else."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class Recording:
    """A shown call that has a recording address (which may or may not be playable)."""

    call_id: str
    label: str
    url: str

    @property
    def playable(self) -> bool:
        """Whether the address is an http(s) URL the page may play."""
        return playable(self.url)


def recordings(rows: pl.DataFrame) -> list[Recording]:
    """The listed calls that have a recording, in the listing's order, labelled by local time and id."""
    found = []
    with_address = rows.filter(pl.col("recording").is_not_null())  # only these are looked at (most calls have none)
    for call_id, requested, url in with_address.select("id", "request_time", "recording").iter_rows():
        if not str(url).strip():
            continue
        when = requested.strftime("%Y-%m-%d %H:%M") if requested is not None else ""
        found.append(Recording(call_id, f"{when} · {call_id}", str(url)))
    return found


# Price edits ------------------------------------------------------------------------------------------------


def editor_table(rows: pl.DataFrame) -> Any:
    """The listing as the table `st.data_editor` edits, labelled by call id (a pandas frame).

    With the ids as its row labels, the editor is a new one whenever other calls are listed: an edit made on
    one call can never move onto another when the search or the filters change. A missing value stays missing:
    the page's table description draws it as "(not set)".
    """
    return rows.to_pandas().set_index("id")


@dataclass(frozen=True)
class PriceChange:
    """A lead price edited in the table; `problem` says why it cannot be sent ("empty" or "invalid")."""

    call_id: str
    old: int | None
    new: int | None
    problem: str | None = None


def price_changes(rows: pl.DataFrame, edited: Any) -> list[PriceChange]:
    """The calls whose lead price the editor changed, in the listing's order, each checked before sending."""
    before: dict[str, int | None] = dict(zip(rows["id"].to_list(), rows[LEAD_PRICE].to_list(), strict=True))
    after: Mapping[object, object] = dict(zip(edited.index, edited[LEAD_PRICE], strict=True))
    changes = []
    for call_id, old in before.items():
        value = after.get(call_id, old)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if old is not None:  # Newton has no way to clear a price
                changes.append(PriceChange(call_id, old, None, "empty"))
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value == old:
            continue  # untouched: Newton's value stays as sent, even one we would refuse to send (a negative)
        try:
            new = validate.price(LEAD_PRICE, value)
        except InvalidInput:
            changes.append(PriceChange(call_id, old, None, "invalid"))
            continue
        if new != old:
            changes.append(PriceChange(call_id, old, new))
    return changes


@dataclass(frozen=True)
class SaveResult:
    """How sending one new price ended; `message` is Newton's (or the cache's) words when it did not."""

    call_id: str
    price: int
    saved: bool
    message: str | None = None


def save_prices(writer: Writer, changes: Sequence[PriceChange]) -> Iterator[SaveResult]:
    """Send each valid change with `Writer.set_lead_price`, one result per call as it is known; never raises
    for one call's failure, so the others still go."""
    for change in changes:
        if change.problem is not None or change.new is None:
            continue
        sent = writes.attempt(writer, functools.partial(writer.set_lead_price, change.call_id, change.new))
        yield SaveResult(change.call_id, change.new, sent.outcome == "ok", sent.message)
