"""A link reproduces the whole view (AppTest): each page's own state in the URL and back, values a page does not
take, the call filters hidden where they do not apply, and saved views opened from the sidebar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Element

from dashboard.ui.links import READ_NEXT_RUN
from tests.conftest import ENTRY
from tests.test_access import EDITOR_PASSWORD, PASSWORDS, VIEWER_PASSWORD, _app, _enter

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


def ran(test: AppTest) -> AppTest:
    test.run()
    assert not test.exception, test.exception
    return test


def opened(link: dict[str, Any], page: str) -> AppTest:
    """A new session opened with a link to `page` (its script) carrying `link` as its query."""
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.query_params.update(link)
    if page in ("app_pages/lead_prices.py", "app_pages/lost_leads.py"):
        # Before a first run AppTest finds a page by its file's name, and these pages' paths are lead-prices and
        # lost-leads: the link is read the way a saved view's is, on arrival.
        ran(test)
        test.query_params.clear()
        test.query_params.update(link)
        test.session_state[READ_NEXT_RUN] = True
    test.switch_page(page)
    return ran(test)


def url(test: AppTest) -> dict[str, list[str]]:
    return {name: [value] if isinstance(value, str) else list(value) for name, value in test.query_params.items()}


def _chats_second_session(test: AppTest) -> None:
    test.selectbox(key="chat_session").select_index(1)


# page script → (what a person changes on it, the widget keys that must come back from the link)
PAGE_STATES: dict[str, tuple[Callable[[AppTest], object], tuple[str, ...]]] = {
    "app_pages/attribution.py": (
        lambda t: (t.selectbox(key="attribution_by").set_value("utm_source"),
                   t.selectbox(key="attribution_then").set_value("type"),
                   t.radio(key="attribution_count").set_value("first_touch")),
        ("attribution_by", "attribution_then", "attribution_count"),
    ),
    "app_pages/calls.py": (
        lambda t: (t.text_input(key="calls_search").input("Москва"), t.selectbox(key="calls_sort").set_value("oldest")),
        ("calls_search", "calls_sort"),
    ),
    "app_pages/chats.py": (_chats_second_session, ("chat_session",)),
    "app_pages/lead_prices.py": (lambda t: t.radio(key="prices_tab").set_value("history"), ("prices_tab",)),
    "app_pages/lost_leads.py": (
        lambda t: (t.radio(key="lost_show").set_value("all"), t.text_input(key="lost_search").input("9"),
                   t.radio(key="lost_speed_by").set_value("widget")),
        ("lost_show", "lost_search", "lost_speed_by"),
    ),
}  # fmt: skip


def widget_value(test: AppTest, key: str) -> Any:
    (found,) = [
        w
        for kind in ("selectbox", "text_input", "radio")
        for w in test.get(kind)
        if isinstance(w, Element) and w.key == key
    ]
    return found.value


@pytest.mark.parametrize("page", list(PAGE_STATES))
def test_a_pages_state_goes_into_its_link_and_comes_back_from_it(app_env: Path, page: str) -> None:
    change, keys = PAGE_STATES[page]
    test = ran(AppTest.from_file(ENTRY, default_timeout=60))
    test.selectbox(key="preset").set_value("last_90_days")
    ran(test.switch_page(page))
    default = {key: widget_value(test, key) for key in keys}
    change(test)
    ran(test)
    chosen = {key: widget_value(test, key) for key in keys}
    assert chosen != default
    link = url(test)

    again = opened(link, page)  # another person, another session
    assert {key: widget_value(again, key) for key in keys} == chosen
    assert url(again) == link


def test_a_link_names_only_its_own_pages_values(app_env: Path) -> None:
    test = opened({"by": "utm_source", "then": "type"}, "app_pages/attribution.py")
    assert url(test)["by"] == ["utm_source"]
    ran(test.switch_page("app_pages/calls.py"))
    assert "by" not in url(test) and "then" not in url(test)
    ran(test.switch_page("app_pages/attribution.py"))  # and the breakdown is still there when coming back
    assert widget_value(test, "attribution_by") == "utm_source"
    assert url(test)["then"] == ["type"]


@pytest.mark.parametrize(
    ("page", "link", "expected"),
    [
        ("app_pages/attribution.py", {"by": "<script>", "then": "type"},
         {"attribution_by": "channel", "attribution_then": "type"}),
        ("app_pages/attribution.py", {"by": "type", "then": "[x](javascript:alert(1))"},
         {"attribution_by": "type", "attribution_then": None}),
        ("app_pages/calls.py", {"sort": "DROP TABLE records", "q": "x" * 500}, {"calls_sort": "newest",
                                                                                  "calls_search": ""}),
        ("app_pages/lead_prices.py", {"tab": "secrets"}, {"prices_tab": "upload"}),
        ("app_pages/lost_leads.py", {"show": "<script>", "by": "javascript:alert(1)"},
         {"lost_show": "lost", "lost_speed_by": "department"}),
    ],
)  # fmt: skip
def test_values_a_page_does_not_take_fall_back_to_its_defaults(
    app_env: Path, page: str, link: dict[str, str], expected: dict[str, Any]
) -> None:
    test = opened({"preset": "last_90_days", **link}, page)
    assert {key: widget_value(test, key) for key in expected} == expected
    taken = {name for name, value in link.items() if value in expected.values()}
    assert set(link) & set(url(test)) == taken  # the link it now shows is the view it shows


def test_a_link_to_a_chat_no_longer_listed_shows_the_newest(app_env: Path) -> None:
    link = {"preset": "last_90_days", "q": "javascript", "chat": "nobody|2001-01-01T00:00:00.000000"}
    test = opened(link, "app_pages/chats.py")
    assert widget_value(test, "chat_search") == "javascript"
    assert test.selectbox(key="chat_session").index == 0  # the newest session found
    assert url(test)["chat"] != [link["chat"]]  # the link names the chat shown


def test_the_calls_sort_orders_the_listing(app_env: Path) -> None:
    test = opened({"preset": "last_90_days", "sort": "longest_talk"}, "app_pages/calls.py")
    (table,) = [e for e in test.dataframe if "talk_seconds" in e.value.columns]
    talk = [t for t in table.value["talk_seconds"].tolist() if t == t and t is not None]
    assert talk == sorted(talk, reverse=True) and talk[0] > talk[-1]


@pytest.mark.parametrize("page", ["app_pages/widgets.py", "app_pages/lead_prices.py", "app_pages/sync.py"])
def test_the_call_filters_are_not_shown_where_they_do_not_apply_and_are_kept(app_env: Path, page: str) -> None:
    test = opened({"preset": "last_7_days", "channel": ["email"]}, "app_pages/attribution.py")
    assert test.multiselect(key="f_channel").value == ["email"]
    ran(test.switch_page(page))
    assert not test.sidebar.get("multiselect")
    assert "preset" not in {w.key for w in test.sidebar.selectbox}
    assert "channel" not in url(test) and "preset" not in url(test)
    ran(test.switch_page("app_pages/attribution.py"))
    assert test.multiselect(key="f_channel").value == ["email"]
    assert test.selectbox(key="preset").value == "last_7_days"
    assert url(test)["channel"] == ["email"]


# Saved views, from the sidebar ---------------------------------------------------------------------------------


def save_view(test: AppTest, name: str) -> AppTest:
    test.text_input(key="saved_view_name").input(name)
    test.button(key="FormSubmitter:save_view-Save this view").click()
    return ran(test)


def test_an_editor_saves_a_view_and_anyone_opens_it(app_env: Path) -> None:
    name = "  **Paid** [x](javascript:alert(1))  by source  "
    test = opened({"preset": "last_90_days", "channel": ["email"], "by": "utm_source"}, "app_pages/attribution.py")
    save_view(test, name)
    shown = " ".join(name.split())
    assert test.selectbox(key="saved_view").options == [shown]  # plain text, trimmed, never Markdown
    assert any("Saved as" in s.value for s in test.sidebar.success)

    viewer = _enter(_app(PASSWORDS), VIEWER_PASSWORD)  # another session: a viewer on the Overview, in Russian
    viewer.radio(key="lang").set_value("ru")
    ran(viewer)
    assert "saved_view_name" not in {w.key for w in viewer.text_input}  # viewers do not save
    assert "saved_view_delete" not in {b.key for b in viewer.button}
    assert viewer.selectbox(key="saved_view").options == [shown]
    viewer.button(key="saved_view_open").click()
    ran(viewer)
    assert widget_value(viewer, "attribution_by") == "utm_source"
    assert viewer.multiselect(key="f_channel").value == ["email"]
    assert viewer.selectbox(key="preset").value == "last_90_days"
    assert url(viewer)["by"] == ["utm_source"]
    assert viewer.radio(key="lang").value == "ru"  # the view opens in the language of whoever opens it


def test_a_name_already_taken_is_refused_and_a_view_can_be_deleted(app_env: Path) -> None:
    test = ran(AppTest.from_file(ENTRY, default_timeout=60))
    save_view(test, "Weekly")
    save_view(test, " Weekly ")
    assert any("already exists" in e.value for e in test.sidebar.error)
    assert test.selectbox(key="saved_view").options == ["Weekly"]
    save_view(test, "x" * 81)
    assert any("too long" in e.value for e in test.sidebar.error)
    editor = _enter(_app(PASSWORDS), EDITOR_PASSWORD)
    editor.button(key="saved_view_delete").click()
    ran(editor)
    assert "saved_view" not in {w.key for w in editor.selectbox}
