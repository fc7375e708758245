"""The token never leaves the settings: a canary token through the CLI, the app (AppTest) and a real browser.

Issue 6, item 2. The token comes only from the environment (or secrets.toml) and must appear nowhere else: not
in output, logs, exceptions, URLs, query parameters, session state, the cache file, exports or downloads. A
simulated Newton on a real socket accepts only `CANARY`; a second canary, `WRONG_CANARY`, is the token of a
person who mistyped it and must not appear either. A scanner looks for both, in any letter case, and for
fragments of them (a token cut short is still a leak); its own self-check plants them to prove it finds them.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import functools
import html
import io
import logging
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.api import Token
from dashboard.demo import DEMO_TOKEN, DemoNewton, serve_in_thread
from dashboard.store.connection import connect
from dashboard.ui import freshness
from dashboard.ui.safe import literal
from tests.conftest import ENTRY, ROOT
from tests.support.load import free_port, serve
from tests.test_browser import PAGES, no_exception, open_page
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # real processes: `streamlit run` and the command line

CANARY = "c0ffee1dea5c0de0badc0ffeefacade1"  # the account's real token, as far as this test knows
WRONG_CANARY = "5ca1ab1e0ddba11d15ea5edbadf00d99"  # a mistyped token: Newton refuses it, and it is secret too
USER_ID = "12345"
MASK = "********"  # what `Token.redact` puts where Newton's words quote the token


def _needles(token: str) -> list[str]:
    # The whole token and 12-character pieces of it (start, middle, end); compared without regard to case.
    return [token, token[:12], token[10:22], token[-12:]]


NEEDLES = tuple(dict.fromkeys(n.lower() for t in (CANARY, WRONG_CANARY) for n in _needles(t)))


def leaks(data: str | bytes) -> list[str]:
    """The pieces of either canary found in `data` (text, or bytes as UTF-8 or UTF-16), in any letter case."""
    if isinstance(data, str):
        low = data.lower()
        return [n for n in NEEDLES if n in low]
    low_bytes = data.lower()  # ASCII letters only, which is all a hex token has
    return [n for n in NEEDLES if n.encode() in low_bytes or n.encode("utf-16-le") in low_bytes]


def assert_clean(where: str, data: str | bytes) -> None:
    found = leaks(data)
    if found:
        text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
        at = text.lower().find(found[0])
        context = text[max(0, at - 120) : at + 60] if at >= 0 else "(in a UTF-16 or binary form)"
        pytest.fail(f"the token leaks into {where}: {found} in …{context!r}")


# ------------------------------------------------------------------------------------ the scanner's self-check


@pytest.mark.parametrize(
    "planted",
    [CANARY, CANARY.upper(), WRONG_CANARY, f'"token":"{CANARY[:19]}', f"…{CANARY[-12:]}", CANARY[10:22].upper()],
)
def test_the_scanner_finds_a_planted_token(planted: str) -> None:
    text = f"error: Newton said <b>{planted}</b> and more"
    assert leaks(text)
    assert leaks(text.encode())
    assert leaks(text.encode("utf-16-le"))
    assert leaks(repr(text.encode("cp1251", errors="replace")))  # as a bytes literal in a proto's text form
    with pytest.raises(pytest.fail.Exception):
        assert_clean("the self-check", text)


def test_the_scanner_passes_what_is_allowed() -> None:
    allowed = f"Newton account {USER_ID}; Token('{MASK}'); {DEMO_TOKEN}; {CANARY[:8]}"
    assert leaks(allowed) == []
    assert leaks(allowed.encode("utf-16-le")) == []
    assert repr(Token(CANARY)) == f"Token('{MASK}')"


def test_the_cache_scanner_finds_a_planted_token(tmp_path: Path) -> None:
    path = tmp_path / "planted.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sync_runs (message VARCHAR)")
        con.execute("INSERT INTO sync_runs SELECT ? FROM range(5000)", [f"stopped: {CANARY[:20]} refused"])
    (tmp_path / "other.duckdb.wal").write_bytes(b"\x00\x01" + CANARY[-16:].upper().encode("utf-16-le"))
    found = cache_leaks(tmp_path)
    assert "planted.duckdb logical" in found and "other.duckdb.wal raw" in found


# ------------------------------------------------------------------------------------ shared pieces


def _dump_tables(path: Path) -> str:
    """Every row of every table of a DuckDB file, as text (strings may be compressed in the raw file)."""
    copy = path.with_name(path.name + ".scan-copy")
    shutil.copy(path, copy)
    wal = Path(f"{path}.wal")
    if wal.exists():
        shutil.copy(wal, Path(f"{copy}.wal"))
    try:
        with duckdb.connect(str(copy), read_only=True) as con:
            tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            return "\n".join(
                repr(con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall())  # noqa: S608 - the file's own names
                for schema, name in tables
            )
    finally:
        copy.unlink()
        Path(f"{copy}.wal").unlink(missing_ok=True)


def cache_leaks(folder: Path) -> list[str]:
    """Which cache files under `folder` hold a canary: `<file> raw` (its bytes, `.wal` too) or `<file> logical`."""
    found = []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and ".duckdb" in p.name)
    assert files, f"no cache file under {folder}"
    for path in files:
        if leaks(path.read_bytes()):
            found.append(f"{path.name} raw")
        if path.suffix == ".duckdb" and leaks(_dump_tables(path)):
            found.append(f"{path.name} logical")
    return found


def _answer(handler: BaseHTTPRequestHandler, status: int, content_type: str, page: bytes) -> None:
    """Send `page` whole, as our hostile servers answer every request."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(page)))
    handler.end_headers()
    handler.wfile.write(page)


