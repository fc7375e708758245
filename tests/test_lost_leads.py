"""Lost leads on a real cache file with hand-built records: who missed a callback, whether we reached them, marks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard import lost_leads, reports
from dashboard.access import Person, Role
from dashboard.api import Department, Widget
from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.errors import InvalidInput, NotAllowed
from dashboard.lost_leads import open_lost_leads
from dashboard.metrics import Definitions, Filters, Metrics, Period
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


def _filled(path: Path) -> Store:
    store = Store(path)
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": RECORDS}), NOW)
    widgets = [Widget("w1", "Main site", (Department("s", "Sales"),)), Widget("w2", "Landing", ())]
    store.write(data.replace_widgets, ACCOUNT, widgets, NOW)
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The records above, for the tests that only read them."""
    return _filled(tmp_path_factory.mktemp("lost") / "cache.duckdb")


@pytest.fixture
def fresh(tmp_path: Path) -> Store:
    """The records above in a cache of the test's own, for the tests that mark phones."""
    return _filled(tmp_path / "cache.duckdb")


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


def test_call_back_now_and_the_player_get_each_value_from_the_newest_request_that_has_it(tmp_path: Path) -> None:
    """The last try's widget, department, page and recording: each the newest the caller's requests in the period
    have (a later request without a recording does not hide an earlier one's); ties at one second go by id."""
    store = Store(tmp_path / "cache.duckdb")
    caller = [
        rec("p1", "2026-03-02 07:00:00", "+79990001122", conversationFile="https://rec.example/p1.mp3",
            landingUrl="https://shop.example/one"),
        rec("p3", "2026-03-04 07:00:00", "+79990001122", departmentId=None, widgetId="w2"),
        rec("p2", "2026-03-04 07:00:00", "+79990001122", "CLIENT_ANSWER", departmentId="t", widgetId="w1"),
        rec("q1", "2026-03-05 07:00:00", "+79990009999", "CLIENT_ANSWER"),  # never missed: not listed
    ]  # fmt: skip
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": caller}), NOW)
    (row,) = listed(store).values()
    assert (row["last_request_id"], row["last_widget_id"]) == ("p3", "w2")  # p3 sorts after p2 at the same second
    assert row["last_department_id"] == "t"  # p3 has none: p2's
    assert (row["last_landing_page"], row["last_recording"]) == (
        "https://shop.example/one",
        "https://rec.example/p1.mp3",
    )
    assert (row["missed"], row["reached"]) == (2, False)  # p2 was answered before p3 was missed


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


def test_a_mark_takes_the_caller_off_the_lost_list_until_a_newer_miss(fresh: Store) -> None:
    marked_at = datetime(2026, 3, 8, 9, 0)
    fresh.write(marks.mark_phone, ACCOUNT, "+79994445566", "spam", "ann@example.com", marked_at)

    caller = listed(fresh)["+79994445566"]
    shown_at = datetime(2026, 3, 8, 12, 0)  # in local time, like the misses
    assert (caller["mark"], caller["marked_by"], caller["marked_at"]) == ("spam", "ann@example.com", shown_at)
    numbers = summary(fresh)
    assert (numbers["lost"], numbers["marked"], numbers["recovery_rate"]) == (2, 1, 0.6)

    fresh.write(data.upsert_records, ACCOUNT, parse_records({"records": [rec("e3", "2026-03-08 10:00:00",
                                                                              "89994445566")]}), NOW)  # fmt: skip
    reopened = listed(fresh)["+79994445566"]
    assert (reopened["missed"], reopened["mark"]) == (2, None)
    assert summary(fresh)["lost"] == 3

    fresh.write(marks.mark_phone, ACCOUNT, "+79994445566", "handled_elsewhere", "bob", datetime(2026, 3, 9))
    fresh.write(marks.unmark_phone, ACCOUNT, "+79994445566")
    assert listed(fresh)["+79994445566"]["mark"] is None


def test_a_mark_gives_the_data_a_new_version_and_a_bad_kind_is_refused(fresh: Store) -> None:
    before = fresh.read(schema.data_version)
    fresh.write(marks.mark_phone, ACCOUNT, "+79992223344", "not_a_lead", "ann", NOW)
    assert fresh.read(schema.data_version) != before

    with pytest.raises(InvalidInput) as refused:
        fresh.write(marks.mark_phone, ACCOUNT, "+79992223344", "friend", "ann", NOW)
    assert "kind" in refused.value.fields
    assert listed(fresh)["+79992223344"]["mark"] == "not_a_lead"


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


def test_report_speed_by_widget_ends_with_the_recovery_of_its_missed_callers(store: Store) -> None:
    with store.reading() as reading:
        metrics = Metrics(reading, ACCOUNT, Definitions(zone=MOSCOW))
        by_widget = reports.speed(metrics, Filters(period=MARCH, as_of=NOW), "widget")
        overall = reports.speed(metrics, Filters(period=MARCH, as_of=NOW))
    assert by_widget.columns[-2:] == ["missed_callers", "recovery_rate"]
    main = by_widget.filter(by_widget["widget"] == "Main site").row(0, named=True)
    assert (main["missed_callers"], main["recovery_rate"]) == (6, 0.5)
    assert overall.select("missed_callers", "recovery_rate").row(0) == (6, 0.5)


def test_only_editors_mark_and_a_refused_mark_changes_nothing(fresh: Store) -> None:
    viewer, editor = Person("val", Role.VIEWER), Person("ann", Role.EDITOR)
    with pytest.raises(NotAllowed):
        lost_leads.mark(fresh, ACCOUNT, viewer, "+79992223344", "spam", now=NOW)
    with pytest.raises(InvalidInput) as refused:
        lost_leads.mark(fresh, ACCOUNT, editor, "+79992223344", "", now=NOW)
    assert "kind" in refused.value.fields
    assert listed(fresh)["+79992223344"]["mark"] is None

    lost_leads.mark(fresh, ACCOUNT, editor, "+79992223344", "handled_elsewhere", now=NOW)
    assert (listed(fresh)["+79992223344"]["mark"], listed(fresh)["+79992223344"]["marked_by"]) == (
        "handled_elsewhere", "ann",
    )  # fmt: skip
    with pytest.raises(NotAllowed):
        lost_leads.unmark(fresh, ACCOUNT, viewer, "+79992223344")
    lost_leads.unmark(fresh, ACCOUNT, editor, "+79992223344")
    assert listed(fresh)["+79992223344"]["mark"] is None
