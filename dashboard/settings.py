"""Every setting of the dashboard in one table, and the one module that reads the environment.

A value comes from a command-line flag (the CLI only), else the environment, else `.streamlit/secrets.toml`, else
its default. A value that cannot be used is a `ConfigError` naming where it came from (`NEWTON_TIMEZONE`, `tz` for
`--tz`, `[newton] token`) and what is wrong; never a silent fall back to the default. Functions take `env=` (a
mapping) so tests pass their own environment instead of changing the process's.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from dashboard.alerts import config as alerts
from dashboard.api import DEFAULT_API_URL, Credentials, Token, validate
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID
from dashboard.errors import ConfigError, InvalidInput
from dashboard.i18n import Problem
from dashboard.store import location
from dashboard.sync import DEFAULT_CONCURRENCY, MOST_CONCURRENCY
from dashboard.timezones import DEFAULT_TIMEZONE, zone_named

SECRETS_PATH = Path(".streamlit") / "secrets.toml"
DEFAULT_CACHE = Path("cache") / "newton.duckdb"
DEMO_CACHE = Path("cache") / "demo.duckdb"
MAX_AGE_MINUTES: Final = 60
MOST_MAX_AGE_MINUTES: Final = 365 * 24 * 60
_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
_USER_ID = re.compile(r"\d{1,20}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
# Alert delivery (dashboard/alerts/delivery.py).
DEFAULT_TELEGRAM_URL = "https://api.telegram.org"
# The bot token as @BotFather gives it: the bot's id, a colon, then its secret.
_BOT_TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")
# A chat's numeric id (a group's is negative) or a public channel's @username.
_CHAT_ID = re.compile(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31}")
# A host name or an IP address, as smtplib takes it: nothing that could carry a second line or an option.
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|[0-9A-Fa-f:.]{2,45}")
SMTP_SECURITY: Final = ("starttls", "tls", "none")
# The port each kind of connection is usually served on: submission (587), submissions (465), plain SMTP (25).
SMTP_PORTS: Final = {"starttls": 587, "tls": 465, "none": 25}
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")
# Many Newton accounts: `[accounts.<name>]` tables of secrets.toml.
DEFAULT_ACCOUNT: Final = "default"  # the one account of [newton] and the environment
DEMO_ACCOUNT: Final = "demo"
DEMO_TITLE: Final = "Demo"
ACCOUNT_KEYS: Final = ("token", "user_id", "name", "timezone", "api_url")
_ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
ALL_ACCOUNTS: Final = "all"  # not an account's name: the dashboard's "All accounts" (`?account=all`)
MOST_TITLE: Final = 80


def truth(text: str) -> bool | None:
    """`true`/`false` (also 1/0, yes/no, on/off) as a bool; None for anything else."""
    word = text.strip().lower()
    return word in _TRUE if word in _TRUE | _FALSE else None


def _token(text: str, where: str) -> str:
    if not _TOKEN.fullmatch(text):
        raise ConfigError(where, Problem("token_format"))  # never the value: it may be most of a token
    return text


def _matching(pattern: re.Pattern[str], problem: str) -> Callable[[str, str], str]:
    """A parser that takes a value whole when it matches `pattern`, else names the setting and `problem`."""

    def parse(text: str, where: str) -> str:
        if not pattern.fullmatch(text):
            raise ConfigError(where, Problem(problem))
        return text

    return parse


_user_id = _matching(_USER_ID, "user_id_format")


def _api_url(text: str, where: str) -> str:
    try:
        return validate.url(where, text)
    except InvalidInput:
        raise ConfigError(where, Problem("http_url")) from None


def _zone(text: str, where: str) -> ZoneInfo:
    return zone_named(text, where)


def _minutes(text: str, where: str) -> int:
    if not text.isdecimal() or int(text) > MOST_MAX_AGE_MINUTES:
        raise ConfigError(where, Problem("whole_minutes", most=MOST_MAX_AGE_MINUTES))
    return int(text)


def _concurrency(text: str, where: str) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= MOST_CONCURRENCY:
        raise ConfigError(where, Problem("whole_number", least=1, most=MOST_CONCURRENCY))
    return int(text)


def _true_false(text: str, where: str) -> bool:
    value = truth(text)
    if value is None:
        raise ConfigError(where, Problem("true_false"))
    return value


def _smtp_password(text: str, where: str) -> Token:
    _smtp_user(text, where)
    return Token(text)  # kept out of every repr, log line and error text from here on


def _bot_token(text: str, where: str) -> Token:
    if not _BOT_TOKEN.fullmatch(text):
        raise ConfigError(where, Problem("bot_token_format"))  # never the value: it may be most of a token
    return Token(text)


_chat_id = _matching(_CHAT_ID, "chat_id_format")


_host = _matching(_HOST, "host_name")


def _port(text: str, where: str) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= 65535:
        raise ConfigError(where, Problem("port_number"))
    return int(text)


def _address(text: str, where: str) -> str:
    try:
        return validate.email(where, text)
    except InvalidInput:
        raise ConfigError(where, Problem("email_format", example="alerts@example.com")) from None


def _addresses(text: str, where: str) -> tuple[str, ...]:
    return tuple(_address(part, where) for part in _ADDRESS_SEPARATORS.split(text) if part)


def _smtp_user(text: str, where: str) -> str:
    # Python's smtplib signs in with ASCII only.
    if not text.isascii() or not text.isprintable():
        raise ConfigError(where, Problem("ascii_line"))
    return text


def _security(text: str, where: str) -> str:
    if text.lower() not in SMTP_SECURITY:
        raise ConfigError(where, Problem("one_of", choices=", ".join(SMTP_SECURITY)))
    return text.lower()


def _readable_file(text: str, where: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise ConfigError(where, Problem("no_file", path=str(path)))
    return path


@dataclass(frozen=True)
class Setting:
    """One setting: its `name` in the code, its environment variable, its default as people read it, what it is
    for, and `parse`, which turns the text into its value or raises ConfigError naming where the text came from.
    `flag` is how a CLI flag's value is named (`tz` for `--tz`); `toml_key` its key under [newton] in secrets.toml."""

    name: str
    env: str
    default: str
    help: str
    parse: Callable[[str, str], Any]
    flag: str | None = None
    toml_key: str | None = None


