"""The Widgets page: the account's widgets, and test requests that reach Newton only when asked for clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.connect import embedded_demo
from dashboard.store.connection import connect
from dashboard.ui.safe import literal

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


@pytest.fixture
def page(app: AppTest) -> AppTest:
    app.switch_page("app_pages/widgets.py").run()
    assert not app.exception
    return app


def records_now() -> int:
    return len(embedded_demo().records_snapshot())


def test_widgets_and_departments_are_listed(page: AppTest) -> None:
    (table,) = [d.value for d in page.dataframe]
    assert "Отдел продаж" in list(table["Department"])
    assert len(set(table["Widget id"])) == len(embedded_demo().widgets)


def test_a_test_call_needs_the_confirmation_and_then_reaches_newton(page: AppTest, app_env: Path) -> None:
    before = records_now()
    page.text_input(key="test_phone").input("+79991234567")
    page.button(key="FormSubmitter:test_request-Send").click().run()
    assert not page.exception
    assert any("Tick the box" in w.value for w in page.warning)
    assert records_now() == before  # nothing was sent
    page.checkbox(key="test_confirm").check()
    page.button(key="FormSubmitter:test_request-Send").click().run()
    assert any("Newton accepted the callback request" in s.value for s in page.success)
    assert records_now() == before + 1
    with connect(app_env) as con:
        logged = con.execute("SELECT action, outcome, actor FROM write_log").fetchall()
    assert logged == [("callback.CreateRequest", "ok", "local")]


def test_a_bad_phone_is_shown_next_to_the_field_and_nothing_is_sent(page: AppTest) -> None:
    before = records_now()
    page.text_input(key="test_phone").input("8 999 123")
    page.checkbox(key="test_confirm").check()
    page.button(key="FormSubmitter:test_request-Send").click().run()
    assert not page.exception
    assert [e.value for e in page.error] == [literal("must be +7 followed by 10 digits, e.g. +79991234567")]
    assert records_now() == before


def test_an_application_with_its_fields(page: AppTest) -> None:
    before = records_now()
    page.radio(key="test_kind").set_value("application").run()
    assert any("real application" in w.value for w in page.warning)
    page.text_input(key="test_phone").input("+79991234567")
    page.text_input(key="test_name").input("Иван")
    page.text_input(key="test_email").input("not-an-email")
    page.checkbox(key="test_confirm").check()
    page.button(key="FormSubmitter:test_request-Send").click().run()
    assert [e.value for e in page.error] == [literal("must be an e-mail address such as ivan@example.com")]
    page.text_input(key="test_email").input("ivan@example.com")
    page.button(key="FormSubmitter:test_request-Send").click().run()
    assert any("accepted the application" in s.value for s in page.success)
    assert records_now() == before + 1


def test_literal_markdown_defuses_links_and_tags() -> None:
    assert literal("[x](javascript:alert(1)) <b>hi</b>\n*bold*") == (
        "\\[x\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\>hi\\<\\/b\\> \\*bold\\*"
    )