class _BrokenProxy(BaseHTTPRequestHandler):
    """Answers every POST with an HTML error page that quotes the request body, token and all.

    The first path segment picks the answer: `html` (status 200, the body and its upper-case copy: retried as
    unreadable), `html400` (the same with 400: not retried) and `cut` (400, the body cut short in mid-token).
    """

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.path.strip("/").split("/")[0]
        if mode == "cut":
            start = body.find(b'"token":"') + len(b'"token":"')
            quoted, status = body[: start + 19], 400
        else:
            quoted, status = body + b"<br>" + body.upper(), 200 if mode == "html" else 400
        page = b"<html><body><h1>Gateway error</h1><pre>" + quoted + b"</pre></body></html>"
        _answer(self, status, "text/html", page)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture(scope="module")
def canary_newton() -> DemoNewton:
    """A small simulated account whose only valid token is the canary."""
    return DemoNewton(records=2_000, seed=11, token=CANARY, user_id=USER_ID)


@pytest.fixture(scope="module")
def canary_url(canary_newton: DemoNewton) -> Iterator[str]:
    with serve_in_thread(canary_newton, host="127.0.0.1", port=0) as server:
        yield server.url


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`http://127.0.0.1:PORT`: a hostile server of our own on loopback, answering with `handler`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture(scope="module")
def proxy_base() -> Iterator[str]:
    """`http://127.0.0.1:PORT`: a broken proxy that echoes requests (see `_BrokenProxy`)."""
    with serving(_BrokenProxy) as base:
        yield base


def _closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api/v1/json"  # the port was free a moment ago: nobody listens


# ------------------------------------------------------------------------------------ the command line


