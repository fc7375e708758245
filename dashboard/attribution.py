"""The Attribution page's data: the report table, the frame its charts draw, clicked bars and the export's name.

No Streamlit here: the page places what these functions return, so the table it shows is the CLI's
`report attribution` and the export is that table, byte for byte what `to_csv_bytes` makes of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import polars as pl

from dashboard import reports
from dashboard.metrics import Filters, Metrics, Period

# Charts draw the values with the most requests; the table has every value.
CHART_LIMIT = 20
# What the page counts: every request under its own values, or each caller once under its first request's values.
COUNTS = ("requests", "first_touch")


@dataclass(frozen=True)
class Attribution:
    """One view of the page: the table (and export) by one or two dimensions, and the chart frame by the first."""

    by: str
    then: str | None
    table: pl.DataFrame  # `reports.attribution`: the dimension(s), `reports.ATTRIBUTION_COLUMNS`, the changes
    chart: pl.DataFrame  # `Metrics.requests_by` by `by` alone, at most CHART_LIMIT rows, by requests descending
    values: int  # how many values `by` has in the period, so the page can say when the charts show fewer
    # Counted by first touch: the table is `reports.first_touch` and the chart `Metrics.first_touch` by `by`.
    first_touch: bool = False

    @property
    def is_empty(self) -> bool:
        """No records in the period and filters."""
        return self.table.is_empty()

    def values_of(self, dimension: str) -> list[str]:
        """The table's values of one of its dimensions, in its order, each once."""
        return [str(value) for value in self.table[dimension].unique(maintain_order=True).to_list()]

    def clicked(self, point_indices: Iterable[object]) -> list[str]:
        """The values of `by` under the clicked bars of either chart."""
        return clicked(self.chart, self.by, point_indices)


def attribution(
    metrics: Metrics, filters: Filters, breakdown: reports.Breakdown, *, first_touch: bool = False
) -> Attribution:
    """The table by `by` (and `then`, unless it repeats `by`), the charts' frame by `by`, and with a comparison the
    change per row; with `first_touch`, each caller once under its first request's values (no comparison)."""
    by = breakdown.by
    second = breakdown.then if breakdown.then and breakdown.then != by else None
    if first_touch:
        touched = reports.first_touch(metrics, filters, replace(breakdown, then=second))
        firsts = metrics.first_touch(filters, by)
        return Attribution(by, second, touched, firsts.head(CHART_LIMIT), firsts.height, first_touch=True)
    table = reports.attribution(metrics, filters, replace(breakdown, then=second))
    # With one dimension the chart's rows are the table's rows (the report rounds, the chart shows exact values);
    # its bars draw requests, answers and lead value, never callers, so it does not count them.
    chart = metrics.requests_by(filters, by)
    return Attribution(by=by, then=second, table=table, chart=chart.head(CHART_LIMIT), values=chart.height)


def clicked(chart: pl.DataFrame, by: str, point_indices: Iterable[object]) -> list[str]:
    """The values of `by` under the clicked bars, in the chart's order; indices outside the chart are ignored."""
    column = chart[by].to_list() if by in chart.columns else []
    wanted = {index for index in point_indices if isinstance(index, int) and not isinstance(index, bool)}
    return [str(value) for position, value in enumerate(column) if position in wanted and value is not None]


def file_name(
    by: str, then: str | None, period: Period | None, *, excel: bool = False, first_touch: bool = False
) -> str:
    """`attribution-channel-2026-11-01-2026-11-30.csv` (`attribution-first-touch-…` by first touch); the `;`
    variant for Russian Excel says so."""
    parts = ["attribution", *(["first-touch"] if first_touch else []), by, *([then] if then else [])]
    parts += [period.first.isoformat(), period.last.isoformat()] if period else ["all"]
    return "-".join(parts) + ("-excel" if excel else "") + ".csv"


@dataclass(frozen=True)
class Spend:
    """What the page's money charts draw, by UTM source and by UTM campaign whatever the table is broken down by:
    the attribution table's rows, requests, answered, priced leads, lead value and money (`reports.spend`)."""

    by_source: pl.DataFrame
    by_campaign: pl.DataFrame


def spend_by_source_and_campaign(metrics: Metrics, filters: Filters) -> Spend:
    """The view's cost, lead value and ROMI by UTM source and by UTM campaign (spend with no calls included)."""
    by_source, by_campaign = reports.spend(metrics, filters, ("utm_source", "utm_campaign"))
    return Spend(by_source=by_source, by_campaign=by_campaign)
