"""Overview: the headline numbers against the compared period, calls per day, channel mix, staffing holes."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, i18n, money
from dashboard.ui.agency import show_all_accounts
from dashboard.ui.comparison import compared_with
from dashboard.ui.freshness import last_synced_text, show_still_loading
from dashboard.ui.money import blocked_note, no_costs_hint
from dashboard.ui.session import current_view, get_or_compute, open_metrics

view = current_view()
lang = view.lang
if view.together:  # "All accounts": the accounts summed and the agency's table
    show_all_accounts(view)
    st.stop()
st.title(i18n.text("page_overview", lang))
with open_metrics(view) as metrics:
    asked = (view.filters, view.comparison, view.preset)
    comparison = metrics.comparing(*asked)
    costs_stored = money.Money.beside(metrics).has_costs()
    # The page's independent questions, asked in one round.
    headlines, (series, channels, matrix), ours, *money_headlines = metrics.together(
        lambda m: m.compare(*asked),
        lambda m: m.overview(view.filters),  # calls per day, channel mix and weekday x hour, in one pass
        lambda m: m.ours(view.filters),
        *([lambda m: money.Money.beside(m).compare(*asked)] if costs_stored else []),
    )
compared = {row["metric"]: row for row in headlines.iter_rows(named=True)}
spent = {row["metric"]: row for row in money_headlines[0].iter_rows(named=True)} if money_headlines else {}
show_still_loading(view, comparison.other)
st.caption(last_synced_text(view))

if not compared["requests"]["current"]:
    st.info(i18n.text("no_calls", lang), icon=":material/info:")


def _metric(
    column: st.delta_generator.DeltaGenerator,
    key: str,
    metric: str,
    shown: str,
    *,
    rows: dict[str, dict[str, Any]] = compared,
    **options: object,
) -> None:
    row = rows[metric]
    as_points = metric in ("answer_rate", "within_30s_share", "romi")
    delta = i18n.change(row["current"], row["previous"], lang, as_points=as_points, comparable=row["comparable"])
    if i18n.is_neutral(delta):  # ±0 or too few to compare: neither good nor bad news
        options |= {"delta_color": "off", "delta_arrow": "off"}
    column.metric(i18n.text(key, lang), shown, delta, help=i18n.help_text(metric, lang), **options)  # type: ignore[arg-type]


# Two rows of three: five numbers and their changes in one row are cut off on a laptop's screen.
cells = [*st.columns(3), *st.columns(3)]
_metric(cells[0], "requests", "requests", i18n.integer(compared["requests"]["current"], lang))
_metric(cells[1], "answer_rate", "answer_rate", i18n.percent(compared["answer_rate"]["current"], lang))
_metric(cells[2], "speed_median", "speed_median_seconds",
        i18n.seconds(compared["speed_median_seconds"]["current"], lang), delta_color="inverse")  # fmt: skip
_metric(cells[3], "within_30s", "within_30s_share", i18n.percent(compared["within_30s_share"]["current"], lang))
_metric(cells[4], "lead_value", "lead_value", i18n.roubles(compared["lead_value"]["current"], lang))
said = compared_with(view, comparison)
if said:
    st.caption(said)
pending = int(compared["pending"]["current"] or 0)
cells[5].metric(i18n.text("pending_headline", lang), i18n.integer(pending, lang), help=i18n.help_text("pending", lang))
if pending:
    st.caption(i18n.plural(pending, "pending_callbacks", lang))
# Who is behind the requests: unique phones, and whether they called before the period.
for column, metric in zip(st.columns(3), ("callers", "new_callers", "repeat_callers"), strict=True):
    _metric(column, f"{metric}_headline", metric, i18n.integer(compared[metric]["current"], lang))
if ours:
    st.caption(i18n.plural(ours, "ours_left_out", lang))
# The money of the view: what the ads cost, a request's cost and what they returned, against the same comparison.
if spent:
    spend_cell, cpl_cell, romi_cell = st.columns(3)
    _metric(spend_cell, "spend_headline", "cost", i18n.roubles(spent["cost"]["current"], lang), rows=spent,
            delta_color="off")  # fmt: skip
    _metric(cpl_cell, "cpl_headline", "cpl", i18n.roubles(spent["cpl"]["current"], lang), rows=spent,
            delta_color="inverse")  # fmt: skip
    _metric(romi_cell, "romi_headline", "romi", i18n.percent(spent["romi"]["current"], lang), rows=spent)
    blocked = money.blocked_by(view.filters)
    if blocked:
        blocked_note(blocked, lang)
else:
    no_costs_hint(lang)

# Charts are memoized like the numbers (their keys hold the filters, and so the moment they are for): building one
# costs more than looking it up.
by_day = get_or_compute(view, ("requests_by_day", view.filters, lang), lambda: charts.requests_by_day(series, lang))
mix = get_or_compute(view, ("channel_mix", view.filters, lang), lambda: charts.channel_mix(channels, lang))
heat = get_or_compute(
    view, ("heatmap", view.filters, lang), lambda: charts.weekday_hour_heatmap(matrix, "answer_rate", lang=lang)
)
# Vega-Lite, not plotly: a new visitor's browser has a far smaller library to load before the first chart (charts.py).
st.vega_lite_chart(spec=by_day, key="chart_requests_by_day", width="stretch")
left, right = st.columns(2)
left.vega_lite_chart(spec=mix, key="chart_channel_mix", width="stretch")
right.vega_lite_chart(spec=heat, key="chart_heatmap", width="stretch")