def test_the_cli_never_shows_or_stores_the_token(
    canary_url: str, proxy_base: str, canary_newton: DemoNewton, tmp_path: Path
) -> None:
    caches, out = tmp_path / "caches", tmp_path / "out"
    caches.mkdir()
    out.mkdir()

    def env(cache_name: str, url: str = canary_url, token: str = CANARY) -> dict[str, str]:
        return {"NEWTON_TOKEN": token, "NEWTON_USER_ID": USER_ID, "NEWTON_API_URL": url,
                "NEWTON_CACHE": str(caches / cache_name)}  # fmt: skip

    def cli(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_cli("-v", *args, env=environment, cwd=tmp_path)  # -v: log requests and retries

    ran: list[tuple[str, subprocess.CompletedProcess[str]]] = []
    with ThreadPoolExecutor(max_workers=2) as slow:
        # Failures that wait between retries run meanwhile, each with a cache of its own.
        unreachable = slow.submit(cli, "sync", environment=env("unreachable.duckdb", _closed_url()))
        garbage = slow.submit(cli, "sync", environment=env("garbage.duckdb", f"{proxy_base}/html/json"))

        main = env("main.duckdb")
        ran.append(("sync", cli("sync", environment=main)))
        assert ran[-1][1].returncode == 0, ran[-1][1].stderr
        for what, extra in (("attribution", ["--by", "channel", "--then", "utm_source"]), ("daily", []),
                            ("speed", ["--by", "channel"]), ("chats", [])):  # fmt: skip
            report = cli("report", what, *extra, "-o", str(out / f"{what}.csv"), environment=main)
            ran.append((f"report {what}", report))
        ran.append(("report to stdout", cli("report", "attribution", "--by", "utm_source", environment=main)))
        for what in ("records", "chats"):
            ran.append((f"export {what}", cli("export", what, "-o", str(out / f"export-{what}.csv"), environment=main)))
        ran.append(("export to stdout", cli("export", "records", "--separator", ";", environment=main)))
        ran.append(("widgets", cli("widgets", environment=main)))
        call_id = str(canary_newton.records_snapshot()[-1]["id"])
        ran.append(("set-lead-price", cli("set-lead-price", call_id, "777", environment=main)))
        assert [r.returncode for _, r in ran] == [0] * len(ran), [(n, r.stderr) for n, r in ran if r.returncode]

        failing = [
            ("a bad phone (our check)", ["create-crm-lead", "--phone", "8999", "--price", "1"], main, 2),
            ("a deal Newton refuses", ["create-crm-lead", "--phone", "+70000000000", "--price", "228"], main, 1),
            ("Newton's field error", ["create-request", "--phone", "+79991234567", "--widget", "no-such"], main, 1),
            ("a wrong token: sync", ["sync"], env("main.duckdb", token=WRONG_CANARY), 1),
            ("a wrong token: write", ["set-lead-price", call_id, "1"], env("main.duckdb", token=WRONG_CANARY), 1),
            ("an echoing proxy: read", ["widgets"], env("main.duckdb", f"{proxy_base}/html400/json"), 1),
            ("an echoing proxy: deal", ["create-crm-lead", "--phone", "+79991234567", "--price", "5"],
             env("main.duckdb", f"{proxy_base}/html/json"), 3),
        ]  # fmt: skip
        for name, args, environment, code in failing:
            result = cli(*args, environment=environment)
            assert result.returncode == code, (name, result.stderr)
            ran.append((name, result))
        ran.append(("an unreachable Newton: sync", unreachable.result()))
        ran.append(("an echoing proxy: sync", garbage.result()))

    outcomes = {name: result for name, result in ran}
    assert outcomes["an unreachable Newton: sync"].returncode == 3
    assert outcomes["an echoing proxy: sync"].returncode == 3
    assert "check the token" in outcomes["a wrong token: sync"].stderr
    # The proxy's page was shown, token masked: where it would have leaked, the scan below looks.
    assert MASK in outcomes["an echoing proxy: read"].stderr and MASK in outcomes["an echoing proxy: sync"].stderr
    assert "HTTP Request: POST" in outcomes["sync"].stderr  # -v logging is on, and captured
    for name, result in ran:
        assert_clean(f"stdout of `{name}`", result.stdout)
        assert_clean(f"stderr of `{name}`", result.stderr)
    exported = sorted(out.iterdir())
    assert len(exported) == 6 and all(path.stat().st_size > 0 for path in exported)
    for path in exported:
        assert_clean(f"the exported {path.name}", path.read_bytes())
    with connect(caches / "main.duckdb") as con:
        logged = con.execute("SELECT count(*) FROM write_log").fetchall()[0][0]
        failures = con.execute("SELECT count(*) FROM sync_runs WHERE outcome = 'failed'").fetchall()[0][0]
    assert logged >= 4 and failures >= 1  # writes and a failed sync were recorded: the scan covers their messages
    assert cache_leaks(caches) == []


# ------------------------------------------------------------------------------------ the app under AppTest


def _walk(node: Any) -> Iterator[Any]:
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else children:
        yield child
        yield from _walk(child)


def _strings_inside(value: Any, depth: int = 0) -> Iterator[str]:
    """The text inside a session-state value: containers, dataclasses and the dashboard's own objects.

    A `Token` is the one thing allowed to hold the token (it never shows it: its repr is checked instead).
    """
    if isinstance(value, Token) or depth > 6:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings_inside(key, depth + 1)
            yield from _strings_inside(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings_inside(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings_inside(getattr(value, field.name), depth + 1)
    elif type(value).__module__.startswith("dashboard") and hasattr(value, "__dict__"):
        yield from _strings_inside(vars(value), depth + 1)


def app_surfaces(test: AppTest) -> dict[str, str]:
    """Everything the app sends to the browser or keeps for the session, as text, by where it is."""
    elements = []
    for node in _walk(test._tree):
        proto = getattr(node, "proto", None)
        elements.append(str(proto) if proto is not None else repr(node))
    state = dict(test.session_state.items())
    return {
        "the elements sent to the browser": "\n".join(elements),
        "the query parameters": repr(test.query_params),
        "the session state (repr)": "\n".join(f"{key}={value!r}" for key, value in state.items()),
        "the session state (inside)": "\n".join(_strings_inside(state)),
    }


class _Recorder:
    """Every log record of the process while the app runs, Streamlit's own loggers (which do not propagate) too."""

    def __init__(self, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
        self.caplog = caplog
        caplog.set_level(logging.DEBUG)
        for name in ("dashboard", "httpx", "httpcore"):
            caplog.set_level(logging.DEBUG, logger=name)
        for logger in list(logging.root.manager.loggerDict.values()):
            if isinstance(logger, logging.Logger) and not logger.propagate:
                monkeypatch.setattr(logger, "propagate", True)

    def text(self) -> str:
        records = self.caplog.records
        return "\n".join([self.caplog.text, *(f"{r.args!r} {r.exc_text or ''}" for r in records)])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    return _Recorder(caplog, monkeypatch)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], str]]:
    """Downloads whose data is made on click (the Calls export): one function per button that clicks it.

    Making the file goes through the media storage, so the `downloads` fixture receives its bytes.
    """
    clicks: list[Callable[[], str]] = []
    original = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, *args, **kwargs)
        clicks.append(functools.partial(self.execute_deferred, file_id))
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return clicks


