"""The agency's Monday table: one row per account (requests, answer rate, lost leads, lead value, cost, ROMI) and a
total row, for "All accounts".

Each account's numbers are its own metrics (Metrics.headline, LostLeads.summary, Money.headline), asked in its own
time zone; the total sums their counts, and its rates are computed again from those sums, never averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboard.lost_leads import LostLeads
from dashboard.metrics import Filters, Metrics
from dashboard.money import MONEY_COLUMNS, Money, with_money

TABLE_COLUMNS = ("account", "requests", "answer_rate", "lost_leads", "lead_value", "cost", "romi")
TOTAL = "total"  # the `account` of the total row


@dataclass(frozen=True)
class AccountNumbers:
    """The counts one account's row rests on. `kopecks` is None when the account has no costs for the view."""

    requests: int
    answered: int
    missed: int
    priced_leads: int
    lost_leads: int
    lead_value: int
    kopecks: int | None


def account_numbers(metrics: Metrics, filters: Filters) -> AccountNumbers:
    """One account's counts for the view, from its own metrics."""
    headline, lost, money = metrics.together(
        lambda m: m.headline(filters),
        lambda m: LostLeads.beside(m).summary(filters),
        lambda m: Money.beside(m).headline(filters),
    )
    cost = money["cost"]
    return AccountNumbers(
        requests=int(headline["requests"] or 0),
        answered=int(headline["answered"] or 0),
        missed=int(headline["missed"] or 0),
        priced_leads=int(headline["priced_leads"] or 0),
        lost_leads=int(lost["lost"] or 0),
        lead_value=int(headline["lead_value"] or 0),
        kopecks=None if cost is None else round(cost * 100),
    )


def accounts_table(rows: Sequence[tuple[str, AccountNumbers]]) -> pl.DataFrame:
    """One row per account (named as given) and a last row `total`, in TABLE_COLUMNS. The total's cost is the sum
    of the accounts that have costs; its ROMI only when every account has them (else it would count lead value
    that no cost bought)."""
    counted = [{"account": name, **vars(numbers)} for name, numbers in rows]
    costs = [numbers.kopecks for _, numbers in rows]
    total = {"account": TOTAL, **{key: sum(int(row[key] or 0) for row in counted) for key in vars(rows[0][1])}}
    total["kopecks"] = None if all(kopecks is None for kopecks in costs) else sum(k or 0 for k in costs)
    frame = pl.DataFrame([*counted, total], schema_overrides={"kopecks": pl.Int64})
    # The answer rate as docs/metrics.md defines it: answered ÷ callbacks that are no longer pending (answered or
    # missed), here from summed counts.
    decided = pl.col("answered") + pl.col("missed")
    costed = pl.col("costed") & ((pl.col("account") != TOTAL) | pl.lit(None not in costs))
    frame = with_money(frame.with_columns(pl.col("kopecks").is_not_null().alias("costed"))).with_columns(
        pl.when(decided > 0).then(pl.col("answered") / decided).alias("answer_rate"),
        # No costs: no cost and no ROMI (not a cost of 0). The total has a ROMI only when every account has costs.
        pl.when(pl.col("costed")).then("cost").alias("cost"),
        pl.when(costed).then("romi").alias("romi"),
    )
    return frame.select(TABLE_COLUMNS)


# "All accounts" on Attribution: the counts per value summed over the accounts; the rates computed again from them.
SUMMED_COUNTS = ("requests", "callbacks", "answered", "missed", "pending", "lead_value", "priced_leads")
SUMMED_COLUMNS = (*SUMMED_COUNTS[:5], "answer_rate", "avg_talk_seconds", *SUMMED_COUNTS[5:], "avg_lead_value")


def summed_breakdown(frames: Sequence[pl.DataFrame], by: str) -> pl.DataFrame:
    """Several accounts' `reports.attribution` tables by one dimension (no comparison) as one: per value of `by`,
    the counts summed; the answer rate, mean talk time and mean lead value from the sums (a median cannot be summed,
    so none is given); the money (MONEY_COLUMNS) only when every account's table shows it, else empty."""
    costed = all(frame["cost"].null_count() < frame.height or frame.is_empty() for frame in frames)
    parts = [
        frame.select(
            pl.col(by).cast(pl.String),
            *(pl.col(name).fill_null(0).cast(pl.Int64) for name in SUMMED_COUNTS),
            (pl.col("avg_talk_seconds").fill_null(0) * pl.col("answered").fill_null(0)).alias("talk_seconds"),
            (pl.col("cost").fill_null(0) * 100).round().cast(pl.Int64).alias("kopecks"),
        )
        for frame in frames
    ]
    summed = pl.concat(parts).group_by(by).agg(pl.all().sum())
    decided = pl.col("answered") + pl.col("missed")
    summed = summed.with_columns(
        pl.when(decided > 0).then(pl.col("answered") / decided).alias("answer_rate"),
        pl.when(pl.col("answered") > 0).then(pl.col("talk_seconds") / pl.col("answered")).alias("avg_talk_seconds"),
        pl.when(pl.col("priced_leads") > 0).then(pl.col("lead_value") / pl.col("priced_leads")).alias("avg_lead_value"),
    )
    money = with_money(summed)
    if not costed:
        money = money.with_columns(pl.lit(None, pl.Float64).alias(name) for name in MONEY_COLUMNS)
    ordered = money.sort(["requests", by], descending=[True, False], nulls_last=True)
    return ordered.select(by, *SUMMED_COLUMNS, *MONEY_COLUMNS)
