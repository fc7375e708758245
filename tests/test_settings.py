"""Where settings come from (flags, then the environment, then secrets.toml, else their defaults or demo mode), that
a bad one is a ConfigError naming it, and that settings.py is the only module that reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.api import DEFAULT_API_URL
from dashboard.errors import ConfigError
from dashboard.settings import SETTINGS, load_connection, load_settings, load_timezone, sync_concurrency

ROOT = Path(__file__).resolve().parent.parent

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
        ({"NEWTON_TOKEN": "short-" + TOKEN[:10], "NEWTON_USER_ID": "1"}, "NEWTON_TOKEN"),
        ({"NEWTON_TOKEN": TOKEN}, "user_id"),  # not set anywhere: named by what it is
        ({"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "12a"}, "NEWTON_USER_ID"),
        ({"NEWTON_USER_ID": "12"}, "token"),
        ({"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "1", "NEWTON_API_URL": "ftp://x"}, "NEWTON_API_URL"),
    ],
)
def test_bad_settings_name_the_field_without_echoing_the_token(env: dict[str, str], field: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_connection(env=env, secrets_path=tmp_path / "x")
    assert caught.value.setting == field
    assert str(caught.value).startswith(f"{field}: ")
    assert TOKEN[:10] not in str(caught.value)


def test_a_bad_value_is_named_where_it_was_given(secrets: Path) -> None:
    secrets.write_text('[newton]\ntoken = "not-a-token"\nuser_id = "777"\n')
    with pytest.raises(ConfigError) as caught:
        load_connection(env={}, secrets_path=secrets)
    assert caught.value.setting == "[newton] token"
    with pytest.raises(ConfigError) as caught:
        load_connection(user_id="x1", env={"NEWTON_TOKEN": TOKEN, "NEWTON_USER_ID": "1"}, secrets_path=secrets)
    assert caught.value.setting == "user_id"  # the --user-id flag


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"NEWTON_MAX_AGE_MINUTES": "abc"}, "NEWTON_MAX_AGE_MINUTES: must be a whole number of minutes"),
        ({"NEWTON_MAX_AGE_MINUTES": "-5"}, "NEWTON_MAX_AGE_MINUTES: must be a whole number of minutes"),
        ({"NEWTON_MAX_AGE_MINUTES": "9" * 30}, "NEWTON_MAX_AGE_MINUTES: must be a whole number of minutes"),
        ({"NEWTON_TIMEZONE": "Mars/Olympus"}, "NEWTON_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ({"NEWTON_SYNC_CONCURRENCY": "0"}, "NEWTON_SYNC_CONCURRENCY: must be a whole number from 1 to 16"),
        ({"NEWTON_SYNC_CONCURRENCY": "17"}, "NEWTON_SYNC_CONCURRENCY: must be a whole number from 1 to 16"),
        ({"NEWTON_SYNC_CONCURRENCY": "four"}, "NEWTON_SYNC_CONCURRENCY: must be a whole number from 1 to 16"),
        ({"NEWTON_CACHE": "x.duckdb", "NEWTON_TOKEN": "0" * 31}, "NEWTON_TOKEN: must be the 32 hexadecimal"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_it_never_its_default(
    env: dict[str, str], problem: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, secrets_path=tmp_path / "x")
    assert str(caught.value).startswith(problem)
    assert caught.value.setting == problem.split(":")[0]


def test_settings_come_from_the_given_environment_else_their_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={}, secrets_path=tmp_path / "x")
    assert (settings.max_age_minutes, settings.zone.key, settings.cache_path) == (
        60, "Europe/Moscow", Path("cache/demo.duckdb")
    )  # fmt: skip
    env = {"NEWTON_MAX_AGE_MINUTES": " 5 ", "NEWTON_TIMEZONE": "Asia/Tokyo", "NEWTON_CACHE": str(tmp_path / "c.db")}
    settings = load_settings(env=env, secrets_path=tmp_path / "x")
    assert (settings.max_age_minutes, settings.zone.key, settings.cache_path) == (5, "Asia/Tokyo", tmp_path / "c.db")


def test_a_sync_sends_four_requests_at_once_unless_set_and_the_flag_wins() -> None:
    nowhere = Path("/nonexistent")
    assert load_settings(env={}, secrets_path=nowhere).sync_concurrency == 4
    assert load_settings(env={"NEWTON_SYNC_CONCURRENCY": " 1 "}, secrets_path=nowhere).sync_concurrency == 1
    assert sync_concurrency("16", env={"NEWTON_SYNC_CONCURRENCY": "lots"}) == 16
    with pytest.raises(ConfigError) as caught:
        sync_concurrency("0", env={"NEWTON_SYNC_CONCURRENCY": "2"})
    assert str(caught.value) == "concurrency: must be a whole number from 1 to 16"  # the --concurrency flag


def test_the_tz_flag_wins_and_is_named_when_bad() -> None:
    assert load_timezone("Asia/Tokyo", env={"NEWTON_TIMEZONE": "Mars/Olympus"}).key == "Asia/Tokyo"
    with pytest.raises(ConfigError) as caught:
        load_timezone("Mars/Olympus", env={"NEWTON_TIMEZONE": "Asia/Tokyo"})
    assert caught.value.setting == "tz"


def test_a_broken_secrets_file_is_named_and_its_content_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(f'[newton]\ntoken = "{TOKEN}\n')
    with pytest.raises(ConfigError) as caught:
        load_connection(env={}, secrets_path=path)
    assert str(path) in str(caught.value)
    assert TOKEN not in str(caught.value)


# ------------------------------------------------------------------------- only settings.py reads the environment
_ENVIRONMENT_READERS = frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"})


def environment_reads(source: str) -> list[int]:
    """The lines of `source` that touch the process environment: `os.environ`, `os.getenv`, `from os import
    environ` and the like."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in _ENVIRONMENT_READERS:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in _ENVIRONMENT_READERS]
    return lines


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.environ.get('NEWTON_CACHE')",
        "import os\nx = os.environ['NEWTON_TIMEZONE']",
        "import os\nos.getenv('NEWTON_TOKEN')",
        "from os import environ\n",
        "from os import getenv as g\n",
        "import os as system\nsystem.environ",
    ],
)
def test_the_scan_finds_every_way_of_reading_the_environment(source: str) -> None:
    assert environment_reads(source)


def test_only_settings_py_reads_the_environment() -> None:
    files = [*(ROOT / "dashboard").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py")]
    files += [ROOT / "dashboard_app.py", ROOT / "streamlit_app.py"]
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in files
        if path != ROOT / "dashboard" / "settings.py"
        for line in environment_reads(path.read_text(encoding="utf-8"))
    }
    assert not found, f"read the environment through dashboard/settings.py instead: {sorted(found)}"
    assert environment_reads((ROOT / "dashboard" / "settings.py").read_text(encoding="utf-8"))


def test_the_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in readme.splitlines()]
    listed = {row[0]: row for row in rows if row[0].startswith("`NEWTON_")}
    for setting in SETTINGS:
        assert f"`{setting.env}`" in listed, f"the README's settings table has no row for {setting.env}"
        _, name, default, also, meaning = listed.pop(f"`{setting.env}`")
        assert (name, default, meaning) == (f"`{setting.name}`", setting.default, setting.help), setting.env
        if setting.flag:
            assert f"`--{setting.flag.replace('_', '-')}`" in also, setting.env
        if setting.toml_key:
            assert f"`[newton] {setting.toml_key}`" in also, setting.env
    assert not listed, f"the README lists settings the table does not have: {sorted(listed)}"
