"""The Calls page's data on small hand-made records: filters, search, order, limit, export, price edits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from dashboard.access import Person, Role
from dashboard.api import Department, NewtonClient, Widget
from dashboard.api.records import API_FIELDS, parse_records
from dashboard.calls import (
    Calls,
    PriceChange,
    editor_table,
    export_csv,
    playable,
    price_changes,
    recordings,
    save_prices,
)
from dashboard.demo import DEMO_USER_ID
from dashboard.metrics import Definitions, Filters, Period
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.sync import sync
from dashboard.writes import Writer
from tests.conftest import NOW

EDITOR = Person("dashboard", Role.EDITOR)

ACCOUNT = "acc"
MOSCOW = ZoneInfo("Europe/Moscow")


def record(rid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": rid, "type": "callback", "requestDate": "2026-03-02 07:00:00", "widgetId": "w1"}
    return {**base, **fields}


RECORDS = [
    record("1", requestDate="2026-03-01 09:00:00", clientPhone="+79991234567", landingUtmSource="yandex",
           landingUtmMedium="cpc", landingUtmCampaign="Весна-2026", ipCity="Москва", leadPrice="1000",
           callStatus="CLIENT_ANSWER", callDate="2026-03-01 09:00:25", callDurationClient="95",
           conversationFile="https://records.example/1.mp3", landingUrl="https://shop.example/sale?utm_source=yandex"),
    record("2", requestDate="2026-03-02 10:00:00", clientPhone="+79160000000", landingUtmSource="vk",
           ipCity="Санкт-Петербург", comment="Перезвонить после обеда", conversationFile="javascript:alert(1)"),
    record("3", requestDate="2026-03-03 11:00:00", clientPhone="+79035551122", ipCity="Казань",
           landingSearchPhrase="купить диван", type="application"),
    record("4", requestDate="2026-03-10 12:00:00", clientPhone="+79991234000", ipCity="Москва",
           landingUtmSource="=HYPERLINK(\"http://evil\")"),
    record("5", requestDate=None, clientPhone="+79991234567"),  # an unreadable request date: on no day, never listed
]  # fmt: skip


@pytest.fixture
def calls(tmp_path: Path) -> Iterator[Calls]:
    path = tmp_path / "calls.duckdb"
    with transaction(path) as con:
        widgets = [Widget("w1", "Основной сайт", (Department("d1", "Продажи"),))]
        data.replace_widgets(con, ACCOUNT, widgets, utc_now())
        data.upsert_records(con, ACCOUNT, parse_records({"records": RECORDS}), utc_now())
        # Another account's call with the same phone must never show.
        data.upsert_records(con, "other", parse_records({"records": [record("9", clientPhone="+79991234567")]}),
                             utc_now())  # fmt: skip
    with connect(path) as con:
        yield Calls(con, ACCOUNT, Definitions(zone=MOSCOW))


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["id"].to_list()


def test_every_dated_call_newest_first_with_local_times(calls: Calls) -> None:
    listing = calls.listing(Filters())
    assert ids(listing.rows) == ["4", "3", "2", "1"]
    assert listing.total == 4
    first = listing.rows.row(3, named=True)
    assert first["request_time"] == datetime(2026, 3, 1, 12, 0, 0)  # 09:00 UTC is noon in Moscow
    assert (first["talk_seconds"], first["callback_seconds"], first["lead_price"]) == (95, 25, 1000)
    assert (first["utm_source"], first["utm_campaign"], first["city"]) == ("yandex", "Весна-2026", "Москва")
    assert first["channel"] == "Paid search"
    assert first["landing_page"] == "https://shop.example/sale"
    assert first["phone"] == "+79991234567"  # the caller's phone, as Newton sent it (the page formats it)


def test_the_sidebar_filters_apply(calls: Calls) -> None:
    march_first_week = Filters(period=Period(date(2026, 3, 1), date(2026, 3, 7)))
    assert ids(calls.listing(march_first_week).rows) == ["3", "2", "1"]
    assert ids(calls.listing(Filters(chosen={"utm_source": ("vk",)})).rows) == ["2"]
    assert ids(calls.listing(Filters(chosen={"type": ("application",)})).rows) == ["3"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("+79991234567", ["1"]),
        ("999 123", ["4", "1"]),  # the phone's digits, however they are spaced
        ("8 999 123-45-67", ["1"]),  # a whole phone as people type it
        ("8(999)1234567", ["1"]),
        ("+7 999 123 45 67", ["1"]),
        ("79991234567", ["1"]),
        ("9991234567", ["1"]),
        ("8\u00a0999\u00a0123.45.67", ["1"]),
        ("ЯНДЕКС", []),
        ("YANDEX", ["1"]),  # UTM values, any case
        ("весна", ["1"]),
        ("москва", ["4", "1"]),  # city
        ("  петербург ", ["2"]),
        ("обеда", ["2"]),  # comment
        ("диван", ["3"]),  # search phrase
        ("shop.example/sale", ["1"]),  # landing URL
        ("sale?utm_", ["1"]),  # `_` and `?` are letters here, not wildcards
        ("", ["4", "3", "2", "1"]),
    ],
)
def test_the_search_finds_by_phone_utm_city_and_text(calls: Calls, search: str, expected: list[str]) -> None:
    assert ids(calls.listing(Filters(), search).rows) == expected


@pytest.mark.parametrize("search", ["'; DROP TABLE records; --", "%", "__", "_%", "' OR '1'='1", "$needle", "\\D"])
def test_the_search_is_a_value_not_sql(calls: Calls, search: str) -> None:
    assert calls.listing(Filters(), search).total == 0
    assert calls.listing(Filters()).total == 4  # the table is still there


def test_the_listing_is_limited_but_counts_every_match(calls: Calls) -> None:
    listing = calls.listing(Filters(), limit=2)
    assert ids(listing.rows) == ["4", "3"]
    assert (listing.shown, listing.total) == (2, 4)


def test_the_export_has_every_match_with_api_field_names(calls: Calls) -> None:
    exported = calls.export(Filters(), "москва")
    assert exported["id"].to_list() == ["4", "1"]
    assert exported.columns[: len(API_FIELDS)] == list(API_FIELDS)
    assert exported.filter(pl.col("id") == "1")["leadPrice"].to_list() == [1000]
    assert calls.export(Filters()).height == 4  # more than a limited listing would show
    assert calls.export(Filters(period=Period(date(2026, 3, 8), date(2026, 3, 31))))["id"].to_list() == ["4"]


def test_the_export_csv_is_safe_for_spreadsheets(tmp_path: Path, calls: Calls) -> None:
    del calls  # built the cache
    text = export_csv(Store(tmp_path / "calls.duckdb"), ACCOUNT, MOSCOW, Filters(), "+79991234000").decode("utf-8-sig")
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert frame["landingUtmSource"].to_list() == ['\'=HYPERLINK("http://evil")']


def test_only_http_recordings_are_playable(calls: Calls) -> None:
    found = {r.call_id: r for r in recordings(calls.listing(Filters()).rows)}
    assert set(found) == {"1", "2"}
    assert found["1"].playable and not found["2"].playable
    assert found["1"].label == "2026-03-01 12:00 · 1"


def test_the_listed_calls_with_a_recording_address_are_offered_in_order() -> None:
    """Missing and blank addresses are left out; a call without a time is labelled by its id alone."""
    rows = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "request_time": [datetime(2026, 3, 1, 12, 0, 59), None, datetime(2026, 3, 2), None, datetime(999, 1, 1),
                             datetime(2026, 3, 3)],
            "recording": [" https://r.example/a.mp3 ", None, " \t\n", "javascript:x", "\u2003", "https://r.example/f"],
        }
    )  # fmt: skip
    found = [(r.call_id, r.label, r.url) for r in recordings(rows)]
    assert found == [
        ("a", "2026-03-01 12:00 · a", " https://r.example/a.mp3 "), ("d", " · d", "javascript:x"),
        ("f", "2026-03-03 00:00 · f", "https://r.example/f"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://records.example/a.mp3", True),
        ("HTTP://records.example/a.mp3", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:audio/mp3;base64,AAAA", False),
        ("//records.example/a.mp3", False),
        ("https:/a.mp3", False),
        ("https://records.example/a\n.mp3", False),
        ("", False),
        (None, False),
    ],
)
def test_playable_addresses(url: str | None, ok: bool) -> None:
    assert playable(url) is ok


def test_edited_prices_become_checked_changes(calls: Calls) -> None:
    rows = calls.listing(Filters()).rows  # 4, 3, 2, 1; only 1 has a price (1000)
    edited = editor_table(rows)
    edited.loc["4", "lead_price"] = 500.0
    edited.loc["3", "lead_price"] = 12.5
    edited.loc["2", "lead_price"] = -1
    edited.loc["1", "lead_price"] = float("nan")
    assert price_changes(rows, edited) == [
        PriceChange("4", None, 500),
        PriceChange("3", None, None, "invalid"),
        PriceChange("2", None, None, "invalid"),
        PriceChange("1", 1000, None, "empty"),
    ]
    assert price_changes(rows, editor_table(rows)) == []


@pytest.mark.slow  # writes through the embedded Newton over HTTP
def test_saving_sends_each_valid_change_and_reports_each_row(tmp_path: Path, client: NewtonClient) -> None:
    path = tmp_path / "demo.duckdb"
    sync(client, Store(path), DEMO_USER_ID, now=NOW.replace(tzinfo=None))
    with connect(path) as con:
        (call_id,) = con.execute("SELECT id FROM records ORDER BY requestDate DESC LIMIT 1").fetchall()[0]
    writer = Writer(client, Store(path), DEMO_USER_ID, EDITOR)
    changes = [
        PriceChange(call_id, None, 2500),
        PriceChange("no-such-call", None, 100),
        PriceChange(call_id, None, None, "invalid"),  # refused before sending: skipped
    ]
    results = list(save_prices(writer, changes))
    assert [(r.call_id, r.price, r.saved) for r in results] == [(call_id, 2500, True), ("no-such-call", 100, False)]
    assert results[1].message == "id: Звонок не найден"
    with connect(path) as con:
        assert con.execute("SELECT leadPrice FROM records WHERE id = ?", [call_id]).fetchall() == [(2500,)]
        outcomes = con.execute("SELECT outcome FROM write_log ORDER BY written_at, outcome").fetchall()
    assert sorted(outcomes) == [("ok",), ("refused",)]
