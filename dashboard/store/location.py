"""Where the store lives: a DuckDB file (a path), or a DuckLake whose catalog is a PostgreSQL database.

`NEWTON_CACHE` / `--cache` keeps meaning a file; a value `ducklake:postgres:<libpq connection string>` selects the
lake, with `NEWTON_LAKE_DATA_PATH` (a directory or `s3://bucket/prefix`) for its Parquet files.

The PostgreSQL password never travels in the connection string: a `--cache` flag is visible to every user of the
machine (`ps`), and a cron line or a shell's history keeps it. So a string holding one is refused, masked in the
message, and the password is read from `PGPASSWORD`, `~/.pgpass` or `[lake] password` in secrets.toml instead
(`lake_password`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.errors import ConfigError
from dashboard.i18n import Problem

LAKE_PREFIX = "ducklake:postgres:"
MASK = "***"

# key=value with the value bare or single-quoted (libpq's rules), and a URI's user:password@.
_KEY_VALUE_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@)", re.IGNORECASE)
_URI_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&\s]*)", re.IGNORECASE)


def mask(text: str) -> str:
    """`text` with every PostgreSQL password in it replaced by ***: for anything shown, logged or raised."""
    text = _URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _URI_QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return _KEY_VALUE_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


def holds_password(conninfo: str) -> bool:
    """Whether a connection string carries a password."""
    return mask(conninfo) != conninfo


@dataclass(frozen=True)
class S3Access:
    """How to reach an S3-compatible store: NEWTON_LAKE_S3_* settings, each falling back to the standard AWS_*
    variable (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL)."""

    key_id: str | None = None
    secret: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint: str | None = None  # host:port or http(s)://host:port of an S3-compatible server
    url_style: str | None = None  # "path" for most S3-compatible servers, "vhost" for AWS


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake: its PostgreSQL catalog (a libpq connection string without a password) and its data path."""

    catalog: str
    data_path: str
    s3: S3Access = field(default_factory=S3Access, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{LAKE_PREFIX}{mask(self.catalog)} (data in {self.data_path})"

    @property
    def on_s3(self) -> bool:
        return self.data_path.startswith("s3://")

    def identity(self) -> str:
        """What tells this lake from any other: its catalog and data path (never a password)."""
        return f"{LAKE_PREFIX}{mask(self.catalog)}|{self.data_path}"

    def keywords(self) -> dict[str, str]:
        """The catalog's key=value pairs (host, port, dbname, user); {} for a URI."""
        found: dict[str, str] = {}
        for match in re.finditer(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", self.catalog):
            value = match.group(2)
            found[match.group(1).lower()] = value[1:-1] if value.startswith("'") else value
        return found


def parse_cache(text: str, where: str) -> Path | str:
    """A cache setting's value: a file's path, or a lake's catalog string (checked: no password in it)."""
    if not text.startswith(LAKE_PREFIX):
        return Path(text)
    catalog = text[len(LAKE_PREFIX) :].strip()
    if not catalog:
        raise ConfigError(where, Problem("lake_catalog_missing", prefix=LAKE_PREFIX))
    if holds_password(catalog):
        raise ConfigError(where, Problem("lake_password_in_string", value=mask(text)))
    return catalog


def s3_access(env: Mapping[str, str]) -> S3Access:
    """NEWTON_LAKE_S3_* settings, else the standard AWS_* environment."""

    def first(*names: str) -> str | None:
        return next((env[name].strip() for name in names if env.get(name, "").strip()), None)

    style = first("NEWTON_LAKE_S3_URL_STYLE")
    if style is not None and style not in ("path", "vhost"):
        raise ConfigError("NEWTON_LAKE_S3_URL_STYLE", Problem("one_of", choices="path, vhost"))
    return S3Access(
        key_id=first("NEWTON_LAKE_S3_KEY_ID", "AWS_ACCESS_KEY_ID"),
        secret=first("NEWTON_LAKE_S3_SECRET", "AWS_SECRET_ACCESS_KEY"),
        region=first("NEWTON_LAKE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        endpoint=first("NEWTON_LAKE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        url_style=style,
    )


def lake_location(catalog: str, env: Mapping[str, str]) -> LakeLocation:
    """The lake of `catalog`, its data path from NEWTON_LAKE_DATA_PATH (required with a lake)."""
    data_path = env.get("NEWTON_LAKE_DATA_PATH", "").strip()
    if not data_path:
        raise ConfigError("NEWTON_LAKE_DATA_PATH", Problem("lake_data_path_missing"))
    if not data_path.startswith("s3://"):
        data_path = str(Path(data_path).expanduser().absolute())
    return LakeLocation(catalog, data_path, s3_access(env))


def lake_password(location: LakeLocation, env: Mapping[str, str] | None = None,
                  secrets_path: Path | None = None) -> str | None:  # fmt: skip
    """The catalog's password: PGPASSWORD, else the first matching line of ~/.pgpass (or PGPASSFILE), else
    `[lake] password` in secrets.toml; None when none is set (a trusted or peer connection)."""
    from dashboard.settings import SECRETS_PATH, environment  # the settings import this module

    env = environment(env)
    if env.get("PGPASSWORD"):
        return env["PGPASSWORD"]
    from_file = _pgpass(location, Path(env.get("PGPASSFILE") or Path.home() / ".pgpass"), env)
    if from_file is not None:
        return from_file
    return _secrets_password(SECRETS_PATH if secrets_path is None else secrets_path)


def _pgpass(location: LakeLocation, path: Path, env: Mapping[str, str]) -> str | None:
    """libpq's rule: hostname:port:database:username:password, `*` matching anything, `\\:` an escaped colon."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    words = location.keywords()
    wanted = [
        words.get("host", env.get("PGHOST", "localhost")),
        words.get("port", env.get("PGPORT", "5432")),
        words.get("dbname", env.get("PGDATABASE", "")),
        words.get("user", env.get("PGUSER", "")),
    ]
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [part.replace("\\:", ":").replace("\\\\", "\\") for part in re.split(r"(?<!\\):", line, maxsplit=4)]
        if len(fields) == 5 and all(have in ("*", want) for have, want in zip(fields[:4], wanted, strict=True)):
            return fields[4]
    return None


def _secrets_password(path: Path) -> str | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None  # the settings loader reports an unreadable file, never quoting it
    section = document.get("lake", {})
    value = section.get("password") if isinstance(section, dict) else None
    return value if isinstance(value, str) and value else None
