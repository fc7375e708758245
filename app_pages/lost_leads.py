# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Lost leads: who missed a callback and was never reached, a click to call them back, marks, callback speed."""

from __future__ import annotations

from functools import partial
from typing import Any

import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import charts, i18n, lost_list, phones
from dashboard.errors import DashboardError
from dashboard.lost_leads import LostLeads, open_lost_leads
from dashboard.metrics import Definitions
from dashboard.store import utc_now
from dashboard.store.marks import MARK_KINDS
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.comparison import compared_with
from dashboard.ui.forms import send_again_pressed, show_refusal, submit
from dashboard.ui.freshness import last_synced_text, show_still_loading
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import current_view, get_or_compute, metrics_on, result_scope
from dashboard.writes import Writer

TEXT = {
    "en": {
        "missed_callers": "Missed callers",
        "reached": "Reached",
        "lost": "Lost",
        "recovery_rate": "Recovery rate",
        "recovery_median_seconds": "Median time to reach",
        "no_phone": "Missed requests without a phone (no caller to call back): {no_phone}.",
        "show": "Show",
        "show_lost": "Lost",
        "show_reached": "Reached",
        "show_marked": "Marked",
        "show_all": "All",
        "search": "Phone contains",
        "search_placeholder": "Digits of the phone, e.g. 538 21",
        "nothing": "No callers here for these filters.",
        "count": "Callers: {n}.",
        "count_shown": "Callers: {n}; the newest {shown} are listed (the download has them all).",
        "phone": "Phone",
        "last_missed_at": "Last missed (local)",
        "missed": "Missed tries",
        "reached_after_seconds": "Reached after",
        "channel": "Channel",
        "utm_source": "UTM source",
        "widget": "Widget",
        "last_landing_page": "Page",
        "lead_value": "Lead value",
        "call_back": "Call back",
        "mark": "Mark",
        "marked_by": "Marked by",
        "marked_at": "Marked at (local)",
        "last_recording": "Recording of the last try",
        "mark_handled_elsewhere": "handled elsewhere",
        "mark_not_a_lead": "not a lead",
        "mark_spam": "spam",
        "download": "Download {n} (CSV)",
        "caller": "Caller",
        "act": "Act on a caller",
        "no_recording": "The last try has no recording.",
        "not_playable": "This recording's address is not an http(s) web address, so it is not played or linked. "
        "The address as Newton gave it:",
        "editors_only": "Calling back and marking callers are for editors.",
        "call_back_now": "Call back now",
        "cannot_call": "This phone is not one Newton can call, or its last request names no widget.",
        "real_call": "A REAL call will be placed: Newton calls your operators, then {phone}. It is sent at most once "
        "per phone in 10 minutes.",
        "confirm_call": "Yes, call {phone} now",
        "cancel": "Cancel",
        "called": "Newton accepted the call back: it will call {phone}. After the next sync the row moves to "
        "Reached if the call is answered.",
        "mark_as": "Mark as",
        "do_mark": "Mark",
        "unmark": "Remove the mark",
        "marked_now": "{phone} is marked {kind}.",
        "marked_said": "Marked {kind} by {who} at {when}.",
        "someone": "someone",
        "speed": "Callback speed by department and widget",
        "speed_by": "By",
        "by_department": "Department",
        "by_widget": "Widget",
        "department": "Department",
        "speed_measured": "Callbacks measured",
        "speed_median_seconds": "Median time to call back",
        "within_30s_share": "Within 30 s",
        "within_5min_share": "Within 5 min",
        "marked": "Marked",
        "speed_download": "Download (CSV)",
    },
    "ru": {
        "missed_callers": "Не дозвонились",
        "reached": "Дозвонились позже",
        "lost": "Потеряны",
        "recovery_rate": "Доля возвращённых",
        "recovery_median_seconds": "Медиана времени до дозвона",
        "no_phone": "Пропущенных заявок без телефона (перезвонить некому): {no_phone}.",
        "show": "Показать",
        "show_lost": "Потерянных",
        "show_reached": "Дозвонились",
        "show_marked": "С пометкой",
        "show_all": "Всех",
        "search": "Телефон содержит",
        "search_placeholder": "Цифры телефона, например 538 21",
        "nothing": "При этих фильтрах здесь никого нет.",
        "count": "Клиентов: {n}.",
        "count_shown": "Клиентов: {n}; в списке последние {shown} (в выгрузке — все).",
        "phone": "Телефон",
        "last_missed_at": "Последний пропуск (местное время)",
        "missed": "Пропущено заявок",
        "reached_after_seconds": "Дозвонились через",
        "channel": "Канал",
        "utm_source": "UTM source",
        "widget": "Виджет",
        "last_landing_page": "Страница",
        "lead_value": "Сумма лидов",
        "call_back": "Перезвон",
        "mark": "Пометка",
        "marked_by": "Кто пометил",
        "marked_at": "Когда пометили (местное время)",
        "last_recording": "Запись последней попытки",
        "mark_handled_elsewhere": "обработан в другом месте",
        "mark_not_a_lead": "не клиент",
        "mark_spam": "спам",
        "download": "Скачать {n} (CSV)",
        "caller": "Клиент",
        "act": "Действия с клиентом",
        "no_recording": "У последней попытки нет записи.",
        "not_playable": "Адрес этой записи — не веб-адрес http(s), поэтому она не воспроизводится и не открывается "
        "по ссылке. Адрес в том виде, в каком его дал Newton:",
        "editors_only": "Перезванивать и ставить пометки могут только редакторы.",
        "call_back_now": "Перезвонить сейчас",
        "cannot_call": "На этот номер Newton позвонить не может, или в последней заявке не указан виджет.",
        "real_call": "Будет совершён НАСТОЯЩИЙ звонок: Newton позвонит вашим операторам, а затем на {phone}. "
        "На один номер — не чаще раза в 10 минут.",
        "confirm_call": "Да, позвонить на {phone}",
        "cancel": "Отмена",
        "called": "Newton принял заявку на перезвон: он позвонит на {phone}. После следующего обновления данных "
        "клиент перейдёт в «Дозвонились», если звонок состоялся.",
        "mark_as": "Пометить как",
        "do_mark": "Пометить",
        "unmark": "Снять пометку",
        "marked_now": "{phone}: пометка «{kind}».",
        "marked_said": "Пометка «{kind}»: {who}, {when}.",
        "someone": "кто-то",
        "speed": "Скорость перезвона по отделам и виджетам",
        "speed_by": "Разбивка",
        "by_department": "По отделам",
        "by_widget": "По виджетам",
        "department": "Отдел",
        "speed_measured": "Измерено перезвонов",
        "speed_median_seconds": "Медиана скорости перезвона",
        "within_30s_share": "За 30 с",
        "within_5min_share": "За 5 мин",
        "marked": "С пометкой",
        "speed_download": "Скачать (CSV)",
    },
}
_CONFIRM = "lost_confirm"  # the phone whose call back waits for "Yes, call"
_DONE = "lost_done"  # what the last action did, shown once after the rerun that shows its effect

