"""Charts built whole from dicts (a page rerun's own time) are the figures they were when built a property at a
time: `to_dict` equal, every number, word, colour and format. Each `..._as_before` is the old construction, kept
here as the reference."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import charts
from dashboard.charts import LABELS, Language, language_of
from dashboard.display import visible

EXAMPLES = settings(max_examples=40, deadline=None)
LANGUAGES = st.sampled_from(["en", "ru", "ru-RU", "de"])
CHANNELS = [None, "paid_search", "organic", "direct", "email", "social", "referral", "other", "=cmd|'/C calc'!A0",
            "a\u202etxt", "Канал"]  # fmt: skip


def no_data_as_before(title: str, language: Language) -> go.Figure:
    """`charts._no_data` as it was built: an empty figure, its layout, an annotation and both axes updated."""
    figure = charts._layout(go.Figure(), language, title)
    figure.add_annotation(
        text=LABELS[language]["no_data"], xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font={"size": 16}
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def category_axis_as_before(figure: go.Figure, labels: Any, title: str) -> None:
    """`charts._category_axis` as it was: the y axis updated a property at a time, then the height."""
    figure.update_yaxes(
        type="category", tickmode="array", tickvals=labels.full, ticktext=labels.short, autorange="reversed",
        automargin=True, title_text=title,
    )  # fmt: skip
    figure.update_layout(height=max(320, 140 + 26 * len(labels.full)))


def paired_bars_as_before(
    frame: pl.DataFrame, labels: Any, columns: Any, customdata: list[list[str]], hover: str, language: Language
) -> go.Figure:
    """`charts._paired_bars` as it was: a `go.Bar` per column, then the bar mode updated."""
    bars = [
        go.Bar(x=frame[column].to_list(), y=labels.full, orientation="h", name=LABELS[language][column],
               marker_color=colour, customdata=customdata, hovertemplate=hover)
        for column, colour in columns
    ]  # fmt: skip
    return go.Figure(bars).update_layout(barmode="group")


def lost_per_day_as_before(frame: pl.DataFrame, lang: str) -> go.Figure:
    """`charts.lost_per_day` as it was built: a `go.Bar` per channel, updated, then the layout in three updates."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty() or not (frame["lost"].sum() or 0):
        return no_data_as_before(text["title_lost_per_day"], language)
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
        legend_title_side="left",  # since the title sits beside the channels, no longer above them
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
        return no_data_as_before(text["title_first_response"], language)
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
    figure = paired_bars_as_before(frame, labels, pairs, customdata, hover, language)
    charts._layout(figure, language, text["title_first_response"])
    category_axis_as_before(figure, labels, text["operator"])
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


# The Attribution page's charts ------------------------------------------------------------------------------------


