# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Chats: the headline chat numbers, operators' first responses, the sessions and one session's transcript.

Visitors write what they like, so every message is shown as plain text (st.text, st.dataframe), never Markdown.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import charts, chats, i18n
from dashboard.store import AnyStore
from dashboard.store.reading import Reading
from dashboard.tables import Column
from dashboard.ui import links, tables
from dashboard.ui.freshness import show_still_loading
from dashboard.ui.safe import visible
from dashboard.ui.session import current_view, get_or_compute, metrics_on

TEXT = {
    "en": {
        "sessions": "Sessions",
        "messages": "Messages",
        "unanswered": "Unanswered sessions",
        "first_response_median": "Median first response",
        "first_response_p90": "90th percentile first response",
        "by_operator": "By operator",
        "operator": "Operator",
        "session_list": "Sessions",
        "search": "Find chats containing",
        "search_help": "Text in any message, the visitor's or the operator's; capitals do not matter.",
        "shown": "The newest {shown} of {total}.",
        "all_shown": "{total}.",
        "started": "Started",
        "widget": "Widget",
        "first_response_s": "First response",
        "unanswered_flag": "Unanswered",
        "client_id": "Client id",
        "choose": "Session",
        "transcript": "Transcript",
        "visitor": "Visitor",
        "time_unknown": "time unknown",
        "no_messages": "This session has no messages.",
        "download": "Download these chats (CSV, a row per message)",
        "no_chats": "No chats in this period. Try a longer period or fewer widgets.",
        "no_match": "No chats in this period contain that text.",
        "only_some_filters": "Chats follow the period and widget filters; the other filters describe calls.",
    },
    "ru": {
        "sessions": "Чаты",
        "messages": "Сообщения",
        "unanswered": "Чаты без ответа",
        "first_response_median": "Первый ответ (медиана)",
        "first_response_p90": "Первый ответ (90-й процентиль)",
        "by_operator": "По операторам",
        "operator": "Оператор",
        "session_list": "Список чатов",
        "search": "Найти чаты, где есть текст",
        "search_help": "Текст любого сообщения, посетителя или оператора; регистр не важен.",
        "shown": "Показаны последние {shown}, всего {total}.",
        "all_shown": "Всего {total}.",
        "started": "Начало",
        "widget": "Виджет",
        "first_response_s": "Первый ответ",
        "unanswered_flag": "Без ответа",
        "client_id": "ID клиента",
        "choose": "Чат",
        "transcript": "Переписка",
        "visitor": "Посетитель",
        "time_unknown": "время неизвестно",
        "no_messages": "В этом чате нет сообщений.",
        "download": "Скачать эти чаты (CSV, строка на сообщение)",
        "no_chats": "За этот период чатов нет. Выберите период длиннее или другие виджеты.",
        "no_match": "В чатах за этот период нет такого текста.",
        "only_some_filters": "К чатам применяются период и виджеты; остальные фильтры относятся к звонкам.",
    },
}

# The two tables as shown and as their "as on screen" downloads write them.
OPERATOR_COLUMNS = (
    Column("operator", names=lambda value: i18n.label("operator", value, lang)),
    Column("sessions", "integer"), Column("messages", "integer"),
    Column("unanswered_sessions", "integer", header="unanswered"), Column("first_response_median", "seconds"),
    Column("first_response_p90", "seconds"),
)  # fmt: skip
SESSION_COLUMNS = (
    Column("start_time_local", "datetime", header="started"), Column("operator"), Column("widget"),
    Column("messages", "integer"), Column("first_response_seconds", "seconds", header="first_response_s"),
    Column("unanswered", "flag", header="unanswered_flag"), Column("client_id"),
)  # fmt: skip

view = current_view()
lang: str = view.lang  # declared, as OPERATOR_COLUMNS above reads it


t = i18n.translator(lang, TEXT)
_help = partial(i18n.help_text, lang=lang)


st.title(i18n.text("page_chats", lang))
show_still_loading(view)
if chats.ignored_by_chats(view.filters):
    st.caption(t("only_some_filters"))


def _sessions(source: AnyStore | Reading, search: str) -> chats.SessionList:
    """The chats listed for `search`, memoized for other sessions."""
    return get_or_compute(
        view,
        ("chat_sessions", view.filters, search),
        lambda: source.read(chats.sessions, view.account, view.filters, view.zone, containing=search),
    )


