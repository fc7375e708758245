# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The door: sign-in, a password, or open; runs before anything reads the cache or reaches Newton.

Every doubt about the settings stops the run here with one message naming the setting: nobody gets in.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from dashboard import i18n
from dashboard.access import AccessPolicy, Mode, Person, Role, load_policy
from dashboard.errors import ACCESS_PROBLEMS, BadAccess, ConfigError, InvalidInput, TriesUnavailable
from dashboard.settings import configured
from dashboard.shared_limits import PasswordTries, shared_try_limiter
from dashboard.ui.safe import literal
from dashboard.ui.uploads import ADMITTED, current_session_id

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
        "tries_unavailable": "Passwords cannot be checked now: the database that counts tries for every server "
        "does not answer. Try again in a minute; if it lasts, tell whoever runs the dashboard.",
        "idle_ended": "Your session ended after {minutes} minutes without use. Enter the password again.",
        "signed_in": "Signed in as {name} ({role}).",
        "role_viewer": "viewer: read and export",
        "role_editor": "editor: may also write to Newton",
        "role_mixed": "editor in some accounts, viewer in the others",
        "open": "Open access: anyone who can reach this address can use this dashboard and write to Newton. "
        "Set a password or sign-in in .streamlit/secrets.toml before sharing it.",
        "read_only": "Read-only: this deployment never writes to Newton.",
        "open_short": "Open access: no password",
        "bad_access": "The access settings need fixing: {error}",
        "bad_setting": "The access settings need fixing, so nobody gets in: {setting} {problem}. See SECURITY.md.",
        **{f"problem_{code}": text for code, text in ACCESS_PROBLEMS.items()},
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
        "tries_unavailable": "Пароли сейчас не проверяются: не отвечает база, которая считает попытки для всех "
        "серверов. Попробуйте через минуту; если не пройдёт, сообщите тому, кто отвечает за дашборд.",
        "idle_ended": "Сеанс завершён: им не пользовались {minutes} мин. Введите пароль снова.",
        "signed_in": "Вы вошли как {name} ({role}).",
        "role_viewer": "просмотр и выгрузка",
        "role_editor": "может также записывать в Newton",
        "role_mixed": "в одних аккаунтах может записывать в Newton, в других только просмотр",
        "open": "Открытый доступ: любой, кто откроет этот адрес, может пользоваться дашбордом и записывать в Newton. "
        "Задайте пароль или вход в .streamlit/secrets.toml, прежде чем делиться ссылкой.",
        "read_only": "Только чтение: этот дашборд ничего не записывает в Newton.",
        "open_short": "Открытый доступ: без пароля",
        "bad_access": "Исправьте настройки доступа: {error}",
        "bad_setting": "Исправьте настройки доступа, до тех пор никто не войдёт: {setting} — {problem}. "
        "Подробнее в SECURITY.md.",
        "problem_not_table": "должен быть таблицей",
        "problem_true_false": "должно быть true или false",
        "problem_unknown_section": "неизвестный дашборду раздел (известны {known}); раздел [access] с опечаткой "
        "оставил бы дашборд открытым, поэтому никто не войдёт, пока это не исправлено",
        "problem_unknown_key": "неизвестная настройка доступа; настройки: {known}",
        "problem_unknown_key_close": "неизвестная настройка доступа (возможно, имелось в виду {close}); "
        "настройки: {known}",
        "problem_misplaced": "это настройка доступа: поместите её в раздел [access]",
        "problem_no_way_in": "не задаёт способа входа: укажите editor_password или viewer_password "
        "(или [auth] со списками editors/viewers); чтобы пользоваться дашбордом одному на этом компьютере, "
        "удалите раздел [access]",
        "problem_nobody_allowed": "вход настроен ([auth]), но никому не разрешён: перечислите адреса или @домены",
        "problem_not_a_list": 'должен быть списком, например ["ann@example.com", "@example.com"]',
        "problem_not_an_address": "каждая запись должна быть адресом e-mail или @доменом",
        "problem_short_password": "должен быть текстом не короче {length} символов, не считая пробелов по краям",
        "problem_same_passwords": "должен отличаться от editor_password",
        "problem_idle_minutes": "должно быть целым числом минут от 1 до {most}",
        "problem_not_loopback": "не задан, а сервер слушает {address}, так что войти мог бы любой, кто до него "
        "доберётся: задайте editor_password / viewer_password в разделе [access] или вход ([auth] со списками "
        "editors/viewers) в .streamlit/secrets.toml; или слушайте только этот компьютер "
        "(server.address = 127.0.0.1)",
        "problem_unreadable": "существует, но не читается как TOML ({reason}); никто не войдёт, пока файл "
        "не исправлен или не удалён",
        "problem_empty": "существует, но пуст; никто не войдёт, пока в нём нет настроек или пока он не удалён",
        "problem_passwords_with_sign_in": "ограничивает пароли, но настроен вход ([auth]): ограничьте людей "
        'в разделах [access.people."<адрес>"]',
        "problem_people_without_sign_in": "ограничивает вошедших людей, но вход ([auth]) не настроен: ограничьте "
        "пароли в разделах [access.passwords.<метка>]",
        "problem_unknown_entry_key": "неизвестный ключ этой записи; ключи: {known} (и password — у пароля)",
        "problem_not_account_list": 'должен быть непустым списком аккаунтов, например ["client-a"], вместе с '
        'role = "viewer" или "editor"',
        "problem_no_accounts": "не даёт ни одного аккаунта: задайте accounts = [...] и role или roles = "
        '{{ <аккаунт> = "viewer" }}',
        "problem_unknown_account": "называет аккаунт {account}, которого нет в настройках (аккаунты: {known})",
        "problem_account_twice": "называет аккаунт {account} дважды",
        "problem_unknown_role": 'должна быть "viewer" или "editor"',
        "problem_listed_twice": "встречается дважды среди editors, viewers и [access.people]: какие аккаунты "
        "ему видны, было бы неясно",
        "problem_password_taken": "совпадает с другим паролем: каждый пароль должен открывать одну запись",
    },
}
_PERSON = "access_person"  # a person let in by password, for the rest of the session
_SEEN = "access_seen"  # when that person last ran the page, on `clock`

