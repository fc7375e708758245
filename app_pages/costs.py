# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Costs: a file of ad spend checked row by row, the ready rows imported, and what is stored per source and month."""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from dashboard import cost_files, i18n
from dashboard.errors import UploadError
from dashboard.export import to_csv_bytes
from dashboard.store import utc_now
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import current_view

TEXT = {
    "en": {
        "intro": "What you spent on ads, per day, UTM source and campaign, from a file: a CSV or XLSX with the columns "
        "`date, utm_source, utm_campaign, cost` (or `дата, источник, кампания, расход`; `utm_medium` and "
        "`campaign_id` may be added), or a report downloaded from Yandex Direct (day, campaign, cost) or VK Ads "
        "(day, campaign, spent). Costs stay in this dashboard: nothing is sent to Newton. The Attribution page and "
        "the Overview set them against the calls as cost per request, ROMI and ДРР.",
        "upload": "Import costs",
        "file": "Cost file (CSV or XLSX)",
        "file_help": "Commas or semicolons, UTF-8 or Windows-1251; costs in roubles with a decimal point or comma "
        "(1 234,50 will do); dates as the file writes them, in the dashboard's time zone, none in the future.",
        "format": "Format",
        "format_auto": "Recognise from the header",
        "format_generic": "Date, source, campaign, cost",
        "format_yandex-direct": "Yandex Direct report",
        "format_vk-ads": "VK Ads report",
        "source": "UTM source of the report's campaigns",
        "source_help": "A Yandex Direct or VK Ads report does not say which utm_source its ads carry: write it as "
        "it is in your links (for example yandex or vk). A file with a source column does not need it.",
        "no_file": "No file yet. Rows are checked and shown here before anything is imported.",
        "preview": "Preview",
        "counts": "{ready} ready, {bad} with errors (not imported).",
        "only_bad": "Only the rows with errors",
        "row": "Row",
        "date": "Date",
        "utm_source": "UTM source",
        "utm_medium": "UTM medium",
        "utm_campaign": "UTM campaign",
        "campaign_id": "Campaign id",
        "cost": "Cost, ₽",
        "status": "Status",
        "ready": "ready",
        "replace": "Replace this file's days for its sources",
        "replace_help": "Before importing, clear every cost of this kind of file stored for each of its sources "
        "from the file's first day to its last, so days or campaigns missing from the new file are gone too. "
        "Without it, rows of the same day, source and campaign replace the stored ones and the rest stay.",
        "import": "Import {n}",
        "nothing_ready": "No row of this file can be imported: fix the rows marked above and upload it again.",
        "result": "Imported",
        "result_counts": "{added} new, {replaced} replaced the ones stored, {cleared} cleared first; {bad} not "
        "imported.",
        "outcome": "Result",
        "imported": "imported",
        "not_imported": "not imported: {problem}",
        "editors_only": "Importing costs is for editors; what is stored is shown below.",
        "stored": "Stored costs",
        "stored_help": "Every cost kept for this account, per month, UTM source and kind of file.",
        "no_costs": "No costs stored yet.",
        "month": "Month",
        "origin": "From",
        "days": "Days",
        "rows": "Rows",
        "download_stored": "Download CSV",
        "stored_cost": "Cost",
    },
    "ru": {
        "intro": "Расходы на рекламу по дням, UTM source и кампаниям из файла: CSV или XLSX с колонками "
        "`date, utm_source, utm_campaign, cost` (или `дата, источник, кампания, расход`; можно добавить "
        "`utm_medium` и `campaign_id`) или отчёт, выгруженный из Яндекс Директа (день, кампания, расход) или "
        "VK Рекламы (день, кампания, потрачено). Расходы хранятся только в дашборде, в Newton ничего не уходит. "
        "Страницы «Источники» и «Обзор» сопоставляют их со звонками: стоимость заявки, ROMI и ДРР.",
        "upload": "Загрузка расходов",
        "file": "Файл расходов (CSV или XLSX)",
        "file_help": "Запятые или точки с запятой, UTF-8 или Windows-1251; расход в рублях с точкой или запятой "
        "(можно 1 234,50); даты — как в файле, по часовому поясу дашборда, не в будущем.",
        "format": "Формат",
        "format_auto": "Определить по заголовку",
        "format_generic": "Дата, источник, кампания, расход",
        "format_yandex-direct": "Отчёт Яндекс Директа",
        "format_vk-ads": "Отчёт VK Рекламы",
        "source": "UTM source кампаний из отчёта",
        "source_help": "В отчёте Яндекс Директа или VK Рекламы не сказано, с каким utm_source идут объявления: "
        "укажите его, как в ваших ссылках (например, yandex или vk). Файлу с колонкой источника он не нужен.",
        "no_file": "Файл ещё не загружен. Строки будут проверены и показаны здесь до загрузки.",
        "preview": "Проверка",
        "counts": "Готово: {ready}, с ошибками: {bad} (не загружаются).",
        "only_bad": "Только строки с ошибками",
        "row": "Строка",
        "date": "Дата",
        "utm_source": "UTM source",
        "utm_medium": "UTM medium",
        "utm_campaign": "UTM campaign",
        "campaign_id": "Id кампании",
        "cost": "Расход, ₽",
        "status": "Статус",
        "ready": "готово",
        "replace": "Заменить дни этого файла по его источникам",
        "replace_help": "Перед загрузкой удалить все расходы из файлов этого вида по каждому источнику файла "
        "с его первого по последний день, чтобы исчезли и дни или кампании, которых в новом файле нет. "
        "Без этого строки за тот же день, источник и кампанию заменяют сохранённые, а остальные остаются.",
        "import": "Загрузить {n}",
        "nothing_ready": "Ни одну строку этого файла загрузить нельзя: исправьте отмеченные строки и загрузите "
        "файл снова.",
        "result": "Загружено",
        "result_counts": "Новых: {added}, заменили сохранённые: {replaced}, удалено перед загрузкой: {cleared}; "
        "не загружено: {bad}.",
        "outcome": "Результат",
        "imported": "загружено",
        "not_imported": "не загружено: {problem}",
        "editors_only": "Загружать расходы могут только редакторы; сохранённые расходы — ниже.",
        "stored": "Сохранённые расходы",
        "stored_help": "Все расходы этого аккаунта по месяцам, UTM source и видам файлов.",
        "no_costs": "Расходов пока нет.",
        "month": "Месяц",
        "origin": "Откуда",
        "days": "Дни",
        "rows": "Строки",
        "download_stored": "Скачать CSV",
        "stored_cost": "Расход",
    },
}
FORMATS = ("auto", "generic", "yandex-direct", "vk-ads")
view = current_view()
lang = view.lang
t = i18n.translator(lang, TEXT)
# The file's columns as the preview shows them, in this order.
PREVIEW_CELLS = ("date", "utm_source", "utm_medium", "utm_campaign", "campaign_id", "cost")
STORED_COLUMNS = (
    Column("month", pinned=True), Column("utm_source", names=partial(i18n.shown_value, lang=lang)),
    Column("origin", names=partial(i18n.label, "cost_origin", lang=lang)), Column("days", "integer"),
    Column("rows", "integer"), Column("cost", "kopecks", header="stored_cost"),
)  # fmt: skip
_RESULT = "costs_result"  # the session's last import: (the file it was, what it did, its rows' results)


