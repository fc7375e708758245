"""The numbers, each defined once (docs/metrics.md says the same in words).

Row-level meaning (dimensions, channel, local time) and every filter and aggregate run as SQL in DuckDB, next to
the data, so a breakdown over a million records reads only the columns it needs; polars takes the small results
(gap filling, comparisons). All functions take an open cache connection and return polars frames.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from dashboard import caller_facts, chat_facts
from dashboard.api import RECORD_SCHEMA
from dashboard.channels import Fields, blank
from dashboard.dimensions import Chosen, check_dimension
from dashboard.dimensions import dimension as dimension_named
from dashboard.dimensions import text as _text
from dashboard.errors import InvalidInput
from dashboard.periods import COMPARISONS, Comparison, comparison
from dashboard.periods import Period as Period  # where pages and the CLI have always found it
from dashboard.results import ResultScope, memoized
from dashboard.store import Reading
from dashboard.store.reading import sibling_cursor
from dashboard.timezones import DEFAULT_TIMEZONE, local_days_utc, local_time, local_time_sql, zone_named

RECORD_FIELDS = frozenset(RECORD_SCHEMA)
DEFAULT_SUCCESS_STATUSES = frozenset({"CLIENT_ANSWER"})
# A callback without a status is pending this long after its request (or the time it was deferred to), then missed.
PENDING_FOR = timedelta(hours=24)
# A change over fewer records than this (on either side) is too few to compare.
MIN_COMPARED = 10


@dataclass(frozen=True)
class Filters:
    """What the marketer narrowed the view to: a period and the values `chosen` by dimension (dashboard/dimensions.py).
    A dimension not chosen means "all"; `(none)` selects empty values."""

    period: Period | None = None
    chosen: Mapping[str, tuple[str, ...]] = field(default_factory=Chosen)
    # The moment the numbers are for (naive UTC, to the minute): a callback without a status requested less than
    # 24 hours before it is pending. Pages and the CLI give the current time, tests a fixed one; None: nothing is
    # pending. It is part of every kept answer's key (the filters are), so truncating it to the minute lets the
    # sessions of one minute share answers while no kept answer outlives the minute it was asked in.
    as_of: datetime | None = None
    # Only requests before this naive UTC instant: the cut-off of a comparison "until 14:05" (see periods.py).
    until: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.chosen, Chosen):  # a plain dict given: kept hashable, as a key must be
            object.__setattr__(self, "chosen", Chosen(self.chosen))
        if self.as_of is not None:
            moment = self.as_of.astimezone(UTC).replace(tzinfo=None) if self.as_of.tzinfo else self.as_of
            object.__setattr__(self, "as_of", moment.replace(second=0, microsecond=0))


@dataclass(frozen=True)
class Definitions:
    """The settings the definitions depend on."""

    zone: ZoneInfo = field(default_factory=lambda: zone_named(DEFAULT_TIMEZONE))
    success_statuses: frozenset[str] = DEFAULT_SUCCESS_STATUSES


class Cursor:
    """A cursor of a reader's database for one thread, opened at its first use, so that a question answered from
    memory opens nothing (see `Reader.together`)."""

    def __init__(self, opened: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        self._opened = opened
        self._cursor: duckdb.DuckDBPyConnection | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The cursor, opened now if it is not yet."""
        if self._cursor is None:
            self._cursor = self._opened()
        return self._cursor

    def close(self) -> None:
        """Close the cursor if it was opened."""
        if self._cursor is not None:
            self._cursor.close()


R = TypeVar("R", bound="Reader")


class Reader:
    """One account's records and chats in an open cache connection, read under `definitions` (the metrics, the
    Calls page's listing)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | Reading | Cursor,
        account: str,
        definitions: Definitions | None = None,
        scope: ResultScope | None = None,
    ) -> None:
        self._connection = con
        self._account = account
        self.definitions = definitions or Definitions()
        # With `scope`, answers are memoized for other sessions while the store's data version stands.
        self.scope = scope.narrowed(account, self.definitions) if scope else None

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        source = self._connection
        return source.connection if isinstance(source, Reading | Cursor) else source

    def together(self: R, *questions: Callable[[R], Any]) -> list[Any]:
        """The answers to `questions` (each a function of a reader like this one), asked at once, each of a cursor
        of its own: DuckDB answers them side by side without holding the GIL, so a page's independent questions
        cost about the longest of them rather than their sum. The file is opened only if one is not memoized."""
        if len(questions) < 2:
            return [question(self) for question in questions]
        opening = threading.Lock()

        def cursor() -> duckdb.DuckDBPyConnection:
            with opening:  # the first question not memoized opens the store; each thread reads on its own cursor
                return sibling_cursor(self._con)

        cursors = [Cursor(cursor) for _ in questions]
        try:
            with ThreadPoolExecutor(max_workers=len(questions), thread_name_prefix="question") as pool:
                asked = [pool.submit(question, self._on(own)) for question, own in zip(questions, cursors, strict=True)]
                return [answer.result() for answer in asked]
        finally:
            for own in cursors:
                own.close()

    def on_both_sides(
        self: R, ask: Callable[[R, Filters], dict[str, Any]], current: Filters, other: Filters | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """`ask` of a period and of the one it is compared with, at once; with nothing to compare with, the other
        side's numbers are each None."""
        if other is None:
            answer = ask(self, current)
            return answer, dict.fromkeys(answer)
        now, before = self.together(*(lambda reader, side=side: ask(reader, side) for side in (current, other)))
        return now, before

    def _on(self: R, cursor: Cursor) -> R:
        """This reader (its account, definitions and memoizing scope) reading through `cursor`."""
        twin = copy.copy(self)
        twin._connection = cursor
        return twin

    def _query(self, sql: str, params: dict[str, Any]) -> pl.DataFrame:
        frame: pl.DataFrame = self._con.sql(sql, params=params).pl()
        return frame


