"""Newton → cache, window by window: incremental, resumable, exact.

The cache records, per resource, the [from, to) ranges it holds completely. A sync fetches the wanted history
minus those ranges, plus a look-back over its newest days (calls change after they are made), newest first.
Windows are fetched with the cache closed (so the dashboard can read meanwhile), then written every few
seconds in one transaction together with the ranges they complete, so a sync killed at any point leaves only
true ranges behind: the next one fetches exactly what is missing, and no hole is ever stepped over.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import duckdb
import polars as pl

from dashboard.api import ChatSession, NewtonClient, RecordFilter, retry
from dashboard.api.models import ChatKey
from dashboard.api.records import NEWTON_TIME, empty_records
from dashboard.demo.costs import save_demo_costs
from dashboard.demo.newton import DEMO_USER_ID
from dashboard.errors import (
    AuthError,
    CacheDamaged,
    CacheError,
    CacheStorageFailure,
    NewtonError,
    SyncFailed,
    SyncRunning,
    TransportFailure,
    UnexpectedAnswer,
)
from dashboard.store import Quarantined, Store, data, logs, utc_now

log = logging.getLogger(__name__)

RECORDS = "records"
CHATS = "chats"
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
# Writing opens the cache and so locks out the dashboard's process: write in short bursts, not window by window.
# Each write ends with DuckDB checkpointing the file, which costs more as the file grows: a few seconds apart.
WRITE_EVERY_SECONDS = 2.0
WRITE_EVERY_RECORDS = 50_000

T = TypeVar("T")


@dataclass(frozen=True)
class SyncOptions:
    """How much to fetch and in what pieces."""

    history: timedelta = timedelta(days=180)  # kept complete back from now, unless `since` says otherwise
    lookback: timedelta = timedelta(days=7)  # calls and lead prices change after they are made
    window: timedelta = timedelta(days=1)
    split_threshold: int = 1000  # an answer this large may have been capped by Newton: split and re-fetch
    since: datetime | None = None  # naive UTC; overrides history and the stored state
    full: bool = False  # ignore the stored state and fetch everything from the history start
    # A read still failing after the client's own retries is asked again this many times before the sync stops:
    # with 3 retries a request, one in a few thousand still fails when a fifth of Newton's answers go wrong.
    retry_rounds: int = 2
    # Seconds to wait for another sync of the same cache to end before giving up (SyncRunning). Two at once would
    # ask Newton everything twice and fight over the file; the dashboard does not wait, cron's sync may.
    wait_for_other_sync: float = 0.0
    # Fetch only the part of the plan within this span before now and leave the rest to a later sync: the
    # dashboard's first open syncs the last 30 days, shows them, and fills older days in the background.
    recent: timedelta | None = None

    def __post_init__(self) -> None:
        if self.window < SECOND:
            raise ValueError("window must be at least one second")
        if self.split_threshold < 2:
            raise ValueError("split_threshold must be at least 2")
        if self.retry_rounds < 0:
            raise ValueError("retry_rounds must be 0 or more")


@dataclass(frozen=True)
class Window:
    """A half-open span [start, end) of naive UTC time, whole seconds."""

    start: datetime
    end: datetime

    def newton_bounds(self) -> tuple[str, str]:
        """Newton's inclusive bounds for this window: its last second is end - 1 s."""
        return self.start.strftime(NEWTON_TIME), (self.end - SECOND).strftime(NEWTON_TIME)

    def halves(self) -> tuple[Window, Window] | None:
        """Two windows splitting this one, or None for a single second, which cannot be split."""
        seconds = int((self.end - self.start).total_seconds())
        if seconds < 2:
            return None
        middle = self.start + timedelta(seconds=seconds // 2)
        return Window(self.start, middle), Window(middle, self.end)


@dataclass(frozen=True)
class Fetched:
    """One window's answers, waiting to be written."""

    window: Window
    records: pl.DataFrame
    chats: list[tuple[ChatSession, str | None]]


@dataclass(frozen=True)
class SyncProgress:
    """What a progress bar shows."""

    windows_done: int
    windows_total: int
    records: int
    chats: int
    days_done: int = 0  # days of the wanted history the cache now holds completely
    days_total: int = 0  # days of the wanted history


@dataclass
class SyncResult:
    """What a sync did."""

    start: datetime
    end: datetime
    windows: int = 0
    records: int = 0
    chats: int = 0
    widgets: int = 0
    capped_windows: list[Window] = field(default_factory=list)
    quarantined: Quarantined | None = None  # a damaged cache this sync moved aside before filling a fresh one
    retried_reads: int = 0  # reads that failed even after the client's retries, then succeeded when asked again


def plan_windows(start: datetime, end: datetime, size: timedelta) -> list[Window]:
    """Consecutive windows of `size` covering [start, end), the last one possibly shorter."""
    windows = []
    cursor = start.replace(microsecond=0)
    while cursor < end:
        windows.append(Window(cursor, min(cursor + size, end)))
        cursor += size
    return windows


def wanted_span(options: SyncOptions, now: datetime) -> Window:
    """The history a sync aims to hold completely: from `since` or `history` ago up to the current second."""
    start = options.since if options.since is not None else now - options.history
    return Window(start.replace(microsecond=0), now.replace(microsecond=0) + SECOND)


def merge_spans(spans: Sequence[Window]) -> list[Window]:
    """Spans that overlap or touch become one; oldest first, empty ones dropped."""
    kept = [(span.start, span.end) for span in spans if span.start < span.end]
    return [Window(start, end) for start, end in data.merge_ranges(kept)]


def missing_spans(wanted: Window, complete: Sequence[Window]) -> list[Window]:
    """The parts of `wanted` outside every complete range, oldest first."""
    gaps = []
    cursor = wanted.start
    for span in merge_spans(complete):
        if span.end <= cursor or span.start >= wanted.end:
            continue
        if span.start > cursor:
            gaps.append(Window(cursor, span.start))
        cursor = span.end
    if cursor < wanted.end:
        gaps.append(Window(cursor, wanted.end))
    return gaps


def plan_spans(complete: Sequence[Window], options: SyncOptions, now: datetime) -> list[Window]:
    """What a sync fetches, newest first: the wanted history minus the complete ranges, and again the look-back
    before the newest complete data (up to a later `since`, so nothing between is skipped); all of it with `full`."""
    wanted = wanted_span(options, now)
    ranges = merge_spans(complete)
    if options.full or not ranges:
        again = wanted
    else:
        start = ranges[-1].end - options.lookback
        if options.since is not None:
            start = min(options.since, start)
        again = Window(start.replace(microsecond=0), wanted.end)
    spans = merge_spans([again, *missing_spans(wanted, ranges)])
    if options.recent is not None:
        floor = (now - options.recent).replace(microsecond=0)
        spans = [Window(max(span.start, floor), span.end) for span in spans if span.end > floor]
    return spans[::-1]


def covered_days(wanted: Window, complete: Sequence[Window]) -> int:
    """Whole days of `wanted` inside the complete ranges."""
    inside = sum(
        (min(span.end, wanted.end) - max(span.start, wanted.start) for span in merge_spans(complete)
         if span.start < wanted.end and span.end > wanted.start),
        timedelta(),
    )  # fmt: skip
    return round(inside / DAY)


class Syncer:
    """Runs one sync of one account into one cache file."""

    def __init__(
        self,
        client: NewtonClient,
        store: Store,
        account: str,
        options: SyncOptions | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._account = account
        self._options = options or SyncOptions()
        self._on_progress = on_progress or (lambda progress: None)
        self._widget_ids: list[str] = []
        self._step = self._options.window  # the span of one GetRecords call; shrinks where Newton's answers are big
        self._wanted = wanted_span(self._options, utc_now())  # set again by each run
        self._days_done = 0
        # A read still failing after the client's own retries is asked again at once (see `SyncOptions.retry_rounds`).
        self._read_retries = retry.RetryPolicy(
            self._options.retry_rounds, lambda error: isinstance(error, TransportFailure | UnexpectedAnswer)
        )

    def run(self, now: datetime | None = None) -> SyncResult:
        """Sync records, chats and widgets up to `now` (naive UTC); a damaged cache is quarantined and rebuilt.
        Raises SyncRunning when another sync of the same file, in any process, keeps running for longer than
        the options allow to wait."""
        with self._store.one_sync_at_a_time(self._options.wait_for_other_sync, SyncRunning):
            return self._run_quarantine_first(now or utc_now())

    def _run_quarantine_first(self, now: datetime) -> SyncResult:
        quarantined = self._store.quarantine_if_damaged()
        try:
            result = self._run(now)
        except CacheDamaged:
            # Damage that shows only when a block is read: quarantine the file too, and sync once more from scratch.
            quarantined = self._store.quarantine_if_damaged()
            if quarantined is None:
                raise
            self._step = self._options.window
            result = self._run(now)
        result.quarantined = quarantined
        return result

    def _run(self, now: datetime) -> SyncResult:
        complete = [Window(*span) for span in self._store.read(data.complete_ranges, self._account, RECORDS)]
        spans = plan_spans(complete, self._options, now)
        # Newest first, window by window too: what is complete stays one stretch back from now while older days
        # load, so a page can say "data before 7 Nov is incomplete", and a killed sync leaves no hole in between.
        windows = [w for span in spans for w in reversed(plan_windows(span.start, span.end, self._options.window))]
        self._wanted = wanted_span(self._options, now)
        self._days_done = covered_days(self._wanted, complete)
        end = spans[0].end if spans else self._wanted.end
        result = SyncResult(start=spans[-1].start if spans else end, end=end)
        run_id = self._store.write(logs.start_run, self._account, len(windows))
        try:
            result.widgets = self._refresh_widgets(result)
            self._on_progress(SyncProgress(0, len(windows), 0, 0, self._days_done, self._days_total))
            self._sync_windows(windows, result, run_id)
        except (NewtonError, CacheError) as error:
            if isinstance(error, CacheDamaged | CacheStorageFailure):
                # Nothing can be recorded in a damaged file (`run` quarantines it) nor on a full disk; the next
                # sync marks this run interrupted.
                raise
            message = f"Sync stopped at {self._describe_failure(windows, result)}: {error}"
            self._store.write(logs.finish_run, run_id, "failed", message)
            if isinstance(error, AuthError):
                raise  # not a passing failure: the person has to fix the token
            raise SyncFailed(message) from error
        if self._account == DEMO_USER_ID:
            # The demo ships with the ad costs a marketer would import, so its money columns show without one.
            self._store.write(save_demo_costs, self._account, self._wanted.start.date(), now)
        self._store.write(logs.finish_run, run_id, "ok", self._summary(result))
        return result

    @property
    def _days_total(self) -> int:
        return round((self._wanted.end - self._wanted.start) / DAY)

    def _ask(self, read: Callable[[], T], result: SyncResult) -> T:
        """One read; when it still fails after the client's retries (Newton down, or answering garbage for a
        while), ask again up to `retry_rounds` times before giving up: reads change nothing, so this is safe."""
        retried = False

        def on_retry(error: Exception, number: int, wait: float) -> None:
            nonlocal retried
            retried = True
            log.warning("Newton failed a read even after retries (%s); asking again (%d)", error, number)

        answer = retry.call_with_retries(read, self._read_retries, on_retry=on_retry)
        if retried:
            result.retried_reads += 1
        return answer

    def _refresh_widgets(self, result: SyncResult) -> int:
        widgets = self._ask(self._client.get_widgets, result)
        self._widget_ids = [w.id for w in widgets]
        self._store.write(data.replace_widgets, self._account, widgets, utc_now())
        return len(widgets)

    def _sync_windows(self, windows: list[Window], result: SyncResult, run_id: str) -> None:
        """Fetch window after window with the cache closed; write what was fetched every few seconds."""
        pending: list[Fetched] = []
        last_write = time.monotonic()
        try:
            for window in windows:
                pending.append(Fetched(window, self._fetch_records(window, result), self._fetch_chats(window, result)))
                waiting = sum(f.records.height for f in pending)
                if waiting >= WRITE_EVERY_RECORDS or time.monotonic() - last_write >= WRITE_EVERY_SECONDS:
                    self._write(pending, result, run_id, len(windows))
                    pending, last_write = [], time.monotonic()
        except NewtonError:
            # What was fetched before the failure is written, so the next sync resumes after it.
            if pending:
                self._write(pending, result, run_id, len(windows))
            raise
        if pending:
            self._write(pending, result, run_id, len(windows))

    def _write(self, fetched: list[Fetched], result: SyncResult, run_id: str, total: int) -> None:
        """Write fetched windows and the sync state that covers them in one transaction: all of it, or none."""
        records = pl.concat([item.records for item in fetched])
        chats = [pair for item in fetched for pair in item.chats]
        written = [(item.window.start, item.window.end) for item in fetched]
        written_records, written_chats, complete = self._store.write(
            self._write_windows, records, chats, written, result.windows + len(fetched), run_id, result
        )
        self._days_done = covered_days(self._wanted, [Window(*span) for span in complete])
        result.windows += len(fetched)
        result.records += written_records
        result.chats += written_chats
        self._on_progress(
            SyncProgress(result.windows, total, result.records, result.chats, self._days_done, self._days_total)
        )

    def _write_windows(
        self,
        con: duckdb.DuckDBPyConnection,
        records: pl.DataFrame,
        chats: list[tuple[ChatSession, str | None]],
        written: list[tuple[datetime, datetime]],
        done: int,
        run_id: str,
        result: SyncResult,
    ) -> tuple[int, int, list[tuple[datetime, datetime]]]:
        """Inside `Store.write`'s one transaction: the rows, the ranges they complete and the run's progress."""
        synced_at = utc_now()
        written_records = data.upsert_records(con, self._account, records, synced_at)
        written_chats = data.upsert_chats(con, self._account, chats, synced_at)
        for resource in (RECORDS, CHATS):
            complete = data.save_complete_ranges(con, self._account, resource, written)
        logs.progress_run(con, run_id, done, result.records + written_records, result.chats + written_chats)
        return written_records, written_chats, complete

    def _fetch_records(self, window: Window, result: SyncResult) -> pl.DataFrame:
        """A window's records in steps that adapt: halved while an answer may be capped, grown back when small."""
        parts = []
        cursor = window.start
        while cursor < window.end:
            part = Window(cursor, min(cursor + self._step, window.end))
            first, last = part.newton_bounds()
            wanted = RecordFilter(request_date_from=first, request_date_to=last)
            frame = self._ask(functools.partial(self._client.get_records, wanted), result)
            if frame.height >= self._options.split_threshold:
                if part.halves() is not None:
                    self._step = max(SECOND, timedelta(seconds=int((part.end - part.start).total_seconds()) // 2))
                    continue  # re-fetch this span in smaller steps
                log.warning(
                    "Newton answered %d records for the single second %s; some may be missing", frame.height, first
                )
                result.capped_windows.append(part)
            parts.append(frame)
            cursor = part.end
            if frame.height < self._options.split_threshold // 4:
                self._step = min(self._step * 2, self._options.window)
        return pl.concat(parts) if parts else empty_records()

    def _fetch_chats(self, window: Window, result: SyncResult) -> list[tuple[ChatSession, str | None]]:
        # Per widget, so each session knows its widget; then without one, for chats of widgets no longer listed.
        sessions: list[tuple[ChatSession, str | None]] = []
        for widget_id in self._widget_ids:
            sessions += self._fetch_widget_chats(window, widget_id, result, set())
        known = {(s.client_id, s.start_time) for s, _ in sessions}
        return sessions + self._fetch_widget_chats(window, None, result, known)

    def _fetch_widget_chats(
        self, window: Window, widget_id: str | None, result: SyncResult, known: set[ChatKey]
    ) -> list[tuple[ChatSession, str | None]]:
        first, last = window.newton_bounds()
        read = functools.partial(self._client.get_chat_history, widget_id, first, last, known)
        answer = self._ask(read, result)
        # Newton's answer also held the known sessions of this window (skipped unparsed): count them for the cap.
        already = sum(1 for _, start in known if start is not None and window.start <= start < window.end)
        if len(answer) + already >= self._options.split_threshold:
            halves = window.halves()
            if halves is not None:
                return [pair for half in halves for pair in self._fetch_widget_chats(half, widget_id, result, known)]
            result.capped_windows.append(window)
        return [(session, widget_id) for session in answer]

    def _describe_failure(self, windows: list[Window], result: SyncResult) -> str:
        if result.windows >= len(windows):
            return "the end"
        failed = windows[result.windows]
        return f"window {result.windows + 1} of {len(windows)} ({failed.start:%Y-%m-%d %H:%M} UTC)"

    @staticmethod
    def _summary(result: SyncResult) -> str:
        text = f"{result.records} records and {result.chats} chats in {result.windows} windows"
        if result.capped_windows:
            text += f"; {len(result.capped_windows)} one-second windows were at the answer limit"
        if result.retried_reads:
            text += f"; {result.retried_reads} reads succeeded only when asked again after Newton kept failing"
        return text


def sync(
    client: NewtonClient,
    store: Store,
    account: str,
    options: SyncOptions | None = None,
    on_progress: Callable[[SyncProgress], None] | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Bring the cache up to date with Newton (see `Syncer`)."""
    return Syncer(client, store, account, options, on_progress).run(now)
