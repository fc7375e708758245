"""The Chats page (AppTest): headline numbers, operators, the sessions, a transcript in plain text, the export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import AlertBase, Dataframe, HeadingBase, Markdown

from dashboard.demo.account import HOSTILE_CHAT_TEXT
from tests.support.downloads import Made, made_when_clicked

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

PAGE = "app_pages/chats.py"


@pytest.fixture
def page(app: AppTest) -> AppTest:
    run(app.switch_page(PAGE))
    return app


def run(step: Any) -> AppTest:
    """Run the app after a page switch or a widget change, and check it did not fail."""
    test: AppTest = step.run()
    assert not test.exception, test.exception
    return test


def metrics_of(test: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in test.metric}


def table_with(test: AppTest, column: str) -> Dataframe:
    (table,) = [d for d in test.dataframe if column in d.value.columns]
    return table


def transcript_of(test: AppTest) -> list[tuple[str, str]]:
    """(who, text) of each message shown, who as the chat bubble names it."""
    return [(bubble.name, bubble.text[0].value) for bubble in test.chat_message]


def show_the_hostile_chat(test: AppTest) -> None:
    run(test.selectbox(key="preset").set_value("last_90_days"))
    run(test.text_input(key="chat_search").set_value(HOSTILE_CHAT_TEXT))
    sessions = test.selectbox(key="chat_session")
    assert len(sessions.options) >= 1, "the demo's hostile chat is within the last 90 days"
    run(sessions.select_index(0))


def test_headline_numbers_and_operators(page: AppTest) -> None:
    numbers = metrics_of(page)
    assert list(numbers) == ["Sessions", "Messages", "Unanswered sessions", "Median first response"]
    assert int(numbers["Sessions"].replace(",", "")) > 100
    assert numbers["Median first response"].endswith("s")
    operators = table_with(page, "first_response_p90").value
    assert len(operators) > 1 and "(none)" in list(operators["operator"])
    assert "chart_first_response" in {getattr(node, "key", None) for node in page.main}


def test_the_sessions_list_is_newest_first(page: AppTest) -> None:
    sessions = table_with(page, "client_id").value
    started = list(sessions["start_time_local"])
    assert started == sorted(started, reverse=True) and len(started) <= 500
    assert any(c.value.startswith("The newest 500 of") for c in page.caption)


def test_choosing_a_session_shows_its_transcript(page: AppTest) -> None:
    box = page.selectbox(key="chat_session")
    first, second = box.options[:2]
    run(box.select_index(1))
    assert page.selectbox(key="chat_session").index == 1 and first != second
    said = transcript_of(page)
    assert said and {who for who, _ in said} <= {"Visitor", "Operator"}


def test_a_visitors_markdown_link_stays_literal_text(page: AppTest) -> None:
    show_the_hostile_chat(page)
    assert not [node.value for node in _walk(page._tree) if isinstance(node, Rendered) and "javascript:" in node.value]
    assert HOSTILE_CHAT_TEXT in [t.value for t in page.text]
    assert ("Visitor", HOSTILE_CHAT_TEXT) in transcript_of(page)


Rendered = (Markdown, HeadingBase, AlertBase)  # everything Streamlit renders as Markdown


def _walk(node: Any) -> Iterator[Any]:
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else children:
        yield child
        yield from _walk(child)


def test_russian_labels(page: AppTest) -> None:
    run(page.radio(key="lang").set_value("ru"))
    assert list(metrics_of(page)) == ["Чаты", "Сообщения", "Чаты без ответа", "Первый ответ (медиана)"]
    assert {who for who, _ in transcript_of(page)} <= {"Посетитель", "Оператор"}
    assert page.selectbox(key="chat_session").label == "Чат"
    assert {b.label for b in page.download_button} >= {"Как на экране (CSV)"}
    # The group of chats no operator took has no response time: its empty cells read «(не задано)», not "None".
    operators = table_with(page, "first_response_p90")
    assert operators.value["first_response_p90"].isna().any() and operators.proto.placeholder == "(не задано)"


def test_the_download_is_offered_for_the_chats_shown(page: AppTest) -> None:
    # Built when pressed, so its bytes are checked in the browser (tests/test_browser.py) and in tests/test_chats.py.
    (button,) = [b for b in page.get("download_button") if b.key == "chat_download"]
    assert button.proto.label == "Download these chats (CSV, a row per message)"


@pytest.mark.parametrize(("lang", "separator"), [("en", ","), ("ru", ";")])
def test_the_session_list_downloads_as_on_screen(on_click: Made, page: AppTest, lang: str, separator: str) -> None:
    run(page.radio(key="lang").set_value(lang))
    table = table_with(page, "client_id")
    labels = {name: column["label"] for name, column in json.loads(table.proto.columns).items() if "label" in column}
    cells = dataframe_util.convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
    started = labels["start_time_local"]
    screen = made_when_clicked(on_click, "chat-sessions-as-on-screen.csv")  # made when clicked: a long list
    header, *rows = csv.reader(io.StringIO(screen, newline=""), delimiter=separator)
    assert started in header
    shown = [name for name in cells.columns if name in labels and name != "unanswered"]  # a checkbox is drawn
    assert header == [labels[name] for name in cells.columns if name in labels]
    assert [[row[header.index(labels[name])] for name in shown] for row in rows] == cells[shown].values.tolist()
    flags = [row[header.index(labels["unanswered"])] for row in rows]
    yes, no = {"en": ("yes", "no"), "ru": ("да", "нет")}[lang]
    assert flags == [yes if flag else no for flag in table.value["unanswered"]]


def test_a_search_that_finds_nothing_says_so(page: AppTest) -> None:
    run(page.text_input(key="chat_search").set_value("no chat says this 1f3a9c"))
    assert [i.value for i in page.main.info] == ["No chats in this period contain that text."]
    assert not page.get("chat_message")


def test_an_empty_period_says_so_in_the_language(page: AppTest) -> None:
    run(page.selectbox(key="preset").set_value("custom"))
    run(page.date_input(key="custom_period").set_value((date(2020, 1, 1), date(2020, 1, 31))))
    assert [i.value for i in page.main.info] == ["No chats in this period. Try a longer period or fewer widgets."]
    assert not page.metric and not page.dataframe
    run(page.radio(key="lang").set_value("ru"))
    assert next(i.value for i in page.main.info).startswith("За этот период чатов нет")  # noqa: RUF001
