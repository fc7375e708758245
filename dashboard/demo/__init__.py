"""The embedded Newton: a deterministic simulation of one realistic account behind the real JSON API.

It powers demo mode, tests and benchmarks, in-process (`DemoTransport`) or over HTTP (`serve_in_thread`,
`run_forever`).
"""

from __future__ import annotations

from dashboard.demo.newton import DEMO_TOKEN, DEMO_USER_ID, DemoNewton
from dashboard.demo.server import DemoServer, run_forever, serve_in_thread
from dashboard.demo.transport import DemoTransport

__all__ = [
    "DEMO_TOKEN",
    "DEMO_USER_ID",
    "DemoNewton",
    "DemoServer",
    "DemoTransport",
    "run_forever",
    "serve_in_thread",
]