def _with_help(table: dict[str, list[object]], names: list[str]) -> dict[str, Any]:
    """Column configs for a table headed in words: each header gets the definition of its column `names`."""
    return {
        header: st.column_config.Column(header, help=i18n.help_text(name, lang))
        for header, name in zip(table, names, strict=True)
    }


def _status(line: cost_files.CostLine) -> str:
    return t("ready") if line.ready else visible(line.status_in(lang))


def _preview(cost_file: cost_files.CostFile) -> None:
    """Every row of the file as written, each marked ready or with what is wrong (named by row and column)."""
    st.subheader(t("preview"))
    bad = len(cost_file.bad)
    counts = t("counts", ready=i18n.integer(_ready_rows(cost_file), lang), bad=i18n.integer(bad, lang))
    if bad:
        st.warning(counts, icon=":material/warning:")
    else:
        st.success(counts, icon=":material/check_circle:")
    # In a long file the marked rows are easy to miss: they may be shown alone.
    only_bad = bad and st.toggle(t("only_bad"), key="costs_only_bad")
    lines = cost_file.bad if only_bad else cost_file.rows
    # The file's cells only ever sit in table cells: plain text, never Markdown, never a link.
    shown = [name for name in PREVIEW_CELLS if any(line.cells.get(name) for line in cost_file.rows)]
    preview: dict[str, list[object]] = {
        t("row"): [line.row for line in lines],
        **{t(name): [visible(line.cells.get(name, "")) for line in lines] for name in shown},
        t("status"): [_status(line) for line in lines],
    }
    st.dataframe(
        preview, hide_index=True, key="costs_preview", column_config=_with_help(preview, ["row", *shown, "status"])
    )


