"""Many page runs of one server open and close the cache at once: none of them sees a passing DuckDB conflict."""

from __future__ import annotations

import threading
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

    threads = [threading.Thread(target=page_runs) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
