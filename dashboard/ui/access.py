# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The door: sign-in, a password, or open; runs before anything reads the cache or reaches Newton."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from dashboard import i18n
from dashboard.access import AccessPolicy, Mode, Person, Role, TryLimiter, load_policy
from dashboard.api import InvalidInput
from dashboard.ui.safe import literal

TEXT = {
    "en": {
        "sign_in_title": "Sign in to Newton Dashboard",
        "sign_in_intro": "This dashboard holds a company's leads. Sign in with your work account.",
        "sign_in": "Sign in",
        "sign_in_with": "Sign in with {provider}",
        "refused": "You are signed in as {email}, which is not on this dashboard's list of users. "
        "Ask whoever runs it to add you, or sign in with another account.",
        "unverified": "Your provider has not verified the e-mail address {email}, so it cannot be let in.",
        "sign_out": "Sign out",
        "password_title": "Newton Dashboard",
        "password_intro": "Enter the password you were given.",
        "password": "Password",
        "enter": "Enter",
        "wrong_password": "That password is not right.",
        "too_many": "Too many wrong passwords. Try again in {seconds} s.",
        "signed_in": "Signed in as {name} ({role}).",
        "role_viewer": "viewer: read and export",
        "role_editor": "editor: may also write to Newton",
        "open": "Open access: anyone who can reach this address can use this dashboard and write to Newton. "
        "Set a password or sign-in in .streamlit/secrets.toml before sharing it.",
        "read_only": "Read-only: this deployment never writes to Newton.",
        "bad_access": "The access settings need fixing: {error}",
    },
    "ru": {
        "sign_in_title": "Вход в Newton Dashboard",
        "sign_in_intro": "Здесь лиды компании. Войдите с рабочей учётной записью.",
        "sign_in": "Войти",
        "sign_in_with": "Войти через {provider}",
        "refused": "Вы вошли как {email}, но этого адреса нет в списке пользователей дашборда. "
        "Попросите администратора добавить вас или войдите с другой учётной записью.",
        "unverified": "Провайдер не подтвердил адрес {email}, поэтому войти с ним нельзя.",
        "sign_out": "Выйти",
        "password_title": "Newton Dashboard",
        "password_intro": "Введите пароль, который вам выдали.",
        "password": "Пароль",
        "enter": "Войти",
        "wrong_password": "Пароль неверный.",
        "too_many": "Слишком много неверных паролей. Попробуйте через {seconds} с.",
        "signed_in": "Вы вошли как {name} ({role}).",
        "role_viewer": "просмотр и выгрузка",
        "role_editor": "может также записывать в Newton",
        "open": "Открытый доступ: любой, кто откроет этот адрес, может пользоваться дашбордом и записывать в Newton. "
        "Задайте пароль или вход в .streamlit/secrets.toml, прежде чем делиться ссылкой.",
        "read_only": "Только чтение: этот дашборд ничего не записывает в Newton.",
        "bad_access": "Исправьте настройки доступа: {error}",
    },
}
_PERSON = "access_person"  # a person let in by password, for the rest of the session


@st.cache_resource
def _limiter() -> TryLimiter:
    """One limiter for the whole server process, so opening new tabs does not buy more tries."""
    return TryLimiter()


def _secrets() -> Mapping[str, Any]:
    try:
        return {key: st.secrets[key] for key in ("access", "auth") if key in st.secrets}
    except FileNotFoundError:  # no secrets file at all: local use
        return {}


def admit(lang: str) -> Person:
    """The person using this session; anyone not let in sees the door and the run stops here."""
    t = i18n.words(lang, TEXT)
    try:
        policy = load_policy(_secrets())
    except InvalidInput as error:
        st.error(t("bad_access", error=literal(str(error))), icon=":material/lock:")
        st.stop()
    if policy.mode is Mode.OIDC:
        person = _signed_in(policy, lang)
    elif policy.mode is Mode.PASSWORD:
        person = _by_password(policy, lang)
    else:
        person = policy.open_person()
        st.sidebar.warning(t("open"), icon=":material/lock_open:")
    if policy.read_only:
        st.sidebar.caption(t("read_only"))
    return person


def _signed_in(policy: AccessPolicy, lang: str) -> Person:
    t = i18n.words(lang, TEXT)
    if not st.user.is_logged_in:
        st.title(t("sign_in_title"))
        st.write(t("sign_in_intro"))
        for provider in policy.providers or (None,):
            label = t("sign_in_with", provider=provider.title()) if provider else t("sign_in")
            if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary", icon=":material/login:"):
                st.login(provider)
        st.stop()
    email, verified = str(st.user.get("email") or ""), st.user.get("email_verified", True)
    role = policy.role_for_email(email, verified)
    if role is None:
        refusal = "unverified" if verified is False else "refused"
        st.warning(t(refusal, email=literal(email) or "—"), icon=":material/block:")
        st.button(t("sign_out"), key="sign_out", on_click=st.logout)
        st.stop()
    person = Person(email.strip().lower(), role)
    _signed_in_note(person, lang, on_sign_out=st.logout)
    return person


def _by_password(policy: AccessPolicy, lang: str) -> Person:
    t = i18n.words(lang, TEXT)
    admitted: Person | None = st.session_state.get(_PERSON)
    if admitted is not None:
        # The role is capped on every run, so `read_only` set while people are signed in applies at once.
        person = Person(admitted.name, policy.capped(admitted.role))
        _signed_in_note(person, lang, on_sign_out=lambda: st.session_state.pop(_PERSON, None))
        return person
    st.title(t("password_title"))
    ip = st.context.ip_address  # behind a proxy every caller shares the proxy's address, so one limit for all
    caller = ip if isinstance(ip, str) and ip else "local"
    # clear_on_submit: the typed password does not stay in the session's widget state.
    with st.form("password_gate", clear_on_submit=True):
        st.write(t("password_intro"))
        given = st.text_input(t("password"), type="password", max_chars=200)
        entered = st.form_submit_button(t("enter"), type="primary", icon=":material/login:")
    if entered:
        wait = _limiter().wait(caller)
        if wait > 0:
            st.error(t("too_many", seconds=int(wait) + 1), icon=":material/timer:")
        elif (role := policy.role_for_password(given)) is None:
            _limiter().failed(caller)
            st.error(t("wrong_password"), icon=":material/error:")
        else:
            st.session_state[_PERSON] = Person(f"{role.value} password", role)
            st.rerun()
    st.stop()


def _signed_in_note(person: Person, lang: str, on_sign_out: Any) -> None:
    t = i18n.words(lang, TEXT)
    role = t("role_editor") if person.role is Role.EDITOR else t("role_viewer")
    st.sidebar.caption(t("signed_in", name=literal(person.name), role=role))
    st.sidebar.button(t("sign_out"), key="sign_out", icon=":material/logout:", on_click=on_sign_out)
