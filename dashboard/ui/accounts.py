# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The account switcher: which of the person's accounts this run shows, kept in the URL (`?account=<name>`).

Only the accounts the person may see are offered; "All accounts" (`?account=all`) when they see two or more. A link
naming an account they may not see (or one that does not exist) shows their first account instead, with a note
saying so; the account it names is never read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from dashboard import i18n
from dashboard.access import Person
from dashboard.settings import ALL_ACCOUNTS, Account, Settings
from dashboard.ui import links

ALL = ALL_ACCOUNTS  # `?account=all`: the person's accounts together
KEY = "account"  # the switcher's widget key, and its URL parameter
_REFUSED = "_account_refused"  # a link's account that was not shown, said once where the switcher is

TEXT = {
    "en": {
        "account": "Account",
        "all_accounts": "All accounts",
        "no_accounts": "You are signed in, but no account of this dashboard is open to you. Ask whoever runs it "
        "to give you one.",
        "refused": "The link names an account you may not see, or one that does not exist; your first account is "
        "shown instead.",
        "role_viewer": "Here you read and export; you edit in other accounts.",
        "role_editor": "Here you may also write to Newton; not in every account.",
        "pick_one": "This page shows one account at a time: pick one in the sidebar. The Overview and Attribution show "
        "all your accounts together.",
    },
    "ru": {
        "account": "Аккаунт",
        "all_accounts": "Все аккаунты",
        "no_accounts": "Вы вошли, но ни один аккаунт этого дашборда вам не открыт. Попросите администратора "
        "открыть вам аккаунт.",
        "refused": "Ссылка называет аккаунт, который вам не виден или которого нет; вместо него показан ваш "
        "первый аккаунт.",
        "role_viewer": "Здесь вы смотрите и выгружаете; редактировать можно в других аккаунтах.",
        "role_editor": "Здесь вы можете и записывать в Newton; не во всех аккаунтах.",
        "pick_one": "Эта страница показывает один аккаунт: выберите его на боковой панели. Обзор и Источники "
        "показывают все ваши аккаунты вместе.",
    },
}


@dataclass(frozen=True)
class Choice:
    """The accounts this run shows: one, or (`name` ALL) every account the person may see."""

    name: str
    accounts: tuple[Account, ...]  # the one account, or all the person's accounts in the settings' order
    in_url: bool  # whether the link carries `account` (only where several accounts are configured)

    @property
    def together(self) -> bool:
        return self.name == ALL

    def settings(self, settings: Settings) -> Settings:
        """The settings as the pages read them: the account's connection and zone (the first's, for all)."""
        return replace(settings_of(settings, self.accounts[0]), accounts=self.accounts)


def settings_of(settings: Settings, account: Account) -> Settings:
    """The settings of one account: its connection and zone, and no other account."""
    return replace(settings, connection=account.connection, zone=account.zone, accounts=(account,))


def visible_accounts(settings: Settings, person: Person) -> tuple[Account, ...]:
    """The configured accounts `person` may see, in the settings' order."""
    return tuple(account for account in settings.accounts if person.role_in(account.name) is not None)


def choose_account(settings: Settings, person: Person, lang: str) -> Choice:
    """Draw the switcher (where there is a choice) and return what this run shows; with no account open to the
    person, say so and stop the run before any data is read."""
    t = i18n.translator(lang, TEXT)
    accounts = visible_accounts(settings, person)
    if not accounts:
        st.warning(t("no_accounts"), icon=":material/block:")
        st.stop()
    names = [account.name for account in accounts] + ([ALL] if len(accounts) > 1 else [])
    if links.will_read_link() or KEY not in st.session_state:
        asked = st.query_params.get(KEY)
        if asked is not None and asked not in names:
            st.session_state[_REFUSED] = True
        st.session_state[KEY] = asked if asked in names else names[0]
    elif st.session_state[KEY] not in names:  # access taken away while the session lasts
        st.session_state[KEY] = names[0]
    if st.session_state.pop(_REFUSED, False):
        st.sidebar.warning(t("refused"), icon=":material/block:")
    titles = {account.name: account.title for account in accounts} | {ALL: t("all_accounts")}
    if len(names) > 1:
        chosen = str(st.sidebar.selectbox(t("account"), names, key=KEY, format_func=titles.__getitem__))
    else:
        chosen = names[0]
    roles = {person.role_in(account.name) for account in accounts}
    if chosen != ALL and len(roles) > 1:  # the door's note says the roles differ: say the one in this account
        st.sidebar.caption(t(f"role_{person.role_in(chosen)}"))
    shown = accounts if chosen == ALL else tuple(a for a in accounts if a.name == chosen)
    return Choice(chosen, shown, in_url=len(settings.accounts) > 1)


def pick_one(lang: str) -> None:
    """Stop a page that shows one account at a time, under "All accounts"."""
    st.info(i18n.text("pick_one", lang, TEXT), icon=":material/account_tree:")
    st.stop()
