"""Who may see and change what: the policy, the door in the app (AppTest), the Writer's refusal, the CLI's read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import NOBODY, Mode, NotAllowed, Person, Role, TryLimiter, load_policy
from dashboard.api import InvalidInput
from dashboard.connect import embedded_demo, open_client
from dashboard.settings import load_connection
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
SIGN_IN = {"auth": AUTH, "access": {"editors": ["boss@example.com"], "viewers": ["@example.com", "Ann@Agency.ru"]}}


# ------------------------------------------------------------------------------------ the policy


def test_nothing_configured_is_open_and_the_local_user_may_write() -> None:
    policy = load_policy({})
    assert policy.mode is Mode.OPEN
    assert policy.open_person().can_write


def test_read_only_makes_everyone_a_viewer() -> None:
    assert not load_policy({"access": {"read_only": True}}).open_person().can_write
    policy = load_policy({"access": {**PASSWORDS["access"], "read_only": "true"}})
    assert policy.role_for_password(EDITOR_PASSWORD) is Role.VIEWER
    assert (
        load_policy({**SIGN_IN, "access": {**SIGN_IN["access"], "read_only": True}}).role_for_email("boss@example.com")
        is Role.VIEWER
    )


def test_passwords_open_their_own_role_and_nothing_else() -> None:
    policy = load_policy(PASSWORDS)
    assert policy.mode is Mode.PASSWORD
    assert policy.role_for_password(EDITOR_PASSWORD) is Role.EDITOR
    assert policy.role_for_password(VIEWER_PASSWORD) is Role.VIEWER
    for wrong in ("", EDITOR_PASSWORD + " ", EDITOR_PASSWORD.upper(), VIEWER_PASSWORD[:-1], "\0" * 32):
        assert policy.role_for_password(wrong) is None
    assert EDITOR_PASSWORD not in repr(policy)  # only digests are kept, and not even those are shown


def test_an_only_viewer_password_gives_no_one_editing() -> None:
    policy = load_policy({"access": {"viewer_password": VIEWER_PASSWORD}})
    assert policy.role_for_password(VIEWER_PASSWORD) is Role.VIEWER
    assert policy.role_for_password("") is None


def test_the_allowlist_takes_addresses_and_whole_domains() -> None:
    policy = load_policy(SIGN_IN)
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
    ],
)  # fmt: skip
def test_bad_access_settings_name_the_setting(secrets: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        load_policy(secrets)
    assert field in raised.value.fields


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


@pytest.mark.parametrize("viewer", [NOBODY, Person("ann@example.com", Role.VIEWER)])
def test_a_viewer_write_is_refused_before_anything_is_sent(app_env: Path, viewer: Person) -> None:
    connection = load_connection(env={}, secrets_path=Path("/nonexistent"))
    newton = embedded_demo()
    before = newton.write_count
    with open_client(connection) as client:
        writer = Writer(client, app_env, connection.credentials.user_id, viewer)
        for write in (
            lambda: writer.set_lead_price("1", 100),
            lambda: writer.create_crm_lead("+79991234567", 100),
            lambda: writer.create_request("+79991234567", "w1"),
            lambda: writer.application_request("+79991234567", "w1"),
        ):
            with pytest.raises(NotAllowed) as refused:
                write()
            assert "access" in refused.value.fields
    assert newton.write_count == before
    assert _write_log(app_env) == []


def test_an_editor_write_is_logged_with_who_made_it(app_env: Path) -> None:
    connection = load_connection(env={}, secrets_path=Path("/nonexistent"))
    with duckdb.connect(str(app_env)) as con:
        (call_id,) = con.execute("SELECT id FROM records LIMIT 1").fetchone() or ("",)
    with open_client(connection) as demo:
        Writer(demo, app_env, connection.credentials.user_id, Person("boss@example.com", Role.EDITOR)).set_lead_price(
            call_id, 700
        )
    assert _write_log(app_env) == [("callback.SetLeadPrice", "boss@example.com")]


# ------------------------------------------------------------------------------------ the CLI


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


def test_a_bad_read_only_value_is_named(tmp_path: Path) -> None:
    result = run_cli("set-lead-price", "1", "100", env={"NEWTON_READ_ONLY": "perhaps"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "NEWTON_READ_ONLY" in result.stderr


# ------------------------------------------------------------------------------------ the door in the app


@pytest.fixture(autouse=True)
def _fresh_limiter() -> None:
    door._limiter.clear()  # the limiter lives as long as the process; each test starts with all its tries


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
    shown = "\n".join(str(element.value) for kind in kinds for element in test.get(kind))
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


def test_open_access_says_anyone_can_use_it(app: AppTest) -> None:
    assert "Open access" in _texts(app)
    assert _sees_dashboard(app)
    assert _write_widgets(app) == {"FormSubmitter:price_form-Save", "FormSubmitter:deal_form-Create"}


def test_the_password_gate_shows_nothing_until_the_right_password(app_env: Path) -> None:
    test = _app(PASSWORDS)
    assert not _sees_dashboard(test) and not test.sidebar.get("multiselect")
    _enter(test, "not the password")
    assert "not right" in _texts(test) and not _sees_dashboard(test)
    _enter(test, EDITOR_PASSWORD)
    assert _sees_dashboard(test)
    assert "editor password" in _texts(test)
    assert _write_widgets(test)


def test_wrong_passwords_are_limited_per_minute(app_env: Path) -> None:
    test = _app(PASSWORDS)
    for _ in range(5):
        _enter(test, "guess guess guess")
    _enter(test, EDITOR_PASSWORD)  # even the right one waits: the limit stops guessing, not just wrong answers
    assert "Too many wrong passwords" in _texts(test)
    assert not _sees_dashboard(test)


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


def test_sign_in_is_asked_for_and_strangers_are_politely_refused(app_env: Path) -> None:
    test = _app(SIGN_IN, {"is_logged_in": False})
    assert not _sees_dashboard(test)
    assert [b.label for b in test.get("button")] == ["Sign in with Google"]
    test = _app(SIGN_IN, {"is_logged_in": True, "email": "mallory@evil.ru"})
    assert "not on this dashboard's list" in _texts(test)
    assert not _sees_dashboard(test) and not test.sidebar.get("multiselect")


def test_signed_in_people_get_the_role_the_allowlist_gives(app_env: Path) -> None:
    boss = _app(SIGN_IN, {"is_logged_in": True, "email": "boss@example.com"})
    assert _sees_dashboard(boss) and _write_widgets(boss)
    assert "Signed in as boss@example.com" in _texts(boss)
    colleague = _app(SIGN_IN, {"is_logged_in": True, "email": "ann@example.com"})
    assert _sees_dashboard(colleague) and _write_widgets(colleague) == set()


def test_bad_access_settings_show_one_message_and_nothing_else(app_env: Path) -> None:
    test = _app({"auth": AUTH})
    assert "access settings need fixing" in _texts(test)
    assert not _sees_dashboard(test)


def test_a_read_only_deployment_shows_no_write_form_even_to_the_editor_password(app_env: Path) -> None:
    test = _enter(_app({"access": {**PASSWORDS["access"], "read_only": True}}), EDITOR_PASSWORD)
    assert _sees_dashboard(test) and _write_widgets(test) == set()
    assert "Read-only" in _texts(test)


def test_read_only_set_while_someone_is_signed_in_applies_at_their_next_click(app_env: Path) -> None:
    test = _enter(_app(PASSWORDS), EDITOR_PASSWORD)
    assert _write_widgets(test)
    test.secrets = {"access": {**PASSWORDS["access"], "read_only": True}}
    test.run()
    assert not test.exception
    assert _sees_dashboard(test) and _write_widgets(test) == set()
