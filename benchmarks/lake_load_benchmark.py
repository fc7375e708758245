"""Two dashboard servers on one lake while two accounts re-sync from two other processes: times, errors, numbers.

Usage: python benchmarks/lake_load_benchmark.py [--records 20000] [--sessions 10] [--rounds 4] [--think 0] [--no-sync]

Everything runs on loopback and is thrown away afterwards: a PostgreSQL cluster (tests/support/postgres.py) holds
the lake's catalog, a temporary folder its Parquet files. Two embedded demo Newtons serve two accounts over HTTP
(`client-a`, `client-b`, the second in another time zone), each with its clock frozen at the start, so a re-sync
rewrites identical rows and every correct read shows the same numbers. A temporary folder holds the
`.streamlit/secrets.toml` listing both accounts; the servers and the syncs run in it, as a deployment's would.

First both accounts are synced into the lake, at once, by two `newton-dashboard sync --account NAME` processes.
Then two `streamlit run` servers start on the same lake, and `--sessions` websocket sessions per server (as
benchmarks/load_benchmark.py drives them: tests/support/load.py) open `/?account=client-a` or `client-b` in turn
with filters of their own, then change the period and channel filters and switch between the Overview and Calls,
`--rounds` times. Meanwhile each account is synced again and again, each sync a process of its own (as cron runs
them). The accounts are frozen, so a re-sync rewrites identical rows: it makes snapshots (its sync state and run log)
but leaves the data version, and the servers' memoized answers stay good.

Every Overview figure (and change) and every Calls count shown is compared with the same number computed serially
from the lake for that account before the load ("wrong numbers"); errors are those shown in the sessions and those
in each server's log.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `dashboard` and `tests.support` importable
    sys.path.insert(0, str(ROOT))

from dashboard.demo import DemoNewton, serve_in_thread  # noqa: E402
from dashboard.demo.server import DemoServer  # noqa: E402
from dashboard.store import LakeLocation, open_store, schema, utc_now  # noqa: E402
from dashboard.store.lake import close_databases  # noqa: E402
from tests.support.load import (  # noqa: E402
    STATES,
    Expected,
    PageRun,
    Server,
    SessionReport,
    drive,
    expected_in,
    percentile,
    rss_mib,
    serve,
    server_errors,
    session,
)
from tests.support.postgres import running_cluster  # noqa: E402

LOAD = -1  # memory_watch's key for the load average


@dataclass(frozen=True)
class Client:
    """One Newton account of the benchmark: its name in the settings, its user id (the store's key), its zone."""

    name: str
    user_id: str
    token: str
    seed: int
    zone: str


CLIENTS = (
    Client("client-a", "1001", "a1" * 16, 7, "Europe/Moscow"),
    Client("client-b", "1002", "b2" * 16, 8, "Asia/Yekaterinburg"),
)


@dataclass(frozen=True)
class SyncRun:
    account: str
    started: float
    finished: float
    outcome: str  # "ok" or the end of what the process wrote to stderr


def frozen(client: Client, records: int, at: datetime) -> DemoNewton:
    moment = at.replace(tzinfo=UTC)
    return DemoNewton(records=records, seed=client.seed, token=client.token, user_id=client.user_id,
                      clock=lambda: moment)  # fmt: skip


def write_settings(folder: Path, servers: dict[str, DemoServer]) -> None:
    """The folder's .streamlit/: the project's config and a secrets.toml listing both accounts."""
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    tables = [
        f'[accounts.{c.name}]\ntoken = "{c.token}"\nuser_id = "{c.user_id}"\ntimezone = "{c.zone}"\n'
        f'api_url = "{servers[c.name].url}"\n'
        for c in CLIENTS
    ]
    (folder / ".streamlit" / "secrets.toml").write_text("\n".join(tables), encoding="utf-8")


def sync_once(name: str, env: dict[str, str], folder: Path) -> SyncRun:
    """`newton-dashboard sync --account NAME`, a process of its own."""
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "dashboard.cli", "sync", "--account", name], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    outcome = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-500:]}"
    return SyncRun(name, started, time.time(), outcome)


