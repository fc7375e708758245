"""The dashboard's speed and memory on a 1M-record cache: page runs, the Overview in a browser, the server's RSS.

Usage: python benchmarks/dashboard_benchmark.py [--cache cache/bench-1m-synced.duckdb] [--records 1000000]
       [--repeat 3] [--parts pages browser switches] [--profile PAGE] [--baseline CHECKOUT]

- Page runs (AppTest, in this process, from dashboard_app.py): for every page, a new session opens the Overview and
  switches to the page (the first run on the page), then changes the period preset (a rerun), then the channel
  filter (another rerun). Targets: first run < 1 s, rerun < 300 ms. Beside each rerun, the DuckDB statements it
  sent are run again bare (one connection, one after another, each result fetched as a polars frame, no Streamlit
  and no memoized answers): a rerun's ratio is its time ÷ its queries' time (target: at most 2).
- The browser (`streamlit run` and Debian's Chromium through Playwright): from `page.goto` of the Overview to its
  first chart drawn and visible (a `.js-plotly-plot`, or the marks of a Vega-Lite chart), each time in a new browser
  context (a new visitor). Target < 2 s. With --baseline CHECKOUT (say `git worktree add /tmp/base main`), that
  checkout's dashboard is served too, on a copy of the cache, and the visits alternate between the two servers, so
  both are measured under the same load; the ratio of their medians is printed.
- Memory: the server process's RSS (/proc) with three browser sessions on the Overview, then after each has
  visited Calls. Target < 700 MB.
- Page switches (`--parts switches`; `--records 30000` is the demo account): in Chromium, from the click on a page
  in the top navigation to that page's main element (its chart or table) drawn, once its script run has ended
  (so nothing left over from the page before counts); every page in turn, `--repeat` rounds. Target < 1 s.
- --profile PAGE: where a rerun of PAGE spends its time (cProfile of the script thread, this project's code only).

Before each part the cache's sync state is marked fresh, so opening the dashboard never starts its automatic sync
(which would fetch the 30,000-record embedded account into the file); the count of sync runs is checked after.
Without --cache the cache is built in a temporary folder (about 2 minutes) and deleted afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import duckdb
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `tests.support` importable
    sys.path.insert(0, str(ROOT))

from dashboard.store import connection  # noqa: E402
from tests.support.bench_cache import BenchCache, contents, freshen, open_or_build, sync_runs  # noqa: E402
from tests.support.load import Server, rss_mib, serve, server_errors  # noqa: E402

ENTRY = str(ROOT / "dashboard_app.py")  # the script; streamlit_app.py serves it (st.App)
PAGES = ("overview", "attribution", "calls", "lost_leads", "chats", "lead_prices", "costs", "widgets", "sync")
FILTERED = PAGES[:5]  # the pages with the sidebar's period and filters (dashboard/ui/sidebar.py WITHOUT_FILTERS)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
FIRST_RUN_TARGET, RERUN_TARGET, CHART_TARGET, SWITCH_TARGET, RATIO_TARGET = 1.0, 0.3, 2.0, 1.0, 2.0
# A chart drawn: plotly draws a `.js-plotly-plot` at once; Vega-Lite's SVG gets its mark groups once it has drawn.
CHART, TABLE = ".js-plotly-plot, .vega-embed svg .role-mark", '[data-testid="stDataFrame"]'
CHART_ELEMENTS = ("plotly_chart", "vega_lite_chart")  # the chart elements a script run sends
# Each page's title in the top navigation (English) and its main element.
NAVIGATION = {"overview": ("Overview", CHART), "attribution": ("Attribution", TABLE), "calls": ("Calls", TABLE),
              "lost_leads": ("Lost leads", CHART), "chats": ("Chats", TABLE),
              "lead_prices": ("Lead prices", '[data-testid="stFileUploader"]'),
              "costs": ("Costs", '[data-testid="stFileUploader"]'), "widgets": ("Widgets", TABLE),
              "sync": ("Sync", TABLE)}  # fmt: skip
MEMORY_TARGET_MIB = 700e6 / 2**20  # 700 MB


class _NoBareModeWarning(logging.Filter):
    """AppTest's constructor touches session state outside a script run, and Streamlit warns about it each time."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoBareModeWarning())


