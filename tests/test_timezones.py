"""Local days, hours and weekdays come from one source of zone rules, for every zone there is.

Issue 11, item 4. Python's zoneinfo and DuckDB's ICU once disagreed by an hour for `America/Havana`, so a day
counted 44 or 48 requests depending on the range asked. Now the dashboard's zone rules are zoneinfo's, read from
the `tzdata` package; DuckDB gets UTC bounds and a table of UTC offsets. Here, one real DuckDB cache holds records
every 47 minutes over two years; for every zone, the local days of the range add up to the range, and each day
holds exactly the records that Python's zoneinfo puts on it, whether the day is asked alone or in the range.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dashboard import chats, datasets
from dashboard.api import ChatMessage, ChatSession
from dashboard.api.records import parse_records
from dashboard.errors import ConfigError
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.settings import load_timezone
from dashboard.store import data, utc_now
from dashboard.store.connection import connect
from dashboard.timezones import local_midnight_utc, utc_offsets, zone_names

ACCOUNT = "acc"
# Naive UTC, as the cache keeps it. The two years hold rule changes: in tzdata 2026 Cuba keeps summer time from
# November 2026 and Morocco's offset changes in September 2026, where DuckDB's ICU still has the old rules.
START = datetime(2025, 7, 1)
STEP = timedelta(minutes=47)  # not a divisor of an hour: over a day the records fall at every quarter of an hour
MOMENTS = [START + STEP * i for i in range(int(timedelta(days=731) / STEP))]
AWARE = [moment.replace(tzinfo=UTC) for moment in MOMENTS]
# Local days every record range covers whole, in every zone (offsets are within ±14 hours of UTC).
PERIOD = Period(date(2025, 7, 2), date(2027, 6, 30))
DAYS = [PERIOD.first + timedelta(days=i) for i in range(PERIOD.days)]
PERIOD_DAYS = frozenset(DAYS)
# Zones whose rules are odd in the two years: DST at midnight (Havana, Santiago, Asuncion's end of DST), half-hour
# DST (Lord Howe), quarter-hour offsets (Kathmandu, Chatham), a negative DST (Dublin), DST paused for Ramadan
# (Casablanca, Gaza), +2 hours DST (Troll), a zone that moved (Scoresbysund, 2024), and the everyday ones.
ODD_ZONES = (
    "America/Havana", "America/Santiago", "America/Asuncion", "Australia/Lord_Howe", "Asia/Kathmandu",
    "Pacific/Chatham", "Europe/Dublin", "Africa/Casablanca", "Asia/Gaza", "Antarctica/Troll",
    "America/Scoresbysund", "Pacific/Apia", "Europe/Moscow", "Europe/Berlin", "America/New_York", "UTC",
)  # fmt: skip


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Python's own reading, record by record: the reference the dashboard must agree with."""
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def days_that_change(zone: ZoneInfo) -> list[date]:
    """The days of the period whose offset at noon differs from the day before's: where an hour can go astray."""

    def noon(day: date) -> timedelta | None:
        return datetime.combine(day, time(12), tzinfo=zone).utcoffset()

    return [day for day in DAYS if noon(day) != noon(day - timedelta(days=1))]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One cache file, written as a sync writes it: a record at every moment of `MOMENTS`, and a chat at some."""
    path = tmp_path_factory.mktemp("zones") / "newton.duckdb"
    sent = [{"id": str(i), "requestDate": f"{m:%Y-%m-%d %H:%M:%S}", "type": "callback"} for i, m in enumerate(MOMENTS)]
    said = (ChatMessage(True, "hi", None),)
    sessions = [(ChatSession(f"c{i}", m, "op", "127.0.0.1", said), None) for i, m in enumerate(MOMENTS[::97])]
    with connect(path) as connection:
        assert data.upsert_records(connection, ACCOUNT, parse_records({"records": sent}), utc_now()) == len(MOMENTS)
        data.upsert_chats(connection, ACCOUNT, sessions, utc_now())
    with connect(path) as connection:
        yield connection


def test_every_zone_is_read_from_the_tzdata_package() -> None:
    names = zoneinfo.available_timezones() | zone_names()
    assert "America/Havana" in zone_names() and len(zone_names()) > 500
    for name in sorted(names - zone_names()):  # a name only this machine's system files know ("localtime")
        with pytest.raises(ConfigError, match="unknown time zone"):
            load_timezone(name)
    assert load_timezone("America/Havana") is load_timezone(" America/Havana ")  # one object per zone


@pytest.mark.slow  # every zone of the tz database, day by day
def test_the_local_days_of_every_zone_add_up_and_agree_with_zoneinfo(con: duckdb.DuckDBPyConnection) -> None:
    """For each zone: the range's total, the sum of its days and zoneinfo's count agree, every day holds what
    zoneinfo puts on it, and a day where the offset changes holds the same asked alone.

    What DuckDB is given for a zone is its UTC bounds and its table of offsets, nothing else; zones that give the
    same (most of the 600 names share their rules with another over two years) get the same answers, so those
    are asked once per distinct input and compared with each zone's own zoneinfo count.
    """
    names = sorted((zoneinfo.available_timezones() | zone_names()) & zone_names())
    asked: dict[object, tuple[dict[date, int], float | int | None]] = {}
    asked_alone: dict[object, float | int | None] = {}
    wrong: list[str] = []
    for name in names:
        zone = load_timezone(name)
        expected = Counter(moment.astimezone(zone).date() for moment in AWARE)  # zoneinfo, record by record
        expected = Counter({day: n for day, n in expected.items() if day in PERIOD_DAYS})
        metrics = Metrics(con, ACCOUNT, Definitions(zone=zone))
        given = _given_to_duckdb(zone, PERIOD)
        if given not in asked:
            daily = metrics.series(Filters(period=PERIOD), "day")
            counts = dict(zip(daily["period_start"].to_list(), daily["requests"].to_list(), strict=True))
            asked[given] = counts, metrics.headline(Filters(period=PERIOD))["requests"]
        counted, total = asked[given]
        if not total == sum(counted.values()) == expected.total():
            wrong.append(
                f"{name}: the range counts {total}, its days {sum(counted.values())}, zoneinfo {expected.total()}"
            )
        elif counted != {day: expected.get(day, 0) for day in DAYS}:
            off = next(d for d in DAYS if counted.get(d) != expected.get(d, 0))
            wrong.append(f"{name}: {off} counts {counted.get(off)}, zoneinfo {expected.get(off, 0)}")
        for day in days_that_change(zone):
            alone = _given_to_duckdb(zone, Period(day, day))
            if alone not in asked_alone:
                asked_alone[alone] = metrics.headline(Filters(period=Period(day, day)))["requests"]
            if asked_alone[alone] != expected.get(day, 0):
                wrong.append(f"{name}: {day} asked alone counts {asked_alone[alone]}, zoneinfo {expected.get(day, 0)}")
    assert not wrong, wrong[:10]
    assert len(names) > 500 and len(asked) > 50  # every zone was compared; many distinct ones were asked


def _given_to_duckdb(zone: ZoneInfo, period: Period) -> object:
    """What the metrics hand DuckDB for `zone` and `period`: the UTC bounds of its days, and the offsets table."""
    days = [period.first + timedelta(days=i) for i in range(period.days + 1)]
    bounds = tuple(local_midnight_utc(day, zone) for day in days)
    return bounds, utc_offsets(zone, bounds[0], bounds[-1])


@pytest.mark.slow  # a cache per zone family, every view of it
@pytest.mark.parametrize("name", ODD_ZONES)
def test_hours_weekdays_exports_chats_and_spans_use_the_same_rules(con: duckdb.DuckDBPyConnection, name: str) -> None:
    zone = load_timezone(name)
    metrics = Metrics(con, ACCOUNT, Definitions(zone=zone))
    in_period = [m for m in MOMENTS if local(m, zone).date() in PERIOD_DAYS]

    grid = metrics.weekday_hour(Filters(period=PERIOD))
    cells = Counter((local(m, zone).isoweekday(), local(m, zone).hour) for m in in_period)
    shown = {(w, h): n for w, h, n in grid.select("weekday", "hour", "requests").iter_rows()}
    assert shown == {(w, h): cells.get((w, h), 0) for w in range(1, 8) for h in range(24)}

    start, end = datetime(2026, 3, 1), datetime(2026, 12, 1)
    exported = datasets.records_for_export(con, ACCOUNT, start, end, zone)
    utc = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S") if isinstance(t, str) else t for t in exported["requestDate"]]
    assert exported.height == sum(start <= m < end for m in MOMENTS)
    assert exported["request_time_local"].to_list() == [local(m, zone) for m in utc]

    listed = chats.sessions(con, ACCOUNT, Filters(period=PERIOD), zone, limit=100_000).sessions
    starts = con.execute("SELECT client_id, start_time FROM chat_sessions").fetchall()
    expected = {client: local(moment, zone) for client, moment in starts if local(moment, zone).date() in PERIOD_DAYS}
    assert dict(zip(listed["client_id"], listed["start_time_local"], strict=True)) == expected

    assert metrics.data_span() == Period(local(MOMENTS[0], zone).date(), local(MOMENTS[-1], zone).date())
    chat_moments = [moment for _, moment in starts]
    assert metrics.chat_span() == Period(local(min(chat_moments), zone).date(), local(max(chat_moments), zone).date())


def test_the_offsets_change_exactly_when_zoneinfo_says() -> None:
    for name in ODD_ZONES:
        zone = load_timezone(name)
        offsets = utc_offsets(zone, datetime(2011, 1, 1), datetime(2026, 1, 1))
        for (begins, seconds), (following, _) in zip(offsets, [*offsets[1:], (datetime(2026, 1, 1), 0)], strict=True):
            assert local(begins, zone) - begins == timedelta(seconds=seconds), (name, begins)
            assert local(following - timedelta(seconds=1), zone) - (following - timedelta(seconds=1)) == timedelta(
                seconds=seconds
            ), (name, following)