# The search as its box further down will read it (what was typed, or a link's): its chats are listed on the one
# connection the numbers are read on (each open of the file costs DuckDB milliseconds of setting up and down).
asked_for = st.session_state.get("chat_search") or ""
with view.store.reading() as reading:
    summary, operators = metrics_on(view, reading).chat_numbers(view.filters)
    found = _sessions(reading, asked_for) if summary["sessions"] else None

if not summary["sessions"]:
    st.info(t("no_chats"), icon=":material/info:")
    st.stop()

cells = st.columns(4)
cells[0].metric(t("sessions"), i18n.integer(summary["sessions"], lang), help=_help("sessions"))
cells[1].metric(t("messages"), i18n.integer(summary["messages"], lang), help=_help("messages"))
cells[2].metric(t("unanswered"), i18n.integer(summary["unanswered_sessions"], lang), help=_help("unanswered_sessions"))
cells[3].metric(
    t("first_response_median"), i18n.seconds(summary["first_response_median"], lang),
    help=_help("first_response_median"),
)  # fmt: skip

st.subheader(t("by_operator"))
tables.show(operators, OPERATOR_COLUMNS, lang, t, key="chat_operators")
tables.screen_download(
    operators, OPERATOR_COLUMNS, lang, t, file_name="chat-operators.csv", key="chat_operators_screen"
)
st.plotly_chart(charts.operator_first_response(operators, lang), key="chart_first_response")

st.subheader(t("session_list"))
search = st.text_input(t("search"), key="chat_search", help=t("search_help"))
listed = found if found is not None and search == asked_for else _sessions(view.store, search)
if not listed.total:
    st.info(t("no_match"), icon=":material/search_off:")
    st.stop()
total = i18n.plural(listed.total, "chats", lang)
if listed.sessions.height != listed.total:
    st.caption(t("shown", shown=i18n.integer(listed.sessions.height, lang), total=total))
else:
    st.caption(t("all_shown", total=total))
tables.show(listed.sessions, SESSION_COLUMNS, lang, t, key="chat_sessions")


def _export() -> bytes:
    # Built when the button is pressed, not on every run: every message of the period, in the cache's own time.
    return view.store.read(chats.export_csv, view.account, view.filters, view.zone, containing=search)


raw, screen = st.columns([1, 1])
raw.download_button(
    t("download"), _export, file_name="chats.csv", mime="text/csv", key="chat_download", on_click="ignore",
    icon=":material/download:",
)  # fmt: skip
tables.screen_download(
    listed.sessions,
    SESSION_COLUMNS,
    lang,
    t,
    file_name="chat-sessions.csv",
    key="chat_sessions_screen",
    where=screen,
    when_clicked=True,  # every listed chat's values written as shown: made when asked for, not on every run
)


def _label(row: dict[str, object]) -> str:
    started = row["start_time_local"]
    who, where = i18n.shown_value(row["operator"], lang), i18n.shown_value(row["widget"], lang)
    label = f"{started:%Y-%m-%d %H:%M:%S} · {who} · {where}" if started else str(row["client_id"])
    return visible(label)


labels = {row["session"]: _label(row) for row in listed.sessions.iter_rows(named=True)}
if st.session_state.get("chat_session") not in labels:  # a link's chat not among those listed: the newest
    st.session_state.pop("chat_session", None)
chosen = st.selectbox(t("choose"), list(labels), format_func=labels.__getitem__, key="chat_session")
links.rewrite("chats")  # the chat shown, when the link's was not listed

st.subheader(t("transcript"))
messages = (
    get_or_compute(
        view, ("transcript", chosen), lambda: view.store.read(chats.transcript, view.account, chosen, view.zone)
    )
    if chosen
    else None
)
if messages is None or messages.is_empty():
    st.info(t("no_messages"), icon=":material/chat_bubble_outline:")
    st.stop()
for message in messages.iter_rows(named=True):
    visitor = message["from_client"]
    who = t("visitor") if visitor else t("operator")
    with st.chat_message(who, avatar=":material/person:" if visitor else ":material/support_agent:"):
        moment = message["time_local"]
        st.caption(f"{who} · {moment:%Y-%m-%d %H:%M:%S}" if moment else f"{who} · {t('time_unknown')}")
        st.text(visible(message["text"] or ""))  # plain text: visitors' Markdown and HTML stay inert
