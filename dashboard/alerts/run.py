"""One run of `newton-dashboard alerts`: decide what is due, send it on every channel, record what was accepted.

    decide + claim (one store transaction) → send, channel by channel → settle each send (its own transaction)

A send that fails is recorded 'failed' and tried again on the next run, on that channel only; it never stops the
other sends, and the run reports it (the CLI exits 3). Lost leads claimed together for a channel go out as one
message, so a morning after a weekend is one message listing them, not dozens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb

from dashboard.alerts import config, sent
from dashboard.alerts.config import AlertSettings
from dashboard.alerts.delivery import Channel, Message
from dashboard.alerts.rules import LOST_LEAD, Check, Moment, due, lost_leads_message
from dashboard.alerts.sent import Claim
from dashboard.errors import DeliveryFailed
from dashboard.metrics import Definitions
from dashboard.settings import configured
from dashboard.store import AnyStore

# The settings `config.from_values` reads, by their names in dashboard/settings.py.
ALERT_SETTINGS = ("public_url", "alert_language", "working_days", "working_hours", "alert_lost_lead_minutes",
                  "alert_answer_rate_below", "alert_answer_rate_hours", "alert_silent_hours", "alert_digest",
                  "alert_digest_at")  # fmt: skip


def load_settings(env: Mapping[str, str] | None = None) -> AlertSettings:
    """The alert settings from the environment (raises ConfigError naming the setting that cannot be used)."""
    return config.from_values({name: configured(name, env=env) for name in ALERT_SETTINGS})


@dataclass(frozen=True)
class AccountLabel:
    """Which of a deployment's several accounts the alerts are about: its `name` in secrets.toml (links open it)
    and its `title`, which begins every subject, since one chat or mailbox gets the alerts of every account."""

    name: str
    title: str


@dataclass
class Outcome:
    """What one run sent, and what it could not (each failure: the claims it carried and the reason)."""

    sent: list[Claim] = field(default_factory=list)
    failed: list[tuple[list[Claim], str]] = field(default_factory=list)
    messages: int = 0


def run(
    store: AnyStore,
    account: str,
    zone: ZoneInfo,
    settings: AlertSettings,
    channels: Sequence[Channel],
    now: datetime,
    label: AccountLabel | None = None,
) -> Outcome:
    """Check the cache at `now` (naive UTC) and send what is due on `channels` (`label`: which of several accounts)."""
    definitions = Definitions(zone=zone)
    names = [channel.name for channel in channels]
    link_to = label.name if label else None
    # One decision at a time per account on every machine (cron on two servers): the lake's snapshot isolation
    # alone could let both find an alert undecided and claim it.
    with store.exclusively(f"alerts:{account}"):
        claims = store.write(_decide, account, definitions, settings, names, now, link_to)
    outcome = Outcome()
    for channel in channels:
        for message, carried in _messages(Moment(definitions, settings, now, account_name=link_to), channel.name,
                                          claims):  # fmt: skip
            if label is not None:
                message = replace(message, subject=f"{label.title}: {message.subject}")
            try:
                channel.send(message)
            except DeliveryFailed as error:
                store.write(sent.settle, account, carried, now, error.reason)
                outcome.failed.append((carried, str(error)))
                continue
            store.write(sent.settle, account, carried, now)
            outcome.sent.extend(carried)
            outcome.messages += 1
    return outcome


def _decide(
    con: duckdb.DuckDBPyConnection,
    account: str,
    definitions: Definitions,
    settings: AlertSettings,
    channels: Sequence[str],
    now: datetime,
    link_to: str | None = None,
) -> list[Claim]:
    """In one transaction: find what is due, decide what was not decided before, and claim it and the sends to
    try again."""
    check = Check(definitions, settings, now, con, account, account_name=link_to)
    return sent.claim(con, account, due(check), channels, now)


def _messages(moment: Moment, channel: str, claims: Sequence[Claim]) -> list[tuple[Message, list[Claim]]]:
    """The messages for one channel's claims: the lost leads together, every other alert on its own."""
    mine = [claim for claim in claims if claim.channel == channel]
    lost = [claim for claim in mine if claim.alert.rule == LOST_LEAD]
    found = [(_message(claim), [claim]) for claim in mine if claim.alert.rule != LOST_LEAD]
    if lost:
        lines = [claim.alert.text for claim in lost]
        subject, text = lost_leads_message(moment, lines)
        found.insert(0, (Message(f"{LOST_LEAD}/{lost[0].alert.key}+{len(lost)}", subject, text), lost))
    return found


def _message(claim: Claim) -> Message:
    alert = claim.alert
    return Message(f"{alert.rule}/{alert.key}/{alert.event}", alert.subject, alert.text)
