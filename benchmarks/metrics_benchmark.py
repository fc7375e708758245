"""Metric speed on a 1M-record cache: breakdowns with a date filter in process, and `report` as a whole process.

Usage: python benchmarks/metrics_benchmark.py [--records 1000000] [--cache cache/bench-1m.duckdb]
The cache is built once straight from the demo account (no HTTP) and reused on later runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from dashboard.api.records import parse_records
from dashboard.demo import DemoNewton
from dashboard.metrics import Filters, Metrics, Period
from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

ACCOUNT = "0"


def build_cache(path: Path, records: int) -> None:
    if path.exists():
        return
    started = time.perf_counter()
    newton = DemoNewton(records=records)
    snapshot = newton.records_snapshot()
    with transaction(path) as con:
        for start in range(0, len(snapshot), 200_000):
            frame = parse_records({"records": snapshot[start : start + 200_000]})
            data.upsert_records(con, ACCOUNT, frame, utc_now())
    print(f"built {path} with {len(snapshot):,} records in {time.perf_counter() - started:.0f} s")


def timed(label: str, work: Callable[[], object], runs: int = 15) -> None:
    work()  # warm the file cache and DuckDB's
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    print(f"{label:55s} median {statistics.median(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms")


def naive_pandas(path: Path, period: Period) -> None:
    """The slow way, for comparison: every column of the period into pandas, then group."""
    with connect(path) as con:
        frame = con.sql(
            "SELECT * FROM records WHERE requestDate >= $a AND requestDate < $b",
            params={"a": period.first, "b": period.last + timedelta(days=1)},
        ).df()
    frame.groupby("landingUtmSource", dropna=False).agg(requests=("id", "count"), value=("leadPrice", "sum"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path("cache") / "bench-1m.duckdb")
    args = parser.parse_args()
    build_cache(args.cache, args.records)
    with connect(args.cache) as con:
        metrics = Metrics(con, ACCOUNT)
        span = metrics.data_span()
        if span is None:
            raise SystemExit("the benchmark cache is empty")
        total = metrics.headline(Filters())["requests"]
        print(f"cache: {total:,} records, {span.first} to {span.last}")
        month = Filters(period=Period(span.last - timedelta(days=29), span.last))
        whole = Filters(period=span)
        timed("headline, last 30 days", lambda: metrics.headline(month))
        for dimension in ("channel", "utm_source", "city", "landing_page"):
            timed(f"breakdown by {dimension}, last 30 days", partial(metrics.breakdown, month, dimension))
        timed(
            "breakdown by channel x device_type, last 30 days",
            lambda: metrics.breakdown(month, "channel", "device_type"),
        )
        timed("breakdown by utm_campaign, all 180 days", lambda: metrics.breakdown(whole, "utm_campaign"))
        timed("daily series, all 180 days", lambda: metrics.series(whole, "day"))
        timed("weekday x hour, all 180 days", lambda: metrics.weekday_hour(whole))
        timed("comparison with the previous 30 days", lambda: metrics.compare(month))
        timed("callback speeds (one row per call), last 30 days", lambda: metrics.callback_speeds(month))
    timed("naive: all columns into pandas, then group, 30 days", lambda: naive_pandas(args.cache, month.period), 5)  # type: ignore[arg-type]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    command = [sys.executable, "-m", "dashboard.cli", "report", "attribution", "--by", "utm_source",
               "--cache", str(args.cache), "-o", os.devnull]  # fmt: skip
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    print(f"{'newton-dashboard report attribution, whole process':55s} median {statistics.median(times):7.2f} s")


if __name__ == "__main__":
    main()
