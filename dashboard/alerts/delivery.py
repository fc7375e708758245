"""Delivering a message: Telegram (the Bot API's sendMessage) and e-mail (SMTP), each a `Channel`.

A channel's `send` returns once the service accepted the message, or raises `DeliveryFailed` naming the channel and
the reason; the caller records a send only after it returned, so delivery is at least once. The text is plain: it
may carry visitor values (UTM tags, referrers), so it never goes through Markdown or HTML. The bot token and the
SMTP password are `Token`s: never in a repr, a log line or an error (the token is part of every Bot API URL, and
httpx logs and quotes URLs, so it is masked there too).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

import httpx

from dashboard import settings
from dashboard.api import Token
from dashboard.errors import ConfigError, DeliveryFailed
from dashboard.i18n import Problem

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
# Telegram refuses a text longer than 4096 characters (UTF-16 code units); what is cut ends in an ellipsis.
TELEGRAM_MOST_CHARS = 4096
# A 429 asking to wait up to this long is waited out and sent again; a longer wait is left to the next run.
MOST_WAIT_SECONDS = 10.0
MOST_ATTEMPTS = 3
REASON_CHARS = 300
# Characters that must not reach a mail header: a line break would start a header of the sender's choosing.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Message:
    """One alert or digest: `key` identifies it (the same key is the same message), `subject` is its one-line
    title, `text` its plain-text body (a link is part of the text)."""

    key: str
    subject: str
    text: str


class Channel(Protocol):
    """Somewhere messages are delivered; `send` raises `DeliveryFailed` unless the service accepted the message."""

    name: str

    def send(self, message: Message) -> None: ...


class _MaskSecrets(logging.Filter):
    """Masks the secrets of the channels in this process in what a library logs (httpx logs each request's URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: list[Token] = []

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = _redact(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_MASK_SECRETS = _MaskSecrets()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_MASK_SECRETS)


def _keep_secret(secret: Token) -> None:
    if secret not in _MASK_SECRETS.secrets:
        _MASK_SECRETS.secrets.append(secret)


def _redact(text: str, secrets: Sequence[Token | None]) -> str:
    for secret in secrets:
        if secret is not None:
            text = secret.redact(text)
    return text


def _reason(error: BaseException, secrets: Sequence[Token | None]) -> str:
    """What went wrong, in one line of at most REASON_CHARS, without any of `secrets` (masked before the cut, so
    no cut-off piece of one is left)."""
    detail = " ".join(str(error).split()) or type(error).__name__
    return _redact(f"{type(error).__name__}: {detail}", secrets)[:REASON_CHARS]


class Telegram:
    """A Telegram chat, through a bot: POST {api_url}/bot<token>/sendMessage."""

    name = "telegram"

    def __init__(
        self,
        token: Token,
        chat_id: str,
        api_url: str = settings.DEFAULT_TELEGRAM_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self.chat_id = chat_id
        self.api_url = api_url.rstrip("/")
        self._transport = transport
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._sleep = sleep
        _keep_secret(token)

    def __repr__(self) -> str:
        return f"Telegram(chat_id={self.chat_id!r}, api_url={self.api_url!r})"

    def send(self, message: Message) -> None:
        """Send `message` as plain text; a 429 with a short `retry_after` is waited out and sent again."""
        body = {
            "chat_id": self.chat_id,
            "text": _telegram_text(message),
            # No parse_mode: the text is shown as it is. No preview: Telegram would fetch a visitor's URL.
            "link_preview_options": {"is_disabled": True},
        }
        for attempt in range(1, MOST_ATTEMPTS + 1):
            answer = self._post(body)
            if answer.get("ok") is True:
                log.info("telegram: delivered %s", message.key)
                return
            retry_after = _retry_after(answer)
            if retry_after is None or retry_after > MOST_WAIT_SECONDS or attempt == MOST_ATTEMPTS:
                description = str(answer.get("description") or "no description")
                reason = _redact(f"Telegram answered: {description}", [self._token])[:REASON_CHARS]
                raise DeliveryFailed(self.name, reason, retry_after=retry_after)
            log.info("telegram: asked to wait %s s before %s", retry_after, message.key)
            self._sleep(retry_after)

    def _post(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Telegram's answer as a dict; DeliveryFailed (never quoting the URL: it holds the token) when none came."""
        failure: str | None = None
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as client:
                response = client.post(f"{self.api_url}/bot{self._token.reveal()}/sendMessage", json=body)
            answer = response.json()
            if isinstance(answer, dict):
                return answer
            failure = f"an answer that is not the Bot API's (HTTP {response.status_code})"
        except httpx.HTTPError as error:
            failure = _reason(error, [self._token])
        except ValueError:  # not JSON: a proxy's error page, an HTML login
            failure = f"an answer that is not the Bot API's (HTTP {response.status_code})"
        # Raised here, outside the except blocks, so no exception that quotes the URL rides along as its context.
        raise DeliveryFailed(self.name, failure)


def _telegram_text(message: Message) -> str:
    """The subject, a blank line and the text, cut to what Telegram takes (it counts UTF-16 code units, so an
    emoji counts twice; a cut never splits one)."""
    text = f"{message.subject}\n\n{message.text}" if message.subject else message.text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * TELEGRAM_MOST_CHARS:
        return text
    return units[: 2 * (TELEGRAM_MOST_CHARS - 1)].decode("utf-16-le", errors="ignore") + "…"


def _retry_after(answer: Mapping[str, Any]) -> float | None:
    """The seconds Telegram asked to wait (a 429's `parameters.retry_after`), when it asked."""
    parameters = answer.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


class Mail:
    """E-mail through an SMTP server: STARTTLS by default, TLS from the start, or none for a relay on this machine.
    The server's certificate is checked against the system's authorities, or those of `ca_file`."""

    name = "email"

    def __init__(
        self,
        host: str,
        sender: str,
        recipients: Sequence[str],
        *,
        port: int | None = None,
        security: str = "starttls",
        user: str | None = None,
        password: Token | None = None,
        ca_file: Path | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.host = host
        self.port = port or settings.SMTP_PORTS[security]
        self.security = security
        self.sender = sender
        self.recipients = tuple(recipients)
        self.user = user
        self._password = password
        self.ca_file = ca_file
        self._timeout = timeout
        if password is not None:
            _keep_secret(password)

    def __repr__(self) -> str:
        return f"Mail(host={self.host!r}, port={self.port}, security={self.security!r}, to={self.recipients!r})"

    def send(self, message: Message) -> None:
        """Hand `message` to the server; returns once it accepted it for at least one recipient."""
        failure: str | None = None
        try:
            refused = self._deliver(self._email(message))
            if refused:
                log.warning("email: %s refused by the server for %s", message.key, ", ".join(sorted(refused)))
            log.info("email: delivered %s", message.key)
            return
        except (smtplib.SMTPException, OSError, ValueError) as error:  # ssl.SSLError and timeouts are OSErrors
            failure = _reason(error, [self._password])
        raise DeliveryFailed(self.name, f"{self.host}:{self.port}: {failure}")

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = _HEADER_BREAKS.sub(" ", message.subject).strip()
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(localtime=True)
        # The same key gives the same Message-ID, so a mail client shows a message sent twice (at least once) once.
        digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
        email["Message-ID"] = f"<{digest}@newton-dashboard.invalid>"
        email.set_content(message.text, charset="utf-8")
        return email

    def _deliver(self, email: EmailMessage) -> dict[str, Any]:
        context = ssl.create_default_context(cafile=self.ca_file)
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)  # raises when the server does not offer it: never sent in clear
            if self.user is not None and self._password is not None:
                smtp.login(self.user, self._password.reveal())
            refused: dict[str, Any] = smtp.send_message(email, self.sender, list(self.recipients))
            return refused


def channels_from(env: Mapping[str, str] | None = None, secrets_path: Path = settings.SECRETS_PATH) -> list[Channel]:
    """The channels the settings configure: Telegram when a bot token and a chat id are set, e-mail when an SMTP
    host and recipients are. A setting given without the ones it needs is a ConfigError naming the missing one."""
    secrets = settings.read_secrets(secrets_path)

    def value(name: str) -> Any:
        return settings.configured(name, env=env, secrets=secrets)

    channels: list[Channel] = []
    token, chat_id = value("telegram_bot_token"), value("telegram_chat_id")
    _together("NEWTON_TELEGRAM_BOT_TOKEN", token, "NEWTON_TELEGRAM_CHAT_ID", chat_id)
    url = value("telegram_api_url") or settings.DEFAULT_TELEGRAM_URL
    if token is not None:
        channels.append(Telegram(token, chat_id, url))
    host, recipients = value("smtp_host"), value("smtp_to")
    _together("NEWTON_SMTP_HOST", host, "NEWTON_SMTP_TO", recipients)
    user, password = value("smtp_user"), value("smtp_password")
    _together("NEWTON_SMTP_USER", user, "NEWTON_SMTP_PASSWORD", password)
    if host is not None:
        sender = value("smtp_from")
        _together("NEWTON_SMTP_HOST", host, "NEWTON_SMTP_FROM", sender)
        security = value("smtp_security") or "starttls"
        if security == "none" and password is not None:
            raise ConfigError("NEWTON_SMTP_PASSWORD", Problem("password_in_clear"))
        channels.append(
            Mail(host, sender, recipients, port=value("smtp_port"), security=security, user=user,
                 password=password, ca_file=value("smtp_ca_file"))
        )  # fmt: skip
    return channels


def _together(first: str, first_value: object, second: str, second_value: object) -> None:
    """Two settings that only work together: one set without the other names the missing one."""
    if first_value is not None and second_value is None:
        raise ConfigError(second, Problem("set_with", other=first))
    if second_value is not None and first_value is None:
        raise ConfigError(first, Problem("set_with", other=second))
