# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Overview under "All accounts": the person's accounts summed, and the agency's table, one row per account."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboard import i18n, reports
from dashboard.agency import TOTAL, account_numbers, accounts_table, summed_breakdown
from dashboard.charts import dimension_name
from dashboard.dimensions import DIMENSIONS
from dashboard.export import to_csv_bytes
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.freshness import last_synced_text
from dashboard.ui.session import View, open_metrics

TEXT = {
    "en": {
        "title": "Overview: all accounts",
        "intro": "Your {count} accounts together, each counted in its own time zone: a period such as the last "
        "30 days means each account's own days.",
        "account": "Account",
        "requests": "Requests",
        "answer_rate": "Answer rate",
        "lost_leads": "Lost leads",
        "lead_value": "Lead value, ₽",
        "cost": "Cost, ₽",
        "romi": "ROMI",
        "total": "Total",
        "download": "Download CSV",
        "no_romi": "ROMI of the total is left empty: not every account has costs.",
        "attribution_title": "Attribution: all accounts",
        "by": "By",
        "callbacks": "Callbacks",
        "answered": "Answered",
        "missed": "Missed",
        "pending": "Pending",
        "avg_talk_seconds": "Avg talk",
        "priced_leads": "Priced leads",
        "avg_lead_value": "Avg lead value, ₽",
        "cpl": "CPL, ₽",
        "cost_per_answered": "Cost per answered, ₽",
        "cpa": "CPA, ₽",
        "drr": "DRR",
        "summed_note": "Summed over your accounts by one dimension; a median cannot be summed, so none is shown, "
        "and money only when every account has costs that follow this view. Pick one account for the rest.",
    },
    "ru": {
        "title": "Обзор: все аккаунты",
        "intro": "Ваши аккаунты ({count}) вместе, каждый в своём часовом поясе: период вроде «последние 30 дней» "
        "— это свои дни каждого аккаунта.",
        "account": "Аккаунт",
        "requests": "Заявки",
        "answer_rate": "Доля принятых",
        "lost_leads": "Потерянные лиды",
        "lead_value": "Сумма лидов, ₽",
        "cost": "Расход, ₽",
        "romi": "ROMI",
        "total": "Итого",
        "download": "Скачать CSV",
        "no_romi": "ROMI итога не считается: расходы есть не у всех аккаунтов.",
        "attribution_title": "Источники: все аккаунты",
        "by": "В разрезе",
        "callbacks": "Обратные звонки",
        "answered": "Принятые",
        "missed": "Пропущенные",
        "pending": "Ожидают",
        "avg_talk_seconds": "Средний разговор",
        "priced_leads": "Лиды с ценой",
        "avg_lead_value": "Средняя цена лида, ₽",
        "cpl": "CPL, ₽",
        "cost_per_answered": "Цена принятого, ₽",
        "cpa": "CPA, ₽",
        "drr": "ДРР",
        "summed_note": "Сумма по вашим аккаунтам в одном разрезе; медиану сложить нельзя, поэтому её нет, а деньги "
        "показаны, только если у каждого аккаунта есть расходы для этого вида. Остальное — по одному аккаунту.",
    },
}


# The agency's table, described once for the screen and both downloads (dashboard/tables.py).
ACCOUNT_COLUMNS = (
    Column("account", pinned=True), Column("requests", "integer"), Column("answer_rate", "percent"),
    Column("lost_leads", "integer"), Column("lead_value", "money"), Column("cost", "money"), Column("romi", "percent"),
)  # fmt: skip
# How each summed Attribution column is shown (the counts are integers).
SUMMED_KINDS = {
    "answer_rate": "percent", "avg_talk_seconds": "seconds", "lead_value": "money", "avg_lead_value": "money",
    "cost": "money", "cpl": "money", "cost_per_answered": "money", "cpa": "money", "romi": "percent",
    "drr": "percent",
}  # fmt: skip


def show_all_accounts(view: View) -> None:
    """The summed headline numbers and the table of accounts (with its total row), and the table as CSV."""
    t = i18n.translator(view.lang, TEXT)
    st.title(t("title"))
    st.caption(t("intro", count=len(view.together)))
    rows = []
    for account in view.together:
        one = view.one(account)  # its own connection's rows and its own time zone
        with open_metrics(one) as metrics:
            rows.append((account.title, account_numbers(metrics, one.filters)))
    table = accounts_table(rows)
    total = table.row(len(rows), named=True)
    cells = [*st.columns(3), *st.columns(3)]
    cells[0].metric(t("requests"), i18n.integer(total["requests"], view.lang))
    cells[1].metric(t("answer_rate"), i18n.percent(total["answer_rate"], view.lang))
    cells[2].metric(t("lost_leads"), i18n.integer(total["lost_leads"], view.lang))
    cells[3].metric(t("lead_value"), i18n.roubles(total["lead_value"], view.lang))
    cells[4].metric(t("cost"), i18n.roubles(total["cost"], view.lang))
    cells[5].metric(t("romi"), i18n.percent(total["romi"], view.lang))
    shown = table.with_columns(table["account"].replace(TOTAL, t("total")))
    # The account titles come from the settings: shown as data, never as Markdown; every value as on other pages.
    tables.show(shown, ACCOUNT_COLUMNS, view.lang, t, key="all_accounts_table")
    if total["cost"] is not None and total["romi"] is None:
        st.caption(t("no_romi"))
    tables.downloads(shown, ACCOUNT_COLUMNS, view.lang, t, label=t("download"), data=to_csv_bytes(shown),
                     file_name="all-accounts.csv", key="all_accounts")  # fmt: skip
    st.caption(last_synced_text(view))


def show_attribution_of_all(view: View) -> None:
    """Attribution under "All accounts": one dimension, each account's table summed per value, and that as CSV."""
    t = i18n.translator(view.lang, TEXT)
    st.title(t("attribution_title"))
    by = str(
        st.selectbox(
            t("by"), list(DIMENSIONS), key="attribution_by", format_func=partial(dimension_name, lang=view.lang)
        )
    )
    frames = []
    for account in view.together:
        one = view.one(account)  # its own rows and time zone
        with open_metrics(one) as metrics:
            frames.append(reports.attribution(metrics, one.filters, reports.Breakdown(by)))
    table = summed_breakdown(frames, by)
    st.caption(t("summed_note"))
    if table.is_empty():
        st.info(i18n.text("no_calls", view.lang), icon=":material/info:")
        return
    # Values as words (codes named, visitors' text made visible), shown as data, never as Markdown.
    columns = [Column(by, names=partial(i18n.label, by, lang=view.lang), pinned=True),
               *(Column(name, SUMMED_KINDS.get(name, "integer")) for name in table.columns[1:])]  # fmt: skip

    def words(key: str, **values: object) -> str:
        if key == by:
            return dimension_name(by, view.lang)
        return t(key, **values) if key in TEXT["en"] else i18n.text(key, view.lang)

    tables.show(table, columns, view.lang, words, key="all_accounts_attribution_table")
    tables.downloads(table, columns, view.lang, words, label=t("download"), data=to_csv_bytes(table),
                     file_name=f"all-accounts-attribution-{by}.csv", key="all_accounts_attribution")  # fmt: skip
