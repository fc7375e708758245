"""Two dashboard servers on one lake (issue 17): what a sync run by another process wrote shows on both servers at
their next page run, in sessions already open, each number equal to the lake's for that account.

Each server keeps its answers under the lake's snapshot id; a sync elsewhere makes a new one, so both servers must
ask again instead of showing what they kept. benchmarks/lake_load_benchmark.py runs the same setup under load and
prints the times; this test asserts no time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.demo import DemoNewton, serve_in_thread
from dashboard.errors import EXIT_OK
from dashboard.store import LakeLocation, open_store
from dashboard.store.lake import close_databases
from tests.support.load import expected_in, serve, session, wrong_numbers
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # two `streamlit run` servers, a PostgreSQL cluster, sync processes

TOKEN_A, TOKEN_B = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
ZONE = "Europe/Moscow"
LAST_7_DAYS: tuple[str, tuple[str, ...]] = ("last_7_days", ())


def test_a_sync_by_another_process_shows_on_both_servers_at_their_next_run(lake_catalog: str, tmp_path: Path) -> None:
    moment = [datetime.now(UTC) - timedelta(days=3)]  # client-a's Newton, three days behind until it is moved on
    newton_a = DemoNewton(records=2000, seed=7, token=TOKEN_A, user_id="1001", clock=lambda: moment[0])
    newton_b = DemoNewton(records=300, seed=8, token=TOKEN_B, user_id="1002")
    location = LakeLocation(lake_catalog, str(tmp_path / "lake-files"))
    env = {"NEWTON_CACHE": f"ducklake:postgres:{lake_catalog}", "NEWTON_LAKE_DATA_PATH": location.data_path}
    with serve_in_thread(newton_a) as demo_a, serve_in_thread(newton_b) as demo_b:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            f'[accounts.client-a]\ntoken = "{TOKEN_A}"\nuser_id = "1001"\ntimezone = "{ZONE}"\n'
            f'api_url = "{demo_a.url}"\n'
            f'[accounts.client-b]\ntoken = "{TOKEN_B}"\nuser_id = "1002"\napi_url = "{demo_b.url}"\n',
            encoding="utf-8",
        )
        synced = run_cli("sync", "--all-accounts", env=env, cwd=tmp_path)
        assert synced.returncode == EXIT_OK, synced.stderr
        before = expected_in(open_store(location), "1001", ZoneInfo(ZONE), [LAST_7_DAYS])
        close_databases()
        with (
            serve(tmp_path / "unused.duckdb", env, cwd=tmp_path) as one,
            serve(tmp_path / "unused.duckdb", env, cwd=tmp_path) as two,
            session(one) as first,
            session(two) as second,
        ):
            for tab in (first, second):
                shown = tab.open("", {"account": "client-a", "preset": LAST_7_DAYS[0]})
                assert shown.errors == [] and shown.metrics
                assert wrong_numbers(shown, 0, before) == []
            moment[0] = datetime.now(UTC)  # three more days of calls in Newton
            synced = run_cli("sync", "--account", "client-a", env=env, cwd=tmp_path)  # cron's process, elsewhere
            assert synced.returncode == EXIT_OK, synced.stderr
            after = expected_in(open_store(location), "1001", ZoneInfo(ZONE), [LAST_7_DAYS])
            close_databases()
            assert after.overview[0] != before.overview[0]  # the sync brought calls the Overview counts
            for tab in (first, second):
                shown = tab.set_filters(*LAST_7_DAYS)  # the next run of a session already open
                assert shown.errors == []
                assert wrong_numbers(shown, 0, after) == []
                shown = tab.switch("calls")
                assert shown.errors == [] and shown.calls_count() == after.calls[0] != before.calls[0]
