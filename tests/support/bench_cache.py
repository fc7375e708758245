"""A benchmark cache: the demo account synced through the real `Syncer`, built once and reused (by benchmarks/ and
tests/test_load.py).

The account's clock is frozen at the moment of the build, so a later look-back re-sync of the same cache (the
load benchmark's concurrent sync) fetches exactly what is already there: any page run that reads during it must
show the same numbers as before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from dashboard.api import Credentials, NewtonClient, Token
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, DemoTransport
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.sync import RECORDS, Syncer, SyncOptions, SyncProgress, SyncResult

ACCOUNT = DEMO_USER_ID
# Kept in the cache's meta table: the demo account's size and the moment its clock was frozen at. (Not the sync
# state: a "Sync now" in the dashboard moves that to the real now.)
_SIZE_KEY, _FROZEN_KEY = "benchmark_demo_records", "benchmark_frozen_at"


@dataclass(frozen=True)
class BenchCache:
    """A synced cache file and the frozen account it came from."""

    path: Path
    demo_records: int  # the DemoNewton(records=...) it was synced from
    synced_at: datetime  # naive UTC: the account's frozen "now", when it was synced into the file
    built_seconds: float | None  # None when an existing file was reused

    def newton(self) -> DemoNewton:
        """The same simulated account, at the same frozen moment."""
        return frozen_newton(self.demo_records, self.synced_at)


def frozen_newton(records: int, at: datetime) -> DemoNewton:
    """`DemoNewton(records=...)` whose clock stays at `at` (naive UTC)."""
    moment = at.replace(tzinfo=UTC)
    return DemoNewton(records=records, clock=lambda: moment)


def demo_client(newton: DemoNewton) -> NewtonClient:
    """A client talking to `newton` in process, with the demo credentials."""
    return NewtonClient(Credentials(DEMO_USER_ID, Token(DEMO_TOKEN)), transport=DemoTransport(newton))


def build(path: Path, records: int) -> BenchCache:
    """Sync `DemoNewton(records=records)` (180 days, chats included) into a new file at `path`."""
    if path.exists():
        raise FileExistsError(path)
    started = time.perf_counter()
    now = utc_now()
    with demo_client(frozen_newton(records, now)) as client:
        Syncer(client, Store(path), ACCOUNT).run(now)
    with transaction(path) as con:
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?), (?, ?)",
                    [_SIZE_KEY, str(records), _FROZEN_KEY, now.isoformat()])  # fmt: skip
    return BenchCache(path, records, now, time.perf_counter() - started)


def reuse(path: Path) -> BenchCache:
    """An existing benchmark cache; refuses a file that was not built by `build`."""
    with connect(path) as con:
        meta = dict(con.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", [_SIZE_KEY, _FROZEN_KEY]).fetchall())
        state = data.read_sync_state(con, ACCOUNT, RECORDS)
    if len(meta) < 2 or state.synced_through is None:
        raise SystemExit(f"{path} was not built by these benchmarks: give another --cache path")
    return BenchCache(path, int(meta[_SIZE_KEY]), datetime.fromisoformat(meta[_FROZEN_KEY]), None)


_SAY = partial(print, flush=True)


def open_or_build(path: Path, records: int, say: Callable[[str], object] = _SAY) -> BenchCache:
    """Reuse the cache at `path`, or build it there (about 1.5 minutes for a million records), saying so."""
    if path.exists():
        return reuse(path)
    say(f"building {path} from DemoNewton(records={records:,}) through the Syncer ...")
    built = build(path, records)
    say(f"built in {built.built_seconds:.0f} s")
    return built


def freshen(path: Path) -> None:
    """Mark the sync state as just updated, so opening the dashboard does not start its automatic sync."""
    with transaction(path) as con:
        con.execute("UPDATE sync_state SET updated_at = ? WHERE account = ?", [utc_now(), ACCOUNT])


def sync_runs(path: Path) -> int:
    """How many sync runs the cache has seen (an automatic sync during a measurement would add one)."""
    with connect(path) as con:
        return int(con.execute("SELECT count(*) FROM sync_runs WHERE account = ?", [ACCOUNT]).fetchall()[0][0])


def contents(path: Path) -> tuple[int, int, int]:
    """Records, chat sessions and chat messages in the cache."""
    with connect(path) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM chat_sessions), "
            "(SELECT count(*) FROM chat_messages)"
        ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def resync(
    bench: BenchCache,
    newton: DemoNewton,
    lookback: timedelta = timedelta(days=7),
    on_progress: Callable[[SyncProgress], None] | None = None,
) -> SyncResult:
    """A look-back re-sync of the frozen account: rewrites its last `lookback` of records and chats, unchanged.

    The span is pinned to the frozen moment (the sync state may have been moved on by a "Sync now" since)."""
    # Like cron's sync, it waits its turn while a sync inside the dashboard runs.
    options = SyncOptions(since=bench.synced_at - lookback, lookback=lookback, wait_for_other_sync=600.0)
    with demo_client(newton) as client:
        return Syncer(client, Store(bench.path), ACCOUNT, options, on_progress).run(bench.synced_at)
