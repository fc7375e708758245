"""Who may see and change what: the policy, the door in the app (AppTest), the Writer's refusal, the CLI's read-only."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Element

from dashboard import access
from dashboard.access import NOBODY, Mode, Person, Role, TryLimiter, cli_read_only, load_policy
from dashboard.connect import embedded_demo, open_client
from dashboard.errors import BadAccess, ConfigError, NotAllowed
from dashboard.settings import load_connection
from dashboard.store import Store
from dashboard.ui import access as door
from dashboard.writes import Writer
from tests.conftest import ENTRY
from tests.test_cli import run_cli

EDITOR_PASSWORD = "correct horse battery"
VIEWER_PASSWORD = "viewer staple 42"
PASSWORDS = {"access": {"editor_password": EDITOR_PASSWORD, "viewer_password": VIEWER_PASSWORD}}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "google": {"client_id": "id", "client_secret": "secret",
                   "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}}  # fmt: skip
SIGN_IN: dict[str, dict[str, Any]] = {
    "auth": AUTH,
    "access": {"editors": ["boss@example.com"], "viewers": ["@example.com", "Ann@Agency.ru"]},
}
LOOPBACK = "127.0.0.1"


# ------------------------------------------------------------------------------------ the policy


def test_nothing_configured_is_open_and_the_local_user_may_write() -> None:
    policy = load_policy({}, LOOPBACK)
    assert policy.mode is Mode.OPEN
    assert policy.open_person().can_write


def test_read_only_makes_everyone_a_viewer() -> None:
    assert not load_policy({"access": {"read_only": True}}, LOOPBACK).open_person().can_write
    policy = load_policy({"access": {**PASSWORDS["access"], "read_only": "true"}}, LOOPBACK)
    assert policy.role_for_password(EDITOR_PASSWORD) is Role.VIEWER
    signed_in = load_policy({**SIGN_IN, "access": {**SIGN_IN["access"], "read_only": True}}, LOOPBACK)
    assert signed_in.role_for_email("boss@example.com") is Role.VIEWER


def test_passwords_open_their_own_role_and_nothing_else() -> None:
    policy = load_policy(PASSWORDS, LOOPBACK)
    assert policy.mode is Mode.PASSWORD
    assert policy.role_for_password(EDITOR_PASSWORD) is Role.EDITOR
    assert policy.role_for_password(VIEWER_PASSWORD) is Role.VIEWER
    for wrong in ("", EDITOR_PASSWORD + " ", EDITOR_PASSWORD.upper(), VIEWER_PASSWORD[:-1], "\0" * 32):
        assert policy.role_for_password(wrong) is None
    assert EDITOR_PASSWORD not in repr(policy)  # only digests are kept, and not even those are shown


def test_an_only_viewer_password_gives_no_one_editing() -> None:
    policy = load_policy({"access": {"viewer_password": VIEWER_PASSWORD}}, LOOPBACK)
    assert policy.role_for_password(VIEWER_PASSWORD) is Role.VIEWER
    assert policy.role_for_password("") is None


def test_the_allowlist_takes_addresses_and_whole_domains() -> None:
    policy = load_policy(SIGN_IN, LOOPBACK)
    assert policy.mode is Mode.OIDC and policy.providers == ("google",)
    assert policy.role_for_email("boss@example.com") is Role.EDITOR
    assert policy.role_for_email("  Boss@Example.COM ") is Role.EDITOR
    assert policy.role_for_email("someone@example.com") is Role.VIEWER
    assert policy.role_for_email("ann@agency.ru") is Role.VIEWER
    for stranger in ("bob@agency.ru", "x@example.com.evil.ru", "x@evil-example.com", "example.com", "", None):
        assert policy.role_for_email(stranger) is None
    assert policy.role_for_email("boss@example.com", verified=False) is None


@pytest.mark.parametrize(
    ("secrets", "field"),
    [
        ({"access": "open"}, "[access]"),
        ({"access": {"read_only": "maybe"}}, "[access] read_only"),
        ({"access": {"editor_password": "short"}}, "[access] editor_password"),
        ({"access": {"editor_password": 12345678}}, "[access] editor_password"),
        ({"access": {"editor_password": EDITOR_PASSWORD, "viewer_password": EDITOR_PASSWORD}},
         "[access] viewer_password"),
        ({"auth": AUTH}, "[access] editors / viewers"),
        ({"auth": AUTH, "access": {"editors": "boss@example.com"}}, "[access] editors"),
        ({"auth": AUTH, "access": {"viewers": ["example.com"]}}, "[access] viewers"),
        # Fails closed: a setting the dashboard does not know would otherwise be ignored, leaving it open.
        ({"access": {"editor_pass": EDITOR_PASSWORD}}, "[access] editor_pass"),
        ({"access": {**PASSWORDS["access"], "read_onyl": True}}, "[access] read_onyl"),
        ({"acess": {"editor_password": EDITOR_PASSWORD}}, "[acess]"),
        ({"editor_password": EDITOR_PASSWORD}, "editor_password"),  # written above every section
        ({"newton": {"user_id": "1", "editor_password": EDITOR_PASSWORD}}, "[newton] editor_password"),
        ({"access": {}}, "[access]"),  # copied from the example and never filled in
        ({"access": {"idle_minutes": 60}}, "[access]"),
        ({"access": {"read_only": False}}, "[access]"),
        # Passwords a guesser would find: short, or spaces.
        ({"access": {"editor_password": "eleven char"}}, "[access] editor_password"),
        ({"access": {"viewer_password": " " * 20}}, "[access] viewer_password"),
        ({"access": {"viewer_password": "  short pass  "}}, "[access] viewer_password"),
        ({"access": {**PASSWORDS["access"], "idle_minutes": 0}}, "[access] idle_minutes"),
        ({"access": {**PASSWORDS["access"], "idle_minutes": "8h"}}, "[access] idle_minutes"),
    ],
)  # fmt: skip
def test_bad_access_settings_name_the_setting(secrets: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as raised:  # a bad setting, named as pages and the CLI show refused fields
        load_policy(secrets, LOOPBACK)
    assert isinstance(raised.value, BadAccess) and list(raised.value.fields) == [field]


def test_a_twelve_character_password_is_enough() -> None:
    assert load_policy({"access": {"editor_password": "twelve chars"}}, LOOPBACK).mode is Mode.PASSWORD


def test_a_misspelled_key_is_named_with_what_was_meant() -> None:
    with pytest.raises(BadAccess) as raised:
        load_policy({"access": {"editor_pass": EDITOR_PASSWORD}}, LOOPBACK)
    assert "did you mean editor_password" in str(raised.value)


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_open_mode_only_on_loopback(address: str) -> None:
    assert load_policy({"newton": {"user_id": "1"}}, address).mode is Mode.OPEN


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.168.1.10", "dashboard.example.com"])  # noqa: S104
def test_with_nothing_configured_a_server_other_machines_reach_lets_nobody_in(address: str | None) -> None:
    for secrets in ({}, {"access": {"read_only": True}}):
        with pytest.raises(BadAccess) as raised:
            load_policy(secrets, address)
        assert raised.value.setting == "[access]" and "password" in str(raised.value)
    assert load_policy(PASSWORDS, address).mode is Mode.PASSWORD  # with a password any address is fine


def test_the_cli_refuses_a_misspelled_access_key_too() -> None:
    with pytest.raises(BadAccess) as raised:
        cli_read_only({"read_onyl": True}, env={})
    assert raised.value.setting == "[access] read_onyl"


def test_a_try_is_counted_before_the_password_is_compared() -> None:
    now = [0.0]
    limiter = TryLimiter(limit=2, window=60, clock=lambda: now[0])
    assert limiter.begin("a") == 0 and limiter.begin("a") == 0  # two sessions at once: both counted
    assert limiter.begin("a") > 0  # a third at the same moment waits
    limiter.succeeded("a")  # one of them was right: it does not count
    assert limiter.begin("a") == 0
    assert [limiter.delay("b"), limiter.delay("a")] == [0, 1.0]
    for _ in range(10):
        limiter.failed("c")
    assert limiter.delay("c") == access.MAX_DELAY


def test_the_limiter_allows_a_few_tries_a_minute_per_caller() -> None:
    now = [0.0]
    limiter = TryLimiter(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.wait("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
    assert limiter.wait("10.0.0.1") == pytest.approx(60)
    assert limiter.wait("10.0.0.2") == 0  # another caller is not locked out
    now[0] = 59.0
    assert limiter.wait("10.0.0.1") == pytest.approx(1)
    now[0] = 60.5
    assert limiter.wait("10.0.0.1") == 0


# ------------------------------------------------------------------------------------ the Writer


def _write_log(path: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path)) as con:
        return con.execute("SELECT action, actor FROM write_log").fetchall()


@pytest.mark.slow  # writes through the embedded Newton over HTTP
@pytest.mark.parametrize("viewer", [NOBODY, Person("ann@example.com", Role.VIEWER)])
def test_a_viewer_write_is_refused_before_anything_is_sent(app_env: Path, viewer: Person) -> None:
    connection = load_connection(env={}, secrets_path=Path("/nonexistent"))
    newton = embedded_demo()
    before = newton.write_count
    with open_client(connection) as client:
        writer = Writer(client, Store(app_env), connection.credentials.user_id, viewer)
        writes: tuple[Callable[[], object], ...] = (
            lambda: writer.set_lead_price("1", 100),
            lambda: writer.create_crm_lead("+79991234567", 100),
            lambda: writer.create_request("+79991234567", "w1"),
            lambda: writer.application_request("+79991234567", "w1"),
        )
        for write in writes:
            with pytest.raises(NotAllowed) as refused:
                write()
            assert "access" in refused.value.fields
    assert newton.write_count == before
    assert _write_log(app_env) == []


@pytest.mark.slow  # writes through the embedded Newton over HTTP
def test_an_editor_write_is_logged_with_who_made_it(app_env: Path) -> None:
    connection = load_connection(env={}, secrets_path=Path("/nonexistent"))
    with duckdb.connect(str(app_env)) as con:
        (call_id,) = con.execute("SELECT id FROM records LIMIT 1").fetchone() or ("",)
    with open_client(connection) as demo:
        Writer(
            demo, Store(app_env), connection.credentials.user_id, Person("boss@example.com", Role.EDITOR)
        ).set_lead_price(call_id, 700)
    assert _write_log(app_env) == [("callback.SetLeadPrice", "boss@example.com")]


# ------------------------------------------------------------------------------------ the CLI


@pytest.mark.slow  # the command line, run as its own process
@pytest.mark.parametrize("how", ["env", "secrets"])
def test_a_read_only_deployment_refuses_cli_writes(how: str, tmp_path: Path, server_url: str) -> None:
    env = {"NEWTON_CACHE": str(tmp_path / "cli.duckdb"), "NEWTON_API_URL": server_url}
    if how == "env":
        env["NEWTON_READ_ONLY"] = "1"
    else:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text("[access]\nread_only = true\n", encoding="utf-8")
    for command in (
        ["set-lead-price", "1", "100"],
        ["create-crm-lead", "--phone", "+79991234567", "--price", "100"],
        ["create-request", "--phone", "+79991234567", "--widget", "w1"],
    ):
        result = run_cli(*command, env=env, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "read-only" in result.stderr
    assert not (tmp_path / "cli.duckdb").exists()  # not even the write log was touched


@pytest.mark.slow  # the command line, run as its own process
def test_a_misspelled_read_only_stops_cli_writes_by_name(tmp_path: Path, server_url: str) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text("[access]\nread_onyl = true\n", encoding="utf-8")
    env = {"NEWTON_CACHE": str(tmp_path / "cli.duckdb"), "NEWTON_API_URL": server_url}
    result = run_cli("set-lead-price", "1", "100", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "read_onyl" in result.stderr and "did you mean read_only" in result.stderr
    assert not (tmp_path / "cli.duckdb").exists()


@pytest.mark.slow  # the command line, run as its own process
def test_a_bad_read_only_value_is_named(tmp_path: Path) -> None:
    result = run_cli("set-lead-price", "1", "100", env={"NEWTON_READ_ONLY": "perhaps"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "NEWTON_READ_ONLY" in result.stderr


# ------------------------------------------------------------------------------------ the door in the app


@pytest.fixture(autouse=True)
def _door(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A fresh limiter (it lives as long as the process); wrong tries are held on a recorder, not a real sleep."""
    access.PASSWORD_TRIES.forget()
    held: list[float] = []
    monkeypatch.setattr(door, "sleep", held.append)
    return held


