"""Alert delivery: messages arrive over a fake Telegram Bot API and a real SMTP server (aiosmtpd with a trustme
certificate), as plain text, Russian intact; failures name the channel and never the bot token or the password."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.alerts.delivery import REASON_CHARS, Mail, Message, Telegram, channels_from
from dashboard.api import Token
from dashboard.errors import ConfigError, DeliveryFailed
from tests.support.mail import MailServer, mail_server, untrusted_ca
from tests.support.telegram import Failure, FakeTelegram, fake_telegram

BOT_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
CHAT_ID = "-1001234567890"
# A visitor's values, as hostile as they come: markup of every kind Telegram or a mail program might render.
HOSTILE = (
    '<b>bold</b> <a href="javascript:alert(1)">click</a> *star* _under_ `code` [link](javascript:alert(1)) '
    '=HYPERLINK("http://evil.example") &amp; \u202eRTL'
)
RUSSIAN = "Потерянный лид: +7 979 538-21-77 звонил в 10:15, ему не перезвонили. Источник: Яндекс Директ"


def _message(text: str = RUSSIAN, subject: str = "Потерянный лид") -> Message:
    return Message(key="lost:+79795382177:2026-11-20T10:15", subject=subject, text=text)


def _exposure(error: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """Everything a person or a log could see of a failure: its message, repr, traceback and our log lines (the
    test SMTP server's own log is not ours)."""
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    return "\n".join([str(error), repr(error), "".join(traceback.format_exception(error)), logs])


# Telegram ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram(BOT_TOKEN) as fake:
        yield fake


def test_a_message_arrives_over_telegram_in_the_chat_with_russian_intact(telegram: FakeTelegram) -> None:
    Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url).send(_message())

    assert [body["chat_id"] for body in telegram.received] == [CHAT_ID]
    assert telegram.texts() == [f"Потерянный лид\n\n{RUSSIAN}"]


def test_hostile_text_arrives_over_telegram_as_plain_text(telegram: FakeTelegram) -> None:
    Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url).send(_message(HOSTILE, subject="utm_source=<i>x</i>"))

    (body,) = telegram.received
    assert body["text"] == f"utm_source=<i>x</i>\n\n{HOSTILE}"
    # No parse mode (Telegram then renders no Markdown or HTML) and no preview fetched from a visitor's link.
    assert "parse_mode" not in body
    assert "entities" not in body
    assert body["link_preview_options"] == {"is_disabled": True}


def test_a_long_text_arrives_over_telegram_cut_to_what_it_takes(telegram: FakeTelegram) -> None:
    long_text = "Лид 📞 " * 1000  # 6,000 characters, 7,000 UTF-16 code units: the emoji count twice

    Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url).send(_message(long_text))

    (text,) = telegram.texts()
    assert text.endswith("…")
    assert f"Потерянный лид\n\n{long_text}".startswith(text[:-1])
    assert len(text.encode("utf-16-le")) // 2 in (4095, 4096)


def test_telegram_is_configured_by_settings_and_the_secrets_file(telegram: FakeTelegram, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[newton]\ntelegram_bot_token = "{BOT_TOKEN}"\n', encoding="utf-8")
    env = {"NEWTON_TELEGRAM_CHAT_ID": CHAT_ID, "NEWTON_TELEGRAM_API_URL": telegram.url}

    (channel,) = channels_from(env, secrets_path=secrets)
    channel.send(_message())

    assert channel.name == "telegram"
    assert telegram.texts() == [f"Потерянный лид\n\n{RUSSIAN}"]
    assert BOT_TOKEN not in repr(channel)


@pytest.mark.parametrize(
    "failure",
    [
        Failure(400, "Bad Request: chat not found"),
        Failure(401, "Unauthorized"),
        # A server (or a proxy before it) that quotes the request it refused: the token is in its path.
        Failure(403, f"Forbidden: POST /bot{BOT_TOKEN}/sendMessage is not allowed"),
        # ... with the token where the reason is cut short: no cut-off piece of it may stay readable.
        Failure(403, "Forbidden: ".ljust(REASON_CHARS - len("Telegram answered: ") - 5, ".") + BOT_TOKEN),
        Failure(502, body=b"<html><body>502 Bad Gateway</body></html>"),
        Failure(429, "Too Many Requests: retry after 120", retry_after=120),
    ],
    ids=["chat-not-found", "unauthorized", "echoes-the-token", "token-at-the-cut", "not-json", "too-many-requests"],
)
def test_a_telegram_refusal_is_delivery_failed_naming_telegram_never_the_token(
    telegram: FakeTelegram, failure: Failure, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    telegram.fail_next(failure)

    with pytest.raises(DeliveryFailed) as raised:
        Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url, sleep=lambda seconds: None).send(_message())

    assert raised.value.channel == "telegram"
    assert str(raised.value).startswith("telegram: ")
    if failure.body is None:
        assert failure.description.split(BOT_TOKEN)[0] in str(raised.value)  # Telegram's own words, reported
    seen = _exposure(raised.value, caplog)
    assert BOT_TOKEN[:5] not in seen
    assert BOT_TOKEN.split(":")[1][:5] not in seen
    assert telegram.received == []


def test_a_long_wait_asked_by_telegram_is_reported_for_the_next_run(telegram: FakeTelegram) -> None:
    telegram.fail_next(Failure(429, "Too Many Requests: retry after 120", retry_after=120))
    waits: list[float] = []

    with pytest.raises(DeliveryFailed) as raised:
        Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url, sleep=waits.append).send(_message())

    assert raised.value.retry_after == 120
    assert waits == []


