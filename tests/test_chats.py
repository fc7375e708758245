"""The Chats page's data: which sessions a marketer sees, in what order, and what a transcript says."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dashboard import chats
from dashboard.api import ChatMessage, ChatSession, Widget
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.results import ResultCache, ResultScope
from dashboard.store import data, schema, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.store.schema import forget_prepared

ACCOUNT = "acc"
MOSCOW = ZoneInfo("Europe/Moscow")
HOSTILE = "[x](javascript:alert(1))"


def chat(client: str, start: str, operator: str | None, *messages: tuple[bool, str, str | None]) -> ChatSession:
    """A session starting at `start` (UTC); messages are (from the visitor?, text, UTC time)."""
    said = tuple(ChatMessage(who, text, datetime.fromisoformat(at) if at else None) for who, text, at in messages)
    return ChatSession(client, datetime.fromisoformat(start), operator, "127.0.0.1", said)


SESSIONS = [
    # 2 March, 23:30 UTC is already 3 March in Moscow.
    (chat("late", "2026-03-02 23:30:00", "Анна",
          (True, "Здравствуйте", "2026-03-02 23:30:00"), (False, "Добрый вечер!", "2026-03-02 23:30:40")), "w1"),
    (chat("early", "2026-03-02 06:00:00", "Игорь",
          (False, "Чем помочь?", "2026-03-02 06:00:00"),  # a greeting does not answer anything
          (True, HOSTILE, "2026-03-02 06:00:05"),
          (True, "<b>жирный</b>", "2026-03-02 06:00:09"),
          (False, "Сейчас посмотрю", "2026-03-02 06:01:05")), "w1"),
    (chat("noon", "2026-03-02 09:00:00", None, (True, "Есть кто?", "2026-03-02 09:00:00")), "w2"),
    (chat("gone", "2026-03-01 09:00:00", "Анна", (True, "Вчерашний вопрос", None)), "w2"),
]  # fmt: skip


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "chats.duckdb"
    with transaction(path) as writing:
        widgets = [Widget("w1", "Основной сайт", ()), Widget("w2", "Лендинг", ())]
        data.replace_widgets(writing, ACCOUNT, widgets, utc_now())
        data.upsert_chats(writing, ACCOUNT, SESSIONS, utc_now())
    with connect(path) as opened:
        yield opened


def on(first: int, last: int | None = None, **chosen: tuple[str, ...]) -> Filters:
    return Filters(period=Period(date(2026, 3, first), date(2026, 3, last or first)), chosen=chosen)


def clients(listed: chats.SessionList) -> list[str]:
    return list(listed.sessions["client_id"])


def test_sessions_of_a_local_day_newest_first(con: duckdb.DuckDBPyConnection) -> None:
    assert clients(chats.sessions(con, ACCOUNT, on(2), MOSCOW)) == ["noon", "early"]
    assert clients(chats.sessions(con, ACCOUNT, on(3), MOSCOW)) == ["late"]  # 23:30 UTC is 02:30 in Moscow
    everything = chats.sessions(con, ACCOUNT, Filters(), MOSCOW)
    assert clients(everything) == ["late", "noon", "early", "gone"] and everything.total == 4


def test_a_session_shows_local_start_operator_widget_and_its_first_response(con: duckdb.DuckDBPyConnection) -> None:
    rows = {r["client_id"]: r for r in chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW).sessions.iter_rows(named=True)}
    early = rows["early"]
    assert early["start_time_local"] == datetime(2026, 3, 2, 9, 0, 0)
    assert (early["operator"], early["widget"], early["messages"]) == ("Игорь", "Основной сайт", 4)
    assert early["first_response_seconds"] == 60 and early["unanswered"] is False  # from the question, not the greeting
    assert rows["noon"]["operator"] == "(none)" and rows["noon"]["unanswered"] is True
    assert rows["noon"]["first_response_seconds"] is None
    assert rows["gone"]["unanswered"] is True


def test_the_list_agrees_with_the_chat_metrics(con: duckdb.DuckDBPyConnection) -> None:
    frame = chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW).sessions
    summary = Metrics(con, ACCOUNT, Definitions(zone=MOSCOW)).chat_summary(on(1, 3))
    assert summary["sessions"] == frame.height
    assert summary["messages"] == frame["messages"].sum()
    assert summary["unanswered_sessions"] == frame["unanswered"].sum()
    assert summary["first_response_median"] == frame["first_response_seconds"].median()


def test_the_widget_filter_uses_widget_names(con: duckdb.DuckDBPyConnection) -> None:
    assert clients(chats.sessions(con, ACCOUNT, on(1, 3, widget=("Лендинг",)), MOSCOW)) == ["noon", "gone"]
    assert clients(chats.sessions(con, ACCOUNT, on(1, 3, widget=("Нет такого",)), MOSCOW)) == []


def test_a_limit_shows_the_newest_and_still_counts_them_all(con: duckdb.DuckDBPyConnection) -> None:
    listed = chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW, limit=2)
    assert clients(listed) == ["late", "noon"] and listed.total == 4


def test_searching_finds_the_chats_whose_messages_hold_the_text(con: duckdb.DuckDBPyConnection) -> None:
    assert clients(chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW, containing="javascript:ALERT")) == ["early"]
    assert clients(chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW, containing="  ")) == ["late", "noon", "early", "gone"]
    assert chats.sessions(con, ACCOUNT, on(1, 3), MOSCOW, containing="%").total == 0  # no wildcards


def test_a_transcript_lists_messages_in_order_with_who_and_local_time(con: duckdb.DuckDBPyConnection) -> None:
    (session,) = chats.sessions(con, ACCOUNT, on(2), MOSCOW, containing=HOSTILE).sessions["session"]
    messages = list(chats.transcript(con, ACCOUNT, session, MOSCOW).iter_rows())
    assert messages == [
        (0, datetime(2026, 3, 2, 9, 0, 0), False, "Чем помочь?"),
        (1, datetime(2026, 3, 2, 9, 0, 5), True, HOSTILE),
        (2, datetime(2026, 3, 2, 9, 0, 9), True, "<b>жирный</b>"),
        (3, datetime(2026, 3, 2, 9, 1, 5), False, "Сейчас посмотрю"),
    ]
    (gone,) = chats.sessions(con, ACCOUNT, on(1), MOSCOW).sessions["session"]
    assert list(chats.transcript(con, ACCOUNT, gone, MOSCOW).iter_rows()) == [(0, None, True, "Вчерашний вопрос")]
    assert chats.transcript(con, ACCOUNT, "nobody|", MOSCOW).is_empty()


def test_another_accounts_chats_stay_out(con: duckdb.DuckDBPyConnection) -> None:
    assert chats.sessions(con, "other", Filters(), MOSCOW).total == 0
    (session,) = chats.sessions(con, ACCOUNT, on(3), MOSCOW).sessions["session"]
    assert chats.transcript(con, "other", session, MOSCOW).is_empty()


def test_the_export_is_a_row_per_message_of_the_listed_chats(con: duckdb.DuckDBPyConnection) -> None:
    data = chats.export_csv(con, ACCOUNT, on(2, 3), MOSCOW)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads Cyrillic only with the BOM
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["clientId"], r["text"]) for r in rows][:2] == [("early", "Чем помочь?"), ("early", HOSTILE)]
    assert len(rows) == 7
    landing = chats.export_csv(con, ACCOUNT, on(1, 3, widget=("Лендинг",)), MOSCOW)
    assert {r["clientId"] for r in csv.DictReader(io.StringIO(landing.decode("utf-8-sig")))} == {"noon", "gone"}
    found = chats.export_csv(con, ACCOUNT, on(1, 3), MOSCOW, containing="жирный")
    assert {r["clientId"] for r in csv.DictReader(io.StringIO(found.decode("utf-8-sig")))} == {"early"}


def _stored(path: Path) -> dict[str, tuple[object, ...]]:
    """What the cache keeps per session beside its messages, by client id."""
    with connect(path) as opened:
        rows = opened.execute(
            "SELECT client_id, visitor_messages, operator_messages, first_visitor_at, first_reply_at, unanswered,"
            " synced_at FROM chat_sessions"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_each_session_keeps_its_first_question_and_the_first_reply_after_it(tmp_path: Path) -> None:
    path = tmp_path / "chats.duckdb"
    at = datetime(2026, 3, 3, 8, 0)
    with transaction(path) as writing:
        data.upsert_chats(writing, ACCOUNT, SESSIONS, at)
    assert _stored(path) == {
        "late": (1, 1, datetime(2026, 3, 2, 23, 30), datetime(2026, 3, 2, 23, 30, 40), False, at),
        # The greeting before the question is no reply.
        "early": (2, 2, datetime(2026, 3, 2, 6, 0, 5), datetime(2026, 3, 2, 6, 1, 5), False, at),
        "noon": (1, 0, datetime(2026, 3, 2, 9, 0), None, True, at),
        "gone": (1, 0, None, None, True, at),
    }


def test_a_cache_from_before_stored_chat_values_works_them_out_once(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    for column in ("visitor_messages", "operator_messages", "first_visitor_at", "first_reply_at", "unanswered"):
        con.execute(f"ALTER TABLE chat_sessions DROP COLUMN {column}")
    con.execute("DELETE FROM meta WHERE key = 'chat_rules'")
    con.close()
    forget_prepared(tmp_path / "chats.duckdb")  # as the new release opening a cache the old one wrote
    with connect(tmp_path / "chats.duckdb") as again:
        rows = {
            r["client_id"]: r for r in chats.sessions(again, ACCOUNT, on(1, 3), MOSCOW).sessions.iter_rows(named=True)
        }
        summary = Metrics(again, ACCOUNT, Definitions(zone=MOSCOW)).chat_summary(on(1, 3))
    assert {c: (r["messages"], r["first_response_seconds"], r["unanswered"]) for c, r in rows.items()} == {
        "late": (2, 40, False), "early": (4, 60, False), "noon": (1, None, True), "gone": (1, None, True)
    }  # fmt: skip
    assert (summary["sessions"], summary["messages"], summary["unanswered_sessions"]) == (4, 8, 2)


def test_a_resync_rewrites_only_the_sessions_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "chats.duckdb"
    first, second, third = datetime(2026, 3, 3, 8, 0), datetime(2026, 3, 3, 9, 0), datetime(2026, 3, 3, 10, 0)
    with transaction(path) as writing:
        data.upsert_chats(writing, ACCOUNT, SESSIONS, first)
        version = schema.data_version(writing)
    question, reply = (True, "Есть кто?", "2026-03-02 09:00:00"), (False, "Да, слушаю", "2026-03-02 09:02:00")
    answered = chat("noon", "2026-03-02 09:00:00", "Анна", question, reply)
    again = [*SESSIONS[:2], (answered, "w2"), SESSIONS[3]]
    with transaction(path) as writing:
        assert data.upsert_chats(writing, ACCOUNT, again, second) == 4  # as the sync counts them: all it saw
        assert schema.data_version(writing) != version
        version = schema.data_version(writing)
    kept = _stored(path)
    assert {client: row[-1] for client, row in kept.items()} == {
        "late": first, "early": first, "noon": second, "gone": first
    }  # fmt: skip
    assert kept["noon"][:-1] == (1, 1, datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 2, 9, 2), False)
    with transaction(path) as writing:  # the same days once more: nothing to write, the pages' answers stand
        assert data.upsert_chats(writing, ACCOUNT, again, third) == 4
        assert schema.data_version(writing) == version
    assert _stored(path) == kept
    with connect(path) as opened:
        (noon,) = chats.sessions(opened, ACCOUNT, on(2), MOSCOW, containing="слушаю").sessions.iter_rows(named=True)
        assert opened.execute("SELECT count(*) FROM chat_messages").fetchall() == [(9,)]
    assert (noon["operator"], noon["first_response_seconds"], noon["unanswered"]) == ("Анна", 120, False)


def test_the_headline_and_the_operators_are_asked_of_duckdb_once(con: duckdb.DuckDBPyConnection) -> None:
    results = ResultCache()
    metrics = Metrics(con, ACCOUNT, Definitions(zone=MOSCOW), scope=ResultScope(results, ("cache", "v1")))
    summary, operators = metrics.chat_numbers(on(1, 3))
    assert results.misses == 1
    assert (summary["sessions"], summary["messages"], summary["unanswered_sessions"]) == (4, 8, 2)
    assert summary["first_response_median"] == 50  # of 40 s and 60 s
    assert operators.select("operator", "sessions", "unanswered_sessions").rows() == [
        ("Анна", 2, 1), ("(none)", 1, 1), ("Игорь", 1, 0)
    ]  # fmt: skip
    assert metrics.chat_summary(on(1, 3)) == summary and metrics.chat_operators(on(1, 3)).equals(operators)
    assert results.misses == 1
