"""Lost leads on a real cache file with hand-built records: who missed a callback, whether we reached them, marks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard.api import Department, Widget
from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.errors import InvalidInput
from dashboard.lost_leads import open_lost_leads
from dashboard.metrics import Filters, Period
from dashboard.store import Store, data, marks, schema
from dashboard.timezones import zone_named

ACCOUNT = "acc"
MOSCOW = zone_named("Europe/Moscow")
NOW = datetime(2026, 3, 10, 12, 0)  # naive UTC
MARCH = Period(date(2026, 3, 1), date(2026, 3, 9))
ME = OUR_CALLBACK_REFERER


def rec(rid: str, when: str, phone: str | None, status: str | None = "CLIENT_MISSED", **more: Any) -> dict[str, Any]:
    """A callback requested at `when` (UTC) by `phone`, ended with `status` (None: no status yet)."""
    return {"id": rid, "type": "callback", "requestDate": when, "clientPhone": phone, "callStatus": status,
            "widgetId": "w1", "departmentId": "s", **more}  # fmt: skip


RECORDS = [
    # One caller typing the phone three ways; the first request of the period (a call, utm "first") names the source.
    rec("a0", "2026-02-20 07:00:00", "+79991112233", "CLIENT_ANSWER", landingUtmSource="before", leadPrice="900"),
    rec(
        "a1",
        "2026-03-01 06:00:00",
        "8 (999) 111-22-33",
        None,
        type="call",
        landingUtmSource="first",
        widgetId="w2",
        leadPrice="100",
    ),
    rec("a2", "2026-03-02 07:00:00", "+7 999 111-22-33", landingUtmSource="later", leadPrice="50"),
    rec("a3", "2026-03-03 07:00:00", "9991112233", landingUtmSource="later"),
    rec("a4", "2026-03-03 07:05:00", "7-999-111-22-33", "CLIENT_ANSWER"),  # reached 300 s after the last miss
    # A miss, then only a callback still pending (less than 24 hours before NOW): lost.
    rec("b1", "2026-03-04 07:00:00", "79992223344"),
    rec("b2", "2026-03-10 11:00:00", "79992223344", None),
    # A value that is no phone forms its own caller; a record without a phone is no caller.
    rec("c1", "2026-03-05 07:00:00", "call me maybe"),
    rec("n1", "2026-03-05 08:00:00", "   "),
    # Missed, then our own call back answered: reached; our record is no request of the caller's.
    rec("d1", "2026-03-06 07:00:00", "+79993334455", landingUtmSource="ads"),
    rec("d2", "2026-03-06 07:10:00", "+79993334455", "CLIENT_ANSWER", landingUrl=ME, leadPrice="5000"),
    # Missed, then our own call back missed: still one miss, at the caller's time, lost.
    rec("e1", "2026-03-07 07:00:00", "+79994445566"),
    rec("e2", "2026-03-07 07:30:00", "+79994445566", landingUrl=ME),
    # Our call back missed to a phone that never missed: no lost lead.
    rec("f1", "2026-03-07 08:00:00", "+79995556677", landingUrl=ME),
    # A miss reached only after the period (still up to now) is reached.
    rec("g1", "2026-03-09 20:00:00", "+79996667788"),
    rec("g2", "2026-03-10 09:00:00", "+79996667788", "CLIENT_ANSWER"),
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "cache.duckdb")
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": RECORDS}), NOW)
    widgets = [Widget("w1", "Main site", (Department("s", "Sales"),)), Widget("w2", "Landing", ())]
    store.write(data.replace_widgets, ACCOUNT, widgets, NOW)
    return store


def listed(store: Store, filters: Filters | None = None) -> dict[str, dict[str, Any]]:
    with open_lost_leads(store, ACCOUNT, MOSCOW) as lost:
        frame = lost.callers_with_misses(filters or Filters(period=MARCH, as_of=NOW))
    return {row["phone"]: row for row in frame.iter_rows(named=True)}


def summary(store: Store, filters: Filters | None = None) -> dict[str, Any]:
    with open_lost_leads(store, ACCOUNT, MOSCOW) as lost:
        return lost.summary(filters or Filters(period=MARCH, as_of=NOW))


def test_every_way_of_typing_a_phone_is_one_caller_with_its_misses_and_first_source(store: Store) -> None:
    caller = listed(store)["+79991112233"]

    assert caller["missed"] == 2
    assert caller["last_missed_at"] == datetime(2026, 3, 3, 10, 0)  # local Moscow time
    assert (caller["reached"], caller["reached_after_seconds"]) == (True, 300)
    # The first request in the period: the call of 1 March on the landing widget, not the miss or February's.
    assert (caller["utm_source"], caller["widget"]) == ("first", "Landing")
    assert caller["lead_value"] == 150  # the period's requests only


def test_the_list_is_newest_miss_first_and_leaves_out_callers_who_never_missed(store: Store) -> None:
    assert list(listed(store)) == [
        "+79996667788", "+79994445566", "+79993334455", "call me maybe", "+79992223344", "+79991112233",
    ]  # fmt: skip


def test_a_pending_callback_after_a_miss_is_no_miss_and_reaches_nobody(store: Store) -> None:
    caller = listed(store)["+79992223344"]
    assert (caller["missed"], caller["reached"], caller["reached_after_seconds"]) == (1, False, None)


def test_our_call_back_answered_reaches_the_caller_and_is_not_their_request(store: Store) -> None:
    caller = listed(store)["+79993334455"]
    assert (caller["reached"], caller["reached_after_seconds"]) == (True, 600)
    assert (caller["utm_source"], caller["lead_value"]) == ("ads", 0)


def test_our_call_back_missed_is_no_miss(store: Store) -> None:
    caller = listed(store)["+79994445566"]
    assert (caller["missed"], caller["last_missed_at"], caller["reached"]) == (1, datetime(2026, 3, 7, 10, 0), False)
    assert "+79995556677" not in listed(store)


def test_a_caller_reached_after_the_period_up_to_now_is_reached_but_not_after_now(store: Store) -> None:
    assert listed(store)["+79996667788"]["reached"] is True
    earlier = Filters(period=MARCH, as_of=datetime(2026, 3, 10, 8, 0))
    assert listed(store, earlier)["+79996667788"]["reached"] is False


def test_summary_counts_every_caller_once_and_the_missed_requests_without_a_phone(store: Store) -> None:
    assert summary(store) == {
        "missed_callers": 6, "reached": 3, "lost": 3, "marked": 0, "recovery_rate": 0.5,
        "recovery_median_seconds": 600.0, "missed_without_phone": 1,
    }  # fmt: skip


def test_a_mark_takes_the_caller_off_the_lost_list_until_a_newer_miss(store: Store) -> None:
    marked_at = datetime(2026, 3, 8, 9, 0)
    store.write(marks.mark_phone, ACCOUNT, "+79994445566", "spam", "ann@example.com", marked_at)

    caller = listed(store)["+79994445566"]
    shown_at = datetime(2026, 3, 8, 12, 0)  # in local time, like the misses
    assert (caller["mark"], caller["marked_by"], caller["marked_at"]) == ("spam", "ann@example.com", shown_at)
    numbers = summary(store)
    assert (numbers["lost"], numbers["marked"], numbers["recovery_rate"]) == (2, 1, 0.6)

    store.write(data.upsert_records, ACCOUNT, parse_records({"records": [rec("e3", "2026-03-08 10:00:00",
                                                                              "89994445566")]}), NOW)  # fmt: skip
    reopened = listed(store)["+79994445566"]
    assert (reopened["missed"], reopened["mark"]) == (2, None)
    assert summary(store)["lost"] == 3

    store.write(marks.mark_phone, ACCOUNT, "+79994445566", "handled_elsewhere", "bob", datetime(2026, 3, 9))
    store.write(marks.unmark_phone, ACCOUNT, "+79994445566")
    assert listed(store)["+79994445566"]["mark"] is None


def test_a_mark_gives_the_data_a_new_version_and_a_bad_kind_is_refused(store: Store) -> None:
    before = store.read(schema.data_version)
    store.write(marks.mark_phone, ACCOUNT, "+79992223344", "not_a_lead", "ann", NOW)
    assert store.read(schema.data_version) != before

    with pytest.raises(InvalidInput) as refused:
        store.write(marks.mark_phone, ACCOUNT, "+79992223344", "friend", "ann", NOW)
    assert "kind" in refused.value.fields
    assert listed(store)["+79992223344"]["mark"] == "not_a_lead"


def test_the_sidebar_filters_narrow_the_misses(store: Store) -> None:
    only_ads = Filters(period=MARCH, chosen={"utm_source": ("ads",)}, as_of=NOW)
    assert list(listed(store, only_ads)) == ["+79993334455"]
    assert listed(store, only_ads)["+79993334455"]["reached"] is True  # reached whatever the filters


def test_lost_per_day_counts_the_lost_by_the_local_day_of_their_last_miss(store: Store) -> None:
    with open_lost_leads(store, ACCOUNT, MOSCOW) as lost:
        per_day = lost.lost_per_day(Filters(period=MARCH, as_of=NOW))
    assert per_day.select("day", "lost").rows() == [
        (date(2026, 3, 4), 1), (date(2026, 3, 5), 1), (date(2026, 3, 7), 1),
    ]  # fmt: skip


def test_speed_by_department_gives_the_recovery_of_its_missed_callers(store: Store) -> None:
    with open_lost_leads(store, ACCOUNT, MOSCOW) as lost:
        table = lost.speed_by(Filters(period=MARCH, as_of=NOW), "department")
    sales = table.filter(table["department"] == "Sales").row(0, named=True)
    assert (sales["missed_callers"], sales["reached"], sales["recovery_rate"]) == (6, 3, 0.5)


def test_the_comparison_gives_both_periods(store: Store) -> None:
    with open_lost_leads(store, ACCOUNT, MOSCOW) as lost:
        compared = lost.compare(Filters(period=MARCH, as_of=NOW), "previous")
    row = compared.filter(compared["metric"] == "missed_callers").row(0, named=True)
    assert (row["current"], row["previous"], row["comparable"]) == (6, 0, False)
