"""Callers on hand-made records in a real DuckDB file: one phone however typed, new and repeat callers, the first
touch, and our own call backs never making anyone a caller. The expected numbers are worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.metrics import Filters, Metrics, Period
from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.store.schema import forget_prepared

ACCOUNT = "acc"
MARCH = Filters(period=Period(date(2026, 3, 1), date(2026, 3, 31)))


def request(rid: str, phone: str | None, when: str, **fields: Any) -> dict[str, Any]:
    return {"id": rid, "type": "callback", "requestDate": when, "widgetId": "w1", "clientPhone": phone,
            "callStatus": "CLIENT_ANSWER", **fields}  # fmt: skip


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Any]:
    """Writes records to a cache file and yields an open connection to it."""
    opened: list[Any] = []

    def build(records: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
        path = tmp_path / f"c{len(opened)}.duckdb"
        with transaction(path) as con:
            data.upsert_records(con, ACCOUNT, parse_records({"records": records}), utc_now())
        context = connect(path)
        opened.append(context)
        return context.__enter__()

    yield build
    for context in opened:
        context.__exit__(None, None, None)


PAID = {"landingUtmSource": "yandex", "landingUtmMedium": "cpc"}
EMAIL = {"landingUtmSource": "newsletter", "landingUtmMedium": "email"}
OURS = {"landingUrl": OUR_CALLBACK_REFERER}

RECORDS = [
    # One caller typed seven ways; first seen in February through paid search: a repeat caller in March.
    request("a0", "8 (912) 345-67-89", "2026-02-10 09:00:00", **PAID),
    request("a1", "+7 912 345 67 89", "2026-03-02 09:00:00", **EMAIL),
    request("a2", "79123456789", "2026-03-03 09:00:00", **EMAIL),
    request("a3", "9123456789", "2026-03-04 09:00:00"),
    request("a4", "+7(912)345-67-89", "2026-03-05 09:00:00", **EMAIL),
    request("a5", "8-912-345-67-89", "2026-03-06 09:00:00", **EMAIL),
    request("a6", "+7\u00a0912\u00a0345\u201167\u201189\u2003", "2026-03-07 09:00:00", **EMAIL),  # as typeset
    # A new caller in March, by e-mail then directly: one caller in each channel, once in the whole period.
    request("b1", "+79995550001", "2026-03-10 09:00:00", **EMAIL),
    request("b2", "8 999 555 00 01", "2026-03-11 09:00:00"),
    # A value that is no Russian number is its own caller, however much space surrounds it.
    request("c1", "12345", "2026-03-12 09:00:00"),
    request("c2", "  12345 ", "2026-03-13 09:00:00"),
    # No phone, blank phone: requests, but no caller.
    request("d1", None, "2026-03-14 09:00:00"),
    request("d2", "   ", "2026-03-14 10:00:00"),
    # Our own call back in February to a phone that then calls in March: they are still new in March.
    request("e0", "+79995550002", "2026-02-20 09:00:00", **OURS),
    request("e1", "+79995550002", "2026-03-15 09:00:00", **PAID),
    # Our own call back in March to a phone that never called: no caller, no request.
    request("f1", "+79995550003", "2026-03-16 09:00:00", **OURS),
    # April: outside the period.
    request("g1", "+79995550004", "2026-04-01 09:00:00"),
]


def test_callers_new_and_repeat_in_the_period(cache: Any) -> None:
    numbers = Metrics(cache(RECORDS), ACCOUNT).headline(MARCH)
    # a (repeat), b (new), 12345 (new), e (new: its only earlier record is our call back); f is ours, d has none.
    assert (numbers["requests"], numbers["callers"]) == (13, 4)
    assert (numbers["new_callers"], numbers["repeat_callers"]) == (3, 1)


def test_without_a_period_every_caller_is_new(cache: Any) -> None:
    numbers = Metrics(cache(RECORDS), ACCOUNT).headline(Filters())
    # a, b, 12345, e, g; f only ever received our call back.
    assert (numbers["callers"], numbers["new_callers"], numbers["repeat_callers"]) == (5, 5, 0)


def test_a_period_after_the_first_request_makes_the_caller_a_repeat_one(cache: Any) -> None:
    metrics = Metrics(cache(RECORDS), ACCOUNT)
    later = metrics.headline(Filters(period=Period(date(2026, 3, 3), date(2026, 3, 6))))
    assert (later["callers"], later["new_callers"], later["repeat_callers"]) == (1, 0, 1)  # only a, seen before


def test_a_caller_in_two_groups_counts_in_each(cache: Any) -> None:
    by_channel = Metrics(cache(RECORDS), ACCOUNT).breakdown(MARCH, "channel")
    rows = {r["channel"]: (r["requests"], r["callers"], r["new_callers"]) for r in by_channel.iter_rows(named=True)}
    # direct: a3, b2, c1, c2, d1, d2 → callers a, b, 12345 (b and 12345 new); email: a1, a2, a4-a6, b1 → a, b.
    assert rows == {"direct": (6, 3, 2), "email": (6, 2, 1), "paid_search": (1, 1, 1)}


def test_first_touch_counts_each_caller_once_under_the_channel_of_its_first_request(cache: Any) -> None:
    touches = Metrics(cache(RECORDS), ACCOUNT).first_touch(MARCH, "channel")
    rows = {r["channel"]: (r["callers"], r["new_callers"], r["requests"]) for r in touches.iter_rows(named=True)}
    # a first came through paid search in February; b by e-mail; 12345 directly; e through paid search (our
    # February call back to it is no touch). Requests: each caller's in March, under its first touch.
    assert rows == {"paid_search": (2, 1, 7), "email": (1, 1, 2), "direct": (1, 1, 2)}
    assert touches["callers"].sum() == Metrics(cache(RECORDS), ACCOUNT).headline(MARCH)["callers"]


def test_first_touch_by_another_dimension_takes_its_value_on_the_first_request(cache: Any) -> None:
    touches = Metrics(cache(RECORDS), ACCOUNT).first_touch(MARCH, "utm_source")
    rows = {r["utm_source"]: r["callers"] for r in touches.iter_rows(named=True)}
    assert rows == {"yandex": 2, "newsletter": 1, "(none)": 1}


def test_a_filter_narrows_the_callers_not_where_they_first_came_from(cache: Any) -> None:
    email_only = Filters(period=MARCH.period, chosen={"channel": ("email",)})
    touches = Metrics(cache(RECORDS), ACCOUNT).first_touch(email_only, "channel")
    # The callers who came by e-mail in March: a (first touch paid search) and b (first touch e-mail).
    assert {r["channel"]: r["callers"] for r in touches.iter_rows(named=True)} == {"paid_search": 1, "email": 1}


def test_our_call_backs_are_counted_apart(cache: Any) -> None:
    metrics = Metrics(cache(RECORDS), ACCOUNT)
    assert (metrics.ours(MARCH), metrics.ours(Filters())) == (1, 2)


def test_a_cache_from_before_stored_callers_works_them_out_once(cache: Any, tmp_path: Path) -> None:
    con = cache(RECORDS)
    con.execute("ALTER TABLE records DROP COLUMN phone")
    con.execute("ALTER TABLE records DROP COLUMN is_ours")
    con.execute("UPDATE records SET phone_first_at = NULL, phone_first_id = NULL")
    con.execute("DELETE FROM meta WHERE key = 'caller_rules'")
    con.close()
    forget_prepared(tmp_path / "c0.duckdb")
    with connect(tmp_path / "c0.duckdb") as again:
        numbers = Metrics(again, ACCOUNT).headline(MARCH)
    assert (numbers["requests"], numbers["callers"], numbers["new_callers"]) == (13, 4, 3)


def test_a_request_synced_late_moves_its_callers_first_touch(cache: Any, tmp_path: Path) -> None:
    con = cache(RECORDS)
    con.close()
    older = request("b0", "8 (999) 555-00-01", "2026-01-15 09:00:00", **PAID)  # b's first request, fetched later
    with transaction(tmp_path / "c0.duckdb") as writing:
        data.upsert_records(writing, ACCOUNT, parse_records({"records": [older]}), utc_now())
    with connect(tmp_path / "c0.duckdb") as again:
        metrics = Metrics(again, ACCOUNT)
        touches = {r["channel"]: r["callers"] for r in metrics.first_touch(MARCH, "channel").iter_rows(named=True)}
        numbers = metrics.headline(MARCH)
    assert touches == {"paid_search": 3, "direct": 1}  # b now first came through paid search
    assert (numbers["new_callers"], numbers["repeat_callers"]) == (2, 2)