@pytest.fixture
def canary_app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, canary_url: str) -> Path:
    """The app's settings: the canary token in the environment, the canary Newton, a fresh cache folder."""
    for name in ("NEWTON_TIMEZONE", "NEWTON_READ_ONLY", "NEWTON_MAX_AGE_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "app-cache"
    folder.mkdir()
    monkeypatch.setenv("NEWTON_TOKEN", CANARY)
    monkeypatch.setenv("NEWTON_USER_ID", USER_ID)
    monkeypatch.setenv("NEWTON_API_URL", canary_url)
    monkeypatch.setenv("NEWTON_CACHE", str(folder / "newton.duckdb"))
    monkeypatch.chdir(ROOT)
    return folder


def _check_app(test: AppTest, when: str, seen: dict[str, str]) -> None:
    for where, text in app_surfaces(test).items():
        assert_clean(f"{where}, {when}", text)
        seen[where] = seen.get(where, "") + text


def _run(test: AppTest, when: str, seen: dict[str, str]) -> AppTest:
    test.run()
    assert not test.exception, (when, test.exception)
    _check_app(test, when, seen)
    return test


def test_the_app_never_shows_or_keeps_the_token(
    canary_app_env: Path, logs: _Recorder, downloads: list[tuple[bytes, str]], deferred: list[Callable[[], str]]
) -> None:
    seen: dict[str, str] = {}
    test = AppTest.from_file(ENTRY, default_timeout=120)
    _run(test, "after the first open's sync", seen)
    assert "metric" in {node.type for node in _walk(test._tree)}  # the sync filled the cache
    # The first open synced 30 days; the older ones load in a thread, whose log is scanned too. "Sync now" below
    # would meanwhile say a sync is running.
    assert freshness.join_backfills(timeout=300)

    for page in sorted(p.name for p in (ROOT / "app_pages").glob("*.py")):
        test.switch_page(f"app_pages/{page}")
        _run(test, f"on {page}", seen)
        while deferred:
            deferred.pop()()  # click a made-on-click download now, while its page is the one shown

    test.switch_page("app_pages/sync.py")
    _run(test, "on the Sync page", seen)
    test.button(key="sync_now").click()
    _run(test, "after Sync now", seen)
    assert any("Synced" in s.value for s in test.success)
    assert f"Newton account {USER_ID}" in seen["the elements sent to the browser"]  # the settings table was scanned

    with connect(canary_app_env / "newton.duckdb") as con:
        call_id = str(con.execute("SELECT id FROM records ORDER BY requestDate DESC LIMIT 1").fetchall()[0][0])
    test.text_input(key="price_form_id").input(call_id)
    test.text_input(key="price_form_price").input("4500")
    test.button(key="FormSubmitter:price_form-Save").click()
    _run(test, "after a lead price was saved", seen)
    assert [s.value for s in test.sidebar.success] == [f"Lead price of call {call_id} set to 4500 ₽."]
    test.text_input(key="price_form_id").input("")
    test.text_input(key="price_form_price").input("-5")
    test.button(key="FormSubmitter:price_form-Save").click()
    _run(test, "after a bad lead price", seen)
    assert len(test.sidebar.error) == 2
    test.text_input(key="deal_form_phone").input("+70000000000")
    test.text_input(key="deal_form_price").input("228")
    test.button(key="FormSubmitter:deal_form-Create").click()
    _run(test, "after a deal Newton refused", seen)
    assert any("По номеру не нашлся звонок" in e.value for e in test.sidebar.error)

    test.switch_page("app_pages/widgets.py")
    _run(test, "on the Widgets page", seen)
    test.text_input(key="test_phone").input("8 999")
    test.checkbox(key="test_confirm").check()
    test.button(key="FormSubmitter:test_request-Send").click()
    _run(test, "after a test call with a bad phone", seen)
    assert test.error

    assert len(downloads) >= 4, "the pages handed too few downloads to check"
    assert any(b"leadPrice" in data and data.count(b"\n") > 100 for data, _ in downloads)  # the Calls export
    for data, mime in downloads:
        assert_clean(f"a download ({mime}, {len(data)} bytes)", data)
    log_text = logs.text()
    assert "HTTP Request: POST" in log_text and "callback.SetLeadPrice" in log_text  # the logs were captured
    assert_clean("the log records", log_text)
    assert cache_leaks(canary_app_env) == []


def test_an_echoing_proxy_is_shown_with_the_token_masked(
    canary_app_env: Path, logs: _Recorder, monkeypatch: pytest.MonkeyPatch, proxy_base: str
) -> None:
    monkeypatch.setenv("NEWTON_API_URL", f"{proxy_base}/html400/json")
    seen: dict[str, str] = {}
    test = AppTest.from_file(ENTRY, default_timeout=120)
    _run(test, "after a sync through a proxy that echoes the request", seen)
    assert [e.value.strip() for e in test.error] == ["Sync failed."]
    assert any(MASK in t.value for t in test.text)  # the quoted page is on screen, the token masked
    test.switch_page("app_pages/sync.py")
    _run(test, "on the Sync page after the failure", seen)  # the failed run's message, in the recent runs
    assert_clean("the log records", logs.text())
    assert cache_leaks(canary_app_env) == []


def test_a_wrong_token_in_the_app_is_not_shown(
    canary_app_env: Path, logs: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWTON_TOKEN", WRONG_CANARY)
    seen: dict[str, str] = {}
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    _check_app(test, "after a sync with a wrong token", seen)
    shown = [e.value for e in test.error] + [e.message for e in test.exception]
    assert shown, "the failure was not reported at all"
    log_text = logs.text()
    assert "AuthError" in log_text or "check the token" in log_text  # the failure reached the logs ...
    assert_clean("the log records", log_text)  # ... without the token
    assert cache_leaks(canary_app_env) == []


# ------------------------------------------------------------------------------------ a cut-off echo, a wrong token


def test_a_server_echoing_part_of_the_token_does_not_show_that_part(proxy_base: str, tmp_path: Path) -> None:
    environment = {"NEWTON_TOKEN": CANARY, "NEWTON_USER_ID": USER_ID, "NEWTON_API_URL": f"{proxy_base}/cut/json",
                   "NEWTON_CACHE": str(tmp_path / "cut.duckdb")}  # fmt: skip
    result = run_cli("-v", "widgets", env=environment, cwd=tmp_path)
    assert result.returncode == 1
    assert_clean("the CLI's stderr", result.stderr)


def test_a_wrong_token_in_the_app_says_check_the_token(canary_app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWTON_TOKEN", WRONG_CANARY)
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    assert not test.exception
    assert any("check the token" in e.value for e in test.error)


# ------------------------------------------------------------------------------------ the browser


# `streamlit run`, with the root logger at DEBUG so the dashboard's, httpx's and httpcore's records reach stderr.
_STREAMLIT_WITH_LOGS = (
    "import logging, sys; "
    "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s: %(message)s'); "
    "from streamlit.web.cli import main; sys.exit(main(prog_name='streamlit'))"
)


@pytest.fixture(scope="module")
def canary_dashboard(tmp_path_factory: pytest.TempPathFactory, canary_url: str) -> Iterator[tuple[str, Path, Path]]:
    """The dashboard as a person starts it with the canary token in the environment: (URL, log file, cache folder)."""
    folder = tmp_path_factory.mktemp("browser-secrets")
    env = {"NEWTON_TOKEN": CANARY, "NEWTON_USER_ID": USER_ID, "NEWTON_API_URL": canary_url, "PYTHONUNBUFFERED": "1"}
    with serve(folder / "newton.duckdb", env, launcher=("-c", _STREAMLIT_WITH_LOGS),
               options=("--logger.level", "debug")) as started:  # fmt: skip
        yield started.url, started.log, folder


def _record_websocket(page: Page) -> list[str | bytes]:
    """Every WebSocket frame between the page and Streamlit, both ways: all the app ever sends or is told."""
    frames: list[str | bytes] = []

    def keep(payload: str | bytes) -> None:
        frames.append(payload)

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", keep)
        socket.on("framesent", keep)

    page.on("websocket", on_socket)
    return frames


def test_the_browser_never_receives_the_token(canary_dashboard: tuple[str, Path, Path], browser: Browser) -> None:
    url, log_path, folder = canary_dashboard
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    try:
        frames = _record_websocket(page)
        for name in PAGES:
            open_page(page, f"{url}/{name}")
            no_exception(page)
            assert_clean(f"the HTML of /{name}", page.content())
            assert_clean(f"the visible text of /{name}", page.inner_text("body"))
            assert_clean(f"the address of /{name}", page.url)
            assert "lang=en" in page.url  # the app wrote its query parameters: the checked URL is the app's
        assert f"Newton account {USER_ID}" in page.content()  # the Sync page's settings table (a canvas) was read
        open_page(page, f"{url}/calls")
        with page.expect_download() as waiting:
            page.get_by_role("button", name=re.compile(r"^Download (all .* calls|this call) \(CSV\)")).click()
        data = Path(waiting.value.path()).read_bytes()
        assert data.count(b"\n") > 100 and b"leadPrice" in data  # every call, every API field
        assert_clean("the Calls download", data)
        assert_clean("the address after the download", page.url)

        # A write from the sidebar, then one our checks refuse: their messages are on the page too.
        call_id = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))["id"]
        form = page.get_by_test_id("stExpander").filter(has_text="Set a lead price")
        form.get_by_text("Set a lead price").click()
        form.get_by_label("Call id").fill(call_id)
        form.get_by_label("Price, ₽").fill("321")
        form.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"Lead price of call {call_id} set to 321 ₽.")).to_be_visible(timeout=30_000)
        form.get_by_label("Price, ₽").fill("-5")
        form.get_by_role("button", name="Save").click()
        expect(form.get_by_test_id("stAlertContentError")).to_have_count(1, timeout=30_000)
        no_exception(page)
        assert_clean("the HTML after the sidebar writes", page.content())
        assert_clean("the address after the sidebar writes", page.url)
    finally:
        page.close()
    received = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames)
    assert f"Newton account {USER_ID}".encode() in received  # the frames were captured and hold the page text
    assert_clean("the WebSocket frames", received)
    server_log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "GetRecords answered HTTP 200" in server_log and "SetLeadPrice answered HTTP 200" in server_log
    assert_clean("the server's output and logs", server_log)
    assert cache_leaks(folder) == []


