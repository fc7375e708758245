# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Lead prices: a CSV of prices checked row by row, the ready rows sent to Newton, and every write ever made."""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from dashboard import i18n, lead_prices
from dashboard.errors import UploadError
from dashboard.store import utc_now
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.batch import send_with_progress
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import current_view

TEXT = {
    "en": {
        "intro": "Upload a CSV with a header row: `id,price` sets the lead price of calls (SetLeadPrice); "
        "`phone,price` with an optional `date` creates a deal for the lead that called from each phone "
        "(CreateCrmLead). Commas or semicolons; UTF-8 or Windows-1251.",
        "upload": "Upload prices",
        "file": "CSV file",
        "file_help": "At most 2 MB and 10,000 rows. Prices are whole roubles (50 000 and 50000,00 will do); phones "
        "as people write them (+7 979 538-21-77, 8 979 538-21-77, 9795382177); dates YYYY-MM-DD or "
        "YYYY-MM-DD HH:MM:SS (UTC).",
        "no_file": "No file yet. Rows are checked and shown here before anything is sent.",
        "error_too_large": "The file is larger than {limit_mb} MB. Split it into smaller files.",
        "error_too_many_rows": "The file has {rows} rows; at most {limit} can be sent at once. Split it.",
        "error_empty": "The file is empty.",
        "error_no_rows": "The file has a header but no rows.",
        "error_encoding": "The file is neither UTF-8 nor Windows-1251 text. Save it as CSV (UTF-8).",
        "error_unreadable": "The file is not a readable CSV (check the quotes). Save it again as CSV.",
        "error_columns": "The header must be one of: {expected}. This file has: {found}",
        "kind_set": "Each ready row sets the lead price of the call with that id.",
        "kind_crm": "Each ready row creates a deal in Newton for the lead that called from that phone. "
        "A deal cannot be undone, and sending the same row twice creates two deals.",
        "preview": "Preview",
        "counts": "{ready} ready, {bad} with errors (not sent).",
        "row": "Row",
        "id": "Call id",
        "phone": "Phone",
        "price": "Price, ₽",
        "date": "Date (UTC)",
        "status": "Status",
        "ready": "ready",
        "apply": "Send {n} to Newton",
        "resume": "Send the {n} to Newton",
        "applying": "Sending…",
        "already_applied": "Every ready row of this file has been sent (see below). The same rows are not sent "
        "again for 10 minutes; after that, sending the file again sends them again.",
        "results": "Sending this file",
        "sent_count": "{sent} of {total} sent.",
        "sent_waiting": "{sent} of {total} sent, {waiting} waiting.",
        "outcome": "Result",
        "message": "Message",
        "download_results": "Download the results (CSV)",
        "history": "Change log",
        "history_help": "Every write made from this dashboard for this account, newest first.",
        "no_history": "Nothing has been written to Newton from the dashboard yet.",
        "time": "Time (local)",
        "action": "Action",
        "parameters": "Parameters",
        "actor": "By",
        "editors_only": "Uploading lead prices is for editors; you can see the change log in its tab.",
        "download_history": "Download the change log (CSV)",
        "tab": "Part of the page",
    },
    "ru": {
        "intro": "Загрузите CSV со строкой заголовков: `id,price` задаёт цену лида звонкам (SetLeadPrice); "
        "`phone,price` и необязательная `date` создают сделку для лида, звонившего с каждого номера "
        "(CreateCrmLead). Запятые или точки с запятой; UTF-8 или Windows-1251.",
        "upload": "Загрузка цен",
        "file": "CSV-файл",
        "file_help": "Не больше 2 МБ и 10 000 строк. Цены — целые рубли (можно 50 000 или 50000,00); телефоны — "
        "как их обычно пишут (+7 979 538-21-77, 8 979 538-21-77, 9795382177); даты — ГГГГ-ММ-ДД или "
        "ГГГГ-ММ-ДД ЧЧ:ММ:СС (UTC).",
        "no_file": "Файл ещё не загружен. Строки будут проверены и показаны здесь до отправки.",
        "error_too_large": "Файл больше {limit_mb} МБ. Разделите его на несколько файлов.",
        "error_too_many_rows": "В файле строк: {rows}; за раз можно отправить не больше {limit}. Разделите его.",
        "error_empty": "Файл пуст.",
        "error_no_rows": "В файле есть заголовок, но нет строк.",
        "error_encoding": "Файл не в кодировке UTF-8 и не в Windows-1251. Сохраните его как CSV (UTF-8).",
        "error_unreadable": "Файл не читается как CSV (проверьте кавычки). Сохраните его заново как CSV.",
        "error_columns": "Заголовок должен быть одним из: {expected}. В этом файле: {found}",
        "kind_set": "Каждая готовая строка задаёт цену лида звонку с этим id.",
        "kind_crm": "Каждая готовая строка создаёт в Newton сделку для лида, звонившего с этого номера. "
        "Сделку нельзя отменить, а повторная отправка той же строки создаст вторую сделку.",
        "preview": "Проверка",
        "counts": "Готово: {ready}, с ошибками: {bad} (не отправляются).",
        "row": "Строка",
        "id": "Id звонка",
        "phone": "Телефон",
        "price": "Цена, ₽",
        "date": "Дата (UTC)",
        "status": "Статус",
        "ready": "готово",
        "apply": "Отправить в Newton {n}",
        "resume": "Отправить в Newton {n}",
        "applying": "Отправляем…",
        "already_applied": "Все готовые строки этого файла отправлены (см. ниже). Те же строки не отправляются "
        "повторно 10 минут; после этого повторная отправка файла отправит их снова.",
        "results": "Отправка этого файла",
        "sent_count": "Отправлено {sent} из {total}.",
        "sent_waiting": "Отправлено {sent} из {total}, ждут отправки: {waiting}.",
        "outcome": "Результат",
        "message": "Сообщение",
        "download_results": "Скачать результаты (CSV)",
        "history": "Журнал изменений",
        "history_help": "Все записи в Newton из этого дашборда для этого аккаунта, новые сверху.",
        "no_history": "Из дашборда в Newton ещё ничего не записывалось.",
        "time": "Время (местное)",
        "action": "Действие",
        "parameters": "Параметры",
        "actor": "Кто",
        "editors_only": "Загружать цены лидов могут только редакторы; журнал изменений — на соседней вкладке.",
        "download_history": "Скачать журнал изменений (CSV)",
        "tab": "Часть страницы",
    },
}
view = current_view()
lang = view.lang


