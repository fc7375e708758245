"""Property tests: what the cache stores with each chat session, and the chat numbers read from it, against a
plain-Python reading of docs/metrics.md ("Chats") over the sessions' messages, after several syncs that bring
sessions new, changed and unchanged.

Every expected value is worked out here, message by message, from the written definitions; nothing calls or
mirrors the SQL.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import chats
from dashboard.api import ChatMessage, ChatSession
from dashboard.metrics import Filters, Metrics
from dashboard.store import data
from dashboard.store.connection import connect, transaction
from dashboard.timezones import zone_named

pytestmark = pytest.mark.slow  # hypothesis-heavy

ACCOUNT = "acc"
START = datetime(2026, 3, 2, 9, 0)
UTC = zone_named("UTC")

MESSAGES = st.lists(
    st.tuples(st.booleans(), st.one_of(st.none(), st.integers(0, 600)), st.sampled_from(("привет", "да", ""))),
    max_size=6,
)
# A few clients and starts (none included: Newton may send a session without one), so later syncs meet earlier ones.
KEYS = st.tuples(st.sampled_from(("a", "b", "c")), st.sampled_from((None, 0, 1)))
SYNCS = st.lists(st.dictionaries(KEYS, MESSAGES, min_size=1, max_size=5), min_size=1, max_size=4)


def session(key: tuple[str, int | None], said: list[tuple[bool, int | None, str]]) -> ChatSession:
    """Messages are (from the visitor?, seconds after START or None, text)."""
    client, hour = key
    start = START + timedelta(hours=hour) if hour is not None else None
    messages = tuple(ChatMessage(who, text, START + timedelta(seconds=at) if at is not None else None)
                     for who, at, text in said)  # fmt: skip
    return ChatSession(client, start, "Анна", "127.0.0.1", messages)


@dataclass(frozen=True)
class Expected:
    """One session's values as docs/metrics.md defines them."""

    visitor: int
    operator: int
    first_question: datetime | None
    first_reply: datetime | None
    unanswered: bool
    first_response: float | None


def expected(chat: ChatSession) -> Expected:
    said = list(chat.messages)
    question = next((i for i, m in enumerate(said) if m.from_client), None)
    reply = None
    if question is not None:  # only an operator message after the visitor's first one answers
        reply = next((i for i, m in enumerate(said) if i > question and not m.from_client), None)
    asked = said[question].time if question is not None else None
    answered = said[reply].time if reply is not None else None
    return Expected(
        visitor=sum(m.from_client for m in said),
        operator=sum(not m.from_client for m in said),
        first_question=asked,
        first_reply=answered,
        unanswered=question is not None and reply is None,
        first_response=(answered - asked).total_seconds() if asked and answered else None,
    )


@settings(max_examples=40, deadline=None)
@given(syncs=SYNCS)
def test_stored_chat_values_and_the_chat_numbers_follow_the_definitions(
    syncs: list[dict[tuple[str, int | None], list[tuple[bool, int | None, str]]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path: Path = tmp_path_factory.mktemp("chats") / "cache.duckdb"
    latest: dict[tuple[str, datetime | None], ChatSession] = {}
    for turn, batch in enumerate(syncs):
        sessions = [session(key, said) for key, said in batch.items()]
        with transaction(path) as writing:
            data.upsert_chats(writing, ACCOUNT, [(s, "w1") for s in sessions], START + timedelta(days=turn))
        latest |= {(s.client_id, s.start_time): s for s in sessions}
    wanted = {key: expected(chat) for key, chat in latest.items()}

    with connect(path) as con:
        rows = con.execute(
            """SELECT client_id, start_time, visitor_messages, operator_messages, first_visitor_at, first_reply_at,
                      unanswered FROM chat_sessions"""
        ).fetchall()
        listed = chats.sessions(con, ACCOUNT, Filters(), UTC).sessions
        summary = Metrics(con, ACCOUNT).chat_summary(Filters())
    stored = {(row[0], row[1]): Expected(row[2], row[3], row[4], row[5], row[6], first_response=None) for row in rows}
    assert len(rows) == len(stored)  # one row per session, however often it was synced
    assert stored == {key: Expected(**{**vars(e), "first_response": None}) for key, e in wanted.items()}
    shown = {(r["client_id"], r["start_time_local"]): r for r in listed.iter_rows(named=True)}
    assert {key: (r["messages"], r["unanswered"], r["first_response_seconds"]) for key, r in shown.items()} == {
        key: (e.visitor + e.operator, e.unanswered, e.first_response) for key, e in wanted.items()
    }
    times = [e.first_response for e in wanted.values() if e.first_response is not None]
    assert summary["sessions"] == len(wanted)
    assert summary["messages"] == sum(e.visitor + e.operator for e in wanted.values())
    assert summary["unanswered_sessions"] == sum(e.unanswered for e in wanted.values())
    assert summary["first_response_median"] == (statistics.median(times) if times else None)
