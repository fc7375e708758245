"""The load harness (tests/test_load.py, and benchmarks/load_benchmark.py, whose docstring tells the whole load).

`serve` runs the dashboard with `streamlit run` on loopback; a `Session` speaks Streamlit's websocket protocol as a
browser tab does and times each page run; `run_load` drives many sessions through `STATES` while syncs rewrite the
same frozen account, and compares every number shown with the one `dashboard.metrics` computes serially.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from dashboard import calls, i18n
from dashboard.charts import channel_name
from dashboard.metrics import Definitions, Filters, Metrics
from dashboard.money import Money
from dashboard.periods import preset_period
from dashboard.settings import load_timezone
from dashboard.store import AnyStore, Store, schema
from dashboard.sync import SyncProgress
from tests.support.bench_cache import ACCOUNT, BenchCache, resync

ROOT = Path(__file__).resolve().parent.parent.parent

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

LANG = "en"
RUN_TIMEOUT = 300.0  # seconds a page run may take before the session counts it as failed
# (period preset, channels): the filters sessions move through; every one selects some calls in the demo account.
STATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("last_30_days", ()),
    ("last_7_days", ("email",)),
    ("last_90_days", ("paid_search", "organic_search")),
    ("last_month", ("direct",)),
    ("last_7_days", ()),
    ("last_30_days", ("social",)),
    ("last_90_days", ()),
    ("yesterday", ("paid_search",)),
)
# The Overview's metric labels → (compare() row, how the page formats the value, change shown in points? None: no
# change shown).
OVERVIEW_METRICS = {
    "requests": ("requests", i18n.integer, False),
    "answer_rate": ("answer_rate", i18n.percent, True),
    "speed_median": ("speed_median_seconds", i18n.seconds, False),
    "within_30s": ("within_30s_share", i18n.percent, True),
    "lead_value": ("lead_value", i18n.roubles, False),
    "pending_headline": ("pending", i18n.integer, None),  # a count without a change
    "callers_headline": ("callers", i18n.integer, False),
    "new_callers_headline": ("new_callers", i18n.integer, False),
    "repeat_callers_headline": ("repeat_callers", i18n.integer, False),
}
# With costs stored, the Overview adds the money of the view (the `money` headlines), against the same comparison.
MONEY_METRICS = {
    "spend_headline": ("cost", i18n.roubles, False),
    "cpl_headline": ("cpl", i18n.roubles, False),
    "romi_headline": ("romi", i18n.percent, True),
}
_CALLS_COUNT = re.compile(r"([\d,]+) calls?\b")  # "1 call", "4,544 calls"


# The server ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A `streamlit run` of the dashboard on loopback."""

    url: str
    pid: int
    log: Path

    @property
    def stream(self) -> str:
        """The websocket endpoint a browser tab connects to."""
        return self.url.replace("http://", "ws://") + "/_stcore/stream"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(
    cache_path: Path,
    env: dict[str, str] | None = None,
    startup: float = 90.0,
    launcher: Sequence[str] = ("-m", "streamlit"),
    options: Sequence[str] = (),
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """The dashboard as a person starts it, on `cache_path`, with no Newton settings from this machine.

    `launcher` is what follows `python` to reach Streamlit's command line; `options` are more `streamlit run` flags;
    `cwd` the folder it runs in (whose .streamlit/ holds its config and secrets).
    """
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    environment |= {"NEWTON_CACHE": str(Path(cache_path).resolve()), **(env or {})}
    with tempfile.NamedTemporaryFile("w", prefix="streamlit-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            [sys.executable, *launcher, "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
             "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", *options],
            cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310 - loopback
                    if answer.read() == b"ok":
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the dashboard did not start: {Path(log.name).read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield Server(url, process.pid, Path(log.name))
    finally:
        process.terminate()
        process.wait(timeout=30)
        Path(log.name).unlink()


def rss_mib(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def server_errors(server: Server) -> list[str]:
    """The errors the server logged: each traceback as its exception and the last frame in this project."""
    errors, frame, inside = [], "", False
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            inside, frame = True, ""
        elif inside and line.startswith("  File ") and str(ROOT) in line:
            frame = line.strip().replace(str(ROOT) + "/", "")
        elif inside and line and not line.startswith(" "):
            errors.append(f"{line} ({frame})" if frame else line)
            inside = False
        elif " ERROR " in line:
            errors.append(line)
    return errors


# A browser-like session ----------------------------------------------------------------------------------------


@dataclass
class PageRun:
    """What one script run showed, and how long it took."""

    page: str  # its url path; "" is the default page, the Overview
    seconds: float
    started: float  # time.time()
    metrics: dict[str, tuple[str, str]] = field(default_factory=dict)  # label → (value, change)
    texts: list[str] = field(default_factory=list)  # markdown, captions, alerts, button labels
    errors: list[str] = field(default_factory=list)  # exceptions and error boxes shown on the page

    def calls_count(self) -> int | None:
        """The number of calls the Calls page says match ("... of 4,544 calls", "1 call")."""
        found = [m for text in self.texts for m in _CALLS_COUNT.findall(text)]
        return int(found[-1].replace(",", "")) if found else None


class Session:
    """One browser tab: a websocket to the server, the widget values it has set, the page it is on."""

    def __init__(self, websocket: ClientConnection, timeout: float = RUN_TIMEOUT) -> None:
        self._ws = websocket
        self._timeout = timeout
        self._widget_ids: dict[str, str] = {}  # widget key → the id Streamlit gave it
        self._labelled: dict[str, str] = {}  # widget label → its id, for widgets without a key (a form's)
        self.session_id = ""  # Streamlit's id for this session (upload URLs carry it), from its first message
        self._widgets: dict[str, Any] = {}  # widget key → value set by this session
        self._pages: dict[str, str] = {}  # url path → page script hash
        self._page_hash = ""
        self._query = ""
        self.page = ""
        # Called with each element's kind and body as it arrives, before the run ends (a sync's progress bar).
        self.on_element: Callable[[str, Any], None] | None = None

    def open(self, page: str = "", query: dict[str, str | list[str]] | None = None) -> PageRun:
        """The first run of the session, as opening a link does: `/{page}?{query}`."""
        state = ClientState(page_name=page, query_string=urlencode(query or {}, doseq=True))
        return self._run(state, page)

    def set_filters(self, preset: str, channels: Sequence[str]) -> PageRun:
        """Choose a period preset and channels in the sidebar, as a person does (one rerun)."""
        self._widgets["preset"] = i18n.text(f"preset_{preset}", LANG)
        self._widgets["f_channel"] = [channel_name(code, LANG) for code in channels]
        return self._run(self._state(), self.page)

    def switch(self, page: str) -> PageRun:
        """Click a page in the navigation ("" is the default page)."""
        return self._run(self._state(self._pages[page]), page)

    def click(self, key: str) -> PageRun:
        """Press a button."""
        state = self._state()
        button = state.widget_states.widgets.add()
        button.id = self._widget_ids[key]
        button.trigger_value = True
        return self._run(state, self.page)

    def submit(self, texts: dict[str, str], button: str) -> PageRun:
        """Type into text inputs and press a button, all found by their labels, in one rerun (a form's submit)."""
        state = self._state()
        for label, text in texts.items():
            typed = state.widget_states.widgets.add()
            typed.id, typed.string_value = self._labelled[label], text
        pressed = state.widget_states.widgets.add()
        pressed.id, pressed.trigger_value = self._labelled[button], True
        return self._run(state, self.page)

    def _state(self, page_hash: str | None = None) -> ClientState:
        state = ClientState(page_script_hash=page_hash or self._page_hash, query_string=self._query)
        for key, value in self._widgets.items():
            widget = state.widget_states.widgets.add()
            widget.id = self._widget_ids[key]
            if isinstance(value, list):
                widget.string_array_value.data[:] = value
            else:
                widget.string_value = value
        return state

    def _run(self, state: ClientState, page: str) -> PageRun:
        message = BackMsg()
        message.rerun_script.CopyFrom(state)
        started, clock = time.time(), time.perf_counter()
        self._ws.send(message.SerializeToString())
        run = PageRun(page, 0.0, started)
        while True:
            try:
                data = self._ws.recv(timeout=self._timeout)
            except TimeoutError:
                run.errors.append(f"no end of the run within {self._timeout:.0f} s")
                break
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "script_finished":
                if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                if forward.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.errors.append("the script did not compile")
                break
            self._read(forward, kind, run)
        run.seconds = time.perf_counter() - clock
        self.page = page
        return run

    def _read(self, forward: ForwardMsg, kind: str | None, run: PageRun) -> None:
        if kind == "new_session":
            self.session_id = forward.new_session.initialize.session_id
        elif kind == "navigation":
            self._page_hash = forward.navigation.page_script_hash
            self._pages = {p.url_pathname: p.page_script_hash for p in forward.navigation.app_pages}
        elif kind == "page_info_changed":
            self._query = forward.page_info_changed.query_string
        elif kind == "page_not_found":
            run.errors.append(f"page not found: {forward.page_not_found.page_name}")
        elif kind == "session_event" and forward.session_event.WhichOneof("type") == "script_compilation_exception":
            run.errors.append(forward.session_event.script_compilation_exception.message)
        elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
            element = forward.delta.new_element
            name = element.WhichOneof("type")
            if name is None:
                return
            body = getattr(element, name)
            widget_id = getattr(body, "id", None)
            if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                self._widget_ids[widget_id.rsplit("-", 1)[1]] = widget_id
                if isinstance(label := getattr(body, "label", None), str):
                    self._labelled[label] = widget_id
            if self.on_element is not None:
                self.on_element(name, body)
            if name == "exception":
                run.errors.append(f"{body.type}: {body.message}")
            elif name == "alert" and body.format == Alert.ERROR:
                run.errors.append(body.body)
            elif name == "metric":
                run.metrics[body.label] = (body.body, body.delta)
            elif name in ("markdown", "alert", "text"):
                run.texts.append(body.body)
            elif name in ("button", "download_button"):
                run.texts.append(body.label)


@contextmanager
def session(server: Server, timeout: float = RUN_TIMEOUT) -> Iterator[Session]:
    """A new browser tab on the dashboard (no run yet: `open` it)."""
    with connect(server.stream, subprotocols=[Subprotocol("streamlit")], max_size=None, proxy=None,
                 ping_interval=None) as websocket:  # fmt: skip
        yield Session(websocket, timeout)


# What the numbers must be ----------------------------------------------------------------------------------------


def filters_for(preset: str, channels: Sequence[str], today: date, as_of: datetime | None = None) -> Filters:
    """The filters the sidebar builds for a preset and channels, at the moment `as_of` (UTC)."""
    return Filters(period=preset_period(preset, today), chosen={"channel": tuple(channels)}, as_of=as_of)


def expected_overview(metrics: Metrics, filters: Filters, preset: str) -> dict[str, tuple[str, str]]:
    """The Overview's headline figures and their changes, computed serially, as the page formats them."""
    rows = metrics.compare(filters, "previous", preset).iter_rows(named=True)
    compared = {row["metric"]: row for row in rows}
    asked = dict(OVERVIEW_METRICS)
    spending = Money.beside(metrics)
    if spending.has_costs():
        compared |= {row["metric"]: row for row in spending.compare(filters, "previous", preset).iter_rows(named=True)}
        asked |= MONEY_METRICS
    shown = {}
    for label, (metric, format_value, as_points) in asked.items():
        row = compared[metric]
        delta = (
            None
            if as_points is None
            else i18n.change(row["current"], row["previous"], LANG, as_points=as_points, comparable=row["comparable"])
        )
        shown[i18n.text(label, LANG)] = (format_value(row["current"], LANG), delta or "")
    return shown


# The Overview's numbers depend on the minute they are for (pending callbacks, a period up to the same time of day):
# they are computed for every minute the load may span, and a run is held to the minutes it ran in.
LOAD_MINUTES = 15


@dataclass(frozen=True)
class Expected:
    """The numbers each filter state must show, by state index (`overview` for the load's first minute)."""

    today: date
    overview: dict[int, dict[str, tuple[str, str]]]
    calls: dict[int, int]
    overview_by_minute: dict[datetime, dict[int, dict[str, tuple[str, str]]]] = field(default_factory=dict)

    def overviews(self, run: PageRun, state: int) -> list[dict[str, tuple[str, str]]]:
        """What the Overview may show for `state` in a run: the numbers of the minutes it ran in."""
        minutes = {_minute(run.started), _minute(run.started + run.seconds)}
        found = [self.overview_by_minute[m][state] for m in sorted(minutes) if m in self.overview_by_minute]
        return found or [self.overview[state]]


def _minute(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None, second=0, microsecond=0)


def expected_numbers(cache_path: Path, states: Sequence[tuple[str, tuple[str, ...]]]) -> Expected:
    return expected_in(Store(cache_path), ACCOUNT, load_timezone(env={}), states)


def expected_in(
    store: AnyStore, account: str, zone: ZoneInfo, states: Sequence[tuple[str, tuple[str, ...]]]
) -> Expected:
    """The numbers one account's pages must show for each of `states`, computed serially from `store` (a file or a
    lake), its days in `zone`."""
    start = _minute(datetime.now(UTC).timestamp())
    today = datetime.now(zone).date()
    by_minute: dict[datetime, dict[int, dict[str, tuple[str, str]]]] = {}
    with store.reading() as reading:
        metrics = Metrics(reading, account, Definitions(zone=zone))
        for minute in (start + timedelta(minutes=n) for n in range(LOAD_MINUTES)):
            day = minute.replace(tzinfo=UTC).astimezone(zone).date()
            by_minute[minute] = {
                index: expected_overview(metrics, filters_for(preset, channels, day, minute), preset)
                for index, (preset, channels) in enumerate(states)
            }
    counts = {}
    with calls.open_calls(store, account, zone) as data:
        for index, (preset, channels) in enumerate(states):
            counts[index] = data.listing(filters_for(preset, channels, today), "", lang=LANG).total
    return Expected(today, by_minute[start], counts, by_minute)


def wrong_numbers(run: PageRun, state: int, expected: Expected) -> list[str]:
    """How what a page showed differs from the serial numbers for its filters (empty: all equal)."""
    if run.page in ("", "overview"):
        candidates = expected.overviews(run, state)
        if any(run.metrics == want for want in candidates):
            return []
        want = candidates[-1]
        if set(run.metrics) != set(want):
            return [f"overview shows metrics {sorted(run.metrics)}, expected {sorted(want)}"]
        return [f"{label}: shows {run.metrics[label]}, expected {want[label]}" for label in want
                if run.metrics[label] != want[label]]  # fmt: skip
    if run.page == "calls":
        count, want_count = run.calls_count(), expected.calls[state]
        if want_count and count != want_count:
            return [f"calls: shows {count} calls, expected {want_count}"]
    return []


# The load --------------------------------------------------------------------------------------------------------


@dataclass
class SessionReport:
    """Everything one session saw."""

    runs: list[tuple[PageRun, str]] = field(default_factory=list)  # (run, what was done)
    errors: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


class Overlap:
    """Makes the syncs overlap the sessions on any machine, not by luck of timing: the syncs start once every
    session has shown its first page, and the sessions go on only once each kind of sync has begun writing."""

    def __init__(self, sessions: int, kinds: Sequence[str], wait: float = RUN_TIMEOUT) -> None:
        self._left = sessions
        self._lock = threading.Lock()
        self._wait = wait
        context = multiprocessing.get_context("spawn")
        self.sessions_running = context.Event()  # a process sync waits for it too
        self.begun = {kind: context.Event() for kind in kinds}

    def session_running(self) -> None:
        """One session has shown its first page; then hold it until every kind of sync has begun."""
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.sessions_running.set()
        deadline = time.monotonic() + self._wait
        for began in self.begun.values():
            began.wait(max(deadline - time.monotonic(), 0.0))


def drive(
    server: Server,
    index: int,
    rounds: int,
    think: float,
    expected: Expected,
    start: threading.Barrier,
    overlap: Overlap | None = None,
    link: dict[str, str] | None = None,
) -> SessionReport:
    """One session: open a link with its own filters (and `link`'s parameters, such as `account`), then change
    filters and switch pages, checking each run."""
    report = SessionReport()
    pace = random.Random(index)  # a fixed pace per session: runs are reproducible
    state = index % len(STATES)
    preset, channels = STATES[state]
    start.wait()
    # People arrive at their own moments, like their clicks: with --think 0 all open at once (the worst case).
    time.sleep(pace.uniform(0, 2 * think))

    def check(run: PageRun, action: str) -> None:
        report.runs.append((run, action))
        report.errors += [f"session {index}, {action} on {run.page or 'overview'}: {e}" for e in run.errors]
        if not run.errors:
            report.wrong += [f"session {index}, {action} on {run.page or 'overview'}, filters {STATES[state]}: {w}"
                             for w in wrong_numbers(run, state, expected)]  # fmt: skip

    held = overlap is None
    try:
        with session(server) as tab:
            check(tab.open("", {**(link or {}), "preset": preset, "channel": list(channels)}), "open a link")
            if overlap is not None:
                held = True
                overlap.session_running()
            page = ""  # the default page, the Overview
            for turn in range(rounds):
                time.sleep(pace.uniform(0, 2 * think))
                state = (index + turn + 1) % len(STATES)
                check(tab.set_filters(*STATES[state]), "change filters")
                time.sleep(pace.uniform(0, 2 * think))
                page = "calls" if page == "" else ""
                check(tab.switch(page), "switch page")
    except Exception as error:  # noqa: BLE001 - any failure of a session is a finding, reported with the others
        report.errors.append(f"session {index} failed: {error!r}")
    if not held and overlap is not None:
        overlap.session_running()  # a session that failed to open must not keep the syncs from starting
    return report


SKIPPED = "skipped: another sync was running"


@dataclass
class SyncRun:
    """One concurrent sync: where it ran, when, and how it ended."""

    where: str  # "process" or "server"
    started: float
    finished: float
    outcome: str  # "ok" or the error


def sync_loop(
    path: str,
    demo_records: int,
    synced_at: str,
    stop: Event,
    results: Queue[tuple[Any, ...]],
    changing: bool,
    start: Event | None = None,
    begun: Event | None = None,
) -> None:
    """Re-sync the frozen account's last 7 days again and again, from a process of its own, until told to stop.
    With `changing`, each sync then gives the data a new version, as a sync that brought new calls does. With
    `start`, the first sync waits for it; `begun` is set once a sync has written its first window."""
    bench = BenchCache(Path(path), demo_records, datetime.fromisoformat(synced_at), None)
    newton = bench.newton()
    if start is not None:
        start.wait(RUN_TIMEOUT)

    def wrote(progress: SyncProgress) -> None:
        if begun is not None and progress.windows_done:
            begun.set()

    while not stop.is_set():
        started = time.time()
        try:
            resync(bench, newton, on_progress=wrote)
            if changing:
                Store(bench.path).write(schema.new_data_version)
            results.put(("process", started, time.time(), "ok"))
            stop.wait(2.0)  # then again soon, but not at once: a sync inside the server gets its turn too
        except Exception as error:  # noqa: BLE001 - reported by the parent
            results.put(("process", started, time.time(), repr(error)))


def press_sync_now(
    server: Server, stop: threading.Event, runs: list[SyncRun], start: Event | None = None, begun: Event | None = None
) -> None:
    """One more session, on the Sync page, pressing "Sync now" again and again: a sync inside the server. With
    `start`, the first press waits for it; `begun` is set once a sync has shown progress past its first window."""
    with session(server) as tab:
        tab.open("sync")
        bars = [0]

        def progress_shown(kind: str, body: Any) -> None:
            if kind == "progress":
                bars[0] += 1  # the empty bar comes first; the next one reports a written window
                if bars[0] > 1 and begun is not None:
                    begun.set()

        tab.on_element = progress_shown
        if start is not None:
            start.wait(RUN_TIMEOUT)
        while not stop.is_set():
            bars[0] = 0
            started = time.time()
            run = tab.click("sync_now")
            if any("already running" in text for text in run.texts):
                runs.append(SyncRun("server", started, time.time(), SKIPPED))
                stop.wait(1.0)  # as a person would: look again a little later
                continue
            done = any("Synced" in text for text in run.texts)
            outcome = "ok" if done and not run.errors else "; ".join(run.errors) or "no 'Synced' message"
            runs.append(SyncRun("server", started, time.time(), outcome))


@dataclass
class LoadResult:
    """What a load run measured."""

    sessions: list[SessionReport]
    expected: Expected  # the serial numbers, computed before the load
    syncs: list[SyncRun]
    seconds: float
    started: float
    finished: float
    server_errors: list[str]
    peak_rss_mib: float

    @property
    def runs(self) -> list[tuple[PageRun, str]]:
        return [item for report in self.sessions for item in report.runs]

    @property
    def errors(self) -> list[str]:
        return [e for report in self.sessions for e in report.errors]

    @property
    def wrong(self) -> list[str]:
        return [w for report in self.sessions for w in report.wrong]

    def syncs_during_load(self, where: str) -> list[SyncRun]:
        """Successful syncs of one kind that wrote while the sessions were running."""
        return [s for s in self.syncs if s.where == where and s.outcome == "ok" and s.finished > self.started
                and s.started < self.finished]  # fmt: skip


def run_load(
    server: Server,
    bench: BenchCache,
    *,
    sessions: int = 20,
    rounds: int = 4,
    think: float = 0.0,
    sync: str = "both",
    changing_syncs: bool = False,
    expected: Expected | None = None,
    hold_for_syncs: bool = False,
) -> LoadResult:
    """`sessions` concurrent sessions against `server` while the account is re-synced (see the module's doc);
    their numbers are checked against `expected` (by default computed now, from the cache). With
    `hold_for_syncs`, the syncs start once every session is running, and the sessions wait until each kind of
    sync has begun writing (see `Overlap`): a test can then count on the overlap."""
    expected = expected or expected_numbers(bench.path, STATES)
    context = multiprocessing.get_context("spawn")
    stop_process, stop_server = context.Event(), threading.Event()
    queue: Queue[tuple[Any, ...]] = context.Queue()
    syncs: list[SyncRun] = []
    workers: list[threading.Thread] = []
    process = None
    kinds = [kind for kind in ("process", "server") if sync in (kind, "both")]
    overlap = Overlap(sessions, kinds) if hold_for_syncs else None
    start = overlap.sessions_running if overlap else None
    if "process" in kinds:
        args = (str(bench.path), bench.demo_records, bench.synced_at.isoformat(), stop_process, queue, changing_syncs,
                start, overlap.begun["process"] if overlap else None)  # fmt: skip
        process = context.Process(target=sync_loop, args=args, daemon=True)
        process.start()
    if "server" in kinds:
        began = overlap.begun["server"] if overlap else None
        workers.append(threading.Thread(target=press_sync_now, args=(server, stop_server, syncs, start, began),
                                        daemon=True))  # fmt: skip
        workers[-1].start()
    barrier = threading.Barrier(sessions + 1)
    reports: list[SessionReport] = [SessionReport() for _ in range(sessions)]

    def one(index: int) -> None:
        reports[index] = drive(server, index, rounds, think, expected, barrier, overlap)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(sessions)]
    for thread in threads:
        thread.start()
    peak = [0.0]
    watching = threading.Event()

    def watch_memory() -> None:
        while not watching.wait(0.5):
            peak[0] = max(peak[0], rss_mib(server.pid)[0])

    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    barrier.wait()
    started, clock = time.time(), time.perf_counter()
    for thread in threads:
        thread.join()
    finished, seconds = time.time(), time.perf_counter() - clock
    watching.set()
    stop_server.set()
    stop_process.set()
    for worker in workers:
        worker.join(timeout=RUN_TIMEOUT)
    if process is not None:
        process.join(timeout=RUN_TIMEOUT)
        if process.is_alive():
            process.terminate()
    while True:
        try:
            where, began, ended, outcome = queue.get(timeout=0.5)
        except Empty:
            break
        syncs.append(SyncRun(where, began, ended, outcome))
    peak[0] = max(peak[0], rss_mib(server.pid)[1])
    return LoadResult(reports, expected, syncs, seconds, started, finished, server_errors(server), peak[0])


# The figures -----------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]
