"""The Lost leads page's two-step listing equals the full one on generated records: every caller's brief row
(`callers_brief`) is the full row's columns, same rows, same order, same types; any of them completed
(`with_details`) is the full row. Ties in time, phones typed several ways, our own call backs, pending callbacks,
marks before and after a miss, filters and periods are all drawn, since each changes which request is "first" or
"last" and whom a caller counts as reached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from dashboard.api import Department, Widget
from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.lost_leads import AFTER_EARLIEST_MISS, AFTER_START, BRIEF_COLUMNS, LostLeads
from dashboard.metrics import Definitions, Filters, Period
from dashboard.store import data, marks, utc_now
from dashboard.store.connection import connect
from dashboard.timezones import zone_named
from tests.support.cache_tables import made_afresh

pytestmark = pytest.mark.slow  # hypothesis: a fresh set of tables and five queries per example

ACCOUNT = "acc"
EXAMPLES = settings(max_examples=60, deadline=None)
DAY = datetime(2026, 3, 1)
LATER = timedelta(hours=30)  # a callback put off (delayDate): pending longer
# Few moments and few phones: requests of one caller at the same second are common, so ties are decided by id.
MOMENTS = st.integers(0, 6).map(lambda step: DAY + timedelta(hours=step * 28))
PHONES = st.sampled_from(("+79991112233", "8 (999) 111-22-33", "79992223344", "+79993334455", "call me", None))
STATUSES = st.sampled_from(("CLIENT_ANSWER", "CLIENT_MISSED", "OPERATOR_NO_ANSWER", None, " "))
MAYBE_TEXT = st.sampled_from((None, "", " a ", "b", "https://example.com/r.mp3"))
WIDGETS = (Widget("w1", "Main site", (Department("d1", "Sales"),)), Widget("w2", " ", ()))


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 30 records with unique ids (drawn out of order, so id order and time order differ)."""
    count = draw(st.integers(1, 30))
    ids = draw(st.permutations(range(1000, 1000 + count)))
    batch = []
    for number in ids:
        request = draw(MOMENTS)
        batch.append({
            "id": str(number),
            "type": draw(st.sampled_from(("callback", "callback", "callback", "call", "chat"))),
            "requestDate": f"{request:%Y-%m-%d %H:%M:%S}",
            "clientPhone": draw(PHONES),
            "callStatus": draw(STATUSES),
            "delayDate": draw(st.sampled_from((None, None, None, f"{request + LATER:%Y-%m-%d %H:%M:%S}"))),
            "widgetId": draw(st.sampled_from(("w1", "w2", "w3", None))),
            "departmentId": draw(st.sampled_from(("d1", "d2", None))),
            "landingUrl": draw(st.one_of(MAYBE_TEXT, st.just(OUR_CALLBACK_REFERER))),
            "landingUtmSource": draw(MAYBE_TEXT),
            "conversationFile": draw(MAYBE_TEXT),
            "leadPrice": draw(st.sampled_from((None, "0", "100", "2500"))),
            "landingUtmMedium": draw(st.sampled_from((None, "cpc", "email", "social"))),  # the channel
        })  # fmt: skip
    return batch


MARKS = st.lists(
    st.tuples(st.sampled_from(("+79991112233", "+79992223344", "+79993334455", "call me")), MOMENTS,
              st.sampled_from(("spam", "not_a_lead")), st.sampled_from((None, "alice"))),
    max_size=3,
)  # fmt: skip
FILTERS = st.builds(
    Filters,
    period=st.one_of(st.none(), st.builds(Period, st.just(date(2026, 3, 2)), st.just(date(2026, 3, 9)))),
    chosen=st.sampled_from(({}, {"channel": ("email", "paid_search")}, {"widget": ("Main site", "(none)")})),
    as_of=st.one_of(st.none(), MOMENTS),
    until=st.one_of(st.none(), MOMENTS),
)


class Tables:
    """One cache file for the module, its tables made afresh for every example (as tests/test_metrics_property.py
    does: a fresh file per example would cost more than the queries)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def filled(self, sent: list[dict[str, Any]], marked: list[tuple[str, datetime, str, str | None]]) -> LostLeads:
        con = self.con
        con.begin()
        made_afresh(con)
        data.replace_widgets(con, ACCOUNT, WIDGETS, utc_now())
        data.upsert_records(con, ACCOUNT, parse_records({"records": sent}), utc_now())
        for phone, when, kind, by in marked:
            marks.mark_phone(con, ACCOUNT, phone, kind, by, when)
        con.commit()
        return LostLeads(con, ACCOUNT, Definitions(zone=zone_named("Asia/Yekaterinburg")))


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tables]:
    with connect(tmp_path_factory.mktemp("lost_leads_property") / "cache.duckdb") as con:
        yield Tables(con)


@EXAMPLES
@given(records(), MARKS, FILTERS, st.randoms(use_true_random=False))
def test_the_brief_rows_completed_are_the_full_listing(
    tables: Tables, sent: list[dict[str, Any]], marked: list[Any], filters: Filters, random: Any
) -> None:
    lost = tables.filled(sent, marked)
    full = lost.callers_with_misses(filters)
    brief = lost.callers_brief(filters)
    assert_frame_equal(brief, full.select(BRIEF_COLUMNS), check_exact=True)
    assert_frame_equal(lost.with_details(filters, brief), full, check_exact=True)
    # Any of the rows, in any order (the page completes the newest it draws of a choice and a search).
    chosen = random.sample(range(brief.height), random.randint(0, brief.height))
    some = pl.Series("at", chosen, dtype=pl.UInt32)
    assert_frame_equal(lost.with_details(filters, brief[some]), full[some], check_exact=True)
    # The page's numbers are counted from the brief rows as `summary` counts them in DuckDB.
    assert lost.brief_summary(filters) == lost.summary(filters)
    # The chart is counted from the brief rows as it was from the full ones.
    lost_full = full.filter(~pl.col("reached") & pl.col("mark").is_null())
    expected = (
        lost_full.group_by(pl.col("last_missed_at").dt.date().alias("day"), "channel")
        .agg(pl.len().cast(pl.Int64).alias("lost"))
        .sort("day", "channel")
    )
    assert_frame_equal(lost.lost_per_day(filters), expected, check_exact=True)


# How each question groups the phones with a miss (the brief never by a dimension).
GROUPINGS = st.sampled_from(((None, "counts"), ("department", "counts"), (None, "brief"), (None, "listing"),
                             ("widget", "listing")))  # fmt: skip


@EXAMPLES
@given(records(), MARKS, FILTERS, GROUPINGS)
def test_only_the_answers_after_a_miss_are_read_and_they_reach_the_same_callers(
    tables: Tables, sent: list[dict[str, Any]], marked: list[Any], filters: Filters, grouping: tuple[str | None, str]
) -> None:
    lost = tables.filled(sent, marked)
    by, shown = grouping
    sql, params = lost._per_phone(filters, by, shown=shown)
    # The bound closes the answers' conditions (the period's own `>= $start` stays).
    bounds = [f"AND {bound}\n)" for bound in (AFTER_START, AFTER_EARLIEST_MISS) if f"AND {bound}\n)" in sql]
    assert len(bounds) == 1
    unbounded = sql.replace(bounds[0], "\n)")
    read = [lost._query(f"SELECT * FROM ({asked}) ORDER BY ALL", params) for asked in (sql, unbounded)]  # noqa: S608
    assert_frame_equal(read[0], read[1], check_exact=True)
    if by:  # one row per value, in its order
        recovery = lost.recovery_by(filters, by)
        assert_frame_equal(recovery, recovery.sort(by), check_exact=True)
