"""Newton → cache, window by window: incremental, resumable, exact.

The cache records, per resource, the [from, to) ranges it holds completely. A sync fetches the wanted history
minus those ranges, plus a look-back over its newest days (calls change after they are made), newest first.
Windows are as long as Newton's answers allow (`Steps`: longer where answers are small, shorter near the split
threshold, remembered per account for the next sync) and several are fetched at once (`SyncOptions.concurrency`)
with the cache closed (so the dashboard can read meanwhile). They are written in the order they were planned,
every few seconds, in one transaction together with the ranges they complete, so a sync killed at any point
leaves only true ranges behind: the next one fetches exactly what is missing, and no hole is ever stepped over.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import duckdb
import polars as pl

from dashboard.api import ChatSession, NewtonClient, RecordFilter, retry
from dashboard.api.models import ChatKey
from dashboard.api.records import NEWTON_TIME, typed_records
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
from dashboard.store import AnyStore, Quarantined, data, logs, utc_now

log = logging.getLogger(__name__)

RECORDS = "records"
CHATS = "chats"
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
# Writing opens the cache and so locks out the dashboard's process: write in short bursts, not window by window.
# Each write ends with DuckDB checkpointing the file, which costs more as the file grows: a few seconds apart.
WRITE_EVERY_SECONDS = 2.0
WRITE_EVERY_RECORDS = 50_000
# The longest window or records request where Newton's answers stay small (a month of a quiet account).
MAX_STEP = timedelta(days=31)
DEFAULT_CONCURRENCY = 4
MOST_CONCURRENCY = 16
# Fetched windows waiting for an earlier one before they can be written, per worker: bounds the memory they hold.
WAITING_PER_WORKER = 4
# Chats without a widget are asked for a whole run of windows at once unless the answers say it is too much.
WHOLE_RUN = timedelta(days=100 * 366)
# A window's records are held in memory until it is written: windows holding more are made shorter.
WINDOW_RECORDS = 10_000
# A size DuckDB's SET memory_limit takes.
MEMORY_SIZE = re.compile(r"[0-9]+(\.[0-9]+)?[KMG]i?B")

T = TypeVar("T")


@dataclass(frozen=True)
class SyncOptions:
    """How much to fetch and in what pieces."""

    history: timedelta = timedelta(days=180)  # kept complete back from now, unless `since` says otherwise
    lookback: timedelta = timedelta(days=7)  # calls and lead prices change after they are made
    # The first window's and records request's span when no earlier sync of the account remembers what fitted;
    # both then grow up to `MAX_STEP` where answers are small and shrink where they reach `split_threshold`.
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
    # Windows fetched at once (one worker thread each, one shared connection pool and rate limit); 1 fetches
    # window after window.
    concurrency: int = DEFAULT_CONCURRENCY
    # DuckDB's memory_limit during each write (e.g. "200MB"), or None to leave DuckDB's own (80% of the RAM): a
    # write's checkpoint keeps every block it read, so a 1M-record first sync peaked over 1.3 GB. DuckDB shares
    # its settings among every connection to the file in the process, so only a process that does nothing but
    # sync sets it (the command line), never the dashboard, whose pages' queries would get the limit too.
    write_memory_limit: str | None = None

    def __post_init__(self) -> None:
        if self.window < SECOND:
            raise ValueError("window must be at least one second")
        if self.split_threshold < 2:
            raise ValueError("split_threshold must be at least 2")
        if self.retry_rounds < 0:
            raise ValueError("retry_rounds must be 0 or more")
        if not 1 <= self.concurrency <= MOST_CONCURRENCY:
            raise ValueError(f"concurrency must be from 1 to {MOST_CONCURRENCY}")
        if self.write_memory_limit is not None and not MEMORY_SIZE.fullmatch(self.write_memory_limit):
            raise ValueError("write_memory_limit must be a size such as 200MB")


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
    """One window's answers, waiting to be written: its records and the chats of each listed widget (the chats
    without a widget are asked for a run of windows at once, just before they are written)."""

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


def common_spans(first: Sequence[Window], second: Sequence[Window]) -> list[Window]:
    """The parts inside both `first` and `second`, oldest first."""
    a, b = merge_spans(first), merge_spans(second)
    common, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if start < end:
            common.append(Window(start, end))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return common


def _whole_seconds(span: timedelta) -> int:
    return int(span.total_seconds())


class Steps:
    """The span one request covers, learned from Newton's answers and shared by the workers: doubled after an
    answer under a quarter of the split threshold, halved after one at it (which is never trusted: it is asked
    again in halves), kept in between, so answers stay well below the threshold in few requests."""

    def __init__(self, start: timedelta, threshold: int, most: timedelta = MAX_STEP) -> None:
        self._most = most
        self._threshold = threshold
        self._step = min(max(start, SECOND), most)
        self._lock = threading.Lock()

    @property
    def step(self) -> timedelta:
        """The span the next request should cover."""
        return self._step

    def learn(self, span: Window, answered: int) -> None:
        """Adapt to an answer of `answered` items for `span` (the answer at the threshold included)."""
        seconds = _whole_seconds(span.end - span.start)
        with self._lock:
            if answered >= self._threshold:
                self._step = min(self._step, timedelta(seconds=max(1, seconds // 2)))
            elif answered < self._threshold // 4:
                self._step = max(self._step, min(timedelta(seconds=2 * seconds), self._most))


class Planner:
    """Hands out the windows of a plan newest first, each as long as the step that fits Newton's answers now."""

    def __init__(self, spans: Sequence[Window], steps: Steps) -> None:
        self._spans = deque(spans)  # newest first
        self._cursor = spans[0].end if spans else datetime.min
        self._steps = steps
        self.planned: list[Window] = []  # in the order handed out, which is the order they are written in

    def next(self) -> Window | None:
        """The next window to fetch, or None when the plan is all handed out."""
        if not self._spans:
            return None
        span = self._spans[0]
        window = Window(max(span.start, self._cursor - self._steps.step), self._cursor)
        self._cursor = window.start
        if self._cursor <= span.start:
            self._spans.popleft()
            self._cursor = self._spans[0].end if self._spans else datetime.min
        self.planned.append(window)
        return window

    def total(self) -> int:
        """The windows handed out so far and, at today's step, those still to come: what a progress bar shows."""
        if not self._spans:
            return len(self.planned)
        step = _whole_seconds(self._steps.step)
        left = [self._cursor - self._spans[0].start, *(span.end - span.start for span in list(self._spans)[1:])]
        return len(self.planned) + sum(-(-_whole_seconds(span) // step) for span in left)


class Syncer:
    """Runs one sync of one account into one cache file."""

    def __init__(
        self,
        client: NewtonClient,
        store: AnyStore,
        account: str,
        options: SyncOptions | None = None,
        on_progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._account = account
        self._options = options or SyncOptions()
        self._on_progress = on_progress or (lambda progress: None)
        # DuckDB's memory limit for the writes, until one cannot be done within it (see `_write`).
        self._memory_limit = self._options.write_memory_limit
        self._widget_ids: list[str] = []
        # The span of one GetRecords call; of a window, which is one GetHistory call per widget; and of one
        # GetHistory call without a widget (it starts at the whole run of windows being written). Each run starts
        # from what the account's last sync learned.
        self._steps = Steps(self._options.window, self._options.split_threshold)
        self._window_steps = Steps(self._options.window, self._options.split_threshold)
        self._unlisted_steps = Steps(WHOLE_RUN, self._options.split_threshold, most=WHOLE_RUN)
        self._planner = Planner([], self._window_steps)
        self._wanted = wanted_span(self._options, utc_now())  # set again by each run
        self._days_done = 0
        self._lock = threading.Lock()  # the result's counts, noted by the workers
        self._stopping = threading.Event()  # the sync stops: windows still being fetched are dropped
        # A read still failing after the client's own retries is asked again at once (see `SyncOptions.retry_rounds`).
        self._read_retries = retry.RetryPolicy(
            self._options.retry_rounds, lambda error: isinstance(error, TransportFailure | UnexpectedAnswer)
        )

    def run(self, now: datetime | None = None) -> SyncResult:
        """Sync records, chats and widgets up to `now` (naive UTC); a damaged cache is quarantined and rebuilt.
        Raises SyncRunning when another sync of the same file, in any process, keeps running for longer than
        the options allow to wait."""
        with self._store.one_sync_at_a_time(self._options.wait_for_other_sync, SyncRunning, self._account):
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
            result = self._run(now)
        result.quarantined = quarantined
        return result

    def _run(self, now: datetime) -> SyncResult:
        complete, (records_step, window_step) = self._store.read(_plan_inputs, self._account)
        spans = plan_spans(complete, self._options, now)
        self._steps = Steps(records_step or self._options.window, self._options.split_threshold)
        self._window_steps = Steps(window_step or self._options.window, self._options.split_threshold)
        self._unlisted_steps = Steps(WHOLE_RUN, self._options.split_threshold, most=WHOLE_RUN)
        # Newest first, window by window too: what is complete stays one stretch back from now while older days
        # load, so a page can say "data before 7 Nov is incomplete", and a killed sync leaves no hole in between.
        self._planner = Planner(spans, self._window_steps)
        self._wanted = wanted_span(self._options, now)
        self._days_done = covered_days(self._wanted, complete)
        end = spans[0].end if spans else self._wanted.end
        result = SyncResult(start=spans[-1].start if spans else end, end=end)
        run_id = self._store.write(logs.start_run, self._account, self._planner.total())
        try:
            result.widgets = self._refresh_widgets(result)
            self._on_progress(SyncProgress(0, self._planner.total(), 0, 0, self._days_done, self._days_total))
            self._sync_windows(result, run_id)
        except (NewtonError, CacheError) as error:
            if isinstance(error, CacheDamaged | CacheStorageFailure):
                # Nothing can be recorded in a damaged file (`run` quarantines it) nor on a full disk; the next
                # sync marks this run interrupted.
                raise
            message = f"Sync stopped at {self._describe_failure(result)}: {error}"
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
        if self._stopping.is_set():
            raise _Dropped  # no more reads (nor retries with their waits) for a window that will not be written
        retried = False

        def on_retry(error: Exception, number: int, wait: float) -> None:
            nonlocal retried
            retried = True
            log.warning("Newton failed a read even after retries (%s); asking again (%d)", error, number)

        answer = retry.call_with_retries(read, self._read_retries, on_retry=on_retry)
        if retried:
            with self._lock:
                result.retried_reads += 1
        return answer

    def _capped(self, window: Window, result: SyncResult) -> None:
        with self._lock:
            result.capped_windows.append(window)

    def _refresh_widgets(self, result: SyncResult) -> int:
        widgets = self._ask(self._client.get_widgets, result)
        self._widget_ids = [w.id for w in widgets]
        self._store.write(data.replace_widgets, self._account, widgets, utc_now())
        return len(widgets)

    def _sync_windows(self, result: SyncResult, run_id: str) -> None:
        """Fetch up to `concurrency` windows at once with the cache closed; write them in the planned order every
        few seconds, so nothing is written past a window still missing."""
        workers = self._options.concurrency
        pending: list[Fetched] = []
        last_write = time.monotonic()
        self._stopping = threading.Event()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
            fetching: deque[Future[Fetched]] = deque()
            try:
                while True:
                    self._keep_fetching(pool, fetching, result)
                    if not fetching:
                        break
                    if not fetching[0].done():
                        wait([f for f in fetching if not f.done()], return_when=FIRST_COMPLETED)
                        continue
                    pending.append(fetching.popleft().result())  # the failure of a window is raised here, in order
                    waiting = sum(f.records.height for f in pending)
                    if waiting >= WRITE_EVERY_RECORDS or time.monotonic() - last_write >= WRITE_EVERY_SECONDS:
                        self._write(pending, result, run_id)
                        pending, last_write = [], time.monotonic()
            except NewtonError:
                # What was fetched in order before the failure is written, so the next sync resumes after it; its
                # chats without a widget were not asked, so its range stays incomplete for chats.
                if pending:
                    self._write(pending, result, run_id, chats_complete=False)
                raise
            finally:
                if fetching:  # stopped early: drop the windows still being fetched, at once
                    self._stopping.set()
                for future in fetching:
                    future.cancel()
        if pending:
            self._write(pending, result, run_id)

    def _keep_fetching(self, pool: ThreadPoolExecutor, fetching: deque[Future[Fetched]], result: SyncResult) -> None:
        """Start windows until `concurrency` are in flight (or the plan is all started)."""
        workers = self._options.concurrency
        running = sum(not f.done() for f in fetching)
        while running < workers and len(fetching) < workers * WAITING_PER_WORKER:
            window = self._planner.next()
            if window is None:
                return
            fetching.append(pool.submit(self._fetch_window, window, result))
            running += 1

    def _fetch_window(self, window: Window, result: SyncResult) -> Fetched:
        """A worker's part: a window's records, and its chats of each listed widget. The next windows grow while
        each widget's chats stay small, and shrink when they (or the records held) are many."""
        records = self._fetch_records(window, result)
        per_widget = [self._fetch_widget_chats(window, widget_id, result) for widget_id in self._widget_ids]
        self._window_steps.learn(window, max((len(chats) for chats in per_widget), default=0))
        if records.height >= WINDOW_RECORDS:
            self._window_steps.learn(window, self._options.split_threshold)
        return Fetched(window, records, [pair for chats in per_widget for pair in chats])

    def _write(self, fetched: list[Fetched], result: SyncResult, run_id: str, chats_complete: bool = True) -> None:
        """Write fetched windows and the sync state that covers them in one transaction: all of it, or none. The
        chats without a widget are asked first, once for each run of consecutive windows (`chats_complete`)."""
        records = pl.concat([item.records for item in fetched])
        chats = [pair for item in fetched for pair in item.chats]
        if chats_complete:
            chats += self._fetch_unlisted_chats(fetched, result)
        written = [(item.window.start, item.window.end) for item in fetched]
        arguments = (records, chats, written, chats_complete, result.windows + len(fetched), run_id, result)
        try:
            written_records, written_chats, complete = self._store.write(self._write_windows, *arguments)
        except duckdb.OutOfMemoryException:
            if self._memory_limit is None:
                raise
            # The limit keeps a large first sync's peak down; a write it cannot hold (a far larger cache) is not
            # worth failing the sync for. The transaction was rolled back: written again, and every later one,
            # with DuckDB's own limit.
            log.warning("A write needed more than DuckDB's memory limit of %s: written without it", self._memory_limit)
            self._memory_limit = None
            written_records, written_chats, complete = self._store.write(self._write_windows, *arguments)
        self._days_done = covered_days(self._wanted, complete)
        result.windows += len(fetched)
        result.records += written_records
        result.chats += written_chats
        self._on_progress(
            SyncProgress(
                result.windows, self._planner.total(), result.records, result.chats, self._days_done, self._days_total
            )
        )

    def _write_windows(
        self,
        con: duckdb.DuckDBPyConnection,
        records: pl.DataFrame,
        chats: list[tuple[ChatSession, str | None]],
        written: list[tuple[datetime, datetime]],
        chats_complete: bool,
        done: int,
        run_id: str,
        result: SyncResult,
    ) -> tuple[int, int, list[Window]]:
        """Inside `Store.write`'s one transaction: the rows, the ranges they complete, the run's progress and the
        step that fits the account now."""
        if self._memory_limit is not None:  # checked against MEMORY_SIZE: no quote in it
            con.execute(f"SET memory_limit = '{self._memory_limit}'")
        elif self._options.write_memory_limit is not None:  # given up (`_write`): DuckDB's own again
            con.execute("RESET memory_limit")
        synced_at = utc_now()
        written_records = data.upsert_records(con, self._account, records, synced_at)
        written_chats = data.upsert_chats(con, self._account, chats, synced_at)
        records_complete = data.save_complete_ranges(con, self._account, RECORDS, written)
        if chats_complete:
            complete_chats = data.save_complete_ranges(con, self._account, CHATS, written)
        else:
            complete_chats = data.complete_ranges(con, self._account, CHATS)
        logs.progress_run(con, run_id, done, result.records + written_records, result.chats + written_chats)
        data.save_sync_steps(con, self._account, (self._steps.step, self._window_steps.step))
        complete = common_spans([Window(*r) for r in records_complete], [Window(*r) for r in complete_chats])
        return written_records, written_chats, complete

    def _fetch_records(self, window: Window, result: SyncResult) -> pl.DataFrame:
        """A window's records in as few requests as the answers allow (`Steps`): a part answering at the threshold
        is asked again in smaller parts. The answers are typed together at the end, in this worker: typing costs
        polars a fixed price per frame, which a window's few large frames pay once."""
        parts = []
        cursor = window.start
        while cursor < window.end:
            part = Window(cursor, min(cursor + self._steps.step, window.end))
            first, last = part.newton_bounds()
            wanted = RecordFilter(request_date_from=first, request_date_to=last)
            answer = self._ask(functools.partial(self._client.get_untyped_records, wanted), result)
            self._steps.learn(part, answer.height)
            if answer.height >= self._options.split_threshold:
                if part.halves() is not None:
                    continue  # re-fetch this span in smaller steps
                log.warning(
                    "Newton answered %d records for the single second %s; some may be missing", answer.height, first
                )
                self._capped(part, result)
            parts.append(answer)
            cursor = part.end
        return typed_records(parts)

    def _fetch_widget_chats(
        self, window: Window, widget_id: str, result: SyncResult
    ) -> list[tuple[ChatSession, str | None]]:
        """One widget's chats of a window, asked again in halves while an answer reaches the threshold."""
        first, last = window.newton_bounds()
        answer = self._ask(functools.partial(self._client.get_chat_history, widget_id, first, last), result)
        if len(answer) >= self._options.split_threshold:
            halves = window.halves()
            if halves is not None:
                return [pair for half in halves for pair in self._fetch_widget_chats(half, widget_id, result)]
            self._capped(window, result)
        return [(session, widget_id) for session in answer]

    def _fetch_unlisted_chats(self, fetched: list[Fetched], result: SyncResult) -> list[tuple[ChatSession, None]]:
        """The chats without a listed widget (of widgets removed since) of the windows about to be written: asked
        once for each run of consecutive windows, in parts only as small as the answers require. A session
        already read with its widget is skipped, so it keeps that widget."""
        sessions: list[tuple[ChatSession, None]] = []
        for run in _consecutive(fetched):
            known = {(s.client_id, s.start_time) for item in run for s, _ in item.chats}
            span = Window(run[-1].window.start, run[0].window.end)
            cursor = span.end
            while cursor > span.start:
                part = Window(max(span.start, cursor - self._unlisted_steps.step), cursor)
                answer = self._unlisted_chats(part, known, result)
                if answer is None:
                    continue  # at the threshold: asked again in a shorter part
                sessions += [(session, None) for session in answer]
                cursor = part.start
        return sessions

    def _unlisted_chats(self, part: Window, known: set[ChatKey], result: SyncResult) -> list[ChatSession] | None:
        """One GetHistory call without a widget; None when its answer reached the threshold and `part` can be
        split (Newton's answer also held the known sessions, skipped unparsed: they count for the cap)."""
        first, last = part.newton_bounds()
        answer = self._ask(functools.partial(self._client.get_chat_history, None, first, last, known), result)
        already = sum(1 for _, start in known if start is not None and part.start <= start < part.end)
        self._unlisted_steps.learn(part, len(answer) + already)
        if len(answer) + already >= self._options.split_threshold:
            if part.halves() is not None:
                return None
            self._capped(part, result)
        return answer

    def _describe_failure(self, result: SyncResult) -> str:
        planned = self._planner.planned
        total = max(self._planner.total(), result.windows + 1)
        failed = planned[result.windows] if result.windows < len(planned) else self._planner.next()
        if failed is None:
            return "the end"
        return f"window {result.windows + 1} of {total} ({failed.start:%Y-%m-%d %H:%M} UTC)"

    @staticmethod
    def _summary(result: SyncResult) -> str:
        text = f"{result.records} records and {result.chats} chats in {result.windows} windows"
        if result.capped_windows:
            text += f"; {len(result.capped_windows)} one-second windows were at the answer limit"
        if result.retried_reads:
            text += f"; {result.retried_reads} reads succeeded only when asked again after Newton kept failing"
        return text


class _Dropped(Exception):
    """A worker's read after the sync stopped (a window failed, or the cache): the window is not finished."""


def _consecutive(fetched: list[Fetched]) -> list[list[Fetched]]:
    """Fetched windows (newest first) in runs that each cover one stretch of time without a gap."""
    runs: list[list[Fetched]] = []
    for item in fetched:
        if runs and runs[-1][-1].window.start == item.window.end:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _plan_inputs(
    con: duckdb.DuckDBPyConnection, account: str
) -> tuple[list[Window], tuple[timedelta | None, timedelta | None]]:
    """What a sync plans from: the ranges complete for records and for chats alike, and the records step and
    window the account's last sync ended with."""
    records, chats = (
        [Window(*span) for span in data.complete_ranges(con, account, resource)] for resource in (RECORDS, CHATS)
    )
    return common_spans(records, chats), data.sync_steps(con, account)


def sync(
    client: NewtonClient,
    store: AnyStore,
    account: str,
    options: SyncOptions | None = None,
    on_progress: Callable[[SyncProgress], None] | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Bring the cache up to date with Newton (see `Syncer`)."""
    return Syncer(client, store, account, options, on_progress).run(now)