view = current_view()
lang = view.lang
t = i18n.translator(lang, TEXT)


def _mark_name(kind: object) -> str:
    return t(f"mark_{kind}") if kind in MARK_KINDS else "—"


COLUMNS = (
    Column("phone", "phone", pinned=True), Column("last_missed_at", "datetime"), Column("missed", "integer"),
    Column("reached", "flag"), Column("reached_after_seconds", "duration"),
    Column("channel", names=partial(i18n.label, "channel", lang=lang)), Column("utm_source"), Column("widget"),
    Column("last_landing_page"), Column("lead_value", "money"),
    Column(lost_list.CALL_BACK, names=lambda said: str(said) if said else "—"),
    Column("mark", names=_mark_name), Column("marked_by"), Column("marked_at", "datetime"), Column("last_recording"),
)  # fmt: skip

st.title(i18n.text("page_lost_leads", lang))
speed_by = st.session_state.get("lost_speed_by") or "department"  # its radio is drawn further down
# The list's choice and search as their widgets further down will read (their first option, nothing searched).
listing = (st.session_state.get("lost_show") or lost_list.CHOICES[0], st.session_state.get("lost_search") or "")


def _newest(leads: LostLeads, callers: pl.DataFrame, choice: str, search: str) -> pl.DataFrame:
    """The callers of `choice` and `search` the page draws, completed: only the newest have every column."""
    return leads.with_details(view.filters, lost_list.shown(callers, choice, search).head(lost_list.SHOWN_LIMIT))


now = utc_now()
# One connection for the run's reads (each open of the file costs DuckDB milliseconds of setting up and down).
with view.store.reading() as reading:
    lost = LostLeads(reading, view.account, Definitions(zone=view.zone), scope=result_scope(view))
    asked = (view.filters, view.comparison, view.preset)
    # The page's independent questions, asked in one round.
    # Every caller's row, but only what the counts, the chart, the choice and the search need: the rest of a row
    # (the first request's source and widget, the last try's page and recording…) only for the callers drawn,
    # asked beside the others as soon as the rows are known.
    summaries, callers, per_day, speed, drawn = lost.together(
        lambda leads: leads.compare(*asked, listed=True),  # the period's numbers from the callers' rows
        lambda leads: leads.callers_brief(view.filters),
        lambda leads: leads.lost_per_day(view.filters),
        lambda leads: leads.speed_by(view.filters, speed_by),
        lambda leads: _newest(leads, leads.callers_brief(view.filters), *listing),
    )
    called_back = lost_list.call_back_outcomes(reading, view.account, drawn, now)  # what became of their call backs
    comparison = metrics_on(view, reading).comparing(*asked)
