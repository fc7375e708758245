"""The alert rules' settings as values: working hours, each rule's threshold (or off), the digest, the language and
the dashboard's public address. `dashboard/settings.py` lists them in SETTINGS with the parsers below; `load`
reads them all. Nothing here reads the environment itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.api import validate
from dashboard.errors import ConfigError, InvalidInput
from dashboard.i18n import LANGUAGES, Problem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGESTS = ("daily", "weekly")
OFF = "off"
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
MOST_MINUTES = 7 * 24 * 60
MOST_HOURS = 7 * 24
# How far back working time is counted: even one working hour a week adds up to the longest setting within it.
WORKED_LOOK_BACK = timedelta(weeks=MOST_HOURS)


@dataclass(frozen=True)
class WorkingHours:
    """The days (0 = Monday) and local hours `start`..`end` when someone is there to call back."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9)
    end: time = time(18)

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether the naive UTC `moment` falls in working hours, in `zone`."""
        local = moment.replace(tzinfo=UTC).astimezone(zone)
        return local.weekday() in self.days and self.start <= local.time().replace(tzinfo=None) < self.end

    def worked(self, since: datetime, until: datetime, zone: ZoneInfo) -> timedelta:
        """How much working time lies between the naive UTC instants `since` and `until`."""
        total = timedelta()
        first = since.replace(tzinfo=UTC).astimezone(zone).date()
        last = until.replace(tzinfo=UTC).astimezone(zone).date()
        day = max(first, last - WORKED_LOOK_BACK)
        while day <= last:
            if day.weekday() in self.days:
                opens, closes = _utc(day, self.start, zone), _utc(day, self.end, zone)
                total += max(timedelta(), min(closes, until) - max(opens, since))
            day += timedelta(days=1)
        return total


def _utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class AlertSettings:
    """What `newton-dashboard alerts` checks and how it words it. A rule set to None is off."""

    working_hours: WorkingHours = WorkingHours()
    lost_lead_after: timedelta | None = timedelta(minutes=15)
    answer_rate_below: float | None = 0.5
    answer_rate_window: timedelta = timedelta(hours=3)
    silent_after: timedelta | None = timedelta(hours=2)
    digest: str | None = "daily"
    digest_at: time = time(9)
    language: str = "en"
    public_url: str | None = None


# Parsers: (text, where) -> value, raising ConfigError naming `where` (see dashboard.settings.Setting).


def parse_days(text: str, where: str) -> frozenset[int]:
    """`Mon-Fri`, `mon,wed,sat` or `Sat-Mon` (a range may wrap past Sunday) as weekday numbers, 0 = Monday."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in WEEKDAYS for end in ends):
            raise ConfigError(where, Problem("weekdays"))
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.update((first + step) % 7 for step in range((last - first) % 7 + 1))
    return frozenset(days)


def parse_clock(text: str, where: str) -> time:
    """`HH:MM`, 00:00 to 23:59."""
    found = _CLOCK.fullmatch(text.strip())
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        raise ConfigError(where, Problem("clock_time"))
    return time(int(found[1]), int(found[2]))


def parse_hours(text: str, where: str) -> tuple[time, time]:
    """`HH:MM-HH:MM`, the first before the second (24:00 ends a day that works till midnight)."""
    ends = text.replace(" ", "").split("-")
    if len(ends) != 2:
        raise ConfigError(where, Problem("hours_range"))
    start = parse_clock(ends[0], where)
    end = time.max if ends[1] == "24:00" else parse_clock(ends[1], where)
    if end <= start:
        raise ConfigError(where, Problem("hours_range"))
    return start, end


# `off` parses to a zero (or "off"), not None: None is what an unset setting reads as (see `from_values`).
def _whole_or_off(text: str, where: str, least: int, most: int) -> int:
    word = text.strip().lower()
    if word == OFF:
        return 0
    if not word.isdecimal() or not least <= int(word) <= most:
        raise ConfigError(where, Problem("whole_or_off", least=least, most=most))
    return int(word)


def parse_minutes_or_off(text: str, where: str) -> timedelta:
    """Whole minutes from 1 to a week, or `off` (zero)."""
    return timedelta(minutes=_whole_or_off(text, where, 1, MOST_MINUTES))


def parse_hours_or_off(text: str, where: str) -> timedelta:
    """Whole hours from 1 to a week, or `off` (zero)."""
    return timedelta(hours=_whole_or_off(text, where, 1, MOST_HOURS))


def parse_window_hours(text: str, where: str) -> timedelta:
    """Whole hours from 1 to a week (no `off`: the rule's threshold turns it off)."""
    hours = parse_hours_or_off(text, where)
    if not hours:
        raise ConfigError(where, Problem("whole_hours", most=MOST_HOURS))
    return hours


def parse_percent_or_off(text: str, where: str) -> float:
    """A whole percent from 1 to 100 (as a fraction), or `off` (zero)."""
    return _whole_or_off(text.strip().removesuffix("%"), where, 1, 100) / 100


def parse_digest(text: str, where: str) -> str:
    """`daily`, `weekly` or `off`."""
    word = text.strip().lower()
    if word != OFF and word not in DIGESTS:
        raise ConfigError(where, Problem("digest_kind"))
    return word


def parse_language(text: str, where: str) -> str:
    """`en` or `ru`."""
    word = text.strip().lower()
    if word not in LANGUAGES:
        raise ConfigError(where, Problem("one_of", choices=", ".join(LANGUAGES)))
    return word


def parse_public_url(text: str, where: str) -> str:
    """The dashboard's address as people open it: http:// or https://, without a trailing slash."""
    try:
        url = validate.url(where, text)
    except InvalidInput:
        raise ConfigError(where, Problem("http_url")) from None
    if "?" in url or "#" in url:
        raise ConfigError(where, Problem("http_url"))
    return url.rstrip("/")


def _rule(values: Mapping[str, Any], name: str, default: Any) -> Any:
    """A rule's value: its default when unset (None), None when set `off` (a zero, or the word)."""
    value = values.get(name)
    if value is None:
        return default
    return None if not value or value == OFF else value


def from_values(values: Mapping[str, Any]) -> AlertSettings:
    """The settings from parsed values by setting name (dashboard.settings names), an unset (None) one at its
    default."""
    default = AlertSettings()
    days = values.get("working_days")
    hours = values.get("working_hours")
    working = WorkingHours(
        days=default.working_hours.days if days is None else days,
        start=hours[0] if hours else default.working_hours.start,
        end=hours[1] if hours else default.working_hours.end,
    )
    return AlertSettings(
        working_hours=working,
        lost_lead_after=_rule(values, "alert_lost_lead_minutes", default.lost_lead_after),
        answer_rate_below=_rule(values, "alert_answer_rate_below", default.answer_rate_below),
        answer_rate_window=values.get("alert_answer_rate_hours") or default.answer_rate_window,
        silent_after=_rule(values, "alert_silent_hours", default.silent_after),
        digest=_rule(values, "alert_digest", default.digest),
        digest_at=values.get("alert_digest_at") or default.digest_at,
        language=values.get("alert_language") or default.language,
        public_url=values.get("public_url"),
    )
