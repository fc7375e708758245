"""A damaged cache file is renamed aside (never deleted) and rebuilt by a full sync; a busy or forbidden one is not.

The damage is made the way it happens: bytes that are not a database, a file cut short, a corrupt write-ahead log,
a catalog or header that no longer reads, a file from an incompatible DuckDB, a data block that fails its
checksum only when read. Each test first checks that DuckDB itself refuses the file the way we expect.
"""

from __future__ import annotations

import gzip
import random
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from dashboard.api import NewtonClient
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton
from dashboard.errors import CacheBusy, CacheDamaged, CacheError
from dashboard.store import Quarantined, Store, logs
from dashboard.store.connection import connect, transaction
from dashboard.store.quarantine import quarantine_if_damaged
from dashboard.sync import SyncOptions, sync
from tests.conftest import ENTRY, NOW
from tests.test_cli import run_cli
from tests.test_sync import cached_records, server_records

pytestmark = pytest.mark.slow  # damaged caches rebuilt by full syncs; the command line as its own process

DATA = Path(__file__).parent / "data"

ACCOUNT = DEMO_USER_ID
NOW_UTC = NOW.replace(tzinfo=None)
HISTORY = timedelta(days=30)  # enough for a few hundred records; a shorter sync keeps the tests quick
BLOCK = 262_144  # DuckDB's block size; the file starts with three 4 KiB headers
HEADERS = 3 * 4096


# Making damage -------------------------------------------------------------------------------------------------


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def healthy_cache(path: Path) -> None:
    """A cache with its schema and one write in its write log, checkpointed into the file."""
    with transaction(path) as con:
        logs.log_write(con, ACCOUNT, "callback.SetLeadPrice", {"id": "1", "price": 5000}, "ok")


def cache_with_pending_wal(path: Path) -> None:
    """A healthy cache whose latest write is still only in its write-ahead log (as after a crash)."""
    healthy_cache(path)
    con = duckdb.connect(str(path))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("SET checkpoint_threshold = '1GB'")
    for price in range(20):
        logs.log_write(con, ACCOUNT, "callback.CreateCrmLead", {"phone": "+79991234567", "price": price}, "ok")
    con.close()
    assert wal(path).stat().st_size > 1000


def duckdb_checksum(data: bytes) -> int:
    """DuckDB's block checksum (src/common/checksum.cpp): 5381 xor each 8-byte word times a constant."""
    total = 5381
    for (word,) in struct.iter_unpack("<Q", data):
        total ^= (word * 0xBF58476D1CE4E5B9) & 0xFFFF_FFFF_FFFF_FFFF
    return total


def flip(data: bytearray, start: int, end: int) -> None:
    for i in range(start, end):
        data[i] ^= 0xFF


def garbage(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(64 * 1024))


def zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    healthy_cache(path)
    data = path.read_bytes()
    path.write_bytes(data[: data.find(b"write_log")])  # cut inside the catalog, as a copy that stopped early


def corrupt_wal_checksum(path: Path) -> None:
    cache_with_pending_wal(path)
    data = bytearray(wal(path).read_bytes())
    flip(data, len(data) - 40, len(data) - 20)  # inside the last entry: its checksum no longer matches
    wal(path).write_bytes(data)


def corrupt_catalog(path: Path) -> None:
    """Change the catalog and fix its block's checksum, so that DuckDB fails to deserialize it."""
    healthy_cache(path)
    data = bytearray(path.read_bytes())
    name = data.find(b"write_log")
    assert name > HEADERS
    block = HEADERS + (name - HEADERS) // BLOCK * BLOCK
    flip(data, name - 40, name - 20)
    struct.pack_into("<Q", data, block, duckdb_checksum(bytes(data[block + 8 : block + BLOCK])))
    path.write_bytes(data)


def corrupt_headers(path: Path) -> None:
    healthy_cache(path)
    data = bytearray(path.read_bytes())
    flip(data, 4096 + 100, 4096 + 200)
    flip(data, 8192 + 100, 8192 + 200)
    path.write_bytes(data)


