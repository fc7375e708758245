"""The agency's table of accounts: each row from that account's own metrics, the total from summed counts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from dashboard.agency import TABLE_COLUMNS, AccountNumbers, account_numbers, accounts_table, summed_breakdown
from dashboard.demo import DEMO_USER_ID
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.settings import Account, load_connection
from dashboard.store import Store
from dashboard.timezones import zone_named
from dashboard.ui.session import View


def _numbers(requests: int, answered: int, missed: int, value: int, kopecks: int | None) -> AccountNumbers:
    return AccountNumbers(requests, answered, missed, priced_leads=answered, lost_leads=missed // 2,
                          lead_value=value, kopecks=kopecks)  # fmt: skip


def test_the_total_is_computed_from_summed_counts_never_averaged() -> None:
    table = accounts_table([("Big", _numbers(1000, 900, 100, 300_000, 10_000_000)),
                            ("Small", _numbers(10, 1, 9, 1_000, 100_000))])  # fmt: skip
    assert table.columns == list(TABLE_COLUMNS)
    rows = {row["account"]: row for row in table.iter_rows(named=True)}
    assert rows["Big"]["answer_rate"] == pytest.approx(0.9) and rows["Small"]["answer_rate"] == pytest.approx(0.1)
    total = rows["total"]
    assert total["requests"] == 1010 and total["lost_leads"] == 54 and total["lead_value"] == 301_000
    assert total["answer_rate"] == pytest.approx(901 / 1010)  # not (0.9 + 0.1) / 2
    assert total["cost"] == pytest.approx(101_000.0)
    assert total["romi"] == pytest.approx((301_000 - 101_000) / 101_000)
    assert rows["Small"]["romi"] == pytest.approx((1_000 - 1_000) / 1_000)


def test_the_totals_romi_is_empty_when_an_account_has_no_costs() -> None:
    table = accounts_table([("Costed", _numbers(10, 5, 5, 500, 10_000)), ("Free", _numbers(10, 5, 5, 900, None))])
    rows = {row["account"]: row for row in table.iter_rows(named=True)}
    assert rows["Free"]["cost"] is None and rows["Free"]["romi"] is None
    assert rows["total"]["cost"] == pytest.approx(100.0) and rows["total"]["romi"] is None
    assert rows["total"]["answer_rate"] == pytest.approx(0.5)


def test_an_accounts_row_is_its_own_headline(demo_cache: Path) -> None:
    zone = zone_named("Europe/Moscow")
    filters = Filters(period=Period(date(2000, 1, 1), date(2100, 12, 31)))
    with Store(demo_cache).reading() as reading:
        metrics = Metrics(reading, DEMO_USER_ID, Definitions(zone=zone))
        headline = metrics.headline(filters)
        numbers = account_numbers(metrics, filters)
    (row,) = accounts_table([("Demo", numbers)]).head(1).iter_rows(named=True)
    assert numbers.requests == headline["requests"] and numbers.requests > 0
    assert row["answer_rate"] == pytest.approx(headline["answer_rate"])
    assert row["lead_value"] == headline["lead_value"]


def _breakdown(rows: list[tuple[str, int, int, int, float | None, float | None]]) -> pl.DataFrame:
    """A `reports.attribution` table by channel: (channel, requests, answered, missed, avg talk, cost)."""
    return pl.DataFrame(
        [{"channel": channel, "requests": requests, "callbacks": answered + missed, "answered": answered,
          "missed": missed, "pending": 0, "avg_talk_seconds": talk, "lead_value": 100 * answered,
          "priced_leads": answered, "cost": cost}
         for channel, requests, answered, missed, talk, cost in rows],
        schema_overrides={"avg_talk_seconds": pl.Float64, "cost": pl.Float64},
    )  # fmt: skip


def test_summed_attribution_adds_counts_per_value_and_computes_rates_from_them() -> None:
    a = _breakdown([("direct", 100, 90, 10, 60.0, 1000.0), ("ads", 10, 1, 9, 30.0, 500.0)])
    b = _breakdown([("ads", 30, 10, 10, 90.0, 500.0)])
    rows = {row["channel"]: row for row in summed_breakdown([a, b], "channel").iter_rows(named=True)}
    assert rows["ads"]["requests"] == 40 and rows["ads"]["answered"] == 11
    assert rows["ads"]["answer_rate"] == pytest.approx(11 / 30)  # not the mean of 0.1 and 0.5
    assert rows["ads"]["avg_talk_seconds"] == pytest.approx((30 * 1 + 90 * 10) / 11)
    assert rows["ads"]["cost"] == pytest.approx(1000.0)
    assert rows["ads"]["romi"] == pytest.approx((1100 - 1000) / 1000)
    assert list(rows) == ["direct", "ads"]  # most requests first


def test_summed_attribution_shows_no_money_unless_every_account_has_it() -> None:
    a = _breakdown([("direct", 100, 90, 10, 60.0, 1000.0)])
    b = _breakdown([("direct", 30, 10, 10, 90.0, None)])
    (row,) = summed_breakdown([a, b], "channel").iter_rows(named=True)
    assert row["requests"] == 130 and row["cost"] is None and row["romi"] is None


def test_under_all_accounts_a_preset_means_each_accounts_own_days(tmp_path: Path) -> None:
    """At 20:30 UTC it is still 7 December in Moscow and already the 8th in Yekaterinburg: "today" is each one's."""
    moscow, yekaterinburg = zone_named("Europe/Moscow"), zone_named("Asia/Yekaterinburg")
    connection = load_connection(env={}, secrets_path=tmp_path / "none.toml")
    now = datetime(2026, 12, 7, 20, 30)
    shown = View(connection, tmp_path / "c.duckdb", moscow, "en",
                 Filters(period=Period(date(2026, 12, 7), date(2026, 12, 7)), as_of=now), "today")  # fmt: skip
    east = shown.one(Account("east", "East", connection, yekaterinburg))
    assert east.filters.period == Period(date(2026, 12, 8), date(2026, 12, 8)) and east.zone == yekaterinburg
    assert shown.one(Account("west", "West", connection, moscow)).filters.period == shown.filters.period
    chosen = View(connection, tmp_path / "c.duckdb", moscow, "en",
                  Filters(period=Period(date(2026, 12, 1), date(2026, 12, 5)), as_of=now), "custom")  # fmt: skip
    assert chosen.one(Account("east", "East", connection, yekaterinburg)).filters.period == chosen.filters.period