@pytest.fixture
def option() -> Iterator[Any]:
    """Set a Streamlit config option for one test (as config.toml or a --server flag would), then restore it."""
    saved: dict[str, Any] = {}

    def set_option(name: str, value: Any) -> None:
        saved.setdefault(name, config.get_option(name))
        config.set_option(name, value)

    yield set_option
    for name, value in saved.items():
        config.set_option(name, value)
    st.secrets._reset()  # forget secrets read from a file a test pointed at


def _app(secrets: dict[str, Any], user: dict[str, Any] | None = None) -> AppTest:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.secrets = secrets
    if user is not None:
        test.user = user
    test.run()
    assert not test.exception, test.exception
    return test


def _texts(test: AppTest) -> str:
    kinds = ("title", "markdown", "caption", "warning", "error", "info", "success")
    shown = "\n".join(str(e.value) for kind in kinds for e in test.get(kind) if isinstance(e, Element))
    return shown.replace("\\", "")  # Markdown escapes, as the reader never sees them


def _sees_dashboard(test: AppTest) -> bool:
    return bool(test.get("metric"))  # the Overview's headline numbers


def _enter(test: AppTest, password: str) -> AppTest:
    test.text_input[0].input(password)
    test.button(key="FormSubmitter:password_gate-Enter").click().run()
    assert not test.exception, test.exception
    return test