def newer_duckdb(path: Path) -> None:
    """A file claiming a storage version from a future DuckDB, its header checksum fixed to match."""
    healthy_cache(path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<Q", data, 12, 1000)
    struct.pack_into("<Q", data, 0, duckdb_checksum(bytes(data[8:4096])))
    path.write_bytes(data)


# (how to damage, the kind the cache reports, what DuckDB 1.5 raises, words of its message). DuckDB 1.5 checksums
# every WAL entry, so a WAL entry that no longer decodes fails its checksum first; a WAL whose header is damaged is
# taken for another database's and ignored (DuckDB's choice: the writes only in it are lost, the file opens).
DAMAGE: dict[str, tuple[Callable[[Path], None], str, type[duckdb.Error], str]] = {
    "garbage": (garbage, "not_a_database", duckdb.IOException, "not a valid DuckDB database file"),
    "zero-bytes": (zero_bytes, "not_a_database", duckdb.IOException, "not a valid DuckDB database file"),
    "truncated": (truncated, "truncated", duckdb.IOException, "Could not read enough bytes"),
    "wal-checksum": (corrupt_wal_checksum, "corrupt_wal", duckdb.Error, "Corrupt WAL file"),
    "catalog": (corrupt_catalog, "corrupt", duckdb.SerializationException, "Failed to deserialize"),
    "header-checksum": (corrupt_headers, "corrupt", duckdb.Error, "Corrupt database file"),
    "newer-duckdb": (newer_duckdb, "incompatible_version", duckdb.IOException, "version number 1000"),
}


def files_beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def set_aside_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".damaged-*"))


def sync_recent(client: NewtonClient, path: Path) -> Quarantined | None:
    return sync(client, Store(path), ACCOUNT, SyncOptions(history=HISTORY), now=NOW_UTC).quarantined


# Each kind of damage -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_is_set_aside_and_rebuilt_by_a_full_sync(
    damage: str, client: NewtonClient, newton: DemoNewton, tmp_path: Path
) -> None:
    make, kind, refusal, words = DAMAGE[damage]
    path = tmp_path / "newton.duckdb"
    make(path)
    damaged = path.read_bytes()
    damaged_wal = wal(path).read_bytes() if wal(path).exists() else None
    with pytest.raises(refusal, match=words):  # DuckDB refuses it as we expect, before we do anything
        duckdb.connect(str(path)).close()
    with pytest.raises(CacheDamaged) as refused, connect(path):
        pass
    assert refused.value.kind == kind
    assert "cannot" in str(refused.value)

    moved = sync_recent(client, path)

    assert moved is not None and moved.kind == kind and moved.path == path
    assert set_aside_files(path) == [moved.moved_to, *([moved.wal_moved_to] if damaged_wal is not None else [])]
    assert moved.moved_to.name.startswith("newton.duckdb.damaged-2")
    assert moved.moved_to.read_bytes() == damaged  # renamed, byte for byte: nothing is lost
    if damaged_wal is not None:
        assert moved.wal_moved_to == wal(moved.moved_to)
        assert moved.wal_moved_to.read_bytes() == damaged_wal
    assert str(moved.moved_to) in str(moved)
    assert_frame_equal(cached_records(path), server_records(newton, since=NOW_UTC - HISTORY))
    with connect(path) as con:
        assert con.execute("SELECT outcome FROM sync_runs").fetchall() == [("ok",)]
        # The write log comes along where the damaged file still reads (here: only its write-ahead log is corrupt).
        carried = 1 if damage == "wal-checksum" else 0
        assert con.execute("SELECT count(*) FROM write_log").fetchall() == [(carried,)]
    assert sync_recent(client, path) is None  # the rebuilt cache is healthy: nothing more is moved
    assert len(set_aside_files(path)) == (1 if damaged_wal is None else 2)