compared = {row["metric"]: row for row in summaries.iter_rows(named=True)}
show_still_loading(view, comparison.other)
st.caption(last_synced_text(view))


def _metric(cell: DeltaGenerator, metric: str, shown: str, *, points: bool = False, fewer: bool = False) -> None:
    """A count and its change against the compared period (`fewer`: a fall is the good news)."""
    row = compared[metric]
    delta = i18n.change(row["current"], row["previous"], lang, as_points=points, comparable=row["comparable"])
    options: dict[str, Any] = {"delta_color": "inverse"} if fewer else {}
    if i18n.is_neutral(delta):  # ±0 or too few to compare: neither good nor bad news
        options = {"delta_color": "off", "delta_arrow": "off"}
    cell.metric(t(metric), shown, delta, help=i18n.help_text(metric, lang), **options)


def _current(metric: str) -> Any:
    return compared[metric]["current"]


# Two rows of three: five numbers and their changes in one row are cut off on a laptop's screen (as on Overview).
cells = [*st.columns(3), *st.columns(3)]
_metric(cells[0], "missed_callers", i18n.integer(_current("missed_callers"), lang), fewer=True)
_metric(cells[1], "reached", i18n.integer(_current("reached"), lang))
_metric(cells[2], "lost", i18n.integer(_current("lost"), lang), fewer=True)
_metric(cells[3], "recovery_rate", i18n.percent(_current("recovery_rate"), lang), points=True)
_metric(cells[4], "recovery_median_seconds", i18n.duration(_current("recovery_median_seconds"), lang), fewer=True)
_metric(cells[5], "marked", i18n.integer(_current("marked"), lang))
said = compared_with(view, comparison)
if said:
    st.caption(said)
st.caption(t("no_phone", no_phone=i18n.integer(_current("missed_without_phone"), lang)))

chart = get_or_compute(view, ("lost_per_day", view.filters, lang), lambda: charts.lost_per_day(per_day, lang))
st.plotly_chart(chart, key="chart_lost_per_day")

# §4: callback speed where it matters (above the list: an empty list ends the page) -------------------------------

st.subheader(t("speed"))
st.radio(t("speed_by"), ("department", "widget"), key="lost_speed_by", format_func=lambda by: t(f"by_{by}"),
         horizontal=True)  # fmt: skip
SPEED_COLUMNS = (
    Column(speed_by, names=partial(i18n.shown_value, lang=lang), pinned=True), Column("speed_measured", "integer"),
    Column("speed_median_seconds", "seconds"), Column("within_30s_share", "percent"),
    Column("within_5min_share", "percent"), Column("missed_callers", "integer"), Column("reached", "integer"),
    Column("lost", "integer"), Column("marked", "integer"), Column("recovery_rate", "percent"),
    Column("recovery_median_seconds", "duration"),
)  # fmt: skip
tables.show(speed, SPEED_COLUMNS, lang, t, key="lost_speed")
tables.screen_download(speed, SPEED_COLUMNS, lang, t, file_name=f"callback-speed-by-{speed_by}.csv", key="lost_speed")

# The list ---------------------------------------------------------------------------------------------------

chosen, searched = st.columns([2, 1])
choice = chosen.radio(
    t("show"), lost_list.CHOICES, key="lost_show", format_func=lambda c: t(f"show_{c}"), horizontal=True
)
search = searched.text_input(t("search"), key="lost_search", placeholder=t("search_placeholder"),
                             max_chars=lost_list.SEARCH_MAX_CHARS)  # fmt: skip
rows = lost_list.shown(callers, choice, search)
# Only the newest callers are drawn (and their call backs read): a long period lists tens of thousands.
if (choice, search) == listing:
    newest, outcomes = drawn, called_back
else:  # not what the widgets were read as above (never expected): asked again
    with open_lost_leads(view.store, view.account, view.zone, result_scope(view)) as lost:
        newest = _newest(lost, callers, choice, search)
    outcomes = lost_list.call_back_outcomes(view.store, view.account, newest, now)
listed = lost_list.with_call_backs(newest, outcomes, now, view.zone, lang)
done = st.session_state.pop(_DONE, None)
if done:
    st.success(done, icon=":material/check_circle:")
if rows.is_empty():
    st.info(t("nothing"), icon=":material/info:")
    st.stop()
