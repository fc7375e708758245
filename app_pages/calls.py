# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Calls: the filtered records with a search, a recording player, lead prices edited in the table, an export."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import calls, i18n
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.batch import send_with_progress
from dashboard.ui.freshness import show_still_loading
from dashboard.ui.safe import visible, visible_frame
from dashboard.ui.session import current_view, result_scope

TEXT = {
    "en": {
        "search": "Search",
        "search_placeholder": "Phone, UTM, city, page, search phrase, comment or id",
        "showing": "Showing the newest {shown} of {total}.",
        "showing_all": "{total}.",
        "nothing_found": "No calls match the filters and the search.",
        "id": "Call id",
        "request_time": "Requested (local)",
        "phone": "Phone",
        "type": "Type",
        "call_status": "Call status",
        "talk_seconds": "Talk",
        "callback_seconds": "Callback speed",
        "channel": "Channel",
        "utm_source": "UTM source",
        "utm_campaign": "UTM campaign",
        "landing_page": "Landing page",
        "city": "City",
        "device": "Device",
        "lead_price": "Lead price",
        "recording": "Recording",
        "editor_help": "Only the lead price can be changed; it is sent to Newton when you save.",
        "save": "Save {n}",
        "save_none": "Save changes",
        "saving": "Saving lead prices…",
        "bad_prices": "Some prices cannot be sent; fix them first. Nothing has been sent.",
        "problem_empty": "Newton cannot clear a price: enter 0 or more",
        "problem_invalid": "Must be a whole number of roubles from 0 to 1,000,000,000,000",
        "results": "Last save",
        "price": "New price, ₽",
        "outcome": "Result",
        "saved": "saved",
        "saved_count": "{saved} of {total} prices saved.",
        "listen": "Listen to a recording",
        "recording_choice": "Call",
        "no_recordings": "None of the calls listed has a recording.",
        "not_playable": "This recording's address is not an http(s) web address, so it is not played or linked. "
        "The address as Newton gave it:",
        "download": "Download all {total} (CSV)",
        "download_one": "Download this call (CSV)",
        "download_help": "Every call matching the filters and the search, with every field as Newton gives it.",
        "sort": "Sort by",
        "sort_newest": "Newest first",
        "sort_oldest": "Oldest first",
        "sort_longest_talk": "Longest talk first",
        "sort_slowest_callback": "Slowest callback first",
        "showing_first": "Showing the first {shown} of {total}.",
        "our_call_back": "Our call back",
    },
    "ru": {
        "search": "Поиск",
        "search_placeholder": "Телефон, UTM, город, страница, поисковая фраза, комментарий или id",
        "showing": "Показаны последние {shown}, всего {total}.",
        "showing_all": "Всего {total}.",
        "nothing_found": "Нет звонков, подходящих под фильтры и поиск.",
        "id": "Id звонка",
        "request_time": "Заявка (местное время)",
        "phone": "Телефон",
        "type": "Тип",
        "call_status": "Статус звонка",
        "talk_seconds": "Разговор",
        "callback_seconds": "Скорость перезвона",
        "channel": "Канал",
        "utm_source": "UTM source",
        "utm_campaign": "UTM campaign",
        "landing_page": "Страница входа",
        "city": "Город",
        "device": "Устройство",
        "lead_price": "Цена лида",
        "recording": "Запись",
        "editor_help": "Менять можно только цену лида; она уйдёт в Newton, когда вы сохраните.",
        "save": "Сохранить {n}",
        "save_none": "Сохранить изменения",
        "saving": "Сохраняем цены лидов…",
        "bad_prices": "Некоторые цены нельзя отправить; сначала исправьте их. Ничего не отправлено.",
        "problem_empty": "Newton не умеет стирать цену: введите 0 или больше",
        "problem_invalid": "Нужно целое число рублей от 0 до 1 000 000 000 000",
        "results": "Последнее сохранение",
        "price": "Новая цена, ₽",
        "outcome": "Результат",
        "saved": "сохранено",
        "saved_count": "Сохранено цен: {saved} из {total}.",
        "listen": "Прослушать запись",
        "recording_choice": "Звонок",
        "no_recordings": "Ни у одного звонка в списке нет записи.",
        "not_playable": "Адрес этой записи — не веб-адрес http(s), поэтому она не воспроизводится и не открывается "
        "по ссылке. Адрес в том виде, в каком его дал Newton:",
        "download": "Скачать {total} (CSV)",
        "download_one": "Скачать этот звонок (CSV)",
        "download_help": "Все звонки, подходящие под фильтры и поиск, со всеми полями в том виде, "
        "в каком их даёт Newton.",
        "sort": "Сортировка",
        "sort_newest": "Сначала новые",
        "sort_oldest": "Сначала старые",
        "sort_longest_talk": "Сначала долгие разговоры",
        "sort_slowest_callback": "Сначала медленные перезвоны",
        "showing_first": "Показаны первые {shown}, всего {total}.",
        "our_call_back": "Наш перезвон",
    },
}
_SAVING = "calls_saving"  # set by the Save button's click, cleared when the run that saves ends
_RESULTS = "calls_last_save"

view = current_view()
lang = view.lang


t = i18n.translator(lang, TEXT)


# The listing as the table shows it and the "as on screen" download writes it; the id is the table's row label.
# Codes are shown in words; the cells keep the codes, so the edited table still matches the listing.
CODES = {"type": "type", "call_status": "call_status", "channel": "channel", "device": "device_type"}


def _column(name: str, kind: str = "text") -> Column:
    return Column(name, kind, names=partial(i18n.label, CODES[name], lang=lang) if name in CODES else None)