def _ready_rows(cost_file: cost_files.CostFile) -> int:
    """The file's rows that will be stored (a report's rows of one day and campaign become one cost)."""
    return sum(line.ready for line in cost_file.rows)


def _import(cost_file: cost_files.CostFile, signature: tuple[object, ...]) -> None:
    """The import button (with the replace option); a click imports the ready rows and remembers what it did."""
    ready = _ready_rows(cost_file)
    if not ready:
        st.info(t("nothing_ready"), icon=":material/block:")
        return
    replace = st.checkbox(t("replace"), key="costs_replace", help=t("replace_help"))
    label = t("import", n=i18n.plural(ready, "ready_rows", lang))
    if st.button(label, key="costs_import", type="primary", icon=":material/upload:"):
        saved = cost_files.import_costs(
            view.store, view.account, cost_file, by=view.person.name, now=utc_now(), replace=replace
        )
        st.session_state[_RESULT] = (
            signature,
            saved,
            [(line.row, line.ready, _outcome(line)) for line in cost_file.rows],
        )


def _outcome(line: cost_files.CostLine) -> str:
    return t("imported") if line.ready else t("not_imported", problem=visible(line.status_in(lang)))


def _result(signature: tuple[object, ...]) -> None:
    """What importing this file did: the counts, and a row per row of the file."""
    remembered = st.session_state.get(_RESULT)
    if not remembered or remembered[0] != signature:
        return
    _, saved, outcomes = remembered
    st.subheader(t("result"))
    bad = sum(not ready for _, ready, _ in outcomes)
    said = t(
        "result_counts",
        added=i18n.integer(saved.added, lang),
        replaced=i18n.integer(saved.replaced, lang),
        cleared=i18n.integer(saved.cleared, lang),
        bad=i18n.integer(bad, lang),
    )
    (st.warning if bad else st.success)(said, icon=":material/warning:" if bad else ":material/check_circle:")
    table: dict[str, list[object]] = {
        t("row"): [row for row, _, _ in outcomes],
        t("outcome"): [outcome for _, _, outcome in outcomes],
    }
    st.dataframe(table, hide_index=True, key="costs_outcomes", column_config=_with_help(table, ["row", "outcome"]))


def _upload() -> None:
    """The file, its format and source, its checked preview, the import and its result."""
    st.subheader(t("upload"))
    left, right = st.columns(2)
    chosen: str = left.selectbox(
        t("format"), FORMATS, key="costs_format", format_func=lambda name: t(f"format_{name}")
    )  # fmt: skip
    source = right.text_input(
        t("source"), key="costs_source", help=t("source_help"), disabled=chosen == "generic", max_chars=200
    )
    uploaded = st.file_uploader(t("file"), type=["csv", "xlsx"], key="costs_file", help=t("file_help"))
    if uploaded is None:
        st.info(t("no_file"), icon=":material/upload_file:")
        return
    given = "" if chosen == "generic" else source.strip()  # a disabled box keeps what was typed before
    try:
        cost_file = cost_files.read_cost_file(
            uploaded.getvalue(), uploaded.name, file_format=chosen, source=given or None, today=view.today()
        )
    except UploadError as error:
        # The message may quote the file's header: made literal, it cannot become a link or markup.
        st.error(literal(cost_files.error_message(error, lang)), icon=":material/error:")
        return
    signature = (uploaded.file_id, chosen, given)
    _preview(cost_file)
    _import(cost_file, signature)
    _result(signature)


def _stored() -> None:
    """What is kept: per month, source and kind of file, with the raw and the as-on-screen downloads."""
    st.subheader(t("stored"))
    st.caption(t("stored_help"))
    monthly = view.store.read(cost_files.monthly_costs, view.account)
    if monthly.is_empty():
        st.info(t("no_costs"), icon=":material/payments:")
        return
    tables.show(monthly, STORED_COLUMNS, lang, t, key="costs_stored")
    tables.downloads(
        monthly, STORED_COLUMNS, lang, t, label=t("download_stored"), data=to_csv_bytes(monthly),
        file_name="costs-by-month.csv", key="costs_stored",
    )  # fmt: skip


st.title(i18n.text("page_costs", lang))
st.caption(t("intro"))
if view.person.can_write:
    _upload()
else:  # costs are people's data: only editors change them
    st.info(t("editors_only"), icon=":material/lock:")
_stored()