def test_a_short_wait_asked_by_telegram_is_waited_out_and_the_message_sent_once(telegram: FakeTelegram) -> None:
    telegram.fail_next(Failure(429, "Too Many Requests: retry after 3", retry_after=3))
    waits: list[float] = []

    Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url, sleep=waits.append).send(_message())

    assert waits == [3]
    assert telegram.texts() == [f"Потерянный лид\n\n{RUSSIAN}"]


def test_an_unreachable_telegram_is_delivery_failed_without_the_token_in_logs_or_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with fake_telegram(BOT_TOKEN) as gone:
        url = gone.url  # a loopback port nobody listens on any more

    with pytest.raises(DeliveryFailed) as raised:
        Telegram(Token(BOT_TOKEN), CHAT_ID, url, timeout=5).send(_message())

    assert raised.value.channel == "telegram"
    assert BOT_TOKEN.split(":")[1] not in _exposure(raised.value, caplog)


def test_a_telegram_that_does_not_answer_in_time_is_delivery_failed(telegram: FakeTelegram) -> None:
    telegram.fail_next(Failure(200, delay=3))

    with pytest.raises(DeliveryFailed) as raised:
        Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url, timeout=0.5).send(_message())

    assert "Timeout" in str(raised.value)
    assert telegram.received == []


def test_a_delivered_telegram_message_leaves_no_token_in_the_logs(
    telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    Telegram(Token(BOT_TOKEN), CHAT_ID, telegram.url).send(_message())

    assert telegram.requests == [f"/bot{BOT_TOKEN}/sendMessage"]  # the token went where Telegram wants it
    assert caplog.records, "httpx logs each request at INFO"
    assert BOT_TOKEN.split(":")[1] not in caplog.text


# E-mail -----------------------------------------------------------------------------------------------------------


def _mail(server: MailServer, **changes: object) -> Mail:
    options: dict[str, object] = {
        "port": server.port, "user": server.user, "password": Token(server.password), "ca_file": server.ca_file,
    }  # fmt: skip
    options.update(changes)
    return Mail(server.host, "alerts@example.com", ["boss@example.com", "sales@example.com"], **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_message_arrives_by_email_encrypted_with_russian_intact(tmp_path: Path, security: str) -> None:
    with mail_server(tmp_path, security=security) as server:
        _mail(server, security=security).send(_message())

    (received,) = server.received
    assert received.encrypted
    assert received.sender == "alerts@example.com"
    assert received.recipients == ["boss@example.com", "sales@example.com"]
    assert received.message["Subject"] == "Потерянный лид"
    assert received.message.get_content().rstrip("\r\n").replace("\r\n", "\n") == RUSSIAN


def test_hostile_text_arrives_by_email_as_plain_text(tmp_path: Path) -> None:
    subject = "utm_source=<i>x</i>\r\nBcc: everyone@example.com"

    with mail_server(tmp_path) as server:
        _mail(server).send(_message(HOSTILE, subject=subject))

    (received,) = server.received
    assert received.message.get_content_type() == "text/plain"
    assert not received.message.is_multipart()
    assert received.message.get_content().rstrip("\r\n") == HOSTILE
    # A line break in a subject cannot add a header (a visitor's value must not add recipients).
    assert received.message["Bcc"] is None
    assert received.recipients == ["boss@example.com", "sales@example.com"]
    assert received.message["Subject"] == "utm_source=<i>x</i> Bcc: everyone@example.com"


def test_email_is_configured_by_settings(tmp_path: Path) -> None:
    with mail_server(tmp_path) as server:
        env = {
            "NEWTON_SMTP_HOST": server.host, "NEWTON_SMTP_PORT": str(server.port), "NEWTON_SMTP_USER": server.user,
            "NEWTON_SMTP_PASSWORD": server.password, "NEWTON_SMTP_FROM": "alerts@example.com",
            "NEWTON_SMTP_TO": "boss@example.com, sales@example.com", "NEWTON_SMTP_CA_FILE": str(server.ca_file),
        }  # fmt: skip
        (channel,) = channels_from(env, secrets_path=tmp_path / "none.toml")
        channel.send(_message())

    assert channel.name == "email"
    assert [r.recipients for r in server.received] == [["boss@example.com", "sales@example.com"]]
    assert server.password not in repr(channel)


@pytest.mark.parametrize("trust", ["another-ca", "system-cas"])
def test_email_refuses_a_server_whose_certificate_is_not_trusted(
    tmp_path: Path, trust: str, caplog: pytest.LogCaptureFixture
) -> None:
    ca_file = untrusted_ca(tmp_path) if trust == "another-ca" else None

    with mail_server(tmp_path) as server, pytest.raises(DeliveryFailed) as raised:
        _mail(server, ca_file=ca_file).send(_message())

    assert raised.value.channel == "email"
    assert "certificate" in str(raised.value).lower()
    assert server.received == []
    assert server.password not in _exposure(raised.value, caplog)


def test_email_is_never_sent_unencrypted_to_a_server_without_starttls(tmp_path: Path) -> None:
    with mail_server(tmp_path, security="none") as server, pytest.raises(DeliveryFailed) as raised:
        _mail(server).send(_message())

    assert "STARTTLS" in str(raised.value)
    assert server.received == []


def test_email_to_a_local_relay_without_encryption(tmp_path: Path) -> None:
    with mail_server(tmp_path, security="none") as server:
        _mail(server, security="none", user=None, password=None).send(_message())

    (received,) = server.received
    assert not received.encrypted
    assert received.message.get_content().rstrip("\r\n").replace("\r\n", "\n") == RUSSIAN


@pytest.mark.parametrize("failure", ["wrong-password", "refused", "unreachable"])
def test_a_mail_failure_is_delivery_failed_naming_email_never_the_password(
    tmp_path: Path, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "Wr0ng-but-secret-pass"
    with mail_server(tmp_path) as server:
        if failure == "refused":
            server.refuse = "554 5.7.1 Message rejected as spam"
            password = server.password
        port = server.port
        mail = _mail(server, password=Token(password))
        if failure != "unreachable":
            with pytest.raises(DeliveryFailed) as raised:
                mail.send(_message())
    if failure == "unreachable":
        with pytest.raises(DeliveryFailed) as raised:
            mail.send(_message())

    assert raised.value.channel == "email"
    assert f"127.0.0.1:{port}" in str(raised.value)
    if failure == "refused":
        assert "Message rejected as spam" in str(raised.value)
    assert server.received == []
    seen = _exposure(raised.value, caplog)
    assert password not in seen
    assert password not in repr(mail)


def test_a_mail_server_that_never_answers_is_delivery_failed_in_time(tmp_path: Path) -> None:
    # It takes the connection (the system's backlog does) and never says hello.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        mail = Mail("127.0.0.1", "alerts@example.com", ["boss@example.com"], port=port, timeout=0.5)
        with pytest.raises(DeliveryFailed) as raised:
            mail.send(_message())

    assert raised.value.channel == "email"
    assert "timed out" in str(raised.value)


# Settings ---------------------------------------------------------------------------------------------------------

TELEGRAM = {"NEWTON_TELEGRAM_BOT_TOKEN": BOT_TOKEN, "NEWTON_TELEGRAM_CHAT_ID": CHAT_ID}
SMTP = {"NEWTON_SMTP_HOST": "smtp.example.com", "NEWTON_SMTP_FROM": "a@example.com", "NEWTON_SMTP_TO": "b@example.com"}


def test_no_delivery_settings_give_no_channels(tmp_path: Path) -> None:
    assert channels_from({}, secrets_path=tmp_path / "none.toml") == []


def test_both_channels_from_settings(tmp_path: Path) -> None:
    channels = channels_from({**TELEGRAM, **SMTP}, secrets_path=tmp_path / "none.toml")
    assert [channel.name for channel in channels] == ["telegram", "email"]


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({**TELEGRAM, "NEWTON_TELEGRAM_BOT_TOKEN": "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"}, "NEWTON_TELEGRAM_BOT_TOKEN"),
        ({**TELEGRAM, "NEWTON_TELEGRAM_CHAT_ID": "my chat"}, "NEWTON_TELEGRAM_CHAT_ID"),
        ({**TELEGRAM, "NEWTON_TELEGRAM_API_URL": "ftp://api.telegram.org"}, "NEWTON_TELEGRAM_API_URL"),
        ({"NEWTON_TELEGRAM_BOT_TOKEN": BOT_TOKEN}, "NEWTON_TELEGRAM_CHAT_ID"),
        ({"NEWTON_TELEGRAM_CHAT_ID": CHAT_ID}, "NEWTON_TELEGRAM_BOT_TOKEN"),
        ({**SMTP, "NEWTON_SMTP_HOST": "smtp.example.com\nRCPT TO:<x@y.z>"}, "NEWTON_SMTP_HOST"),
        ({**SMTP, "NEWTON_SMTP_PORT": "70000"}, "NEWTON_SMTP_PORT"),
        ({**SMTP, "NEWTON_SMTP_PORT": "five"}, "NEWTON_SMTP_PORT"),
        ({**SMTP, "NEWTON_SMTP_SECURITY": "ssl"}, "NEWTON_SMTP_SECURITY"),
        ({**SMTP, "NEWTON_SMTP_TO": "boss@example.com, not an address"}, "NEWTON_SMTP_TO"),
        ({**SMTP, "NEWTON_SMTP_FROM": "alerts"}, "NEWTON_SMTP_FROM"),
        ({**SMTP, "NEWTON_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "NEWTON_SMTP_CA_FILE"),
        ({"NEWTON_SMTP_HOST": "smtp.example.com", "NEWTON_SMTP_FROM": "a@example.com"}, "NEWTON_SMTP_TO"),
        ({"NEWTON_SMTP_TO": "b@example.com"}, "NEWTON_SMTP_HOST"),
        ({"NEWTON_SMTP_HOST": "smtp.example.com", "NEWTON_SMTP_TO": "b@example.com"}, "NEWTON_SMTP_FROM"),
        ({**SMTP, "NEWTON_SMTP_USER": "alerts"}, "NEWTON_SMTP_PASSWORD"),
        ({**SMTP, "NEWTON_SMTP_PASSWORD": "Secret-Pass-1"}, "NEWTON_SMTP_USER"),
        ({**SMTP, "NEWTON_SMTP_USER": "alerts", "NEWTON_SMTP_PASSWORD": "пароль-секрет"}, "NEWTON_SMTP_PASSWORD"),
        (
            {**SMTP, "NEWTON_SMTP_SECURITY": "none", "NEWTON_SMTP_USER": "a", "NEWTON_SMTP_PASSWORD": "Secret-Pass-1"},
            "NEWTON_SMTP_PASSWORD",
        ),
    ],
)
def test_a_bad_delivery_setting_is_a_config_error_naming_it(env: dict[str, str], setting: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        channels_from(env, secrets_path=tmp_path / "none.toml")

    assert raised.value.setting == setting
    assert str(raised.value).startswith(f"{setting}: ")
    for secret in ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", "Secret-Pass-1", "пароль-секрет"):
        assert secret not in str(raised.value)


def test_a_bad_bot_token_in_the_secrets_file_is_named_by_its_key(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[newton]\ntelegram_bot_token = "not-a-token"\n', encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        channels_from({"NEWTON_TELEGRAM_CHAT_ID": CHAT_ID}, secrets_path=secrets)

    assert raised.value.setting == "[newton] telegram_bot_token"
    assert "not-a-token" not in str(raised.value)
