"""How long page-run-like reads wait behind a sync that writes from another process, without Streamlit.

Usage: python benchmarks/lock_benchmark.py --cache COPY.duckdb [--seconds 90] [--readers 12]

One process re-syncs the frozen benchmark account's last 7 days again and again, each followed by a new data
version (as `load_benchmark.py --changing-syncs`), two seconds apart. Meanwhile this process runs `--readers`
threads that do what a page run does with the file: read the data state, then open the cache for one grouped
query over the month, then think up to a second. Prints the reads' p50/p95/max and each re-sync's duration. Run the
old and the new code on copies of the same cache, one after the other, and compare the ratios (the file lock is
what this measures: every read opens the file, which waits while the sync process holds it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `dashboard` and `tests.support` importable
    sys.path.insert(0, str(ROOT))

from dashboard.store import AnyStore, data, open_store, schema  # noqa: E402
from tests.support.bench_cache import ACCOUNT, resync, reuse  # noqa: E402
from tests.support.load import percentile  # noqa: E402


def sync_loop(path: str, seconds: float, durations: Any) -> None:
    """Re-sync the last 7 days, then give the data a new version, until `seconds` have passed."""
    bench = reuse(Path(path))
    newton = bench.newton()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        resync(bench, newton)
        open_store(bench.path).write(schema.new_data_version)
        durations.put(time.monotonic() - started)
        time.sleep(2.0)
    durations.put(None)


def page_runs(store: AnyStore, until: float, seed: int, times: list[float]) -> None:
    """Read as a page run does until `until`: the data state, then one grouped query on a connection of its own."""
    pace = random.Random(seed)
    while time.monotonic() < until:
        started = time.monotonic()
        state = store.read(data.read_data_state, ACCOUNT)
        month = state.synced_at.replace(day=1) if state.synced_at else None
        with store.reading() as reading:
            reading.read(month_by_channel, month)
        times.append(time.monotonic() - started)
        time.sleep(pace.uniform(0, 1.0))


def month_by_channel(con: Any, month: Any) -> list[Any]:
    """One grouped question over the month, as a page asks."""
    sql = "SELECT channel, count(*), sum(leadPrice) FROM records WHERE account = ? AND requestDate >= ? GROUP BY 1"
    return list(con.execute(sql, [ACCOUNT, month]).fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True, help="a copy of a benchmark cache (it is re-synced)")
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--readers", type=int, default=12, help="threads reading as page runs do")
    args = parser.parse_args()
    store = open_store(args.cache)
    store.read(data.read_data_state, ACCOUNT)  # opened and prepared once, as a running server has
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
    context = multiprocessing.get_context("spawn")
    durations = context.Queue()
    syncing = context.Process(target=sync_loop, args=(str(args.cache), args.seconds, durations))
    syncing.start()
    time.sleep(8.0)  # the sync process has imported and begun
    times: list[float] = []
    until = time.monotonic() + args.seconds - 8.0
    readers = [threading.Thread(target=page_runs, args=(store, until, i, times)) for i in range(args.readers)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    resyncs = []
    while (seconds := durations.get()) is not None:
        resyncs.append(seconds)
    syncing.join()
    print(f"load average after the run {os.getloadavg()[0]:.1f}")
    print(f"reads: {len(times)}, p50 {statistics.median(times):.3f} s, p95 {percentile(times, 0.95):.3f} s, "
          f"max {max(times):.3f} s")  # fmt: skip
    print(f"re-syncs (7 days, then a new data version): {', '.join(f'{s:.1f}' for s in resyncs)} s")


if __name__ == "__main__":
    main()