def _write_widgets(test: AppTest) -> set[str]:
    keys = {"FormSubmitter:price_form-Save", "FormSubmitter:deal_form-Create"}
    return {key for key in keys if any(getattr(b, "key", None) == key for b in test.get("button"))}


@pytest.mark.slow  # the whole app, run by AppTest
def test_open_access_says_anyone_can_use_it(app: AppTest) -> None:
    assert "Open access" in _texts(app)
    assert _sees_dashboard(app)
    assert _write_widgets(app) == {"FormSubmitter:price_form-Save", "FormSubmitter:deal_form-Create"}


@pytest.mark.slow  # the whole app, run by AppTest
def test_the_password_gate_shows_nothing_until_the_right_password(app_env: Path) -> None:
    test = _app(PASSWORDS)
    assert not _sees_dashboard(test) and not test.sidebar.get("multiselect")
    _enter(test, "not the password")
    assert "not right" in _texts(test) and not _sees_dashboard(test)
    _enter(test, EDITOR_PASSWORD)
    assert _sees_dashboard(test)
    assert "editor password" in _texts(test)
    assert _write_widgets(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_wrong_passwords_are_limited_per_minute(app_env: Path) -> None:
    test = _app(PASSWORDS)
    for _ in range(5):
        _enter(test, "guess guess guess")
    _enter(test, EDITOR_PASSWORD)  # even the right one waits: the limit stops guessing, not just wrong answers
    assert "Too many wrong passwords" in _texts(test)
    assert not _sees_dashboard(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_a_viewer_sees_and_exports_but_never_a_write_form(app_env: Path) -> None:
    test = _enter(_app(PASSWORDS), VIEWER_PASSWORD)
    assert _sees_dashboard(test)
    assert _write_widgets(test) == set()
    test.switch_page("app_pages/calls.py").run()
    assert not test.exception
    assert not [b for b in test.get("button") if getattr(b, "key", None) == "save_prices"]
    assert test.get("download_button")  # viewers export
    test.switch_page("app_pages/widgets.py").run()
    assert "for editors" in _texts(test) and not test.get("checkbox")
    test.switch_page("app_pages/lead_prices.py").run()
    assert "for editors" in _texts(test) and not test.get("file_uploader")
    test.switch_page("app_pages/costs.py").run()  # what is stored is shown; importing is for editors
    assert "for editors" in _texts(test) and not test.get("file_uploader")


@pytest.mark.slow  # the whole app, run by AppTest
def test_sign_in_is_asked_for_and_strangers_are_politely_refused(app_env: Path) -> None:
    test = _app(SIGN_IN, {"is_logged_in": False})
    assert not _sees_dashboard(test)
    assert [b.label for b in test.button] == ["Sign in with Google"]
    test = _app(SIGN_IN, {"is_logged_in": True, "email": "mallory@evil.ru"})
    assert "not on this dashboard's list" in _texts(test)
    assert not _sees_dashboard(test) and not test.sidebar.get("multiselect")


@pytest.mark.slow  # the whole app, run by AppTest
def test_signed_in_people_get_the_role_the_allowlist_gives(app_env: Path) -> None:
    boss = _app(SIGN_IN, {"is_logged_in": True, "email": "boss@example.com"})
    assert _sees_dashboard(boss) and _write_widgets(boss)
    assert "Signed in as boss@example.com" in _texts(boss)
    colleague = _app(SIGN_IN, {"is_logged_in": True, "email": "ann@example.com"})
    assert _sees_dashboard(colleague) and _write_widgets(colleague) == set()


@pytest.mark.slow  # the whole app, run by AppTest
def test_bad_access_settings_show_one_message_and_nothing_else(app_env: Path) -> None:
    test = _app({"auth": AUTH})
    assert "access settings need fixing" in _texts(test)
    assert not _sees_dashboard(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_a_read_only_deployment_shows_no_write_form_even_to_the_editor_password(app_env: Path) -> None:
    test = _enter(_app({"access": {**PASSWORDS["access"], "read_only": True}}), EDITOR_PASSWORD)
    assert _sees_dashboard(test) and _write_widgets(test) == set()
    assert "Read-only" in _texts(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_read_only_set_while_someone_is_signed_in_applies_at_their_next_click(app_env: Path) -> None:
    test = _enter(_app(PASSWORDS), EDITOR_PASSWORD)
    assert _write_widgets(test)
    test.secrets = {"access": {**PASSWORDS["access"], "read_only": True}}
    test.run()
    assert not test.exception
    assert _sees_dashboard(test) and _write_widgets(test) == set()


# ------------------------------------------------------------------------------------ the door fails closed


def _nobody_in(test: AppTest) -> None:
    assert not _sees_dashboard(test) and not test.sidebar.get("multiselect")
    assert not test.get("text_input") and not test.get("file_uploader")  # no gate to guess at, nothing to upload


@pytest.mark.slow  # the whole app, run by AppTest
@pytest.mark.parametrize(
    ("secrets", "setting"),
    [
        ({"access": {"editor_pass": EDITOR_PASSWORD}}, "[access] editor_pass"),
        ({"acess": {"editor_password": EDITOR_PASSWORD}}, "[acess]"),
        ({"access": {}}, "[access]"),
        ({"access": {"editor_password": "short pass"}}, "[access] editor_password"),
    ],
)
@pytest.mark.parametrize(("lang", "says"), [("en", "nobody gets in"), ("ru", "никто не войдёт")])
def test_a_setting_the_dashboard_cannot_use_lets_nobody_in_and_names_it(
    app_env: Path, secrets: dict[str, Any], setting: str, lang: str, says: str
) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.secrets, test.query_params["lang"] = secrets, lang
    test.run()
    assert not test.exception, test.exception
    assert len(test.error) == 1  # one message, and nothing else
    assert setting in _texts(test) and says in _texts(test)
    _nobody_in(test)


@pytest.mark.slow  # the whole app, run by AppTest
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "holds no settings"),
        (b"# [access]\n# editor_password = 'someday'\n", "holds no settings"),
        (b"[access\neditor_password = 'correct horse battery'\n", "cannot be read as TOML"),
        (b"[access]\neditor_password = '\xff\xfe not utf-8'\n", "cannot be read as TOML"),
        (None, "cannot be read as TOML"),  # a directory where the file should be: unreadable
    ],
)
def test_a_secrets_file_that_exists_but_says_nothing_usable_lets_nobody_in(
    app_env: Path, tmp_path: Path, option: Any, content: bytes | None, problem: str
) -> None:
    secrets = tmp_path / "secrets.toml"
    if content is None:
        secrets.mkdir()
    else:
        secrets.write_bytes(content)
    option("secrets.files", [str(tmp_path / "absent.toml"), str(secrets)])
    test = _app({})  # no secrets given to AppTest: Streamlit reads the files, as a server does
    assert problem in _texts(test) and str(secrets) in _texts(test)
    assert "correct horse" not in _texts(test)  # the parser's complaint (which may quote a secret) is not shown
    _nobody_in(test)


@pytest.mark.slow  # the whole app, run by AppTest
@pytest.mark.parametrize("address", ["0.0.0.0", "", "192.168.1.10"])  # noqa: S104 - what is being refused
def test_with_nothing_configured_a_server_listening_beyond_this_machine_serves_nothing(
    app_env: Path, option: Any, address: str
) -> None:
    option("server.address", address)
    test = _app({})
    assert "editor_password" in _texts(test) and "sign-in" in _texts(test)  # says how to set one
    _nobody_in(test)
    test = _app(PASSWORDS)  # a password makes it fine
    assert test.get("text_input") and not _sees_dashboard(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_the_committed_config_listens_on_loopback_so_local_use_stays_open(app: AppTest) -> None:
    assert config.get_option("server.address") == "127.0.0.1"
    assert "Open access" in _texts(app) and _sees_dashboard(app)


# ------------------------------------------------------------------------------------ guessing costs time


@pytest.mark.slow  # the whole app, run by AppTest
def test_clearing_the_caches_gives_a_guesser_no_new_tries(app_env: Path) -> None:
    test = _app(PASSWORDS)
    for _ in range(5):
        _enter(test, "guess guess guess")
    # What the websocket "clear caches" message does, which any browser may send before signing in.
    st.cache_resource.clear()
    st.cache_data.clear()
    _enter(test, EDITOR_PASSWORD)
    assert "Too many wrong passwords" in _texts(test) and not _sees_dashboard(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_each_wrong_password_is_held_longer_than_the_last(app_env: Path, _door: list[float]) -> None:
    test = _app(PASSWORDS)
    for _ in range(4):
        _enter(test, "guess guess guess")
    assert _door == [0.5, 1.0, 2.0, 4.0]
    _enter(test, EDITOR_PASSWORD)  # the right one is not held
    assert _sees_dashboard(test) and _door == [0.5, 1.0, 2.0, 4.0]


# ------------------------------------------------------------------------------------ a session ends when idle


@pytest.mark.slow  # the whole app, run by AppTest
@pytest.mark.parametrize(("settings", "idle"), [({}, 8 * 60), ({"idle_minutes": 30}, 30)])
def test_a_password_session_ends_after_its_idle_time(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], idle: int
) -> None:
    now = [1000.0]
    monkeypatch.setattr(door, "clock", lambda: now[0])
    test = _enter(_app({"access": {**PASSWORDS["access"], **settings}}), EDITOR_PASSWORD)
    assert _sees_dashboard(test)
    for _ in range(3):  # in use: every click starts the idle time again
        now[0] += idle * 60 - 1
        test.run()
        assert _sees_dashboard(test)
    now[0] += idle * 60 + 1
    test.run()
    assert not test.exception
    assert f"ended after {idle} minutes" in _texts(test)
    assert not _sees_dashboard(test) and not _write_widgets(test) and test.get("text_input")
    _enter(test, EDITOR_PASSWORD)
    assert _sees_dashboard(test)


def test_the_example_secrets_file_works_as_it_says() -> None:
    example = (Path(ENTRY).parent / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    assert load_policy(tomllib.loads(example), LOOPBACK).mode is Mode.OPEN  # copied as is: open, on loopback only
    with_passwords = re.sub(r"^# (\[access\]|editor_password|viewer_password)", r"\1", example, flags=re.MULTILINE)
    assert load_policy(tomllib.loads(with_passwords), LOOPBACK).mode is Mode.PASSWORD


# ------------------------------------------------------------------------------------ uploads


STRANGER = {"is_logged_in": True, "email": "mallory@evil.ru"}
NOT_SIGNED_IN = {"is_logged_in": False}


@pytest.mark.slow  # the whole app, run by AppTest
@pytest.mark.parametrize(("secrets", "user"), [(PASSWORDS, None), (SIGN_IN, NOT_SIGNED_IN), (SIGN_IN, STRANGER)])
def test_no_page_offers_an_upload_before_the_door_opens(
    app_env: Path, secrets: dict[str, Any], user: dict[str, Any] | None
) -> None:
    test = _app(secrets, user)
    for page in ("app_pages/lead_prices.py", "app_pages/costs.py", "app_pages/calls.py", "app_pages/widgets.py"):
        test.switch_page(page).run()
        assert not test.exception
        assert not test.get("file_uploader") and not _sees_dashboard(test)
    if secrets is PASSWORDS:  # the same pages, once the editor password is in, do offer it
        _enter(test, EDITOR_PASSWORD)
        test.switch_page("app_pages/lead_prices.py").run()
        assert test.get("file_uploader")


@pytest.mark.slow  # the whole app, run by AppTest
def test_the_suggested_setting_is_offered_in_russian_on_a_russian_page(app_env: Path) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.secrets, test.query_params["lang"] = {"access": {"editor_pass": EDITOR_PASSWORD}}, "ru"
    test.run()
    assert "возможно, имелось в виду editor_password" in _texts(test)
    assert "did you mean" not in _texts(test)


@pytest.mark.slow  # the whole app, run by AppTest
def test_open_access_is_one_line_in_the_sidebar_with_the_details_on_hover(app: AppTest) -> None:
    assert not app.sidebar.warning  # no box a third of the sidebar high
    (line,) = [c for c in app.sidebar.caption if "Open access" in c.value]
    assert len(line.value) < 60
    assert "write to Newton" in line.proto.help and "secrets.toml" in line.proto.help


# ------------------------------------------------------------------------------------ access per account

ACCOUNTS = {"client-a": {"user_id": "1"}, "client-b": {"user_id": "2"}, "client-c": {"user_id": "3"}}
LIMITED_SIGN_IN: dict[str, Any] = {
    "auth": AUTH,
    "accounts": ACCOUNTS,
    "access": {
        "editors": ["owner@agency.ru"],
        "viewers": ["@agency.ru"],
        "people": {
            "boss@example.com": {"accounts": ["client-a"], "role": "editor"},
            "@client-b.com": {"accounts": ["client-b"], "role": "viewer"},
            "Mixed@Example.com": {"roles": {"client-a": "editor", "client-b": "viewer"}},
            "junior@agency.ru": {"accounts": ["client-c"], "role": "viewer"},
        },
    },
}
A_PASSWORD, AB_PASSWORD = "client a only pass", "client a and b pass"
LIMITED_PASSWORDS: dict[str, Any] = {
    "accounts": ACCOUNTS,
    "access": {
        "editor_password": EDITOR_PASSWORD,
        "passwords": {
            "client-a": {"password": A_PASSWORD, "accounts": ["client-a"], "role": "viewer"},
            "agency": {"password": AB_PASSWORD, "accounts": ["client-b"], "role": "viewer",
                       "roles": {"client-a": "editor"}},
        },
    },
}  # fmt: skip


def test_a_signed_in_person_sees_only_the_accounts_their_entry_gives_with_its_role() -> None:
    policy = load_policy(LIMITED_SIGN_IN, LOOPBACK)
    boss = policy.person_for_email("Boss@Example.com")
    assert boss is not None and boss.visible(ACCOUNTS) == ("client-a",)
    assert boss.role_in("client-a") is Role.EDITOR and boss.role_in("client-b") is None
    client = policy.person_for_email("anyone@client-b.com")
    assert client is not None and client.visible(ACCOUNTS) == ("client-b",) and not client.can_write
    mixed = policy.person_for_email("mixed@example.com")
    assert mixed is not None and mixed.visible(ACCOUNTS) == ("client-a", "client-b")
    assert mixed.in_account("client-a").can_write and not mixed.in_account("client-b").can_write
    assert not mixed.in_account("client-c").can_write and mixed.in_account("client-c").visible(ACCOUNTS) == ()
    # The address's own entry wins over its domain's: the junior sees one account, the rest of the agency all.
    junior = policy.person_for_email("junior@agency.ru")
    assert junior is not None and junior.visible(ACCOUNTS) == ("client-c",)
    colleague = policy.person_for_email("colleague@agency.ru")
    assert colleague is not None and colleague.visible(ACCOUNTS) == tuple(ACCOUNTS) and not colleague.can_write
    owner = policy.person_for_email("owner@agency.ru")
    assert owner is not None and all(owner.role_in(a) is Role.EDITOR for a in ACCOUNTS)
    assert policy.person_for_email("stranger@example.org") is None
    assert policy.person_for_email("boss@example.com", verified=False) is None


def test_passwords_limited_to_accounts_open_those_accounts_only() -> None:
    policy = load_policy(LIMITED_PASSWORDS, LOOPBACK)
    a_only = policy.person_for_password(A_PASSWORD)
    assert a_only is not None and a_only.visible(ACCOUNTS) == ("client-a",) and not a_only.can_write
    agency = policy.person_for_password(AB_PASSWORD)
    assert agency is not None and agency.visible(ACCOUNTS) == ("client-a", "client-b")
    assert agency.role_in("client-a") is Role.EDITOR and agency.role_in("client-b") is Role.VIEWER
    editor = policy.person_for_password(EDITOR_PASSWORD)  # the shared password keeps meaning every account
    assert editor is not None and editor.visible(ACCOUNTS) == tuple(ACCOUNTS)
    assert policy.person_for_password(A_PASSWORD + " ") is None and policy.person_for_password("") is None
    assert A_PASSWORD not in repr(policy)
    # A session is looked up again on each run: by its label, with today's accounts.
    assert policy.password_person("agency") == agency and policy.password_person("gone") is None


def test_read_only_caps_every_role_in_every_account() -> None:
    policy = load_policy({**LIMITED_PASSWORDS, "access": {**LIMITED_PASSWORDS["access"], "read_only": True}}, LOOPBACK)
    agency = policy.person_for_password(AB_PASSWORD)
    assert agency is not None and agency.role_in("client-a") is Role.VIEWER and not agency.can_write
    signed_in = load_policy({**LIMITED_SIGN_IN, "access": {**LIMITED_SIGN_IN["access"], "read_only": True}}, LOOPBACK)
    boss = signed_in.person_for_email("boss@example.com")
    assert boss is not None and not boss.in_account("client-a").can_write


def _with(base: dict[str, Any], **access_keys: Any) -> dict[str, Any]:
    return {**base, "access": {**base["access"], **access_keys}}


@pytest.mark.parametrize(
    ("secrets", "field"),
    [
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-z"], "role": "editor"}}),
         '[access.people."boss@example.com"] accounts'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-a"], "role": "admin"}}),
         '[access.people."boss@example.com"] role'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-a"]}}),
         '[access.people."boss@example.com"] role'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-a"], "role": "editor",
                                                             "acounts": ["client-b"]}}),
         '[access.people."boss@example.com"] acounts'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"role": "editor"}}),
         '[access.people."boss@example.com"] accounts'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {}}), '[access.people."boss@example.com"]'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": "client-a", "role": "editor"}}),
         '[access.people."boss@example.com"] accounts'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"roles": {"client-a": "owner"}}}),
         '[access.people."boss@example.com"] roles.client-a'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-a"], "role": "viewer",
                                                             "roles": {"client-a": "editor"}}}),
         '[access.people."boss@example.com"] roles'),
        (_with(LIMITED_SIGN_IN, people={"example.com": {"accounts": ["client-a"], "role": "viewer"}}),
         '[access.people."example.com"]'),
        (_with(LIMITED_SIGN_IN, people={"boss@example.com": {"accounts": ["client-a"], "role": "viewer",
                                                             "password": A_PASSWORD}}),
         '[access.people."boss@example.com"] password'),
        (_with(LIMITED_SIGN_IN, people={"owner@agency.ru": {"accounts": ["client-a"], "role": "viewer"}}),
         "[access] owner@agency.ru"),
        (_with(LIMITED_SIGN_IN, people="boss@example.com"), "[access.people]"),
        (_with(LIMITED_SIGN_IN, passwords={"a": {"password": A_PASSWORD, "accounts": ["client-a"],
                                                 "role": "viewer"}}), "[access] passwords"),
        (_with(LIMITED_PASSWORDS, people={"boss@example.com": {"accounts": ["client-a"], "role": "editor"}}),
         "[access] people"),
        (_with(LIMITED_PASSWORDS, passwords={"a": {"password": "short", "accounts": ["client-a"],
                                                   "role": "viewer"}}), "[access.passwords.a] password"),
        (_with(LIMITED_PASSWORDS, passwords={"a": {"accounts": ["client-a"], "role": "viewer"}}),
         "[access.passwords.a] password"),
        (_with(LIMITED_PASSWORDS, passwords={"a": {"password": EDITOR_PASSWORD, "accounts": ["client-a"],
                                                   "role": "viewer"}}), "[access.passwords.a] password"),
        (_with(LIMITED_PASSWORDS, passwords={"a": {"password": A_PASSWORD, "accounts": ["client-a", "client-a"],
                                                   "role": "viewer"}}), "[access.passwords.a] accounts"),
        ({"access": {"passwords": {"a": {"password": A_PASSWORD, "accounts": ["client-a"], "role": "viewer"}}}},
         "[access.passwords.a] accounts"),  # no [accounts] configured: only the one account, "default", is known
    ],
)  # fmt: skip
def test_bad_per_account_settings_let_nobody_in_and_name_the_setting(secrets: dict[str, Any], field: str) -> None:
    with pytest.raises(BadAccess) as raised:
        load_policy(secrets, LOOPBACK)
    assert list(raised.value.fields) == [field]
    # The door says it in both languages.
    assert door.TEXT["ru"][f"problem_{raised.value.code}"] != door.TEXT["en"][f"problem_{raised.value.code}"]


