"""The sidebar's write forms: checked before sending, Newton's errors next to the field, the cache updated at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.connect import embedded_demo
from dashboard.store.connection import connect
from dashboard.ui.safe import literal

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

SAVE = "FormSubmitter:price_form-Save"
CREATE = "FormSubmitter:deal_form-Create"


def a_call_id(path: Path) -> str:
    with connect(path) as con:
        return str(con.execute("SELECT id FROM records ORDER BY requestDate DESC LIMIT 1").fetchall()[0][0])


def lead_value_shown(app: AppTest) -> int:
    (value,) = [m.value for m in app.metric if m.label == "Lead value"]
    return int(re.sub(r"\D", "", value))


def test_a_lead_price_is_saved_in_newton_and_shows_at_once(app: AppTest, app_env: Path) -> None:
    call_id = a_call_id(app_env)
    with connect(app_env) as con:
        (before,) = con.execute("SELECT coalesce(leadPrice, 0) FROM records WHERE id = ?", [call_id]).fetchall()[0]
    shown_before = lead_value_shown(app)
    app.text_input(key="price_form_id").input(call_id)
    app.text_input(key="price_form_price").input("4 500")
    app.button(key=SAVE).click().run()
    assert not app.exception
    assert lead_value_shown(app) == shown_before - before + 4500  # on the Overview of the same run
    assert [s.value for s in app.sidebar.success] == [f"Lead price of call {call_id} set to 4 500 ₽."]
    with connect(app_env) as con:
        assert con.execute("SELECT leadPrice FROM records WHERE id = ?", [call_id]).fetchall() == [(4500,)]
        assert con.execute("SELECT action, outcome FROM write_log").fetchall() == [("callback.SetLeadPrice", "ok")]
    assert {r["id"]: r["leadPrice"] for r in embedded_demo().records_snapshot()}[call_id] == "4500"


def test_bad_input_is_shown_next_to_each_field_and_nothing_is_sent(app: AppTest, app_env: Path) -> None:
    before = embedded_demo().write_count
    app.text_input(key="price_form_id").input("")
    app.text_input(key="price_form_price").input("-5")
    app.button(key=SAVE).click().run()
    assert not app.exception
    assert sorted(e.value for e in app.sidebar.error) == sorted(
        [literal("must not be empty"), literal("must be a whole number of roubles, 0 or more")]
    )
    assert embedded_demo().write_count == before
    with connect(app_env) as con:
        assert con.execute("SELECT count(*) FROM write_log").fetchall() == [(0,)]


def test_in_russian_our_checks_speak_russian(app: AppTest) -> None:
    app.sidebar.radio(key="lang").set_value("ru").run()
    app.text_input(key="deal_form_phone").input("8 999 123")
    app.text_input(key="deal_form_price").input("дорого")
    app.button(key="FormSubmitter:deal_form-Создать").click().run()
    assert not app.exception
    assert sorted(e.value for e in app.sidebar.error) == sorted(
        [literal("нужен номер: +7 и 10 цифр, например +79991234567"), literal("нужно целое число рублей, 0 или больше")]
    )


def test_a_deal_for_a_phone_that_never_called_says_so(app: AppTest) -> None:
    app.text_input(key="deal_form_phone").input("+70000000000")
    app.text_input(key="deal_form_price").input("228")
    app.button(key=CREATE).click().run()
    assert not app.exception
    assert [e.value for e in app.sidebar.error] == [literal("По номеру не нашлся звонок")]


def test_a_deal_for_a_caller(app: AppTest) -> None:
    app.text_input(key="deal_form_phone").input("+7 (999) 123-45-67")  # the demo owner's test phone: it called
    app.text_input(key="deal_form_price").input("228")
    app.text_input(key="deal_form_date").input("2026-11-20")
    app.button(key=CREATE).click().run()
    assert not app.exception
    assert [s.value for s in app.sidebar.success] == [
        f"Deal created for {literal('+7 999 123-45-67')}."  # the number as it was sent, however it was typed
    ]  # as typed, inert
