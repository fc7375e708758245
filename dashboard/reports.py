"""The report tables the CLI writes (and the pages export): metric frames with documented columns and rounding."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboard.export import DATETIME_FORMAT
from dashboard.lost_leads import REPORT_COLUMNS as LOST_LEADS_COLUMNS
from dashboard.lost_leads import LostLeads
from dashboard.metrics import Filters, Metrics
from dashboard.money import MONEY_COLUMNS, Money

# The record metrics of `report attribution` (after the dimensions) and `report daily` (after period_start), in
# this order (docs/metrics.md, "Report columns"): later columns are added at the end, never between. The money
# columns are always there, empty (avg_lead_value) or 0 when no record has a price.
REPORT_COLUMNS = (
    "requests", "callbacks", "answered", "missed", "pending", "answer_rate", "avg_talk_seconds",
    "median_talk_seconds", "lead_value", "priced_leads", "avg_lead_value",
)  # fmt: skip
# Attribution adds the callers of each row (a phone in two rows counts in each) after the list, before the changes.
CALLER_COLUMNS = ("callers", "new_callers")
ATTRIBUTION_COLUMNS = (*REPORT_COLUMNS, *CALLER_COLUMNS)
# `report attribution --first-touch` (the page's "first touch"): each caller once, under its first request's values.
FIRST_TOUCH_COLUMNS = ("callers", "new_callers", "repeat_callers", "requests", "lead_value", "priced_leads",
                       "avg_lead_value")  # fmt: skip
# After them with a comparison (`--compare`): the change of requests (a fraction of the compared period's) and of
# the answer rate (percentage points), each empty where too few records to compare.
CHANGE_COLUMNS = ("requests_change", "answer_rate_change_pp")
# Then, always last, the money (dashboard/money.py; docs/metrics.md, "Money"): roubles to 2 decimals, romi and drr
# fractions to 4; empty when the account has no costs, costs cannot follow the view, or by first touch.
MONEY_ROUBLES = ("cost", "cpl", "cost_per_answered", "cpa")
MONEY_FRACTIONS = ("romi", "drr")
DAILY_COLUMNS = ("period_start", *REPORT_COLUMNS)
SPEED_COLUMNS = ("callbacks_measured", "median_seconds", "p90_seconds", "within_30s_share", "within_5min_share",
                 "missed_callers", "recovery_rate")  # fmt: skip
CHAT_COLUMNS = ("operator", "sessions", "messages", "unanswered_sessions", "first_response_median_seconds",
                "first_response_p90_seconds")  # fmt: skip


def _rates(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """Fractions to 4 decimals, seconds to 1: what a spreadsheet needs, without float noise."""
    return frame.with_columns(pl.col(n).round(4) for n in names if n in frame.columns)


@dataclass(frozen=True)
class Breakdown:
    """What an attribution table is by: a dimension, a second one for a cross-tab, and a comparison (`compare`, of
    the period chosen as `preset` when it was)."""

    by: str
    then: str | None = None
    compare: str = "none"
    preset: str | None = None


def attribution(metrics: Metrics, filters: Filters, breakdown: Breakdown) -> pl.DataFrame:
    """Record metrics by a dimension (and a second one), by requests descending; with a comparison, the change per
    row; then the money (MONEY_COLUMNS, empty when the account has no costs or costs cannot follow the view).
    When money is shown the rows are `Money.by`'s: one per match key, and the spend that brought no call."""
    by, then, compare, preset = breakdown.by, breakdown.then, breakdown.compare, breakdown.preset
    keys = [by] + ([then] if then else [])
    compared = compare != "none"
    if Money.beside(metrics).shown(filters, by, then):
        rows, changes = metrics.together(
            lambda m: Money.beside(m).by(filters, by, then),
            lambda m: Money.beside(m).compare_by(filters, compare, by, then, preset) if compared else None,
        )
    else:
        breakdown_rows, changes = metrics.together(
            lambda m: m.breakdown(filters, by, then),
            lambda m: m.compare_by(filters, compare, by, then, preset) if compared else None,
        )
        rows = _moneyless(breakdown_rows)
    table = _rounded(rows.select(*keys, *ATTRIBUTION_COLUMNS, *MONEY_COLUMNS))
    if changes is not None:
        points = (pl.col("answer_rate_change") * 100).round(2).alias("answer_rate_change_pp")
        changes = changes.select(*keys, pl.col("requests_change").round(4), points)
        table = table.join(changes, on=keys, how="left", maintain_order="left")
    return table.select(pl.exclude(MONEY_COLUMNS), *MONEY_COLUMNS)  # later columns at the end, never between


