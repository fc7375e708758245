"""First sync against the local demo server beside a plain fetch-and-parse loop; re-sync, upsert, memory, size.

Usage:
  python benchmarks/sync_benchmark.py                                   # 100k and 1M records, no latency
  python benchmarks/sync_benchmark.py --records 20000 --latency-ms 0 100  # a typical account over a real link
  python benchmarks/sync_benchmark.py --records 100000 --profile 20     # also the first sync's profile
  python benchmarks/sync_benchmark.py --parse 100000                    # parse one big answer of each kind

The demo server runs in its own process, generated in full before anything is timed, and answers several
requests at once (threads, HTTP/1.1 keep-alive); `--latency-ms` delays every answer by that much without holding
a lock, as a network would. It counts the requests it receives. The baseline is the least a sync could need
without concurrency and without splitting: one `httpx.Client` asks each of the 180 days once for records
(`callback.GetRecords`) and once for chats (`chat.GetHistory` without a widget), one after another, parses each
answer with orjson and stores nothing. Both run as child processes timed the same way (start-up included), against
the same server with the same latency. Each block of figures, and the table at the end, is what the README copies.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import polars as pl

from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

ACCOUNT = "0"
HISTORY_DAYS = 180
# The child's own peak memory in KiB: VmHWM, as ru_maxrss on Linux also counts the parent's memory at the fork.
PEAK = """
def peak_kib():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
# Runs the CLI in a child and reports the child's peak memory on its last line.
MEASURED_CLI = (
    PEAK
    + """
import runpy, sys
sys.argv = ["newton-dashboard", *sys.argv[1:]]
try:
    runpy.run_module("dashboard.cli", run_name="__main__")
finally:
    sys.stderr.write(f"\\npeak_kib={peak_kib()}\\n")
"""
)
# The same, under cProfile in every thread (a sync's workers too); the merged statistics go to the file argv[1].
PROFILED_CLI = """
import cProfile, runpy, sys, threading
out, sys.argv = sys.argv[1], ["newton-dashboard", *sys.argv[2:]]
profiles, run = [], threading.Thread.run
def profiled_run(self):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.runcall(run, self)
threading.Thread.run = profiled_run
main = cProfile.Profile()
try:
    main.runcall(runpy.run_module, "dashboard.cli", run_name="__main__")
except SystemExit:
    pass
finally:
    main.create_stats()
    import pstats
    stats = pstats.Stats(main)
    for profile in profiles:
        profile.create_stats()
        stats.add(profile)
    stats.dump_stats(out)
"""
# The demo server's process: generates the account, serves it, and on each line read from stdin ("latency MS",
# or anything else) answers the number of requests received so far.
SERVER = """
import sys
from dashboard.demo import DemoNewton, serve_in_thread
newton = DemoNewton(records=int(sys.argv[1]))
newton.warm_up()
server = serve_in_thread(newton)
print(server.url, flush=True)
for line in sys.stdin:
    if line.startswith("latency "):
        server.latency = float(line.split()[1]) / 1000
    print(server.requests, flush=True)
"""
# The baseline: each day once for records and once for chats without a widget, parsed with orjson, not stored.
BASELINE = (
    PEAK
    + """
import sys
from datetime import datetime, timedelta
import httpx, orjson
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID
url, days = sys.argv[1], int(sys.argv[2])
now = datetime.fromisoformat(sys.argv[3])
records = sessions = 0
with httpx.Client(timeout=600) as client:
    def ask(action, params):
        body = {"action": action, "params": {"token": DEMO_TOKEN, "userId": DEMO_USER_ID, **params}}
        response = client.post(url, content=orjson.dumps(body))
        response.raise_for_status()
        return orjson.loads(response.content)
    for day in range(days):
        start = now - timedelta(days=days - day)
        first, last = f"{start:%Y-%m-%d %H:%M:%S}", f"{start + timedelta(days=1, seconds=-1):%Y-%m-%d %H:%M:%S}"
        records += len(ask("callback.GetRecords", {"requestDateFrom": first, "requestDateTo": last})["records"])
        sessions += len(ask("chat.GetHistory", {"dateFrom": first, "dateTo": last}))
sys.stderr.write(f"records={records} sessions={sessions}\\n")
sys.stderr.write(f"peak_kib={peak_kib()}\\n")
"""
)


@dataclass(frozen=True)
class Run:
    """One child process's wall time, peak memory and CPU time, and the requests the server received and the CPU
    time it used meanwhile (the two share the machine's cores)."""

    seconds: float
    peak_mib: float
    requests: int
    cpu: float
    server_cpu: float


@dataclass(frozen=True)
class Figures:
    """One line of the summary table."""

    records: int
    latency_ms: float
    synced: int
    sync: Run
    baseline: Run
    old: Run | None


