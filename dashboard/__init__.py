"""Newton Dashboard: analytics over Newton (eyenewton.ru) callbacks, call tracking and chats."""

from __future__ import annotations

import sys

from dashboard.memory import limit_malloc_arenas, started_to_sync

__version__ = "0.1.0"

if started_to_sync(sys.argv):  # before polars or DuckDB start a thread (dashboard/memory.py)
    limit_malloc_arenas()