def spend(metrics: Metrics, filters: Filters, bys: tuple[str, ...]) -> tuple[pl.DataFrame, ...]:
    """The rows and numbers a money chart draws of `attribution` by each of `bys` (of money.COST_DIMENSIONS): the
    dimension, requests, answered, priced leads, lead value and MONEY_COLUMNS, rounded as there; only when money
    is shown (`Money.shown`), and without the callers, which a chart never draws."""
    money = [pl.col(name).round(4 if name in MONEY_FRACTIONS else 2) for name in MONEY_COLUMNS]
    return tuple(
        rows.select(by, "requests", "answered", "priced_leads", "lead_value", *money)
        for by, rows in zip(bys, Money.beside(metrics).spent_by(filters, bys), strict=True)
    )


def _moneyless(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the money columns empty (no costs, or a view costs cannot follow; by first touch)."""
    return frame.with_columns(pl.lit(None, pl.Float64).alias(name) for name in MONEY_COLUMNS)


def first_touch(metrics: Metrics, filters: Filters, breakdown: Breakdown) -> pl.DataFrame:
    """The callers of the view, each once, under the value of the dimension(s) on their first request in the cache;
    by callers descending (no comparison)."""
    keys = [breakdown.by] + ([breakdown.then] if breakdown.then else [])
    frame = metrics.first_touch(filters, breakdown.by, breakdown.then).select(*keys, *FIRST_TOUCH_COLUMNS)
    # The money columns are there, always empty: a day's spend cannot be set against callers by their first touch.
    return _moneyless(frame.with_columns(pl.col("avg_lead_value").round(2)))


def daily(metrics: Metrics, filters: Filters, grain: str = "day") -> pl.DataFrame:
    """Requests, answers and lead value per local day, week or month, no gaps."""
    return _rounded(metrics.series(filters, grain).select(DAILY_COLUMNS))


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """The report columns as documented: a rate to 4 decimals, seconds to 1, an average of roubles to 2 (and the
    money's roubles to 2, its romi and drr fractions to 4, when there)."""
    roubles = [name for name in ("avg_lead_value", *MONEY_ROUBLES) if name in frame.columns]
    return _rates(frame, "answer_rate", *MONEY_FRACTIONS).with_columns(
        pl.col("avg_talk_seconds", "median_talk_seconds").round(1), pl.col(roubles).round(2)
    )


def speed(metrics: Metrics, filters: Filters, by: str | None = None) -> pl.DataFrame:
    """Callback speed (seconds from request to call, not deferred) overall or by a dimension, with the recovery of
    the missed callers there (docs/metrics.md, "Callers and lost leads")."""
    lost = LostLeads.beside(metrics)
    if by:
        frame = lost.speed_by(filters, by)
    else:
        recovery = pl.DataFrame([lost.summary(filters)]).select("missed_callers", "recovery_rate")
        frame = pl.concat([metrics.speed_by(filters), recovery], how="horizontal")
    frame = frame.rename(
        {
            "speed_measured": "callbacks_measured",
            "speed_median_seconds": "median_seconds",
            "speed_p90_seconds": "p90_seconds",
        }
    )
    keys = [by] if by else []
    shares = ("within_30s_share", "within_5min_share", "recovery_rate")
    return _rates(frame.select(*keys, *SPEED_COLUMNS), *shares).with_columns(
        pl.col("median_seconds", "p90_seconds").round(1)
    )


def lost_leads(lost: LostLeads, filters: Filters, *, only_lost: bool = False) -> pl.DataFrame:
    """A row per phone with a missed request (only the lost ones: not reached, not marked), newest miss first:
    the columns of docs/metrics.md, `reached` as yes/no and `last_missed_at` as local `YYYY-MM-DD HH:MM:SS`, then
    the phone's mark, who made it and when (local)."""
    frame = lost.callers_with_misses(filters)
    if only_lost:
        frame = frame.filter(~pl.col("reached") & pl.col("mark").is_null())
    moments = ("last_missed_at", "marked_at")
    return frame.select(*LOST_LEADS_COLUMNS, "mark", "marked_by", "marked_at").with_columns(
        pl.col(*moments).dt.strftime(DATETIME_FORMAT),
        pl.when(pl.col("reached")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("reached"),
    )


def chats(metrics: Metrics, filters: Filters) -> pl.DataFrame:
    """Chat sessions, messages, unanswered sessions and first-response times by operator."""
    frame = metrics.chat_operators(filters).rename(
        {"first_response_median": "first_response_median_seconds", "first_response_p90": "first_response_p90_seconds"}
    )
    return frame.select(CHAT_COLUMNS).with_columns(
        pl.col("first_response_median_seconds", "first_response_p90_seconds").round(1)
    )
