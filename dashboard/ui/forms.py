# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The sidebar's write forms: set a call's lead price, create a deal for a caller. Checked before sending.

No session flag says "sending": a run cut short (a second click interrupts it) would leave it set. A second submit
is instead handled by the write's claim in the write log (see dashboard.writes): it waits for the first, or is
refused with what happened the first time, and a "Send again" button that names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import i18n, phones, writes
from dashboard.connect import open_client
from dashboard.errors import AlreadySent, FieldErrors, NewtonError
from dashboard.store import LoggedWrite, utc_now
from dashboard.ui.safe import literal
from dashboard.ui.session import View
from dashboard.writes import Writer

# A write's sender: given the Writer and `send_again` (False, or the id of the earlier write the person saw).
Send = Callable[[Writer, str | bool], None]

TEXT = {
    "en": {
        "price_form": "Set a lead price",
        "deal_form": "Create a deal",
        "call_id": "Call id",
        "price": "Price, ₽",
        "phone": "Caller's phone (e.g. 8 979 538-21-77)",
        "date": "Deal date, UTC (optional, YYYY-MM-DD)",
        "save": "Save",
        "create": "Create",
        "price_saved": "Lead price of call {call_id} set to {price} ₽.",
        "deal_created": "Deal created for {phone}.",
        "send_again": "Send again: {what}",
    },
    "ru": {
        "price_form": "Цена лида",
        "deal_form": "Создать сделку",
        "call_id": "Id звонка",
        "price": "Цена, ₽",
        "phone": "Телефон звонившего (например, 8 979 538-21-77)",
        "date": "Дата сделки, UTC (необязательно, ГГГГ-ММ-ДД)",
        "save": "Сохранить",
        "create": "Создать",
        "price_saved": "Цена лида звонка {call_id}: {price} ₽.",
        "deal_created": "Сделка создана для {phone}.",
        "send_again": "Отправить ещё раз: {what}",
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


def submit(
    form: str,
    view: View,
    send: Send,
    where: DeltaGenerator,
    send_again: str | bool = False,
    *,
    fields: Mapping[str, str] | None = None,
) -> bool:
    """Send once as the view's person, the one way every write form ends: field errors are kept for the next run,
    next to the form's inputs (`fields` maps Newton's field names to them); the same write made a moment ago is
    kept for `show_refusal`; another failure is shown in `where`. True when Newton took the write."""
    st.session_state.pop(_refused(form), None)
    writer = Writer(open_client(view.connection), view.store, view.account, view.person)
    try:
        with writer.client:
            send(writer, send_again)
    except FieldErrors as error:
        st.session_state[f"{form}_errors"] = {(fields or {}).get(k, k): v for k, v in error.fields.items()}
        st.rerun()
    except AlreadySent as error:  # the same write was made a moment ago, or was being made: nothing sent now
        st.session_state[_refused(form)] = error.earlier
        return False
    except NewtonError as error:
        where.error(literal(str(error)), icon=":material/error:")
        return False
    return True


def _submit(form: str, view: View, send: Send, done: str, send_again: str | bool = False) -> bool:
    if not submit(form, view, send, st.sidebar, send_again):
        return False
    st.sidebar.success(done)
    return True


def _refused(form: str) -> str:
    return f"{form}_refused"


def send_again_pressed(form: str) -> str | None:
    """In the run where the form's "Send again" button was pressed: the id of the earlier write it named."""
    earlier: LoggedWrite | None = st.session_state.get(_refused(form))
    if earlier is None or not st.session_state.get(f"{form}_send_again"):
        return None
    st.session_state.pop(_refused(form), None)
    return earlier.write_id


def show_refusal(form: str, lang: str, where: DeltaGenerator) -> None:
    """Why the form's last submit was not sent, with a "Send again" button that names the write."""
    earlier: LoggedWrite | None = st.session_state.get(_refused(form))
    if earlier is None:
        return
    t = i18n.translator(lang, writes.TEXT)
    where.warning(literal(f"{writes.describe(earlier, utc_now(), lang)} {t('not_again')}"), icon=":material/block:")
    label = i18n.text("send_again", lang, TEXT, what=writes.what(earlier, lang))
    where.button(literal(label), key=f"{form}_send_again", icon=":material/send:")


def render_write_forms(view: View) -> bool:
    """The two sidebar forms, in the view's language. True when a write went through in this run (the page
    should then read the cache's state again)."""
    lang = view.lang

    t = i18n.translator(lang, TEXT)
    with st.sidebar.expander(t("price_form"), icon=":material/sell:"), st.form("price_form"):
        call_id = _input("price_form", "id", t("call_id"), lang)
        price = _input("price_form", "price", t("price"), lang)
        wrote = False
        if st.form_submit_button(t("save")):
            saved = t("price_saved", call_id=literal(call_id.strip()), price=literal(price.strip()))
            wrote = _submit("price_form", view, lambda w, again: w.set_lead_price(call_id, price), saved)
    with st.sidebar.expander(t("deal_form"), icon=":material/handshake:"):
        with st.form("deal_form"):
            phone = _input("deal_form", "phone", t("phone"), lang)
            deal_price = _input("deal_form", "price", t("price"), lang)
            date = _input("deal_form", "date", t("date"), lang)
            submitted = st.form_submit_button(t("create"))

        def deal(writer: Writer, again: str | bool) -> None:
            writer.create_crm_lead(phone, deal_price, date.strip() or None, send_again=again)

        created = t("deal_created", phone=literal(phones.as_sent(phone.strip())))
        if submitted:
            wrote = _submit("deal_form", view, deal, created) or wrote
    again = send_again_pressed("deal_form")
    if again is not None:
        wrote = _submit("deal_form", view, deal, created, send_again=again) or wrote
    show_refusal("deal_form", lang, st.sidebar)
    return wrote
