"""The alert rules: what is due now, read from the cache with the definitions every page uses.

- A lost lead (docs/metrics.md: a missed caller nobody reached since, not marked) whose last miss is older than the
  setting's minutes: once per phone and miss, only in working hours (one found at night waits for the morning).
- The answer rate of the last hours below a threshold, and the silence of no request at all for a number of
  working hours: lasting conditions, said once when they start and once when they clear. Both are judged only in
  working hours (at night few calls are answered, and no request is expected), so a condition that started in the
  evening clears, if it does, the next working morning.
- The digest of the previous day or week against the one before, once, from its time of day on.

Every rule takes `now` (naive UTC), so that a test gives the same answer on any date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import polars as pl

from dashboard import i18n
from dashboard.alerts import messages, sent
from dashboard.alerts.config import AlertSettings
from dashboard.alerts.messages import TEXT, period_words, plain, with_link
from dashboard.alerts.sent import CLEARED, STARTED, Alert
from dashboard.lost_leads import LostLeads
from dashboard.metrics import _AGGREGATES, Definitions, Filters, Metrics, Period, record_facts
from dashboard.phones import format_phone
from dashboard.timezones import local_time

LOST_LEAD, ANSWER_RATE, SILENCE, DIGEST = "lost_lead", "answer_rate", "silence", "digest"
# Lost leads are looked for among the misses of the last week: a weekend's wait for Monday, not older history.
LOST_LOOK_BACK_DAYS = 7
# The answer rate of fewer callbacks than this (answered or missed) says nothing: the condition stays as it was.
ANSWER_RATE_LEAST = 5
TOP_SOURCES = 3


@dataclass(frozen=True)
class Moment:
    """The settings and the moment (naive UTC) a run words its alerts at."""

    definitions: Definitions
    settings: AlertSettings
    now: datetime
    # In a deployment of several accounts: the account's name in secrets.toml, so every link opens that account.
    account_name: str | None = field(default=None, kw_only=True)

    @property
    def lang(self) -> str:
        return self.settings.language

    @property
    def local_now(self) -> datetime:
        return local_time(self.now, self.definitions.zone)

    @property
    def working(self) -> bool:
        return self.settings.working_hours.contains(self.now, self.definitions.zone)

    def words(self, key: str, **values: object) -> str:
        return i18n.text(key, self.lang, TEXT, **values)

    def link(self, page: str, period: Period) -> str:
        extra = {"account": self.account_name} if self.account_name else None
        return messages.link(self.settings.public_url, page, period, self.lang, extra)

    def today(self) -> Period:
        return Period(self.local_now.date(), self.local_now.date())


@dataclass(frozen=True)
class Check(Moment):
    """One run's view of the account in an open cache connection."""

    con: duckdb.DuckDBPyConnection
    account: str


def due(check: Check) -> list[Alert]:
    """Every alert due now (some may have been decided already: `sent.claim` decides)."""
    return [*lost_leads(check), *answer_rate(check), *silence(check), *digest(check)]


# Lost leads ------------------------------------------------------------------------------------------------------


def lost_look_back(check: Moment) -> Period:
    """The days lost leads are looked for in (and the Lost leads page is linked with)."""
    today = check.local_now.date()
    return Period(today - timedelta(days=LOST_LOOK_BACK_DAYS - 1), today)


def lost_leads(check: Check) -> list[Alert]:
    """A lost lead whose last miss is older than the setting's minutes, in working hours."""
    after = check.settings.lost_lead_after
    if after is None or not check.working:
        return []
    filters = Filters(period=lost_look_back(check), as_of=check.now)
    frame = LostLeads(check.con, check.account, check.definitions).callers_with_misses(filters)
    lost = frame.filter(
        ~pl.col("reached") & pl.col("mark").is_null() & (pl.col("last_missed_at") <= check.local_now - after)
    )
    return [_lost_alert(check, row) for row in lost.iter_rows(named=True)]


