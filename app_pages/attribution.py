# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Attribution: the metrics by a dimension (or two), answer rate and lead value by it, bars that narrow the filters."""

from __future__ import annotations

from functools import partial
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from dashboard import attribution, charts, i18n, money, reports
from dashboard.dimensions import DIMENSIONS, filterable
from dashboard.export import to_csv_bytes
from dashboard.tables import Column
from dashboard.ui import sidebar, tables
from dashboard.ui.agency import show_attribution_of_all
from dashboard.ui.comparison import compared_with
from dashboard.ui.freshness import show_still_loading
from dashboard.ui.money import blocked_note, no_costs_hint
from dashboard.ui.session import current_view, get_or_compute, open_metrics

TEXT = {
    "en": {
        "by": "Break down by",
        "then": "Then by (cross-tab)",
        "no_second": "— nothing —",
        "requests": "Requests",
        "callbacks": "Callbacks",
        "answered": "Answered",
        "missed": "Missed",
        "pending": "Pending",
        "answer_rate": "Answer rate",
        "avg_talk_seconds": "Average talk",
        "median_talk_seconds": "Median talk",
        "lead_value": "Lead value",
        "priced_leads": "Priced leads",
        "avg_lead_value": "Average lead value",
        "requests_change": "Requests, change",
        "answer_rate_change": "Answer rate, change",
        "changes_note": "Change {compared}. A change shown as (not set): too few to compare (fewer than 10 requests "
        "in the compared period, or fewer than 10 callbacks with a result in either period).",
        "download": "Download CSV",
        "download_excel": "CSV for Excel (;)",
        "download_help": "The table above with Newton's names and raw values, as `newton-dashboard report "
        "attribution` writes it (for a CRM or a script).",
        "download_excel_help": "The same table separated by semicolons and with decimal commas, as Excel with "
        "Russian settings expects.",
        "click_hint": "Click a bar to narrow the filters to that value; shift-click to pick several.",
        "click_other": "Clicking a bar narrows the filters only for channel, widget, department, UTM source, "
        "UTM campaign, type and call status; these bars are for reading.",
        "chart_limit": "The charts show the {shown} with the most requests of {total}; the table lists them all.",
        "cross_tab_charts": "The charts show {dimension} alone.",
        "callers": "Callers",
        "new_callers": "New callers",
        "repeat_callers": "Repeat callers",
        "count": "Count",
        "count_requests": "Every request",
        "count_first_touch": "Callers by first touch",
        "count_help": "Every request: each request under its own values, callers counted in every row they called "
        "through. First touch: each caller (phone) once, under the values of their first request in all the data.",
        "first_touch_note": "First touch: each caller is counted once, under the {dimension} of their first request "
        "in all the data the dashboard holds — for the channel, where they first came from; for any other breakdown, "
        "that request's value (a request type or call status then describes the first request, not the source). "
        "Requests and lead value are these callers' requests in the period. Requests without a phone are no caller "
        "and are not counted; there is no comparison, and the bars are for reading.",
        "cost": "Ad spend",
        "cpl": "CPL",
        "cost_per_answered": "Cost per answered",
        "cpa": "CPA",
        "romi": "ROMI",
        "drr": "Ad spend share (ДРР)",
    },
    "ru": {
        "by": "Разбивка по",
        "then": "Затем по (перекрёстная таблица)",
        "no_second": "— ничего —",
        "requests": "Заявки",
        "callbacks": "Обратные звонки",
        "answered": "Принятые",
        "missed": "Пропущенные",
        "pending": "Ждут результата",
        "answer_rate": "Доля принятых",
        "avg_talk_seconds": "Средний разговор",
        "median_talk_seconds": "Медианный разговор",
        "lead_value": "Сумма лидов",
        "priced_leads": "Лиды с ценой",
        "avg_lead_value": "Средняя сумма лида",
        "requests_change": "Заявки, изменение",
        "answer_rate_change": "Доля принятых, изменение",
        "changes_note": "Изменение {compared}. «(не задано)» в изменении: слишком мало для сравнения (меньше 10 "
        "заявок в периоде сравнения или меньше 10 звонков с результатом в одном из периодов).",
        "download": "Скачать CSV",
        "download_excel": "CSV для Excel (;)",
        "download_help": "Эта таблица с названиями и исходными значениями Newton, как её выгружает "
        "`newton-dashboard report attribution` (для CRM или скриптов).",
        "download_excel_help": "Та же таблица с точкой с запятой и десятичной запятой, как ждёт Excel с русскими "
        "настройками.",
        "click_hint": "Нажмите на столбец, чтобы оставить в фильтрах только это значение; с Shift — несколько.",
        "click_other": "Нажатие на столбец сужает фильтры только по каналу, виджету, отделу, UTM source, "
        "UTM campaign, типу и статусу звонка; эти столбцы — только для чтения.",
        "chart_limit": "На графиках — {shown} с наибольшим числом заявок, всего {total}; в таблице — все.",
        "cross_tab_charts": "Графики — только по измерению «{dimension}».",
        "callers": "Клиенты",
        "new_callers": "Новые клиенты",
        "repeat_callers": "Повторные клиенты",
        "count": "Считать",
        "count_requests": "Все обращения",
        "count_first_touch": "Клиентов по первому касанию",
        "count_help": "Все обращения: каждое обращение со своими значениями, клиент считается в каждой строке, через "
        "которую обращался. Первое касание: каждый клиент (телефон) один раз — по значениям его первого обращения "
        "во всех данных.",
        "first_touch_note": "Первое касание: каждый клиент считается один раз — по измерению «{dimension}» его "
        "первого обращения во всех данных дашборда; для канала это то, откуда он пришёл впервые, для других "
        "разбивок — значение того же первого обращения (тип заявки или статус звонка тогда описывают первое "
        "обращение, а не источник). Заявки и сумма лидов — обращения этих клиентов за период. Обращения без телефона "
        "клиентов не добавляют и не считаются; сравнения нет, столбцы — только для чтения.",
        "cost": "Расход",
        "cpl": "CPL",
        "cost_per_answered": "Стоимость принятого звонка",
        "cpa": "CPA",
        "romi": "ROMI",
        "drr": "ДРР",
    },
}

