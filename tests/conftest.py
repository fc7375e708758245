"""Shared fixtures: a small embedded Newton, in-process and over a real socket, and clients for it."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard.api import Credentials, NewtonClient, Token
from dashboard.api.retry import Backoff
from dashboard.connect import embedded_demo, open_client
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, DemoTransport, serve_in_thread
from dashboard.settings import load_connection
from dashboard.store import Store
from dashboard.sync import sync
from dashboard.ui import freshness
from tests.support.downloads import Made, spy_on_deferred
from tests.support.postgres import Cluster, running_cluster, server_bin

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ENTRY = str(ROOT / "dashboard_app.py")  # the script; streamlit_app.py serves it (st.App)

# A fixed "now" so every test sees the same simulated account.
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster on a free loopback port, for the whole run (tests/support/postgres.py)."""
    if server_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server is not installed; .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL's server is not installed here (Debian: apt-get install postgresql)")
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def lake_catalog(pg_cluster: Cluster) -> str:
    """A libpq connection string to a new empty database of the throwaway cluster: one lake's catalog."""
    return pg_cluster.conninfo(pg_cluster.new_database())


@pytest.fixture
def newton() -> DemoNewton:
    """A small simulated account (about 2,000 records over 180 days)."""
    return DemoNewton(records=2_000, seed=7, clock=fixed_clock)


@pytest.fixture
def live_url() -> Iterator[tuple[str, DemoNewton]]:
    """A demo Newton on the real clock (the CLI syncs up to the real now), served over HTTP."""
    newton = DemoNewton(records=3_000, seed=11)
    with serve_in_thread(newton, host="127.0.0.1", port=0) as server:
        yield server.url, newton


def client_for(transport: httpx.BaseTransport, url: str = "http://demo.invalid/api/v1/json") -> NewtonClient:
    """A client with the demo credentials and no real waiting between retries."""
    return NewtonClient(
        Credentials(DEMO_USER_ID, Token(DEMO_TOKEN)), api_url=url, transport=transport, backoff=Backoff(),
        sleep=lambda seconds: None,
    )  # fmt: skip


@pytest.fixture
def client(newton: DemoNewton) -> Iterator[NewtonClient]:
    """A client talking to `newton` in process."""
    with client_for(DemoTransport(newton)) as made:
        yield made


@pytest.fixture
def server_url(newton: DemoNewton) -> Iterator[str]:
    """`newton` served over HTTP on a free loopback port."""
    with serve_in_thread(newton, host="127.0.0.1", port=0) as server:
        yield server.url


class FlakyTransport(httpx.BaseTransport):
    """Fails some requests the way networks and servers do, then lets the retry go through."""

    def __init__(self, inner: httpx.BaseTransport, fail_every: int = 3) -> None:
        self.inner = inner
        self.fail_every = fail_every
        self.calls = 0
        self.failures = 0
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:  # a sync asks several windows at once
            self.calls += 1
            self.bodies.append(request.content)
            failing = self.calls % self.fail_every == 0
            if failing:
                self.failures += 1
            failures_so_far = self.failures
        if failing:
            failures: list[Callable[[], httpx.Response]] = [
                lambda: httpx.Response(503, text="<html>Service Unavailable</html>"),
                lambda: httpx.Response(429, headers={"Retry-After": "1"}),
            ]
            if failures_so_far % 3 == 0:
                raise httpx.ConnectError("connection refused")
            return failures[failures_so_far % 2]()
        return self.inner.handle_request(request)


# The dashboard under AppTest ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded demo account synced once, as the dashboard would on first open."""
    path = tmp_path_factory.mktemp("app") / "demo.duckdb"
    connection = load_connection(env={}, secrets_path=Path("/nonexistent"))
    embedded_demo()  # the same simulated account the app will use in this process
    with open_client(connection) as client:
        sync(client, Store(path), connection.credentials.user_id)
    return path


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, demo_cache: Path) -> Iterator[Path]:
    """Demo mode on a fresh copy of the synced cache, and no Newton settings from the machine."""
    for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    cache_copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_cache, cache_copy)
    monkeypatch.setenv("NEWTON_CACHE", str(cache_copy))
    monkeypatch.chdir(ROOT)
    yield cache_copy
    # A first open of an empty or rebuilt cache fills older days in a thread: let it end before the next test.
    assert freshness.join_backfills(timeout=300)


@pytest.fixture
def app(app_env: Path) -> Iterator[AppTest]:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.run()
    assert not test.exception, test.exception
    yield test


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str]]:
    """What the page hands to download buttons: (data, mime type)."""
    handed: list[tuple[bytes, str]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self: MemoryMediaFileStorage, data: str | bytes, mimetype: str, *args: Any, **kwargs: Any) -> str:
        if isinstance(data, bytes):
            handed.append((data, mimetype))
        return original(self, data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return handed


@pytest.fixture
def on_click(monkeypatch: pytest.MonkeyPatch) -> Made:
    """What the page hands to download buttons that make their file only when clicked: (file name, maker)."""
    return spy_on_deferred(monkeypatch)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser of its own)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is required for the browser tests (.ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield launched
        launched.close()
