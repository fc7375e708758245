"""The store on a DuckLake over PostgreSQL behaves as the DuckDB file does: the same reads, writes, transactions,
data versions and unique keys, one claim per write across servers, and the same reports after the same sync."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import httpx
import polars as pl
import pytest

from dashboard import cli
from dashboard.access import Person, Role
from dashboard.api.records import parse_records
from dashboard.demo import DEMO_USER_ID, DemoNewton
from dashboard.errors import EXIT_OK, CacheError, ConfigError
from dashboard.settings import cache_path, load_connection
from dashboard.store import AnyStore, LakeLocation, LakeStore, data, logs, marks, open_store, schema
from dashboard.store.lake import close_databases
from dashboard.store.location import lake_location, mask, parse_cache
from dashboard.sync import sync
from dashboard.writes import Writer
from tests.conftest import NOW, client_for, fixed_clock
from tests.support.postgres import SECRET_PASSWORD, SECRET_ROLE, Cluster
from tests.test_accounts_cli import Agency, agency  # noqa: F401 - the fixture, used by name

ACCOUNT = DEMO_USER_ID
T = TypeVar("T")
NOW_UTC = NOW.replace(tzinfo=None)
T0 = datetime(2026, 11, 20, 12, 0, 0)


@pytest.fixture(autouse=True)
def _lakes_closed() -> Iterator[None]:
    """Each test's lakes closed after it (each holds PostgreSQL sessions), and no stray password."""
    yield
    close_databases()


@pytest.fixture
def lake(lake_catalog: str, tmp_path: Path) -> LakeLocation:
    return LakeLocation(lake_catalog, str(tmp_path / "lake-files"))


