"""Twenty browser-like sessions changing filters on a 1M-record cache while a sync writes: times, errors, numbers.

Usage: python benchmarks/load_benchmark.py [--cache cache/bench-1m-synced.duckdb] [--records 1000000]
       [--sessions 20] [--rounds 4] [--think 0] [--sync both|process|server|none] [--changing-syncs]

One `streamlit run` server on loopback. Each session is a websocket client speaking Streamlit's own protocol, as a
browser tab does: a BackMsg asks for a run with the session's widget values, ForwardMsgs bring the elements and
then `script_finished`. A page run is timed from the request to `script_finished`. Every session opens the
Overview from a shared link with its own filters, at a moment of its own within twice the think time (all at once
with --think 0), then, round after round, changes the period and channel filters and switches between the
Overview and Calls. What each session is shown (the Overview's five headline figures and their changes; the number
of calls on Calls) is compared with the same numbers computed serially by `dashboard.metrics` before the load.

Meanwhile the same frozen demo account is re-synced over and over, a 7-day look-back that rewrites identical rows
(so every correct read shows the same numbers): from another process, as `newton-dashboard sync` run from cron
would ("process"), and inside the server, by one more session pressing "Sync now" on the Sync page ("server"),
with the server's Newton pointed at the frozen account served over HTTP on loopback. Such a sync changes nothing,
so the answers the server keeps stay valid; with --changing-syncs every sync from the other process also gives
the data a new version, as a sync that brought new calls does, and every memoized answer is asked again after it.

Without --cache the cache is built in a temporary folder (about 2 minutes) and deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `dashboard` and `tests.support` importable
    sys.path.insert(0, str(ROOT))

from dashboard.demo import serve_in_thread  # noqa: E402
from tests.support.bench_cache import freshen, open_or_build, sync_runs  # noqa: E402
from tests.support.load import SKIPPED, LoadResult, percentile, run_load, serve, session  # noqa: E402


def print_figures(result: LoadResult) -> None:
    runs = result.runs
    print(f"{len(runs)} page runs by {len(result.sessions)} sessions in {result.seconds:.1f} s")
    print(f"{'page runs':32s} {'count':>6s} {'p50':>8s} {'p95':>8s} {'max':>8s}")
    groups: dict[str, list[float]] = {"all": [run.seconds for run, _ in runs]}
    for run, action in runs:
        groups.setdefault(f"{run.page or 'overview'}: {action}", []).append(run.seconds)
    for name, times in groups.items():
        if times:
            print(f"{name:32s} {len(times):6d} {statistics.median(times):7.2f}s {percentile(times, 0.95):7.2f}s "
                  f"{max(times):7.2f}s")  # fmt: skip
    for where in ("process", "server"):
        kind = [s for s in result.syncs if s.where == where]
        if kind:
            ok = [s.finished - s.started for s in kind if s.outcome == "ok"]
            skipped = sum(s.outcome == SKIPPED for s in kind)
            during = len(result.syncs_during_load(where))
            print(f"concurrent syncs ({where}): {len(ok)} ok of {len(kind) - skipped}, {during} during the load, "
                  f"median {statistics.median(ok) if ok else float('nan'):.1f} s each"
                  + (f"; 'Sync now' found another sync running {skipped} times" if skipped else ""))  # fmt: skip
            if ok:  # each one, in order: how long a re-sync takes under the load, not only the middle one
                print(f"  {where} re-sync durations: {', '.join(f'{seconds:.1f}' for seconds in ok)} s")
            for failed in [s for s in kind if s.outcome not in ("ok", SKIPPED)][:5]:
                print(f"  failed: {failed.outcome[:300]}")
    print(f"server peak memory (RSS) {result.peak_rss_mib:.0f} MiB")
    print(f"errors shown in sessions: {len(result.errors)}; wrong numbers: {len(result.wrong)}; "
          f"errors in the server log: {len(result.server_errors)}")  # fmt: skip
    for line in (result.errors + result.wrong + result.server_errors)[:20]:
        print(f"  {line[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="a benchmark cache to reuse (or build there)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4, help="filter changes (each followed by a page switch)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a person waits between clicks")
    parser.add_argument("--sync", choices=("both", "process", "server", "none"), default="both")
    parser.add_argument("--changing-syncs", action="store_true",
                        help="every sync from the other process gives the data a new version, as if it brought "
                        "new calls: every memoized answer is asked again after it")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench = open_or_build(args.cache or Path(folder) / "bench.duckdb", args.records)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
        freshen(bench.path)
        runs_before = sync_runs(bench.path)
        newton = bench.newton()
        demo = serve_in_thread(newton, host="127.0.0.1", port=0)  # the server's own syncs fetch the frozen account
        try:
            with serve(bench.path, {"NEWTON_API_URL": demo.url}) as server:
                with session(server) as tab:  # a first visit, so the load meets a server that has served a page
                    tab.open()
                result = run_load(server, bench, sessions=args.sessions, rounds=args.rounds, think=args.think,
                                  sync=args.sync, changing_syncs=args.changing_syncs)  # fmt: skip
        finally:
            demo.shutdown()
        print(f"cache: {bench.path}; sync runs recorded during the benchmark: {sync_runs(bench.path) - runs_before}")
        print(f"load average after the run {os.getloadavg()[0]:.1f}")
        print_figures(result)


if __name__ == "__main__":
    main()
