"""Two Newton accounts of different sizes, each served by an embedded Newton over a real socket and synced into one
cache: what the agency tests (AppTest and the browser) share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard.api import Credentials, Token
from dashboard.connect import open_client
from dashboard.demo import DEMO_TOKEN, DemoNewton, serve_in_thread
from dashboard.settings import Connection
from dashboard.store import Store
from dashboard.sync import sync

USERS = {"client-a": "101", "client-b": "202"}


@contextmanager
def two_accounts_synced(cache: Path) -> Iterator[str]:
    """Serve client-a (1,500 records) and client-b (4,000), sync both into `cache`, and yield the secrets.toml
    lines that name them ("Client A", "Client B"); the Newtons stay up until the block ends."""
    newtons = {"client-a": DemoNewton(records=1_500, seed=1, user_id=USERS["client-a"]),
               "client-b": DemoNewton(records=4_000, seed=2, user_id=USERS["client-b"])}  # fmt: skip
    with (
        serve_in_thread(newtons["client-a"], host="127.0.0.1", port=0) as a,
        serve_in_thread(newtons["client-b"], host="127.0.0.1", port=0) as b,
    ):
        urls = {"client-a": a.url, "client-b": b.url}
        for name, url in urls.items():
            connection = Connection(Credentials(USERS[name], Token(DEMO_TOKEN)), url, demo=True)
            with open_client(connection) as client:
                sync(client, Store(cache), USERS[name])
        yield "\n".join(
            f'[accounts.{name}]\ntoken = "{DEMO_TOKEN}"\nuser_id = "{USERS[name]}"\napi_url = "{url}"\n'
            f'name = "Client {name[-1].upper()}"\n'
            for name, url in urls.items()
        )
