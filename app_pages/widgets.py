# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Widgets: the account's widgets and departments, and forms to check a widget with a test callback or application."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n, phones
from dashboard.store import data
from dashboard.ui.forms import send_again_pressed, show_refusal, submit
from dashboard.ui.safe import literal, visible, visible_frame
from dashboard.ui.session import current_view
from dashboard.writes import Writer

TEXT = {
    "en": {
        "widgets": "Widgets and departments",
        "widget": "Widget",
        "widget_id": "Widget id",
        "department": "Department",
        "department_id": "Department id",
        "none": "— none —",
        "no_widgets": "No widgets yet: sync first.",
        "test": "Check a widget",
        "kind": "Send",
        "kind_call": "a test callback",
        "kind_application": "a test application",
        "warning_call": "A real phone call will be placed: Newton calls your operators, then this phone number.",
        "warning_application": "A real application will appear in Newton and may notify your team.",
        "phone": "Phone (e.g. 8 979 538-21-77)",
        "referer": "Page it comes from (optional)",
        "name": "Name (optional)",
        "email": "E-mail (optional)",
        "text": "Text (optional)",
        "confirm": "I understand that this is real",
        "send": "Send",
        "sent_call": "Newton accepted the callback request: it will call {phone}.",
        "sent_application": "Newton accepted the application.",
        "must_confirm": "Tick the box first: this sends a real request.",
        "editors_only": "Test calls and applications are for editors.",
    },
    "ru": {
        "widgets": "Виджеты и отделы",
        "widget": "Виджет",
        "widget_id": "Id виджета",
        "department": "Отдел",
        "department_id": "Id отдела",
        "none": "— нет —",
        "no_widgets": "Виджетов пока нет: сначала обновите данные.",
        "test": "Проверить виджет",
        "kind": "Отправить",
        "kind_call": "тестовый обратный звонок",
        "kind_application": "тестовую заявку",
        "warning_call": "Будет совершён настоящий звонок: Newton позвонит вашим операторам, а затем на этот номер.",
        "warning_application": "В Newton появится настоящая заявка; ваша команда может получить уведомление.",
        "phone": "Телефон (например, 8 979 538-21-77)",
        "referer": "Страница, с которой отправлено (необязательно)",
        "name": "Имя (необязательно)",
        "email": "E-mail (необязательно)",
        "text": "Текст (необязательно)",
        "confirm": "Я понимаю, что это по-настоящему",
        "send": "Отправить",
        "sent_call": "Newton принял заявку на звонок: он позвонит на {phone}.",
        "sent_application": "Newton принял заявку.",
        "must_confirm": "Сначала поставьте галочку: запрос будет настоящим.",
        "editors_only": "Тестовые звонки и заявки доступны только редакторам.",
    },
}
# Newton's field names → the form's inputs, so an error shows next to what needs fixing.
FIELDS = {"clientPhone": "phone", "referer": "referer", "name": "name", "email": "email", "text": "text"}

view = current_view()
lang = view.lang


t = i18n.translator(lang, TEXT)


st.title(i18n.text("page_widgets", lang))
table = view.store.read(data.widget_departments, view.account)
st.subheader(t("widgets"))
if table.is_empty():
    st.info(t("no_widgets"))
    st.stop()
columns = ("widget", "widget_id", "department", "department_id")
st.dataframe(
    visible_frame(table).rename({name: t(name) for name in columns}),
    hide_index=True,
    placeholder=i18n.NOT_SET[lang],
    column_config={t(name): st.column_config.TextColumn(t(name), help=i18n.help_text(name, lang)) for name in columns},
)

st.subheader(t("test"))
if not view.person.can_write:
    st.info(t("editors_only"), icon=":material/lock:")
    st.stop()
widgets = dict(zip(table["widget_id"], table["widget"], strict=False))
kind = st.radio(t("kind"), ["call", "application"], key="test_kind", horizontal=True,
                format_func=lambda k: t(f"kind_{k}"))  # fmt: skip
st.warning(t(f"warning_{kind}"), icon=":material/warning:")
widget_id = st.selectbox(t("widget"), list(widgets), key="test_widget", format_func=lambda w: visible(str(widgets[w])))
departments = table.filter(table["widget_id"] == widget_id).drop_nulls("department_id")
department_names = dict(zip(departments["department_id"], departments["department"], strict=True))
department_id = st.selectbox(
    t("department"),
    [None, *department_names],
    key="test_department",
    format_func=lambda d: t("none") if d is None else visible(str(department_names[d])),
)
errors: dict[str, str] = st.session_state.get("test_errors", {})


def _field(key: str, widget_key: str) -> str:
    value = st.text_input(t(key), key=widget_key)
    if key in errors:
        st.error(literal(i18n.field_message(errors[key], lang)))  # our own check or Newton's message about this field
    return value


with st.form("test_request", clear_on_submit=False):
    phone = _field("phone", "test_phone")
    referer = _field("referer", "test_referer")
    extra = {}
    if kind == "application":
        extra = {"name": _field("name", "test_name"), "email": _field("email", "test_email"),
                 "text": _field("text", "test_text")}  # fmt: skip
    confirmed = st.checkbox(t("confirm"), key="test_confirm")
    submitted = st.form_submit_button(t("send"), type="primary")


def _send(writer: Writer, send_again: str | bool) -> None:
    if kind == "call":
        writer.create_request(phone, str(widget_id), department_id, referer or None, send_again=send_again)
    else:
        writer.application_request(phone, str(widget_id), department_id=department_id, referer=referer or None,
                                   send_again=send_again, **{k: v or None for k, v in extra.items()})  # fmt: skip


def _submit(send_again: str | bool = False) -> None:
    """Send once. No "sending" flag: a second click is met by the write's claim (it waits, or is refused)."""
    if submit("test", view, _send, st.container(), send_again, fields=FIELDS):
        st.success(t("sent_call", phone=literal(phones.as_sent(phone))) if kind == "call" else t("sent_application"))


if submitted:
    if not confirmed:
        st.warning(t("must_confirm"))
    else:
        _submit()
again = send_again_pressed("test")
if again is not None:
    _submit(again)
show_refusal("test", lang, st.container())
