"""The Lost leads page's list without Streamlit: which callers each choice shows, the call back's outcome in words,
marks only by editors, recordings only from http(s)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from dashboard import lost_list
from dashboard.access import Person, Role
from dashboard.errors import InvalidInput, NotAllowed
from dashboard.store import LoggedWrite, Store
from dashboard.store.connection import connect
from dashboard.timezones import zone_named

MOSCOW = zone_named("Europe/Moscow")
T0 = datetime(2026, 11, 20, 9, 0)  # naive UTC


def callers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "phone": ["+79161234567", "+79035382177", "+79990000000", "<b>12</b>"],
            "reached": [False, True, False, False],
            "mark": [None, None, "spam", None],
            "last_widget_id": ["w1", "w2", "w1", None],
            "last_department_id": [None, "d1", None, None],
            "last_recording": ["https://rec.example/1.mp3", None, "javascript:alert(1)", None],
            "last_missed_at": [T0] * 4,
            "marked_by": [None, None, "boss", None],
            "marked_at": [None, None, T0, None],
        }
    )


@pytest.mark.parametrize(
    ("choice", "phones"),
    [
        ("lost", ["+79161234567", "<b>12</b>"]),
        ("reached", ["+79035382177"]),
        ("marked", ["+79990000000"]),
        ("all", ["+79161234567", "+79035382177", "+79990000000", "<b>12</b>"]),
    ],
)
def test_each_caller_is_shown_under_one_choice_and_all(choice: str, phones: list[str]) -> None:
    assert lost_list.shown(callers(), choice)["phone"].to_list() == phones


def test_the_search_looks_for_the_digits_however_typed() -> None:
    assert lost_list.shown(callers(), "all", "538-21")["phone"].to_list() == ["+79035382177"]
    assert lost_list.shown(callers(), "lost", " (916) ")["phone"].to_list() == ["+79161234567"]


def test_an_unknown_choice_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="show"):
        lost_list.shown(callers(), "everyone")


def test_a_call_back_outcome_reads_in_words_with_when_and_who() -> None:
    sent = LoggedWrite("w", T0, "anna", "call_back", {}, "ok", None)
    cut_short = LoggedWrite("w", T0, None, "call_back", {}, "sending", None)
    assert lost_list.call_back_said(sent, T0, MOSCOW, "en") == "sent, 20.11 12:00, anna"
    assert lost_list.call_back_said(sent, T0, MOSCOW, "ru") == "отправлено, 20.11 12:00, anna"
    assert (lost_list.call_back_said(cut_short, T0 + timedelta(minutes=3), MOSCOW, "en") or "").startswith(
        "outcome unknown"
    )
    assert lost_list.call_back_said(None, T0, MOSCOW, "en") is None


def test_only_an_http_recording_is_playable() -> None:
    found = lost_list.callers_of(callers())
    assert found["+79161234567"].recording_playable
    assert not found["+79990000000"].recording_playable  # a javascript: address is shown as text, never linked
    assert found["+79035382177"].department_id == "d1"
    assert found["+79990000000"].marked_by == "boss"


def test_a_viewer_cannot_mark_and_an_editor_can(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    with pytest.raises(NotAllowed):
        lost_list.mark(store, "acc", Person("ann", Role.VIEWER), "+79161234567", "spam", T0)
    lost_list.mark(store, "acc", Person("boss", Role.EDITOR), "+79161234567", "not_a_lead", T0)
    with connect(store.location) as con:
        assert con.execute("SELECT phone, kind, marked_by, marked_at FROM lead_marks").fetchall() == [
            ("+79161234567", "not_a_lead", "boss", T0)
        ]
    lost_list.mark(store, "acc", Person("boss", Role.EDITOR), "+79161234567", None, T0)
    with connect(store.location) as con:
        assert con.execute("SELECT count(*) FROM lead_marks").fetchall() == [(0,)]
