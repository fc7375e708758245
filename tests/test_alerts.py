# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Alerts on a real cache file with hand-built records, through recording channels: each rule fires once, lasting
conditions say when they start and when they clear, working hours are kept, and a failed channel is tried again
without repeating the others."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard import cli
from dashboard.alerts import run, sent
from dashboard.alerts.config import AlertSettings, WorkingHours
from dashboard.alerts.delivery import Message
from dashboard.alerts.run import load_settings
from dashboard.api.records import parse_records
from dashboard.demo import DEMO_USER_ID
from dashboard.errors import ConfigError, DeliveryFailed
from dashboard.metrics import Definitions
from dashboard.store import Store, data
from dashboard.timezones import zone_named
from tests.support.mail import mail_server
from tests.support.telegram import fake_telegram

ACCOUNT = "acc"
MOSCOW = zone_named("Europe/Moscow")  # UTC+3 all year: 09:00-18:00 local is 06:00-15:00 UTC
# Tuesday 2026-03-10; every moment below is naive UTC.
TUESDAY = datetime(2026, 3, 10)
OFF = AlertSettings(lost_lead_after=None, answer_rate_below=None, silent_after=None, digest=None)


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """Tuesday (or `days` later) at hour:minute UTC."""
    return TUESDAY + timedelta(days=days, hours=hour, minutes=minute)


def rec(
    rid: str, when: datetime, phone: str | None, status: str | None = "CLIENT_MISSED", **more: Any
) -> dict[str, Any]:
    return {"id": rid, "type": "callback", "requestDate": f"{when:%Y-%m-%d %H:%M:%S}", "clientPhone": phone,
            "callStatus": status, "widgetId": "w1", **more}  # fmt: skip


@dataclass
class Recording:
    """A channel that keeps what it was sent, or refuses while `failing`."""

    name: str
    failing: bool = False
    got: list[Message] = field(default_factory=list)

    def send(self, message: Message) -> None:
        if self.failing:
            raise DeliveryFailed(self.name, "the service said no")
        self.got.append(message)


def store_with(tmp_path: Path, records: list[dict[str, Any]]) -> Store:
    store = Store(tmp_path / "cache.duckdb")
    add(store, records)
    return store


def add(store: Store, records: list[dict[str, Any]]) -> None:
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": records}), TUESDAY)


def check(store: Store, settings: AlertSettings, now: datetime, *channels: Recording) -> run.Outcome:
    return run.run(store, ACCOUNT, MOSCOW, settings, channels, now)


def texts(channel: Recording) -> list[str]:
    return [f"{m.subject}\n{m.text}" for m in channel.got]


# Lost leads ------------------------------------------------------------------------------------------------------

LOST = replace(OFF, lost_lead_after=timedelta(minutes=15))
CALLERS = [
    # Lost at 11:00 local, from a visitor who put a link, a line of their own and a right-to-left override in a tag.
    rec("a1", at(8, 0), "8 (999) 000-00-01", landingUtmSource="https://evil.example/pay\nCall +70000000000\u202e"),
    rec("b1", at(8, 10), "+79990000002"),  # lost at 11:10 local
    rec("c1", at(7, 0), "+79990000003"),  # missed, then reached: no lost lead
    rec("c2", at(7, 5), "+79990000003", "CLIENT_ANSWER"),
]


