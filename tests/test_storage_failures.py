"""A full disk or an unwritable cache: one clear message naming the path, exit code 4, nothing half-written, and for
a write nothing sent to Newton.

Both are made for real, in a child process: a full disk as a file size limit (RLIMIT_FSIZE, so every write past it
fails with EFBIG, as on a full disk; it needs no root, unlike a small tmpfs), an unwritable cache as a folder 0500
holding a file 0400. Root ignores permissions, so as root the child runs without the capabilities that let it
(`setpriv` drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), which works in CI running as root or not.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.api import NewtonClient
from dashboard.api.records import parse_records
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, DemoTransport
from dashboard.errors import SyncFailed
from dashboard.store import Store, data, logs
from dashboard.store.connection import SYNC_LOCK_MODE as LOCK_MODE
from dashboard.store.connection import connect, transaction
from dashboard.sync import SyncOptions, sync
from tests.conftest import ENTRY, NOW, ROOT, client_for
from tests.test_sync_process import COLUMNS, cached, expected

pytestmark = pytest.mark.slow  # real processes: the command line and the whole app on a failing disk

ACCOUNT = DEMO_USER_ID
# Without the capabilities that let root ignore file permissions: root is then held to them like anyone else.
AS_AN_ORDINARY_USER = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
    if os.geteuid() == 0
    else []
)


def run(
    args: list[str], env: dict[str, str], *, file_size_limit: int | None = None, ordinary_user: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a Python command line as a separate process, with a file size limit or held to file permissions."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}

    def limit() -> None:  # in the child, before it starts; Python ignores SIGXFSZ, so a write past it fails EFBIG
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    prefix = AS_AN_ORDINARY_USER if ordinary_user else []
    return subprocess.run(
        [*prefix, sys.executable, *args], env={**base, **env}, cwd=ROOT, capture_output=True, text=True,
        timeout=180, check=False, preexec_fn=limit,  # the limit is set in the child, before it starts
    )  # fmt: skip


def cli(*args: str, env: dict[str, str], **how: object) -> subprocess.CompletedProcess[str]:
    return run(["-m", "dashboard.cli", *args], env, **how)  # type: ignore[arg-type]


def env_for(url: str, path: Path) -> dict[str, str]:
    return {"NEWTON_API_URL": url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT, "NEWTON_CACHE": str(path)}


SYNC = ["sync", "--history-days", "30", "--window-hours", "6", "--lookback-days", "1"]


def sync_run_outcomes(path: Path) -> list[str]:
    with connect(path) as con:
        return [outcome for (outcome,) in con.execute("SELECT outcome FROM sync_runs ORDER BY started_at").fetchall()]


def test_a_sync_that_fills_the_disk_exits_4_naming_the_cache_and_the_next_sync_completes(
    live_url: tuple[str, DemoNewton], tmp_path: Path
) -> None:
    url, newton = live_url
    path = tmp_path / "newton.duckdb"
    env = env_for(url, path)
    first = cli("sync", "--history-days", "1", env=env)  # a cache in use; then its disk fills during a long sync
    assert first.returncode == 0, first.stderr
    full = cli(*SYNC, "--full", env=env, file_size_limit=300_000)  # too little room for the month's WAL

    assert full.returncode == 4, full.stderr
    assert "Traceback" not in full.stderr
    assert f"Local storage failure: cannot write the cache {path}" in full.stderr
    assert "File too large" in full.stderr and "ulimit -f" in full.stderr

    # Nothing half-written: the file opens as it was after its last whole write, not damaged, nothing set aside.
    assert sorted(p.name for p in tmp_path.iterdir() if ".damaged-" in p.name) == []
    with connect(path) as con:
        state = data.read_sync_state(con, ACCOUNT, "records")
    assert state.synced_from is not None and state.synced_through is not None
    # Every record of the span the cache says it has synced is there, whole; the next sync resumes at its end.
    assert_frame_equal(within(cached(path), state), within(newton_records(newton), state))

    again = cli(*SYNC, "--full", env=env)  # the same sync once there is room
    assert again.returncode == 0, again.stderr
    assert_frame_equal(cached(path), expected(newton, path))
    assert sync_run_outcomes(path) == ["ok", "interrupted", "ok"]


def newton_records(newton: DemoNewton) -> pl.DataFrame:
    return parse_records({"records": newton.records_snapshot()}).select(COLUMNS)


def within(frame: pl.DataFrame, state: data.SyncState) -> pl.DataFrame:
    span = pl.col("requestDate").is_between(state.synced_from, state.synced_through, closed="left")
    return frame.filter(span).sort("id")


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A cache (a real one, with a sync in it) in a folder 0500, the file itself 0400."""
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "newton.duckdb"
    with transaction(path) as con:
        logs.log_write(con, ACCOUNT, "callback.SetLeadPrice", {"id": "1", "price": 5000}, "ok")
    path.chmod(0o400)
    folder.chmod(0o500)
    try:
        yield path
    finally:
        folder.chmod(0o700)


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


