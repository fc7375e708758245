"""Many Newton accounts in secrets.toml: `[accounts.<name>]` read in their order, each bad value named and never
shown, the single `[newton]` account and demo mode as before, and which account flags and the environment change."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.access import check_known
from dashboard.api import DEFAULT_API_URL, Credentials, Token
from dashboard.errors import ConfigError
from dashboard.settings import (
    DEFAULT_ACCOUNT,
    Connection,
    Settings,
    account_named,
    load_account,
    load_accounts,
    load_settings,
    read_secrets,
)
from dashboard.timezones import zone_named

TOKEN_A = "0123456789abcdef0123456789abcdef"
TOKEN_B = "fedcba9876543210fedcba9876543210"
TOKEN_C = "00112233445566778899aabbccddeeff"

TWO_ACCOUNTS = f"""
[accounts.client-b]
token = "{TOKEN_B}"
user_id = "22"
name = "Клиент Б"
timezone = "Asia/Yekaterinburg"
api_url = "https://b.test/json"

[accounts.client-a]
token = "{TOKEN_A}"
user_id = 11
"""


def secrets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_accounts_are_read_in_the_order_written(tmp_path: Path) -> None:
    accounts = load_accounts(env={}, secrets_path=secrets_file(tmp_path, TWO_ACCOUNTS))
    assert [(a.name, a.title) for a in accounts] == [("client-b", "Клиент Б"), ("client-a", "client-a")]
    b, a = accounts
    assert (b.connection.credentials.user_id, b.connection.credentials.token.reveal()) == ("22", TOKEN_B)
    assert (b.connection.api_url, b.zone.key) == ("https://b.test/json", "Asia/Yekaterinburg")
    assert (a.connection.credentials.user_id, a.connection.api_url) == ("11", DEFAULT_API_URL)
    assert not a.connection.demo and not b.connection.demo


def test_an_account_without_a_zone_gets_the_deployments(tmp_path: Path) -> None:
    accounts = load_accounts(env={"NEWTON_TIMEZONE": "Asia/Tokyo"}, secrets_path=secrets_file(tmp_path, TWO_ACCOUNTS))
    assert [a.zone.key for a in accounts] == ["Asia/Yekaterinburg", "Asia/Tokyo"]


def test_settings_keep_the_first_account_as_the_connection_and_zone(tmp_path: Path) -> None:
    settings = load_settings(env={}, secrets_path=secrets_file(tmp_path, TWO_ACCOUNTS))
    assert [a.name for a in settings.accounts] == ["client-b", "client-a"]
    assert settings.connection == settings.accounts[0].connection
    assert settings.zone.key == "Asia/Yekaterinburg"


def test_without_accounts_the_one_account_is_as_before(tmp_path: Path) -> None:
    nowhere = tmp_path / "missing.toml"
    (demo,) = load_accounts(env={}, secrets_path=nowhere)
    assert (demo.name, demo.title, demo.connection.demo) == ("demo", "Demo", True)
    (single,) = load_accounts(env={"NEWTON_TOKEN": TOKEN_A, "NEWTON_USER_ID": "5"}, secrets_path=nowhere)
    assert (single.name, single.connection.credentials.user_id) == (DEFAULT_ACCOUNT, "5")
    newton = secrets_file(tmp_path, f'[newton]\ntoken = "{TOKEN_A}"\nuser_id = "7"\n')
    assert load_settings(env={}, secrets_path=newton).accounts[0].name == DEFAULT_ACCOUNT


def test_settings_made_by_hand_have_their_one_account() -> None:
    connection = Connection(Credentials("3", Token(TOKEN_A)), "https://x.test/json", demo=False)
    settings = Settings(connection, Path("c.duckdb"), zone_named("Europe/Moscow"), 60)
    assert [(a.name, a.connection) for a in settings.accounts] == [(DEFAULT_ACCOUNT, connection)]


def test_newton_with_a_token_is_the_default_account_listed_first(tmp_path: Path) -> None:
    text = f'[newton]\ntoken = "{TOKEN_C}"\nuser_id = "33"\ntelegram_chat_id = "@alerts_chat"\n' + TWO_ACCOUNTS
    accounts = load_accounts(env={}, secrets_path=secrets_file(tmp_path, text))
    assert [a.name for a in accounts] == [DEFAULT_ACCOUNT, "client-b", "client-a"]
    assert accounts[0].connection.credentials.user_id == "33"


def test_newton_holding_only_alert_settings_is_no_account(tmp_path: Path) -> None:
    text = '[newton]\ntelegram_chat_id = "@alerts_chat"\n' + TWO_ACCOUNTS
    assert [a.name for a in load_accounts(env={}, secrets_path=secrets_file(tmp_path, text))] == [
        "client-b",
        "client-a",
    ]


def test_newton_and_an_account_called_default_are_refused(tmp_path: Path) -> None:
    text = f'[newton]\ntoken = "{TOKEN_C}"\nuser_id = "33"\n[accounts.default]\ntoken = "{TOKEN_A}"\nuser_id = "1"\n'
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=secrets_file(tmp_path, text))
    assert caught.value.setting == "[accounts.default]"
    assert "[newton]" in str(caught.value)


@pytest.mark.parametrize(
    ("line", "setting", "words"),
    [
        (f'token = "{TOKEN_A[:-1]}"', "[accounts.x] token", "32 hexadecimal"),
        ('user_id = "12a"', "[accounts.x] user_id", "decimal user id"),
        ('timezone = "Mars/Olympus"', "[accounts.x] timezone", "unknown time zone"),
        ('api_url = "ftp://b.test/json"', "[accounts.x] api_url", "http:// or https://"),
        (f'name = "{"x" * 81}"', "[accounts.x] name", "at most 80"),
        ('name = "two\\nlines"', "[accounts.x] name", "one line"),
        ("name = 5", "[accounts.x] name", "one line"),
        ('tokn = "x"', "[accounts.x] tokn", "did you mean token?"),
        ('colour = "red"', "[accounts.x] colour", "not an account setting; the settings are token, user_id"),
    ],
)
def test_each_bad_value_is_named_and_never_shown(tmp_path: Path, line: str, setting: str, words: str) -> None:
    base = {"token": f'token = "{TOKEN_B}"', "user_id": 'user_id = "9"'}
    base[line.split(" ")[0]] = line
    path = secrets_file(tmp_path, "[accounts.x]\n" + "\n".join(base.values()) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=path)
    assert caught.value.setting == setting
    assert words in str(caught.value)
    assert TOKEN_A[:-1] not in str(caught.value) and TOKEN_B not in str(caught.value)


@pytest.mark.parametrize("missing", ["token", "user_id"])
def test_an_account_needs_a_token_and_a_user_id(tmp_path: Path, missing: str) -> None:
    lines = {"token": f'token = "{TOKEN_B}"', "user_id": 'user_id = "9"'}
    del lines[missing]
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=secrets_file(tmp_path, "[accounts.x]\n" + "\n".join(lines.values())))
    assert caught.value.setting == f"[accounts.x] {missing}"


@pytest.mark.parametrize(("section", "shown"), [("Client-A", "Client-A"), ('"a b"', "a b"), ("-a", "-a")])
def test_a_bad_account_name_is_refused(tmp_path: Path, section: str, shown: str) -> None:
    path = secrets_file(tmp_path, f'[accounts.{section}]\ntoken = "{TOKEN_A}"\nuser_id = "1"\n')
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=path)
    assert caught.value.setting == f"[accounts.{shown}]"
    assert "lowercase Latin letters" in str(caught.value)


def test_an_account_may_not_be_called_all(tmp_path: Path) -> None:
    """`?account=all` is every account together: an account of that name could never be shown alone."""
    path = secrets_file(tmp_path, f'[accounts.all]\ntoken = "{TOKEN_A}"\nuser_id = "1"\n')
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=path)
    assert caught.value.setting == "[accounts.all]"
    assert "every account together" in str(caught.value)


def test_an_account_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=secrets_file(tmp_path, '[accounts]\nclient-a = "x"\n'))
    assert caught.value.setting == "[accounts.client-a]"


def test_two_accounts_with_one_user_id_name_the_second(tmp_path: Path) -> None:
    text = TWO_ACCOUNTS.replace("user_id = 11", 'user_id = "22"')
    with pytest.raises(ConfigError) as caught:
        load_accounts(env={}, secrets_path=secrets_file(tmp_path, text))
    assert caught.value.setting == "[accounts.client-a] user_id"
    assert "client-b" in str(caught.value)


def test_flags_and_environment_change_the_chosen_account_only(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, TWO_ACCOUNTS)
    env = {"NEWTON_TOKEN": TOKEN_C, "NEWTON_USER_ID": "44", "NEWTON_API_URL": "https://env.test/json"}
    chosen = load_accounts(env=env, secrets_path=path, chosen="client-a")
    b, a = chosen
    assert (a.connection.credentials.token.reveal(), a.connection.credentials.user_id) == (TOKEN_C, "44")
    assert a.connection.api_url == "https://env.test/json"
    assert (b.connection.credentials.token.reveal(), b.connection.api_url) == (TOKEN_B, "https://b.test/json")
    flagged = load_account("client-a", user_id="55", api_url="https://flag.test/json", env=env, secrets_path=path)
    assert (flagged.connection.credentials.user_id, flagged.connection.api_url) == ("55", "https://flag.test/json")
    assert flagged.connection.credentials.token.reveal() == TOKEN_C


def test_without_a_choice_the_first_account_is_the_one_changed(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, TWO_ACCOUNTS)
    first = load_account(None, user_id="66", env={}, secrets_path=path)
    assert (first.name, first.connection.credentials.user_id) == ("client-b", "66")
    b, a = load_accounts(env={"NEWTON_USER_ID": "77"}, secrets_path=path)
    assert (b.connection.credentials.user_id, a.connection.credentials.user_id) == ("77", "11")


def test_an_unknown_account_is_named_by_where_it_came_from(tmp_path: Path) -> None:
    accounts = load_accounts(env={}, secrets_path=secrets_file(tmp_path, TWO_ACCOUNTS))
    assert account_named(accounts, "client-a", "--account").title == "client-a"
    with pytest.raises(ConfigError) as caught:
        account_named(accounts, "<script>", "account")
    assert caught.value.setting == "account"
    assert "client-b, client-a" in str(caught.value) and "<script>" not in str(caught.value)
    with pytest.raises(ConfigError) as flagged:
        load_account("client-c", env={}, secrets_path=secrets_file(tmp_path, TWO_ACCOUNTS))
    assert flagged.value.setting == "--account"


def test_the_accounts_section_is_a_known_one(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, TWO_ACCOUNTS)
    check_known({"accounts": read_secrets(path, "accounts")})  # raises BadAccess for a section it does not know


def test_the_readme_example_reads_as_it_says(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Several Newton accounts", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    accounts = load_accounts(env={}, secrets_path=secrets_file(tmp_path, example))
    assert [(a.name, a.title, a.zone.key) for a in accounts] == [
        ("client-a", "Client A", "Asia/Yekaterinburg"),
        ("client-b", "client-b", "Europe/Moscow"),
    ]


def test_the_example_secrets_file_with_its_account_uncommented(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parent.parent / ".streamlit" / "secrets.toml.example").read_text("utf-8")
    lines = example.split("# [accounts.client-a]", 1)[1].split("\n\n", 1)[0]
    uncommented = example + "\n[accounts.client-a]" + lines.replace("\n# ", "\n") + "\n"
    accounts = load_accounts(env={}, secrets_path=secrets_file(tmp_path, uncommented))
    assert [(a.name, a.title) for a in accounts] == [(DEFAULT_ACCOUNT, DEFAULT_ACCOUNT), ("client-a", "Client A")]
