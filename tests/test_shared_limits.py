"""The password-tries limit in the lake's PostgreSQL: N dashboard servers on one catalog give no more tries than one.

Each "server" is a `SharedTryLimiter` object of its own (its own connections), on a real throwaway cluster."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from dashboard import access
from dashboard.errors import TriesUnavailable
from dashboard.shared_limits import SharedTryLimiter, shared_try_limiter
from dashboard.ui import access as door
from tests.support.postgres import SECRET_PASSWORD, SECRET_ROLE, Cluster
from tests.test_access import EDITOR_PASSWORD, PASSWORDS, _app, _enter, _sees_dashboard, _texts


def _servers(catalog: str, limit: int = 3, now: list[float] | None = None) -> tuple[SharedTryLimiter, ...]:
    clock = None if now is None else (lambda: now[0])
    return tuple(SharedTryLimiter(catalog, limit=limit, window=60, clock=clock) for _ in range(2))


def _rows(catalog: str) -> int:
    with psycopg.connect(catalog) as con:
        row = con.execute("SELECT count(*) FROM newton_password_tries").fetchone()
    return int(row[0]) if row else 0


def test_two_servers_share_one_limit(lake_catalog: str) -> None:
    now = [1000.0]
    one, two = _servers(lake_catalog, now=now)
    assert one.begin("10.0.0.1") == 0 and two.begin("10.0.0.1") == 0 and one.begin("10.0.0.1") == 0
    assert two.begin("10.0.0.1") == pytest.approx(60)  # the fourth try, on the other server, waits
    assert one.wait("10.0.0.1") == pytest.approx(60)
    assert two.begin("10.0.0.2") == 0  # another caller is not locked out
    now[0] += 59
    assert one.wait("10.0.0.1") == pytest.approx(1)
    now[0] += 1.5
    assert two.begin("10.0.0.1") == 0  # a minute later, tries again


def test_twenty_tries_at_once_across_two_servers_never_pass_the_limit(lake_catalog: str) -> None:
    one, two = _servers(lake_catalog, limit=5)
    start = threading.Barrier(20)
    waits: list[float] = []

    def guess(limiter: SharedTryLimiter) -> None:
        start.wait()
        waits.append(limiter.begin("203.0.113.9"))

    threads = [threading.Thread(target=guess, args=(one if i % 2 else two,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(waits) == 20
    assert waits.count(0.0) == 5  # five tries went ahead; fifteen were told to wait
    assert _rows(lake_catalog) == 5


def test_a_right_password_does_not_count(lake_catalog: str) -> None:
    one, two = _servers(lake_catalog, limit=2, now=[0.0])
    assert one.begin("a") == 0 and two.begin("a") == 0
    assert one.begin("a") > 0
    two.succeeded("a")  # one of the two was right: it is forgotten on every server
    assert one.begin("a") == 0
    assert one.begin("a") > 0


def test_each_failure_doubles_the_hold_on_every_server(lake_catalog: str) -> None:
    one, two = _servers(lake_catalog, limit=10, now=[0.0])
    holds = []
    for limiter in (one, two, one, two, one):
        limiter.failed("guesser")
        holds.append((two if limiter is one else one).delay("guesser"))
    assert holds == [0.5, 1.0, 2.0, 4.0, access.MAX_DELAY]
    assert one.delay("someone else") == 0


def test_old_tries_are_pruned(lake_catalog: str) -> None:
    now = [0.0]
    one, _ = _servers(lake_catalog, now=now)
    for caller in ("a", "b", "c"):
        one.begin(caller)
    now[0] += 61
    one.begin("d")  # any count prunes what counts for nobody any more
    assert _rows(lake_catalog) == 1


def test_the_table_is_made_once_beside_ducklakes_own(lake_catalog: str) -> None:
    _servers(lake_catalog)[0].failed("a")
    _servers(lake_catalog)[1].failed("a")  # a second server finds the table there
    with psycopg.connect(lake_catalog) as con:
        tables = [row[0] for row in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert tables == ["newton_password_tries"]  # not ducklake_*: the lake's catalog tables keep their names


def test_an_unreachable_catalog_lets_no_password_be_tried(
    pg_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(pg_cluster.conninfo("postgres")) as con:
        con.execute("SELECT 1")  # the cluster is up: the closed port below is the only thing wrong
    gone = f"dbname=lake host=127.0.0.1 port={_closed_port()} user=newton password=do-not-show-me"
    limiter = SharedTryLimiter(gone, timeout=2)
    for attempt in (limiter.begin, limiter.wait, limiter.failed):
        with pytest.raises(TriesUnavailable) as refused:
            attempt("10.0.0.1")
        assert "127.0.0.1" in str(refused.value) and "do-not-show-me" not in str(refused.value)
    assert limiter.delay("10.0.0.1") == access.MAX_DELAY  # held as long as can be, never waved through
    assert "do-not-show-me" not in repr(limiter)
    assert "no password can be tried" in caplog.text and "do-not-show-me" not in caplog.text  # told, never the password


def test_the_catalogs_password_comes_from_libpqs_own_places(
    pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    catalog = pg_cluster.conninfo(pg_cluster.new_database(), user=SECRET_ROLE)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(TriesUnavailable) as refused:
        SharedTryLimiter(catalog).begin("a")
    assert "password" in str(refused.value)  # libpq's words: the server wants a password
    monkeypatch.setenv("PGPASSWORD", SECRET_PASSWORD)
    assert SharedTryLimiter(catalog).begin("a") == 0


def test_the_catalogs_password_comes_from_secrets_toml_as_the_lakes_does(
    pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = pg_cluster.conninfo(pg_cluster.new_database(), user=SECRET_ROLE)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'[lake]\npassword = "{SECRET_PASSWORD}"\n')
    with caplog.at_level(logging.DEBUG):
        assert SharedTryLimiter(catalog).begin("a") == 0  # the one password opens the lake and the door's count
    assert SECRET_PASSWORD not in caplog.text


def test_without_a_lake_the_servers_own_limiter_counts(lake_catalog: str) -> None:
    assert shared_try_limiter(None) is access.PASSWORD_TRIES
    shared = shared_try_limiter(lake_catalog)
    assert isinstance(shared, SharedTryLimiter) and shared_try_limiter(lake_catalog) is shared


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens there


# ------------------------------------------------------------------------------------ the door on a lake


@pytest.fixture
def door_on(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[float]]:
    """Point the door at a lake's catalog (main wires the lake's settings here at the merge); wrong tries are
    held on a recorder, not a real sleep."""
    held: list[float] = []
    monkeypatch.setattr(door, "sleep", held.append)

    def on(catalog: str) -> list[float]:
        monkeypatch.setattr(door, "_lake_catalog", lambda: catalog)
        return held

    return on


@pytest.mark.slow  # the whole app, run by AppTest
def test_wrong_passwords_on_one_server_count_on_the_other(
    app_env: Path, lake_catalog: str, door_on: Callable[[str], list[float]]
) -> None:
    held = door_on(lake_catalog)
    first_server = _app(PASSWORDS)
    for _ in range(5):
        _enter(first_server, "guess guess guess")
    assert held == [0.5, 1.0, 2.0, 4.0, 4.0]
    second_server = _enter(_app(PASSWORDS), EDITOR_PASSWORD)  # a session of its own, as on another server
    assert "Too many wrong passwords" in _texts(second_server) and not _sees_dashboard(second_server)


@pytest.mark.slow  # the whole app, run by AppTest
def test_an_unreachable_tries_count_keeps_the_door_shut(app_env: Path, door_on: Callable[[str], list[float]]) -> None:
    door_on(f"dbname=lake host=127.0.0.1 port={_closed_port()} user=newton connect_timeout=2")
    test = _enter(_app(PASSWORDS), EDITOR_PASSWORD)
    assert "Passwords cannot be checked now" in _texts(test) and not _sees_dashboard(test)
    assert not test.sidebar.get("multiselect")


def test_a_count_stuck_behind_a_hung_server_fails_closed(lake_catalog: str) -> None:
    one, _ = _servers(lake_catalog)
    one.failed("10.0.0.1")  # the table exists
    hung = SharedTryLimiter(lake_catalog, timeout=1)
    with psycopg.connect(lake_catalog) as other_server:  # mid-count, holding the caller's lock, and never ending
        other_server.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ["newton_password_tries:10.0.0.1"]
        )
        with pytest.raises(TriesUnavailable) as refused:
            hung.begin("10.0.0.1")
        assert "statement timeout" in str(refused.value)
        assert hung.begin("10.0.0.2") == 0  # other callers are not held up