class Metrics(Reader):
    """The metrics of one account's records and chats in an open cache connection."""

    # Building blocks -------------------------------------------------------------------------------------

    def _facts(self, filters: Filters, dimensions: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
        return record_facts(self._account, self.definitions, filters, dimensions)

    def _select(self, rows: tuple[str, dict[str, Any]], columns: str, rest: str = "") -> pl.DataFrame:
        """`SELECT columns FROM rows rest`, over `rows` given as SQL and its parameters."""
        sql, params = rows
        return self._query(f"SELECT {columns} FROM ({sql}) {rest}", params)  # noqa: S608 - our own SQL

    @memoized
    def data_span(self) -> Period | None:
        """The local days from the first to the last record in the cache, or None when it has none."""
        sql = "SELECT min(requestDate), max(requestDate) FROM records WHERE account = $account"
        return self._local_span(self._con.sql(sql, params={"account": self._account}).fetchall()[0])

    def _local_span(self, utc: tuple[datetime | None, datetime | None]) -> Period | None:
        first, last = utc
        if first is None or last is None:
            return None
        zone = self.definitions.zone
        return Period(local_time(first, zone).date(), local_time(last, zone).date())

    @memoized
    def values(self, dimension: str, limit: int = 200) -> list[str]:
        """A dimension's values in the whole cache, most frequent first: the choices of a filter.

        The records are first counted by the raw columns the dimension reads, so its expression (trimming, URL
        parsing, the channel rules) runs once per distinct combination rather than once per record.
        """
        asked = dimension_named(dimension)
        raw = sorted({*asked.fields_read(), "widgetId", "departmentId"})  # and what the joins use
        columns = ", ".join(f'"{name}"' for name in raw)
        sql = f"""
SELECT {asked.over()} AS value
FROM (SELECT account, {columns}, count(*) AS n FROM records
      WHERE account = $account AND requestDate IS NOT NULL GROUP BY ALL) r
LEFT JOIN widgets w ON w.account = r.account AND w.id = r.widgetId
LEFT JOIN departments d ON d.account = r.account AND d.widget_id = r.widgetId AND d.id = r.departmentId
GROUP BY 1 ORDER BY sum(r.n) DESC, 1 LIMIT {int(limit)}"""  # noqa: S608 - identifiers come from dimensions.py
        return [row[0] for row in self._con.sql(sql, params={"account": self._account}).fetchall()]

    @memoized
    def chat_span(self) -> Period | None:
        """The local days from the first to the last chat in the cache, or None when it has none."""
        sql = "SELECT min(start_time), max(start_time) FROM chat_sessions WHERE account = $account"
        return self._local_span(self._con.sql(sql, params={"account": self._account}).fetchall()[0])

    # Headline and breakdowns -----------------------------------------------------------------------------

    @memoized
    def headline(self, filters: Filters) -> dict[str, float | int | None]:
        """Every headline number for the filtered records (one dict)."""
        facts, params = self._facts(filters)
        # Over every request of the period the callers are counted from the stored previous request of each
        # (dashboard/caller_facts.py), not by a distinct count of phones; a chosen filter leaves some out.
        if not filters.chosen:
            params.setdefault("start", None)  # no period: every caller is new
            sql = f"SELECT {_AGGREGATES}, {_SPEED_AGGREGATES}, {caller_facts.callers_sql()} FROM ({facts})"  # noqa: S608
        else:  # each phone grouped once, then counted: cheaper than three distinct counts of the same phones
            sql = f"""WITH facts AS ({facts})
SELECT * FROM (SELECT {_AGGREGATES}, {_SPEED_AGGREGATES} FROM facts), ({_callers_of_phones("facts")})"""  # noqa: S608
        return self._query(sql, params).row(0, named=True)

    @memoized
    def breakdown(self, filters: Filters, dimension: str, then: str | None = None) -> pl.DataFrame:
        """The record metrics by a dimension (and optionally a second one), by requests descending."""
        keys = [check_dimension(dimension)] + ([check_dimension(then, "then")] if then else [])
        facts, params = self._facts(filters, keys)
        names = ", ".join(keys)
        sql = f"""WITH facts AS ({facts})
SELECT * FROM ({grouped_with_callers("facts", keys)}) ORDER BY requests DESC, {names}"""  # noqa: S608
        return self._query(sql, params)

    @memoized
    def requests_by(self, filters: Filters, dimension: str, then: str | None = None) -> pl.DataFrame:
        """`breakdown`'s rows and record metrics without its callers (each a distinct count of phones, most of a
        breakdown's cost over a million records): what a chart of requests by a dimension draws, and the compared
        period's side of a change per row."""
        keys = [check_dimension(dimension)] + ([check_dimension(then, "then")] if then else [])
        facts, params = self._facts(filters, keys)
        names = ", ".join(keys)
        sql = f"""SELECT {names}, {_AGGREGATES} FROM ({facts}) GROUP BY {names} ORDER BY requests DESC, {names}"""  # noqa: S608
        return self._query(sql, params)

    @memoized
    def first_touch(self, filters: Filters, dimension: str = "channel", then: str | None = None) -> pl.DataFrame:
        """The callers of the filtered records, each once, under the value of `dimension` (and `then`) on their
        first request in the cache (their first touch), with their requests and lead value in the view; by callers
        descending. Records without a phone are no caller and are left out."""
        keys = [check_dimension(dimension)] + ([check_dimension(then, "then")] if then else [])
        facts, params = self._facts(filters)
        touched = ", ".join(f"{dimension_named(key).over()} AS {key}" for key in keys)
        names = ", ".join(f"t.{key}" for key in keys)
        sql = f"""
WITH facts AS ({facts}),
touches AS (
    SELECT p.phone, {touched}
    FROM (SELECT DISTINCT phone, first_request_id FROM facts WHERE phone IS NOT NULL) p
    JOIN records r ON r.account = $account AND r.id = p.first_request_id
    LEFT JOIN widgets w ON w.account = r.account AND w.id = r.widgetId
    LEFT JOIN departments d ON d.account = r.account AND d.widget_id = r.widgetId AND d.id = r.departmentId
)
SELECT {names}, {_CALLER_AGGREGATES},
    count(*) AS requests,
    coalesce(sum(lead_price), 0)::BIGINT AS lead_value,
    count(lead_price) AS priced_leads,
    avg(lead_price) AS avg_lead_value
FROM facts f JOIN touches t USING (phone)
GROUP BY {names} ORDER BY callers DESC, {names}"""  # noqa: S608 - identifiers come from dashboard/dimensions.py
        return self._query(sql, params)

    @memoized
    def ours(self, filters: Filters) -> int:
        """How many of the filtered records are call backs we placed ourselves: left out of every other metric."""
        facts, params = record_facts(self._account, self.definitions, filters, with_ours=True)
        return int(self._select((facts, params), "count(*) FILTER (WHERE is_ours) AS ours")["ours"][0])

    @memoized
    def speed_by(self, filters: Filters, dimension: str | None = None) -> pl.DataFrame:
        """Callback speed by a dimension (or overall), by callbacks measured descending."""
        keys = [check_dimension(dimension)] if dimension else []
        facts, params = self._facts(filters, keys)
        names = ", ".join(keys)
        group = f"GROUP BY {names} ORDER BY speed_measured DESC, {names}" if keys else ""
        select = f"{names}, " if keys else ""
        return self._query(f"SELECT {select}{_SPEED_AGGREGATES} FROM ({facts}) {group}", params)  # noqa: S608

    def comparing(self, filters: Filters, kind: str = "previous", preset: str | None = None) -> Comparison:
        """What the filters' period (chosen as `preset`, when it was) is compared with, and up to when (see
        `periods.comparison`)."""
        if filters.period is None:
            raise InvalidInput({"from": "a comparison needs a period: give from and to"})
        if kind not in COMPARISONS:
            raise InvalidInput({"compare": f"must be one of: {', '.join(COMPARISONS)}"})
        return comparison(filters.period, kind, filters.as_of, self.definitions.zone, preset)

    def sides(
        self, filters: Filters, kind: str = "previous", preset: str | None = None
    ) -> tuple[Filters, Filters | None]:
        """The filters of the period as compared (up to `as_of` when it includes today) and of the period it is
        compared with (None for "none")."""
        compared = self.comparing(filters, kind, preset)
        until = compared.until
        if until is not None and filters.period is not None and self._nothing_from(filters.period, until):
            # The cut-off leaves out no record: the period as it is, whose answers the page has often asked
            # already (Attribution's table beside its changes), so the same breakdown is not asked twice.
            until = None
        current = replace(filters, until=until)
        if compared.other is None:
            return current, None
        return current, replace(filters, period=compared.other, until=compared.other_until)

    @memoized
    def _nothing_from(self, period: Period, until: datetime) -> bool:
        """Whether the cache holds no record of the account from `until` to the end of `period` (any record, so
        that a period cut at `until` has exactly the rows of the whole period, whatever the filters)."""
        _, end = local_days_utc(period.first, period.last, self.definitions.zone)
        sql = """SELECT count(*) FROM records
            WHERE account = $account AND requestDate >= $until AND requestDate < $end"""
        params = {"account": self._account, "until": until, "end": end}
        return int(self._con.sql(sql, params=params).fetchall()[0][0]) == 0

    @memoized
    def compare(self, filters: Filters, kind: str = "previous", preset: str | None = None) -> pl.DataFrame:
        """Each headline metric for the period and the one it is compared with, the change, and whether the
        change rests on enough records to mean something (`comparable`)."""
        current, previous = self.on_both_sides(Metrics.headline, *self.sides(filters, kind, preset))
        return compared(current, previous, lambda metric: _enough(metric, current, previous))

    @memoized
    def compare_by(
        self, filters: Filters, kind: str, dimension: str, then: str | None = None, preset: str | None = None
    ) -> pl.DataFrame | None:
        """Per value of the dimension(s): the change of requests (a fraction of the compared period's) and of the
        answer rate (a difference of fractions), empty where too few records to compare; None for "none"."""
        keys = [check_dimension(dimension)] + ([check_dimension(then, "then")] if then else [])
        current_filters, other_filters = self.sides(filters, kind, preset)
        if other_filters is None:
            return None
        # The compared period's rows without their callers, which a change per row does not read (the period's
        # own rows are the table's, asked already).
        now, before = self.together(
            lambda m: m.breakdown(current_filters, dimension, then),
            lambda m: m.requests_by(other_filters, dimension, then),
        )
        return row_changes(now, before, keys)

    # Time ------------------------------------------------------------------------------------------------

    @memoized
    def series(self, filters: Filters, grain: str = "day") -> pl.DataFrame:
        """Requests, answered and lead value per local day, week (from Monday) or month, with no gaps."""
        if grain not in ("day", "week", "month"):
            raise InvalidInput({"grain": "must be day, week or month"})
        facts, params = self._facts(filters)
        sql = f"""SELECT date_trunc('{grain}', local_time)::DATE AS period_start, {_AGGREGATES}
            FROM ({facts}) GROUP BY 1"""  # noqa: S608
        return self._filled_series(filters, self._query(sql, params), grain)

    def _filled_series(self, filters: Filters, counted: pl.DataFrame, grain: str) -> pl.DataFrame:
        """`counted` (the record metrics by `period_start`) with every period of the span, in order."""
        first, last = self._series_span(filters, counted)
        if first is None or last is None:
            return counted.head(0).sort("period_start")
        every = {"day": "1d", "week": "1w", "month": "1mo"}[grain]
        starts = pl.date_range(_truncate(first, grain), _truncate(last, grain), every, eager=True)
        frame = pl.DataFrame({"period_start": starts}).join(counted, on="period_start", how="left")
        counts = [c for c in _COUNT_COLUMNS if c in frame.columns]
        return frame.with_columns(pl.col(counts).fill_null(0)).sort("period_start")

    @memoized
    def weekday_hour(self, filters: Filters) -> pl.DataFrame:
        """Requests and answer rate by local weekday (1 = Monday) and hour: all 7 x 24 cells."""
        facts, params = self._facts(filters)
        sql = f"""SELECT isodow(local_time)::INTEGER AS weekday, hour(local_time)::INTEGER AS hour, {_AGGREGATES}
            FROM ({facts}) GROUP BY 1, 2"""  # noqa: S608
        return _on_grid(self._query(sql, params))

    @memoized
    def overview(self, filters: Filters) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """`series(filters, "day")`, `requests_by(filters, "channel")` and `weekday_hour(filters)`, the same frames,
        counted in one pass over the records (grouping sets) instead of three: the Overview's charts."""
        facts, params = self._facts(filters, ["channel"])
        sql = f"""SELECT grouping(period_start) AS not_by_day, grouping(channel) AS not_by_channel,
                period_start, channel, weekday, hour, {_AGGREGATES}
            FROM (SELECT *, date_trunc('day', local_time)::DATE AS period_start,
                         isodow(local_time)::INTEGER AS weekday, hour(local_time)::INTEGER AS hour FROM ({facts}))
            GROUP BY GROUPING SETS ((period_start), (channel), (weekday, hour))
            ORDER BY not_by_day, not_by_channel, requests DESC, channel"""  # noqa: S608
        counted = self._query(sql, params)
        aggregates = counted.columns[6:]
        by_day = counted.filter(pl.col("not_by_day") == 0).select("period_start", *aggregates)
        by_channel = counted.filter(pl.col("not_by_channel") == 0).select("channel", *aggregates)
        by_hour = counted.filter((pl.col("not_by_day") == 1) & (pl.col("not_by_channel") == 1))
        return (
            self._filled_series(filters, by_day, "day"),
            by_channel,
            _on_grid(by_hour.select("weekday", "hour", *aggregates)),
        )

    def _series_span(self, filters: Filters, counted: pl.DataFrame) -> tuple[date | None, date | None]:
        if filters.period is not None:
            return filters.period.first, filters.period.last
        if counted.is_empty():
            return None, None
        return counted["period_start"].min(), counted["period_start"].max()  # type: ignore[return-value]

    # Distributions ---------------------------------------------------------------------------------------

    @memoized
    def callback_speeds(self, filters: Filters) -> pl.DataFrame:
        """Seconds from request to call, one row per callback that was called back and not deferred."""
        measured = "WHERE speed_seconds IS NOT NULL"
        return self._select(self._facts(filters), "speed_seconds::BIGINT AS speed_seconds", measured)

    @memoized
    def talk_durations(self, filters: Filters) -> pl.DataFrame:
        """The client's talk time, one row per answered callback that has one."""
        return self._select(self._facts(filters), "talk_seconds", "WHERE is_answered AND talk_seconds IS NOT NULL")

    # Chats -----------------------------------------------------------------------------------------------

    def _chats(self, filters: Filters) -> tuple[str, dict[str, Any]]:
        return chat_sessions(self._account, self.definitions.zone, filters)

    @memoized
    def _chat_groups(self, filters: Filters) -> pl.DataFrame:
        """The chat metrics over all operators (`whole` 1) and by operator, by sessions descending, in one pass."""
        both = "GROUP BY GROUPING SETS ((), (operator)) ORDER BY whole DESC, sessions DESC, operator"
        return self._select(self._chats(filters), f"grouping(operator) AS whole, operator, {_CHAT_AGGREGATES}", both)

    def chat_numbers(self, filters: Filters) -> tuple[dict[str, float | int | None], pl.DataFrame]:
        """`chat_summary` and `chat_operators`, asked of DuckDB together, as the Chats page shows them."""
        groups = self._chat_groups(filters)
        summary = groups.filter(pl.col("whole") == 1).drop("whole", "operator").row(0, named=True)
        return summary, groups.filter(pl.col("whole") == 0).drop("whole")

    def chat_summary(self, filters: Filters) -> dict[str, float | int | None]:
        """Sessions, messages, unanswered sessions and first-response times over all operators."""
        return self.chat_numbers(filters)[0]

    def chat_operators(self, filters: Filters) -> pl.DataFrame:
        """The chat metrics by operator, by sessions descending."""
        return self.chat_numbers(filters)[1]

    @memoized
    def first_responses(self, filters: Filters) -> pl.DataFrame:
        """The operator's first response time, one row per answered session."""
        answered = "WHERE first_response_seconds IS NOT NULL"
        return self._select(self._chats(filters), "operator, first_response_seconds", answered)


def compared(current: Mapping[str, Any], previous: Mapping[str, Any], enough: Callable[[str], bool]) -> pl.DataFrame:
    """Each metric of `current` against `previous`: the change, relative to the previous value, and whether it is
    `comparable` (a previous value, and `enough(metric)`)."""
    rows = []
    for metric, value in current.items():
        before = previous[metric]
        change = value - before if value is not None and before is not None else None
        relative = change / before if change is not None and before not in (None, 0) else None
        rows.append({"metric": metric, "current": value, "previous": before, "change": change,
                     "relative_change": relative, "comparable": before is not None and enough(metric)})  # fmt: skip
    return pl.DataFrame(rows, schema=_COMPARISON_SCHEMA)


def row_changes(now: pl.DataFrame, before: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Per row of `now` (a breakdown by `keys`): the change of requests against `before`'s same row (a fraction of
    its requests) and of the answer rate (a difference of fractions), empty where too few records to compare."""
    joined = now.join(before, on=list(keys), how="left", suffix="_before")
    decided = pl.col("answered") + pl.col("missed")
    decided_before = pl.col("answered_before") + pl.col("missed_before")
    enough_requests = pl.col("requests_before") >= MIN_COMPARED
    enough_callbacks = (decided >= MIN_COMPARED) & (decided_before >= MIN_COMPARED)
    return joined.select(
        *keys,
        pl.when(enough_requests).then(pl.col("requests") / pl.col("requests_before") - 1).alias("requests_change"),
        pl.when(enough_callbacks)
        .then(pl.col("answer_rate") - pl.col("answer_rate_before"))
        .alias("answer_rate_change"),
    )


def _field(name: str) -> str:
    if name not in RECORD_FIELDS:
        raise InvalidInput({"field": f"unknown record field {name[:40]!r}"})
    return name


def raw_fields(alias: str) -> Fields:
    """Where the rows of `record_facts` aliased `alias` carry the raw record fields: `<alias>.r_<field>`."""
    return lambda name: f"{alias}.r_{_field(name)}"


def chat_filter(name: str) -> str | None:
    """A chosen dimension's value over chat sessions, or None when its filter does not apply to chats."""
    found = dimension_named(name, "filter").filter
    return found.chat_sql if found else None


# The widget a chat session belongs to: the widget filter's value over chats.
_CHAT_WIDGET = chat_filter("widget")


def record_facts(
    account: str,
    definitions: Definitions,
    filters: Filters,
    dimensions: Sequence[str] = (),
    raw: Sequence[str] = (),
    *,
    with_ours: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The filtered records (the rows every metric counts) as SQL and its parameters: the row-level values every
    metric needs, the `dimensions` asked for, and the `raw` record fields asked for as `r_<field>` (see
    `raw_fields`). The callbacks we placed ourselves (dashboard/callers.py) are left out, so that calling people
    back never inflates a channel; `with_ours` keeps them, flagged `is_ours`."""
    wanted = {check_dimension(d, "dimension") for d in dimensions}
    wanted |= set(filters.chosen)
    params: dict[str, Any] = {"account": account, "success": sorted(definitions.success_statuses)}
    # A record whose request date Newton sent unreadably belongs to no day: it is exported, never counted.
    where = ["r.account = $account", "r.requestDate IS NOT NULL"]
    if not with_ours:
        where.append("NOT r.is_ours")  # stored with the record (dashboard/callers.py's is_ours)
    start, end = None, None
    if filters.period is not None:
        start, end = local_days_utc(filters.period.first, filters.period.last, definitions.zone)
        params |= {"start": start, "end": end}
        where.append("r.requestDate >= $start AND r.requestDate < $end")
    if filters.until is not None:
        params["until"] = filters.until
        where.append("r.requestDate < $until")
    params["pending_after"] = filters.as_of - PENDING_FOR if filters.as_of else None
    # The local time from the zone's offsets over the same span (dashboard/timezones.py), never DuckDB's zones.
    local = local_time_sql("r.requestDate", definitions.zone, start, end)
    params |= local.params
    for name, values in filters.chosen.items():
        params[f"only_{name}"] = list(values)
        where.append(f"list_contains($only_{name}, {dimension_named(name, 'filter').over()})")
    columns = ",\n    ".join(
        [f"{dimension_named(name).over()} AS {name}" for name in sorted(wanted)]
        + [f'r."{_field(name)}" AS "r_{name}"' for name in raw]
    )
    # Widget and department names only where a dimension shows or filters by them: joining them to every record
    # costs a large share of a headline over a million records.
    joins = _NAME_JOINS if _READS_NAMES.search(columns + " ".join(where)) else ""
    sql = f"""
{"WITH " + local.with_ if local.with_ else ""}
SELECT
    r.id,
    {local.expression} AS local_time,
    coalesce(r.type = 'callback', false) AS is_callback,
    coalesce(r.type = 'callback' AND list_contains($success, r.callStatus), false) AS is_answered,
    -- A CASE, not an AND: DuckDB then matches the status against blank only for the callbacks of the last day,
    -- not for every record's (about 10 ms of every statement over half a million records).
    CASE WHEN r.type = 'callback' AND coalesce(r.delayDate, r.requestDate) > $pending_after::TIMESTAMP
         THEN {blank("r.callStatus")} ELSE false END AS is_pending,
    r.callDurationClient AS talk_seconds,
    r.leadPrice AS lead_price,
    r.phone,
    r.is_ours,
    -- The phone's first request in the cache, stored with the record (dashboard/store/schema.py): a caller is new
    -- when it is in the period (none before it), and every caller is new without a period.
    r.phone_first_at AS first_request_at,
    r.phone_first_id AS first_request_id,
    r.phone_prev_at,
    CASE WHEN r.phone IS NOT NULL THEN {"r.phone_first_at >= $start" if start else "true"} END AS is_new_caller,
    CASE WHEN r.type = 'callback' AND r.callDate IS NOT NULL AND r.delayDate IS NULL
         THEN epoch(r.callDate) - epoch(r.requestDate) END AS speed_seconds{"," if columns else ""}
    {columns}
FROM records r
{local.join}
{joins}
WHERE {" AND ".join(where)}"""  # noqa: S608 - identifiers come from dashboard/dimensions.py, values are parameters
    return sql, params


# A record's widget `w` and department `d`, whose names the widget and department dimensions read.
_NAME_JOINS = """LEFT JOIN widgets w ON w.account = r.account AND w.id = r.widgetId
LEFT JOIN departments d ON d.account = r.account AND d.widget_id = r.widgetId AND d.id = r.departmentId"""
_READS_NAMES = re.compile(r"(?<![\w.])[wd]\.")


def chat_sessions(
    account: str, zone: ZoneInfo, filters: Filters, containing: str | None = None, newest: int | None = None
) -> tuple[str, dict[str, Any]]:
    """One row per filtered chat session, as SQL and its parameters: client_id, start_time (UTC), widget,
    operator, messages, unanswered, first_response_seconds. `containing` keeps sessions with a message
    holding that text (case-insensitive); `newest` only that many, the latest started (then by client id).
    Every chat metric is an aggregate of these rows."""
    params: dict[str, Any] = {"account": account}
    where = ["s.account = $account"]
    if containing and containing.strip():
        params["containing"] = containing.strip()
        where.append(
            """EXISTS (SELECT 1 FROM chat_messages m
                       WHERE m.account = s.account AND m.client_id = s.client_id
                         AND m.start_time IS NOT DISTINCT FROM s.start_time
                         AND contains(lower(m.text), lower($containing)))"""
        )
    if filters.period is not None:
        start, end = local_days_utc(filters.period.first, filters.period.last, zone)
        params |= {"start": start, "end": end}
        where.append("s.start_time >= $start AND s.start_time < $end")
    if filters.until is not None:
        params["until"] = filters.until
        where.append("s.start_time < $until")
    for name, values in filters.chosen.items():
        on_chats = chat_filter(name)
        if on_chats:
            params[f"only_{name}"] = list(values)
            where.append(f"list_contains($only_{name}, {on_chats})")
    chosen = f"""SELECT s.* FROM chat_sessions s LEFT JOIN widgets w ON w.account = s.account AND w.id = s.widget_id
    WHERE {" AND ".join(where)}"""  # noqa: S608
    if newest is not None:  # before the names: trimming them costs more than the rest of a row
        params["newest"] = newest
        chosen += " ORDER BY s.start_time DESC NULLS LAST, s.client_id LIMIT $newest"
    # What the messages say about each session is stored with it when a sync writes it (dashboard/chat_facts.py).
    sql = f"""
SELECT s.client_id, s.start_time, {_CHAT_WIDGET} AS widget, {_text("s.operator")} AS operator,
       {chat_facts.MESSAGES_SQL} AS messages, s.unanswered, {chat_facts.FIRST_RESPONSE_SQL} AS first_response_seconds
FROM ({chosen}) s LEFT JOIN widgets w ON w.account = s.account AND w.id = s.widget_id"""  # noqa: S608
    return sql, params


def _callers_of_phones(rows: str, keys: Sequence[str] = ()) -> str:
    """SQL: the callers, new callers and repeat callers (`_CALLER_AGGREGATES`) of the rows named `rows`, by `keys`
    (or over all of them): each group's phones grouped once, then counted, whether new or repeat (a phone is one
    or the other in a view, its first request in the cache being before the period or not)."""
    names = "".join(f"{key}, " for key in keys)
    return f"""
    SELECT {names}count(*) AS callers, count(*) FILTER (WHERE is_new) AS new_callers,
           count(*) FILTER (WHERE is_repeat) AS repeat_callers
    FROM (SELECT {names}phone, bool_or(is_new_caller) AS is_new, bool_or(NOT is_new_caller) AS is_repeat
          FROM {rows} WHERE phone IS NOT NULL GROUP BY {names}phone)
    {"GROUP BY " + names.removesuffix(", ") if keys else ""}"""  # noqa: S608 - our own names


def grouped_with_callers(rows: str, keys: Sequence[str]) -> str:
    """SQL: the record metrics (`_AGGREGATES`) and the callers of the rows named `rows`, grouped by `keys`.

    Each group's phones are grouped once, then counted, whether new or repeat (a phone is one or the other in a
    view): the same numbers as three distinct counts of phones, which cost DuckDB more than the rest of a breakdown.
    """
    names = ", ".join(keys)
    same = " AND ".join(f"c.{key} IS NOT DISTINCT FROM g.{key}" for key in keys)
    return f"""
