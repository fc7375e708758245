"""The one settings loader: command-line flags, then the environment, then `.streamlit/secrets.toml`, else demo."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.api import DEFAULT_API_URL, Credentials, Token, validate
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID
from dashboard.errors import InvalidInput
from dashboard.i18n import Problem

SECRETS_PATH = Path(".streamlit") / "secrets.toml"
_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
_USER_ID = re.compile(r"\d{1,20}")


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


def read_secrets(path: Path = SECRETS_PATH, section: str = "newton") -> dict[str, Any]:
    """One section (`[newton]`, `[access]`) of Streamlit's secrets file, or {} when there is none."""
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # The parser's message may quote the offending line, which could hold the token: keep only the position.
        where = re.search(r"line \d+, column \d+", str(error))
        raise InvalidInput({str(path): Problem("not_toml", where=where.group(0) if where else "unreadable")}) from None
    found = document.get(section, {})
    if not isinstance(found, dict):
        raise InvalidInput({f"{path} [{section}]": Problem("not_a_table")})
    return found


def load_connection(
    *,
    api_url: str | None = None,
    user_id: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets_path: Path = SECRETS_PATH,
) -> Connection:
    """Resolve the connection: flags win over the environment, which wins over the secrets file."""
    env = os.environ if env is None else env
    secrets = read_secrets(secrets_path)

    def pick(flag: str | None, env_name: str, secret_name: str) -> str | None:
        for value in (flag, env.get(env_name), secrets.get(secret_name)):
            if value is not None and str(value).strip():
                return str(value).strip()
        return None

    url = pick(api_url, "NEWTON_API_URL", "api_url")
    uid = pick(user_id, "NEWTON_USER_ID", "user_id")
    token = pick(None, "NEWTON_TOKEN", "token")
    if url is not None:
        url = validate.url("api_url", url)
    if token is None:
        if uid not in (None, DEMO_USER_ID):
            raise InvalidInput({"token": Problem("token_missing")})
        return Connection(Credentials(DEMO_USER_ID, Token(DEMO_TOKEN)), url, demo=True)
    if not _TOKEN.fullmatch(token):
        raise InvalidInput({"token": Problem("token_format")})
    if uid is None or not _USER_ID.fullmatch(uid):
        raise InvalidInput({"user_id": Problem("user_id_format")})
    return Connection(Credentials(uid, Token(token)), url or DEFAULT_API_URL, demo=token == DEMO_TOKEN)
