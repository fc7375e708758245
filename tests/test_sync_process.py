"""Sync as separate processes: killed at random points and resumed, and run while the dashboard reads the cache."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.api.records import API_FIELDS, EXTRA, UNPARSED, parse_records
from dashboard.connect import open_client
from dashboard.demo import DEMO_USER_ID, DemoNewton, DemoServer, serve_in_thread
from dashboard.settings import load_connection
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import connect
from dashboard.sync import SyncOptions, sync
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # real processes: the command line syncing beside others

COLUMNS = [*API_FIELDS, EXTRA, UNPARSED]
HISTORY_DAYS = 30
SYNC_ARGS = ["--history-days", str(HISTORY_DAYS), "--window-hours", "1", "--lookback-days", "1"]


def expected(newton: DemoNewton, path: Path) -> pl.DataFrame:
    """Newton's records inside the span the cache says it has synced."""
    with connect(path) as con:
        state = data.read_sync_state(con, DEMO_USER_ID, "records")
    assert state.synced_from is not None and state.synced_through is not None
    assert state.synced_from <= utc_now() - timedelta(days=HISTORY_DAYS - 1)
    frame = parse_records({"records": newton.records_snapshot()})
    span = pl.col("requestDate").is_between(state.synced_from, state.synced_through, closed="left")
    expected = frame.filter(span).select(COLUMNS).sort("id")
    assert expected.height > 100  # the span really holds the simulated account
    return expected


def cached(path: Path) -> pl.DataFrame:
    with connect(path) as con:
        frame = data.query(con, "SELECT * FROM records WHERE account = ?", [DEMO_USER_ID])
    return frame.select(COLUMNS).sort("id")