# Injected in tests: the clock that measures idle time, and the pause that slows a wrong password. Each session's
# script runs in its own thread, so the pause holds only the session that typed the wrong password.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep


def _secrets() -> Mapping[str, Any]:
    """Streamlit's secrets, or {} when no secrets file exists; a file that exists but is unreadable, does not
    parse or holds nothing raises BadAccess naming it (Streamlit itself would treat it as absent: open)."""
    try:
        found: Mapping[str, Any] = st.secrets.to_dict()
    except FileNotFoundError:  # StreamlitSecretNotFoundError: no file, or one that did not parse
        found = {}
    except (OSError, UnicodeDecodeError):
        found = {}  # _check_files names the file below
    if not found:
        _check_files()
    return found


def _check_files() -> None:
    for name in st.get_option("secrets.files") or ():
        path = str(name)
        if not os.path.exists(path) or (os.path.isdir(path) and not path.endswith(".toml")):
            continue  # a file that is not there; a directory of secrets is Streamlit's to read
        try:
            with open(path, "rb") as file:
                document = tomllib.loads(file.read().decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            # Never the parser's message: it may quote a line of the file, a secret.
            raise BadAccess(path, "unreadable", reason=type(error).__name__) from None
        if not document:
            raise BadAccess(path, "empty")


def admit(lang: str) -> Person:
    """The person using this session; anyone not let in sees the door and the run stops here.

    An editor's session may upload files until a run is stopped here (signed out, idled out, settings broken): the
    upload middleware (dashboard/ui/uploads.py) asks `ADMITTED`, which this keeps up to date on every run.
    """
    session_id = current_session_id()
    may_upload = False
    try:
        person, until = _door(lang)
        may_upload = person.can_write  # the only uploader (lead prices) is for editors; viewers get none
    finally:  # st.stop() and st.rerun() raise: a run that ends at the door forgets the session
        if session_id is not None:
            if may_upload:
                ADMITTED.admit(session_id, until)
            else:
                ADMITTED.forget(session_id)
    return person


def uploads_only_where_writing(person_here: Person, together: bool) -> None:
    """Uploads follow the role in the account this run shows (`admit` let in by the person's highest role): an
    editor of one account looking at another, or at all of them, may upload nothing until they come back."""
    session_id = current_session_id()
    if session_id is not None and (together or not person_here.can_write):
        ADMITTED.forget(session_id)


def _door(lang: str) -> tuple[Person, float | None]:
    """The person let in, and until when on the registry's clock (None: while the session lasts); or the run stops."""
    t = i18n.translator(lang, TEXT)
    try:
        policy = load_policy(_secrets(), st.get_option("server.address"))
    except BadAccess as error:
        problem = t(f"problem_{error.code}", **error.details)
        st.error(t("bad_setting", setting=literal(error.setting), problem=literal(problem)), icon=":material/lock:")
        st.stop()
    except InvalidInput as error:
        st.error(t("bad_access", error=literal(str(error))), icon=":material/lock:")
        st.stop()
    until = None
    if policy.mode is Mode.OIDC:
        person = _signed_in(policy, lang)
    elif policy.mode is Mode.PASSWORD:
        person = _by_password(policy, lang)
        until = ADMITTED.clock() + policy.idle_minutes * 60  # the idle time ends uploads even without a run
    else:
        person = policy.open_person()
        # One line; the whole warning is a hover away, so the filters stay in sight.
        st.sidebar.caption(f":orange[:material/lock_open: {t('open_short')}]", help=t("open"))
    if policy.read_only:
        st.sidebar.caption(t("read_only"))
    return person, until


def _signed_in(policy: AccessPolicy, lang: str) -> Person:
    t = i18n.translator(lang, TEXT)
    if not st.user.is_logged_in:
        st.title(t("sign_in_title"))
        st.write(t("sign_in_intro"))
        for provider in policy.providers or (None,):
            label = t("sign_in_with", provider=provider.title()) if provider else t("sign_in")
            if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary", icon=":material/login:"):
                st.login(provider)
        st.stop()
    email, verified = str(st.user.get("email") or ""), st.user.get("email_verified", True)
    person = policy.person_for_email(email, verified)
    if person is None:
        refusal = "unverified" if verified is False else "refused"
        st.warning(t(refusal, email=literal(email) or "—"), icon=":material/block:")
        st.button(t("sign_out"), key="sign_out", on_click=st.logout)
        st.stop()
    _signed_in_note(person, lang, on_sign_out=st.logout)
    return person


def _by_password(policy: AccessPolicy, lang: str) -> Person:
    t = i18n.translator(lang, TEXT)
    admitted: Person | None = st.session_state.get(_PERSON)
    now = clock()
    if admitted is not None and policy.idle_for_too_long(st.session_state.get(_SEEN, now), now):
        _sign_out()
        st.info(t("idle_ended", minutes=policy.idle_minutes), icon=":material/timer_off:")
    elif admitted is not None and (person := policy.password_person(admitted.name)) is not None:
        st.session_state[_SEEN] = now
        # The person is looked up on every run, so `read_only` set or accounts taken away while people are
        # signed in apply at once; a password removed from the settings ends its sessions.
        _signed_in_note(person, lang, on_sign_out=_sign_out)
        return person
    elif admitted is not None:
        _sign_out()
    st.title(t("password_title"))
    # The browser's address. Behind a proxy on this machine (or at FORWARDED_ALLOW_IPS), uvicorn, which serves
    # Streamlit, takes it from the proxy's X-Forwarded-For; a proxy that sends none makes every browser one caller.
    # Streamlit gives None for 127.0.0.1 and ::1: counted as "local", one limit for all of them.
    ip = st.context.ip_address
    caller = ip if isinstance(ip, str) and ip else "local"
    # clear_on_submit: the typed password does not stay in the session's widget state.
    with st.form("password_gate", clear_on_submit=True):
        st.write(t("password_intro"))
        given = st.text_input(t("password"), type="password", max_chars=200)
        entered = st.form_submit_button(t("enter"), type="primary", icon=":material/login:")
    if entered:
        tries = password_tries(_lake_catalog())
        try:
            wait = tries.begin(caller)
        except TriesUnavailable:  # fail closed: no count, no try
            st.error(t("tries_unavailable"), icon=":material/cloud_off:")
            st.stop()
        if wait > 0:
            st.error(t("too_many", seconds=int(wait) + 1), icon=":material/timer:")
        elif (person := policy.person_for_password(given)) is None:
            sleep(tries.delay(caller))  # every wrong try costs the guesser time, more with each one
            st.error(t("wrong_password"), icon=":material/error:")
        else:
            tries.succeeded(caller)
            st.session_state[_PERSON] = person
            st.session_state[_SEEN] = clock()
            st.rerun()
    st.stop()


def _lake_catalog() -> str | None:
    """The libpq string of the lake's PostgreSQL catalog when the store is a lake, else None."""
    # Every server on one lake counts password tries in one place. NEWTON_CACHE alone: the dashboard has no --cache.
    try:
        cache = configured("cache")
    except ConfigError:
        return None  # the settings' own check stops the run with its message before any page is shown
    return cache if isinstance(cache, str) else None  # the settings check a lake's string holds no password


def password_tries(catalog: str | None) -> PasswordTries:
    """The password-tries limiter: this process's with no lake, the lake's PostgreSQL's (every server's) with one."""
    return shared_try_limiter(catalog)


def _sign_out() -> None:
    st.session_state.pop(_PERSON, None)
    st.session_state.pop(_SEEN, None)


def _signed_in_note(person: Person, lang: str, on_sign_out: Any) -> None:
    t = i18n.translator(lang, TEXT)
    # Roles are per account: a person who edits one account and views another is not simply "an editor" (the
    # switcher says the role in the account chosen).
    roles = {role for _, role in person.grants} if person.grants is not None else {person.role}
    key = "role_mixed" if len(roles) > 1 else "role_editor" if person.role is Role.EDITOR else "role_viewer"
    st.sidebar.caption(t("signed_in", name=literal(person.name), role=t(key)))
    st.sidebar.button(t("sign_out"), key="sign_out", icon=":material/logout:", on_click=on_sign_out)
