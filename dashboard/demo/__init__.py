"""The embedded Newton: a deterministic simulation of one realistic account behind the real JSON API.

It powers demo mode, tests and benchmarks, in-process (`DemoTransport`) or over HTTP (`serve_in_thread`,
`run_forever`), where a `Faults` plan can inject the failures of a real service and network.
"""

from __future__ import annotations

from dashboard.demo.faults import Fault, Faults
from dashboard.demo.newton import DEMO_TOKEN, DEMO_USER_ID, DemoNewton
from dashboard.demo.server import DemoServer, run_forever, serve_in_thread
from dashboard.demo.transport import DemoTransport

__all__ = [
    "DEMO_TOKEN",
    "DEMO_USER_ID",
    "DemoNewton",
    "DemoServer",
    "DemoTransport",
    "Fault",
    "Faults",
    "run_forever",
    "serve_in_thread",
]
