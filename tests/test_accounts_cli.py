"""`newton-dashboard` with two Newton accounts in secrets.toml, each served by its own embedded Newton over a socket:
`sync --all-accounts` fills one cache with both, each account's export holds only its own records, one account's
Newton being down does not stop the other, and an unknown `--account` is refused by name before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.demo import DemoNewton
from dashboard.demo.server import DemoServer, serve_in_thread
from dashboard.errors import EXIT_INPUT, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # real processes and servers

TOKEN_A = "0123456789abcdef0123456789abcdef"
TOKEN_B = "fedcba9876543210fedcba9876543210"


@dataclass
class Agency:
    """Two accounts, their servers, and the folder the CLI runs in (its .streamlit/secrets.toml lists both)."""

    folder: Path
    env: dict[str, str]
    newton: dict[str, DemoNewton]
    servers: dict[str, DemoServer]

    @property
    def cache(self) -> Path:
        return Path(self.env["NEWTON_CACHE"])


@pytest.fixture
def agency(tmp_path: Path) -> Iterator[Agency]:
    newton = {
        "client-a": DemoNewton(records=400, seed=7, token=TOKEN_A, user_id="1001"),
        "client-b": DemoNewton(records=250, seed=8, token=TOKEN_B, user_id="1002"),
    }
    servers = {name: serve_in_thread(one) for name, one in newton.items()}
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        f"""
[accounts.client-a]
name = "Client A"
token = "{TOKEN_A}"
user_id = "1001"
api_url = "{servers["client-a"].url}"

[accounts.client-b]
token = "{TOKEN_B}"
user_id = "1002"
timezone = "Asia/Yekaterinburg"
api_url = "{servers["client-b"].url}"
""",
        encoding="utf-8",
    )
    env = {"NEWTON_CACHE": str(tmp_path / "agency.duckdb")}
    try:
        yield Agency(tmp_path, env, newton, servers)
    finally:
        for server in servers.values():
            server.shutdown()


def exported(agency: Agency, *args: str) -> set[tuple[str, str, str]]:
    result = run_cli("export", "records", *args, env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_OK, result.stderr
    rows = csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff")))
    return {(row["id"], row["clientPhone"], row["requestDate"]) for row in rows}


def served(newton: DemoNewton) -> set[tuple[str, str, str]]:
    return {(str(r["id"]), r.get("clientPhone") or "", str(r["requestDate"])) for r in newton.records_snapshot()}


def test_all_accounts_sync_into_one_cache_and_each_export_is_its_own(agency: Agency) -> None:
    result = run_cli("sync", "--all-accounts", env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_OK, result.stderr
    a, b = served(agency.newton["client-a"]), served(agency.newton["client-b"])
    assert a and b and a != b
    assert f"Account client-a: synced {len(a)} records" in result.stdout
    assert f"Account client-b: synced {len(b)} records" in result.stdout
    assert "sync client-a: " in result.stderr and "sync client-b: " in result.stderr
    assert exported(agency, "--account", "client-a") == a
    assert exported(agency, "--account", "client-b") == b
    assert exported(agency) == a  # no --account: the first one listed
    assert TOKEN_A not in result.stdout + result.stderr and TOKEN_B not in result.stdout + result.stderr


def test_one_account_down_leaves_the_other_synced_and_fails_the_run(agency: Agency) -> None:
    agency.servers["client-a"].shutdown()
    result = run_cli("sync", "--all-accounts", "--history-days", "3", env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_UNREACHABLE
    assert "Account client-a: failed (exit 3)" in result.stdout
    assert "error: account client-a: " in result.stderr
    assert "Account client-b: synced" in result.stdout
    assert "1 of 2 accounts synced" in result.stdout
    assert exported(agency, "--account", "client-a") == set()
    assert exported(agency, "--account", "client-b")


def test_a_refused_token_fails_its_account_only_and_is_never_printed(agency: Agency) -> None:
    secrets = agency.folder / ".streamlit" / "secrets.toml"
    wrong = "abcdefabcdefabcdefabcdefabcdefab"
    secrets.write_text(secrets.read_text(encoding="utf-8").replace(TOKEN_A, wrong), encoding="utf-8")
    result = run_cli("sync", "--all-accounts", "--history-days", "3", env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_REFUSED
    assert "Account client-a: failed (exit 1)" in result.stdout
    assert "Account client-b: synced" in result.stdout
    assert wrong not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--account", "client-c"],
        ["export", "records", "--account", "client-c"],
        ["report", "daily", "--account", "client-c"],
        ["set-lead-price", "--account", "client-c", "1", "100"],
        ["costs", "list", "--account", "client-c"],
        ["widgets", "--account", "client-c"],
    ],
)
def test_an_unknown_account_is_named_and_nothing_is_written(agency: Agency, args: list[str]) -> None:
    before = {name: newton.records_snapshot() for name, newton in agency.newton.items()}
    result = run_cli(*args, env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_INPUT
    assert "--account: is not an account of this dashboard; the accounts are client-a, client-b" in result.stderr
    assert not agency.cache.exists()
    assert {name: newton.records_snapshot() for name, newton in agency.newton.items()} == before


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["sync", "--all-accounts", "--account", "client-a"], "all-accounts: "),
        (["sync", "--all-accounts", "--user-id", "5"], "all-accounts: "),
        (["sync", "--all-accounts", "--parallel", "2"], "parallel: must be 1 with a cache file"),
        (["sync", "--parallel", "2"], "parallel: "),
    ],
)
def test_sync_flags_that_do_not_fit_are_refused_by_name(agency: Agency, args: list[str], named: str) -> None:
    result = run_cli(*args, env=agency.env, cwd=agency.folder)
    assert result.returncode == EXIT_INPUT
    assert named in result.stderr
    assert not agency.cache.exists()


def test_the_user_id_flag_overrides_the_chosen_account(agency: Agency) -> None:
    """--user-id wins over [accounts.client-b] user_id: Newton then refuses the pair, and says so."""
    result = run_cli("widgets", "--account", "client-b", "--user-id", "1001", env=agency.env, cwd=agency.folder)
    assert result.returncode != EXIT_OK
    right = run_cli("widgets", "--account", "client-b", env=agency.env, cwd=agency.folder)
    assert right.returncode == EXIT_OK, right.stderr
