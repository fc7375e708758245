"""The one place that knows the dashboard's time zone: Newton speaks UTC, marketers think in local days."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.api import InvalidInput

DEFAULT_TIMEZONE = "Europe/Moscow"


def load_timezone(flag: str | None = None, env: Mapping[str, str] | None = None) -> ZoneInfo:
    """The zone from `--tz`, else NEWTON_TIMEZONE, else Europe/Moscow; an unknown name is refused."""
    env = os.environ if env is None else env
    name = (flag or env.get("NEWTON_TIMEZONE") or DEFAULT_TIMEZONE).strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput({"tz": f"unknown time zone {name[:60]!r}; use a name such as Europe/Moscow"}) from None


def parse_local_date(field: str, value: str) -> date:
    """A `YYYY-MM-DD` typed by a person."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput({field: "must be a date YYYY-MM-DD"}) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidInput({field: "must be a date between 2000 and 2100"})
    return day


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The naive UTC instant at which local `day` begins in `zone`."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def local_days_utc(first: date | None, last: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Local days `first`..`last` inclusive as a half-open naive-UTC range; None leaves that side open."""
    if first and last and last < first:
        raise InvalidInput({"to": "must not be before from"})
    start = local_midnight_utc(first, zone) if first else None
    end = local_midnight_utc(last + timedelta(days=1), zone) if last else None
    return start, end
