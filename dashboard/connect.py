"""Turns a `Connection` into a working client: the real Newton, a Newton at a URL, or the embedded demo."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from dashboard.api import NewtonClient
from dashboard.demo import DemoNewton, DemoTransport
from dashboard.settings import Connection
from dashboard.store import DEFAULT_LOCATION, DEMO_LOCATION

_demo_lock = threading.Lock()
_demo: DemoNewton | None = None


def embedded_demo() -> DemoNewton:
    """The process's one embedded demo account, made on first use so writes persist between calls."""
    global _demo
    with _demo_lock:
        if _demo is None:
            _demo = DemoNewton()
        return _demo


def open_client(connection: Connection) -> NewtonClient:
    """A client for `connection`; the caller closes it."""
    if connection.api_url is None:
        return NewtonClient(connection.credentials, transport=DemoTransport(embedded_demo()))
    return NewtonClient(connection.credentials, api_url=connection.api_url)


def cache_path(flag: Path | None, connection: Connection, env: Mapping[str, str] | None = None) -> Path:
    """The cache file: `--cache`, else NEWTON_CACHE, else the default; demo data always gets its own file."""
    env = os.environ if env is None else env
    if flag is not None:
        return flag
    if env.get("NEWTON_CACHE", "").strip():
        return Path(env["NEWTON_CACHE"].strip())
    return DEMO_LOCATION if connection.demo else DEFAULT_LOCATION