# The dimensions the sidebar filters, each with the session key of its multiselect.
FILTER_KEYS = {dimension.key: sidebar.filter_key(dimension) for dimension in filterable()}
CHART_KEYS = ("attribution_chart_answer_rate", "attribution_chart_lead_value")
MONEY_CHART_KEYS = ("attribution_chart_cost", "attribution_chart_romi")
# How the table writes its numbers, as the page's language does (the headers carry the units).
view = current_view()
lang = view.lang
if view.together:  # "All accounts": the accounts' tables summed, by one dimension
    show_attribution_of_all(view)
    st.stop()
st.title(i18n.text("page_attribution", lang))


def _value_name(dimension: str, value: Any) -> str:
    return i18n.label(dimension, value, lang)  # codes in words, (none) as "(not set)", visitors' text as sent


# The report's columns as the table shows them; the dimension columns come first (see `_columns`).
COLUMNS = (
    Column("requests", "integer"), Column("callbacks", "integer"), Column("answered", "integer"),
    Column("missed", "integer"), Column("pending", "integer"), Column("answer_rate", "percent"),
    Column("avg_talk_seconds", "seconds"), Column("median_talk_seconds", "seconds"), Column("lead_value", "money"),
    Column("priced_leads", "integer"), Column("avg_lead_value", "money"), Column("callers", "integer"),
    Column("new_callers", "integer"),
    Column("requests_change", "signed_percent"), Column("answer_rate_change_pp", "points", "answer_rate_change"),
)  # fmt: skip
# By first touch (`reports.FIRST_TOUCH_COLUMNS`).
FIRST_TOUCH_COLUMNS = (
    Column("callers", "integer"), Column("new_callers", "integer"), Column("repeat_callers", "integer"),
    Column("requests", "integer"), Column("lead_value", "money"), Column("priced_leads", "integer"),
    Column("avg_lead_value", "money"),
)  # fmt: skip
# Money (`money.MONEY_COLUMNS`, after the others): roubles as lead value is shown, ROMI and ДРР as percentages.
MONEY_COLUMNS = (
    Column("cost", "money"), Column("cpl", "money"), Column("cost_per_answered", "money"), Column("cpa", "money"),
    Column("romi", "percent"), Column("drr", "percent"),
)  # fmt: skip


def _columns(data: attribution.Attribution) -> list[Column]:
    """The table's columns: its dimension(s), pinned, each value shown by name (a channel key as its name); then
    the report's, money last (empty where costs cannot reach, as in the export; by first touch costs never do)."""
    dimensions = [data.by] + ([data.then] if data.then else [])
    counted = FIRST_TOUCH_COLUMNS if data.first_touch else (*COLUMNS, *MONEY_COLUMNS)
    return [
        *(Column(key, header=f"dimension_{key}", names=partial(_value_name, key), pinned=True) for key in dimensions),
        *counted,
    ]


def t(key: str, **values: object) -> str:
    """The page's words; a dimension's column is headed by the dimension's name."""
    if key.startswith("dimension_"):
        return charts.dimension_name(key.removeprefix("dimension_"), lang)
    return i18n.text(key, lang, TEXT, **values)


def _narrow(chart_key: str, data: attribution.Attribution, filter_key: str) -> None:
    """A clicked bar: the sidebar's filter becomes its value. A callback runs before the sidebar is drawn again,
    so it may set the sidebar widget's state (after the widget is drawn, setting it would raise)."""
    event = st.session_state.get(chart_key)
    values = data.clicked(event["selection"]["point_indices"]) if event else []
    if values:
        st.session_state[filter_key] = values


def _money_charts(spend: attribution.Spend, lang: str) -> tuple[go.Figure, go.Figure]:
    """Ad spend beside lead value by source, and ROMI by campaign."""
    return charts.cost_vs_lead_value(spend.by_source, lang=lang), charts.romi_by(spend.by_campaign, lang=lang)


