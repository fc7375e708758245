"""Each metric on small hand-made records, with the expected numbers worked out by hand in the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dashboard.api import ChatMessage, ChatSession, Department, Widget
from dashboard.api.records import parse_records
from dashboard.errors import InvalidInput
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.results import ResultCache, ResultScope
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import connect, transaction

ACCOUNT = "acc"


def record(rid: str, **fields: Any) -> dict[str, Any]:
    base = {"id": rid, "type": "callback", "requestDate": "2026-03-02 07:00:00", "widgetId": "w1"}
    return {**base, **fields}


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    """Builds a cache from records (and chats) and yields an open connection to it."""
    opened: list[Any] = []

    def build(records: list[dict[str, Any]], chats: Sequence[ChatSession] = ()) -> duckdb.DuckDBPyConnection:
        path = tmp_path / f"c{len(opened)}.duckdb"
        with transaction(path) as con:
            widgets = [Widget("w1", "Основной сайт", (Department("d1", "Продажи"),)), Widget("w2", "Лендинг", ())]
            data.replace_widgets(con, ACCOUNT, widgets, utc_now())
            data.upsert_records(con, ACCOUNT, parse_records({"records": records}), utc_now())
            data.upsert_chats(con, ACCOUNT, [(c, "w1") for c in chats], utc_now())
        context = connect(path)
        con = context.__enter__()
        opened.append(context)
        return con

    yield build
    for context in opened:
        context.__exit__(None, None, None)


HAND_MADE = [
    record("1", callStatus="CLIENT_ANSWER", callDurationClient="60", leadPrice="1000",
           requestDate="2026-03-02 07:00:00", callDate="2026-03-02 07:00:20"),
    record("2", callStatus="CLIENT_ANSWER", callDurationClient="120",
           requestDate="2026-03-02 08:00:00", callDate="2026-03-02 08:01:00"),
    record("3", callStatus="CLIENT_NO_ANSWER", callDurationClient="0", leadPrice="0",
           requestDate="2026-03-02 09:00:00", callDate="2026-03-02 09:10:00"),
    record("4", callStatus=None),  # still pending: no status yet
    record("5", type="application", callStatus=None, leadPrice="500"),
    record("6", callStatus="CLIENT_ANSWER", callDurationClient="", delayDate="2026-03-03 06:00:00",
           requestDate="2026-03-02 19:00:00", callDate="2026-03-03 06:00:05"),  # deferred to the morning
]  # fmt: skip


# Five hours after the first request: record 4, requested at 07:00 UTC with no status yet, is still pending.
SAME_DAY = Filters(as_of=datetime(2026, 3, 2, 12, 0))


def test_headline_numbers(make: Any) -> None:
    numbers = Metrics(make(HAND_MADE), ACCOUNT).headline(SAME_DAY)
    assert numbers == {
        "requests": 6,
        "callbacks": 5,
        "answered": 3,  # 1, 2 and 6
        "missed": 1,  # 3
        "pending": 1,  # 4, which has no status yet: neither answered nor missed
        "answer_rate": pytest.approx(0.75),  # 3 / (3 + 1)
        "avg_talk_seconds": pytest.approx(90.0),  # (60 + 120) / 2; 6 has no duration
        "median_talk_seconds": pytest.approx(90.0),
        "lead_value": 1500,
        "priced_leads": 3,  # a price of 0 counts
        "avg_lead_value": pytest.approx(500.0),
        "speed_measured": 3,  # 6 was deferred, 4 not called yet
        "speed_median_seconds": pytest.approx(60.0),
        "speed_p90_seconds": pytest.approx(492.0),  # 60 + 0.8 * (600 - 60)
        "within_30s_share": pytest.approx(1 / 3),
        "within_5min_share": pytest.approx(2 / 3),
        "callers": 0,  # no record has a phone: no caller to count
        "new_callers": 0,
        "repeat_callers": 0,
    }


def test_a_callback_without_a_status_is_pending_for_24_hours_then_missed(make: Any) -> None:
    metrics = Metrics(make(HAND_MADE), ACCOUNT)
    counted = [
        (row["missed"], row["pending"], row["answer_rate"])
        for as_of in (datetime(2026, 3, 3, 6, 59, 59), datetime(2026, 3, 3, 7, 0))
        for row in [metrics.headline(Filters(as_of=as_of))]
    ]
    # 24 hours after its request (to the minute), record 4 is a call that never happened: a loss, not a wait.
    assert counted == [(1, 1, 0.75), (2, 0, 0.6)]


def test_a_deferred_callback_waits_24_hours_from_the_time_it_was_deferred_to(make: Any) -> None:
    records = [
        record("1", requestDate="2026-03-06 18:00:00", delayDate="2026-03-09 06:00:00"),  # Friday night → Monday
        record("2", requestDate="2026-03-06 18:00:00", callStatus="  "),  # a blank status is no status
        record("3", requestDate="2026-03-06 18:00:00", callStatus="SOMETHING_NEW"),  # an unknown result is a result
    ]
    on_sunday = Metrics(make(records), ACCOUNT).headline(Filters(as_of=datetime(2026, 3, 8, 12, 0)))
    assert (on_sunday["answered"], on_sunday["missed"], on_sunday["pending"]) == (0, 2, 1)
    assert on_sunday["answer_rate"] == 0.0


def test_a_status_of_any_space_is_no_status_and_a_padded_one_is_a_result(make: Any) -> None:
    statuses = ["", "\u00a0\t", "\u2003", "\x85", " CLIENT_NO_ANSWER\u00a0", "\tCLIENT_ANSWER "]
    records = [record(str(n), requestDate="2026-03-06 18:00:00", callStatus=s) for n, s in enumerate(statuses)]
    numbers = Metrics(make(records), ACCOUNT).headline(Filters(as_of=datetime(2026, 3, 6, 20, 0)))
    # Four blank statuses wait for their result; the padded ones are results, and neither is a success status.
    assert (numbers["pending"], numbers["missed"], numbers["answered"]) == (4, 2, 0)


def test_only_pending_callbacks_give_an_empty_answer_rate(make: Any) -> None:
    numbers = Metrics(make([record("1")]), ACCOUNT).headline(Filters(as_of=datetime(2026, 3, 2, 7, 30)))
    assert (numbers["callbacks"], numbers["pending"], numbers["missed"], numbers["answer_rate"]) == (1, 1, 0, None)


def test_no_callbacks_gives_an_empty_answer_rate_not_zero(make: Any) -> None:
    numbers = Metrics(make([record("1", type="application")]), ACCOUNT).headline(Filters())
    assert (numbers["requests"], numbers["callbacks"], numbers["answer_rate"]) == (1, 0, None)
    assert numbers["speed_median_seconds"] is None and numbers["avg_lead_value"] is None
    assert numbers["lead_value"] == 0


def test_the_success_statuses_are_configurable(make: Any) -> None:
    lenient = Definitions(success_statuses=frozenset({"CLIENT_ANSWER", "CLIENT_NO_ANSWER"}))
    assert Metrics(make(HAND_MADE), ACCOUNT, lenient).headline(Filters())["answered"] == 4


@pytest.mark.parametrize(
    ("fields", "channel"),
    [
        ({"landingUtmMedium": "cpc", "landingUtmSource": "yandex"}, "paid_search"),
        ({"landingUtmMedium": " CPC "}, "paid_search"),
        ({"landingUtmMedium": "paid_social"}, "paid_search"),
        ({"landingOpenstatService": "direct.yandex.ru"}, "paid_search"),
        ({"landingReferrerType": "ad"}, "paid_search"),
        ({"landingReferrerType": "google.search", "landingUtmMedium": "ppc"}, "paid_search"),
        ({"landingUtmMedium": "email", "landingUtmSource": "newsletter"}, "email"),
        ({"landingReferrerType": "email"}, "email"),
        ({"landingUtmMedium": "social", "landingUtmSource": "vk"}, "social"),
        ({"landingReferrerType": "social"}, "social"),
        ({"landingReferrer": "https://vk.com/feed"}, "social"),
        (
            {"landingReferrerType": "yandex.search", "landingReferrer": "https://yandex.ru/search/?text=x"},
            "organic_search",
        ),
        ({"landingReferrer": "https://www.google.com/"}, "organic_search"),
        ({"landingReferrerType": "referral", "landingReferrer": "https://yandex.ru/maps/"}, "referral"),
        ({"landingReferrer": "https://partner.example/catalog", "landingUrl": "https://shop.example/"}, "referral"),
        ({"landingUtmMedium": "referral"}, "referral"),
        ({}, "direct"),
        ({"landingReferrerType": "direct"}, "direct"),
        ({"landingReferrer": "https://shop.example/a", "landingUrl": "https://www.shop.example/b"}, "direct"),
        ({"landingUtmMedium": "banner"}, "other"),
        ({"landingUtmSource": "qr-code"}, "other"),
    ],
)
def test_channel_rules(make: Any, fields: dict[str, str], channel: str) -> None:
    table = Metrics(make([record("1", **fields)]), ACCOUNT).breakdown(Filters(), "channel")
    assert table["channel"].to_list() == [channel]


def test_dimension_values_are_cleaned_and_empty_ones_grouped(make: Any) -> None:
    records = [
        record("1", landingUtmSource="  ", landingUrl="https://shop.example/sale?utm_source=x#top",
               landingReferrer="https://WWW.Partner.example/a", userAgentDeviceType="1", departmentId="d1"),
        record("2", landingUtmSource=None, landingUrl="https://shop.example/sale", userAgentDeviceType="0"),
        record("3", landingUtmSource="yandex", userAgentDeviceType="7", widgetId="unknown-widget"),
    ]  # fmt: skip
    metrics = Metrics(make(records), ACCOUNT)

    def groups(dimension: str) -> dict[str, int]:
        return dict(metrics.breakdown(Filters(), dimension).select(dimension, "requests").iter_rows())

    assert groups("utm_source") == {"(none)": 2, "yandex": 1}
    assert groups("landing_page") == {"https://shop.example/sale": 2, "(none)": 1}
    assert groups("referrer_host") == {"partner.example": 1, "(none)": 2}
    assert groups("device_type") == {"mobile": 1, "desktop": 1, "7": 1}
    assert groups("widget") == {"Основной сайт": 2, "unknown-widget": 1}
    assert groups("department") == {"Продажи": 1, "(none)": 2}


def test_breakdown_rows_are_by_requests_then_name_and_a_cross_tab_has_both(make: Any) -> None:
    pairs = [("b", "Москва"), ("a", "Москва"), ("b", "Казань"), ("c", "Москва")]
    records = [record(str(i), landingUtmSource=s, ipCity=c) for i, (s, c) in enumerate(pairs)]
    metrics = Metrics(make(records), ACCOUNT)
    assert metrics.breakdown(Filters(), "utm_source")["utm_source"].to_list() == ["b", "a", "c"]
    cross = metrics.breakdown(Filters(), "city", "utm_source")
    assert cross.select("city", "utm_source", "requests").rows() == [
        ("Казань", "b", 1), ("Москва", "a", 1), ("Москва", "b", 1), ("Москва", "c", 1),
    ]  # fmt: skip


def test_an_unknown_dimension_is_refused_by_name(make: Any) -> None:
    with pytest.raises(InvalidInput, match="unknown dimension 'utm_sauce'"):
        Metrics(make(HAND_MADE), ACCOUNT).breakdown(Filters(), "utm_sauce")


def test_filters_narrow_every_number(make: Any) -> None:
    records = [record("1", landingUtmSource="yandex", landingUtmMedium="cpc"), record("2", landingUtmSource=""),
               record("3", landingUtmSource="google", landingUtmMedium="cpc", type="application")]  # fmt: skip
    metrics = Metrics(make(records), ACCOUNT)
    assert metrics.headline(Filters(chosen={"utm_source": ("(none)",)}))["requests"] == 1
    assert metrics.headline(Filters(chosen={"channel": ("paid_search",)}))["requests"] == 2
    assert metrics.headline(Filters(chosen={"channel": ("paid_search",), "type": ("callback",)}))["requests"] == 1
    assert metrics.headline(Filters(chosen={"widget": ("Лендинг",)}))["requests"] == 0


# Time -------------------------------------------------------------------------------------------------------


def test_a_call_at_21_00_utc_is_on_the_next_moscow_day(make: Any) -> None:
    records = [record("1", requestDate="2026-03-01 20:59:59"), record("2", requestDate="2026-03-01 21:00:00")]
    metrics = Metrics(make(records), ACCOUNT)
    assert metrics.headline(Filters(period=Period(date(2026, 3, 1), date(2026, 3, 1))))["requests"] == 1
    assert metrics.headline(Filters(period=Period(date(2026, 3, 2), date(2026, 3, 2))))["requests"] == 1
    utc = Metrics(metrics._con, ACCOUNT, Definitions(zone=ZoneInfo("UTC")))
    assert utc.headline(Filters(period=Period(date(2026, 3, 1), date(2026, 3, 1))))["requests"] == 2


def test_days_in_a_zone_with_daylight_saving(make: Any) -> None:
    # Berlin moves its clocks forward on 2026-03-29: that local day lasts 23 hours, 22:00 UTC the day before to 22:00.
    berlin = Definitions(zone=ZoneInfo("Europe/Berlin"))
    times = ["2026-03-28 22:59:59", "2026-03-28 23:00:00", "2026-03-29 21:59:59", "2026-03-29 22:00:00"]
    metrics = Metrics(make([record(str(i), requestDate=t) for i, t in enumerate(times)]), ACCOUNT, berlin)
    series = metrics.series(Filters(period=Period(date(2026, 3, 28), date(2026, 3, 30))), "day")
    assert series.select("period_start", "requests").rows() == [
        (date(2026, 3, 28), 1), (date(2026, 3, 29), 2), (date(2026, 3, 30), 1),
    ]  # fmt: skip


def test_series_have_no_gaps_and_weeks_start_on_monday(make: Any) -> None:
    records = [record("1", requestDate="2026-03-02 07:00:00"), record("2", requestDate="2026-03-05 07:00:00"),
               record("3", requestDate="2026-03-16 07:00:00", callStatus="CLIENT_ANSWER")]  # fmt: skip
    metrics = Metrics(make(records), ACCOUNT)
    daily = metrics.series(Filters(period=Period(date(2026, 3, 1), date(2026, 3, 7))), "day")
    assert daily["requests"].to_list() == [0, 1, 0, 0, 1, 0, 0]
    assert daily["answer_rate"].to_list()[:2] == [None, 0.0]
    weekly = metrics.series(Filters(period=Period(date(2026, 3, 2), date(2026, 3, 22))), "week")
    assert weekly.select("period_start", "requests", "answered").rows() == [
        (date(2026, 3, 2), 2, 0), (date(2026, 3, 9), 0, 0), (date(2026, 3, 16), 1, 1),
    ]  # fmt: skip
    monthly = metrics.series(Filters(), "month")
    assert monthly.select("period_start", "requests").rows() == [(date(2026, 3, 1), 3)]


def test_weekday_hour_matrix_is_local_and_complete(make: Any) -> None:
    # 2026-03-02 is a Monday; 06:30 UTC is 09:30 in Moscow.
    records = [record("1", requestDate="2026-03-02 06:30:00", callStatus="CLIENT_ANSWER"),
               record("2", requestDate="2026-03-02 06:45:00", callStatus="CLIENT_BUSY"),
               record("3", requestDate="2026-03-08 20:59:00", type="application")]  # fmt: skip
    # The last one is on Sunday, 23:59 in Moscow.
    matrix = Metrics(make(records), ACCOUNT).weekday_hour(Filters())
    assert matrix.height == 7 * 24
    cells = {(w, h): (n, rate) for w, h, n, rate in matrix.select("weekday", "hour", "requests", "answer_rate").rows()}
    assert cells[(1, 9)] == (2, 0.5)
    assert cells[(7, 23)] == (1, None)  # an application: no callbacks, so no answer rate
    assert cells[(3, 12)] == (0, None)


def test_comparison_with_the_period_before(make: Any) -> None:
    records = [record("1", requestDate="2026-03-01 07:00:00"), record("2", requestDate="2026-03-08 07:00:00"),
               record("3", requestDate="2026-03-09 07:00:00", callStatus="CLIENT_ANSWER")]  # fmt: skip
    compared = Metrics(make(records), ACCOUNT).compare(Filters(period=Period(date(2026, 3, 8), date(2026, 3, 14))))
    rows = {r["metric"]: r for r in compared.iter_rows(named=True)}
    assert (rows["requests"]["current"], rows["requests"]["previous"]) == (2, 1)
    assert rows["requests"]["change"] == 1 and rows["requests"]["relative_change"] == 1.0
    assert rows["answered"]["previous"] == 0 and rows["answered"]["relative_change"] is None
    assert rows["answer_rate"]["current"] == 0.5 and rows["answer_rate"]["change"] == 0.5


# Chats ------------------------------------------------------------------------------------------------------


def chat(client: str, operator: str | None, *messages: tuple[bool, str]) -> ChatSession:
    start = datetime(2026, 3, 2, 7, 0, 0)
    said = tuple(ChatMessage(who, "text", datetime.fromisoformat(f"2026-03-02 {t}")) for who, t in messages)
    return ChatSession(client, start, operator, "127.0.0.1", said)


def test_chat_metrics_by_operator(make: Any) -> None:
    chats = [
        # A greeting, the client's question, a reply 45 s later.
        chat("a", "Анна", (False, "07:00:00"), (True, "07:00:10"), (False, "07:00:55"), (True, "07:01:30")),
        chat("b", "Анна", (True, "07:00:00"), (False, "07:02:00")),  # 120 s
        chat("c", "Игорь", (True, "07:00:00")),  # nobody answered
        chat("d", "Игорь", (False, "07:00:00")),  # a greeting the visitor never answered: nothing to reply to
    ]
    metrics = Metrics(make([], chats), ACCOUNT)
    assert metrics.chat_summary(Filters()) == {
        "sessions": 4, "messages": 8, "unanswered_sessions": 1,
        "first_response_median": pytest.approx(82.5), "first_response_p90": pytest.approx(112.5),
    }  # fmt: skip
    operators = {r["operator"]: r for r in metrics.chat_operators(Filters()).iter_rows(named=True)}
    assert operators["Анна"]["first_response_median"] == 82.5 and operators["Анна"]["unanswered_sessions"] == 0
    assert operators["Игорь"]["unanswered_sessions"] == 1 and operators["Игорь"]["first_response_median"] is None


def test_a_message_without_a_time_does_not_shift_the_first_response(make: Any) -> None:
    start = datetime(2026, 3, 2, 7, 0, 0)
    session = ChatSession("x", start, "Анна", None, (
        ChatMessage(True, "q", datetime(2026, 3, 2, 7, 0, 1)),
        ChatMessage(False, "a", None),  # the first reply, its time lost
        ChatMessage(False, "b", datetime(2026, 3, 2, 7, 0, 20)),
    ))  # fmt: skip
    summary = Metrics(make([], [session]), ACCOUNT).chat_summary(Filters())
    assert summary["unanswered_sessions"] == 0  # it was answered
    assert summary["first_response_median"] is None  # but when is unknown, not 19 s


def test_tabs_and_line_breaks_around_a_value_are_trimmed(make: Any) -> None:
    records = [record("1", landingUtmSource="\tyandex\n"), record("2", landingUtmSource="yandex\u00a0"),
               record("3", landingUtmSource="\t ")]  # fmt: skip
    table = Metrics(make(records), ACCOUNT).breakdown(Filters(), "utm_source")
    assert dict(table.select("utm_source", "requests").iter_rows()) == {"yandex": 2, "(none)": 1}


def test_summed_lead_value_is_exact_whatever_the_optimiser_thinks(tmp_path: Path) -> None:
    # DuckDB 2.0.1 narrowed this sum to a single byte when no widgets were listed: 2000 came out as -48.
    records = [record(str(i), widgetId="gone", leadPrice="1000", landingUtmSource="yandex") for i in range(2)]
    path = tmp_path / "no-widgets.duckdb"
    with transaction(path) as con:
        data.upsert_records(con, ACCOUNT, parse_records({"records": records}), utc_now())
    with connect(path) as con:
        metrics = Metrics(con, ACCOUNT)
        by_source = metrics.breakdown(Filters(), "utm_source").select("utm_source", "lead_value").rows()
        by_widget = metrics.breakdown(Filters(), "widget").select("widget", "lead_value").rows()
    assert (by_source, by_widget) == ([("yandex", 2000)], [("gone", 2000)])


def test_a_record_without_a_readable_request_date_is_in_no_total(make: Any) -> None:
    metrics = Metrics(make([record("1"), record("2", requestDate="вчера")]), ACCOUNT)
    assert metrics.headline(Filters())["requests"] == 1
    assert metrics.series(Filters(), "day")["requests"].sum() == 1


def test_questions_asked_together_answer_as_asked_one_by_one_and_kept_answers_open_nothing(
    make: Any, tmp_path: Path
) -> None:
    make(HAND_MADE)  # the file c0.duckdb, kept open by the fixture as a page's neighbour would
    store = Store(tmp_path / "c0.duckdb")
    scope = ResultScope(ResultCache(), ("the store", "version 1"))
    filters = Filters(period=Period(date(2026, 3, 2), date(2026, 3, 3)), as_of=datetime(2026, 3, 2, 12, 0))
    questions: tuple[Callable[[Metrics], Any], ...] = (
        lambda m: m.compare(filters, "previous"),
        lambda m: m.breakdown(filters, "channel"),
        lambda m: m.series(filters, "day"),
        lambda m: m.ours(filters),
    )
    with store.reading() as reading:
        one_by_one = [question(Metrics(reading, ACCOUNT)) for question in questions]
    with store.reading() as reading:
        together = Metrics(reading, ACCOUNT, scope=scope).together(*questions)
    assert [answer.rows() if hasattr(answer, "rows") else answer for answer in together] == [
        answer.rows() if hasattr(answer, "rows") else answer for answer in one_by_one
    ]
    with store.reading() as reading:
        again = Metrics(reading, ACCOUNT, scope=scope).together(*questions)
        assert reading._con is None  # every answer was kept: the file was not even opened
    assert again[3] == together[3] == one_by_one[3]
