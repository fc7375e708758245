"""Call back now: one real call per lost caller however often it is clicked, and the record Newton makes of it is
known as ours after the next sync (left out of every metric). Counted at the embedded Newton, over a socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard import callers, writes
from dashboard.access import Person, Role
from dashboard.demo import DemoNewton, serve_in_thread
from dashboard.errors import AlreadySent, NotAllowed
from dashboard.metrics import Definitions, Filters, Metrics, record_facts
from dashboard.periods import Period
from dashboard.store import Store
from dashboard.store.connection import connect
from dashboard.sync import sync
from dashboard.timezones import zone_named
from tests.conftest import NOW, client_for, fixed_clock
from tests.test_writes_once import ACCOUNT, T0, SlowWrites, received, writer_at

pytestmark = pytest.mark.slow  # writes through the embedded Newton over a socket, from threads

LOST = "+79161234567"


@pytest.fixture
def slow() -> Iterator[tuple[SlowWrites, str]]:
    """A demo Newton taking 1.5 s over each write (as a busy real one may), served over HTTP."""
    newton = SlowWrites(records=500, seed=7, clock=fixed_clock)
    with serve_in_thread(newton, host="127.0.0.1", port=0) as server:
        yield newton, server.url


def test_call_back_clicked_twice_through_two_widgets_reaches_newton_once(
    slow: tuple[SlowWrites, str], tmp_path: Path
) -> None:
    newton, url = slow
    path = tmp_path / "c.duckdb"
    widgets = [w["id"] for w in newton.widgets[:2]]
    outcomes: list[str] = []

    def click(who: str, widget: str, phone: str) -> None:
        writer = writer_at(url, path, who=who)
        with writer.client:
            try:
                writer.call_back(phone, widget)
            except AlreadySent as error:
                outcomes.append(f"refused: {error}")
            else:
                outcomes.append("sent")

    # The same caller, typed two ways, through two widgets: still one caller, so one call.
    first = threading.Thread(target=click, args=("alice", widgets[0], LOST))
    second = threading.Thread(target=click, args=("bob", widgets[1], "8 (916) 123-45-67"))
    first.start()
    time.sleep(0.3)
    second.start()
    first.join(30)
    second.join(30)
    assert received(newton, "callback.CreateRequest") == 1
    assert sorted(outcomes)[1] == "sent"
    assert f"A call back to {LOST} was requested just now by alice" in sorted(outcomes)[0]
    (sent,) = [w for w in newton.writes if w.action == "callback.CreateRequest"]
    assert sent.params["referer"] == callers.OUR_CALLBACK_REFERER
    with connect(path) as con:
        assert con.execute("SELECT action, outcome, actor FROM write_log").fetchall() == [
            (writes.CALL_BACK, "ok", "alice")
        ]


def test_a_second_call_back_to_a_phone_waits_ten_minutes_unless_sent_again(
    newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"
    now = [T0]
    writer = writer_at(server_url, path, clock=lambda: now[0])
    widget, other = (w["id"] for w in newton.widgets[:2])
    with writer.client:
        writer.call_back(LOST, widget)
        now[0] = T0 + timedelta(minutes=9)
        with pytest.raises(AlreadySent, match="9 min ago by tester"):
            writer.call_back(LOST, other)
        writer.call_back("+79160000000", widget)  # another caller is another call
        writer.call_back(LOST, other, send_again=True)  # the person saw the first and asked again
        now[0] = T0 + timedelta(minutes=19, seconds=1)
        writer.call_back(LOST, widget)
    assert received(newton, "callback.CreateRequest") == 4
    with connect(path) as con:
        shown = writes.call_backs(con, ACCOUNT, [LOST, "+79990000000"], now[0])
    assert list(shown) == [LOST] and shown[LOST].outcome == "ok" and shown[LOST].written_at == now[0]


def test_a_viewer_cannot_call_back(newton: DemoNewton, server_url: str, tmp_path: Path) -> None:
    writer = writes.Writer(client_for(httpx.HTTPTransport(), server_url), Store(tmp_path / "c.duckdb"), ACCOUNT,
                      Person("viewer", Role.VIEWER))  # fmt: skip
    with writer.client, pytest.raises(NotAllowed):
        writer.call_back(LOST, newton.widgets[0]["id"])
    assert received(newton, "callback.CreateRequest") == 0


def test_after_the_next_sync_our_call_back_is_known_as_ours_and_counts_nowhere(
    newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"
    zone = zone_named("Europe/Moscow")
    with client_for(httpx.HTTPTransport(), server_url) as client:
        sync(client, Store(path), ACCOUNT, now=NOW.replace(tzinfo=None))
    today = NOW.astimezone(zone).date()
    filters = Filters(period=Period(today - timedelta(days=6), today), as_of=NOW)

    def counted() -> tuple[dict[str, float | int | None], list[tuple[Any, ...]]]:
        with Store(path).reading() as reading:
            headline = Metrics(reading, ACCOUNT, Definitions(zone=zone)).headline(filters)
            facts, params = record_facts(ACCOUNT, Definitions(zone=zone), filters, with_ours=True)
            mine = f"SELECT phone FROM ({facts}) WHERE is_ours"  # noqa: S608 - our own SQL
            ours = reading.connection.sql(mine, params=params).fetchall()
        return headline, ours

    before, none_of_ours = counted()
    assert none_of_ours == []
    writer = writer_at(server_url, path)
    with writer.client:
        writer.call_back(LOST, newton.widgets[0]["id"])
    with client_for(httpx.HTTPTransport(), server_url) as client:
        sync(client, Store(path), ACCOUNT, now=NOW.replace(tzinfo=None) + timedelta(minutes=1))
    after, ours = counted()
    assert ours == [(LOST,)]  # Newton's record of the call back, recognised by its referer
    assert after == before  # not a request, not a channel's, not an answer or a miss
