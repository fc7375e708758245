"""One unreadable value in Newton's answer costs that value, not the window.

A JSON string may hold a lone surrogate (`"\\udc80"`): JSON's syntax allows it, but no UTF-8 text can hold it,
so orjson refuses the whole answer. Before, the sync stopped at that window on every run. A hostile Newton in
front of the embedded one, over a real socket, writes such bytes into its answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.api import Credentials, NewtonClient, Token
from dashboard.api.records import UNPARSED
from dashboard.api.retry import Backoff
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton
from dashboard.store import Store
from dashboard.store.connection import connect
from dashboard.sync import SyncOptions, sync
from tests.conftest import NOW
from tests.test_sync import cached_records, server_records

pytestmark = pytest.mark.slow  # a full sync of the demo account

ACCOUNT = DEMO_USER_ID
NOW_UTC = NOW.replace(tzinfo=None)
HISTORY = timedelta(days=20)
LONE = rb"\udc80"  # as it travels: six bytes, a JSON escape of a lone low surrogate


class Hostile:
    """A Newton that forwards to `upstream` and replaces, in every answer, each `swap` key's bytes by its value."""

    def __init__(self, upstream: str, swaps: dict[bytes, bytes]) -> None:
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"})
                content = answer.content
                for old, new in hostile.swaps.items():
                    content = content.replace(old, new)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.swaps = swaps
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hostile(server_url: str) -> Iterator[Hostile]:
    made = Hostile(server_url, {})
    try:
        yield made
    finally:
        made.server.shutdown()
        made.server.server_close()


def client_of(url: str) -> NewtonClient:
    return NewtonClient(
        Credentials(ACCOUNT, Token(DEMO_TOKEN)), api_url=url, backoff=Backoff(), sleep=lambda seconds: None
    )


def test_a_lone_surrogate_costs_its_value_and_the_sync_keeps_every_other_record_and_chat(
    hostile: Hostile, newton: DemoNewton, tmp_path: Path
) -> None:
    day = (NOW_UTC - timedelta(days=2)).strftime("%Y-%m-%d 10:00:00")
    bad_id = newton.add_record(requestDate=day, comment="call me BADTEXT please", landingUtmSource="BADUTM")
    chat = next(c for c in newton.chats_snapshot() if c["startTime"] >= f"{(NOW_UTC - timedelta(days=5)):%Y-%m-%d}")
    said = chat["messages"][0]["text"]
    hostile.swaps = {
        b"BADTEXT": b"BAD" + LONE,
        b'"BADUTM"': b'"' + LONE + b'"',
        orjson.dumps(said): orjson.dumps(said)[:-1] + LONE + b'"',
    }
    path = tmp_path / "newton.duckdb"
    with client_of(hostile.url) as client:
        result = sync(client, Store(path), ACCOUNT, SyncOptions(history=HISTORY), now=NOW_UTC)

    with connect(path) as con:
        outcome = con.execute("SELECT outcome FROM sync_runs").fetchall()
        texts = con.execute(
            "SELECT m.text FROM chat_messages m WHERE m.client_id = ? AND m.position = 0", [chat["clientId"]]
        ).fetchall()
    assert outcome == [("ok",)] and result.records > 100
    cached = cached_records(path)
    expected = server_records(newton, since=NOW_UTC - HISTORY)
    others = pl.col("id") != bad_id
    assert_frame_equal(cached.filter(others), expected.filter(others))  # every other record, exactly
    bad = cached.filter(~others).row(0, named=True)
    assert bad["comment"] is None and bad["landingUtmSource"] is None  # the unreadable values, and only they
    assert orjson.loads(bad[UNPARSED]) == {"comment": "call me BAD\\udc80 please", "landingUtmSource": "\\udc80"}
    assert bad["requestDate"] is not None and bad["type"] == expected.filter(~others)["type"][0]
    assert texts == [(said + "\ufffd",)]  # the message keeps its readable text; its session and the others stay

    with client_of(hostile.url) as client:  # and the next sync is no different
        again = sync(client, Store(path), ACCOUNT, SyncOptions(history=HISTORY), now=NOW_UTC + timedelta(minutes=5))
    assert again.windows > 0
    assert_frame_equal(cached_records(path), cached)