def bars_by_as_before(frame: pl.DataFrame, dimension: str, lang: str, chart: Any) -> go.Figure:
    """`charts._bars_by` (answer rate, lead value, callers by first touch) as it was: a `go.Bar`, then the layout,
    the category axis and the value axis updated."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty():
        return no_data_as_before(text[chart.title], language)
    labels = charts._category_labels(frame[dimension], dimension, language)
    bar = go.Bar(
        x=frame[chart.value].to_list(), y=labels.full, orientation="h",
        marker_color=charts._bar_colours(frame[dimension], dimension),
        customdata=charts._customdata(labels.full, *(shown(frame[column], language) for column, shown in chart.hover)),
        hovertemplate=charts._hover([text[column] for column, _ in chart.hover]),
    )  # fmt: skip
    figure = charts._layout(go.Figure(bar), language, text[chart.title])
    category_axis_as_before(figure, labels, charts.dimension_name(dimension, language))
    figure.update_xaxes(title_text=text[chart.axis_title], **chart.axis(language))
    return figure


def money_chart_as_before(frame: pl.DataFrame, dimension: str, lang: str, value: str) -> go.Figure:
    """`charts.cost_vs_lead_value` (value "lead_value") or `charts.romi_by` (value "romi") as it was built."""
    language = language_of(lang)
    text = LABELS[language]
    title = "title_cost_vs_lead_value" if value == "lead_value" else "title_romi_by_campaign"
    shown = charts._spent(frame, dimension, value)
    if shown.is_empty():
        return no_data_as_before(text[title], language)
    labels = charts._category_labels(shown[dimension], dimension, language)
    customdata, hover = charts._money_hover(shown, labels, language)
    if value == "lead_value":
        pairs = (("cost", charts._LIGHT_NEUTRAL), ("lead_value", charts._NEUTRAL))
        figure = paired_bars_as_before(shown, labels, pairs, customdata, hover, language)
        figure.update_xaxes(title_text=text["cost_axis"], **charts._count_axis())
    else:
        romi = shown["romi"].to_list()
        bar = go.Bar(
            x=[each * 100 for each in romi], y=labels.full, orientation="h",
            marker_color=[charts._LOSS if each < 0 else charts._NEUTRAL for each in romi],
            customdata=customdata, hovertemplate=hover,
        )  # fmt: skip
        figure = go.Figure(bar).update_xaxes(
            title_text=text["romi_axis"], zeroline=True, zerolinecolor=charts._RATE_LINE, **charts._PLAIN_NUMBERS
        )
    charts._layout(figure, language, text[title])
    category_axis_as_before(figure, labels, charts.dimension_name(dimension, language))
    return figure


# Visitor text as it arrives: markup, formulas, bidi overrides, numbers, long unicode, empty.
HOSTILE = ["<b>bold</b>", "=1+1", "=HYPERLINK(\"http://x\")", "a & b <br>", "a\u202etxt", "2024", "15", "",
           "Ж" * 60 + "🙂", "google", "yandex", "(none)"]  # fmt: skip
VALUES = st.none() | st.sampled_from(HOSTILE) | st.text(max_size=50)
# Dimensions whose codes are put in words (channel, call_status, type, device_type) and free text ones.
BAR_DIMENSIONS = st.sampled_from(["channel", "utm_source", "utm_campaign", "call_status", "type", "device_type",
                                  "city", "search_phrase", "referrer_host", "no_such_dimension"])  # fmt: skip
CODES: dict[str, list[str | None]] = {
    "channel": CHANNELS, "call_status": ["answered", "missed", None], "type": ["call", "callback", "chat"],
    "device_type": ["desktop", "mobile", None],
}  # fmt: skip
COUNTS = st.none() | st.integers(0, 10**9)
MONEY = st.none() | st.floats(-(10**9), 10**9, allow_nan=False)
RATES = st.none() | st.floats(0, 1)
BARS_BY = {"answer_rate_by": charts._ANSWER_RATE_BY, "lead_value_by": charts._LEAD_VALUE_BY,
           "callers_first_touch": charts._CALLERS_FIRST_TOUCH}  # fmt: skip
BAR_COLUMNS = {"requests": pl.Int64, "callbacks": pl.Int64, "answered": pl.Int64, "answer_rate": pl.Float64,
               "lead_value": pl.Float64, "priced_leads": pl.Int64, "avg_lead_value": pl.Float64, "callers": pl.Int64,
               "new_callers": pl.Int64, "repeat_callers": pl.Int64}  # fmt: skip


@st.composite
def bar_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, str]:
    """An Attribution chart frame (`Metrics.requests_by` or first touch) by a dimension, up to CHART_LIMIT rows."""
    dimension = draw(BAR_DIMENSIONS)
    values = st.sampled_from(CODES[dimension]) | VALUES if dimension in CODES else VALUES
    numbers = [RATES if column == "answer_rate" else MONEY if kind == pl.Float64 else COUNTS
               for column, kind in BAR_COLUMNS.items()]  # fmt: skip
    rows = draw(st.lists(st.tuples(values, *numbers), max_size=20))
    schema = {dimension: pl.String, **BAR_COLUMNS}
    return pl.DataFrame(rows, schema=schema, orient="row"), dimension


@EXAMPLES
@given(bar_frames(), st.sampled_from(sorted(BARS_BY)), LANGUAGES)
def test_attribution_bars_are_the_figures_they_were(frame_by: tuple[pl.DataFrame, str], chart: str, lang: str) -> None:
    frame, dimension = frame_by
    expected = bars_by_as_before(frame, dimension, lang, BARS_BY[chart]).to_dict()
    assert getattr(charts, chart)(frame, dimension, lang).to_dict() == expected


@st.composite
def money_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, str]:
    """An Attribution spend frame by a UTM dimension (`Spend.by_source`, `by_campaign`), with or without costs."""
    dimension = draw(st.sampled_from(["utm_source", "utm_campaign", "channel"]))
    rows = draw(st.lists(st.tuples(VALUES, MONEY, MONEY, MONEY, COUNTS), max_size=30))
    schema = {dimension: pl.String, "cost": pl.Float64, "lead_value": pl.Float64, "romi": pl.Float64,
              "requests": pl.Int64}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return (frame.drop("cost") if draw(st.booleans()) else frame), dimension  # without costs: no data


@EXAMPLES
@given(money_frames(), st.sampled_from(["lead_value", "romi"]), LANGUAGES)
def test_attribution_money_charts_are_the_figures_they_were(
    frame_by: tuple[pl.DataFrame, str], value: str, lang: str
) -> None:
    frame, dimension = frame_by
    chart = charts.cost_vs_lead_value if value == "lead_value" else charts.romi_by
    expected = money_chart_as_before(frame, dimension, lang, value).to_dict()
    assert chart(frame, dimension, lang).to_dict() == expected


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_attribution_charts_of_nothing_are_the_figures_they_were(lang: str) -> None:
    bars = pl.DataFrame(schema={"utm_source": pl.String, **BAR_COLUMNS})
    money = pl.DataFrame(schema={"utm_campaign": pl.String, "cost": pl.Float64, "lead_value": pl.Float64,
                                 "romi": pl.Float64, "requests": pl.Int64})  # fmt: skip
    for name, chart in BARS_BY.items():
        expected = bars_by_as_before(bars, "utm_source", lang, chart).to_dict()
        assert getattr(charts, name)(bars, "utm_source", lang).to_dict() == expected
    for value, draw in (("lead_value", charts.cost_vs_lead_value), ("romi", charts.romi_by)):
        for frame in (money, money.drop("cost")):
            expected = money_chart_as_before(frame, "utm_campaign", lang, value).to_dict()
            assert draw(frame, "utm_campaign", lang).to_dict() == expected