class DemoServerProcess:
    """The demo server in its own process, so neither the sync nor the baseline shares its interpreter."""

    def __init__(self, records: int) -> None:
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(records)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = self._line()
        if not self.url.startswith("http://"):
            raise RuntimeError("the demo server did not start")
        self.startup = time.perf_counter() - started

    def _line(self) -> str:
        return self._pipes()[1].readline().strip()

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("the demo server's pipes are closed")
        return stdin, stdout

    def _ask(self, command: str) -> int:
        stdin = self._pipes()[0]
        stdin.write(command + "\n")
        stdin.flush()
        return int(self._line())

    def set_latency(self, milliseconds: float) -> None:
        self._ask(f"latency {milliseconds}")

    def requests(self) -> int:
        return self._ask("count")

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the server's process has used so far."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def close(self) -> None:
        self._pipes()[0].close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()


def child_env(code_dir: Path | None = None) -> dict[str, str]:
    """The environment without the user's Newton settings; `code_dir` first on the path (e.g. the old code)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    if code_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def measured(
    server: DemoServerProcess, argv: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[Run, str]:
    before, server_cpu = server.requests(), server.cpu_seconds()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the server, still running, is not counted in it
    started = time.perf_counter()
    # `python -c` puts the working folder first on the path: run another checkout's code from its own folder.
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    peak = int(result.stderr.rsplit("peak_kib=", 1)[1].split()[0])
    requests = server.requests() - before
    return Run(elapsed, peak / 1024, requests, cpu, server.cpu_seconds() - server_cpu), result.stderr


def run_sync(server: DemoServerProcess, path: Path, extra: list[str], code_dir: Path | None = None) -> Run:
    argv = [sys.executable, "-c", MEASURED_CLI, "sync", "--api-url", server.url, "--cache", str(path), *extra]
    return measured(server, argv, child_env(code_dir), cwd=code_dir)[0]


def run_baseline(server: DemoServerProcess) -> tuple[Run, int]:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
    argv = [sys.executable, "-c", BASELINE, server.url, str(HISTORY_DAYS), now.isoformat()]
    run, stderr = measured(server, argv, child_env())
    return run, int(stderr.split("records=", 1)[1].split()[0])


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


def print_profile(server: DemoServerProcess, extra: list[str], lines: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stats_file = keep or Path(folder) / "sync.prof"
        argv = [sys.executable, "-c", PROFILED_CLI, str(stats_file), "sync", "--api-url", server.url,
                "--cache", str(Path(folder) / "profiled.duckdb"), *extra]  # fmt: skip
        subprocess.run(argv, env=child_env(), capture_output=True, check=True)
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            stats = pstats.Stats(str(stats_file), stream=out).strip_dirs()
            stats.sort_stats(order).print_stats(lines)
            table = out.getvalue()
            print(f"first sync profile, top {lines} by {order} (all threads):")
            print(table[table.index("   ncalls") :].rstrip())


def benchmark_size(records: int, latencies: list[float], args: argparse.Namespace) -> list[Figures]:
    server = DemoServerProcess(records)
    figures = []
    try:
        print(f"== {records:,} records requested from the demo server")
        print(f"demo server ready (all generated)  {server.startup:8.2f} s")
        for number, latency in enumerate(latencies):
            server.set_latency(latency)
            figures.append(benchmark_latency(server, records, latency, args, first_run=number == 0))
        if args.profile:
            server.set_latency(latencies[0])
            print_profile(server, args.sync_arg, args.profile, args.profile_file)
    finally:
        server.close()
    return figures


def benchmark_latency(
    server: DemoServerProcess, records: int, latency: float, args: argparse.Namespace, *, first_run: bool
) -> Figures:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        baseline, baseline_records = run_baseline(server)
        first = run_sync(server, path, args.sync_arg)
        synced = count_records(path)
        old = None
        if args.old_code is not None:
            old = run_sync(server, Path(folder) / "old.duckdb", args.sync_arg, args.old_code)
        again = run_sync(server, path, args.sync_arg)
        print(f"-- {latency:g} ms per answer")
        rate = synced / first.seconds
        print(f"first sync (180 days)              {first.seconds:8.2f} s  {synced:,} records  {rate:,.0f} records/s"
              f"  {first.requests:,} requests")  # fmt: skip
        print(f"baseline: sequential fetch, parse  {baseline.seconds:8.2f} s  {baseline_records:,} records"
              f"  {baseline_records / baseline.seconds:,.0f} records/s  {baseline.requests:,} requests")  # fmt: skip
        print(f"first sync ÷ baseline              {first.seconds / baseline.seconds:8.2f}x")
        for name, run in (("first sync", first), ("baseline", baseline)):
            print(f"{name + ' CPU: its own, the server':35}{run.cpu:6.1f} s, {run.server_cpu:.1f} s"
                  f"  ({(run.cpu + run.server_cpu) / run.seconds:.2f} cores busy)")  # fmt: skip
        if old is not None:
            print(f"old code's first sync              {old.seconds:8.2f} s  {old.requests:,} requests"
                  f"  peak {old.peak_mib:.0f} MiB  CPU {old.cpu:.1f} s;"
                  f"  new ÷ old {first.seconds / old.seconds:.2f}x")  # fmt: skip
        print(f"first sync peak memory             {first.peak_mib:8.0f} MiB  (baseline {baseline.peak_mib:.0f} MiB)")
        print(f"re-sync, unchanged 7-day look-back {again.seconds:8.2f} s  peak {again.peak_mib:.0f} MiB"
              f"  {again.requests:,} requests")  # fmt: skip
        if first_run:
            changed = min(100_000, synced // 10)
            upsert = time_upsert(path, changed)
            size = path.stat().st_size
            print(f"upsert {changed:,} changed records{'':{max(0, 19 - len(f'{changed:,}'))}}{upsert:8.2f} s")
            per_record = size / max(synced, 1)
            print(f"cache file size                    {size / 2**20:8.1f} MiB ({per_record:.0f} bytes/record)")
        return Figures(records, latency, synced, first, baseline, old)


def print_table(figures: list[Figures]) -> None:
    print("\n| records | latency | first sync | requests | records/s | peak memory | baseline | requests |", end="")
    print(" sync ÷ baseline |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        print(f"| {f.synced:,} | {f.latency_ms:g} ms | {f.sync.seconds:.1f} s | {f.sync.requests:,} | "
              f"{f.synced / f.sync.seconds:,.0f} | {f.sync.peak_mib:,.0f} MiB | {f.baseline.seconds:.1f} s | "
              f"{f.baseline.requests:,} | {f.sync.seconds / f.baseline.seconds:.2f}x |")  # fmt: skip
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


def benchmark_parse(records: int) -> None:
    """Parse one big answer of each kind, as the client does, beside orjson alone on the same bytes."""
    import orjson

    from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton

    newton = DemoNewton(records=records)
    newton.warm_up()  # answers are asked of the demo directly: no HTTP in these figures
    today = datetime.now(UTC).replace(tzinfo=None)
    bounds = (f"{today - timedelta(days=HISTORY_DAYS):%Y-%m-%d %H:%M:%S}", f"{today:%Y-%m-%d %H:%M:%S}")
    token = {"token": DEMO_TOKEN, "userId": DEMO_USER_ID}
    asks = {
        "callback.GetRecords": {"requestDateFrom": bounds[0], "requestDateTo": bounds[1]},
        "chat.GetHistory": {"dateFrom": bounds[0], "dateTo": bounds[1]},
    }
    for action, params in asks.items():
        body = newton.handle(orjson.dumps({"action": action, "params": {**token, **params}}))[2]
        bare = best_of(3, functools.partial(orjson.loads, body))
        took = best_of(3, functools.partial(parse_answer, action, body))
        rows = parse_answer(action, body)
        print(f"parse {action:20} {len(body) / 2**20:7.1f} MiB  {rows:,} records or messages  {took:6.2f} s  "
              f"(orjson.loads alone {bare:.2f} s: {took / bare:.1f}x)")  # fmt: skip


def parse_answer(action: str, body: bytes) -> int:
    """Parse an answer as the client and the store do; the number of records (or chat messages) read."""
    from dashboard.api.models import parse_chats, parse_json
    from dashboard.api.records import parse_records

    if action == "callback.GetRecords":
        return parse_records(parse_json(body)).height
    sessions = parse_chats(parse_json(body))
    return data.chat_frames([(session, None) for session in sessions])[1].height


def best_of(times: int, work: Callable[[], object]) -> float:
    """The shortest of `times` runs of `work`, in seconds: the least disturbed by other load."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
    return min(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--records",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="account sizes (records over 180 days; default 100000 1000000)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[0.0],
        help="delay every answer of the demo server by each of these (default 0)",
    )
    parser.add_argument(
        "--sync-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="pass ARG to `newton-dashboard sync` (repeatable), e.g. --sync-arg=--concurrency=1",
    )
    parser.add_argument(
        "--old-code",
        type=Path,
        metavar="DIR",
        help="also time the first sync with the code in DIR (e.g. a worktree of main), same server",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="LINES",
        default=0,
        help="also profile one first sync per size and print its top LINES functions",
    )
    parser.add_argument(
        "--profile-file",
        type=Path,
        metavar="FILE",
        help="keep the profile's statistics in FILE, for pstats (callers, callees)",
    )
    parser.add_argument(
        "--parse",
        type=int,
        metavar="RECORDS",
        help="only parse one big answer of each kind from a demo account of this size",
    )
    args = parser.parse_args()
    if args.parse:
        benchmark_parse(args.parse)
        return
    figures = [f for records in args.records for f in benchmark_size(records, args.latency_ms, args)]
    print_table(figures)


if __name__ == "__main__":
    main()
