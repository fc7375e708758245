"""The demo account looks like a real business, and comes out the same every time."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard.demo import DemoNewton
from dashboard.demo.account import (
    EMOJI_COMMENT,
    EXTRA_KEY,
    HOSTILE_CHAT_TEXT,
    HOSTILE_COMMENT,
    HOSTILE_PHRASE_MINUS,
    HOSTILE_PHRASE_PLUS,
    HOSTILE_UTM_CAMPAIGN,
    HOSTILE_UTM_SOURCE,
    JAVASCRIPT_URL,
    LONG_UTM_TERM,
    OWNER_TEST_PHONE,
    PENDING_CALL_KEYS,
    RECORD_KEYS,
    RTL_UTM_CONTENT,
    DemoAccount,
    day_number,
)

NOW = datetime(2025, 6, 18, 13, 30, 5, tzinfo=UTC)
SIZE = 2_000
Record = dict[str, str | None]


def _newton(now: datetime = NOW, records: int = SIZE, seed: int = 42) -> DemoNewton:
    return DemoNewton(records=records, seed=seed, clock=lambda: now)


def _parse(text: str | None) -> datetime:
    assert text is not None
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return _newton().records_snapshot()


def _calls(records: list[Record]) -> list[Record]:
    return [r for r in records if r["callStatus"] is not None]


# ---------------------------------------------------------------------------------------------- determinism


def test_the_same_seed_gives_the_same_records_and_chats() -> None:
    first, second = _newton(), _newton()
    assert first.records_snapshot() == second.records_snapshot()
    assert first.chats_snapshot() == second.chats_snapshot()


def test_another_seed_gives_another_account() -> None:
    assert _newton(seed=1).records_snapshot() != _newton(seed=2).records_snapshot()


def test_a_day_is_generated_alike_in_any_order_and_instance() -> None:
    day = date(2025, 5, 14)
    account = DemoAccount(seed=7, records=SIZE)
    account.generate_day(date(2025, 5, 20))  # generating another day first changes nothing
    again = DemoAccount(seed=7, records=SIZE).generate_day(day)
    assert [r.fields for r in account.generate_day(day).records] == [r.fields for r in again.records]


def test_ids_are_the_day_number_and_the_index_within_the_day(records: list[Record]) -> None:
    for record in records:
        rid = int(record["id"] or "")
        assert rid // 100_000 == day_number(_parse(record["requestDate"]).date())
    assert len({r["id"] for r in records}) == len(records)


def test_yesterdays_records_keep_their_ids_and_values_when_the_clock_moves_a_day() -> None:
    today = _newton(NOW).records_snapshot()
    tomorrow = {r["id"]: r for r in _newton(NOW + timedelta(days=1)).records_snapshot()}
    kept = [r for r in today if _parse(r["requestDate"]).date() >= NOW.date() - timedelta(days=178)]
    assert kept
    for record in kept:
        later = tomorrow[record["id"]]
        if record["callStatus"] is None and later["callStatus"] is not None:
            # A call still pending yesterday has happened since; nothing else about the record changed.
            assert {k: v for k, v in later.items() if k not in PENDING_CALL_KEYS} == {
                k: v for k, v in record.items() if k not in PENDING_CALL_KEYS
            }
        else:
            assert later == record


# ---------------------------------------------------------------------------------------------- size and time


def test_the_history_holds_about_the_requested_number_of_records(records: list[Record]) -> None:
    assert 0.8 * SIZE <= len(records) <= 1.2 * SIZE


def test_the_history_covers_the_last_180_days_and_nothing_in_the_future(records: list[Record]) -> None:
    requested = [_parse(r["requestDate"]) for r in records]
    assert max(requested) <= NOW
    assert min(requested).date() == NOW.date() - timedelta(days=179)
    # A call still to come (deferred, or ringing) shows as pending: no callDate yet.
    assert all(_parse(r["callDate"]) <= NOW for r in records if r["callDate"] is not None)


def test_records_come_ordered_by_request_date_then_id(records: list[Record]) -> None:
    keys = [(r["requestDate"], int(r["id"] or "")) for r in records]
    assert keys == sorted(keys)


def test_every_value_is_a_string_or_null_and_every_documented_field_is_there(records: list[Record]) -> None:
    for record in records:
        assert set(RECORD_KEYS) <= set(record)
        assert all(value is None or isinstance(value, str) for value in record.values())


def test_more_requests_on_weekdays_and_at_midday_than_at_night_or_on_sundays(records: list[Record]) -> None:
    moscow = [_parse(r["requestDate"]) + timedelta(hours=3) for r in records]
    by_weekday = Counter(m.weekday() for m in moscow)
    by_hour = Counter(m.hour for m in moscow)
    assert by_weekday[1] > 2 * by_weekday[6]
    assert by_hour[12] > 5 * by_hour[3]


# ---------------------------------------------------------------------------------------------- a plausible mix


def test_traffic_comes_from_search_ads_social_email_referrals_and_direct(records: list[Record]) -> None:
    kinds = Counter(r["landingReferrerType"] for r in records)
    assert {"yandex.search", "google.search", "social", "email", "referral", "direct"} <= set(kinds)
    mediums = Counter(r["landingUtmMedium"] for r in records)
    assert mediums["cpc"] > 0.15 * len(records)
    campaigns = {r["landingUtmCampaign"] for r in records}
    assert {"brand_msk", "generic_msk", "remarketing"} <= campaigns
    assert any(r["landingOpenstatService"] == "direct.yandex.ru" for r in records)
    assert any("utm_source=yandex" in (r["landingUrl"] or "") for r in records)
    assert any(re.search("[\u0430-\u044f]", r["landingSearchPhrase"] or "") for r in records)  # Russian phrases


def test_most_calls_are_answered_with_every_other_outcome_present(records: list[Record]) -> None:
    calls = _calls(records)
    answered = sum(r["callStatus"] == "CLIENT_ANSWER" for r in calls)
    assert 0.6 <= answered / len(calls) <= 0.95
    statuses = {r["callStatus"] for r in calls}
    assert {"CLIENT_NO_ANSWER", "OPERATOR_NO_ANSWER", "CLIENT_BUSY", "OPERATOR_BUSY", "FAILED"} <= statuses


def test_answered_calls_have_talk_time_and_a_recording(records: list[Record]) -> None:
    answered = [r for r in _calls(records) if r["callStatus"] == "CLIENT_ANSWER"]
    talk = [int(r["callDurationClient"] or "") for r in answered]
    assert min(talk) > 0
    assert 45 <= statistics.median(talk) <= 180
    assert all(int(r["callDurationOperator"] or "") >= int(r["callDurationClient"] or "") for r in answered)
    recorded = [r for r in answered if r["conversationFile"]]
    assert len(recorded) > 0.9 * len(answered)
    assert all(r["callAttempt"] in ("1", "2", "3") for r in answered)


def test_unanswered_calls_have_no_client_talk_time(records: list[Record]) -> None:
    missed = [r for r in _calls(records) if r["callStatus"] != "CLIENT_ANSWER"]
    assert missed
    assert all(r["callDurationClient"] in ("0", None) for r in missed)


def test_most_callbacks_come_within_a_minute_with_a_tail_of_minutes(records: list[Record]) -> None:
    speeds = [
        (_parse(r["callDate"]) - _parse(r["requestDate"])).total_seconds()
        for r in _calls(records)
        if r["delayDate"] is None and r["callAttempt"] == "1"
    ]
    assert statistics.median(speeds) <= 60
    assert max(speeds) > 180


def test_requests_after_hours_are_deferred_to_the_next_opening(records: list[Record]) -> None:
    deferred = [r for r in records if r["delayDate"] is not None]
    assert 0.05 * len(records) <= len(deferred) <= 0.4 * len(records)
    for record in deferred:
        opening = _parse(record["delayDate"]) + timedelta(hours=3)
        assert (opening.hour, opening.minute, opening.second) in ((9, 0, 0), (10, 0, 0))
        assert _parse(record["delayDate"]) > _parse(record["requestDate"])
        if record["callDate"] is not None:
            assert _parse(record["callDate"]) >= _parse(record["delayDate"])


def test_applications_lead_prices_comments_and_repeat_callers(records: list[Record]) -> None:
    applications = [r for r in records if r["type"] == "application"]
    assert 0.06 * len(records) <= len(applications) <= 0.14 * len(records)
    assert all(r["callStatus"] is None and r["callDate"] is None for r in applications)
    assert any((r["comment"] or "").startswith("Имя: ") for r in applications)
    priced = [r for r in records if r["leadPrice"] is not None]
    assert 0.05 * len(records) <= len(priced) <= 0.2 * len(records)
    assert all((r["leadPrice"] or "").isdigit() for r in priced)
    assert any(r["leadPrice"] == "0" for r in priced)
    assert any(r["comment"] for r in records if r["type"] == "callback")
    phones = Counter(r["clientPhone"] for r in records)
    assert sum(1 for count in phones.values() if count > 1) > 20
    assert OWNER_TEST_PHONE in phones


def test_visitors_look_like_visitors(records: list[Record]) -> None:
    assert {"0", "1", "2"} <= {r["userAgentDeviceType"] for r in records}
    cities = Counter(r["ipCity"] for r in records)
    assert cities.most_common(2)[0][0] == "Москва"
    assert cities["Санкт-Петербург"] > 0
    assert cities[None] > 0
    assert Counter(r["ipCountry"] for r in records).most_common(1)[0][0] == "RU"


def test_chats_alternate_between_client_and_operator() -> None:
    newton = _newton()
    chats = newton.chats_snapshot()
    assert len(newton.records_snapshot()) / 6 <= len(chats) <= len(newton.records_snapshot()) / 2.5
    assert len({c["operator"] for c in chats if c["operator"]}) >= 4
    assert any(c["operator"] is None for c in chats)
    for chat in chats:
        assert all(isinstance(m["from"], bool) for m in chat["messages"])
        assert [m["time"] for m in chat["messages"]] == sorted(m["time"] for m in chat["messages"])
        assert all(_parse(m["time"]) <= NOW for m in chat["messages"])
    answered = [c for c in chats if c["operator"] and len(c["messages"]) >= 2]
    assert answered
    assert any(not m["from"] for c in answered for m in c["messages"])


# ---------------------------------------------------------------------------------------------- hostile values


def test_the_values_real_visitors_produce_are_all_there(records: list[Record]) -> None:
    def somewhere(key: str, value: str) -> bool:
        return any(r.get(key) == value for r in records)

    assert somewhere("landingUtmSource", HOSTILE_UTM_SOURCE)
    assert somewhere("landingUtmCampaign", HOSTILE_UTM_CAMPAIGN)
    assert somewhere("landingSearchPhrase", HOSTILE_PHRASE_PLUS)
    assert somewhere("landingSearchPhrase", HOSTILE_PHRASE_MINUS)
    assert somewhere("landingUrl", JAVASCRIPT_URL)
    assert somewhere("conversationFile", JAVASCRIPT_URL)
    assert somewhere("comment", HOSTILE_COMMENT)
    assert somewhere("comment", EMOJI_COMMENT)
    assert somewhere("landingUtmContent", RTL_UTM_CONTENT)
    assert somewhere("landingUtmTerm", LONG_UTM_TERM)
    assert len(LONG_UTM_TERM) == 5000
    assert "\u202e" in RTL_UTM_CONTENT
    assert any(EXTRA_KEY in r for r in records)


def test_a_chat_message_carries_a_javascript_link() -> None:
    texts = [m["text"] for chat in _newton().chats_snapshot() for m in chat["messages"]]
    assert HOSTILE_CHAT_TEXT in texts
