"""Chat answers read a column at a time give exactly what reading each value on its own gave."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.api import ChatMessage, ChatSession
from dashboard.api.models import Unreadable, moments, parse_chats, text_or_none, texts, timestamp_or_none
from dashboard.store.data import chat_frames

ODD_VALUES: list[object] = [
    None, "", " ", "2026-03-02 07:00:01", "2026-03-02", " 2026-03-02 07:00:01 ", "2026-03-02T07:00:01",
    "2026-03-02 07:00:01\n", "2026-02-30 07:00:01", "2026-03-02 24:00:00", "2026-03-02 23:59:60",
    "0000-01-01 00:00:00", "9999-12-31 23:59:59", "1999-12-31 23:59:59", "2100-01-01 00:00:00",
    "2026-3-2 7:00:01", "٢٠٢٦-03-02 07:00:01", "2026-W10-1", "20260302", "2026-03-02 07:00", 20260302, 1.5, True,
    {"at": "2026-03-02"}, ["2026-03-02"], Unreadable("2026-03-02 07:00:01\udc80"), "=HYPERLINK(\"x\")",
]  # fmt: skip


@pytest.mark.parametrize("copies", [1, 100])  # a small answer, and one large enough to be read by polars
def test_moments_read_every_value_as_one_at_a_time(copies: int) -> None:
    values = ODD_VALUES * copies
    assert moments(values).to_list() == [timestamp_or_none(value) for value in values]


@pytest.mark.parametrize("values", [ODD_VALUES, ["a", None, "", "ж"], []])
def test_texts_read_every_value_as_one_at_a_time(values: list[object]) -> None:
    assert texts(values).to_list() == [text_or_none(value) for value in values]


def test_parsed_messages_store_as_the_same_messages_made_by_hand() -> None:
    answer = [
        {"clientId": "c1", "startTime": "2026-03-02 07:00:00", "operator": "Anna", "ip": "1.2.3.4", "messages": [
            {"from": "client", "text": "Здравствуйте", "time": "2026-03-02 07:00:01"},
            {"from": 0, "text": 42, "time": " 2026-03-02 07:00:20"},
        ]},
        {"clientId": 7, "startTime": "", "messages": []},
        {"clientId": "c3", "startTime": "2026-03-02", "messages": {"from": "1", "text": None, "time": None}},
    ]  # fmt: skip
    parsed = parse_chats(answer)
    by_hand = [
        ChatSession("c1", datetime(2026, 3, 2, 7), "Anna", "1.2.3.4", (
            ChatMessage(True, "Здравствуйте", datetime(2026, 3, 2, 7, 0, 1)),
            ChatMessage(False, "42", datetime(2026, 3, 2, 7, 0, 20)),
        )),
        ChatSession("7", None, None, None, ()),
        ChatSession("c3", datetime(2026, 3, 2), None, None, (ChatMessage(True, "", None),)),
    ]  # fmt: skip
    assert parsed == by_hand
    assert [list(session.messages) for session in parsed] == [list(session.messages) for session in by_hand]
    assert parsed[0].messages[-1] == by_hand[0].messages[1]
    mixed = [(parsed[0], "w1"), (by_hand[1], None), (parsed[2], "w2")]
    for got, expected in zip(
        chat_frames(mixed), chat_frames([(by_hand[0], "w1"), (parsed[1], None), (by_hand[2], "w2")]), strict=True
    ):
        assert got.equals(expected)