def verdict(seconds: float, target: float) -> str:
    return "meets" if seconds < target else "MISSES"


# Page runs under AppTest -------------------------------------------------------------------------------------------


@contextmanager
def dashboard_environment(cache_path: Path) -> Iterator[None]:
    """Demo mode on `cache_path`, with no Newton settings from this machine, run from the project folder."""
    saved = dict(os.environ)
    folder = Path.cwd()
    for name in [n for n in os.environ if n.startswith("NEWTON_")]:
        del os.environ[name]
    os.environ["NEWTON_CACHE"] = str(cache_path.resolve())
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class Took:
    """A page run's wall-clock time and the CPU time this process spent meanwhile (all threads, DuckDB's too)."""

    wall: float
    cpu: float


def timed_run(test: AppTest) -> Took:
    started, cpu = time.perf_counter(), time.process_time()
    test.run()
    took = Took(time.perf_counter() - started, time.process_time() - cpu)
    if test.exception:
        raise RuntimeError(f"the page failed: {test.exception}")
    return took


def open_page(page: str) -> tuple[AppTest, Took]:
    """A new session on `page`, as tests/test_app.py does it: the entry script first, then switch; the page's
    first run and its time (for the Overview, the session's first run)."""
    test = AppTest.from_file(ENTRY, default_timeout=300)
    first = timed_run(test)
    if page != "overview":
        test.switch_page(f"app_pages/{page}.py")
        first = timed_run(test)
    return test, first