SETTINGS: Final = (
    Setting("token", "NEWTON_TOKEN", "none: the embedded demo account",
            "Newton API token: the 32 hexadecimal characters shown in Newton's settings. It has no flag: a "
            "command line is visible to every user of the machine", _token, toml_key="token"),
    Setting("user_id", "NEWTON_USER_ID", "none", "Newton user id: the number shown in Newton's settings",
            _user_id, flag="user_id", toml_key="user_id"),
    Setting("api_url", "NEWTON_API_URL", f"{DEFAULT_API_URL}; the embedded demo account in demo mode",
            "Newton's JSON endpoint: an http:// or https:// address",
            _api_url, flag="api_url", toml_key="api_url"),
    Setting("cache", "NEWTON_CACHE", f"{DEFAULT_CACHE}; {DEMO_CACHE} in demo mode",
            "The local cache file, or ducklake:postgres:<libpq connection string> for a lake shared by several "
            "servers (no password in it: PGPASSWORD, ~/.pgpass or [lake] password in secrets.toml)",
            location.parse_cache, flag="cache"),
    Setting("lake_data_path", "NEWTON_LAKE_DATA_PATH", "none; required with a ducklake: cache",
            "Where a lake keeps its Parquet files: a directory every server shares, or s3://bucket/prefix",
            lambda text, where: text),
    Setting("lake_s3_key_id", "NEWTON_LAKE_S3_KEY_ID", "AWS_ACCESS_KEY_ID",
            "The access key id for an s3:// data path", lambda text, where: text),
    Setting("lake_s3_secret", "NEWTON_LAKE_S3_SECRET", "AWS_SECRET_ACCESS_KEY",
            "The secret access key for an s3:// data path, a secret like the Newton token", lambda text, where: text),
    Setting("lake_s3_region", "NEWTON_LAKE_S3_REGION", "AWS_REGION, else AWS_DEFAULT_REGION",
            "The region of an s3:// data path", lambda text, where: text),
    Setting("lake_s3_endpoint", "NEWTON_LAKE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS",
            "An S3-compatible server instead of AWS: host:port, or http://host:port for one without TLS",
            lambda text, where: text),
    Setting("lake_s3_url_style", "NEWTON_LAKE_S3_URL_STYLE", "vhost",
            "path (bucket in the path: most S3-compatible servers) or vhost (bucket in the host name: AWS)",
            lambda text, where: text),
    Setting("timezone", "NEWTON_TIMEZONE", DEFAULT_TIMEZONE,
            "The time zone of local days and hours, and of the dates you type: a tz database name", _zone, flag="tz"),
    Setting("max_age_minutes", "NEWTON_MAX_AGE_MINUTES", str(MAX_AGE_MINUTES),
            "Opening the dashboard syncs first when the last sync is older than this many minutes", _minutes),
    Setting("sync_concurrency", "NEWTON_SYNC_CONCURRENCY", str(DEFAULT_CONCURRENCY),
            f"How many requests a sync sends to Newton at once, from 1 (one after another) to {MOST_CONCURRENCY}; "
            "the dashboard's syncs and `newton-dashboard sync` alike", _concurrency, flag="concurrency"),
    Setting("read_only", "NEWTON_READ_ONLY", "false",
            "true makes the CLI's write commands refuse; read_only = true under [access] in secrets.toml makes "
            "everyone a viewer, in the dashboard and in the CLI", _true_false),
    Setting("telegram_bot_token", "NEWTON_TELEGRAM_BOT_TOKEN", "none: no alerts by Telegram",
            "The Telegram bot that sends alerts: its token from @BotFather (123456:ABC…), a secret like the "
            "Newton token", _bot_token, toml_key="telegram_bot_token"),
    Setting("telegram_chat_id", "NEWTON_TELEGRAM_CHAT_ID", "none",
            "The Telegram chat the bot sends alerts to: its numeric id (a group's is negative) or a channel's "
            "@username", _chat_id, toml_key="telegram_chat_id"),
    Setting("telegram_api_url", "NEWTON_TELEGRAM_API_URL", DEFAULT_TELEGRAM_URL,
            "The Telegram Bot API server: an http:// or https:// address", _api_url),
    Setting("smtp_host", "NEWTON_SMTP_HOST", "none: no alerts by e-mail",
            "The mail server that sends alerts (SMTP): a host name or IP address", _host),
    Setting("smtp_port", "NEWTON_SMTP_PORT", "587 with starttls, 465 with tls, 25 with none",
            "The mail server's port", _port),
    Setting("smtp_security", "NEWTON_SMTP_SECURITY", "starttls",
            "How the connection to the mail server is encrypted: starttls, tls (encrypted from the start) or "
            "none (a relay on this machine only)", _security),
    Setting("smtp_user", "NEWTON_SMTP_USER", "none: no sign-in",
            "The user name to sign in to the mail server with", _smtp_user, toml_key="smtp_user"),
    Setting("smtp_password", "NEWTON_SMTP_PASSWORD", "none",
            "The mail server password, a secret like the Newton token", _smtp_password, toml_key="smtp_password"),
    Setting("smtp_from", "NEWTON_SMTP_FROM", "none", "The address alerts are sent from", _address),
    Setting("smtp_to", "NEWTON_SMTP_TO", "none",
            "Who gets alerts by e-mail: addresses separated by commas", _addresses),
    Setting("smtp_ca_file", "NEWTON_SMTP_CA_FILE", "the system's certificate authorities",
            "A PEM file of the certificate authorities to trust for the mail server instead", _readable_file),
    Setting("public_url", "NEWTON_PUBLIC_URL", "none: alerts carry no link",
            "The dashboard's address as people open it (https://...): alerts link to the view they are about",
            alerts.parse_public_url),
    Setting("alert_language", "NEWTON_ALERT_LANGUAGE", "en", "The language of alerts and digests: en or ru",
            alerts.parse_language),
    Setting("working_days", "NEWTON_WORKING_DAYS", "Mon-Fri",
            "The days someone is there to call back, e.g. Mon-Fri or Mon-Sat or Mon,Wed,Fri", alerts.parse_days),
    Setting("working_hours", "NEWTON_WORKING_HOURS", "09:00-18:00",
            "The local hours of those days, HH:MM-HH:MM: alerts about lost leads, the answer rate and silence are "
            "sent only then", alerts.parse_hours),
    Setting("alert_lost_lead_minutes", "NEWTON_ALERT_LOST_LEAD_MINUTES", "15",
            "Alert about a lost lead (a missed caller not reached since) this many minutes after the miss, or off",
            alerts.parse_minutes_or_off),
    Setting("alert_answer_rate_below", "NEWTON_ALERT_ANSWER_RATE_BELOW", "50",
            "Alert when the answer rate of the last NEWTON_ALERT_ANSWER_RATE_HOURS hours falls below this percent "
            "(and again when it recovers), or off", alerts.parse_percent_or_off),
    Setting("alert_answer_rate_hours", "NEWTON_ALERT_ANSWER_RATE_HOURS", "3",
            "The hours the answer-rate alert looks back over", alerts.parse_window_hours),
    Setting("alert_silent_hours", "NEWTON_ALERT_SILENT_HOURS", "2",
            "Alert when no request at all arrived for this many working hours (a broken widget), and again when "
            "requests come back, or off", alerts.parse_hours_or_off),
    Setting("alert_digest", "NEWTON_ALERT_DIGEST", "daily",
            "A digest of the previous day (daily) or week (weekly) against the one before, or off",
            alerts.parse_digest),
    Setting("alert_digest_at", "NEWTON_ALERT_DIGEST_AT", "09:00",
            "The local time from which the digest is due (weekly: on Monday)", alerts.parse_clock),
)  # fmt: skip
_BY_NAME: Final = {setting.name: setting for setting in SETTINGS}


