"""Periods as local calendar days: the sidebar's presets, and what a period is compared with (docs/metrics.md)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.errors import ConfigError
from dashboard.i18n import Problem
from dashboard.timezones import local_time

PRESETS = ("today", "yesterday", "last_7_days", "last_30_days", "last_90_days", "this_month", "last_month", "custom")
DEFAULT_PRESET = "last_30_days"

# The presets compared month by month (the others are days, whatever day they start on).
MONTH_PRESETS = ("this_month", "last_month")
# What a period is compared with: the period just before it, the same period a year earlier, or nothing.
COMPARISONS = ("previous", "year", "none")
DEFAULT_COMPARISON = "previous"


@dataclass(frozen=True)
class Period:
    """Local calendar days `first` to `last`, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ConfigError("to", Problem("before_from"))

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def preset_period(preset: str, today: date) -> Period:
    """The days a preset means on local `today`; "custom" and unknown names fall back to the last 30 days."""
    if preset == "today":
        return Period(today, today)
    if preset == "yesterday":
        yesterday = today - timedelta(days=1)
        return Period(yesterday, yesterday)
    if preset in ("last_7_days", "last_90_days"):
        days = 7 if preset == "last_7_days" else 90
        return Period(today - timedelta(days=days - 1), today)
    if preset == "this_month":
        return Period(today.replace(day=1), today)
    if preset == "last_month":
        last_day = today.replace(day=1) - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day)
    return Period(today - timedelta(days=29), today)


def comparison_kind(value: str | None) -> str:
    """A comparison kind from a link or a flag; anything else is the default (the previous period)."""
    return value if value in COMPARISONS else DEFAULT_COMPARISON


@dataclass(frozen=True)
class Comparison:
    """A period and what it is compared with (`other`, None for "none").

    When the period includes today, both sides are counted up to the same local time of day: requests before
    `until` (naive UTC, the moment the numbers are for) and before `other_until` (that time of day on the
    corresponding day of `other`), so "today until 14:05" meets "yesterday until 14:05". Otherwise both are None.
    """

    kind: str
    period: Period
    other: Period | None
    until: datetime | None
    other_until: datetime | None


def comparison(
    period: Period, kind: str, as_of: datetime | None, zone: ZoneInfo, preset: str | None = None
) -> Comparison:
    """What `period` is compared with when the numbers are for `as_of` (naive UTC; None: no time cut-off).

    - previous: "this month" (to date) and "last month", and any other period of whole calendar months (the 1st
      to a month's last day) unless it is a preset of days, are compared with the same days as many months
      before, day numbers past a shorter month's end ending at that month's end; any other period with the same
      number of days just before it. The preset decides where the days alone cannot: on the 7th, "this month" and
      "last 7 days" are the same days, compared with 1-7 of last month and with the 7 days before.
    - year: the same days a year before (29 February → 28 February; whole months stay whole months).
    - none: nothing.
    """
    today = local_time(as_of, zone).date() if as_of is not None else None
    includes_today = today is not None and period.first <= today <= period.last
    until = as_of if includes_today else None
    if kind == "none":
        return Comparison(kind, period, None, until, None)
    aligned = _months_spanned(period, today, preset)
    back = 12 if kind == "year" else aligned  # months back; None: the same number of days back

    def shifted(day: date, *, is_last: bool = False) -> date:
        if back is None:
            return day - timedelta(days=period.days)
        return _add_months(day, -back, to_month_end=is_last and aligned is not None and day == _month_end(day))

    other = Period(shifted(period.first), shifted(period.last, is_last=True))
    other_until = _same_time_on(shifted(today), as_of, zone) if includes_today and as_of and today else None
    return Comparison(kind, period, other, until, other_until)


def _months_spanned(period: Period, today: date | None, preset: str | None) -> int | None:
    """How many calendar months the period covers when it is compared month by month (see `comparison`)."""
    if preset not in (None, "custom", *MONTH_PRESETS) or period.first.day != 1:
        return None
    to_date = preset == "this_month" and today is not None and period.first <= today <= period.last
    if period.last != _month_end(period.last) and not to_date:
        return None
    return (period.last.year - period.first.year) * 12 + period.last.month - period.first.month + 1


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: date, months: int, *, to_month_end: bool = False) -> date:
    """The same day number `months` later (earlier when negative), at most the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    length = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, length if to_month_end else min(day.day, length))


def _same_time_on(day: date, as_of: datetime, zone: ZoneInfo) -> datetime:
    """The naive UTC instant at `as_of`'s local time of day on local `day`."""
    local = datetime.combine(day, local_time(as_of, zone).time(), tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)