def _lost_alert(check: Check, row: dict[str, object]) -> Alert:
    when = row["last_missed_at"]
    assert isinstance(when, datetime)  # noqa: S101 - the column's type
    line = check.words(
        "lost_line", phone=plain(format_phone(str(row["phone"])), check.lang), missed=row["missed"],
        when=f"{when:%Y-%m-%d %H:%M}",
        channel=i18n.label("channel", row["channel"], check.lang), source=plain(row["utm_source"], check.lang),
        widget=plain(row["widget"], check.lang),
    )  # fmt: skip
    # The phone (as stored, not as shown) and the miss: a newer miss of the same phone is a new lost lead.
    return Alert(
        LOST_LEAD, f"{row['phone']}@{when:%Y-%m-%dT%H:%M:%S}", sent.ALERT, plain(row["phone"], check.lang), line
    )


def lost_leads_message(check: Moment, lines: list[str]) -> tuple[str, str]:
    """The subject and text of one message carrying every lost lead claimed for a channel (at most 20 listed)."""
    shown = lines[:20]
    more = [check.words("more", n=len(lines) - len(shown))] if len(lines) > len(shown) else []
    text = "\n".join([check.words("lost_intro"), "", *shown, *more])
    url = check.link(messages.LOST_LEADS_PAGE, lost_look_back(check))
    return check.words("lost_subject", n=len(lines)), with_link(text, url, check.lang)


# Lasting conditions ----------------------------------------------------------------------------------------------


def lasting(
    check: Check,
    rule: str,
    on: bool | None,
    started: Callable[[], tuple[str, str]],
    cleared: Callable[[str], tuple[str, str]],
) -> list[Alert]:
    """The start or the end of a lasting condition, when it changed since the last one decided. `on` None: not
    known now (too few calls to judge), so nothing changes. `cleared` gets the local time it was reported at."""
    last = sent.latest(check.con, check.account, rule)
    is_on = last is not None and last[0] == STARTED
    if on is None or on == is_on:
        return []
    if on:
        subject, text = started()
        return [Alert(rule, f"{check.now:%Y-%m-%dT%H:%M:%S}", STARTED, subject, text)]
    assert last is not None  # noqa: S101 - is_on
    since = local_time(datetime.fromisoformat(last[1]), check.definitions.zone)
    subject, text = cleared(f"{since:%Y-%m-%d %H:%M}")
    return [Alert(rule, last[1], CLEARED, subject, text)]