def environment(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The process's environment, or `env` when a test passes its own."""
    return os.environ if env is None else env


def configured(
    name: str,
    *,
    flag: object = None,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, Any] | None = None,
    section: str = "[newton]",
) -> Any:
    """Setting `name` from its flag, else its environment variable, else secrets.toml (its `section`, as errors
    name it): parsed, or None when unset."""
    for where, value in _sources(_BY_NAME[name], flag, environment(env), secrets or {}, section):
        text = "" if value is None else str(value).strip()
        if text:
            return _BY_NAME[name].parse(text, where)
    return None


def _sources(
    setting: Setting, flag: object, env: Mapping[str, str], secrets: Mapping[str, Any], section: str
) -> Iterator[tuple[str, object]]:
    if setting.flag is not None:
        yield setting.flag, flag
    yield setting.env, env.get(setting.env)
    if setting.toml_key is not None:
        yield f"{section} {setting.toml_key}", secrets.get(setting.toml_key)


@dataclass(frozen=True)
class Connection:
    """Where and as whom to reach Newton. `demo` is True when no token is configured."""

    credentials: Credentials
    api_url: str | None  # None in demo mode without a URL: the embedded Newton, in this process
    demo: bool

    def describe(self) -> str:
        """One line for people: which account, where, never the token."""
        if self.demo:
            where = self.api_url or "the embedded demo account"
            return f"Demo mode: no Newton token configured; using {where}"
        return f"Newton account {self.credentials.user_id} at {self.api_url}"


