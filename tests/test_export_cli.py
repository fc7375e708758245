"""`newton-dashboard export`: what a marketer opens in a spreadsheet after a sync."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard.api import NewtonClient
from dashboard.demo import DemoNewton
from dashboard.store import Store
from dashboard.store.connection import connect
from dashboard.sync import SyncOptions, sync
from tests.conftest import NOW
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # real processes: the command line, run as its own process

NOW_UTC = NOW.replace(tzinfo=None)


@dataclass(frozen=True)
class Synced:
    path: Path
    late: str  # requested at 23:59 Moscow time
    next_day: str  # a minute later, on the next Moscow day


@pytest.fixture
def synced(client: NewtonClient, newton: DemoNewton, tmp_path: Path) -> Synced:
    """A cache holding the demo account plus a few visitor values chosen to be awkward."""
    at = (NOW_UTC - timedelta(days=1)).replace(hour=20, minute=59, second=0)  # 23:59 in Moscow
    late = newton.add_record(requestDate=at.strftime("%Y-%m-%d %H:%M:%S"), type="callback",
                      landingUtmCampaign='=HYPERLINK("http://evil.example","click")', ipCity="Санкт-Петербург",
                      landingSearchPhrase="купить диван 🛋️, недорого", comment='-2+3 "quoted"\nsecond line')  # fmt: skip
    next_day = newton.add_record(requestDate=(at + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
                                 type="callback", ipCity="Казань")  # fmt: skip
    path = tmp_path / "cache.duckdb"
    sync(client, Store(path), "0", SyncOptions(), now=NOW_UTC)
    return Synced(path, late, next_day)


def read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_records_export_opens_with_cyrillic_emoji_and_defused_formulas(synced: Synced, tmp_path: Path) -> None:
    out = tmp_path / "records.csv"
    result = run_cli("export", "records", "--cache", str(synced.path), "-o", str(out), env={"NEWTON_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as "this is UTF-8"
    rows = {row["id"]: row for row in read(raw.decode("utf-8-sig"))}
    row = rows[synced.late]
    assert row["landingUtmCampaign"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["ipCity"] == "Санкт-Петербург"
    assert row["landingSearchPhrase"] == "купить диван 🛋️, недорого"
    assert row["comment"] == '\'-2+3 "quoted"\nsecond line'
    assert row["requestDate"] == (NOW_UTC - timedelta(days=1)).replace(hour=20, minute=59).strftime("%Y-%m-%d %H:%M:%S")
    assert row["request_time_local"].endswith("23:59:00")
    with connect(synced.path) as con:
        (count,) = con.execute("SELECT count(*) FROM records").fetchall()[0]
    assert len(rows) == count


def test_from_and_to_are_inclusive_local_days(synced: Synced) -> None:
    day = (NOW_UTC - timedelta(days=1)).date().isoformat()
    result = run_cli(
        "export", "records", "--cache", str(synced.path), "--from", day, "--to", day, env={"NEWTON_TOKEN": ""}
    )
    assert result.returncode == 0, result.stderr
    ids = {row["id"] for row in read(result.stdout.lstrip("\ufeff"))}
    assert synced.late in ids  # 20:59 UTC is 23:59 that day in Moscow
    assert synced.next_day not in ids  # 21:00 UTC is already the next Moscow day
    utc = run_cli("export", "records", "--cache", str(synced.path), "--from", day, "--to", day, "--tz", "UTC",
                  env={"NEWTON_TOKEN": ""})  # fmt: skip
    assert {synced.late, synced.next_day} <= {row["id"] for row in read(utc.stdout.lstrip("\ufeff"))}


def test_semicolon_export_for_russian_excel(synced: Synced) -> None:
    result = run_cli("export", "chats", "--cache", str(synced.path), "--separator", ";", env={"NEWTON_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff")), delimiter=";"))
    assert rows and {"startTime", "clientId", "operator", "from", "text", "time"} <= rows[0].keys()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "from: "),
        (["--from", "2026-02-02", "--to", "2026-02-01"], "to: "),
        (["--tz", "Mars/Olympus"], "tz: "),
    ],
)
def test_bad_export_arguments_name_the_field(synced: Synced, args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run_cli("export", "records", "--cache", str(synced.path), "-o", str(out), *args, env={"NEWTON_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert not out.exists()


def test_export_without_a_cache_says_to_sync_first(tmp_path: Path) -> None:
    result = run_cli("export", "records", "--cache", str(tmp_path / "none.duckdb"), env={"NEWTON_TOKEN": ""})
    assert result.returncode == 2
    assert "newton-dashboard sync" in result.stderr
