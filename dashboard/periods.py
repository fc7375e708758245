"""The period presets of the sidebar, as local calendar days."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard.metrics import Period

PRESETS = ("today", "yesterday", "last_7_days", "last_30_days", "last_90_days", "this_month", "last_month", "custom")
DEFAULT_PRESET = "last_30_days"


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