# ------------------------------------------------------------------------------------ a token echoed transformed


def _grouped(token: str, separator: str) -> str:
    return separator.join(token.upper()[i : i + 4] for i in range(0, len(token), 4))


def _escaped(token: str, every: int, hex_case: str) -> str:
    """The token as JSON `\\u` escapes: every `every`-th character escaped (1: all), hex digits in `hex_case`."""
    escape = "\\u{:04X}" if hex_case == "upper" else "\\u{:04x}"
    return "".join(escape.format(ord(c)) if i % every == 0 else c for i, c in enumerate(token))


def echoed_forms(token: str, body: bytes = b"") -> dict[str, str]:
    """The token as a hostile server may send it back, by name: base64 of texts holding it at each byte offset
    (standard and URL-safe, with and without padding, `body` being the request as sent), in upper-case groups,
    as JSON `\\u` escapes, percent-encoded."""
    forms: dict[str, str] = {}
    for offset in range(3):
        text = b"<" * offset + token.encode() + b">"
        forms[f"base64 at offset {offset}"] = base64.b64encode(text).decode()
        forms[f"url-safe base64 at offset {offset}, unpadded"] = (
            base64.urlsafe_b64encode(b"?" + text).decode().strip("=")
        )
    if body:
        forms["base64 of the request"] = base64.b64encode(body).decode()
    for name, separator in (("spaces", " "), ("dashes", "-"), ("dots", "."), ("underscores", "_")):
        forms[f"upper case in groups with {name}"] = _grouped(token, separator)
    forms["JSON escapes, lower-case hex"] = _escaped(token, 1, "lower")
    forms["JSON escapes, upper-case hex, mixed with plain characters"] = _escaped(token, 2, "upper")
    forms["percent-encoded"] = "".join(f"%{ord(c):02X}" for c in token)
    return forms