def sync_command(url: str, path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dashboard.cli", "sync", "--api-url", url, "--cache", str(path), *SYNC_ARGS, *extra]


# Small answers split (hundreds of requests): a sync that lasts long enough to be killed in the middle.
SMALL_WINDOWS = ("--split-threshold", "10")
# Every answer this late, as over a slow link: the sync then lasts about ten seconds on a quiet machine and longer
# on a busy one, so a kill 0.3-2.5 s after its first answers lands in the middle (answered at once, four windows in
# flight finished it in four seconds, before the second kill).
SLOW_LINK_SECONDS = 0.1


@pytest.fixture
def slow_server() -> Iterator[tuple[DemoServer, DemoNewton]]:
    """The demo Newton behind a slow link, counting the requests it receives."""
    newton = DemoNewton(records=3_000, seed=11)
    with serve_in_thread(newton, host="127.0.0.1", port=0, latency=SLOW_LINK_SECONDS) as server:
        yield server, newton


def wait_for_requests(server: DemoServer, count: int, process: subprocess.Popen[bytes]) -> None:
    """Until the server has received `count` requests: the sync has started its run (it records the run before it asks
    Newton anything), however long a busy machine took to start the process."""
    deadline = time.monotonic() + 120
    while server.requests < count and process.poll() is None:
        assert time.monotonic() < deadline, "the sync never asked Newton anything"
        time.sleep(0.02)


def test_a_sync_killed_at_random_points_resumes_and_ends_exact(
    slow_server: tuple[DemoServer, DemoNewton], tmp_path: Path
) -> None:
    server, newton = slow_server
    server_url = server.url
    path = tmp_path / "cache.duckdb"
    rng = random.Random(2026)
    kills = 0
    for _ in range(4):
        process = subprocess.Popen(
            sync_command(server_url, path, *SMALL_WINDOWS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # Counted from its first answers, not from the start of the process (imports take seconds on a busy
        # machine: a kill timed from the start then met a sync that had not yet recorded its run).
        wait_for_requests(server, server.requests + 3, process)
        time.sleep(rng.uniform(0.3, 2.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    assert kills >= 2  # the test really interrupted syncs
    final = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS)
    assert final.returncode == 0, final.stderr
    assert_frame_equal(cached(path), expected(newton, path))
    with connect(path) as con:
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM sync_runs GROUP BY outcome").fetchall())
    assert outcomes.get("ok", 0) >= 1 and outcomes.get("interrupted", 0) >= 1


def test_the_cli_finishes_a_backfill_the_dashboard_left_and_leaves_no_hole(
    live_url: tuple[str, DemoNewton], tmp_path: Path
) -> None:
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    connection = load_connection(env={"NEWTON_API_URL": server_url}, secrets_path=Path("/nonexistent"))
    with open_client(connection) as client:  # the dashboard's first open: the last days only, then it stopped
        sync(client, Store(path), DEMO_USER_ID, SyncOptions(recent=timedelta(days=5)))
    with connect(path) as con:
        synced_from = data.read_sync_state(con, DEMO_USER_ID, "records").synced_from
    assert synced_from is not None and synced_from > utc_now() - timedelta(days=6)
    result = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS)
    assert result.returncode == 0, result.stderr
    assert_frame_equal(cached(path), expected(newton, path))  # every record of the 30 days
    with connect(path) as con:
        assert len(data.complete_ranges(con, DEMO_USER_ID, "records")) == 1  # in one piece


READER = """
import sys, time
from pathlib import Path
from dashboard.store.connection import connect
path, seconds = Path(sys.argv[1]), float(sys.argv[2])
reads = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    # As a dashboard page does: open, read, close.
    with connect(path) as con:
        con.execute("SELECT count(*) FROM records").fetchone()
        time.sleep(0.05)
    reads += 1
print(reads)
"""

HOLDER = """
import sys, time
from pathlib import Path
from dashboard.store.connection import connect
with connect(Path(sys.argv[1])) as con:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_sync_runs_while_the_dashboard_keeps_reading(live_url: tuple[str, DemoNewton], tmp_path: Path) -> None:
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    with connect(path):
        pass  # the dashboard made the cache already
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), "8"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    result = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS)
    out, err = reader.communicate(timeout=60)
    assert result.returncode == 0, result.stderr
    assert reader.returncode == 0, err  # never a "Conflicting lock" error
    assert int(out) > 10
    assert_frame_equal(cached(path), expected(newton, path))


def test_sync_waits_for_a_process_holding_the_cache(live_url: tuple[str, DemoNewton], tmp_path: Path) -> None:
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "3"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    result = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS)
    holder.communicate(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "Conflicting lock" not in result.stderr
    assert_frame_equal(cached(path), expected(newton, path))


SYNC_HOLDER = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1] + ".sync-lock")
lock.acquire()
print("syncing", flush=True)
time.sleep(60)
"""


def test_a_second_sync_is_not_started_while_another_process_syncs(
    live_url: tuple[str, DemoNewton], tmp_path: Path
) -> None:
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    other = subprocess.Popen([sys.executable, "-c", SYNC_HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "syncing"
        refused = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS,
                          "--wait-for-other-sync", "1")  # fmt: skip
        assert refused.returncode == 3
        assert "Another sync of" in refused.stderr and "is running" in refused.stderr
        assert not path.exists()  # nothing was written, not even an empty cache
    finally:
        other.kill()  # a sync killed mid-way: the operating system frees its lock
        other.communicate(timeout=30)
    result = run_cli("sync", "--api-url", server_url, "--cache", str(path), *SYNC_ARGS, "--wait-for-other-sync", "1")
    assert result.returncode == 0, result.stderr
    assert_frame_equal(cached(path), expected(newton, path))


def test_a_sync_waits_for_the_other_to_end(live_url: tuple[str, DemoNewton], tmp_path: Path) -> None:
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    other = subprocess.Popen([sys.executable, "-c", SYNC_HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "syncing"
    waiting = subprocess.Popen(sync_command(server_url, path), stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    assert waiting.poll() is None  # still waiting for the other sync
    other.kill()
    other.communicate(timeout=30)
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert_frame_equal(cached(path), expected(newton, path))


# Started as `newton-dashboard sync ...` is, syncs, then counts the malloc arenas (glibc's "heaps") it made.
ARENAS_AFTER_SYNC = """
import ctypes, pathlib, sys
out, sys.argv = sys.argv[1], ["newton-dashboard", "sync", *sys.argv[2:]]
from dashboard.cli import main
code = main(sys.argv[1:])
libc = ctypes.CDLL(None)
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
stream = libc.fopen(out.encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
print(code, pathlib.Path(out).read_text().count("<heap nr="))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc arenas are glibc's")
def test_a_sync_process_keeps_its_memory_in_two_malloc_arenas(live_url: tuple[str, DemoNewton], tmp_path: Path) -> None:
    """Four workers, the writer, polars' and DuckDB's threads: in an arena each, glibc would keep what each freed
    apart (a 1M-record sync's peak then passed 1.3 GB)."""
    server_url, newton = live_url
    path = tmp_path / "cache.duckdb"
    argv = ["--api-url", server_url, "--cache", str(path), *SYNC_ARGS, "--concurrency", "4"]
    child = subprocess.run([sys.executable, "-c", ARENAS_AFTER_SYNC, str(tmp_path / "malloc.xml"), *argv],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert child.returncode == 0, child.stderr
    code, arenas = child.stdout.split()[-2:]
    assert code == "0"
    assert 1 <= int(arenas) <= 2
    assert_frame_equal(cached(path), expected(newton, path))