t = i18n.translator(lang, TEXT)
# The results of sending a file and the history of writes, as shown and as their "as on screen" downloads write them.
RESULT_COLUMNS = (
    Column("row", "integer"), Column("id"), Column("phone", "phone"), Column("price"), Column("date"),
    Column("outcome", names=partial(i18n.label, "write_outcome", lang=lang)), Column("message"),
)  # fmt: skip
# The history keeps the codes (its raw download is for scripts); the table and the other download say them in words.
HISTORY_COLUMNS = (
    Column("time", "datetime"), Column("action", names=partial(i18n.label, "write_action", lang=lang)),
    Column("parameters"), Column("outcome", names=partial(i18n.label, "write_outcome", lang=lang)),
    Column("message"), Column("actor"),
)  # fmt: skip


def _help(name: str) -> str | None:
    return i18n.help_text(name, lang)


def _with_help(table: dict[str, list[object]], names: list[str]) -> dict[str, Any]:
    """Column configs for a table headed in words: each header gets the definition of its column `names`."""
    return {
        header: st.column_config.Column(header, help=_help(name)) for header, name in zip(table, names, strict=True)
    }


def _show_results(action: str, results: list[lead_prices.Result]) -> None:
    """How sending this file stands: the true counts, a row per ready row, and the results as CSV."""
    st.subheader(t("results"))
    sent = sum(r.sent for r in results)
    waiting = sum(r.outcome == "waiting" for r in results)
    counts = {"sent": i18n.integer(sent, lang), "total": i18n.integer(len(results), lang)}
    message = t("sent_waiting", waiting=i18n.integer(waiting, lang), **counts) if waiting else t("sent_count", **counts)
    if sent == len(results):
        st.success(message, icon=":material/check_circle:")
    else:
        st.warning(message, icon=":material/warning:")
    # Newton's words may hold anything: they stay in table cells.
    frame = lead_prices.results_frame(action, results)
    tables.show(frame, RESULT_COLUMNS, lang, t, key="prices_results")
    tables.downloads(
        frame, RESULT_COLUMNS, lang, t, label=t("download_results"), data=lead_prices.results_csv(action, results),
        file_name="lead-prices-results.csv", key="prices_results",
    )  # fmt: skip