dimensions = list(DIMENSIONS)
left, right = st.columns(2)
by: str = left.selectbox(  # by channel unless the link says otherwise (dashboard/ui/links.py)
    t("by"), dimensions, key="attribution_by",
    format_func=lambda dimension: charts.dimension_name(dimension, lang),
)  # fmt: skip
then: str | None = right.selectbox(
    t("then"), [None, *dimensions], key="attribution_then",
    format_func=lambda dimension: t("no_second") if dimension is None else charts.dimension_name(dimension, lang),
)  # fmt: skip

count: str = st.radio(  # every request unless the link says otherwise (dashboard/ui/links.py)
    t("count"), attribution.COUNTS, key="attribution_count", horizontal=True, help=t("count_help"),
    format_func=lambda counted: t(f"count_{counted}"),
)  # fmt: skip
first_touch = count == "first_touch"
# Money is shown where costs reach: the account has costs, and the view's filters and dimensions are ones they follow.
money_filters = money.blocked_by(view.filters)
blocked = () if first_touch else money.blocked_by(view.filters, by, then)

with open_metrics(view) as metrics:
    costs_stored = money.Money.beside(metrics).has_costs()
    asked = reports.Breakdown(by, then, view.comparison, view.preset)
    comparison = metrics.comparing(view.filters, view.comparison, view.preset) if view.filters.period else None
    spent = costs_stored and not first_touch and not money_filters
    # The page's independent questions, asked in one round.
    data, ours, spend = metrics.together(
        lambda m: attribution.attribution(m, view.filters, asked, first_touch=first_touch),
        lambda m: m.ours(view.filters),
        lambda m: attribution.spend_by_source_and_campaign(m, view.filters) if spent else None,
    )
show_still_loading(view, comparison.other if comparison else None)

if data.is_empty:
    st.info(i18n.text("no_calls", lang), icon=":material/info:")
else:
    tables.show(data.table, _columns(data), lang, t, key="attribution_table")
    said = compared_with(view, comparison) if comparison else None
    if said and "requests_change" in data.table.columns:
        st.caption(t("changes_note", compared=said))
    if data.first_touch:
        st.caption(t("first_touch_note", dimension=charts.dimension_name(by, lang)))
    if ours:
        st.caption(i18n.plural(ours, "ours_left_out", lang))
    if costs_stored and blocked:
        blocked_note(blocked, lang)
    columns = _columns(data)
    period = view.filters.period
    named = partial(attribution.file_name, by, data.then, period, first_touch=data.first_touch)
    # In a row, each button as wide as its words: in columns of a fixed share the Russian ones were cut short.
    csv = excel = screen = st.container(horizontal=True)
    csv.download_button(
        t("download"), to_csv_bytes(data.table), file_name=named(),
        mime="text/csv", key="attribution_csv", on_click="ignore", icon=":material/download:",
        help=t("download_help"),
    )  # fmt: skip
    excel.download_button(
        t("download_excel"), to_csv_bytes(data.table, separator=";"),
        file_name=named(excel=True), mime="text/csv",
        key="attribution_csv_excel", on_click="ignore", icon=":material/download:", help=t("download_excel_help"),
    )  # fmt: skip
    tables.screen_download(
        data.table, columns, lang, t, file_name=named(), key="attribution_csv_screen", where=screen,
    )  # fmt: skip

    # By first touch a bar is where callers first came from, which no filter of requests can select.
    filter_key = None if data.first_touch else FILTER_KEYS.get(by)
    first_chart = charts.callers_first_touch if data.first_touch else charts.answer_rate_by
    figures = get_or_compute(
        view,
        ("attribution_charts", view.filters, by, then, count, lang),
        lambda: (first_chart(data.chart, by, lang), charts.lead_value_by(data.chart, by, lang)),
    )
    for column, figure, chart_key in zip(st.columns(2), figures, CHART_KEYS, strict=True):
        if filter_key:
            narrow = partial(_narrow, chart_key, data, filter_key)
            column.plotly_chart(figure, key=chart_key, on_select=narrow, selection_mode="points")
        else:
            column.plotly_chart(figure, key=chart_key)
    if not data.first_touch:  # its note says the bars are for reading
        st.caption(t("click_hint") if filter_key else t("click_other"))
    if data.then:
        st.caption(t("cross_tab_charts", dimension=charts.dimension_name(by, lang)))
    if data.values > attribution.CHART_LIMIT:
        st.caption(t("chart_limit", shown=attribution.CHART_LIMIT, total=i18n.plural(data.values, "values", lang)))

    if spend is not None:
        money_figures = get_or_compute(
            view, ("attribution_money_charts", view.filters, lang), partial(_money_charts, spend, lang)
        )
        for column, figure, chart_key in zip(st.columns(2), money_figures, MONEY_CHART_KEYS, strict=True):
            column.plotly_chart(figure, key=chart_key)
if not costs_stored and not first_touch:
    no_costs_hint(lang)
