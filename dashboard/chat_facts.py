"""What a chat session's messages say about it, stored with the session when a sync writes it (docs/metrics.md,
"Chats"): how many messages each side wrote, the time of the visitor's first message, that of the first operator
message after it, and whether the visitor was left unanswered.

Positions decide which messages count (a greeting before the visitor's first message answers nothing); a message
without a time leaves the response time unknown. Stored, so that the Chats page and the report read a column of
`chat_sessions` instead of grouping every message of the period on every click.
"""

from __future__ import annotations

import hashlib

# The columns worked out for each session, at the end of `chat_sessions` (dashboard/store/schema.py), by type.
COLUMNS = {
    "visitor_messages": "INTEGER",
    "operator_messages": "INTEGER",
    "first_visitor_at": "TIMESTAMP",
    "first_reply_at": "TIMESTAMP",
    "unanswered": "BOOLEAN",
}


def per_session(sessions: str, messages: str, keys: tuple[str, ...] = ("client_id", "start_time")) -> str:
    """SQL: one row per session of `sessions` (a table or query), keyed by `keys`, with the `COLUMNS` worked out
    from its messages in `messages` (columns position, from_client, time and the keys); a session without
    messages has none from either side."""
    same = " AND ".join(f"m.{key} IS NOT DISTINCT FROM s.{key}" for key in keys)
    by = ", ".join(keys)
    return f"""
SELECT {", ".join(f"s.{key}" for key in keys)},
    count(m.position) FILTER (WHERE m.from_client)::INTEGER AS visitor_messages,
    count(m.position) FILTER (WHERE NOT m.from_client)::INTEGER AS operator_messages,
    arg_min_null(m.time, m.position) FILTER (WHERE m.from_client) AS first_visitor_at,
    arg_min_null(m.time, m.position) FILTER (WHERE NOT m.from_client AND m.position > m.visitor_from)
        AS first_reply_at,
    coalesce(bool_or(m.from_client), false)
        AND NOT coalesce(bool_or(NOT m.from_client AND m.position > m.visitor_from), false) AS unanswered
FROM {sessions} s
LEFT JOIN (
    SELECT {by}, position, from_client, time,
           min(position) FILTER (WHERE from_client) OVER (PARTITION BY {by}) AS visitor_from
    FROM {messages}
) m ON {same}
GROUP BY ALL"""  # noqa: S608 - our own table and column names


# Part of the version the stored columns are kept under: a change here works them out again for every session.
RULES_VERSION = hashlib.sha256(per_session("chat_sessions", "chat_messages").encode()).hexdigest()[:16]

# What the chat metrics read from a stored session `s`: its messages and its first response time.
MESSAGES_SQL = "(s.visitor_messages + s.operator_messages)::BIGINT"
FIRST_RESPONSE_SQL = "epoch(s.first_reply_at) - epoch(s.first_visitor_at)"
