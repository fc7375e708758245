"""Newton's JSON API: the client, its errors and the typed shapes of its answers."""

from __future__ import annotations

from dashboard.api.client import DEFAULT_API_URL, Credentials, NewtonClient, RecordFilter, Token
from dashboard.api.errors import (
    ApiError,
    AuthError,
    FieldErrors,
    InvalidInput,
    NewtonError,
    OutcomeUnknown,
    TransportFailure,
    UnexpectedAnswer,
)
from dashboard.api.models import ChatMessage, ChatSession, Department, Widget
from dashboard.api.records import RECORD_SCHEMA

__all__ = [
    "DEFAULT_API_URL",
    "RECORD_SCHEMA",
    "ApiError",
    "AuthError",
    "ChatMessage",
    "ChatSession",
    "Credentials",
    "Department",
    "FieldErrors",
    "InvalidInput",
    "NewtonClient",
    "NewtonError",
    "OutcomeUnknown",
    "RecordFilter",
    "Token",
    "TransportFailure",
    "UnexpectedAnswer",
    "Widget",
]