WRITES = {
    "set-lead-price": ["set-lead-price", "{record}", "5000"],
    "create-crm-lead": ["create-crm-lead", "--phone", "{phone}", "--price", "228"],
    "create-request": ["create-request", "--phone", "+79991234567", "--widget", "{widget}"],
    "application-request": ["application-request", "--phone", "+79991234567", "--widget", "{widget}"],
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_with_an_unwritable_cache_exits_4_and_sends_nothing(
    write: str, live_url: tuple[str, DemoNewton], unwritable: Path
) -> None:
    url, newton = live_url
    record = newton.records_snapshot()[-1]
    values = {"record": str(record["id"]), "phone": str(record["clientPhone"]), "widget": newton.widgets[0]["id"]}
    before = files_in(unwritable.parent)

    result = cli(*[a.format(**values) for a in WRITES[write]], env=env_for(url, unwritable), ordinary_user=True)

    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot write the cache {unwritable}: permission denied" in result.stderr
    assert newton.write_count == 0  # the write log row comes first: a cache it cannot write stops it before Newton
    assert files_in(unwritable.parent) == before


def test_a_sync_into_an_unwritable_cache_exits_4_and_changes_nothing(
    live_url: tuple[str, DemoNewton], unwritable: Path
) -> None:
    url, _ = live_url
    before = files_in(unwritable.parent)
    result = cli(*SYNC, env=env_for(url, unwritable), ordinary_user=True)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert str(unwritable) in result.stderr and "permission denied" in result.stderr
    assert files_in(unwritable.parent) == before


# The dashboard: the same message, not a traceback. AppTest runs in a child process held to the file permissions.

APP = """
import json, sys
from streamlit.testing.v1 import AppTest
test = AppTest.from_file(sys.argv[1], default_timeout=120)
test.query_params["lang"] = sys.argv[2]
test.run()
print(json.dumps({"exception": [e.value for e in test.exception], "error": [e.value for e in test.error],
                  "text": [t.value for t in test.text]}))
"""


@pytest.mark.parametrize(("lang", "words"), [("en", "cannot be written: permission denied"),
                                             ("ru", "нельзя записать: нет прав доступа")])  # fmt: skip
def test_the_dashboard_on_an_unwritable_cache_shows_the_storage_failure_not_a_traceback(
    lang: str, words: str, tmp_path: Path
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "demo.duckdb"
    env = {"NEWTON_CACHE": str(path)}  # demo mode: no token; the empty folder cannot take the demo's cache
    folder.chmod(0o500)
    try:
        result = run(["-c", APP, ENTRY, lang], env, ordinary_user=True)
    finally:
        folder.chmod(0o700)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["exception"] == []
    (error,) = shown["error"]
    assert words in error
    assert any(str(path) in text for text in shown["text"])
    assert list(folder.iterdir()) == []


# The sync lock ------------------------------------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_the_sync_lock_is_its_owners_alone_whatever_the_umask(
    client: NewtonClient, open_umask: None, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    sync(client, Store(path), ACCOUNT, SyncOptions(history=timedelta(days=2)), now=NOW.replace(tzinfo=None))
    lock = Path(f"{path}.sync-lock")
    assert stat.S_IMODE(lock.stat().st_mode) == LOCK_MODE == 0o600


def test_a_lock_left_world_writable_by_an_older_version_is_made_its_owners_alone(
    client: NewtonClient, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    lock = Path(f"{path}.sync-lock")
    lock.touch()
    lock.chmod(0o666)
    sync(client, Store(path), ACCOUNT, SyncOptions(history=timedelta(days=2)), now=NOW.replace(tzinfo=None))
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


# A sync that stops early leaves no gap the next one steps over -------------------------------------------------


class StopsAfter(httpx.BaseTransport):
    """Newton, until it stops answering after `answers` answers (as the sync's process stops on a full disk)."""

    def __init__(self, inner: httpx.BaseTransport, answers: int) -> None:
        self.inner = inner
        self.answers = answers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.answers <= 0:
            raise httpx.ConnectError("connection refused")
        self.answers -= 1
        return self.inner.handle_request(request)


def test_a_full_sync_that_stops_early_leaves_no_gap_for_the_next_sync_to_step_over(
    newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    now = NOW.replace(tzinfo=None)
    recent = SyncOptions(history=timedelta(days=1))
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, recent, now=now - timedelta(hours=1))  # the last day is in the cache
    full = SyncOptions(history=timedelta(days=30), full=True, retry_rounds=0)
    with client_for(StopsAfter(DemoTransport(newton), answers=6)) as client, pytest.raises(SyncFailed):
        sync(client, Store(path), ACCOUNT, full, now=now)  # wrote its oldest windows only, then stopped
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(path), ACCOUNT, SyncOptions(history=timedelta(days=30), lookback=timedelta(days=1)), now=now)

    with connect(path) as con:
        state = data.read_sync_state(con, ACCOUNT, "records")
    assert state.synced_from == now - timedelta(days=30)
    assert_frame_equal(within(cached(path), state), within(newton_records(newton), state))
