"""Lost leads: the callers who missed a callback, whether we reached them afterwards, how fast, and who is still lost.

docs/metrics.md, "Callers and lost leads", defines every column. The SQL runs in DuckDB next to the data, on the
same filtered records every metric counts (`metrics.record_facts`), so the sidebar's filters apply as on every page.
Two things reach beyond the filters on purpose: whether a phone was reached looks at its answered callbacks in the
whole cache (ours included: that is how "Call back now" recovers a lead), and marks come from the people's table
`lead_marks` (dashboard/store/marks.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from dashboard.access import Person
from dashboard.dimensions import dimension
from dashboard.errors import NotAllowed
from dashboard.metrics import MIN_COMPARED, Definitions, Filters, Metrics, Reader, record_facts
from dashboard.results import ResultScope, memoized
from dashboard.store import AnyStore, marks, utc_now
from dashboard.timezones import local_times

# The columns of `callers_with_misses`, in order: those of `report lost-leads` first (docs/metrics.md).
REPORT_COLUMNS = (
    "phone", "missed", "last_missed_at", "reached", "reached_after_seconds", "channel", "utm_source", "widget",
    "lead_value",
)  # fmt: skip
MARK_COLUMNS = ("mark", "marked_at", "marked_by")
LAST_REQUEST_COLUMNS = (
    "last_request_id", "last_widget_id", "last_department_id", "last_landing_page", "last_recording",
)  # fmt: skip
LISTING_COLUMNS = (*REPORT_COLUMNS, *MARK_COLUMNS, *LAST_REQUEST_COLUMNS)
# What the Lost leads page needs of every caller (counts, the chart, the choice and search): the rest of a row only
# for the callers it draws.
BRIEF_COLUMNS = ("phone", "missed", "last_missed_at", "reached", "reached_after_seconds", "channel", *MARK_COLUMNS)
SUMMARY_KEYS = (
    "missed_callers", "reached", "lost", "marked", "recovery_rate", "recovery_median_seconds", "missed_without_phone",
)  # fmt: skip


# What the listing shows of each phone with a miss: where its first request came from, and of its requests the
# newest values "Call back now" and the player need (each field's own newest value: arg_max skips NULLs). Only the
# requests of phones with a miss count (most callers never missed one): they alone are read again from `records`
# for these values, rather than working them out for every request of the period. They are put in the order of
# their time once, ties broken by id, so the same record is "first" or "last" on every run; each value is then
# picked by its place in that order, a number, instead of comparing (time, id) pairs once per value.
def _own(same_key: str, key: str, within: str, *, of_misses: bool = True) -> str:
    """The CTEs `ordered` and `own` (see above): `same_key` matches a request `q` to its miss `m`, `key` groups
    (`o.by_value, ` or nothing), `within` bounds the records read again; without `of_misses`, of every request
    in `requests` (already only those of the phones asked: a phone's requests keep their order among fewer)."""
    first = ", ".join(f"'{name}': {dimension(name).over()}" for name in ("channel", "utm_source", "widget"))
    chosen = f"SEMI JOIN misses m ON {same_key}m.phone = q.phone" if of_misses else ""
    return f"""ordered AS (
    SELECT q.*, row_number() OVER (ORDER BY q.r_requestDate, q.id) AS turn
    FROM requests q {chosen}
),
own AS (
    SELECT {key}o.phone,
           -- none of the three is ever NULL (a missing value is "(none)"), so they are one value of the first request
           arg_min({{{first}}}, o.turn) AS first_request,
           coalesce(sum(o.lead_price), 0)::BIGINT AS lead_value,
           arg_max(o.id, o.turn) AS last_request_id,
           arg_max(r.widgetId, o.turn) AS last_widget_id,
           arg_max(r.departmentId, o.turn) AS last_department_id,
           arg_max(r.landingUrl, o.turn) AS last_landing_page,
           arg_max(r.conversationFile, o.turn) AS last_recording
    FROM ordered o
    JOIN records r ON r.account = $account AND r.id = o.id {within}
    LEFT JOIN widgets w ON w.account = r.account AND w.id = r.widgetId  -- the widget's name, as record_facts joins it
    GROUP BY {key}o.phone
),"""  # noqa: S608 - our own SQL


# Only the answered callbacks after a miss can reach a caller, so only those are read. Every miss is in the period,
# so they are after its start: a bound DuckDB pushes into the scan, skipping the older records, where the earliest
# miss (a subquery's answer, kept for no period) filters only the records already read.
AFTER_START = "r.requestDate >= $start"
AFTER_EARLIEST_MISS = "r.requestDate > (SELECT min(last_missed_utc) FROM misses)"
_BOUNDS = (("start", ">="), ("end", "<"), ("until", "<"))  # record_facts' own, when it has them


class LostLeads(Reader):
    """The callers with missed requests of one account in an open cache connection, and what became of them."""

    def _per_phone(
        self, filters: Filters, by: str | None = None, *, shown: str = "counts"
    ) -> tuple[str, dict[str, Any]]:
        """One row per phone with a missed request in the filtered records (per value of `by` and phone, when
        given), as SQL and its parameters. `shown` says which columns: "listing", those of `callers_with_misses`
        plus `last_missed_utc`; "brief", those the page needs of every caller (`BRIEF_COLUMNS` and
        `last_missed_utc`: the rest only for the callers it draws, `details`); "counts", only those the counts
        need (phone, missed, last_missed_at, reached, reached_after_seconds and the mark's columns), which spares
        grouping every request of the phones with a miss."""
        facts, params = record_facts(
            self._account, self.definitions, filters, ([by] if by else []) + (["channel"] if shown == "brief" else []),
            raw=("requestDate",), with_ours=True,
        )  # fmt: skip
        params["as_of"] = filters.as_of
        # Grouped by phone, or by a value of `by` and phone (named `by_value`: `by` may be a shown column too).
        by_value = f", {by} AS by_value" if by else ""
        key = "by_value, " if by else ""

        def same_key(alias: str) -> str:
            return f"m.by_value = {alias}.by_value AND " if by else ""

        within = self._within(params)
        after_misses = AFTER_START if "start" in params else AFTER_EARLIEST_MISS
        own, listed = "", ""
        if shown == "listing":
            own = _own(same_key("q"), "o." + key if by else "", within)
            listed = """
       w.first_request.channel, w.first_request.utm_source, w.first_request.widget, w.lead_value,
       w.last_request_id, w.last_widget_id, w.last_department_id, w.last_landing_page, w.last_recording,"""
        elif shown == "brief":  # never by a dimension
            # The channel of each phone's first request: the least (time, id) of its requests, as `ordered` does.
            own = """own AS (
    SELECT q.phone, min({'at': q.r_requestDate, 'id': q.id, 'channel': q.channel}).channel AS channel
    FROM requests q SEMI JOIN misses m ON m.phone = q.phone
    GROUP BY q.phone
),"""
            listed = "\n       w.channel,"
        # Worked out once when `own` reads the requests again; otherwise DuckDB reads only what `misses` keeps.
        shared = "MATERIALIZED " if own else ""
        sql = f"""
WITH
-- The requests of callers: records with a phone, not the callbacks we placed (they are no one's request).
requests AS {shared}(SELECT *{by_value} FROM ({facts}) WHERE phone IS NOT NULL AND NOT is_ours),
misses AS MATERIALIZED (
    SELECT {key}phone, count(*) AS missed, max(r_requestDate) AS last_missed_utc,
           arg_max(local_time, r_requestDate) AS last_missed_at
    FROM requests WHERE is_callback AND NOT is_answered AND NOT is_pending GROUP BY {key}phone
),
{own}
-- Answered callbacks of these phones anywhere in the cache up to now, ours included: a reached caller.
answers AS (
    SELECT r.phone, r.requestDate  -- the phone as stored with the record (dashboard/callers.py)
    FROM records r
    WHERE r.account = $account AND r.requestDate IS NOT NULL
      AND r.type = 'callback' AND list_contains($success, r.callStatus)
      AND ($as_of::TIMESTAMP IS NULL OR r.requestDate <= $as_of::TIMESTAMP)
      -- Only after a miss: a recent period reads only the recent records, not the whole history.
      AND {after_misses}
),
reached AS (
    SELECT {"m.by_value, " if by else ""}m.phone, min(a.requestDate) AS first_answer
    FROM misses m JOIN answers a ON a.phone = m.phone AND a.requestDate > m.last_missed_utc
    GROUP BY ALL
)
SELECT {"m.by_value, " if by else ""}m.phone, m.missed, m.last_missed_at,
       o.first_answer IS NOT NULL AS reached,
       (epoch(o.first_answer) - epoch(m.last_missed_utc))::BIGINT AS reached_after_seconds,{listed}
       k.kind AS mark, k.marked_at, k.marked_by,
       m.last_missed_utc
FROM misses m
{f"JOIN own w ON {same_key('w')}w.phone = m.phone" if own else ""}
LEFT JOIN reached o ON {same_key("o")}o.phone = m.phone
-- A mark covers the misses up to its time: a newer missed request reopens the phone.
LEFT JOIN lead_marks k ON k.account = $account AND k.phone = m.phone AND k.marked_at >= m.last_missed_utc"""  # noqa: S608 - our own names, values are parameters
        return sql, params

    @staticmethod
    def _within(params: dict[str, Any]) -> str:
        """The records read again lie in the period: its bounds let DuckDB skip the rest of the table."""
        return " ".join(f"AND r.requestDate {op} ${name}" for name, op in _BOUNDS if name in params)

    @classmethod
    def beside(cls, reader: Reader) -> LostLeads:
        """Lost leads over the same connection, account and definitions as `reader` (a report beside a metric)."""
        return cls(reader._connection, reader._account, reader.definitions)

    @memoized
    def callers_with_misses(self, filters: Filters) -> pl.DataFrame:
        """One row per phone with a missed request in the period, newest `last_missed_at` first; `last_missed_at`
        and `marked_at` in local time."""
        return self._callers(filters, "listing", LISTING_COLUMNS)

    @memoized
    def callers_brief(self, filters: Filters) -> pl.DataFrame:
        """`callers_with_misses` with only `BRIEF_COLUMNS`, the same rows in the same order: what the page counts
        and charts of every caller; `with_details` completes the rows it draws."""
        return self._callers(filters, "brief", BRIEF_COLUMNS)

    def _callers(self, filters: Filters, shown: str, columns: Sequence[str]) -> pl.DataFrame:
        sql, params = self._per_phone(filters, shown=shown)
        frame = self._query(
            f"SELECT {', '.join(columns)} FROM ({sql}) ORDER BY last_missed_utc DESC, phone",  # noqa: S608 - our own SQL
            params,
        )
        return frame.with_columns(local_times(frame["marked_at"], self.definitions.zone))

    def with_details(self, filters: Filters, brief: pl.DataFrame) -> pl.DataFrame:
        """Rows of `callers_brief` (any of them, in any order) as `callers_with_misses` has them: every column, in
        its order, the rows in theirs."""
        details = self.details(filters, tuple(brief["phone"].to_list()))
        return brief.join(details, on="phone", how="left", maintain_order="left").select(LISTING_COLUMNS)

    @memoized
    def details(self, filters: Filters, phones: tuple[str, ...]) -> pl.DataFrame:
        """The columns of `callers_with_misses` that `callers_brief` leaves out, of `phones` (each with a missed
        request in the filtered records), one row per phone in no particular order: read from the requests of these
        phones only, grouped as `callers_with_misses` groups them."""
        facts, params = record_facts(self._account, self.definitions, filters, raw=("requestDate",), with_ours=True)
        params["phones"] = list(phones)
        sql = f"""
WITH
requests AS MATERIALIZED (
    SELECT * FROM ({facts})
    WHERE phone IS NOT NULL AND NOT is_ours AND phone IN (SELECT unnest($phones::VARCHAR[]))
),
{_own("", "", self._within(params), of_misses=False).rstrip(",")}
SELECT phone, {", ".join(f"first_request.{name} AS {name}" for name in ("utm_source", "widget"))}, lead_value,
       {", ".join(LAST_REQUEST_COLUMNS)}
FROM own"""  # noqa: S608 - our own SQL
        return self._query(sql, params)

    @memoized
    def summary(self, filters: Filters) -> dict[str, float | int | None]:
        """Missed callers, reached, lost and marked (a marked phone counts only as marked), the recovery rate
        (reached ÷ missed callers not marked), the median seconds to reach, and missed requests with no phone."""
        sql, params = self._per_phone(filters)
        row = self._query(f"SELECT {_RECOVERY} FROM ({sql})", params).row(0, named=True)  # noqa: S608
        return {**row, "missed_without_phone": self._missed_without_phone(filters)}

    @memoized
    def brief_summary(self, filters: Filters) -> dict[str, float | int | None]:
        """`summary`, counted from the rows of `callers_brief` (the same rows `summary` counts in DuckDB, by the same
        SQL), for a page that asks those rows anyway."""
        callers = self.callers_brief(filters).select("reached", "reached_after_seconds", "mark")
        relation = self._con.from_arrow(callers.to_arrow())
        row = relation.query("callers", f"SELECT {_RECOVERY} FROM callers").pl().row(0, named=True)  # noqa: S608
        return {**row, "missed_without_phone": self._missed_without_phone(filters)}

    def _missed_without_phone(self, filters: Filters) -> int:
        facts, params = record_facts(self._account, self.definitions, filters)
        sql = f"""SELECT count(*) FROM ({facts})
            WHERE phone IS NULL AND is_callback AND NOT is_answered AND NOT is_pending"""  # noqa: S608
        return int(self._con.sql(sql, params=params).fetchall()[0][0])

    @memoized
    def compare(
        self, filters: Filters, kind: str = "previous", preset: str | None = None, *, listed: bool = False
    ) -> pl.DataFrame:
        """Each summary number for the period and the one it is compared with (as `Metrics.compare`): current,
        previous, change, relative_change and whether enough missed callers on both sides to compare. `listed`: the
        asker lists the period's callers too (`callers_brief`), so the period's numbers are counted from them."""

        def summary(leads: LostLeads, side: Filters) -> dict[str, Any]:
            return leads.brief_summary(side) if listed and side == filters else leads.summary(side)

        current, previous = self.on_both_sides(summary, *self._metrics().sides(filters, kind, preset))
        enough = all(int(side["missed_callers"] or 0) >= MIN_COMPARED for side in (current, previous))
        rows = []
        for metric in SUMMARY_KEYS:
            now, before = current[metric], previous[metric]
            change = now - before if now is not None and before is not None else None
            relative = change / before if change is not None and before not in (None, 0) else None
            rows.append({"metric": metric, "current": now, "previous": before, "change": change,
                         "relative_change": relative, "comparable": before is not None and enough})  # fmt: skip
        return pl.DataFrame(rows, schema=_COMPARISON_SCHEMA)

    @memoized
    def lost_per_day(self, filters: Filters) -> pl.DataFrame:
        """Lost leads (not reached, not marked) per local day of their last miss and channel: counted from the
        listing (`callers_brief`), which a page asks anyway, rather than by asking DuckDB again."""
        lost = self.callers_brief(filters).filter(~pl.col("reached") & pl.col("mark").is_null())
        return (
            lost.group_by(pl.col("last_missed_at").dt.date().alias("day"), "channel")
            .agg(pl.len().cast(pl.Int64).alias("lost"))
            .sort("day", "channel")
        )

    @memoized
    def recovery_by(self, filters: Filters, dimension: str) -> pl.DataFrame:
        """The summary's counts, recovery rate and median by `dimension`: a phone counts under each value where it
        missed a callback, reached when answered after its last miss there. One row per value, in its order."""
        sql, params = self._per_phone(filters, dimension)
        # The dimension is checked by record_facts before it reaches this SQL.
        sql = f"SELECT by_value AS {dimension}, {_RECOVERY} FROM ({sql}) GROUP BY ALL ORDER BY by_value"  # noqa: S608
        return self._query(sql, params)

    @memoized
    def speed_by(self, filters: Filters, dimension: str) -> pl.DataFrame:
        """§4, the table a sales head reads on Monday: callback speed by `dimension` (department, widget…) with
        the recovery of the missed callers there (`recovery_by`), most callbacks measured first."""
        speed: pl.DataFrame
        speed, recovery = self.together(
            lambda leads: leads._metrics().speed_by(filters, dimension),
            lambda leads: leads.recovery_by(filters, dimension),
        )
        joined = speed.join(recovery, on=dimension, how="full", coalesce=True)
        counts = ["speed_measured", "missed_callers", "reached", "lost", "marked"]
        return joined.with_columns(pl.col(counts).fill_null(0)).sort(
            ["speed_measured", "missed_callers", dimension], descending=[True, True, False]
        )

    def _metrics(self) -> Metrics:
        # Answers of this reader are memoized under its own scope; the metrics it asks need no scope of their own.
        return Metrics(self._connection, self._account, self.definitions)


# Over the rows of `_per_phone`: a marked phone counts only as marked, and is left out of the recovery rate.
_RECOVERY = """
    count(*) AS missed_callers,
    count(*) FILTER (WHERE reached AND mark IS NULL) AS reached,
    count(*) FILTER (WHERE NOT reached AND mark IS NULL) AS lost,
    count(*) FILTER (WHERE mark IS NOT NULL) AS marked,
    (count(*) FILTER (WHERE reached AND mark IS NULL))::DOUBLE
        / nullif(count(*) FILTER (WHERE mark IS NULL), 0) AS recovery_rate,
    median(reached_after_seconds) FILTER (WHERE reached AND mark IS NULL)::DOUBLE AS recovery_median_seconds"""
_COMPARISON_SCHEMA = {
    "metric": pl.String, "current": pl.Float64, "previous": pl.Float64, "change": pl.Float64,
    "relative_change": pl.Float64, "comparable": pl.Boolean,
}  # fmt: skip


@contextmanager
def open_lost_leads(
    store: AnyStore, account: str, zone: ZoneInfo, scope: ResultScope | None = None
) -> Iterator[LostLeads]:
    """The store for one piece of work, opened when first needed (with `scope`, only for answers not memoized)."""
    with store.reading() as reading:
        yield LostLeads(reading, account, Definitions(zone=zone), scope=scope)


def mark(store: AnyStore, account: str, person: Person, phone: str, kind: str, *, now: datetime | None = None) -> None:
    """An editor marks `phone` (as listed) `kind` (one of `marks.MARK_KINDS`); it leaves the lost leads until a newer
    miss. Kept in the cache only, never sent to Newton."""
    if not person.can_write:
        raise NotAllowed("only editors may mark lost leads")
    store.write(marks.mark_phone, account, phone, marks.check_kind(kind), person.name, now or utc_now())


def unmark(store: AnyStore, account: str, person: Person, phone: str) -> None:
    """An editor takes the mark off `phone`: it counts as reached or lost again."""
    if not person.can_write:
        raise NotAllowed("only editors may mark lost leads")
    store.write(marks.unmark_phone, account, phone)