def test_a_damaged_cache_in_a_folder_named_lock_is_not_taken_for_a_busy_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # DuckDB's messages name the file, as an absolute path even when given a relative one.
    monkeypatch.chdir(tmp_path)
    path = Path("var") / "lock" / "newton.duckdb"
    path.parent.mkdir(parents=True)
    garbage(path)
    moved = quarantine_if_damaged(path, wait=0.3)
    assert moved is not None and moved.kind == "not_a_database"
    assert moved.moved_to.is_file()


def test_the_write_log_of_a_cache_with_a_corrupt_wal_can_still_be_read_from_the_file_set_aside(
    client: NewtonClient, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    corrupt_wal_checksum(path)
    moved = sync_recent(client, path)
    assert moved is not None and moved.wal_moved_to is not None
    moved.wal_moved_to.rename(tmp_path / "the-corrupt.wal")  # what a person would do to read the old file
    with duckdb.connect(str(moved.moved_to), read_only=True) as old:
        assert old.execute("SELECT action FROM write_log").fetchall() == [("callback.SetLeadPrice",)]


def test_a_data_block_that_fails_only_when_read_is_found_during_the_sync_and_rebuilt(
    client: NewtonClient, newton: DemoNewton, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    sync(client, Store(path), ACCOUNT, SyncOptions(history=HISTORY), now=NOW_UTC - timedelta(days=1))
    with connect(path) as con:
        blocks = {b for (b,) in con.execute(
            "SELECT DISTINCT block_id FROM pragma_storage_info('records') WHERE column_name = 'id' AND block_id >= 0"
        ).fetchall()}  # fmt: skip
    assert blocks
    data = bytearray(path.read_bytes())
    for block in blocks:
        flip(data, HEADERS + block * BLOCK + 1000, HEADERS + block * BLOCK + 1100)
    path.write_bytes(data)
    with connect(path):  # it opens: the damage shows only when the records are read
        pass

    moved = sync_recent(client, path)

    assert moved is not None and moved.kind == "corrupt"
    with duckdb.connect(str(moved.moved_to), read_only=True) as old:  # kept, and readable but for the bad block
        assert old.execute("SELECT outcome FROM sync_runs ORDER BY started_at LIMIT 1").fetchall() == [("ok",)]
    # The fresh cache was filled by a full sync, not by an incremental one starting at the damaged file's state.
    assert_frame_equal(cached_records(path), server_records(newton, since=NOW_UTC - HISTORY))


def random_bytes_in_the_middle(client: NewtonClient, path: Path) -> None:
    """A real synced cache with 4 KiB of random bytes written over the middle of its records, as a bad disk does."""
    sync(client, Store(path), ACCOUNT, SyncOptions(history=HISTORY), now=NOW_UTC)
    # The middle block of the records, not of the file: where the file's middle falls (a free block, after a table
    # is added to the schema) is chance.
    with duckdb.connect(str(path), read_only=True) as con:
        blocks = sorted({b for (b,) in con.execute(
            "SELECT DISTINCT block_id FROM pragma_storage_info('records') WHERE block_id >= 0"
        ).fetchall()})  # fmt: skip
    data = bytearray(path.read_bytes())
    middle = HEADERS + blocks[len(blocks) // 2] * BLOCK
    data[middle : middle + 4096] = random.Random(11).randbytes(4096)
    path.write_bytes(data)
    with duckdb.connect(str(path)) as con, pytest.raises(duckdb.Error, match="Corrupt database file"):
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            con.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - DuckDB's own table names


def test_a_damaged_file_that_changes_whenever_it_is_opened_is_still_set_aside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # DuckDB writes the file (a WAL replayed, a checkpoint on close) as it opens and closes it: only another file in
    # its place, not a changed size or time, means another process replaced it while it was being judged.
    path = tmp_path / "newton.duckdb"
    garbage(path)
    real_connect = duckdb.connect

    def writing_open(database: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        if Path(database).exists():  # not the fresh cache that replaces it
            with Path(database).open("ab") as file:
                file.write(b"\0" * 4096)
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", writing_open)
    moved = quarantine_if_damaged(path, wait=0.3)
    assert moved is not None and moved.kind == "not_a_database"
    assert moved.moved_to.is_file()


# Not damage: busy, forbidden, missing --------------------------------------------------------------------------


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Callable[[Path, str], None]]:
    """Another process holding a file: DuckDB open read-write, or a bare POSIX lock as DuckDB takes it."""
    started: list[subprocess.Popen[str]] = []

    def hold(path: Path, how: str) -> None:
        code = {
            "duckdb": "import duckdb; held = duckdb.connect(sys.argv[1])",
            "lock": "import fcntl; held = open(sys.argv[1], 'r+b'); fcntl.lockf(held, fcntl.LOCK_EX)",
        }[how]
        process = subprocess.Popen(
            [sys.executable, "-c", f"import sys; {code}; print('held', flush=True); sys.stdin.read()", str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "held"

    yield hold
    for process in started:
        process.kill()
        process.communicate()  # waits, and closes its pipes


def test_a_healthy_cache_held_by_another_process_is_waited_for_and_never_set_aside(
    holder: Callable[[Path, str], None], tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    healthy_cache(path)
    before = path.read_bytes()
    holder(path, "duckdb")
    with pytest.raises(CacheBusy, match="busy"):
        quarantine_if_damaged(path, wait=0.3)
    assert files_beside(path) == ["newton.duckdb"]
    assert path.read_bytes() == before


def test_a_lock_comes_before_anything_else_duckdb_could_say_about_the_file(
    holder: Callable[[Path, str], None], tmp_path: Path
) -> None:
    # Even a file that is not a database is left alone while another process holds it: it may be mid-write.
    path = tmp_path / "newton.duckdb"
    garbage(path)
    holder(path, "lock")
    with pytest.raises(CacheBusy):
        quarantine_if_damaged(path, wait=0.3)
    assert files_beside(path) == ["newton.duckdb"]


def test_a_permission_problem_gives_a_clear_message_and_moves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "newton.duckdb"
    healthy_cache(path)

    def forbidden(database: str, *args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        # DuckDB 2.0's words, as seen for a cache in a folder or file this user may not write.
        raise duckdb.IOException(f'IO Error: Cannot open file "{database}": Permission denied')

    monkeypatch.setattr(duckdb, "connect", forbidden)
    with pytest.raises(CacheError, match="permission denied") as refused:
        quarantine_if_damaged(path)
    assert not isinstance(refused.value, CacheDamaged)
    assert files_beside(path) == ["newton.duckdb"]


def test_a_cache_path_that_is_a_folder_or_under_a_file_is_a_clear_error_not_damage(tmp_path: Path) -> None:
    folder = tmp_path / "newton.duckdb"
    folder.mkdir()
    with pytest.raises(CacheError) as refused:
        quarantine_if_damaged(folder)
    assert not isinstance(refused.value, CacheDamaged)
    assert folder.is_dir() and files_beside(folder) == ["newton.duckdb"]
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(CacheError, match="Cannot create the folder"):
        quarantine_if_damaged(tmp_path / "a-file" / "newton.duckdb")


def test_a_missing_cache_is_a_first_run_not_damage(client: NewtonClient, tmp_path: Path) -> None:
    path = tmp_path / "new" / "newton.duckdb"
    assert sync_recent(client, path) is None
    assert files_beside(path) == ["newton.duckdb", "newton.duckdb.sync-lock"]  # nothing set aside


# As people meet it: the command line and the dashboard ---------------------------------------------------------


def test_cli_sync_on_a_damaged_cache_says_where_it_went_and_succeeds(server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    corrupt_wal_checksum(path)
    env = {"NEWTON_API_URL": server_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT}
    result = run_cli("sync", "--cache", str(path), "--history-days", "30", env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (moved, moved_wal) = set_aside_files(path)
    assert moved_wal == wal(moved)
    assert f"moved to {moved} and its write-ahead log to {moved_wal}" in result.stderr
    assert "damaged" in result.stderr and "full sync" in result.stderr
    assert "Synced" in result.stdout
    with connect(path) as con:
        assert con.execute("SELECT count(*) FROM records").fetchall()[0][0] > 100


def test_cli_sync_on_a_cache_with_random_bytes_in_its_middle_rebuilds_it_then_syncs_normally(
    client: NewtonClient, newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "cli.duckdb"
    random_bytes_in_the_middle(client, path)
    since = (NOW_UTC - HISTORY).date()
    env = {"NEWTON_API_URL": server_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT}
    first = run_cli("sync", "--cache", str(path), "--since", f"{since}", "--tz", "UTC", env=env)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    (moved,) = set_aside_files(path)
    assert f"moved to {moved}" in first.stderr and "nothing was deleted" in first.stderr
    expected = server_records(newton).filter(pl.col("requestDate") >= datetime.combine(since, time()))
    assert_frame_equal(cached_records(path), expected)

    again = run_cli("sync", "--cache", str(path), "--since", f"{since}", "--tz", "UTC", env=env)
    assert again.returncode == 0, again.stderr
    assert "damaged" not in again.stderr and "Synced" in again.stdout
    assert set_aside_files(path) == [moved]


@pytest.mark.parametrize(("lang", "words"), [("en", "was damaged"), ("ru", "был повреждён")])
def test_the_dashboard_on_a_damaged_cache_says_so_then_syncs(app_env: Path, lang: str, words: str) -> None:
    garbage(app_env)
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.query_params["lang"] = lang
    test.run()
    assert not test.exception, test.exception
    (moved,) = set_aside_files(app_env)
    (warning,) = [w.value.replace("\\", "") for w in test.warning if words in w.value]  # the path, Markdown-escaped
    assert str(moved) in warning
    assert not test.error
    requests = next(m.value for m in test.metric)  # Requests, the first headline number
    assert int(requests.replace(",", "").replace("\u00a0", "")) > 1000
    test.run()  # the next click reads the rebuilt cache: no message, nothing else moved
    assert not test.exception and not [w for w in test.warning if words in w.value]
    assert set_aside_files(app_env) == [moved]


def test_the_dashboard_on_an_unusable_cache_shows_one_message_not_a_traceback(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("NEWTON_CACHE", str(tmp_path / "a-file" / "demo.duckdb"))
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.run()
    assert not test.exception
    assert [e.value for e in test.error] == ["The local data file cannot be used."]
    assert any("Cannot create the folder" in t.value for t in test.text)
    assert files_beside(tmp_path / "a-file") == ["a-file", "demo.duckdb"]  # the app's own copy, untouched


def test_a_cache_of_the_release_on_duckdb_2_is_set_aside_saying_why_and_keeps_its_write_history(
    server_url: str, tmp_path: Path
) -> None:
    # Made by the previous release (DuckDB 2.0.1) with one deal in its write log; DuckDB 1.5.5 cannot open it.
    path = tmp_path / "newton.duckdb"
    path.write_bytes(gzip.decompress((DATA / "cache-of-0.1-duckdb-2.0.1.duckdb.gz").read_bytes()))
    old = path.read_bytes()
    env = {"NEWTON_API_URL": server_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT}
    result = run_cli("sync", "--cache", str(path), "--history-days", "30", env=env)
    assert result.returncode == 0, result.stderr
    (moved,) = set_aside_files(path)
    assert f"moved to {moved}" in result.stderr
    assert "DuckDB 2.0.1" in result.stderr and "cannot read" in result.stderr
    assert moved.read_bytes() == old  # the write history is still there, for DuckDB 2.0.1 to read
    with connect(path) as con:
        assert con.execute("SELECT count(*) FROM records").fetchall()[0][0] > 100