@dataclass(frozen=True)
class Account:
    """One Newton account of the dashboard. `name` is its key (`[accounts.<name>]`, `--account NAME`, the URL),
    `title` what people read, `zone` the time zone of its local days."""

    name: str
    title: str
    connection: Connection
    zone: ZoneInfo


@dataclass(frozen=True)
class Settings:
    """The deployment's settings (never the token itself). `connection` and `zone` are the first account's: the
    default one, which code written for one account keeps using."""

    connection: Connection
    cache_path: Path | location.LakeLocation  # a DuckDB file, or a lake (see dashboard/store/location.py)
    zone: ZoneInfo
    max_age_minutes: int
    sync_concurrency: int = DEFAULT_CONCURRENCY
    accounts: tuple[Account, ...] = ()

    def __post_init__(self) -> None:
        if not self.accounts:  # made by hand (tests) with one connection: that is the one account
            name, title = (DEMO_ACCOUNT, DEMO_TITLE) if self.connection.demo else (DEFAULT_ACCOUNT, DEFAULT_ACCOUNT)
            object.__setattr__(self, "accounts", (Account(name, title, self.connection, self.zone),))


def read_secrets(path: Path = SECRETS_PATH, section: str = "newton") -> dict[str, Any]:
    """One section (`[newton]`, `[access]`) of Streamlit's secrets file, or {} when there is none."""
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # The parser's message may quote the offending line, which could hold the token: keep only the position.
        where = re.search(r"line \d+, column \d+", str(error))
        raise ConfigError(str(path), Problem("not_toml", where=where.group(0) if where else "unreadable")) from None
    found = document.get(section, {})
    if not isinstance(found, dict):
        raise ConfigError(f"{path} [{section}]", Problem("not_a_table"))
    return found


