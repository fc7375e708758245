"""Money next to the calls: cost, cost per lead, ROMI and ДРР by source, campaign, medium and channel, and the
cases a marketer notices (spend with no calls, a divisor of 0, a filter costs cannot follow)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dashboard import reports
from dashboard.api.records import parse_records
from dashboard.costs import Cost, CostImport, save_costs
from dashboard.metrics import Filters, Metrics, Period
from dashboard.money import MONEY_COLUMNS, Money, blocked_by
from dashboard.store import Store, data, utc_now

ACCOUNT = "acc"
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
BATCH = CostImport("generic", "costs.csv", "csv", "ann", datetime(2026, 4, 1, 9, 0))


def record(n: int, source: str, *, campaign: str = "", medium: str = "cpc", status: str = "CLIENT_ANSWER",
           price: int | None = None, day: int = 10, city: str = "Moscow") -> dict[str, Any]:  # fmt: skip
    return {
        "id": f"r{n}", "type": "callback", "requestDate": f"2026-03-{day:02d} 09:00:00", "widgetId": "w1",
        "clientPhone": f"+7916000{n:04d}", "callStatus": status, "landingUtmSource": source,
        "landingUtmMedium": medium, "landingUtmCampaign": campaign, "leadPrice": price, "ipCity": city,
    }  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "cache.duckdb")
    records = [
        record(1, "Yandex", campaign="Brand", price=3000),
        record(2, "Yandex", campaign="Brand", status="NOT_ANSWERED"),
        record(3, "yandex ", campaign="12345", price=0),
        record(4, "Yandex", campaign=""),
        record(5, "google", campaign="search", medium="organic", price=500, city="Kazan"),
    ]
    store.write(lambda con: data.upsert_records(con, ACCOUNT, parse_records({"records": records}), utc_now()))
    return store


def spend(store: Store, *costs: Cost) -> None:
    store.write(save_costs, ACCOUNT, BATCH, list(costs))


def rows_by(store: Store, by: str, filters: Filters | None = None) -> dict[str, dict[str, Any]]:
    with store.reading() as reading:
        table = reports.attribution(Metrics(reading, ACCOUNT), filters or Filters(period=MARCH), reports.Breakdown(by))
    return {row[by]: row for row in table.iter_rows(named=True)}


def test_money_by_source_joins_costs_whatever_the_spelling_with_spend_that_brought_no_call(store: Store) -> None:
    spend(store,
          Cost(date(2026, 3, 10), " YANDEX", 600_000, "brand", campaign_id="12345"),
          Cost(date(2026, 3, 11), "yandex", 200_000),
          Cost(date(2026, 3, 12), "vk", 150_050, "retarget"),
          Cost(date(2026, 4, 1), "yandex", 999_900))  # fmt: skip  # after the period
    rows = rows_by(store, "utm_source")
    yandex = rows["Yandex"]  # one row: the records' most frequent spelling of the key
    assert "yandex " not in rows and "YANDEX" not in rows
    assert (yandex["requests"], yandex["answered"], yandex["priced_leads"], yandex["lead_value"]) == (4, 3, 2, 3000)
    assert yandex["cost"] == 8000.0
    assert (yandex["cpl"], yandex["cost_per_answered"], yandex["cpa"]) == (2000.0, 2666.67, 4000.0)
    assert (yandex["romi"], yandex["drr"]) == (-0.625, 2.6667)
    vk = rows["vk"]  # spend with no calls has its own row
    assert (vk["requests"], vk["answered"], vk["priced_leads"], vk["cost"]) == (0, 0, 0, 1500.5)
    assert (vk["cpl"], vk["cost_per_answered"], vk["cpa"], vk["romi"], vk["drr"]) == (None, None, None, -1.0, None)
    google = rows["google"]  # calls with no cost: cost 0, nothing to return on
    assert (google["cost"], google["cpl"], google["romi"], google["drr"]) == (0.0, 0.0, None, 0.0)
    assert list(rows) == ["Yandex", "google", "vk"]


def test_money_by_campaign_matches_name_or_id_and_shows_campaignless_spend_as_none(store: Store) -> None:
    spend(store,
          Cost(date(2026, 3, 10), "yandex", 300_000, "BRAND"),
          Cost(date(2026, 3, 10), "yandex", 100_000, "Generic", campaign_id="12345"),
          Cost(date(2026, 3, 11), "yandex", 50_000))  # fmt: skip
    rows = rows_by(store, "utm_campaign")
    assert rows["Brand"]["cost"] == 3000.0 and rows["Brand"]["requests"] == 2
    assert rows["12345"]["cost"] == 1000.0  # the records carry the campaign's id
    assert rows["(none)"]["cost"] == 500.0 and rows["(none)"]["requests"] == 1
    assert "Generic" not in rows


def test_money_by_channel_puts_a_cost_where_the_rules_put_its_source_and_medium(store: Store) -> None:
    spend(
        store, Cost(date(2026, 3, 10), "yandex", 400_000), Cost(date(2026, 3, 10), "vk", 100_000, utm_medium="social")
    )
    rows = rows_by(store, "channel")
    assert rows["paid_search"]["cost"] == 4000.0 and rows["paid_search"]["requests"] == 4
    assert rows["social"]["cost"] == 1000.0 and rows["social"]["requests"] == 0


def test_no_costs_leaves_every_money_column_empty(store: Store) -> None:
    rows = rows_by(store, "utm_source")
    assert list(rows) == ["Yandex", "google", "yandex"]  # the records' own rows, as before costs
    assert all(row[name] is None for row in rows.values() for name in MONEY_COLUMNS)


def test_a_filter_costs_cannot_follow_empties_the_money(store: Store) -> None:
    spend(store, Cost(date(2026, 3, 10), "yandex", 400_000))
    by_city = Filters(period=MARCH, chosen={"city": ("Moscow",)})
    assert blocked_by(by_city, "utm_source") == ("city",)
    rows = rows_by(store, "utm_source", by_city)
    assert rows["Yandex"]["requests"] == 3
    assert all(row[name] is None for row in rows.values() for name in MONEY_COLUMNS)
    with store.reading() as reading:
        assert set(Money(reading, ACCOUNT).headline(by_city).values()) == {None}
    assert all(row["cost"] is None for row in rows_by(store, "city").values())  # a dimension costs do not reach


def test_a_source_filter_narrows_the_costs_and_takes_every_spelling_of_the_source(store: Store) -> None:
    spend(store, Cost(date(2026, 3, 10), "yandex", 400_000), Cost(date(2026, 3, 10), "vk", 100_000))
    only = Filters(period=MARCH, chosen={"utm_source": ("Yandex",)})
    with store.reading() as reading:
        headline = Money(reading, ACCOUNT).headline(only)
    assert headline["cost"] == 4000.0 and headline["cpl"] == 1000.0  # "Yandex" and "yandex ": 4 requests
    assert list(rows_by(store, "utm_source", only)) == ["Yandex"]
    assert rows_by(store, "utm_source", only)["Yandex"]["requests"] == 4


def test_the_headline_is_all_of_the_spend_against_all_of_the_calls(store: Store) -> None:
    spend(store, Cost(date(2026, 3, 10), "yandex", 400_000), Cost(date(2026, 3, 12), "vk", 100_000))
    with store.reading() as reading:
        headline = Money(reading, ACCOUNT).headline(Filters(period=MARCH))
    assert headline == {"cost": 5000.0, "cpl": 1000.0, "cost_per_answered": 1250.0, "cpa": 5000.0 / 3,
                        "romi": (3500 - 5000) / 5000, "drr": 5000 / 3500}  # fmt: skip


def test_the_money_columns_come_last_even_after_the_changes(store: Store) -> None:
    spend(store, Cost(date(2026, 3, 10), "yandex", 400_000))
    filters = Filters(period=MARCH, as_of=datetime(2026, 4, 5, 12, 0))
    with store.reading() as reading:
        metrics = Metrics(reading, ACCOUNT)
        compared = reports.attribution(metrics, filters, reports.Breakdown("utm_source", compare="previous"))
        touched = reports.first_touch(metrics, filters, reports.Breakdown("utm_source"))
    assert compared.columns == ["utm_source", *reports.ATTRIBUTION_COLUMNS, *reports.CHANGE_COLUMNS, *MONEY_COLUMNS]
    assert touched.columns == ["utm_source", *reports.FIRST_TOUCH_COLUMNS, *MONEY_COLUMNS]
    assert touched.select(MONEY_COLUMNS).null_count().row(0) == (touched.height,) * len(MONEY_COLUMNS)
    assert isinstance(compared, pl.DataFrame)


def test_a_cross_tab_of_source_and_campaign_joins_on_both_keys(store: Store) -> None:
    spend(store,
          Cost(date(2026, 3, 10), "yandex", 300_000, "brand"),
          Cost(date(2026, 3, 10), "yandex", 50_000),
          Cost(date(2026, 3, 10), "vk", 70_000, "brand"))  # fmt: skip
    with store.reading() as reading:
        table = reports.attribution(Metrics(reading, ACCOUNT), Filters(period=MARCH),
                                    reports.Breakdown("utm_source", "utm_campaign"))  # fmt: skip
    cells = {
        (row["utm_source"], row["utm_campaign"]): (row["requests"], row["cost"]) for row in table.iter_rows(named=True)
    }
    assert cells == {("Yandex", "Brand"): (2, 3000.0), ("Yandex", "(none)"): (1, 500.0), ("Yandex", "12345"): (1, 0.0),
                     ("google", "search"): (1, 0.0), ("vk", "Brand"): (0, 700.0)}  # fmt: skip


def test_the_overview_compares_spend_cpl_and_romi_with_the_previous_period(store: Store) -> None:
    spend(store, Cost(date(2026, 3, 10), "yandex", 400_000), Cost(date(2026, 2, 20), "yandex", 100_000))
    with store.reading() as reading:
        money = Money(reading, ACCOUNT)
        compared = money.compare(Filters(period=MARCH, as_of=datetime(2026, 4, 5, 12, 0)), "previous")
    rows = {row["metric"]: row for row in compared.iter_rows(named=True)}
    assert list(rows) == list(MONEY_COLUMNS)
    assert (rows["cost"]["current"], rows["cost"]["previous"], rows["cost"]["change"]) == (4000.0, 1000.0, 3000.0)
    assert rows["cost"]["relative_change"] == 3.0
    assert rows["cpl"]["previous"] is None  # no request in February: nothing to divide by
    assert not rows["cost"]["comparable"]  # February had fewer than 10 requests