SELECT g.*, coalesce(c.callers, 0) AS callers, coalesce(c.new_callers, 0) AS new_callers,
       coalesce(c.repeat_callers, 0) AS repeat_callers
FROM (SELECT {names}, {_AGGREGATES} FROM {rows} GROUP BY {names}) g
LEFT JOIN ({_callers_of_phones(rows, keys)}) c ON {same}"""  # noqa: S608 - our own names


def _on_grid(counted: pl.DataFrame) -> pl.DataFrame:
    """`counted` (the record metrics by `weekday` and `hour`) on all 7 x 24 cells, an empty cell counting 0."""
    grid = pl.DataFrame({"weekday": [d for d in range(1, 8) for _ in range(24)],
                         "hour": [h for _ in range(1, 8) for h in range(24)]},
                        schema={"weekday": pl.Int32, "hour": pl.Int32})  # fmt: skip
    frame = grid.join(counted, on=["weekday", "hour"], how="left")
    return frame.with_columns(pl.col([c for c in _COUNT_COLUMNS if c in frame.columns]).fill_null(0))


def _truncate(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


# The definitions themselves. `facts` rows carry is_callback, is_answered, is_pending, talk_seconds, lead_price,
# speed_seconds. A callback is answered (a success status), pending (no status yet, within 24 hours) or missed.
_AGGREGATES = """
    count(*) AS requests,
    count(*) FILTER (WHERE is_callback) AS callbacks,
    count(*) FILTER (WHERE is_answered) AS answered,
    count(*) FILTER (WHERE is_callback AND NOT is_answered AND NOT is_pending) AS missed,
    count(*) FILTER (WHERE is_pending) AS pending,
    (count(*) FILTER (WHERE is_answered))::DOUBLE
        / nullif(count(*) FILTER (WHERE is_callback AND NOT is_pending), 0) AS answer_rate,
    avg(talk_seconds) FILTER (WHERE is_answered) AS avg_talk_seconds,
    median(talk_seconds) FILTER (WHERE is_answered) AS median_talk_seconds,
    coalesce(sum(lead_price), 0)::BIGINT AS lead_value,
    count(lead_price) AS priced_leads,
    avg(lead_price) AS avg_lead_value"""
# Callers (docs/metrics.md, "Callers"): a phone is one caller however many requests; a new caller had no request
# before the period; a repeat caller did.
_CALLER_AGGREGATES = """
    count(DISTINCT phone) AS callers,
    count(DISTINCT phone) FILTER (WHERE is_new_caller) AS new_callers,
    count(DISTINCT phone) FILTER (WHERE NOT is_new_caller) AS repeat_callers"""
_SPEED_AGGREGATES = """
    count(speed_seconds) AS speed_measured,
    median(speed_seconds)::DOUBLE AS speed_median_seconds,
    quantile_cont(speed_seconds, 0.9)::DOUBLE AS speed_p90_seconds,
    avg((speed_seconds <= 30)::INTEGER) AS within_30s_share,
    avg((speed_seconds <= 300)::INTEGER) AS within_5min_share"""
_CHAT_AGGREGATES = """
    count(*) AS sessions,
    coalesce(sum(messages), 0)::BIGINT AS messages,
    count(*) FILTER (WHERE unanswered) AS unanswered_sessions,
    median(first_response_seconds)::DOUBLE AS first_response_median,
    quantile_cont(first_response_seconds, 0.9)::DOUBLE AS first_response_p90"""
_COUNT_COLUMNS = ("requests", "callbacks", "answered", "missed", "pending", "lead_value", "priced_leads")
_COMPARISON_SCHEMA = {
    "metric": pl.String, "current": pl.Float64, "previous": pl.Float64, "change": pl.Float64,
    "relative_change": pl.Float64, "comparable": pl.Boolean,
}  # fmt: skip
# What each headline number rests on, for `comparable`: a rate on the callbacks it divides (on both sides, since
# either side's rate is noise below MIN_COMPARED), a count or sum on the requests of the period compared with.
_BASES: dict[str, tuple[str, ...]] = {
    "answer_rate": ("answered", "missed"),
    "avg_talk_seconds": ("answered",),
    "median_talk_seconds": ("answered",),
    "avg_lead_value": ("priced_leads",),
    "speed_median_seconds": ("speed_measured",),
    "speed_p90_seconds": ("speed_measured",),
    "within_30s_share": ("speed_measured",),
    "within_5min_share": ("speed_measured",),
}


def _enough(metric: str, current: dict[str, Any], previous: dict[str, Any]) -> bool:
    """Whether a change of `metric` rests on at least MIN_COMPARED records (see _BASES)."""
    if metric not in _BASES:
        return int(previous["requests"] or 0) >= MIN_COMPARED
    sides = (current, previous)
    return all(sum(int(side[name] or 0) for name in _BASES[metric]) >= MIN_COMPARED for side in sides)