class Sent:
    """The DuckDB statements the connections opened meanwhile were given (with their parameters), in order."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str, Any]] = []  # (method, SQL, parameters)
        self.recording = False


class RecordingConnection:
    """A DuckDB connection (or cursor) that notes each statement it is given while `sent.recording`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sent: Sent) -> None:
        self._con = con
        self._sent = sent

    def _note(self, method: str, query: str, parameters: Any) -> None:
        if self._sent.recording:
            self._sent.statements.append((method, query, parameters))

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._note("sql", query, kwargs.get("params"))
        return self._con.sql(query, *args, **kwargs)

    def execute(self, query: str, parameters: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._note("execute", query, parameters)
        return self._con.execute(query, parameters, *args, **kwargs)

    def cursor(self) -> RecordingConnection:
        return RecordingConnection(self._con.cursor(), self._sent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@contextmanager
def recorded(sent: Sent) -> Iterator[None]:
    """Connections to the cache opened meanwhile note what they are given (see `Sent`)."""
    opening = connection._open

    def recording_open(path: Path, wait: float) -> Any:
        return RecordingConnection(opening(path, wait), sent)

    with patch.object(connection, "_open", recording_open):
        yield


def bare(cache_path: Path, statements: list[tuple[str, str, Any]]) -> float:
    """Seconds to run `statements` again on one connection, one after another, each answer fetched (a `sql`
    relation as a polars frame, an `execute` with fetchall): what the rerun asked of DuckDB, without the rest."""
    con = duckdb.connect(str(cache_path))
    try:
        started = time.perf_counter()
        for method, query, parameters in statements:
            if method == "sql":
                relation = con.sql(query, params=parameters)
                if relation is not None:
                    relation.pl()
            else:
                con.execute(query, parameters).fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


@dataclass(frozen=True)
class Rerun:
    """A rerun's time and its DuckDB statements' time run bare."""

    took: Took
    queries: float
    statements: int


def timed_rerun(test: AppTest, sent: Sent, cache_path: Path) -> Rerun:
    """Rerun `test` noting its statements; then run them again bare."""
    sent.statements, sent.recording = [], True
    try:
        took = timed_run(test)
    finally:
        sent.recording = False
    statements = list(sent.statements)
    return Rerun(took, bare(cache_path, statements), len(statements))


def page_runs(
    repeat: int, cache_path: Path, pages: tuple[str, ...] = PAGES
) -> tuple[dict[str, dict[str, list[Took]]], dict[str, list[Rerun]]]:
    """Per page: the first run, a rerun after a period change and one after a channel change, `repeat` times; and
    each rerun beside its queries run bare."""
    times: dict[str, dict[str, list[Took]]] = {page: {"first": [], "period": [], "channel": []} for page in pages}
    reruns: dict[str, list[Rerun]] = {page: [] for page in FILTERED if page in pages}
    sent = Sent()
    with recorded(sent):
        for turn in range(repeat):
            for page in pages:
                test, first = open_page(page)
                times[page]["first"].append(first)
                if page not in FILTERED:
                    continue
                test.selectbox(key="preset").set_value("last_90_days" if turn % 2 == 0 else "last_7_days")
                rerun = timed_rerun(test, sent, cache_path)
                times[page]["period"].append(rerun.took)
                reruns[page].append(rerun)
                channels = ["paid_search"] if turn % 2 == 0 else ["email", "direct"]
                test.multiselect(key="f_channel").set_value(channels)
                rerun = timed_rerun(test, sent, cache_path)
                times[page]["channel"].append(rerun.took)
                reruns[page].append(rerun)
    return times, reruns


def print_page_runs(times: dict[str, dict[str, list[Took]]], cold: Took) -> None:
    print(f"first AppTest run in this process (imports, cold caches): {cold.wall:.2f} s")
    print(f"{'page':12s} {'first run (< 1 s)':>32s} {'rerun: period (< 0.3 s)':>32s} {'rerun: channel (< 0.3 s)':>32s}")
    for page, kinds in times.items():
        cells = []
        for kind, target in (("first", FIRST_RUN_TARGET), ("period", RERUN_TARGET), ("channel", RERUN_TARGET)):
            if not kinds[kind]:  # a page without filters has no rerun of them
                cells.append("-")
                continue
            median = statistics.median(t.wall for t in kinds[kind])
            worst = max(t.wall for t in kinds[kind])
            cpu = statistics.median(t.cpu for t in kinds[kind])
            cells.append(f"{median:5.2f} / {worst:5.2f} ({cpu:4.2f}) {verdict(median, target):>6s}")
        print(f"{page:12s} {cells[0]:>32s} {cells[1]:>32s} {cells[2]:>32s}")
    print("(seconds: median / max wall-clock, (median CPU of this process); the verdict is on the median)")


def print_ratios(reruns: dict[str, list[Rerun]]) -> None:
    print(f"reruns beside their DuckDB queries run bare (target: a rerun at most {RATIO_TARGET:.0f}x its queries)")
    print(f"{'page':12s} {'rerun':>8s} {'queries':>8s} {'ratio':>6s} {'statements':>11s}")
    for page, rows in reruns.items():
        rerun = statistics.median(r.took.wall for r in rows)
        queries = statistics.median(r.queries for r in rows)
        ratio = statistics.median(r.took.wall / r.queries for r in rows) if queries else float("nan")
        statements = statistics.median(r.statements for r in rows)
        shown = verdict(ratio, RATIO_TARGET + 1e-9) if queries else ""
        print(f"{page:12s} {rerun:8.3f} {queries:8.3f} {ratio:6.2f} {statements:11.0f}  {shown}")
    print("(medians over the period and channel reruns; the ratio is the median of each rerun's own ratio)")


def profile_rerun(page: str, runs: int = 3, top: int = 30) -> None:
    """cProfile of the script thread during `runs` reruns of `page` after period changes: this project's code."""
    profiler = cProfile.Profile()
    original: Callable[..., Any] = script_runner.ScriptRunner._run_script
    active = False

    def profiled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if active:
            profiler.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            if active:
                profiler.disable()

    with patch.object(script_runner.ScriptRunner, "_run_script", profiled):
        test, _ = open_page(page)
        active = True
        took = []
        for preset in ("last_90_days", "last_7_days", "last_30_days")[:runs]:
            test.selectbox(key="preset").set_value(preset)
            took.append(timed_run(test).wall)
    print(f"== profile of {len(took)} reruns of {page}: {', '.join(f'{t:.2f}' for t in took)} s")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(rf"{re.escape(str(ROOT))}/(dashboard|app_pages)|dashboard_app", top)
    lines = [line for line in out.getvalue().splitlines() if re.search(r"\d+\.\d{3}", line)]
    print("   ncalls  tottime  percall  cumtime  percall filename:lineno(function)")
    for line in lines[:top]:
        print(line.replace(str(ROOT) + "/", ""))


# The browser and the server's memory -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """Seconds from `page.goto` of the Overview to: the page loaded, its title shown, the first chart's data
    received over the websocket, the first chart visible, and the end of the script run received."""

    loaded: float
    title: float
    chart_data: float
    chart: float
    run_end: float


def new_visitor(browser: Browser) -> BrowserContext:
    """A browser context of its own: no cookies, nothing in its HTTP cache."""
    return browser.new_context(viewport={"width": 1400, "height": 1100})


def visit_overview(visitor: BrowserContext, url: str) -> tuple[Page, Visit]:
    """A new tab of `visitor` opens the Overview (a new Streamlit session)."""
    page = visitor.new_page()
    arrivals: dict[str, float] = {}

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg()
        message.ParseFromString(payload)
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.new_element.WhichOneof("type") in CHART_ELEMENTS:
            arrivals.setdefault("chart", time.perf_counter())
        elif kind == "script_finished":
            arrivals.setdefault("end", time.perf_counter())

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    started = time.perf_counter()
    page.goto(url)  # returns on the load event: the HTML and Streamlit's scripts
    loaded = time.perf_counter() - started
    page.wait_for_selector("h1", state="visible", timeout=120_000)  # the page script's first element
    title = time.perf_counter() - started
    page.wait_for_selector(CHART, state="visible", timeout=120_000)
    chart = time.perf_counter() - started
    page.wait_for_timeout(100)  # let the websocket events already received reach us
    data, end = (arrivals.get(k, float("nan")) - started for k in ("chart", "end"))
    return page, Visit(loaded, title, data, chart, end)


def visit_calls(page: Page) -> float:
    """Click Calls in the navigation; seconds until its table and its download button show."""
    started = time.perf_counter()
    page.get_by_role("link", name="Calls").first.click()
    page.wait_for_selector('h1:has-text("Calls")', timeout=120_000)
    page.get_by_role("button", name=re.compile("Download all")).wait_for(timeout=120_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
    return time.perf_counter() - started


def print_visits(visits: dict[str, list[Visit]]) -> None:
    print(f"Overview in a browser: seconds from goto to ... (target: chart shown < {CHART_TARGET:.0f} s)")
    names = {"loaded": "loaded", "title": "title", "chart_data": "chart data", "chart": "chart shown",
             "run_end": "run ended"}  # fmt: skip
    print(f"  {'median (max of chart shown)':48s}" + "".join(f"{name:>12s}" for name in names.values()))
    for label, rows in visits.items():
        row = [statistics.median(getattr(v, part) for v in rows) for part in names]
        print(f"  {label:48s}" + "".join(f"{value:12.2f}" for value in row)
              + f"  {verdict(row[3], CHART_TARGET)} ({max(v.chart for v in rows):.2f})")  # fmt: skip


def print_ratios_to_baseline(visits: dict[str, list[Visit]]) -> None:
    """Each kind of visit's first chart, this code ÷ the baseline (medians of the same run, under the same load)."""
    print("first chart shown, this code ÷ the baseline (medians):")
    for label, rows in visits.items():
        if label.endswith(THIS_CODE) and label.replace(THIS_CODE, BASELINE) in visits:
            base = visits[label.replace(THIS_CODE, BASELINE)]
            ours, theirs = statistics.median(v.chart for v in rows), statistics.median(v.chart for v in base)
            print(f"  {label.removesuffix(THIS_CODE):34s} {ours:5.2f} / {theirs:5.2f} s = {ours / theirs:4.2f}")


def memory_figures(browser: Browser, bench: BenchCache) -> list[str]:
    """A fresh server's RSS with three sessions on the Overview, then after each visited Calls; its log's errors."""
    freshen(bench.path)
    with serve(bench.path) as server:
        idle = rss_mib(server.pid)[0]
        pages = [visit_overview(new_visitor(browser), server.url)[0] for _ in range(3)]
        time.sleep(2)
        on_overview = rss_mib(server.pid)[0]
        to_calls = [visit_calls(page) for page in pages]
        time.sleep(2)
        on_calls, peak = rss_mib(server.pid)
        for page in pages:
            page.context.close()
        errors = server_errors(server)
    print(f"server memory, RSS (target < 700 MB = {MEMORY_TARGET_MIB:.0f} MiB):")
    print(f"  {'started, no session':37s} {idle:6.0f} MiB")
    shown = {"three sessions on the Overview": on_overview, "... after each visited Calls": on_calls,
             "peak (VmHWM)": peak}  # fmt: skip
    for label, mib in shown.items():
        print(f"  {label:37s} {mib:6.0f} MiB  {verdict(mib, MEMORY_TARGET_MIB)}")
    print(f"  (Calls showed {', '.join(f'{t:.1f}' for t in to_calls)} s after the click)")
    return errors


THIS_CODE, BASELINE = " (this code)", " (baseline)"


def serving(cache_path: Path, checkout: Path | None = None) -> AbstractContextManager[Server]:
    """This checkout's dashboard on `cache_path`, or `checkout`'s: its own code, pages and .streamlit settings."""
    if checkout is None:
        return serve(cache_path)
    folder = str(checkout.resolve())
    # Streamlit's command line, started from the other checkout's folder with its code first on the path.
    launcher = ("-c", f"import os, sys; os.chdir({folder!r}); sys.path.insert(0, {folder!r}); "
                      "from streamlit.web.cli import main; main()")  # fmt: skip
    return serve(cache_path, env={"PYTHONPATH": folder}, launcher=launcher)


def browser_figures(bench: BenchCache, repeat: int, baseline: Path | None = None) -> None:
    """New visitors and a returning one on the Overview, alternating between this code and the baseline's (if any)
    so that both meet the same load."""
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder, ExitStack() as servers:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            freshen(bench.path)
            serving_codes = {THIS_CODE: servers.enter_context(serving(bench.path))}
            if baseline is not None:  # its own copy of the cache: two servers never wait for each other's file lock
                copy = Path(folder) / "baseline.duckdb"
                shutil.copyfile(bench.path, copy)
                serving_codes[BASELINE] = servers.enter_context(serving(copy, baseline))
            visits: dict[str, list[Visit]] = {}
            for turn in range(repeat + 1):
                for code, server in serving_codes.items():
                    page, visit = visit_overview(new_visitor(browser), server.url)
                    kind = "new visitors" if turn else "first visit after server start"
                    visits.setdefault(kind + code, []).append(visit)
                    page.context.close()
            returning = {code: new_visitor(browser) for code in serving_codes}
            for code, server in serving_codes.items():
                visit_overview(returning[code], server.url)[0].close()
            for _ in range(repeat):
                for code, server in serving_codes.items():
                    page, visit = visit_overview(returning[code], server.url)
                    visits.setdefault("returning visitor (HTTP cache)" + code, []).append(visit)
                    page.close()
            for context in returning.values():
                context.close()
            errors = [error for server in serving_codes.values() for error in server_errors(server)]
            servers.close()
            print_visits(visits)
            if baseline is not None:
                print_ratios_to_baseline(visits)
            errors += memory_figures(browser, bench)  # a fresh server: its memory is that of these sessions alone
        finally:
            browser.close()
    print(f"errors in the server logs: {len(errors)}")
    for line in errors[:10]:
        print(f"  {line[:300]}")


def runs_ended(page: Page) -> list[float]:
    """A list that grows by one each time a script run of `page`'s session ends (the server says so)."""
    ended: list[float] = []

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "script_finished":
                ended.append(time.perf_counter())

    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    return ended


def switch_to(page: Page, name: str, ended: list[float]) -> float:
    """Click `name` in the top navigation; seconds until its run has ended and its main element is drawn."""
    title, main = NAVIGATION[name]
    before = len(ended)
    started = time.perf_counter()
    page.get_by_role("link", name=title, exact=True).first.click()
    while len(ended) == before:  # elements of the page before stay until the new run ends
        page.wait_for_timeout(5)
    page.locator(f'h1:has-text("{title}")').first.wait_for(state="visible", timeout=120_000)
    page.locator(main).first.wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - started


def switch_figures(bench: BenchCache, repeat: int) -> None:
    """Page switches in Chromium: every page in turn, `repeat` rounds, in one visitor's session."""
    freshen(bench.path)
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    with sync_playwright() as playwright, serve(bench.path) as server:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = new_visitor(browser).new_page()
            ended = runs_ended(page)
            page.goto(server.url)
            page.wait_for_selector(CHART, state="visible", timeout=120_000)
            for _ in range(repeat):
                for name in (*PAGES[1:], PAGES[0]):  # from the Overview round the pages and back
                    times[name].append(switch_to(page, name, ended))
        finally:
            browser.close()
        errors = server_errors(server)
    every = [t for rows in times.values() for t in rows]
    print(f"page switches in Chromium: seconds from the click in the navigation to the page's chart or table drawn "
          f"(target < {SWITCH_TARGET:.0f} s)")  # fmt: skip
    for name, rows in times.items():
        print(f"  {name:12s} median {statistics.median(rows):5.2f}  max {max(rows):5.2f}")
    median = statistics.median(every)
    print(f"  {'every switch':12s} median {median:5.2f}  max {max(every):5.2f}  ({len(every)} switches) "
          f"{verdict(median, SWITCH_TARGET)}")  # fmt: skip
    print(f"errors in the server log: {len(errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="a benchmark cache to reuse (or build there)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", nargs="+", choices=("pages", "browser", "switches"),
                        default=["pages", "browser", "switches"])  # fmt: skip
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES), help="the pages to run")
    parser.add_argument("--profile", choices=PAGES, action="append", default=[], help="profile reruns of a page")
    parser.add_argument("--baseline", type=Path, help="another checkout whose Overview the browser part times too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench = open_or_build(args.cache or Path(folder) / "bench.duckdb", args.records)
        records, chats, messages = contents(bench.path)
        print(f"cache {bench.path}: {records:,} records, {chats:,} chats, {messages:,} messages, "
              f"synced at {bench.synced_at:%Y-%m-%d %H:%M} UTC")  # fmt: skip
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
        runs_before = sync_runs(bench.path)
        freshen(bench.path)
        if "pages" in args.parts:
            with dashboard_environment(bench.path):
                cold = open_page("overview")[1]
                times, reruns = page_runs(args.repeat, bench.path, tuple(args.pages))
                print_page_runs(times, cold)
                print_ratios(reruns)
                for page in args.profile:
                    profile_rerun(page)
            print(f"load average after the page runs {os.getloadavg()[0]:.1f}")
        if "browser" in args.parts:
            browser_figures(bench, args.repeat, args.baseline)
            print(f"load average after the browser runs {os.getloadavg()[0]:.1f}")
        if "switches" in args.parts:
            switch_figures(bench, args.repeat)
            print(f"load average after the page switches {os.getloadavg()[0]:.1f}")
        print(f"automatic syncs during the measurements: {sync_runs(bench.path) - runs_before} (must be 0)")


if __name__ == "__main__":
    main()