st.title(i18n.text("page_lead_prices", lang))
st.caption(t("intro"))
# One part at a time, the part in the URL (dashboard/ui/links.py): a link may open the history directly.
tab = st.radio(t("tab"), ["upload", "history"], key="prices_tab", horizontal=True, label_visibility="collapsed",
               format_func=lambda part: t("upload") if part == "upload" else t("history"))  # fmt: skip
if tab != "upload":
    pass
elif not view.person.can_write:
    st.info(t("editors_only"), icon=":material/lock:")
else:  # the Writer refuses a viewer's write anyway
    st.subheader(t("upload"))
    uploaded = st.file_uploader(t("file"), type="csv", key="prices_file", help=t("file_help"))
    upload: lead_prices.Upload | None = None
    if uploaded is None:
        st.info(t("no_file"), icon=":material/upload_file:")
    else:
        try:
            upload = lead_prices.parse(uploaded.getvalue())
        except UploadError as error:
            # The message may quote the file's header: made literal, it cannot become a link or markup.
            st.error(literal(t(f"error_{error.code}", **error.values)), icon=":material/error:")

    if upload is not None:
        st.subheader(t("preview"))
        st.info(t("kind_set" if upload.action == lead_prices.SET_PRICE else "kind_crm"), icon=":material/info:")
        ready = upload.ready
        counts = t("counts", ready=i18n.integer(len(ready), lang), bad=i18n.integer(len(upload.bad), lang))
        if upload.bad:
            st.warning(counts, icon=":material/warning:")
        else:
            st.success(counts, icon=":material/check_circle:")
        # The file's cells only ever sit in table cells: plain text, never Markdown, never a link.
        preview: dict[str, list[object]] = {
            t("row"): [r.row for r in upload.rows],
            t(upload.target_field): [visible(r.target) for r in upload.rows],
            t("price"): [visible(r.price) for r in upload.rows],
            **({t("date"): [visible(r.date) for r in upload.rows]} if upload.action == lead_prices.CRM_LEAD else {}),
            t("status"): [t("ready") if r.ready else visible(r.status_in(lang)) for r in upload.rows],
        }
        names = [
            "row",
            upload.target_field,
            "price",
            *(["date"] if upload.action == lead_prices.CRM_LEAD else []),
            "status",
        ]
        st.dataframe(preview, hide_index=True, key="prices_preview", column_config=_with_help(preview, names))

        # Where sending this file stands comes from the write log, not from this session: a run cut short by a
        # second click or a reload leaves nothing behind to go stale, and the next run resumes where it stopped.
        standing = lead_prices.progress(view.store, view.account, upload, utc_now())
        waiting = sum(r.outcome == "waiting" for r in standing)
        if waiting == len(ready):
            label = t("apply", n=i18n.plural(waiting, "ready_rows", lang))
        else:
            label = t("resume", n=i18n.plural(waiting, "waiting_rows", lang))
        pressed = st.button(label, key="prices_apply", type="primary", icon=":material/send:", disabled=not waiting)
        if ready and not waiting:
            st.caption(t("already_applied"))
        if pressed and waiting:
            send_with_progress(view, t("applying"), len(ready), partial(lead_prices.apply, upload=upload))
            st.rerun()
        if waiting < len(ready):
            _show_results(upload.action, standing)

if tab != "history":
    st.stop()
st.subheader(t("history"))
st.caption(t("history_help"))
history = lead_prices.history(view.store, view.account, view.zone)
if history.is_empty():
    st.info(t("no_history"), icon=":material/history:")
else:
    tables.show(history, HISTORY_COLUMNS, lang, t, key="prices_history")
    tables.downloads(
        history, HISTORY_COLUMNS, lang, t, label=t("download_history"), data=lead_prices.history_csv(history),
        file_name="lead-prices-history.csv", key="prices_history",
    )  # fmt: skip
