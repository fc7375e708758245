"""Sync against the embedded Newton: exact, idempotent, incremental, split on big answers, resumable."""

from __future__ import annotations

import itertools
import logging
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import httpx
import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import sync as sync_module
from dashboard.api import NewtonClient
from dashboard.api.records import API_FIELDS, EXTRA, UNPARSED, parse_records
from dashboard.cli import SYNC_WRITE_MEMORY_LIMIT
from dashboard.demo import DEMO_USER_ID, DemoNewton, DemoTransport
from dashboard.errors import SyncFailed
from dashboard.memory import started_to_sync
from dashboard.store import Store, data
from dashboard.store.connection import connect
from dashboard.sync import SyncOptions, SyncProgress, Window, merge_spans, plan_windows, sync
from tests.conftest import NOW, FlakyTransport, client_for

pytestmark = pytest.mark.slow  # full syncs of the demo account, window by window

ACCOUNT = DEMO_USER_ID
NOW_UTC = NOW.replace(tzinfo=None)
COLUMNS = [*API_FIELDS, EXTRA, UNPARSED]


def server_records(newton: DemoNewton, since: datetime | None = None) -> pl.DataFrame:
    """What Newton holds, typed the same way, one row per id."""
    frame = parse_records({"records": newton.records_snapshot()})
    if since is not None:
        frame = frame.filter(pl.col("requestDate") >= since)
    return frame.select(COLUMNS).sort("id")


def cached_records(path: Path) -> pl.DataFrame:
    with connect(path) as con:
        return data.query(con, "SELECT * FROM records WHERE account = ?", [ACCOUNT]).select(COLUMNS).sort("id")


def test_a_sync_through_faults_and_capped_answers_equals_newton(tmp_path: Path) -> None:
    newton = DemoNewton(records=2_000, seed=7, clock=lambda: NOW, max_records_per_answer=40)
    flaky = FlakyTransport(DemoTransport(newton), fail_every=4)
    path = tmp_path / "cache.duckdb"
    seen: list[SyncProgress] = []
    with client_for(flaky) as client:
        result = sync(client, Store(path), ACCOUNT, SyncOptions(split_threshold=40), seen.append, now=NOW_UTC)
    expected = server_records(newton, since=NOW_UTC - timedelta(days=180))
    assert flaky.failures > 10  # the faults really happened
    assert expected.height > 1500
    assert_frame_equal(cached_records(path), expected)
    assert result.records == expected.height
    assert seen[-1].windows_done == seen[-1].windows_total == result.windows
    with connect(path) as con:
        assert con.execute("SELECT count(*) FROM widgets").fetchone() == (len(newton.widgets),)
        assert con.execute("SELECT outcome FROM sync_runs").fetchall() == [("ok",)]


def test_chats_are_synced_once_each_with_their_messages(
    client: NewtonClient, newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "cache.duckdb"
    sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(hours=1))
    start = NOW_UTC - timedelta(days=180)
    expected = [c for c in newton.chats_snapshot() if c["startTime"] >= start.strftime("%Y-%m-%d %H:%M:%S")]
    with connect(path) as con:
        sessions = con.execute(
            "SELECT client_id, strftime(start_time, '%Y-%m-%d %H:%M:%S') FROM chat_sessions"
        ).fetchall()
        messages = con.execute("SELECT count(*) FROM chat_messages").fetchone()
        unattributed = con.execute("SELECT count(*) FROM chat_sessions WHERE widget_id IS NULL").fetchone()
    assert sorted(sessions) == sorted((c["clientId"], c["startTime"]) for c in expected)
    assert messages == (sum(len(c["messages"]) for c in expected),)
    assert unattributed == (0,)  # every chat belongs to a listed widget in the demo account


def test_a_second_sync_adds_nothing(client: NewtonClient, tmp_path: Path) -> None:
    path = tmp_path / "cache.duckdb"
    sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    first = cached_records(path)
    sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(minutes=5))
    assert_frame_equal(cached_records(path), first)
    with connect(path) as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM records").fetchone() == (first.height,) * 2


