# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Overview under "All accounts": the person's accounts summed, and the agency's table, one row per account."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n
from dashboard.agency import TOTAL, account_numbers, accounts_table
from dashboard.export import to_csv_bytes
from dashboard.ui.freshness import last_synced_text
from dashboard.ui.session import View, open_metrics

TEXT = {
    "en": {
        "title": "Overview: all accounts",
        "intro": "Your {count} accounts together, each counted in its own time zone over the same days.",
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
    },
    "ru": {
        "title": "Обзор: все аккаунты",
        "intro": "Ваши аккаунты ({count}) вместе, каждый в своём часовом поясе за те же дни.",
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
    },
}


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
    # The account titles come from the settings: shown as data, never as Markdown.
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "account": st.column_config.TextColumn(t("account")),
            "requests": st.column_config.NumberColumn(t("requests"), format="%d"),
            "answer_rate": st.column_config.NumberColumn(t("answer_rate"), format="percent"),
            "lost_leads": st.column_config.NumberColumn(t("lost_leads"), format="%d"),
            "lead_value": st.column_config.NumberColumn(t("lead_value"), format="%d"),
            "cost": st.column_config.NumberColumn(t("cost"), format="%.2f"),
            "romi": st.column_config.NumberColumn(t("romi"), format="percent"),
        },
    )
    if total["cost"] is not None and total["romi"] is None:
        st.caption(t("no_romi"))
    st.download_button(
        t("download"), to_csv_bytes(shown), file_name="all-accounts.csv", mime="text/csv", key="all_accounts_csv",
        icon=":material/download:",
    )  # fmt: skip
    st.caption(last_synced_text(view))