def answer_rate(check: Check) -> list[Alert]:
    """The answer rate of the last hours below the threshold (started), or back at or above it (cleared)."""
    threshold = check.settings.answer_rate_below
    if threshold is None or not check.working:
        return []
    window = check.settings.answer_rate_window
    row = _window_counts(check, check.now - window)
    decided = int(row["answered"] or 0) + int(row["missed"] or 0)
    rate = row["answer_rate"]
    on = None if decided < ANSWER_RATE_LEAST or rate is None else rate < threshold
    values = {"decided": decided, "answered": row["answered"], "hours": int(window.total_seconds() // 3600),
              "rate": i18n.percent(rate, check.lang), "threshold": i18n.percent(threshold, check.lang, 0),
              "when": f"{check.local_now:%H:%M}"}  # fmt: skip
    url = check.link(messages.OVERVIEW, check.today())

    def said(kind: str) -> tuple[str, str]:
        return check.words(f"rate_{kind}_subject", **values), with_link(
            check.words(f"rate_{kind}", **values), url, check.lang
        )

    return lasting(check, ANSWER_RATE, on, lambda: said("started"), lambda since: said("cleared"))


def _window_counts(check: Check, since: datetime) -> dict[str, float | int | None]:
    """The headline counts of the requests from `since` to now (naive UTC), by the metrics' own definitions."""
    zone = check.definitions.zone
    period = Period(local_time(since, zone).date(), check.local_now.date())
    facts, params = record_facts(
        check.account, check.definitions, Filters(period=period, as_of=check.now, until=check.now), raw=("requestDate",)
    )
    sql = f"SELECT {_AGGREGATES} FROM ({facts}) WHERE r_requestDate >= $since"  # noqa: S608 - our own SQL
    row: dict[str, float | int | None] = check.con.sql(sql, params={**params, "since": since}).pl().row(0, named=True)
    return row


def last_request(check: Check) -> datetime | None:
    """When the newest request up to now arrived (naive UTC); our own call backs are not requests."""
    facts, params = record_facts(check.account, check.definitions, Filters(until=check.now), raw=("requestDate",))
    found = check.con.sql(f"SELECT max(r_requestDate) FROM ({facts})", params=params).fetchall()  # noqa: S608
    value = found[0][0] if found else None
    return value if isinstance(value, datetime) else None


def silence(check: Check) -> list[Alert]:
    """No request at all for the setting's working hours (started), or a request after such a silence (cleared)."""
    after = check.settings.silent_after
    if after is None or not check.working:
        return []
    last = last_request(check)
    if last is None:
        return []  # an empty cache: nothing synced yet, not a silent site
    zone = check.definitions.zone
    on = check.settings.working_hours.worked(last, check.now, zone) >= after
    url = check.link(messages.OVERVIEW, check.today())
    when = f"{local_time(last, zone):%Y-%m-%d %H:%M}"

    def started() -> tuple[str, str]:
        subject = check.words("silent_started_subject", hours=int(after.total_seconds() // 3600))
        return subject, with_link(check.words("silent_started", when=when), url, check.lang)

    def cleared(since: str) -> tuple[str, str]:
        text = check.words("silent_cleared", when=when, since=since)
        return check.words("silent_cleared_subject"), with_link(text, url, check.lang)

    return lasting(check, SILENCE, on, started, cleared)


# The digest ------------------------------------------------------------------------------------------------------


def digest_period(check: Check) -> Period | None:
    """The period whose digest is due now: yesterday (daily) or last week, Monday to Sunday (weekly), from the
    digest's time of day on; None before it, or when the digest is off."""
    kind, local = check.settings.digest, check.local_now
    if kind is None or local.time() < check.settings.digest_at:
        return None
    today = local.date()
    if kind == "daily":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def digest(check: Check) -> list[Alert]:
    """The digest of the period due, once: requests, answered, answer rate, lost leads, lead value and the top
    channels, each against the period before."""
    period = digest_period(check)
    if period is None:
        return []
    key = f"{check.settings.digest}:{period.first.isoformat()}"
    if sent.decided(check.con, check.account, DIGEST, key, sent.ALERT):
        return []  # said already: not worth counting again
    before = period.previous()
    subject = check.words(f"digest_{check.settings.digest}", period=period_words(period))
    lines = [check.words("against", period=period_words(before)), *_digest_lines(check, period, before)]
    text = with_link("\n".join(lines), check.link(messages.OVERVIEW, period), check.lang)
    return [Alert(DIGEST, key, sent.ALERT, subject, text)]


def _digest_lines(check: Check, period: Period, before: Period) -> list[str]:
    metrics = Metrics(check.con, check.account, check.definitions)
    lost_leads = LostLeads(check.con, check.account, check.definitions)
    now, then = Filters(period=period, as_of=check.now), Filters(period=before, as_of=check.now)
    current, previous = metrics.headline(now), metrics.headline(then)
    current["lost_leads"] = lost_leads.summary(now)["lost"]
    previous["lost_leads"] = lost_leads.summary(then)["lost"]
    lang = check.lang
    shown: dict[str, Callable[[float | None, str], str]] = {
        "requests": i18n.integer, "answered": i18n.integer, "answer_rate": i18n.percent,
        "lost_leads": i18n.integer, "lead_value": i18n.roubles,
    }  # fmt: skip
    lines = [
        check.words(
            "line",
            name=check.words(name),
            value=show(current[name], lang),
            before=show(previous[name], lang),
            change=i18n.change(current[name], previous[name], lang, as_points=name == "answer_rate") or i18n.NO_VALUE,
        )
        for name, show in shown.items()
    ]
    return [*lines, check.words("top_sources"), *_top_sources(check, now, then)]


def _top_sources(check: Check, now: Filters, then: Filters) -> list[str]:
    metrics = Metrics(check.con, check.account, check.definitions)
    top = metrics.breakdown(now, "channel").head(TOP_SOURCES)
    earlier = dict(metrics.breakdown(then, "channel").select("channel", "requests").iter_rows())
    lines = [
        check.words("source_line", name=i18n.label("channel", channel, check.lang),
                    value=i18n.integer(requests, check.lang), before=i18n.integer(earlier.get(channel, 0), check.lang))
        for channel, requests in top.select("channel", "requests").iter_rows()
    ]  # fmt: skip
    return lines or [check.words("no_requests")]