def test_passwords_limited_to_accounts_alone_are_a_way_in() -> None:
    policy = load_policy({**LIMITED_PASSWORDS, "access": {"passwords": LIMITED_PASSWORDS["access"]["passwords"]}},
                         "192.0.2.7")  # fmt: skip
    assert policy.mode is Mode.PASSWORD and policy.person_for_password(EDITOR_PASSWORD) is None


def test_the_readmes_per_account_examples_work_as_it_says() -> None:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("### Access per account", 1)[1].split("\n## ", 1)[0]
    sign_in_toml, password_toml = re.findall(r"```toml\n(.*?)```", section, re.DOTALL)
    accounts: dict[str, dict[str, Any]] = {"accounts": {"client-a": {}, "client-b": {}}}
    policy = load_policy({**accounts, "auth": AUTH, **tomllib.loads(sign_in_toml)}, LOOPBACK)
    boss, client, manager = (policy.person_for_email(a) for a in ("boss@client-a.ru", "x@client-b.ru",
                                                                  "manager@agency.ru"))  # fmt: skip
    assert boss is not None and boss.visible(accounts["accounts"]) == ("client-a",) and boss.can_write
    assert client is not None and client.visible(accounts["accounts"]) == ("client-b",) and not client.can_write
    assert manager is not None and manager.role_in("client-a") is Role.EDITOR
    assert manager.role_in("client-b") is Role.VIEWER
    passwords = load_policy({**accounts, **tomllib.loads(password_toml)}, LOOPBACK)
    a_viewer = passwords.person_for_password("a long passphrase for client A")
    assert (
        a_viewer is not None and a_viewer.name == "client-a" and a_viewer.visible(accounts["accounts"]) == ("client-a",)
    )