def test_a_lost_lead_alerts_once_when_it_is_old_enough(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    telegram = Recording("telegram")
    check(store, LOST, at(8, 20), telegram)  # 20 minutes after the first miss, 10 after the second
    check(store, LOST, at(8, 21), telegram)  # the next cron run: nothing new
    assert len(telegram.got) == 1
    first = texts(telegram)[0]
    assert "+7 999 000-00-01" in first
    assert "+7 999 000-00-02" not in first and "+7 999 000-00-03" not in first
    check(store, LOST, at(8, 30), telegram)  # the second is 20 minutes old now
    check(store, LOST, at(8, 45), telegram)
    assert len(telegram.got) == 2
    assert "+7 999 000-00-02" in texts(telegram)[1] and "+7 999 000-00-01" not in texts(telegram)[1]


def test_a_lost_lead_message_carries_no_clickable_visitor_value(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    telegram = Recording("telegram")
    settings = replace(LOST, public_url="https://dash.example.com", language="ru")
    check(store, settings, at(8, 20), telegram)
    text = texts(telegram)[0]
    assert "evil.example" not in text and "https://evil" not in text
    assert "evil[.]example" in text
    assert "\nCall +70000000000" not in text and "\u202e" not in text  # no line of the visitor's own, no override
    assert "[U+202E]" in text
    assert "Потерянные клиенты" in text
    # The link opens the Lost leads page over the week looked back on, in the alert's language.
    assert "https://dash.example.com/lost-leads?lang=ru&preset=custom&from=2026-03-04&to=2026-03-10" in text


def test_lost_leads_wait_for_working_hours(tmp_path: Path) -> None:
    # Missed on Friday evening (19:00 local) and Saturday: nothing until Monday 09:00.
    friday = at(16, days=3)
    store = store_with(
        tmp_path, [rec("f1", friday, "+79990000009"), rec("s1", friday + timedelta(days=1), "+79990000008")]
    )
    telegram = Recording("telegram")
    for moment in (friday + timedelta(hours=1), friday + timedelta(days=1, hours=2), at(5, 59, days=6)):
        check(store, LOST, moment, telegram)
    assert telegram.got == []
    check(store, LOST, at(6, 1, days=6), telegram)  # Monday 09:01 local
    assert len(telegram.got) == 1
    assert "+7 999 000-00-09" in telegram.got[0].text and "+7 999 000-00-08" in telegram.got[0].text


def test_working_hours_are_a_setting(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    telegram = Recording("telegram")
    evening = replace(LOST, working_hours=WorkingHours(frozenset({1}), time(14), time(22)))  # Tuesdays 14-22
    check(store, evening, at(8, 20), telegram)  # 11:20 local: not yet
    assert telegram.got == []
    check(store, evening, at(11, 0), telegram)  # 14:00 local
    assert len(telegram.got) == 1


# Failed sends ----------------------------------------------------------------------------------------------------


def test_a_failed_channel_is_tried_again_and_the_other_is_not_repeated(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    telegram, email = Recording("telegram", failing=True), Recording("email")
    outcome = check(store, LOST, at(8, 20), telegram, email)
    assert len(email.got) == 1 and telegram.got == []
    assert [reason for _, reason in outcome.failed] == ["telegram: the message was not delivered: the service said no"]
    telegram.failing = False
    outcome = check(store, LOST, at(8, 22), telegram, email)
    assert len(email.got) == 1  # not repeated
    assert len(telegram.got) == 1 and "+7 999 000-00-01" in telegram.got[0].text
    assert outcome.failed == []
    check(store, LOST, at(8, 23), telegram, email)
    assert (len(telegram.got), len(email.got)) == (1, 1)


def test_a_send_cut_short_is_tried_again_only_after_its_claim_expires(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    # A run that decided and claimed, then died before sending (or before recording the send).
    store.write(run._decide, ACCOUNT, Definitions(zone=MOSCOW), LOST, ["telegram"], at(8, 20))
    telegram = Recording("telegram")
    check(store, LOST, at(8, 22), telegram)  # a run at the same time as the first: it does not send it too
    assert telegram.got == []
    check(store, LOST, at(8, 20) + sent.SENDING_LIMIT + timedelta(minutes=1), telegram)
    assert len(telegram.got) == 1 and "+7 999 000-00-01" in telegram.got[0].text


def test_two_runs_at_once_send_a_lost_lead_once(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    telegram = Recording("telegram")
    start = threading.Barrier(2)

    def one_run() -> None:
        start.wait()
        check(store, LOST, at(8, 20), telegram)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert len(telegram.got) == 1


def test_with_no_channel_nothing_is_decided(tmp_path: Path) -> None:
    store = store_with(tmp_path, CALLERS)
    check(store, LOST, at(8, 20))
    telegram = Recording("telegram")
    check(store, LOST, at(8, 21), telegram)
    assert len(telegram.got) == 1


# Lasting conditions ----------------------------------------------------------------------------------------------

RATE = replace(OFF, answer_rate_below=0.5, answer_rate_window=timedelta(hours=3))


def calls(prefix: str, start: datetime, answered: int, missed: int) -> list[dict[str, Any]]:
    statuses = ["CLIENT_ANSWER"] * answered + ["CLIENT_MISSED"] * missed
    return [rec(f"{prefix}{i}", start + timedelta(minutes=i), f"+7999100{i:04d}", s) for i, s in enumerate(statuses)]


def test_a_low_answer_rate_alerts_when_it_starts_and_when_it_clears(tmp_path: Path) -> None:
    # 2 of 6 answered between 10:00 and 10:05 local: a third.
    store = store_with(tmp_path, calls("x", at(7), answered=2, missed=4))
    telegram = Recording("telegram")
    check(store, RATE, at(8), telegram)
    check(store, RATE, at(8, 5), telegram)
    assert len(telegram.got) == 1
    assert "33.3%" in telegram.got[0].subject and "Of 6 callbacks" in telegram.got[0].text
    # 8 more answered: 10 of 14, back above the half.
    add(store, calls("y", at(8, 10), answered=8, missed=0))
    check(store, RATE, at(8, 30), telegram)
    check(store, RATE, at(8, 35), telegram)
    assert len(telegram.got) == 2
    assert "back to 71.4%" in telegram.got[1].subject
    # Hours later the window holds nothing: too few calls to judge, so no new start or end.
    check(store, RATE, at(14), telegram)
    assert len(telegram.got) == 2


def test_too_few_calls_never_start_the_answer_rate_alert(tmp_path: Path) -> None:
    store = store_with(tmp_path, calls("x", at(7), answered=0, missed=4))
    telegram = Recording("telegram")
    check(store, RATE, at(8), telegram)
    assert telegram.got == []


SILENT = replace(OFF, silent_after=timedelta(hours=2))


def test_silence_counts_working_hours_and_alerts_on_start_and_clear_only(tmp_path: Path) -> None:
    # The last request on Monday at 17:00 local: one working hour that day, the second at 10:00 on Tuesday.
    store = store_with(tmp_path, [rec("m1", at(14, days=-1), "+79990000001", "CLIENT_ANSWER")])
    telegram = Recording("telegram")
    for moment in (at(15, days=-1), at(22, days=-1), at(6, 30)):  # 18:00 Monday, the night, 09:30 Tuesday
        check(store, SILENT, moment, telegram)
    assert telegram.got == []
    check(store, SILENT, at(7), telegram)
    check(store, SILENT, at(7, 30), telegram)
    assert [m.subject for m in telegram.got] == ["No requests for 2 working hours"]
    assert "2026-03-09 17:00" in telegram.got[0].text
    add(store, [rec("t1", at(7, 40), "+79990000002", "CLIENT_ANSWER")])
    check(store, SILENT, at(7, 45), telegram)
    check(store, SILENT, at(7, 50), telegram)
    assert [m.subject for m in telegram.got][1:] == ["Requests are coming in again"]
    assert "2026-03-10 10:40" in telegram.got[1].text


def test_our_own_call_backs_do_not_break_a_silence(tmp_path: Path) -> None:
    ours = rec(
        "o1", at(6, 50), "+79990000001", "CLIENT_ANSWER", landingUrl="https://newton-dashboard.invalid/call-back"
    )
    store = store_with(tmp_path, [rec("m1", at(14, days=-1), "+79990000001", "CLIENT_ANSWER"), ours])
    telegram = Recording("telegram")
    check(store, SILENT, at(7), telegram)
    assert [m.subject for m in telegram.got] == ["No requests for 2 working hours"]


# The digest ------------------------------------------------------------------------------------------------------

DAILY = replace(OFF, digest="daily", digest_at=time(9))
DIGEST_RECORDS = [
    # Monday 2026-03-09 (local): 3 requests, 2 answered, one lost lead, 1,500 roubles; Sunday before: 2, 1, 0, 300.
    rec(
        "m1",
        at(7, days=-1),
        "+79990000001",
        "CLIENT_ANSWER",
        leadPrice="1000",
        landingUtmSource="yandex",
        landingUtmMedium="cpc",
    ),
    rec("m2", at(8, days=-1), "+79990000002", "CLIENT_ANSWER", leadPrice="500"),
    rec("m3", at(9, days=-1), "+79990000003"),
    rec("s1", at(7, days=-2), "+79990000004", "CLIENT_ANSWER", leadPrice="300"),
    rec("s2", at(8, days=-2), "+79990000004", "CLIENT_ANSWER"),
]


def test_the_daily_digest_compares_yesterday_with_the_day_before_once(tmp_path: Path) -> None:
    store = store_with(tmp_path, DIGEST_RECORDS)
    telegram, email = Recording("telegram"), Recording("email")
    check(store, DAILY, at(5, 59), telegram, email)  # 08:59 local: not yet
    assert telegram.got == []
    check(store, DAILY, at(6), telegram, email)
    check(store, DAILY, at(6, 5), telegram, email)
    assert len(telegram.got) == len(email.got) == 1
    assert telegram.got[0].text == email.got[0].text
    message = telegram.got[0]
    assert message.subject == "Daily digest for 2026-03-09"
    assert "Against 2026-03-08:" in message.text
    assert "Requests: 3 (before: 2, +50.0%)" in message.text
    assert "Answered: 2 (before: 2, " in message.text
    assert "Lost leads: 1 (before: 0" in message.text
    assert "Lead value: 1,500\u00a0₽ (before: 300\u00a0₽, +400.0%)" in message.text
    assert "Paid search: 1 (before: 0)" in message.text
    # The next day brings the next digest, once.
    check(store, DAILY, at(6, days=1), telegram, email)
    check(store, DAILY, at(7, days=1), telegram, email)
    assert [m.subject for m in telegram.got] == ["Daily digest for 2026-03-09", "Daily digest for 2026-03-10"]


def test_the_weekly_digest_is_due_from_monday(tmp_path: Path) -> None:
    store = store_with(tmp_path, DIGEST_RECORDS)
    telegram = Recording("telegram")
    weekly = replace(DAILY, digest="weekly")
    check(store, weekly, at(6), telegram)  # Tuesday: last week's digest (Mar 2-8) was due since Monday
    check(store, weekly, at(6, days=1), telegram)
    check(store, weekly, at(6, days=6), telegram)  # the next Monday: the week of Mar 9-15
    assert [m.subject for m in telegram.got] == [
        "Weekly digest for 2026-03-02 – 2026-03-08", "Weekly digest for 2026-03-09 – 2026-03-15",
    ]  # fmt: skip
    assert "Requests: 3 (before: 2" in telegram.got[1].text


# Settings --------------------------------------------------------------------------------------------------------


def test_settings_by_default_and_from_the_environment() -> None:
    assert load_settings({}) == AlertSettings()
    settings = load_settings({
        "NEWTON_WORKING_DAYS": "Sat-Mon", "NEWTON_WORKING_HOURS": "08:30-20:00", "NEWTON_ALERT_DIGEST": "off",
        "NEWTON_ALERT_LOST_LEAD_MINUTES": "off", "NEWTON_ALERT_ANSWER_RATE_BELOW": "70%",
        "NEWTON_ALERT_LANGUAGE": "RU", "NEWTON_PUBLIC_URL": "https://dash.example.com/",
    })  # fmt: skip
    assert settings.working_hours == WorkingHours(frozenset({5, 6, 0}), time(8, 30), time(20))
    assert (settings.digest, settings.lost_lead_after, settings.answer_rate_below) == (None, None, 0.7)
    assert (settings.language, settings.public_url) == ("ru", "https://dash.example.com")


@pytest.mark.parametrize(
    ("env", "value"),
    [("NEWTON_WORKING_DAYS", "weekdays"), ("NEWTON_WORKING_HOURS", "18:00-09:00"), ("NEWTON_WORKING_HOURS", "9-18"),
     ("NEWTON_ALERT_LOST_LEAD_MINUTES", "0"), ("NEWTON_ALERT_ANSWER_RATE_BELOW", "150"),
     ("NEWTON_ALERT_ANSWER_RATE_HOURS", "off"), ("NEWTON_ALERT_DIGEST", "monthly"), ("NEWTON_ALERT_DIGEST_AT", "25:00"),
     ("NEWTON_ALERT_LANGUAGE", "de"), ("NEWTON_PUBLIC_URL", "javascript:alert(1)")],
)  # fmt: skip
def test_a_bad_setting_is_refused_by_name(env: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({env: value})
    assert refused.value.setting == env


# The command, end to end -------------------------------------------------------------------------------------------

BOT_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_the_alerts_command_sends_over_smtp_and_telegram_and_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no secrets file of the machine's
    cache = tmp_path / "cache.duckdb"
    Store(cache).write(data.upsert_records, DEMO_USER_ID, parse_records({"records": DIGEST_RECORDS + CALLERS}), TUESDAY)
    with fake_telegram(BOT_TOKEN) as telegram, mail_server(tmp_path) as smtp:
        for name, value in {
            "NEWTON_TELEGRAM_BOT_TOKEN": BOT_TOKEN, "NEWTON_TELEGRAM_CHAT_ID": "-100200300",
            "NEWTON_TELEGRAM_API_URL": telegram.url, "NEWTON_SMTP_HOST": smtp.host, "NEWTON_SMTP_PORT": str(smtp.port),
            "NEWTON_SMTP_USER": smtp.user, "NEWTON_SMTP_PASSWORD": smtp.password,
            "NEWTON_SMTP_CA_FILE": str(smtp.ca_file), "NEWTON_SMTP_FROM": "alerts@example.com",
            "NEWTON_SMTP_TO": "sales@example.com", "NEWTON_ALERT_LANGUAGE": "ru",
            "NEWTON_PUBLIC_URL": "https://dash.example.com", "NEWTON_ALERT_SILENT_HOURS": "off",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        command = ["alerts", "--cache", str(cache), "--now", "2026-03-10 08:20:00"]  # 11:20 in Moscow
        assert cli.main(command) == 0
        assert cli.main(command) == 0  # cron's next run: nothing new
        smtp.refuse = "554 5.7.1 Rejected"
        late = ["alerts", "--cache", str(cache), "--now", "2026-03-10 08:30:00"]  # the second lost lead is due
        assert cli.main(late) == 3  # the mail server said no: reported, tried again on the next run
        smtp.refuse = None
        assert cli.main(late) == 0
        assert cli.main(late) == 0
    mails = [(m.message["Subject"], m.message.get_content()) for m in smtp.received]
    chats = telegram.texts()
    assert [subject for subject, _ in mails] == [
        "Потерянные клиенты, перезвоните: 1", "Сводка за день: 2026-03-09", "Потерянные клиенты, перезвоните: 1",
    ]  # fmt: skip
    assert len(chats) == 3
    for (_, mail), chat in zip(mails, chats, strict=True):
        assert mail.replace("\r\n", "\n").strip() in chat
    assert "Заявки: 3 (было: 2, +50,0\u00a0%)" in chats[1]
    assert "https://dash.example.com/?lang=ru&preset=custom&from=2026-03-09&to=2026-03-09" in chats[1]
    assert "+7 999 000-00-01" in chats[0] and "+7 999 000-00-02" in chats[2]
    assert all("parse_mode" not in body for body in telegram.received)
    err = capsys.readouterr().err
    assert err.count("tried again on the next run") == 1 and "email" in err


def test_the_alerts_command_without_a_channel_says_so_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache.duckdb"
    Store(cache).write(data.upsert_records, DEMO_USER_ID, parse_records({"records": CALLERS}), TUESDAY)
    assert cli.main(["alerts", "--cache", str(cache), "--now", "2026-03-10 08:20:00"]) == 2
    assert "alerts: has nowhere to send" in capsys.readouterr().err
    assert Store(cache).read(sent.history, DEMO_USER_ID) == []


def test_the_alerts_command_names_a_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWTON_WORKING_HOURS", "9 to 6")
    assert cli.main(["alerts", "--cache", str(tmp_path / "cache.duckdb")]) == 2
    assert "NEWTON_WORKING_HOURS: must be hours HH:MM-HH:MM" in capsys.readouterr().err


def test_alerts_of_every_account_name_their_account_and_link_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An agency's one chat gets every account's alerts: each says whose it is, and its link opens that account."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[accounts.client-a]\nname = "Кофейня «Зерно»"\ntoken = "' + "a" * 32 + '"\nuser_id = "1001"\n'
        '[accounts.client-b]\nname = "Client B"\ntoken = "' + "b" * 32 + '"\nuser_id = "1002"\n',
        encoding="utf-8",
    )
    cache = tmp_path / "cache.duckdb"
    Store(cache).write(data.upsert_records, "1001", parse_records({"records": CALLERS[:1]}), TUESDAY)
    Store(cache).write(data.upsert_records, "1002", parse_records({"records": CALLERS[1:2]}), TUESDAY)
    with fake_telegram(BOT_TOKEN) as telegram:
        for name, value in {
            "NEWTON_TELEGRAM_BOT_TOKEN": BOT_TOKEN, "NEWTON_TELEGRAM_CHAT_ID": "-100200300",
            "NEWTON_TELEGRAM_API_URL": telegram.url, "NEWTON_PUBLIC_URL": "https://dash.example.com",
            "NEWTON_ALERT_SILENT_HOURS": "off", "NEWTON_ALERT_DIGEST": "off",
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        assert cli.main(["alerts", "--all-accounts", "--account", "client-a"]) == 2  # one or all, not both
        assert telegram.texts() == []
        # 11:30 in Moscow: both lost leads (11:00 and 11:10) are due.
        command = ["alerts", "--all-accounts", "--cache", str(cache), "--now", "2026-03-10 08:30:00"]
        assert cli.main(command) == 0
        assert cli.main(command) == 0  # nothing twice
    first, second = telegram.texts()
    assert first.startswith("Кофейня «Зерно»: Lost leads to call back: 1")
    assert "+7 999 000-00-01" in first and "+7 999 000-00-02" not in first
    assert "account=client-a" in first
    assert second.startswith("Client B: Lost leads to call back: 1")
    assert "+7 999 000-00-02" in second and "+7 999 000-00-01" not in second
    assert "account=client-b" in second
    out = capsys.readouterr().out
    assert "Account client-a: Messages sent: 1" in out and "Account client-b: Messages sent: 1" in out