@pytest.fixture(params=["file", pytest.param("lake", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> AnyStore:
    """Either store, empty: the tests below hold for both."""
    if request.param == "file":
        return open_store(tmp_path / "c.duckdb")
    return open_store(request.getfixturevalue("lake"))


def meta_rows(con: object, key: str) -> list[tuple[object, ...]]:
    return con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()  # type: ignore[attr-defined,no-any-return]


def all_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def meeting_after(read: Callable[..., T]) -> Callable[..., T]:
    """`read`, after which two threads meet before going on (unless one waits for the other's lock): the race two
    servers deciding at the same moment would run, made certain."""
    meeting = threading.Barrier(2, timeout=3)

    def read_then_meet(*args: object, **kwargs: object) -> T:
        found = read(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):  # the other one waits for our lock: go on alone
            meeting.wait()
        return found

    return read_then_meet


# The store seam, on both stores -----------------------------------------------------------------------------


def test_a_write_is_read_back_and_gives_a_new_data_version(store: AnyStore) -> None:
    before = store.read(data.read_data_state, ACCOUNT).version
    store.write(marks.mark_phone, ACCOUNT, "+79991234567", "spam", "ann", T0)
    assert store.read(lambda con: con.execute("SELECT phone, kind FROM lead_marks").fetchall()) == [
        ("+79991234567", "spam")
    ]
    after = store.read(data.read_data_state, ACCOUNT).version
    assert after and after != before
    assert store.read(data.read_data_state, ACCOUNT).version == after  # reading changes nothing


def test_a_failed_write_leaves_nothing(store: AnyStore) -> None:
    def half(con: object) -> None:
        marks.mark_phone(con, ACCOUNT, "+79991234567", "spam", "ann", T0)  # type: ignore[arg-type]
        raise RuntimeError("stopped halfway")

    with pytest.raises(RuntimeError):
        store.write(half)
    assert store.read(lambda con: con.execute("SELECT count(*) FROM lead_marks").fetchall()) == [(0,)]


def test_keys_stay_unique_when_the_same_rows_are_written_again(store: AnyStore) -> None:
    for kind in ("spam", "not_a_lead", "handled_elsewhere"):
        store.write(marks.mark_phone, ACCOUNT, "+79991234567", kind, "ann", T0)
        store.write(schema.put_meta, "some_key", kind)
        store.write(data.save_complete_ranges, ACCOUNT, "records", [(T0.replace(day=1), T0)])
    assert store.read(lambda con: con.execute("SELECT kind FROM lead_marks").fetchall()) == [("handled_elsewhere",)]
    assert store.read(meta_rows, "some_key") == [("handled_elsewhere",)]
    assert store.read(lambda con: con.execute("SELECT count(*) FROM sync_state").fetchall()) == [(1,)]
    assert store.read(meta_rows, "data_version") and len(store.read(meta_rows, "data_version")) == 1


def test_reads_of_one_block_share_one_connection(store: AnyStore) -> None:
    with store.reading() as reading:
        first = reading.connection
        assert reading.read(data.read_data_state, ACCOUNT).synced_at is None
        assert reading.connection is first


def test_resyncing_the_same_window_twice_leaves_no_duplicate_ids(store: AnyStore, newton: DemoNewton) -> None:
    from dashboard.demo import DemoTransport

    for _ in range(2):
        with client_for(DemoTransport(newton)) as client:
            sync(client, store, ACCOUNT, now=NOW_UTC)
    ids = store.read(lambda con: con.execute("SELECT count(*), count(DISTINCT id) FROM records").fetchall())[0]
    assert ids[0] == ids[1] == len({r["id"] for r in newton.records_snapshot()})
    sessions = store.read(
        lambda con: con.execute(
            "SELECT count(*), count(DISTINCT (client_id, start_time)) FROM chat_sessions"
        ).fetchall()
    )[0]
    assert sessions[0] == sessions[1] > 0


# The lake only -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_change_by_another_process_shows_as_a_new_data_version_and_nothing_else_does(lake: LakeLocation) -> None:
    import subprocess
    import sys

    store = open_store(lake)
    before = store.read(data.read_data_state, ACCOUNT).version

    def elsewhere(write: str) -> None:  # another process, as another machine's sync would be
        code = (
            "from dashboard.store import LakeLocation, open_store, schema;"
            f"open_store(LakeLocation({lake.catalog!r}, {lake.data_path!r})).write({write})"
        )
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)

    elsewhere("schema.put_meta, 'elsewhere', '1'")  # a commit that changes nothing the pages count
    assert store.read(meta_rows, "elsewhere") == [("1",)]
    assert store.read(data.read_data_state, ACCOUNT).version == before  # every memoized answer stays good
    elsewhere("schema.new_data_version")  # what a sync that brought calls does
    assert store.read(data.read_data_state, ACCOUNT).version != before


@pytest.mark.slow
def test_the_lake_has_nothing_to_quarantine_and_one_sync_per_account(lake: LakeLocation) -> None:
    store = open_store(lake)
    assert store.quarantine_if_damaged() is None
    busy = []

    def refused(where: object) -> CacheError:
        busy.append(str(where))
        return CacheError(f"busy: {where}")

    with store.one_sync_at_a_time(1, refused, "a"):
        with pytest.raises(CacheError), LakeStore(lake).one_sync_at_a_time(0.2, refused, "a"):
            pass
        with LakeStore(lake).one_sync_at_a_time(0.2, refused, "b"):  # another account syncs meanwhile
            pass
    with LakeStore(lake).one_sync_at_a_time(0.2, refused, "a"):  # freed when the first ended
        pass
    assert len(busy) == 1 and lake.catalog in busy[0]


@pytest.mark.slow
def test_two_servers_claiming_the_same_deal_at_once_send_it_once(
    lake: LakeLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.demo import serve_in_thread
    from tests.test_writes_once import SlowWrites, received

    newton = SlowWrites(records=500, seed=7, clock=fixed_clock)
    # Both claim transactions meet after reading "no claim yet" (unless one waits for the other's lock): the race
    # two servers on one lake would run, made certain.
    monkeypatch.setattr(logs, "claimed_writes", meeting_after(logs.claimed_writes))
    outcomes: list[str] = []
    with serve_in_thread(newton, host="127.0.0.1", port=0) as server:

        def submit(who: str) -> None:
            # Each its own LakeStore, cursor and transaction, as two servers' would be.
            writer = Writer(client_for(httpx.HTTPTransport(), server.url), LakeStore(lake), ACCOUNT,
                            Person(who, Role.EDITOR), clock=lambda: NOW_UTC)  # fmt: skip
            with writer.client:
                try:
                    writer.create_crm_lead("+7 (999) 123-45-67", "500")
                    outcomes.append("sent")
                except Exception as error:  # noqa: BLE001 - AlreadySent, whichever way it words it
                    outcomes.append(type(error).__name__)

        threads = [threading.Thread(target=submit, args=(who,)) for who in ("alice", "bob")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert received(newton, "callback.CreateCrmLead") == 1
    assert sorted(outcomes) == ["AlreadySent", "sent"]


def test_two_servers_running_the_alerts_at_once_send_each_alert_once(lake: LakeLocation) -> None:
    from dashboard.alerts import rules
    from dashboard.alerts import run as alerts
    from tests.test_alerts import CALLERS, LOST, MOSCOW, TUESDAY, Recording, at

    LakeStore(lake).write(data.upsert_records, ACCOUNT, parse_records({"records": CALLERS}), TUESDAY)
    # Both decisions meet after finding what is due (unless one waits for the other's lock): cron on two machines.
    channel = Recording("telegram")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("dashboard.alerts.run.due", meeting_after(rules.due))
        runs = [
            threading.Thread(target=alerts.run, args=(LakeStore(lake), ACCOUNT, MOSCOW, LOST, [channel], at(8, 30)))
            for _ in range(2)
        ]  # fmt: skip
        for one in runs:
            one.start()
        for one in runs:
            one.join(60)
    assert len(channel.got) == 1  # one message listing both lost leads, not one from each server
    assert "+7 999 000-00-01" in channel.got[0].text and "+7 999 000-00-02" in channel.got[0].text


# Where the lake is, and its password -------------------------------------------------------------------------


def test_a_ducklake_value_is_a_lake_and_any_other_a_file(tmp_path: Path) -> None:
    connection = load_connection(env={}, secrets_path=tmp_path / "none.toml")
    env = {"NEWTON_CACHE": "ducklake:postgres:dbname=lake host=db.internal user=newton",
           "NEWTON_LAKE_DATA_PATH": "s3://bucket/newton", "NEWTON_LAKE_S3_ENDPOINT": "http://127.0.0.1:9000",
           "AWS_ACCESS_KEY_ID": "key", "NEWTON_LAKE_S3_URL_STYLE": "path"}  # fmt: skip
    found = cache_path(None, connection, env)
    assert isinstance(found, LakeLocation)
    assert found.catalog == "dbname=lake host=db.internal user=newton" and found.data_path == "s3://bucket/newton"
    assert found.s3.endpoint == "http://127.0.0.1:9000" and found.s3.key_id == "key" and found.s3.url_style == "path"
    assert cache_path(None, connection, {"NEWTON_CACHE": str(tmp_path / "x.duckdb")}) == tmp_path / "x.duckdb"
    with pytest.raises(ConfigError) as missing:
        cache_path("ducklake:postgres:dbname=lake", connection, {})
    assert missing.value.setting == "NEWTON_LAKE_DATA_PATH"
    with pytest.raises(ConfigError) as style:
        cache_path("ducklake:postgres:dbname=lake", connection, {**env, "NEWTON_LAKE_S3_URL_STYLE": "sideways"})
    assert style.value.setting == "NEWTON_LAKE_S3_URL_STYLE"


@pytest.mark.parametrize(
    "value",
    [
        "ducklake:postgres:dbname=lake host=db password=hunter2 user=newton",
        "ducklake:postgres:dbname=lake password = 'hunter2 with spaces' user=newton",
        "ducklake:postgres:postgresql://newton:hunter2@db:5432/lake",
        "ducklake:postgres:postgresql://newton@db/lake?sslmode=require&password=hunter2",
    ],
)
def test_a_password_in_the_string_is_refused_and_never_shown(
    value: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        parse_cache(value, "--cache")
    assert "hunter2" not in str(refused.value) and "***" in str(refused.value)
    assert refused.value.setting == "--cache"
    monkeypatch.setenv("NEWTON_LAKE_DATA_PATH", str(tmp_path))
    with caplog.at_level(logging.DEBUG):
        code = cli.main(["report", "daily", "--cache", value])
    assert code != EXIT_OK
    out = capsys.readouterr()
    assert "hunter2" not in out.out + out.err and "***" in out.err
    assert caplog.records == [] or all("hunter2" not in r.getMessage() for r in caplog.records)
    assert mask(value).count("hunter2") == 0


def _secret_lake(pg_cluster: Cluster, tmp_path: Path) -> LakeLocation:
    return LakeLocation(pg_cluster.conninfo(pg_cluster.new_database(), SECRET_ROLE), str(tmp_path / "files"))


def _works(location: LakeLocation) -> bool:
    store = open_store(location)
    store.write(schema.put_meta, "signed_in", "yes")
    return bool(store.read(meta_rows, "signed_in") == [("yes",)])


@pytest.mark.slow
def test_the_password_comes_from_pgpassword(
    pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)
    assert _works(_secret_lake(pg_cluster, tmp_path))


@pytest.mark.slow
def test_the_password_comes_from_pgpass(pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    location = _secret_lake(pg_cluster, tmp_path)
    words = location.keywords()
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"# ours\nother:1:x:y:wrong\n{words['host']}:{words['port']}:*:{SECRET_ROLE}:{SECRET_PASSWORD}\n")
    pgpass.chmod(0o600)
    assert _works(location)


@pytest.mark.slow
def test_the_password_comes_from_secrets_toml(
    pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    location = _secret_lake(pg_cluster, tmp_path)
    with caplog.at_level(logging.DEBUG), pytest.raises(CacheError) as refused:
        open_store(location).read(data.read_data_state, ACCOUNT)  # no password anywhere yet
    assert "secret_role" in str(refused.value)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'[lake]\npassword = "{SECRET_PASSWORD}"\n')
    assert _works(location)
    assert all(SECRET_PASSWORD not in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_a_wrong_password_is_an_error_that_never_holds_it(
    pg_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-the-password-7")
    with caplog.at_level(logging.DEBUG), pytest.raises(CacheError) as refused:
        open_store(_secret_lake(pg_cluster, tmp_path)).read(data.read_data_state, ACCOUNT)
    assert "not-the-password-7" not in str(refused.value) and "password authentication failed" in str(refused.value)
    assert all("not-the-password-7" not in r.getMessage() for r in caplog.records)


def test_a_password_duckdb_cannot_parse_is_never_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    # A NUL ends DuckDB's quoted string early: its parser error would show the statement, and the password's start.
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[lake]\npassword = "start-of-it\\u0000rest-of-it"\n')
    location = LakeLocation("dbname=nowhere host=/nonexistent", str(tmp_path / "files"))
    with pytest.raises(CacheError) as refused:
        open_store(location).read(data.read_data_state, ACCOUNT)
    assert "start-of-it" not in str(refused.value) and "rest-of-it" not in str(refused.value)
    assert "password or S3 settings" in str(refused.value)


# End to end ----------------------------------------------------------------------------------------------------


def _report(capsysbinary: pytest.CaptureFixture[bytes], cache: str) -> list[dict[str, str]]:
    args = ["report", "attribution", "--by", "channel", "--cache", cache, "--from", "2026-06-01",
            "--to", "2026-11-19", "--tz", "Europe/Moscow"]  # fmt: skip
    assert cli.main(args) == EXIT_OK
    return list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode("utf-8-sig"))))


@pytest.mark.slow
def test_the_demo_account_synced_into_a_lake_and_a_file_reports_the_same_attribution(
    lake: LakeLocation, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:  # fmt: skip
    file = tmp_path / "file.duckdb"
    for store in (open_store(lake), open_store(file)):
        with client_for(httpx.HTTPTransport(), server_url) as client:
            result = sync(client, store, ACCOUNT, now=NOW_UTC)
        assert result.records > 0
    monkeypatch.setenv("NEWTON_LAKE_DATA_PATH", lake.data_path)
    on_file = _report(capsysbinary, str(file))
    on_lake = _report(capsysbinary, f"ducklake:postgres:{lake.catalog}")
    assert len(on_file) > 3 and sum(int(row["requests"]) for row in on_file) > 100
    assert on_lake == on_file
    columns = "SELECT id, requestDate, channel, phone, phone_first_id, synced_at FROM records ORDER BY id"
    records = [store.read(lambda con: data.query(con, columns)) for store in (open_store(lake), open_store(file))]
    assert records[0].drop("synced_at").equals(records[1].drop("synced_at"))
    assert isinstance(records[0], pl.DataFrame) and records[0].height > 100


# Moving a file into a lake, and keeping a lake small ------------------------------------------------------------


def _export(capsysbinary: pytest.CaptureFixture[bytes], cache: str, what: str) -> bytes:
    args = ["export", what, "--cache", cache, "--from", "2026-06-01", "--to", "2026-11-19", "--tz", "Europe/Moscow"]
    assert cli.main(args) == EXIT_OK
    return bytes(capsysbinary.readouterr().out)


@pytest.mark.slow
def test_migrate_copies_every_table_exactly_and_refuses_a_lake_holding_data(
    lake: LakeLocation, newton: DemoNewton, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:  # fmt: skip
    from dashboard.demo import DemoTransport

    file = tmp_path / "file.duckdb"
    with client_for(DemoTransport(newton)) as client:
        sync(client, open_store(file), ACCOUNT, now=NOW_UTC)
    open_store(file).write(marks.mark_phone, ACCOUNT, "+79991234567", "spam", "ann", T0)  # people's tables too
    monkeypatch.setenv("NEWTON_LAKE_DATA_PATH", lake.data_path)
    to = f"ducklake:postgres:{lake.catalog}"
    before = {what: _export(capsysbinary, str(file), what) for what in ("records", "chats")}

    assert cli.main(["migrate", "--cache", str(file), "--to", to]) == EXIT_OK
    printed = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode())))
    tables = {row["table"]: row for row in printed}
    assert {"records", "chat_sessions", "chat_messages", "lead_marks", "sync_ranges", "meta"} <= set(tables)
    assert all(row["same"] == "yes" and row["file_rows"] == row["lake_rows"] for row in printed)
    assert int(tables["records"]["lake_rows"]) == len({r["id"] for r in newton.records_snapshot()})
    assert tables["lead_marks"]["lake_rows"] == "1"

    # Every row of every table, value for value (the checksums aside).
    for table in tables:
        ordered = f"SELECT * FROM {table} ORDER BY ALL"  # noqa: S608 - the tables migrate printed
        on_file = open_store(file).read(all_rows, ordered)
        on_lake = open_store(lake).read(all_rows, ordered)
        if table == "meta":  # the same rows, the data version among them
            assert sorted(on_lake) == sorted(on_file)
        else:
            assert on_lake == on_file, table
    after = {what: _export(capsysbinary, to, what) for what in ("records", "chats")}
    assert after == before and len(before["records"]) > 10_000

    assert cli.main(["migrate", "--cache", str(file), "--to", to]) != EXIT_OK  # holds data now
    refused = capsysbinary.readouterr().err.decode()
    assert "already holds data" in refused and "--replace" in refused
    assert cli.main(["migrate", "--cache", str(file), "--to", to, "--replace"]) == EXIT_OK
    again = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode())))
    assert again == printed  # replaced, not added to


