"""Sync throughput from the local demo server, re-sync and upsert times, peak memory and cache size.

Usage: python benchmarks/sync_benchmark.py [--records 100000 1000000]
Prints one block of figures per size; copy them into the README's performance section.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

ACCOUNT = "0"
# Runs the CLI in a child and reports the child's own peak memory (ru_maxrss, KiB on Linux) on its last line.
MEASURED_CLI = """
import resource, runpy, sys
sys.argv = ["newton-dashboard", *sys.argv[1:]]
try:
    runpy.run_module("dashboard.cli", run_name="__main__")
finally:
    sys.stderr.write(f"\\npeak_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


def start_server(records: int) -> tuple[subprocess.Popen[str], str, float]:
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo-server", "--port", "0", "--records", str(records), "--warm"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    for line in server.stdout or []:
        if "http://" in line:
            return server, line[line.index("http://") :].split()[0], time.perf_counter() - started
    raise RuntimeError("the demo server did not start")


def run_sync(url: str, path: Path, *extra: str) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "sync", "--api-url", url, "--cache", str(path), *extra],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    peak = int(result.stderr.rsplit("peak_kib=", 1)[1].split()[0])
    return elapsed, peak


def count_records(path: Path) -> int:
    with connect(path) as con:
        return int(con.execute("SELECT count(*) FROM records").fetchall()[0][0])


def time_upsert(path: Path, changed: int) -> float:
    with connect(path) as con:
        sql = f"SELECT * EXCLUDE (account, synced_at) FROM records USING SAMPLE {int(changed)} ROWS"  # noqa: S608
        sample = data.query(con, sql)
    sample = sample.with_columns(pl.col("leadPrice").fill_null(0) + 1)
    started = time.perf_counter()
    with transaction(path) as con:
        data.upsert_records(con, ACCOUNT, sample, utc_now())
    return time.perf_counter() - started


def benchmark(records: int) -> None:
    server, url, startup = start_server(records)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.duckdb"
            first, first_peak = run_sync(url, path)
            synced = count_records(path)
            again, again_peak = run_sync(url, path)
            upsert = time_upsert(path, min(100_000, synced // 10))
            size = path.stat().st_size
            print(f"== {records:,} records requested from the demo server")
            print(f"demo server ready (all generated)  {startup:8.2f} s")
            rate = synced / first
            print(f"first sync (180 days)              {first:8.2f} s  {synced:,} records  {rate:,.0f} records/s")
            print(f"first sync peak memory             {first_peak / 1024:8.0f} MiB")
            print(f"re-sync, unchanged 7-day look-back {again:8.2f} s  peak {again_peak / 1024:.0f} MiB")
            print(f"upsert {min(100_000, synced // 10):,} changed records       {upsert:8.2f} s")
            print(
                f"cache file size                    {size / 2**20:8.1f} MiB ({size / max(synced, 1):.0f} bytes/record)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    for records in parser.parse_args().records:
        benchmark(records)


if __name__ == "__main__":
    main()