def load_connection(
    *,
    api_url: str | None = None,
    user_id: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets_path: Path = SECRETS_PATH,
) -> Connection:
    """Resolve the connection: flags win over the environment, which wins over the secrets file."""
    secrets = read_secrets(secrets_path)
    url: str | None = configured("api_url", flag=api_url, env=env, secrets=secrets)
    token: str | None = configured("token", env=env, secrets=secrets)
    uid: str | None = configured("user_id", flag=user_id, env=env, secrets=secrets)
    if token is None:
        if uid not in (None, DEMO_USER_ID):
            raise ConfigError("token", Problem("token_missing"))
        return Connection(Credentials(DEMO_USER_ID, Token(DEMO_TOKEN)), url, demo=True)
    if uid is None:
        raise ConfigError("user_id", Problem("user_id_format"))
    return Connection(Credentials(uid, Token(token)), url or DEFAULT_API_URL, demo=token == DEMO_TOKEN)


def cache_path(
    flag: Path | str | None, connection: Connection, env: Mapping[str, str] | None = None
) -> Path | location.LakeLocation:
    """The cache: `--cache`, else NEWTON_CACHE, else the default file; demo data always gets its own file. A
    `ducklake:postgres:…` value is a lake, its files at NEWTON_LAKE_DATA_PATH."""
    path: Path | str | None = configured("cache", flag=flag, env=env)
    if isinstance(path, str):
        return location.lake_location(path, environment(env))
    if path is not None:
        return path
    return DEMO_CACHE if connection.demo else DEFAULT_CACHE


def load_timezone(flag: str | None = None, env: Mapping[str, str] | None = None) -> ZoneInfo:
    """The zone from `--tz`, else NEWTON_TIMEZONE, else Europe/Moscow; an unknown name is a ConfigError."""
    zone: ZoneInfo | None = configured("timezone", flag=flag, env=env)
    return zone if zone is not None else zone_named(DEFAULT_TIMEZONE)


def load_settings(env: Mapping[str, str] | None = None, secrets_path: Path = SECRETS_PATH) -> Settings:
    """Accounts, cache, time zone and freshness from the environment and secrets (raises ConfigError)."""
    accounts = load_accounts(env=env, secrets_path=secrets_path)
    first = accounts[0]
    minutes: int | None = configured("max_age_minutes", env=env)
    return Settings(
        connection=first.connection,
        cache_path=cache_path(None, first.connection, env),
        zone=first.zone,
        max_age_minutes=MAX_AGE_MINUTES if minutes is None else minutes,
        sync_concurrency=sync_concurrency(None, env),
        accounts=accounts,
    )


def load_accounts(
    env: Mapping[str, str] | None = None,
    secrets_path: Path = SECRETS_PATH,
    *,
    chosen: str | None = None,
    api_url: str | None = None,
    user_id: str | None = None,
) -> tuple[Account, ...]:
    """Every Newton account, in the order secrets.toml lists them (raises ConfigError).

    `[accounts.<name>]` tables list them; a `[newton]` section holding a token or user id is the account
    "default", listed first. With neither, the one account is built from `[newton]` and the environment as
    before: "default", or "demo" without a token. Flags (`api_url`, `user_id`) and the environment (NEWTON_TOKEN,
    NEWTON_USER_ID, NEWTON_API_URL) override the values of one account only: `chosen`, else the first."""
    tables = _account_tables(secrets_path)
    if not tables:
        connection = load_connection(api_url=api_url, user_id=user_id, env=env, secrets_path=secrets_path)
        name, title = (DEMO_ACCOUNT, DEMO_TITLE) if connection.demo else (DEFAULT_ACCOUNT, DEFAULT_ACCOUNT)
        return (Account(name, title, connection, load_timezone(None, env)),)
    target = chosen if chosen is not None else tables[0][0]
    accounts: list[Account] = []
    for name, section, table in tables:
        overrides = name == target
        account = _account(
            name,
            section,
            table,
            api_url=api_url if overrides else None,
            user_id=user_id if overrides else None,
            env=environment(env) if overrides else {},
            zone=load_timezone(None, env),
        )
        for other in accounts:
            if other.connection.credentials.user_id == account.connection.credentials.user_id:
                raise ConfigError(f"{section} user_id", Problem("account_same_user", other=other.name))
        accounts.append(account)
    return tuple(accounts)


