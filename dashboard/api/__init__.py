"""Newton's JSON API: the client and the typed shapes of its answers (its errors are in `dashboard.errors`)."""

from __future__ import annotations

from dashboard.api.client import DEFAULT_API_URL, Credentials, NewtonClient, RecordFilter, Token
from dashboard.api.models import ChatMessage, ChatSession, Department, Widget
from dashboard.api.records import RECORD_SCHEMA

__all__ = [
    "DEFAULT_API_URL",
    "RECORD_SCHEMA",
    "ChatMessage",
    "ChatSession",
    "Credentials",
    "Department",
    "NewtonClient",
    "RecordFilter",
    "Token",
    "Widget",
]
