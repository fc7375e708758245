# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The sidebar's write forms: set a call's lead price, create a deal for a caller. Checked before sending."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import i18n
from dashboard.api import FieldErrors, NewtonError
from dashboard.connect import open_client
from dashboard.ui.safe import literal
from dashboard.ui.session import View
from dashboard.writes import Writer

TEXT = {
    "en": {
        "price_form": "Set a lead price",
        "deal_form": "Create a deal",
        "call_id": "Call id",
        "price": "Price, ₽",
        "phone": "Caller's phone (+7 and 10 digits)",
        "date": "Deal date, UTC (optional, YYYY-MM-DD)",
        "save": "Save",
        "create": "Create",
        "price_saved": "Lead price of call {call_id} set to {price} ₽.",
        "deal_created": "Deal created for {phone}.",
    },
    "ru": {
        "price_form": "Цена лида",
        "deal_form": "Создать сделку",
        "call_id": "Id звонка",
        "price": "Цена, ₽",
        "phone": "Телефон звонившего (+7 и 10 цифр)",
        "date": "Дата сделки, UTC (необязательно, ГГГГ-ММ-ДД)",
        "save": "Сохранить",
        "create": "Создать",
        "price_saved": "Цена лида звонка {call_id}: {price} ₽.",
        "deal_created": "Сделка создана для {phone}.",
    },
}


def _errors(form: str) -> dict[str, str]:
    errors: dict[str, str] = st.session_state.get(f"{form}_errors", {})
    return errors


def _input(form: str, field: str, label: str, lang: str) -> str:
    value = st.text_input(label, key=f"{form}_{field}")
    if field in _errors(form):
        # Our check's words (in the page's language) or Newton's, as plain text.
        st.error(literal(i18n.field_message(_errors(form)[field], lang)))
    return str(value)


def _submit(form: str, view: View, send: Callable[[Writer], None], done: str) -> bool:
    """Send once (the form's button is off while sending); keep field errors for the next run, next to the fields.
    True when Newton took the write."""
    st.session_state[f"{form}_sending"] = True
    writer = Writer(open_client(view.connection), view.cache_path, view.account, view.person)
    try:
        with writer.client:
            send(writer)
    except FieldErrors as error:
        st.session_state[f"{form}_errors"] = dict(error.fields)
        st.session_state[f"{form}_sending"] = False
        st.rerun()
    except NewtonError as error:
        st.session_state[f"{form}_errors"] = {}
        st.sidebar.error(literal(str(error)))
        st.session_state[f"{form}_sending"] = False
        return False
    st.session_state[f"{form}_errors"] = {}
    st.sidebar.success(done)
    st.session_state[f"{form}_sending"] = False
    return True


def render_write_forms(view: View) -> bool:
    """The two sidebar forms, in the view's language. True when a write went through in this run (the page
    should then read the cache's state again)."""
    lang = view.lang

    t = i18n.words(lang, TEXT)
    with st.sidebar.expander(t("price_form"), icon=":material/sell:"), st.form("price_form"):
        call_id = _input("price_form", "id", t("call_id"), lang)
        price = _input("price_form", "price", t("price"), lang)
        wrote = False
        if st.form_submit_button(t("save"), disabled=st.session_state.get("price_form_sending", False)):
            saved = t("price_saved", call_id=literal(call_id.strip()), price=literal(price.strip()))
            wrote = _submit("price_form", view, lambda w: w.set_lead_price(call_id, price), saved)
    with st.sidebar.expander(t("deal_form"), icon=":material/handshake:"), st.form("deal_form"):
        phone = _input("deal_form", "phone", t("phone"), lang)
        deal_price = _input("deal_form", "price", t("price"), lang)
        date = _input("deal_form", "date", t("date"), lang)
        if st.form_submit_button(t("create"), disabled=st.session_state.get("deal_form_sending", False)):
            wrote = _submit("deal_form", view, lambda w: w.create_crm_lead(phone, deal_price, date.strip() or None),
                            t("deal_created", phone=literal(phone.strip()))) or wrote  # fmt: skip
    return wrote