def _unescaped(text: str) -> str:
    # Markdown and protobuf's text form add backslashes; the forms are compared without any.
    return text.replace("\\", "").lower()


def echo_leaks(data: str | bytes, token: str = CANARY) -> list[str]:
    """The names of the echoed forms of `token` found in `data` (a middle piece of each, in any letter case)."""
    text = _unescaped(data if isinstance(data, str) else data.decode("utf-8", errors="replace"))
    found = []
    for name, form in echoed_forms(token).items():
        middle = _unescaped(form)[len(form) // 3 : len(form) // 3 + 16]  # inside the token's part of the form
        if middle in text:
            found.append(name)
    return found


def assert_no_echo(where: str, data: str | bytes) -> None:
    found = echo_leaks(data)
    assert not found, f"the token, echoed transformed, leaks into {where}: {found}"
    assert_clean(where, data)


class _EchoingNewton(BaseHTTPRequestHandler):
    """A hostile Newton: every call is refused with an error that quotes the token sent, in every form."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = str(orjson.loads(body)["params"]["token"])
        quoted = "; ".join(f"{name}: {form}" for name, form in echoed_forms(token, body).items())
        _answer(self, 200, "application/json", orjson.dumps({"error": f"Bad request ({quoted})"}))

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture(scope="module")
def echoing_url() -> Iterator[str]:
    with serving(_EchoingNewton) as base:
        yield f"{base}/api/v1/json"


def test_the_echo_scanner_finds_every_form() -> None:
    forms = echoed_forms(CANARY, b'{"token":"' + CANARY.encode() + b'"}')
    for name, form in forms.items():
        if name != "base64 of the request":
            assert name in echo_leaks(f"error: {form} and more")
        assert Token(CANARY).redact(form).count(MASK) == 1, name  # what the dashboard shows in its place
    assert echo_leaks(literal(" ".join(forms.values()))) != []  # seen through Markdown's escapes as well


@pytest.mark.parametrize("name", list(echoed_forms(CANARY, b'{"userId":"1","token":"' + CANARY.encode() + b'"}')))
def test_a_token_echoed_transformed_is_masked(name: str) -> None:
    body = b'{"userId":"1","token":"' + CANARY.encode() + b'"}'
    form = echoed_forms(CANARY, body)[name]
    for shown in (form, form[: len(form) * 2 // 3]):  # whole, and cut short
        masked = Token(CANARY).redact(f"proxy says: {shown} (end)")
        assert masked.startswith("proxy says: ") and masked.endswith(" (end)") and MASK in masked
        assert _token_bytes_in(masked) == [], (name, masked)


def _token_bytes_in(text: str) -> list[str]:
    """Pieces of 6 or more characters of the canary that can be read back out of `text`: as written, without
    separators, with escapes read, or by decoding any run of base64 characters at any of its alignments."""
    views = [text, re.sub(r"[\s\-._]", "", text), html.unescape(urllib.parse.unquote(text))]
    views.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    for run in re.findall(r"[A-Za-z0-9+/\-_]{8,}", text):
        for skip in range(4):
            chunk = run[skip:].replace("-", "+").replace("_", "/")
            chunk = chunk[: len(chunk) // 4 * 4]
            views.append(base64.b64decode(chunk).decode("latin-1"))
    token = CANARY.lower()
    pieces = {token[i : i + 6] for i in range(len(token) - 5)}
    return sorted({p for view in views for p in pieces if p in view.lower()})


def test_the_cli_masks_a_token_echoed_transformed_in_output_and_in_the_cache(echoing_url: str, tmp_path: Path) -> None:
    environment = {"NEWTON_TOKEN": CANARY, "NEWTON_USER_ID": USER_ID, "NEWTON_API_URL": echoing_url,
                   "NEWTON_CACHE": str(tmp_path / "echo.duckdb")}  # fmt: skip
    synced = run_cli("-v", "sync", env=environment, cwd=tmp_path)
    priced = run_cli("-v", "set-lead-price", "12345", "777", env=environment, cwd=tmp_path)
    deal = run_cli("create-crm-lead", "--phone", "+79991234567", "--price", "5", env=environment, cwd=tmp_path)
    for name, result in (("sync", synced), ("set-lead-price", priced), ("create-crm-lead", deal)):
        assert result.returncode in (1, 3), (name, result.stderr)  # refused (a sync that stops says 3)
        assert "Bad request" in result.stderr and MASK in result.stderr  # Newton's words are shown, the token masked
        assert_no_echo(f"the stderr of `{name}`", result.stderr)
        assert_no_echo(f"the stdout of `{name}`", result.stdout)
    with connect(tmp_path / "echo.duckdb") as con:
        runs = con.execute("SELECT message FROM sync_runs WHERE outcome = 'failed'").fetchall()
        writes = con.execute("SELECT message FROM write_log").fetchall()
    assert len(runs) == 1 and len(writes) == 2
    for (message,) in runs + writes:
        assert "Bad request" in message and MASK in message
        assert_no_echo("the cache's sync_runs and write_log", message)
    assert cache_leaks(tmp_path) == []


def test_the_app_masks_a_token_echoed_transformed(
    canary_app_env: Path, logs: _Recorder, monkeypatch: pytest.MonkeyPatch, echoing_url: str
) -> None:
    monkeypatch.setenv("NEWTON_API_URL", echoing_url)
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    assert not test.exception
    assert any("Bad request" in t.value and MASK in t.value for t in test.text)  # Newton's words, on screen
    test.text_input(key="deal_form_phone").input("+79991234567")
    test.text_input(key="deal_form_price").input("5")
    test.button(key="FormSubmitter:deal_form-Create").click()
    test.run()
    assert any("Bad request" in e.value for e in test.sidebar.error)
    test.switch_page("app_pages/sync.py")
    test.run()  # the failed run's message, in the recent runs
    test.switch_page("app_pages/lead_prices.py")
    test.run()  # the refused deal's message, in the write log
    assert not test.exception
    for where, text in app_surfaces(test).items():
        assert_no_echo(where, text)
    assert_no_echo("the log records", logs.text())
    with connect(canary_app_env / "newton.duckdb") as con:
        messages = con.execute("SELECT message FROM sync_runs UNION ALL SELECT message FROM write_log").fetchall()
    assert len(messages) >= 2
    assert_no_echo("the cache's sync_runs and write_log", repr(messages))