if listed.height < rows.height:
    st.caption(t("count_shown", n=i18n.integer(rows.height, lang), shown=i18n.integer(listed.height, lang)))
else:
    st.caption(t("count", n=i18n.integer(rows.height, lang)))
tables.show(listed, COLUMNS, lang, t, key="lost_table")
store, account, zone, filters, scope = view.store, view.account, view.zone, view.filters, result_scope(view)


def _listed_csv() -> bytes:
    """Every caller of the choice, every column, with their call backs: made when the download is clicked."""
    with open_lost_leads(store, account, zone, scope) as lost:
        chosen = lost_list.shown(lost.callers_with_misses(filters), choice, search)
    every = lost_list.with_call_backs(chosen, lost_list.call_back_outcomes(store, account, chosen, now), now, zone,
                                      lang)  # fmt: skip
    return lost_list.listed_csv(every, [column.name for column in COLUMNS])


tables.downloads(
    listed, COLUMNS, lang, t, label=t("download", n=i18n.integer(rows.height, lang)), data=_listed_csv,
    file_name="lost-leads.csv", key="lost", when_clicked=True,
)  # fmt: skip

# One caller: the recording of the last try, Call back now, marks ----------------------------------------------

st.subheader(t("act"))
by_phone = lost_list.callers_of(listed)
phone = st.selectbox(
    t("caller"), list(by_phone), key="lost_caller",
    format_func=lambda p: f"{visible(phones.format_phone(p) or '')} · {by_phone[p].last_missed_at:%Y-%m-%d %H:%M}",
)  # fmt: skip
caller = by_phone[phone] if phone in by_phone else next(iter(by_phone.values()))
shown_phone = literal(phones.format_phone(caller.phone) or "")
if not caller.recording:
    st.caption(t("no_recording"))
elif caller.recording_playable:
    st.audio(caller.recording)
else:
    st.warning(t("not_playable"), icon=":material/block:")
    st.text(visible(caller.recording))
if caller.mark and caller.marked_at:
    st.caption(t("marked_said", kind=_mark_name(caller.mark), who=literal(caller.marked_by or t("someone")),
                 when=f"{caller.marked_at:%Y-%m-%d %H:%M}"))  # fmt: skip


def _call_back(writer: Writer, send_again: str | bool) -> None:
    writer.call_back(caller.phone, str(caller.widget_id), caller.department_id, send_again=send_again)


def _send(send_again: str | bool = False) -> None:
    """Place the call once: a second click meets the write's claim (it waits, or is refused) and sends nothing."""
    if submit("lost_call", view, _call_back, st.container(), send_again):
        st.session_state.pop(_CONFIRM, None)
        st.session_state[_DONE] = t("called", phone=shown_phone)
        st.rerun()  # the row shows the call back's outcome


def _mark(kind: str | None) -> None:
    try:
        lost_list.mark(view.store, view.account, view.person, caller.phone, kind, utc_now())
    except DashboardError as error:
        st.error(literal(str(error)), icon=":material/error:")
        return
    if kind is not None:
        st.session_state[_DONE] = t("marked_now", phone=shown_phone, kind=_mark_name(kind))
    st.rerun()  # the list and the counts read the marks again


if not view.person.can_write:
    st.info(t("editors_only"), icon=":material/lock:")
else:
    callable_ = caller.widget_id is not None and phones.try_parse_phone(caller.phone) == caller.phone
    calling, marking = st.columns(2)
    with calling:
        if st.button(t("call_back_now"), key="lost_call_back", icon=":material/phone_callback:",
                     disabled=not callable_, type="primary"):  # fmt: skip
            st.session_state[_CONFIRM] = caller.phone
        if not callable_:
            st.caption(t("cannot_call"))
        if st.session_state.get(_CONFIRM) == caller.phone:
            st.warning(t("real_call", phone=shown_phone), icon=":material/warning:")
            yes, no = st.columns(2)
            if no.button(t("cancel"), key="lost_call_cancel"):
                st.session_state.pop(_CONFIRM, None)
                st.rerun()
            if yes.button(t("confirm_call", phone=shown_phone), key="lost_call_confirm", type="primary"):
                _send()
        again = send_again_pressed("lost_call")
        if again is not None:
            _send(again)
        show_refusal("lost_call", lang, st.container())
    with marking:
        kind = st.selectbox(t("mark_as"), MARK_KINDS, key="lost_mark_kind", format_func=_mark_name)
        if st.button(t("do_mark"), key="lost_mark", icon=":material/label:"):
            _mark(kind)
        if caller.mark and st.button(t("unmark"), key="lost_unmark", icon=":material/label_off:"):
            _mark(None)