@pytest.mark.slow
def test_maintain_compacts_a_lake_and_its_answers_stay_the_same(
    lake: LakeLocation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(lake)

    def marks_of(con: object, day: int) -> None:
        # One insert of more rows than a lake keeps inlined in its catalog: a file of their own.
        con.execute(  # type: ignore[attr-defined]
            "INSERT INTO lead_marks SELECT ?, '+79991' || ? || lpad(range::VARCHAR, 4, '0'), 'spam', 'ann', ? "
            "FROM range(500)",
            [ACCOUNT, f"{day:02d}", T0.replace(day=day)],
        )

    for day in range(1, 7):  # six small commits: six small files
        store.write(marks_of, day)
    marked = store.read(lambda con: con.execute("SELECT * FROM lead_marks ORDER BY ALL").fetchall())
    monkeypatch.setenv("NEWTON_LAKE_DATA_PATH", lake.data_path)
    files_before = sum(1 for _ in Path(lake.data_path).rglob("*.parquet"))
    assert cli.main(["maintain", "--cache", f"ducklake:postgres:{lake.catalog}", "--keep-days", "0"]) == EXIT_OK
    said = capsys.readouterr().out
    assert "merged adjacent files" in said and "expired snapshots" in said and "deleted old files" in said
    assert store.read(lambda con: con.execute("SELECT * FROM lead_marks ORDER BY ALL").fetchall()) == marked
    assert sum(1 for _ in Path(lake.data_path).rglob("*.parquet")) < files_before

    file = tmp_path / "c.duckdb"
    open_store(file).write(schema.put_meta, "x", "1")
    assert cli.main(["maintain", "--cache", str(file)]) == EXIT_OK
    assert "nothing else to do" in capsys.readouterr().out


@pytest.mark.slow
def test_the_command_line_syncs_into_a_lake_and_reports_from_it(
    lake: LakeLocation, live_url: tuple[str, DemoNewton], tmp_path: Path
) -> None:
    from dashboard.demo import DEMO_TOKEN
    from tests.test_cli import run_cli

    url, _ = live_url
    env = {"NEWTON_API_URL": url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": "0", "HOME": str(tmp_path),
           "NEWTON_LAKE_DATA_PATH": lake.data_path, "PYTHONPATH": os.getcwd()}  # fmt: skip
    cache = f"ducklake:postgres:{lake.catalog}"
    synced = run_cli("sync", "--cache", cache, env=env, cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    reported = run_cli("report", "daily", "--cache", cache, env=env, cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    days = list(csv.DictReader(io.StringIO(reported.stdout.lstrip("\ufeff"))))
    assert days and sum(int(day["requests"]) for day in days) > 100
    again = run_cli("sync", "--cache", cache, env=env, cwd=tmp_path)  # the second adds nothing twice
    assert again.returncode == 0, again.stderr
    counted = open_store(lake).read(
        lambda con: con.execute("SELECT count(*), count(DISTINCT id) FROM records").fetchall()
    )
    assert counted[0][0] == counted[0][1] > 100


# Files on S3-compatible storage ---------------------------------------------------------------------------------


@pytest.fixture
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, with a bucket `newton`; its endpoint."""
    import boto3  # type: ignore[import-untyped]
    from moto.server import ThreadedMotoServer

    from tests.support.postgres import _free_port

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="moto", aws_secret_access_key="moto-secret",
                     region_name="us-east-1").create_bucket(Bucket="newton")  # fmt: skip
        yield endpoint
    finally:
        server.stop()


@pytest.mark.slow
def test_a_lake_with_its_files_on_s3_syncs_and_reads_back(
    lake_catalog: str, s3_server: str, newton: DemoNewton
) -> None:
    import boto3

    from dashboard.demo import DemoTransport

    env = {"NEWTON_LAKE_DATA_PATH": "s3://newton/lake/", "NEWTON_LAKE_S3_ENDPOINT": s3_server,
           "NEWTON_LAKE_S3_URL_STYLE": "path", "AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto-secret",
           "AWS_REGION": "us-east-1"}  # fmt: skip
    location = lake_location(lake_catalog, env)
    assert location.on_s3 and location.s3.secret == "moto-secret" and "moto-secret" not in repr(location)
    store = open_store(location)
    with client_for(DemoTransport(newton)) as client:
        sync(client, store, ACCOUNT, now=NOW_UTC)
    counted = store.read(all_rows, "SELECT count(*), count(DISTINCT id) FROM records")
    assert counted[0][0] == counted[0][1] == len({r["id"] for r in newton.records_snapshot()})
    objects = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="moto", aws_secret_access_key="moto-secret",
                           region_name="us-east-1").list_objects_v2(Bucket="newton", Prefix="lake/")  # fmt: skip
    assert any(item["Key"].endswith(".parquet") for item in objects.get("Contents", []))
    close_databases()  # a second process's view: opened afresh, read from the bucket
    assert open_store(location).read(all_rows, "SELECT count(*) FROM records") == [(counted[0][0],)]


@pytest.mark.slow
def test_two_accounts_sync_into_one_lake_at_once_and_each_gets_all_its_records(
    lake: LakeLocation, newton: DemoNewton
) -> None:
    from dashboard.demo import DemoTransport

    failures: list[BaseException] = []

    def run(account: str) -> None:
        try:
            with client_for(DemoTransport(newton)) as client:
                sync(client, LakeStore(lake), account, now=NOW_UTC)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(account,)) for account in ("client-a", "client-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert failures == []
    expected = len({r["id"] for r in newton.records_snapshot()})
    counted = open_store(lake).read(
        all_rows, "SELECT account, count(*), count(DISTINCT id) FROM records GROUP BY account ORDER BY account"
    )
    assert counted == [("client-a", expected, expected), ("client-b", expected, expected)]


@pytest.mark.slow  # the whole app under AppTest, on a lake
def test_every_page_runs_on_a_lake_and_shows_what_the_file_shows(
    lake: LakeLocation, demo_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from streamlit.testing.v1 import AppTest

    from dashboard.store.migrate import migrate
    from dashboard.ui import freshness
    from tests.conftest import ENTRY, ROOT

    file = tmp_path / "demo.duckdb"
    shutil.copy(demo_cache, file)
    assert all(table.same for table in migrate(file, lake))
    for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NEWTON_LAKE_DATA_PATH", lake.data_path)
    shown: dict[str, list[str]] = {}
    for cache in (str(file), f"ducklake:postgres:{lake.catalog}"):
        monkeypatch.setenv("NEWTON_CACHE", cache)
        app = AppTest.from_file(ENTRY, default_timeout=120)
        app.run()
        assert not app.exception, app.exception
        for page in sorted(path.name for path in (ROOT / "app_pages").glob("*.py")):
            app.switch_page(f"app_pages/{page}").run()
            assert not app.exception, (cache, page, app.exception)
            shown.setdefault(page, []).append(" ".join(str(m.value) for m in app.metric))
        assert freshness.join_backfills(timeout=300)
    assert all(on_file == on_lake for on_file, on_lake in shown.values()), shown
    assert any(on_file for on_file, _ in shown.values())


@pytest.mark.slow  # processes and servers
def test_two_processes_sync_two_accounts_into_a_lake_at_once_and_report_as_a_file_does(
    lake: LakeLocation, request: pytest.FixtureRequest
) -> None:
    import subprocess
    import sys

    accounts: Agency = request.getfixturevalue("agency")  # tests/test_accounts_cli.py's two accounts and servers

    from tests.test_accounts_cli import exported, served
    from tests.test_cli import run_cli

    on_file = dict(accounts.env)
    on_lake = {**on_file, "NEWTON_CACHE": f"ducklake:postgres:{lake.catalog}", "NEWTON_LAKE_DATA_PATH": lake.data_path}
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    command = [sys.executable, "-m", "dashboard.cli", "sync", "--account"]
    syncs = [  # two processes at once, one account each
        subprocess.Popen(
            [*command, name], env={**base, **on_lake}, cwd=accounts.folder, stderr=subprocess.PIPE, text=True
        )
        for name in ("client-a", "client-b")
    ]
    for process in syncs:
        _, err = process.communicate(timeout=300)
        assert process.returncode == EXIT_OK, err
    accounts.env = on_lake
    for name in ("client-a", "client-b"):
        assert exported(accounts, "--account", name) == served(accounts.newton[name])
    assert run_cli("sync", "--all-accounts", env=on_file, cwd=accounts.folder).returncode == EXIT_OK
    for name in ("client-a", "client-b"):
        reports = [
            run_cli("report", "attribution", "--by", "channel", "--account", name, env=env, cwd=accounts.folder)
            for env in (on_lake, on_file)
        ]
        assert reports[0].returncode == reports[1].returncode == EXIT_OK, reports[0].stderr + reports[1].stderr
        assert reports[0].stdout == reports[1].stdout and reports[0].stdout.count("\n") > 2


@pytest.mark.slow  # processes and servers
def test_all_accounts_sync_in_parallel_into_a_lake(lake: LakeLocation, request: pytest.FixtureRequest) -> None:
    from tests.test_accounts_cli import exported, served
    from tests.test_cli import run_cli

    accounts: Agency = request.getfixturevalue("agency")
    accounts.env = {**accounts.env, "NEWTON_CACHE": f"ducklake:postgres:{lake.catalog}",
                    "NEWTON_LAKE_DATA_PATH": lake.data_path}  # fmt: skip
    synced = run_cli("sync", "--all-accounts", "--parallel", "2", env=accounts.env, cwd=accounts.folder)
    assert synced.returncode == EXIT_OK, synced.stderr
    for name in ("client-a", "client-b"):
        assert exported(accounts, "--account", name) == served(accounts.newton[name])


def test_on_a_lake_the_door_counts_password_tries_in_the_lakes_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.access import PASSWORD_TRIES
    from dashboard.shared_limits import SharedTryLimiter
    from dashboard.ui import access as door

    monkeypatch.setenv("NEWTON_CACHE", "ducklake:postgres:dbname=lake host=db.internal user=newton")
    assert door._lake_catalog() == "dbname=lake host=db.internal user=newton"
    assert isinstance(door.password_tries(door._lake_catalog()), SharedTryLimiter)
    monkeypatch.setenv("NEWTON_CACHE", "cache/newton.duckdb")
    assert door.password_tries(door._lake_catalog()) is PASSWORD_TRIES
    monkeypatch.setenv("NEWTON_CACHE", "ducklake:postgres:dbname=lake password=hunter2")
    assert door._lake_catalog() is None  # refused by the settings, which stop the run with their message