def sync_loop(name: str, env: dict[str, str], folder: Path, stop: threading.Event, runs: list[SyncRun]) -> None:
    """Sync one account again and again, each time in a new process, until told to stop (after the running one)."""
    while not stop.is_set():
        runs.append(sync_once(name, env, folder))
        stop.wait(1.0)


def snapshots(location: LakeLocation) -> int:
    """How many snapshots the lake's catalog holds (each commit by anyone makes one)."""
    with psycopg.connect(location.catalog) as con:
        row = con.execute("SELECT count(*) FROM ducklake_snapshot").fetchone()
    return int(row[0]) if row else 0


@contextmanager
def memory_watch(pids: Sequence[int]) -> Iterator[dict[int, float]]:
    """Each process's peak resident memory (MiB) while the block runs, and (at LOAD) the highest 1-minute load
    average seen."""
    peaks = dict.fromkeys(pids, 0.0)
    peaks[LOAD] = 0.0
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            for pid in pids:
                peaks[pid] = max(peaks[pid], rss_mib(pid)[0])
            peaks[LOAD] = max(peaks[LOAD], os.getloadavg()[0])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield peaks
    finally:
        done.set()
        watcher.join()
        for pid in pids:
            peaks[pid] = max(peaks[pid], rss_mib(pid)[1])


