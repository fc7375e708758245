"""The demo Newton injecting faults over a real socket: reads and syncs survive them, writes are never repeated."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import cli
from dashboard.access import Person, Role
from dashboard.api import Credentials, NewtonClient, RecordFilter, Token, retry
from dashboard.api.retry import Backoff
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, DemoTransport, Fault, Faults, serve_in_thread
from dashboard.errors import OutcomeUnknown, SyncFailed, UnexpectedAnswer
from dashboard.store import Store
from dashboard.store.connection import connect
from dashboard.sync import SyncOptions, sync
from dashboard.writes import Writer
from tests.conftest import client_for
from tests.test_sync import NOW_UTC, cached_records, server_records

pytestmark = pytest.mark.slow  # syncs and writes through injected faults over HTTP; the demo server as its own process

ACCOUNT = DEMO_USER_ID
EDITOR = Person("tester", Role.EDITOR)
# Faults that leave Newton's answer unread: the request is answered with an error, cut short or never answered.
T = TypeVar("T")
FAILING = [kind for kind in Fault if kind is not Fault.SLOW]


@contextmanager
def faulty(newton: DemoNewton, faults: Faults, timeout: httpx.Timeout | None = None) -> Iterator[NewtonClient]:
    """A client (no real waits between retries) talking over HTTP to `newton` served with `faults`."""
    server = serve_in_thread(newton, faults=faults)
    try:
        if timeout is None:
            client = client_for(httpx.HTTPTransport(), server.url)
        else:
            client = NewtonClient(
                Credentials(DEMO_USER_ID, Token(DEMO_TOKEN)), api_url=server.url, backoff=Backoff(),
                sleep=lambda seconds: None, timeout=timeout,
            )  # fmt: skip
        with client:
            yield client
    finally:
        server.shutdown()


def a_phone_that_called(newton: DemoNewton) -> str:
    return next(str(r["clientPhone"]) for r in newton.records_snapshot() if r.get("clientPhone"))


def write_log(path: Path) -> list[tuple[str, str]]:
    with connect(path) as con:
        return [(str(a), str(o)) for a, o in con.execute("SELECT action, outcome FROM write_log").fetchall()]


# The plan itself -------------------------------------------------------------------------------------------


def test_a_seeded_plan_injects_about_the_rate_asked_and_every_kind() -> None:
    plan = Faults(0.2, seed=5)
    draws = [plan.draw() for _ in range(5000)]
    again = Faults(0.2, seed=5)
    assert [again.draw() for _ in range(5000)] == draws  # the same seed, the same faults
    share = sum(d is not None for d in draws) / len(draws)
    assert 0.18 < share < 0.22
    assert set(plan.injected) == set(Fault)
    assert plan.requests == 5000


@pytest.mark.parametrize(
    ("rate", "kinds", "message"),
    [(1.5, "all", "from 0 to 1"), (-0.1, "all", "from 0 to 1"), (float("nan"), "all", "from 0 to 1"),
     (0.2, "slow,teapot", "unknown fault kind 'teapot'"), (0.2, " , ", "at least one")],
)  # fmt: skip
def test_a_plan_refuses_what_it_cannot_do(rate: float, kinds: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(rate, kinds)


# Reads -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Fault))
def test_a_read_survives_each_kind_of_fault(newton: DemoNewton, kind: Fault) -> None:
    with faulty(newton, Faults(0.0, script=[kind, kind], delay=0.01)) as client:
        wanted = RecordFilter(request_date_from="2026-11-01 00:00:00", request_date_to="2026-11-10 23:59:59")
        records = client.get_records(wanted)
        widgets = client.get_widgets()
    with client_for(DemoTransport(newton)) as clean:
        assert_frame_equal(records, clean.get_records(wanted))
        assert widgets == clean.get_widgets()
    assert records.height > 0


def test_a_read_that_meets_a_fault_every_time_fails_clearly(newton: DemoNewton) -> None:
    faults = Faults(1.0, [Fault.HTML_200])
    with faulty(newton, faults) as client, pytest.raises(UnexpectedAnswer, match="not JSON") as caught:
        client.get_widgets()
    assert "callback.GetWidgets" in str(caught.value)
    assert faults.requests == 4  # the first try and the client's 3 retries


def test_a_sync_under_20_percent_faults_ends_exact(newton: DemoNewton, tmp_path: Path) -> None:
    clean_path, faulty_path = tmp_path / "clean.duckdb", tmp_path / "faulty.duckdb"
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(clean_path), ACCOUNT, now=NOW_UTC)
    # Small windows (a small split threshold: many requests, answers split and asked again) from four workers,
    # and a fifth of the requests meets a fault; a few reads fail even after the client's 3 retries, and the sync
    # asks them again.
    faults = Faults(0.2, seed=11, delay=0.01)
    with faulty(newton, faults) as client:
        result = sync(client, Store(faulty_path), ACCOUNT, SyncOptions(split_threshold=16), now=NOW_UTC)

    assert set(faults.injected) == set(Fault)  # every kind of fault happened
    assert sum(faults.injected.values()) > 100
    expected = server_records(newton, since=NOW_UTC - timedelta(days=180))
    assert_frame_equal(cached_records(faulty_path), expected)
    assert result.records == expected.height
    tables = {
        "widgets": "id, name",
        "departments": "widget_id, id, name",
        "chat_sessions": "client_id, start_time, widget_id, operator, ip, messages",
        "chat_messages": "client_id, start_time, position, from_client, text, time",
    }
    for table, columns in tables.items():
        query = f"SELECT {columns} FROM {table} ORDER BY ALL"  # noqa: S608 - our own names
        with connect(clean_path) as con:
            clean = con.execute(query).fetchall()
        with connect(faulty_path) as con:
            synced = con.execute(query).fetchall()
        assert synced == clean, table
        assert clean, table
    start = (NOW_UTC - timedelta(days=180)).strftime("%Y-%m-%d %H:%M:%S")
    chats = [c for c in newton.chats_snapshot() if c["startTime"] >= start]
    with connect(faulty_path) as con:
        sessions = con.execute(
            "SELECT client_id, strftime(start_time, '%Y-%m-%d %H:%M:%S'), messages FROM chat_sessions"
        ).fetchall()
        runs = con.execute("SELECT outcome FROM sync_runs").fetchall()
    assert sorted(sessions) == sorted((c["clientId"], c["startTime"], len(c["messages"])) for c in chats)
    assert runs == [("ok",)]


def test_a_read_failing_through_all_the_clients_retries_is_asked_again_by_the_sync(
    newton: DemoNewton, tmp_path: Path
) -> None:
    # GetWidgets, the sync's first read, meets four faults in a row: the client's first try and its 3 retries.
    script = [Fault.DROP_BEFORE, Fault.SERVER_ERROR, Fault.TOO_MANY_REQUESTS, Fault.DROP_AFTER]
    options = SyncOptions(since=NOW_UTC - timedelta(days=3))
    with faulty(newton, Faults(0.0, script=script)) as client, pytest.raises(SyncFailed, match="RemoteProtocol"):
        sync(client, Store(tmp_path / "impatient.duckdb"), ACCOUNT, replace(options, retry_rounds=0), now=NOW_UTC)
    path = tmp_path / "c.duckdb"
    with faulty(newton, Faults(0.0, script=script)) as client:
        result = sync(client, Store(path), ACCOUNT, options, now=NOW_UTC)
    assert result.retried_reads == 1
    assert_frame_equal(cached_records(path), server_records(newton, since=NOW_UTC - timedelta(days=3)))
    with connect(path) as con:
        ((outcome, message),) = con.execute("SELECT outcome, message FROM sync_runs").fetchall()
    assert outcome == "ok"
    assert "1 reads succeeded only when asked again" in message  # the run says it needed more than retries


def test_one_retry_loop_serves_the_transport_the_client_and_the_sync(
    newton: DemoNewton, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GetWidgets meets a 5xx (the transport retries), an HTML page with HTTP 200 (the client asks again), then four
    # dropped connections (the transport's try and its 3 retries fail, so the client gives up and the sync asks again).
    script = [Fault.SERVER_ERROR, Fault.HTML_200, *[Fault.DROP_AFTER] * 4]
    options = SyncOptions(since=NOW_UTC - timedelta(days=1))
    real = retry.call_with_retries
    retried_in: list[str] = []

    def observed(attempt: Callable[[], T], policy: retry.RetryPolicy, **how: Any) -> T:
        caller = sys._getframe(1).f_globals["__name__"]
        on_retry = how.pop("on_retry")

        def noted(error: Exception, number: int, wait: float) -> None:
            retried_in.append(caller)
            on_retry(error, number, wait)

        return real(attempt, policy, on_retry=noted, **how)

    monkeypatch.setattr(retry, "call_with_retries", observed)
    with faulty(newton, Faults(0.0, script=script)) as client:
        result = sync(client, Store(tmp_path / "c.duckdb"), ACCOUNT, options, now=NOW_UTC)
    assert result.retried_reads == 1
    assert set(retried_in) == {"dashboard.api.retry", "dashboard.api.client", "dashboard.sync"}

    def never_again(attempt: Callable[[], T], policy: retry.RetryPolicy, **how: Any) -> T:
        return real(attempt, replace(policy, retries=0), **how)

    # With that loop told not to retry, nothing retries: there is no other loop.
    monkeypatch.setattr(retry, "call_with_retries", never_again)
    with faulty(newton, Faults(0.0, script=script)) as client, pytest.raises(SyncFailed, match="HTTP 5"):
        sync(client, Store(tmp_path / "d.duckdb"), ACCOUNT, options, now=NOW_UTC)


# Writes ----------------------------------------------------------------------------------------------------

UNSAFE_WRITES: dict[str, Callable[[Writer, str, str], None]] = {
    "callback.CreateCrmLead": lambda writer, phone, widget: writer.create_crm_lead(phone, 228),
    "callback.CreateRequest": lambda writer, phone, widget: writer.create_request(phone, widget),
    "callback.ApplicationRequest": lambda writer, phone, widget: writer.application_request(phone, widget),
}


@pytest.mark.parametrize("kind", FAILING)
@pytest.mark.parametrize("action", list(UNSAFE_WRITES))
def test_a_write_whose_answer_is_lost_is_sent_once_and_reported_unknown(
    newton: DemoNewton, tmp_path: Path, action: str, kind: Fault
) -> None:
    phone, widget = a_phone_that_called(newton), newton.widgets[0]["id"]
    faults = Faults(0.0, script=[kind])  # only the first request meets the fault: a repeat would go through
    path = tmp_path / "c.duckdb"
    with faulty(newton, faults) as client, pytest.raises(OutcomeUnknown, match="Check in Newton"):
        UNSAFE_WRITES[action](Writer(client, Store(path), ACCOUNT, EDITOR), phone, widget)
    assert faults.requests == 1  # never repeated
    if kind.handled:  # Newton made the deal or the call; the client could not learn it
        assert [(w.action, w.answer) for w in newton.writes] == [(action, {"result": "ok"})]
    else:
        assert newton.write_count == 0
    assert write_log(path) == [(action, "unknown")]


@pytest.mark.parametrize("action", list(UNSAFE_WRITES))
def test_a_write_that_times_out_after_sending_is_never_repeated(
    newton: DemoNewton, tmp_path: Path, action: str
) -> None:
    phone, widget = a_phone_that_called(newton), newton.widgets[0]["id"]  # also makes every day: no slow first call
    faults = Faults(0.0, script=[Fault.SLOW], delay=1.5)  # Newton acts at once and answers 1.5 s later
    path = tmp_path / "c.duckdb"
    with faulty(newton, faults, timeout=httpx.Timeout(0.4, connect=5.0)) as client:
        with pytest.raises(OutcomeUnknown, match="ReadTimeout"):
            UNSAFE_WRITES[action](Writer(client, Store(path), ACCOUNT, EDITOR), phone, widget)
        assert faults.requests == 1
        assert [w.action for w in newton.writes] == [action]
    assert write_log(path) == [(action, "unknown")]


def test_set_lead_price_is_retried_through_faults_and_ends_saved(newton: DemoNewton, tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    with client_for(DemoTransport(newton)) as clean:
        sync(clean, Store(path), ACCOUNT, now=NOW_UTC)
    call_id = str(newton.records_snapshot()[-1]["id"])
    faults = Faults(0.0, script=[Fault.DROP_AFTER, Fault.TRUNCATED, Fault.SERVER_ERROR, Fault.HTML_200])
    with faulty(newton, faults) as client:
        Writer(client, Store(path), ACCOUNT, EDITOR).set_lead_price(call_id, 5000)
    assert faults.requests == 5
    assert {r["id"]: r["leadPrice"] for r in newton.records_snapshot()}[call_id] == "5000"
    assert cached_records(path).filter(pl.col("id") == call_id)["leadPrice"].to_list() == [5000]
    assert write_log(path) == [("callback.SetLeadPrice", "ok")]


def test_writes_under_20_percent_faults_each_reach_newton_at_most_once(newton: DemoNewton) -> None:
    phone = a_phone_that_called(newton)
    faults = Faults(0.2, seed=3, delay=0.01)
    ok, unknown = [], []
    with faulty(newton, faults) as client:
        for price in range(1, 31):
            try:
                client.create_crm_lead(phone, price)
            except OutcomeUnknown:
                unknown.append(price)
            else:
                ok.append(price)
    sent = [int(w.params["price"]) for w in newton.writes]
    assert faults.requests == 30  # one request a deal, whatever happened to it
    assert len(sent) == len(set(sent))  # no deal made twice
    assert set(ok) <= set(sent)
    assert ok and unknown
    assert set(sent) - set(ok) <= set(unknown)  # a deal made but not confirmed was reported as unknown


# The command line ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--faults", "1.5"], "argument --faults: must be a share of requests from 0 to 1"),
     (["--faults", "lots"], "argument --faults: must be a share"),
     (["--faults", "nan"], "argument --faults: must be a share"),
     (["--faults", "0.2", "--fault-kinds", "slow,teapot"], "argument --fault-kinds: unknown fault kind 'teapot'")],
)  # fmt: skip
def test_demo_server_refuses_bad_fault_options(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo-server", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_server_reads_its_fault_options() -> None:
    args = cli._parser().parse_args(["demo-server", "--faults", "0.2", "--fault-kinds", "429, drop-after"])
    assert args.faults == 0.2
    assert args.fault_kinds == {Fault.TOO_MANY_REQUESTS, Fault.DROP_AFTER}
    assert cli._parser().parse_args(["demo-server"]).faults is None


def test_fault_kinds_without_a_rate_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "demo-server", "--port", "0", "--fault-kinds", "slow"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--fault-kinds needs --faults" in result.stderr


def test_demo_server_command_injects_faults() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo-server", "--port", "0", "--records", "300",
         "--faults", "1", "--fault-kinds", "drop-after"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        url = lines[0][lines[0].index("http://") :].split()[0]
        assert "100% of API requests meet a fault: drop-after" in lines[1]
        body = {"action": "callback.GetWidgets", "params": {"token": DEMO_TOKEN, "userId": DEMO_USER_ID}}
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(url, json=body, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
