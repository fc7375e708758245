"""Twenty sessions at once while a sync writes (issue 6, CI-sized): no errors, and nobody sees wrong numbers.

One `streamlit run` server on a cache of the 30,000-record demo account; twenty websocket sessions (what a
browser tab speaks) open links with their own filters, change filters and switch between the Overview and Calls,
all at once; meanwhile the same account is re-synced from another process and from inside the server ("Sync
now"). Each page run's numbers must equal the ones `dashboard.metrics` computes serially for that session's
filters: sessions that leaked state into each other (a shared DuckDB connection across script threads, a
module-level "current filters") or a read that saw a sync's half-written upsert would show other numbers.
`benchmarks/load_benchmark.py` runs the same load (tests/support/load.py) on a million records and prints the
timings; this test asserts no time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.demo import serve_in_thread
from tests.support.bench_cache import BenchCache, build, freshen, sync_runs
from tests.support.load import (
    SKIPPED,
    STATES,
    LoadResult,
    PageRun,
    expected_numbers,
    run_load,
    serve,
    session,
    wrong_numbers,
)

pytestmark = pytest.mark.slow  # twenty sessions against `streamlit run` while syncs write

SESSIONS = 20
ROUNDS = 2  # each: a filter change, then a page switch


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> BenchCache:
    """The demo account (about 30,000 records and its chats), synced through the Syncer with its clock frozen."""
    return build(tmp_path_factory.mktemp("load") / "demo.duckdb", 30_000)


@pytest.fixture(scope="module")
def load(bench: BenchCache) -> Iterator[LoadResult]:
    freshen(bench.path)  # no automatic sync on first open: only the syncs under test write
    demo = serve_in_thread(bench.newton(), host="127.0.0.1", port=0)  # what the server's "Sync now" fetches
    try:
        with serve(bench.path, {"NEWTON_API_URL": demo.url}) as server:
            with session(server) as tab:
                assert not tab.open().errors
            yield run_load(server, bench, sessions=SESSIONS, rounds=ROUNDS, think=0.0, sync="both", hold_for_syncs=True)
    finally:
        demo.shutdown()


def test_the_filter_states_tell_sessions_apart(load: LoadResult) -> None:
    # Were two sessions' filters to give the same numbers, one showing the other's would go unnoticed.
    expected = load.expected
    overviews = {tuple(sorted(shown.items())) for shown in expected.overview.values()}
    assert len(overviews) == len(STATES)
    assert all(count > 0 for count in expected.calls.values())


def test_a_wrong_number_is_caught(load: LoadResult) -> None:
    expected = load.expected
    right = PageRun("overview", 0.1, 0.0, metrics=dict(expected.overview[1]))
    assert wrong_numbers(right, 1, expected) == []
    assert wrong_numbers(right, 2, expected) != []  # another session's filters
    requests = next(iter(right.metrics))
    value, delta = right.metrics[requests]
    off_by_one = PageRun("overview", 0.1, 0.0, metrics=dict(right.metrics) | {requests: (value + "1", delta)})
    assert wrong_numbers(off_by_one, 1, expected) != []
    calls = PageRun("calls", 0.1, 0.0, texts=[f"Download all {expected.calls[1] - 1:,} calls (CSV)"])
    assert wrong_numbers(calls, 1, expected) != []


def test_every_session_ran_every_step_without_an_error(load: LoadResult) -> None:
    assert load.errors == []
    assert load.server_errors == []
    assert len(load.runs) == SESSIONS * (1 + 2 * ROUNDS)
    assert {run.page for run, _ in load.runs} == {"", "calls"}


def test_every_session_saw_the_serial_numbers_for_its_own_filters(load: LoadResult) -> None:
    assert load.wrong == []


def test_the_syncs_wrote_while_the_sessions_ran(load: LoadResult, bench: BenchCache) -> None:
    # Two syncs of one cache never run at once: "Sync now" pressed during the other's says so and starts nothing.
    assert [s.outcome for s in load.syncs if s.outcome not in ("ok", SKIPPED)] == []
    assert load.syncs_during_load("process"), "no sync from another process overlapped the sessions"
    assert load.syncs_during_load("server"), "no 'Sync now' inside the server overlapped the sessions"
    done = [s for s in load.syncs if s.outcome == "ok"]
    assert sync_runs(bench.path) >= 1 + len(done)  # the build's run, then each re-sync's


def test_the_cache_still_holds_the_account_unchanged(load: LoadResult, bench: BenchCache) -> None:
    # The re-syncs rewrote the same rows: the serial numbers after the load are the ones the sessions were held to.
    after, before = expected_numbers(bench.path, STATES), load.expected
    minutes = set(after.overview_by_minute) & set(before.overview_by_minute)  # the numbers are for a minute
    assert minutes and all(after.overview_by_minute[m] == before.overview_by_minute[m] for m in minutes)
    assert after.calls == before.calls