def times_line(name: str, runs: Sequence[PageRun]) -> str:
    seconds = [run.seconds for run in runs]
    if not seconds:
        return f"{name:28s} {0:6d}"
    return (f"{name:28s} {len(seconds):6d} {statistics.median(seconds):7.2f}s {percentile(seconds, 0.95):7.2f}s "
            f"{max(seconds):7.2f}s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="records per account (its last 180 days)")
    parser.add_argument("--sessions", type=int, default=10, help="sessions per server")
    parser.add_argument("--rounds", type=int, default=4, help="filter changes (each followed by a page switch)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a person waits between clicks")
    parser.add_argument("--no-sync", action="store_true", help="no syncs during the load: what they cost the pages")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(1/5/15 min) before the run", flush=True)  # fmt: skip
    with ExitStack() as stack:
        cluster = stack.enter_context(running_cluster())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newton-lake-load-")))
        location = LakeLocation(cluster.conninfo(cluster.new_database("bench")), str(folder / "lake-files"))
        at = utc_now()
        demos = {c.name: serve_in_thread(frozen(c, args.records, at), host="127.0.0.1", port=0) for c in CLIENTS}
        for demo in demos.values():
            stack.callback(demo.shutdown)
        write_settings(folder, demos)
        lake_env = {"NEWTON_CACHE": f"ducklake:postgres:{location.catalog}",
                    "NEWTON_LAKE_DATA_PATH": location.data_path, "PYTHONPATH": str(ROOT)}  # fmt: skip
        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")} | lake_env

        print(f"first sync of both accounts ({args.records:,} records each), two processes at once ...", flush=True)
        first: list[SyncRun] = []
        threads = [threading.Thread(target=lambda n=c.name: first.append(sync_once(n, cli_env, folder)))
                   for c in CLIENTS]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for run in sorted(first, key=lambda r: r.account):
            print(f"  {run.account}: {run.outcome}, {run.finished - run.started:.1f} s")
        if any(run.outcome != "ok" for run in first):
            raise SystemExit("the first sync failed")

        store = open_store(location)
        expected: dict[str, Expected] = {
            c.name: expected_in(store, c.user_id, ZoneInfo(c.zone), STATES) for c in CLIENTS
        }
        close_databases()  # this process's lake connections: the servers and syncs have their own
        servers: list[Server] = [stack.enter_context(serve(folder / "unused.duckdb", lake_env, cwd=folder))
                                 for _ in range(2)]  # fmt: skip
        for server in servers:
            with session(server) as tab:  # a first visit, so the load meets servers that have served a page
                tab.open("", {"account": CLIENTS[0].name})

        stop = threading.Event()
        syncs: list[SyncRun] = []
        loops = [threading.Thread(target=sync_loop, args=(c.name, cli_env, folder, stop, syncs)) for c in CLIENTS]
        snapshots_before = snapshots(location)
        version_before = open_store(location).read(schema.data_version)
        for loop in loops if not args.no_sync else []:
            loop.start()
            time.sleep(1.0)  # the syncs are under way before the first page, not in step with each other
        per_server = args.sessions
        reports: dict[tuple[int, int], SessionReport] = {}
        barrier = threading.Barrier(2 * per_server + 1)

        def one(server_index: int, index: int) -> None:
            number = server_index * per_server + index  # its own filters and pace, across both servers
            client = CLIENTS[number % len(CLIENTS)]  # accounts alternate on each server and across them
            link = {"account": client.name}
            reports[server_index, index] = drive(servers[server_index], number, args.rounds, args.think,
                                                 expected[client.name], barrier, link=link)  # fmt: skip

        sessions = [threading.Thread(target=one, args=(s, i)) for s in range(2) for i in range(per_server)]
        with memory_watch([server.pid for server in servers]) as peaks:
            for thread in sessions:
                thread.start()
            barrier.wait()
            started, clock = time.time(), time.perf_counter()
            for thread in sessions:
                thread.join()
            finished, seconds = time.time(), time.perf_counter() - clock
        stop.set()
        for loop in loops if not args.no_sync else []:
            loop.join()
        made = snapshots(location) - snapshots_before
        kept = open_store(location).read(schema.data_version) == version_before
        print(f"lake snapshots made while the sessions ran and the syncs ended: {made}; the data version "
              f"{'stayed the same (memoized answers stayed good)' if kept else 'changed'}")  # fmt: skip
        files = sum(1 for _ in Path(location.data_path).rglob("*.parquet"))
        print(f"Parquet files in the lake's data path at the end: {files} (never compacted: no `maintain` ran)")
        logged = {index: server_errors(server) for index, server in enumerate(servers)}
        after = "/".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average (1 min) at most {peaks[LOAD]:.1f} during the load; {after} after the run")
        report(args, reports, syncs, logged, peaks, servers, started, finished, seconds)


def report(
    args: argparse.Namespace,
    reports: dict[tuple[int, int], SessionReport],
    syncs: list[SyncRun],
    logged: dict[int, list[str]],
    peaks: dict[int, float],
    servers: list[Server],
    started: float,
    finished: float,
    seconds: float,
) -> None:
    runs = {key: [run for run, _ in r.runs] for key, r in reports.items()}
    total = sum(len(v) for v in runs.values())
    print(f"{total} page runs by {len(reports)} sessions ({args.sessions} per server, accounts alternating) on two "
          f"servers in {seconds:.1f} s")  # fmt: skip
    print(f"{'page runs':28s} {'count':>6s} {'p50':>8s} {'p95':>8s} {'max':>8s}")
    for index in range(2):
        print(times_line(f"server {index + 1}", [r for (s, _), v in runs.items() if s == index for r in v]))
    print(times_line("both servers", [r for v in runs.values() for r in v]))
    for name in ("overview", "calls"):
        print(times_line(f"  {name}", [r for v in runs.values() for r in v if (r.page or "overview") == name]))
    for client in CLIENTS:
        during = [s for s in syncs if s.account == client.name and s.finished > started and s.started < finished]
        ok = [s.finished - s.started for s in syncs if s.account == client.name and s.outcome == "ok"]
        failed = [s for s in syncs if s.account == client.name and s.outcome != "ok"]
        print(f"syncs of {client.name}: {len(ok)} ok, {len(failed)} failed, {len(during)} overlapping the load; "
              f"durations {', '.join(f'{d:.1f}' for d in ok)} s")  # fmt: skip
        for run in failed[:3]:
            print(f"  failed: {run.outcome}")
    for index, server in enumerate(servers):
        print(f"server {index + 1} peak memory (RSS) {peaks[server.pid]:.0f} MiB")
    errors = [e for r in reports.values() for e in r.errors]
    wrong = [w for r in reports.values() for w in r.wrong]
    in_logs = [f"server {index + 1}: {line}" for index, lines in logged.items() for line in lines]
    print(f"errors shown in sessions: {len(errors)}; wrong numbers: {len(wrong)}; errors in the servers' logs: "
          f"{len(in_logs)}")  # fmt: skip
    for line in (errors + wrong + in_logs)[:20]:
        print(f"  {line[:400]}")


if __name__ == "__main__":
    main()
