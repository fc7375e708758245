"""What was sent: the people's table `sent_alerts`, one row per alert and channel.

An alert is decided and claimed in one store transaction: its rows are written 'sending', one per channel, in the
transaction that found it due, so a second run (or two runs at once: the store's writes take turns) finds it
decided and never sends it again. A row becomes 'sent' only after its channel accepted the message (delivery is
at least once: a crash between the two sends it again, never loses it), or 'failed' with the reason. A failed row,
or one still 'sending' long after its claim (its run died), is claimed again by the next run, on its own channel
only. Each row keeps the words it was decided with, so a retry says what the first try would have said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

# A claim still 'sending' after this long was cut short (its process died): far longer than a send takes.
SENDING_LIMIT = timedelta(minutes=10)
# Events: a one-off alert (a lost lead, a digest), or a lasting condition's start and end.
ALERT, STARTED, CLEARED = "alert", "started", "cleared"


@dataclass(frozen=True)
class Alert:
    """An alert a rule found due: its rule, its key within the rule, its event, and its words."""

    rule: str
    key: str
    event: str
    subject: str
    text: str


@dataclass(frozen=True)
class Claim:
    """An alert claimed for sending on one channel by this run."""

    alert: Alert
    channel: str
    attempts: int


_COLUMNS = "rule, alert_key, event, subject, text, channel, attempts"


def decided(con: duckdb.DuckDBPyConnection, account: str, rule: str, key: str, event: str) -> bool:
    """Whether this alert was already decided (on any channel, whatever became of the send)."""
    sql = "SELECT 1 FROM sent_alerts WHERE account = ? AND rule = ? AND alert_key = ? AND event = ? LIMIT 1"
    return bool(con.execute(sql, [account, rule, key, event]).fetchall())


def latest(con: duckdb.DuckDBPyConnection, account: str, rule: str) -> tuple[str, str] | None:
    """A lasting condition's newest decided event and its key: ('started', key) while it lasts."""
    rows = con.execute(
        """SELECT event, alert_key FROM sent_alerts WHERE account = ? AND rule = ?
           ORDER BY decided_at DESC, event = 'cleared' DESC LIMIT 1""",
        [account, rule],
    ).fetchall()
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def claim(
    con: duckdb.DuckDBPyConnection, account: str, alerts: Sequence[Alert], channels: Sequence[str], now: datetime
) -> list[Claim]:
    """Decide `alerts` not decided before, claiming one row per channel, and claim again the rows of earlier
    runs whose send failed or was cut short, on the `channels` configured now. Run inside the store transaction
    that found the alerts due."""
    claims = [
        Claim(alert, channel, 1)
        for alert in alerts
        if not decided(con, account, alert.rule, alert.key, alert.event)
        for channel in channels
    ]
    if claims:  # DuckDB refuses an executemany of no rows
        con.executemany(
            """INSERT INTO sent_alerts (account, rule, alert_key, event, channel, decided_at, state, claimed_at,
               attempts, subject, text) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, 1, ?, ?)""",
            [[account, c.alert.rule, c.alert.key, c.alert.event, c.channel, now, now, c.alert.subject, c.alert.text]
             for c in claims],
        )  # fmt: skip
    if not channels:
        return claims
    # Read, then updated with the same condition in the same transaction (a lake's UPDATE has no RETURNING).
    due = """WHERE account = $account AND list_contains($channels, channel)
              AND (state = 'failed' OR (state = 'sending' AND claimed_at < $stale))"""
    params = {"account": account, "channels": list(channels), "stale": now - SENDING_LIMIT}
    retried = [
        (*row[:-1], row[-1] + 1)  # the attempt this claim makes
        for row in con.execute(f"SELECT {_COLUMNS} FROM sent_alerts {due}", params).fetchall()  # noqa: S608 - our own SQL
    ]
    con.execute(
        f"UPDATE sent_alerts SET state = 'sending', claimed_at = $now, attempts = attempts + 1 {due}",  # noqa: S608
        params | {"now": now},
    )
    return claims + [
        Claim(Alert(rule, key, event, subject, text), channel, attempts)
        for rule, key, event, subject, text, channel, attempts in sorted(retried)
    ]


def settle(
    con: duckdb.DuckDBPyConnection, account: str, claims: Sequence[Claim], now: datetime, error: str | None = None
) -> None:
    """Record the outcome of one send: 'sent' at `now`, or 'failed' with `error` (tried again next run)."""
    if not claims:
        return
    con.executemany(
        """UPDATE sent_alerts SET state = ?, sent_at = ?, error = ?
           WHERE account = ? AND rule = ? AND alert_key = ? AND event = ? AND channel = ?""",
        [["failed" if error else "sent", None if error else now, error, account,
          c.alert.rule, c.alert.key, c.alert.event, c.channel] for c in claims],
    )  # fmt: skip


def history(con: duckdb.DuckDBPyConnection, account: str) -> list[tuple[str, str, str, str, str]]:
    """Every alert row of the account as (rule, key, event, channel, state), oldest decision first."""
    rows = con.execute(
        """SELECT rule, alert_key, event, channel, state FROM sent_alerts WHERE account = ?
           ORDER BY decided_at, rule, alert_key, event, channel""",
        [account],
    ).fetchall()
    return [(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]