def account_named(accounts: Sequence[Account], name: str, where: str) -> Account:
    """The account called `name`; else a ConfigError naming `where` (`--account`, the URL's `account`) and the
    accounts there are. The name itself is not repeated: it may come from a link."""
    for account in accounts:
        if account.name == name:
            return account
    raise ConfigError(where, Problem("account_unknown", known=", ".join(account.name for account in accounts)))


def load_account(
    name: str | None,
    *,
    api_url: str | None = None,
    user_id: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets_path: Path = SECRETS_PATH,
) -> Account:
    """The CLI's account: `--account NAME`, else the first; flags and the environment override its values."""
    accounts = load_accounts(env, secrets_path, chosen=name, api_url=api_url, user_id=user_id)
    return accounts[0] if name is None else account_named(accounts, name, "--account")


def _account_tables(secrets_path: Path) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(name, section as errors name it, its table) for each account written in secrets.toml, in their order."""
    listed = read_secrets(secrets_path, "accounts")
    if not listed:
        return []
    tables: list[tuple[str, str, Mapping[str, Any]]] = []
    newton = read_secrets(secrets_path)
    if any(str(newton.get(key) or "").strip() for key in ("token", "user_id")):
        if DEFAULT_ACCOUNT in listed:
            where = f"[accounts.{DEFAULT_ACCOUNT}]"
            raise ConfigError(where, Problem("account_default_twice", name=DEFAULT_ACCOUNT))
        tables.append((DEFAULT_ACCOUNT, "[newton]", newton))
    for name, table in listed.items():
        section = f"[accounts.{_shown(name)}]"
        if not _ACCOUNT_NAME.fullmatch(name):
            raise ConfigError(section, Problem("account_name"))
        if name == ALL_ACCOUNTS:  # the dashboard's link to every account together (?account=all)
            raise ConfigError(section, Problem("account_name_all", name=ALL_ACCOUNTS))
        if not isinstance(table, Mapping):
            raise ConfigError(section, Problem("not_a_table"))
        for key in table:
            if key not in ACCOUNT_KEYS:
                close = difflib.get_close_matches(str(key), ACCOUNT_KEYS, n=1, cutoff=0.6)
                problem = Problem("account_key_close", close=close[0], known=", ".join(ACCOUNT_KEYS)) if close else (
                    Problem("account_key", known=", ".join(ACCOUNT_KEYS)))  # fmt: skip
                raise ConfigError(f"{section} {_shown(str(key))}", problem)
        tables.append((name, section, table))
    return tables


def _shown(text: str) -> str:
    """A name from secrets.toml as an error may show it: printable, and short."""
    return ascii(text)[1:-1][:50]


def _account(
    name: str,
    section: str,
    table: Mapping[str, Any],
    *,
    api_url: str | None,
    user_id: str | None,
    env: Mapping[str, str],
    zone: ZoneInfo,
) -> Account:
    url: str | None = configured("api_url", flag=api_url, env=env, secrets=table, section=section)
    token: str | None = configured("token", env=env, secrets=table, section=section)
    uid: str | None = configured("user_id", flag=user_id, env=env, secrets=table, section=section)
    if token is None:
        raise ConfigError(f"{section} token", Problem("account_needs"))
    if uid is None:
        raise ConfigError(f"{section} user_id", Problem("account_needs"))
    connection = Connection(Credentials(uid, Token(token)), url or DEFAULT_API_URL, demo=token == DEMO_TOKEN)
    if section == "[newton]":  # the single account of before: its zone is the deployment's
        return Account(name, name, connection, zone)
    title = table.get("name", name)
    if not isinstance(title, str) or not title.strip() or not title.isprintable() or len(title) > MOST_TITLE:
        raise ConfigError(f"{section} name", Problem("account_title", most=MOST_TITLE))
    zone_text = str(table.get("timezone") or "").strip()
    if zone_text:
        zone = _zone(zone_text, f"{section} timezone")
    return Account(name, title.strip(), connection, zone)


def sync_concurrency(flag: str | None = None, env: Mapping[str, str] | None = None) -> int:
    """Requests a sync sends at once: `--concurrency`, else NEWTON_SYNC_CONCURRENCY, else 4."""
    value: int | None = configured("sync_concurrency", flag=flag, env=env)
    return DEFAULT_CONCURRENCY if value is None else value


def read_only(env: Mapping[str, str] | None = None) -> bool | None:
    """NEWTON_READ_ONLY as a bool, or None when it is not set."""
    value: bool | None = configured("read_only", env=env)
    return value