def test_changes_inside_the_look_back_arrive_with_an_incremental_sync(
    client: NewtonClient, newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "cache.duckdb"
    sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    recent = server_records(newton).filter(pl.col("requestDate") > NOW_UTC - timedelta(days=3)).row(0, named=True)
    client.set_lead_price(recent["id"], 777_000)
    an_hour_ago = (NOW_UTC - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    new_id = newton.add_record(
        requestDate=an_hour_ago, type="callback", landingUtmSource="yandex", widgetId=newton.widgets[0]["id"]
    )
    result = sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(hours=2))
    cached = cached_records(path)
    assert cached.filter(pl.col("id") == recent["id"])["leadPrice"].to_list() == [777_000]
    assert cached.filter(pl.col("id") == new_id)["landingUtmSource"].to_list() == ["yandex"]
    assert result.start == (NOW_UTC + timedelta(seconds=1) - timedelta(days=7)).replace(microsecond=0)
    assert_frame_equal(cached, server_records(newton, since=NOW_UTC - timedelta(days=180)))


def test_a_change_older_than_the_look_back_needs_a_full_sync(
    client: NewtonClient, newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "cache.duckdb"
    sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    old = server_records(newton).filter(pl.col("requestDate") < NOW_UTC - timedelta(days=30)).row(-1, named=True)
    client.set_lead_price(old["id"], 123)
    sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(hours=1))
    assert cached_records(path).filter(pl.col("id") == old["id"])["leadPrice"].to_list() == [old["leadPrice"]]
    sync(client, Store(path), ACCOUNT, SyncOptions(full=True), now=NOW_UTC + timedelta(hours=1))
    assert cached_records(path).filter(pl.col("id") == old["id"])["leadPrice"].to_list() == [123]


def test_a_big_answer_is_split_until_each_part_is_under_the_threshold(newton: DemoNewton, tmp_path: Path) -> None:
    counting = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(counting) as client:
        sync(client, Store(tmp_path / "c.duckdb"), ACCOUNT, SyncOptions(window=timedelta(days=30), split_threshold=25),
             now=NOW_UTC)  # fmt: skip
    asked = [orjson.loads(body) for body in counting.bodies]
    spans = [
        (datetime.fromisoformat(b["params"]["requestDateFrom"]), datetime.fromisoformat(b["params"]["requestDateTo"]))
        for b in asked
        if b["action"] == "callback.GetRecords"
    ]
    assert min(end - start for start, end in spans) < timedelta(days=2)  # split far below the 30-day windows
    assert_frame_equal(cached_records(tmp_path / "c.duckdb"), server_records(newton, NOW_UTC - timedelta(days=180)))


def test_records_exactly_on_window_boundaries_are_kept_once(newton: DemoNewton, tmp_path: Path) -> None:
    boundary = (NOW_UTC - timedelta(days=2)).replace(hour=0, minute=0, second=0)
    ids = [
        newton.add_record(requestDate=(boundary + offset).strftime("%Y-%m-%d %H:%M:%S"), type="callback")
        for offset in (timedelta(seconds=-1), timedelta(0), timedelta(seconds=1))
    ]
    with client_for(DemoTransport(newton)) as client:
        options = SyncOptions(window=timedelta(hours=6), split_threshold=3, since=boundary - timedelta(days=1))
        sync(client, Store(tmp_path / "c.duckdb"), ACCOUNT, options, now=NOW_UTC)
    cached = cached_records(tmp_path / "c.duckdb")
    assert cached.filter(pl.col("id").is_in(ids)).height == 3
    assert cached["id"].n_unique() == cached.height


def test_windows_cover_the_span_without_gaps_or_overlaps() -> None:
    start, end = datetime(2026, 1, 1, 0, 0, 0), datetime(2026, 1, 3, 7, 30, 5)
    windows = plan_windows(start, end, timedelta(days=1))
    assert [w.start for w in windows] == [start, start + timedelta(days=1), start + timedelta(days=2)]
    assert windows[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert Window(start, start + timedelta(days=1)).newton_bounds() == ("2026-01-01 00:00:00", "2026-01-01 23:59:59")


def test_a_window_that_keeps_failing_stops_the_sync_and_keeps_what_came_before(
    newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"

    class BreaksAfter(FlakyTransport):
        def handle_request(self, request):  # type: ignore[no-untyped-def]
            self.calls += 1
            if self.calls > 40:
                import httpx

                return httpx.Response(502, text="<html>Bad Gateway</html>")
            return self.inner.handle_request(request)

    with client_for(BreaksAfter(DemoTransport(newton))) as client, pytest.raises(SyncFailed, match="window"):
        sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    with connect(path) as con:
        state = data.read_sync_state(con, ACCOUNT, "records")
        ((outcome, message),) = con.execute("SELECT outcome, message FROM sync_runs").fetchall()
    assert outcome == "failed" and "HTTP 502" in message
    assert state.synced_from is not None and state.synced_through is not None
    kept = cached_records(path)
    assert kept.height > 0
    assert_frame_equal(kept, server_records(newton, state.synced_from).filter(
        pl.col("requestDate") < state.synced_through))  # fmt: skip
    # The next sync resumes and ends exact.
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    assert_frame_equal(cached_records(path), server_records(newton, NOW_UTC - timedelta(days=180)))


def test_a_later_since_never_leaves_a_gap(newton: DemoNewton, tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, now=NOW_UTC - timedelta(days=20))
        # Twenty days later someone syncs "since yesterday": the 20 days in between must still arrive.
        sync(client, Store(path), ACCOUNT, SyncOptions(since=NOW_UTC - timedelta(days=1)), now=NOW_UTC)
    assert_frame_equal(cached_records(path), server_records(newton, NOW_UTC - timedelta(days=200)).filter(
        pl.col("requestDate") < NOW_UTC + timedelta(seconds=1)))  # fmt: skip


def test_a_chat_keeps_its_widget_when_the_widget_is_no_longer_listed(newton: DemoNewton, tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, now=NOW_UTC)
        with connect(path) as con:
            before = dict(
                con.execute("SELECT client_id || start_time::VARCHAR, widget_id FROM chat_sessions").fetchall()
            )
        listed = newton.account.widgets
        newton.account.widgets = listed[1:]  # the first widget was removed from the account
        try:
            result = sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(hours=1))
        finally:
            newton.account.widgets = listed
        assert result.widgets == len(listed) - 1
        with connect(path) as con:
            after = dict(
                con.execute("SELECT client_id || start_time::VARCHAR, widget_id FROM chat_sessions").fetchall()
            )
    assert after == before


class KilledAfter(httpx.BaseTransport):
    """Newton for the first `requests` requests; then the sync's process is gone (every request fails), as when
    the dashboard's server is stopped in the middle of its backfill."""

    def __init__(self, inner: httpx.BaseTransport, requests: int) -> None:
        self.inner = inner
        self.requests = requests
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests -= 1
            killed = self.requests < 0
        if killed:
            raise httpx.ConnectError("connection refused")
        return self.inner.handle_request(request)


def asked_record_windows(transport: FlakyTransport) -> list[Window]:
    """The spans of the GetRecords requests a sync sent, oldest first."""
    bodies = [orjson.loads(body) for body in transport.bodies]
    asked = [
        Window(datetime.fromisoformat(b["params"]["requestDateFrom"]),
               datetime.fromisoformat(b["params"]["requestDateTo"]) + timedelta(seconds=1))
        for b in bodies if b["action"] == "callback.GetRecords"
    ]  # fmt: skip
    return sorted(asked, key=lambda window: window.start)


def assert_asked_exactly(asked: list[Window], spans: list[Window]) -> None:
    """The requests covered exactly `spans` (oldest first), none of it twice."""
    assert merge_spans(asked) == spans
    assert all(a.end <= b.start for a, b in itertools.pairwise(asked))  # no span asked twice


def complete_for_both(path: Path) -> list[Window]:
    """The ranges complete for chats, checked to be complete for records too (chats are written with records)."""
    with connect(path) as con:
        records, chats = (data.complete_ranges(con, ACCOUNT, resource) for resource in ("records", "chats"))
    assert all(any(r[0] <= c[0] and c[1] <= r[1] for r in records) for c in chats)
    return [Window(*span) for span in chats]


def test_a_backfill_killed_midway_resumes_with_exactly_the_missing_days_and_leaves_no_hole(
    newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"
    day = timedelta(days=1)
    with client_for(DemoTransport(newton)) as client:  # the first open: the last 30 days, shown at once
        sync(client, Store(path), ACCOUNT, SyncOptions(recent=30 * day), now=NOW_UTC)
    # Older days, in the background, in small windows (a small threshold), every one written as it comes.
    backfill = SyncOptions(lookback=timedelta(0), retry_rounds=0, split_threshold=40)
    with (
        patch.object(sync_module, "WRITE_EVERY_SECONDS", 0.0),
        client_for(KilledAfter(DemoTransport(newton), requests=100)) as client,
        pytest.raises(SyncFailed),
    ):
        sync(client, Store(path), ACCOUNT, backfill, now=NOW_UTC)
    (kept,) = complete_for_both(path)  # the 30 days, then older days, newest first: one stretch
    assert kept.end == NOW_UTC + timedelta(seconds=1)
    assert kept.start < NOW_UTC - 40 * day  # the killed backfill wrote older days before it stopped

    counting = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(counting) as client:  # answers far below the threshold: none is asked again in parts
        sync(client, Store(path), ACCOUNT, SyncOptions(lookback=timedelta(0)), now=NOW_UTC)
    # Exactly the days the killed backfill left, each asked once.
    assert_asked_exactly(asked_record_windows(counting), [Window(NOW_UTC - 180 * day, kept.start)])
    assert_frame_equal(cached_records(path), server_records(newton, NOW_UTC - 180 * day))  # no hole
    with connect(path) as con:
        assert data.complete_ranges(con, ACCOUNT, "records") == [(NOW_UTC - 180 * day, NOW_UTC + timedelta(seconds=1))]


def test_a_later_sync_fills_a_hole_between_complete_ranges(newton: DemoNewton, tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    day, second = timedelta(days=1), timedelta(seconds=1)
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, now=NOW_UTC - 60 * day)
        # Two months later the dashboard opens: it loads the last 30 days first, leaving 30 days between.
        sync(client, Store(path), ACCOUNT, SyncOptions(recent=30 * day), now=NOW_UTC)
    counting = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(counting) as client:  # then cron's sync: the hole, and the look-back, nothing else
        sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    asked = asked_record_windows(counting)
    hole = Window(NOW_UTC - 60 * day + second, NOW_UTC - 30 * day)
    assert_asked_exactly(asked, [hole, Window(NOW_UTC + second - 7 * day, NOW_UTC + second)])
    assert len(asked) <= 4  # a quiet account: a month's records in a request or two
    assert_frame_equal(cached_records(path), server_records(newton, NOW_UTC - 240 * day).filter(
        pl.col("requestDate") < NOW_UTC + timedelta(seconds=1)))  # fmt: skip


class ProcessKilled(BaseException):
    """The sync's process ends: no `except` of the sync's code catches it, nothing more is written."""


class KilledWithFourInFlight(httpx.BaseTransport):
    """Newton for the first `before` records requests; then the next four wait until they are all in flight at
    once, and the process is killed: those four and every request after them fail with `ProcessKilled`."""

    def __init__(self, inner: httpx.BaseTransport, before: int) -> None:
        self.inner = inner
        self.before = before
        self.four_in_flight = False
        self._barrier = threading.Barrier(4, timeout=20)
        self._lock = threading.Lock()
        self._killed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._killed:
                raise ProcessKilled
            if orjson.loads(request.content)["action"] == "callback.GetRecords":
                self.before -= 1
            blocked = self.before < 0
        if not blocked:
            return self.inner.handle_request(request)
        try:
            self._barrier.wait()
            self.four_in_flight = True
        finally:
            with self._lock:
                self._killed = True
        raise ProcessKilled


def cached_chats(path: Path) -> list[tuple[str, str, str | None, int]]:
    with connect(path) as con:
        rows = con.execute(
            "SELECT client_id, strftime(start_time, '%Y-%m-%d %H:%M:%S'), widget_id, messages FROM chat_sessions"
        ).fetchall()
    return sorted(rows)


def test_a_sync_killed_with_four_windows_in_flight_resumes_exactly(newton: DemoNewton, tmp_path: Path) -> None:
    path, day, second = tmp_path / "c.duckdb", timedelta(days=1), timedelta(seconds=1)
    # Small windows (a small split threshold), each written as soon as every window before it is.
    killed = KilledWithFourInFlight(DemoTransport(newton), before=8)
    options = SyncOptions(lookback=timedelta(0), split_threshold=40, concurrency=4)
    with (
        patch.object(sync_module, "WRITE_EVERY_SECONDS", 0.0),
        client_for(killed) as client,
        pytest.raises(ProcessKilled),
    ):
        sync(client, Store(path), ACCOUNT, options, now=NOW_UTC)
    assert killed.four_in_flight  # the kill came while four windows were being fetched at once
    (kept,) = complete_for_both(path)  # newest first, in order: one stretch back from now
    assert kept.end == NOW_UTC + second
    assert NOW_UTC - 170 * day < kept.start < NOW_UTC  # it wrote some windows, not all
    # Nothing was written past what the ranges say: the records there, no more.
    assert_frame_equal(cached_records(path), server_records(newton, kept.start))

    counting = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(counting) as client:
        sync(client, Store(path), ACCOUNT, SyncOptions(lookback=timedelta(0)), now=NOW_UTC)
    assert_asked_exactly(asked_record_windows(counting), [Window(NOW_UTC - 180 * day, kept.start)])
    assert_frame_equal(cached_records(path), server_records(newton, NOW_UTC - 180 * day))
    start = (NOW_UTC - 180 * day).strftime("%Y-%m-%d %H:%M:%S")
    expected_chats = sorted(
        (c["clientId"], c["startTime"], widget["id"], len(c["messages"]))
        for widget in newton.widgets
        for c in newton.chats_snapshot(widget["id"])
        if c["startTime"] >= start
    )
    assert cached_chats(path) == expected_chats  # each chat once, with its widget and all its messages


def requests_by_action(transport: FlakyTransport) -> Counter[str]:
    return Counter(orjson.loads(body)["action"] for body in transport.bodies)


def test_a_typical_account_syncs_in_tens_of_requests_not_hundreds(tmp_path: Path) -> None:
    newton = DemoNewton(records=20_000, seed=7, clock=lambda: NOW)  # 20,000 records and 5,000 chats in 180 days
    path = tmp_path / "c.duckdb"
    first = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(first) as client:
        sync(client, Store(path), ACCOUNT, now=NOW_UTC)
    asked = requests_by_action(first)
    # Asked day by day, the same sync took 181 records requests and 906 in all (3 widgets: 4 chat requests a day).
    assert asked["callback.GetRecords"] < 60
    assert sum(asked.values()) < 250
    assert_frame_equal(cached_records(path), server_records(newton, since=NOW_UTC - timedelta(days=180)))

    again = FlakyTransport(DemoTransport(newton), fail_every=10**9)
    with client_for(again) as client:  # an hour later: the 7-day look-back, in the step the first sync ended with
        sync(client, Store(path), ACCOUNT, now=NOW_UTC + timedelta(hours=1))
    asked = requests_by_action(again)
    assert asked["callback.GetRecords"] <= 3  # day by day: 8
    assert sum(asked.values()) <= 1 + 3 * (1 + len(newton.widgets)) + 1  # day by day: 41


@pytest.mark.parametrize(
    ("argv", "syncs"),
    [
        (["newton-dashboard", "sync", "--full"], True),
        (["/venv/bin/newton-dashboard", "-v", "sync"], True),
        (["-m", "sync", "--all-accounts"], True),  # `python -m dashboard.cli sync` while the package is imported
        (["newton-dashboard", "report", "attribution", "--by", "sync"], False),
        (["streamlit", "run", "dashboard_app.py"], False),
        (["pytest", "-q"], False),
        (["python"], False),
    ],
)
def test_only_a_process_started_to_sync_limits_its_malloc_arenas(argv: list[str], syncs: bool) -> None:
    """The limit is process-wide: the dashboard's process (Streamlit) keeps glibc's arenas for its pages."""
    assert started_to_sync(argv) is syncs


def test_a_sync_with_the_command_lines_memory_limit_stores_the_same_cache(newton: DemoNewton, tmp_path: Path) -> None:
    """The command line caps DuckDB's memory during its writes (a smaller peak); every row and worked-out column
    is the same as without the cap."""
    stored = []
    for limit in (None, SYNC_WRITE_MEMORY_LIMIT):
        path = tmp_path / f"{limit}.duckdb"
        with client_for(DemoTransport(newton)) as client:
            sync(client, Store(path), ACCOUNT, SyncOptions(write_memory_limit=limit), now=NOW_UTC)
        with connect(path) as con:
            stored.append(data.query(con, "SELECT * EXCLUDE (synced_at) FROM records ORDER BY id"))
    assert stored[0].height > 1000
    assert_frame_equal(stored[1], stored[0])


@pytest.mark.parametrize("limit", ["200MB'; DROP TABLE records; --", "200", "a lot"])
def test_a_write_memory_limit_is_a_size_or_refused(limit: str) -> None:
    with pytest.raises(ValueError, match="write_memory_limit"):
        SyncOptions(write_memory_limit=limit)


def test_a_write_the_memory_limit_cannot_hold_is_written_without_it(
    newton: DemoNewton, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A limit too small for a write (a cache far larger than the one it was chosen for) costs the limit, never
    the sync: the write is done again with DuckDB's own, and the cache is the same."""
    stored = []
    for limit in (None, "1KB"):
        path = tmp_path / f"{limit}.duckdb"
        with client_for(DemoTransport(newton)) as client, caplog.at_level(logging.WARNING, "dashboard.sync"):
            result = sync(client, Store(path), ACCOUNT, SyncOptions(write_memory_limit=limit), now=NOW_UTC)
        assert result.records > 1000
        with connect(path) as con:
            stored.append(data.query(con, "SELECT * EXCLUDE (synced_at) FROM records ORDER BY id"))
    assert_frame_equal(stored[1], stored[0])
    assert [r.getMessage() for r in caplog.records if "memory limit" in r.getMessage()] == [
        "A write needed more than DuckDB's memory limit of 1KB: written without it"
    ]
