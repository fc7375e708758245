"""Charts built whole from dicts (a page rerun's own time) are the figures they were when built a property at a
time: `to_dict` equal, every number, word, colour and format."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import charts
from dashboard.charts import LABELS, language_of
from dashboard.display import visible

EXAMPLES = settings(max_examples=40, deadline=None)
CHANNELS = [None, "paid_search", "organic", "direct", "email", "social", "referral", "other", "=cmd|'/C calc'!A0",
            "a\u202etxt", "Канал"]  # fmt: skip


def lost_per_day_as_before(frame: pl.DataFrame, lang: str) -> go.Figure:
    """`charts.lost_per_day` as it was built: a `go.Bar` per channel, updated, then the layout in three updates."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty() or not (frame["lost"].sum() or 0):
        return charts._no_data(text["title_lost_per_day"], language)
    bars = []
    for channel, days in charts._lost_by_channel(frame):  # the order of the channels is not what is compared
        name = charts.plain(visible(charts.channel_name(channel, language)))
        bar = go.Bar(
            x=days["day"].to_list(), y=days["lost"].to_list(), name=name,
            marker_color=charts._channel_colour(channel), customdata=charts._numbers(days["lost"], language),
            hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
        )  # fmt: skip
        bars.append(bar.update(hovertemplate=f"{name}: %{{customdata}}<extra></extra>"))
    figure = go.Figure(bars)
    figure.update_layout(
        title={"text": text["title_lost_per_day"]},
        separators=charts._SEPARATORS[language],
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    figure.update_layout(
        barmode="stack",
        hovermode="x unified",
        legend_title_text=text["channels"],
        xaxis={
            "title_text": text["day"],
            "tickformatstops": charts._DAY_TICK_FORMATS[language],
            "hoverformat": charts._DAY_HOVER_FORMATS[language],
        },
        yaxis={"title_text": text["lost_leads"], **charts._count_axis()},
    )
    return figure


def lost_frame(rows: list[tuple[int, Any, int | None]]) -> pl.DataFrame:
    start = date(2026, 9, 1)
    return pl.DataFrame(
        [(start + timedelta(days=day), channel, lost) for day, channel, lost in rows],
        schema={"day": pl.Date, "channel": pl.String, "lost": pl.Int64},
        orient="row",
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    "rows",
    [
        [],
        [(0, "direct", 0)],
        [(0, "direct", 3), (0, None, 2), (1, "email", 5), (2, "=cmd|'/C calc'!A0", 1_000_000), (2, None, None)],
        [(day, channel, day * 7 % 13) for day in range(90) for channel in CHANNELS],
    ],
    ids=["empty", "only zeros", "a few, unnamed and hostile channels", "a quarter"],
)
def test_lost_per_day_is_the_figure_it_was(rows: list[tuple[int, Any, int | None]], lang: str) -> None:
    frame = lost_frame(rows)
    assert charts.lost_per_day(frame, lang).to_dict() == lost_per_day_as_before(frame, lang).to_dict()


@EXAMPLES
@given(
    st.lists(st.tuples(st.integers(0, 120), st.sampled_from(CHANNELS), st.none() | st.integers(0, 10**9)),
             max_size=60),
    st.sampled_from(["en", "ru"]),
)  # fmt: skip
def test_lost_per_day_of_any_days_is_the_figure_it_was(rows: list[tuple[int, Any, int | None]], lang: str) -> None:
    frame = lost_frame(rows)
    assert charts.lost_per_day(frame, lang).to_dict() == lost_per_day_as_before(frame, lang).to_dict()


def operator_first_response_as_before(frame: pl.DataFrame, lang: str) -> go.Figure:
    """`charts.operator_first_response` as it was built: paired `go.Bar`s, then the layout and axes updated."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty():
        return charts._no_data(text["title_first_response"], language)
    labels = charts._category_labels(frame["operator"], "operator", language)
    customdata = charts._customdata(
        labels.full,
        charts._seconds(frame["first_response_median"], language),
        charts._seconds(frame["first_response_p90"], language),
        charts._numbers(frame["sessions"], language),
        charts._numbers(frame["messages"], language),
        charts._numbers(frame["unanswered_sessions"], language),
    )
    words = ["first_response_median", "first_response_p90", "sessions", "messages", "unanswered_sessions"]
    hover = charts._hover([text[word] for word in words])
    pairs = (("first_response_median", charts._NEUTRAL), ("first_response_p90", charts._LIGHT_NEUTRAL))
    figure = charts._paired_bars(frame, labels, pairs, customdata, hover, language)
    charts._layout(figure, language, text["title_first_response"])
    charts._category_axis(figure, labels, text["operator"])
    figure.update_xaxes(title_text=text["first_response_axis"], **charts._count_axis())
    return figure


OPERATORS = [None, "", "Анна", "op", "=HYPERLINK(1)", "a\u202etxt", "a very long operator name that is cut short"]


@EXAMPLES
@given(
    st.lists(
        st.tuples(st.sampled_from(OPERATORS) | st.text(max_size=8), st.integers(0, 10**6),
                  st.none() | st.floats(0, 10**6, allow_nan=False), st.none() | st.floats(0, 10**6, allow_nan=False)),
        max_size=25,
    ),
    st.sampled_from(["en", "ru"]),
)  # fmt: skip
def test_operator_first_response_is_the_figure_it_was(rows: list[tuple[Any, int, Any, Any]], lang: str) -> None:
    frame = pl.DataFrame(
        [(operator, sessions, sessions * 3, sessions // 2, median, p90) for operator, sessions, median, p90 in rows],
        schema={"operator": pl.String, "sessions": pl.Int64, "messages": pl.Int64, "unanswered_sessions": pl.Int64,
                "first_response_median": pl.Float64, "first_response_p90": pl.Float64},
        orient="row",
    )  # fmt: skip
    expected = operator_first_response_as_before(frame, lang).to_dict()
    assert charts.operator_first_response(frame, lang).to_dict() == expected
