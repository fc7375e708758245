"""Many page runs of one server open and close the cache at once: none of them sees a passing DuckDB conflict."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from dashboard.errors import CacheError
from dashboard.store.connection import connect


def test_threads_opening_and_closing_one_cache_at_once_all_get_it(tmp_path: Path) -> None:
    # DuckDB 1.5 shares one database per file within a process; opening it while another thread closes the last
    # connection met "Unique file handle conflict", which the pages showed as "the local data file cannot be used".
    path = tmp_path / "shared.duckdb"
    with connect(path):
        pass
    failures: list[str] = []

    def page_runs() -> None:
        for _ in range(60):
            try:
                with connect(path) as con:
                    con.execute("SELECT count(*) FROM records").fetchall()
            except CacheError as error:
                failures.append(str(error))

    _in_eight_threads(page_runs)
    assert failures == []


def _in_eight_threads(page_run: Callable[[], None]) -> None:
    threads = [threading.Thread(target=page_run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


HOLDER = """
import sys, time
from pathlib import Path
from dashboard.store.connection import connect
with connect(Path(sys.argv[1])) as con:
    print("holding", flush=True)
    time.sleep(2)
"""


def test_page_runs_waiting_for_a_cache_another_process_holds_all_get_it_once_it_lets_go(tmp_path: Path) -> None:
    # While a sync in another process writes, one thread of the server asks DuckDB for the file and the others
    # wait for it: every one of them must still get the file, and none may be told it is busy.
    path = tmp_path / "shared.duckdb"
    with connect(path):
        pass
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    counted: list[int] = []
    failures: list[str] = []

    def page_run() -> None:
        try:
            with connect(path, wait=60) as con:
                counted.append(con.execute("SELECT count(*) FROM records").fetchall()[0][0])
        except CacheError as error:
            failures.append(str(error))

    _in_eight_threads(page_run)
    holder.communicate(timeout=30)
    assert failures == []
    assert counted == [0] * 8
