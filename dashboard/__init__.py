"""Newton Dashboard: analytics over Newton (eyenewton.ru) callbacks, call tracking and chats."""

from __future__ import annotations

__version__ = "0.1.0"