COLUMNS = (
    Column("id"), Column("request_time", "datetime"), Column("phone", "phone"), _column("type"), _column("call_status"),
    Column("our_call_back", "flag"), Column("talk_seconds", "seconds"), Column("callback_seconds", "seconds"),
    Column(calls.LEAD_PRICE, "money"),
    *(_column(name) for name in calls.COLUMNS[calls.COLUMNS.index("channel"):]),
)  # fmt: skip


def _start_saving() -> None:
    st.session_state[_SAVING] = True


st.title(i18n.text("page_calls", lang))
show_still_loading(view)
searched, sorted_by = st.columns([3, 1])
search = searched.text_input(t("search"), key="calls_search", placeholder=t("search_placeholder"), max_chars=200)
sort = sorted_by.selectbox(t("sort"), list(calls.SORTS), key="calls_sort", format_func=lambda s: t(f"sort_{s}"))
with calls.open_calls(view.store, view.account, view.zone, result_scope(view)) as data:
    listing = data.listing(view.filters, search, lang=lang, sort=sort)

if not listing.total:
    st.info(t("nothing_found"), icon=":material/info:")
elif listing.shown < listing.total:
    shown, total = i18n.integer(listing.shown, lang), i18n.plural(listing.total, "calls", lang)
    st.caption(t("showing" if sort == "newest" else "showing_first", shown=shown, total=total))
else:
    st.caption(t("showing_all", total=i18n.plural(listing.total, "calls", lang)))
if listing.ours:  # listed so a person sees every call placed to a client, yet apart from what the metrics count
    st.caption(i18n.plural(listing.ours, "ours_listed", lang))

editable = view.person.can_write
# Visitor text (UTM values, pages, cities) only ever sits in table cells; no column is a link.
columns = {
    "_index": st.column_config.TextColumn(t("id"), disabled=True, help=i18n.help_text("id", lang)),
    **tables.column_config(COLUMNS[1:], t, lang),
}
if editable:  # the grid draws an editable cell itself (a table's own formatting applies to read-only cells only)
    columns[calls.LEAD_PRICE] = st.column_config.NumberColumn(
        t("lead_price"), min_value=0, max_value=10**12, step=1, format=i18n.grid_integer_format(lang, "₽"),
        help=f"{i18n.help_text(calls.LEAD_PRICE, lang) or ''} {t('editor_help')}".strip(),
    )  # fmt: skip
listed = visible_frame(listing.rows, keep=["id"])  # edits are matched on the raw ids
edited = st.data_editor(
    tables.styled(listed, COLUMNS, lang, grid=calls.editor_table(listed)),
    key="calls_editor",
    disabled=[name for name in calls.COLUMNS if name not in ("id", calls.LEAD_PRICE)] if editable else True,
    column_config=columns,
    hide_index=False,
    num_rows="fixed",
    placeholder=i18n.NOT_SET[lang],
)
if editable:  # viewers see the prices but no way to change them; the Writer refuses them anyway
    changes = calls.price_changes(listing.rows, edited)
    problems = [c for c in changes if c.problem]
    ready = [c for c in changes if not c.problem]
    if problems:
        st.error(t("bad_prices"), icon=":material/error:")
        st.dataframe(
            {t("id"): [c.call_id for c in problems], t("outcome"): [t(f"problem_{c.problem}") for c in problems]},
            hide_index=True,
            key="calls_price_problems",
        )

    saving = bool(st.session_state.get(_SAVING)) and bool(ready) and not problems
    st.button(
        t("save", n=i18n.plural(len(changes), "changes", lang)) if changes else t("save_none"),
        key="save_prices",
        type="primary",
        icon=":material/save:",
        disabled=not ready or bool(problems) or saving,
        on_click=_start_saving,
    )
    if saving:
        results: list[calls.SaveResult] = []
        st.session_state[_RESULTS] = results  # filled as each call is answered, so an interrupted save still shows
        try:
            send_with_progress(view, t("saving"), len(ready), lambda writer: calls.save_prices(writer, ready), results)
        finally:
            st.session_state[_SAVING] = False
        st.rerun()  # read the cache again: the new prices show at once
    st.session_state[_SAVING] = False

last: list[calls.SaveResult] = st.session_state.get(_RESULTS, [])
if last:
    st.subheader(t("results"))
    done = sum(r.saved for r in last)
    message = t("saved_count", saved=done, total=len(last))
    if done == len(last):
        st.success(message, icon=":material/check_circle:")
    else:
        st.warning(message, icon=":material/warning:")
    # Newton's words may hold anything: they stay in table cells.
    st.dataframe(
        {
            t("id"): [r.call_id for r in last],
            t("price"): [r.price for r in last],
            t("outcome"): [
                (t("saved") + (f" ({r.message})" if r.message else "")) if r.saved else (r.message or "") for r in last
            ],
        },
        hide_index=True,
        key="calls_save_results",
    )

st.subheader(t("listen"))
playable = calls.recordings(listing.rows)
if not playable:
    st.caption(t("no_recordings"))
else:
    by_id = {r.call_id: r for r in playable}
    chosen = st.selectbox(
        t("recording_choice"), list(by_id), key="call_recording", format_func=lambda call_id: by_id[call_id].label
    )
    recording = by_id.get(chosen) if chosen is not None else None
    if recording is not None and recording.playable:
        st.audio(recording.url)
    elif recording is not None:
        st.warning(t("not_playable"), icon=":material/block:")
        st.text(visible(recording.url))

if listing.total:
    filters = view.filters
    label = t("download_one") if listing.total == 1 else t("download", total=i18n.plural(listing.total, "calls", lang))
    tables.downloads(
        listing.rows, COLUMNS, lang, t, label=label,
        data=lambda: calls.export_csv(view.store, view.account, view.zone, filters, search),
        file_name="calls.csv", key="calls", help=t("download_help"), when_clicked=True,
    )  # fmt: skip
