"""Where the connection comes from: flags, then the environment, then secrets.toml, else demo mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.api import DEFAULT_API_URL
from dashboard.errors import InvalidInput
from dashboard.settings import load_connection

TOKEN = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(f'[newton]\ntoken = "{OTHER}"\nuser_id = "777"\napi_url = "https://secrets.test/json"\n')
    return path


def test_nothing_configured_is_demo_mode(tmp_path: Path) -> None:
    connection = load_connection(env={}, secrets_path=tmp_path / "missing.toml")
    assert connection.demo
    assert connection.api_url is None
    assert "Demo mode" in connection.describe()


def test_demo_mode_can_talk_to_a_demo_server_at_a_url(tmp_path: Path) -> None:
    connection = load_connection(api_url="http://127.0.0.1:8765/api/v1/json", env={}, secrets_path=tmp_path / "x")
    assert connection.demo
    assert connection.api_url == "http://127.0.0.1:8765/api/v1/json"


def test_secrets_file_is_used_when_nothing_else_is_set(secrets: Path) -> None:
    connection = load_connection(env={}, secrets_path=secrets)
    assert not connection.demo
    assert connection.credentials.user_id == "777"
    assert connection.credentials.token.reveal() == OTHER
    assert connection.api_url == "https://secrets.test/json"


def test_environment_wins_over_secrets_and_flags_win_over_environment(secrets: Path) -> None:
    env = {"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "55", "NEWTON_API_URL": "https://env.test/json"}
    from_env = load_connection(env=env, secrets_path=secrets)
    assert (from_env.credentials.token.reveal(), from_env.credentials.user_id) == (TOKEN, "55")
    assert from_env.api_url == "https://env.test/json"
    from_flags = load_connection(api_url="https://flag.test/json", user_id="66", env=env, secrets_path=secrets)
    assert (from_flags.api_url, from_flags.credentials.user_id) == ("https://flag.test/json", "66")
    assert from_flags.credentials.token.reveal() == TOKEN


def test_a_real_account_defaults_to_newtons_https_endpoint(tmp_path: Path) -> None:
    connection = load_connection(env={"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "1"}, secrets_path=tmp_path / "x")
    assert connection.api_url == DEFAULT_API_URL
    assert connection.api_url.startswith("https://")
    assert TOKEN not in connection.describe() and TOKEN not in repr(connection)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"NEWTON_TOKEN": "short-" + TOKEN[:10], "NEWTON_USER_ID": "1"}, "token"),
        ({"NEWTON_TOKEN": TOKEN}, "user_id"),
        ({"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "12a"}, "user_id"),
        ({"NEWTON_USER_ID": "12"}, "token"),
        ({"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "1", "NEWTON_API_URL": "ftp://x"}, "api_url"),
    ],
)
def test_bad_settings_name_the_field_without_echoing_the_token(env: dict[str, str], field: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_connection(env=env, secrets_path=tmp_path / "x")
    assert set(caught.value.fields) == {field}
    assert TOKEN[:10] not in str(caught.value)


def test_a_broken_secrets_file_is_named_and_its_content_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(f'[newton]\ntoken = "{TOKEN}\n')
    with pytest.raises(InvalidInput) as caught:
        load_connection(env={}, secrets_path=path)
    assert str(path) in str(caught.value)
    assert TOKEN not in str(caught.value)
