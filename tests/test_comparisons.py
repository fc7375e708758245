"""Fair comparisons with a fixed `now`: up to the same time of day, calendar months, last year; the change's words."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard import i18n
from dashboard.api.records import parse_records
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.periods import comparison, preset_period
from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

MOSCOW = ZoneInfo("Europe/Moscow")
ACCOUNT = "acc"
# Saturday 14 March 2026, 14:05:40 in Moscow (UTC+3): the numbers are for 14:05.
NOW = datetime(2026, 3, 14, 11, 5, 40)


def days_of(preset: str, kind: str = "previous") -> tuple[date, date] | None:
    compared = comparison(preset_period(preset, date(2026, 3, 14)), kind, Filters(as_of=NOW).as_of, MOSCOW, preset)
    return (compared.other.first, compared.other.last) if compared.other else None


def test_what_each_preset_is_compared_with() -> None:
    assert days_of("today") == (date(2026, 3, 13), date(2026, 3, 13))
    assert days_of("last_7_days") == (date(2026, 3, 1), date(2026, 3, 7))
    assert days_of("this_month") == (date(2026, 2, 1), date(2026, 2, 14))  # the same days of last month
    assert days_of("last_month") == (date(2026, 1, 1), date(2026, 1, 31))  # the calendar month before: 31 days
    assert days_of("last_month", "year") == (date(2025, 2, 1), date(2025, 2, 28))
    assert days_of("today", "none") is None


def test_29_february_last_year_is_28_february() -> None:
    leap = comparison(Period(date(2024, 2, 29), date(2024, 2, 29)), "year", None, MOSCOW)
    assert leap.other == Period(date(2023, 2, 28), date(2023, 2, 28))
    whole = comparison(Period(date(2025, 2, 1), date(2025, 2, 28)), "year", None, MOSCOW, "last_month")
    assert whole.other == Period(date(2024, 2, 1), date(2024, 2, 29))


def test_today_is_compared_with_yesterday_until_the_same_minute(tmp_path: Path) -> None:
    def request(rid: str, utc: str, **fields: Any) -> dict[str, Any]:
        return {"id": rid, "type": "callback", "requestDate": utc, "callStatus": "CLIENT_ANSWER", **fields}

    records = [
        request("1", "2026-03-14 07:00:00"),  # today 10:00
        request("2", "2026-03-14 11:04:59"),  # today 14:04:59
        request("3", "2026-03-13 07:00:00"),  # yesterday 10:00
        request("4", "2026-03-13 11:04:59"),  # yesterday 14:04:59: before the cut-off
        request("5", "2026-03-13 11:05:00"),  # yesterday 14:05: not yet, at this time of day
        request("6", "2026-03-13 20:00:00"),  # yesterday 23:00
    ]
    path = tmp_path / "cache.duckdb"
    with transaction(path) as con:
        data.upsert_records(con, ACCOUNT, parse_records({"records": records}), utc_now())
    with connect(path) as con:
        metrics = Metrics(con, ACCOUNT, Definitions(zone=MOSCOW))
        today = Filters(period=preset_period("today", date(2026, 3, 14)), as_of=NOW)
        rows = {row["metric"]: row for row in metrics.compare(today, "previous", "today").iter_rows(named=True)}
        compared = metrics.comparing(today, "previous", "today")
    assert (compared.until, compared.other_until) == (datetime(2026, 3, 14, 11, 5), datetime(2026, 3, 13, 11, 5))
    # Yesterday had 4 requests in all, 2 of them by 14:05: the same 2 as today so far, not "-50 %".
    assert (rows["requests"]["current"], rows["requests"]["previous"], rows["requests"]["change"]) == (2, 2, 0)


@pytest.mark.parametrize(
    ("current", "previous", "points", "comparable", "en", "ru"),
    [
        (120, 100, False, True, "+20.0%", "+20,0\u00a0%"),
        (100, 100, False, True, "±0%", "±0\u00a0%"),
        (0.8, 0.8, True, True, "±0\u00a0pp", "±0\u00a0п.п."),
        (0.80004, 0.8, True, True, "±0\u00a0pp", "±0\u00a0п.п."),  # shows as 0.0: no direction
        (0.75, 0.8, True, True, "-5.0\u00a0pp", "-5,0\u00a0п.п."),
        (0, 3, False, False, "Too few to compare", "Слишком мало для сравнения"),  # not "-100 %"
    ],
)
def test_the_change_in_words(current: float, previous: float, points: bool, comparable: bool, en: str, ru: str) -> None:
    said = [i18n.change(current, previous, lang, as_points=points, comparable=comparable) for lang in ("en", "ru")]
    assert said == [en, ru]
    neutral = current == previous or not comparable or abs(current - previous) < 0.0005
    assert [i18n.is_neutral(text) for text in said] == [neutral, neutral]
