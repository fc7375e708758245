"""The sync on open, with several accounts in one store: one account's failed sync holds back only that account's
next automatic sync, never another's (they are kept apart by store and account)."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.api import Credentials, Token
from dashboard.settings import Connection, Settings, load_connection
from dashboard.store import Store, logs
from dashboard.ui import freshness


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens there


def _runs(path: Path, account: str) -> list[str]:
    return list(Store(path).read(logs.recent_runs, account)["outcome"])


def test_one_accounts_failed_sync_does_not_delay_anothers(demo_cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "two.duckdb"
    shutil.copy(demo_cache, path)
    demo = load_connection(env={}, secrets_path=tmp_path / "none.toml")  # the embedded Newton: it answers
    down = Connection(Credentials("777", Token("t" * 32)), f"http://127.0.0.1:{_closed_port()}", demo=False)
    # Every open wants a sync (max age 0), as after a night without one.
    healthy = Settings(demo, path, ZoneInfo("Europe/Moscow"), max_age_minutes=0)
    broken = replace(healthy, connection=down, accounts=())
    account = demo.credentials.user_id
    before = len(_runs(path, account))
    freshness._failed_at.clear()
    try:
        freshness.ensure_fresh(broken, "en")  # its Newton cannot be reached: the sync fails
        assert _runs(path, "777")[:1] == ["failed"]
        freshness.ensure_fresh(healthy, "en")  # the other account of the same store syncs all the same
        assert len(_runs(path, account)) == before + 1 and _runs(path, account)[0] == "ok"
        freshness.ensure_fresh(broken, "en")  # and the failed one waits its while before trying again
        assert len(_runs(path, "777")) == 1
    finally:
        freshness._failed_at.clear()
        assert freshness.join_backfills(timeout=300)
