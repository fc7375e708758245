"""Records typed in bulk: a sync types the answers of a window together, and each record must come out exactly as
it would typed alone, hostile values and all."""

from __future__ import annotations

import json

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.api.models import parse_json
from dashboard.api.records import RECORD_SCHEMA, parse_records, read_records, typed_records
from dashboard.errors import UnexpectedAnswer

PLAIN = {"records": [{"id": "1", "requestDate": "2026-11-01 10:00:00", "leadPrice": "500", "callAttempt": 2}]}
# Values that do not read (kept in `unparsed`), forms only the slower reader knows, an unknown key (kept in
# `extra`) and a nested value that sends the whole answer through the exact Python reader.
ODD = {
    "records": [
        {"id": "2", "requestDate": "2026-11-01T11:00:00", "leadPrice": "12,5", "newKey": {"a": 1}},
        {"id": "3", "requestDate": "вчера", "callDate": "9999-12-31 23:59:59", "callAttempt": "93.0"},
        {"id": "4", "requestDate": "2026-11-02", "comment": ["a", "list"], "callDurationClient": 10**13},
    ]
}
# A lone surrogate (no text can hold it) in a known field and in an unknown one: that value is lost, kept as sent.
UNREADABLE = b'{"records": [{"id": "5", "comment": "ok"}, {"id": "6", "comment": "\\udc80", "odd": "\\ud800x"}]}'
EMPTY: dict[str, object] = {"records": []}


def answers() -> list[dict[str, object]]:
    return [PLAIN, EMPTY, ODD, parse_json(UNREADABLE), {"records": {"7": {"id": "7", "leadPrice": " 7 "}}}]


def test_answers_typed_together_are_each_answer_typed_alone() -> None:
    together = typed_records([read_records(answer) for answer in answers()])
    alone = pl.concat([parse_records(answer) for answer in answers()])
    assert_frame_equal(together, alone)
    assert together["id"].to_list() == ["1", "2", "3", "4", "5", "6", "7"]
    unparsed = {row["id"]: json.loads(row["unparsed"]) for row in together.iter_rows(named=True) if row["unparsed"]}
    assert unparsed == {
        "2": {"leadPrice": "12,5"},
        "3": {"requestDate": "вчера", "callDate": "9999-12-31 23:59:59"},
        "4": {"callDurationClient": str(10**13)},
        "6": {"comment": "\\udc80"},
    }
    assert json.loads(together["extra"][1]) == {"newKey": {"a": 1}}
    assert json.loads(together["extra"][5]) == {"odd": "\\ud800x"}
    assert together["callAttempt"].to_list()[:3] == [2, None, 93]


@pytest.mark.parametrize("parts", [[], [EMPTY], [EMPTY, EMPTY]])
def test_no_records_are_an_empty_typed_frame(parts: list[dict[str, object]]) -> None:
    frame = typed_records([read_records(answer) for answer in parts])
    assert frame.is_empty() and frame.schema == pl.Schema(RECORD_SCHEMA)


@pytest.mark.parametrize(
    "answer", [{}, {"records": "text"}, {"records": [{"id": "1"}, 5]}], ids=["no records", "text", "non-object"]
)
def test_an_answer_without_a_list_of_records_is_refused_before_typing(answer: dict[str, object]) -> None:
    with pytest.raises(UnexpectedAnswer):
        read_records(answer)


def test_the_count_before_typing_is_the_records_the_answer_held() -> None:
    """The sync splits a window by this count, before anything is typed."""
    assert [read_records(answer).height for answer in answers()] == [1, 0, 3, 2, 1]
    assert read_records(orjson.loads(orjson.dumps(ODD))).height == parse_records(ODD).height
