# ruff: noqa: RUF001 - the expected labels are Russian.
"""The charts show the metric frames as a marketer expects: named traces in their language, the numbers given, the
same colour for a channel everywhere, a clear message when there is nothing, and visitor text as text only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard import charts
from dashboard.charts import (
    AXIS_LABEL_LIMIT,
    CHANNEL_COLOURS,
    CHANNEL_NAMES,
    LABELS,
    Spec,
    answer_rate_by,
    callback_speed_histogram,
    channel_mix,
    lead_value_by,
    operator_first_response,
    plain,
    requests_by_day,
    talk_duration_histogram,
    weekday_hour_heatmap,
)
from dashboard.dimensions import DIMENSIONS

SCRIPT = '<a href="javascript:alert(1)">x</a>'
ESCAPED_SCRIPT = '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'


def days_frame(count_type: type[pl.DataType] = pl.Int64) -> pl.DataFrame:
    counts = {"requests": [5, 2, 0], "callbacks": [4, 1, 0], "answered": [3, 0, 0], "missed": [1, 1, 0]}
    return pl.DataFrame(
        {
            "period_start": [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)],
            **counts,
            "answer_rate": [0.75, 0.0, None],
            "lead_value": [3000, 0, 0],
        },
        schema_overrides=dict.fromkeys(counts, count_type),
    )


def breakdown(dimension: str, values: list[str | None], **columns: list[Any]) -> pl.DataFrame:
    """A frame shaped like metrics' breakdown, by requests descending; columns not given are filled in."""
    size = len(values)
    defaults: dict[str, list[Any]] = {
        "requests": list(range(10 * size, 0, -10)),
        "callbacks": [8] * size,
        "answered": [6] * size,
        "missed": [2] * size,
        "answer_rate": [0.75] * size,
        "avg_talk_seconds": [90.0] * size,
        "median_talk_seconds": [60.0] * size,
        "lead_value": [1000] * size,
        "priced_leads": [1] * size,
        "avg_lead_value": [1000.0] * size,
    }
    return pl.DataFrame({dimension: values, **defaults, **columns}, schema_overrides={"avg_lead_value": pl.Float64})


def operators_frame(names: list[str | None]) -> pl.DataFrame:
    size = len(names)
    return pl.DataFrame(
        {
            "operator": names,
            "sessions": [10] * size,
            "messages": [40] * size,
            "unanswered_sessions": [1] * size,
            "first_response_median": [12.0, None][:size] + [5.0] * (size - 2),
            "first_response_p90": [45.0, None][:size] + [20.0] * (size - 2),
        },
        schema_overrides={"first_response_median": pl.Float64, "first_response_p90": pl.Float64},
    )


def week_frame() -> pl.DataFrame:
    """Two busy cells: Monday 09:00 (3 of 4 callbacks answered) and Sunday 23:00 (a request, no callback)."""
    return pl.DataFrame(
        {
            "weekday": [1, 7],
            "hour": [9, 23],
            "requests": [5, 1],
            "callbacks": [4, 0],
            "answered": [3, 0],
            "answer_rate": [0.75, None],
        },
        schema={
            "weekday": pl.Int32,
            "hour": pl.Int32,
            "requests": pl.UInt32,
            "callbacks": pl.UInt32,
            "answered": pl.UInt32,
            "answer_rate": pl.Float64,
        },
    )


def annotation_texts(figure: go.Figure) -> list[str]:
    return [annotation.text for annotation in figure.layout.annotations]


def strings_in(value: object) -> Iterator[str]:
    """Every string anywhere in a figure's JSON: names, labels, hover data, ticks."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def colours_by_label(labels: Sequence[str], colours: Sequence[str]) -> dict[str, str]:
    return dict(zip(labels, colours, strict=True))


# The Overview's charts are Vega-Lite specifications: their numbers are the rows of their inline data.


def rows(spec: Spec) -> list[dict[str, Any]]:
    return list(spec["data"]["values"])


def column(spec: Spec, name: str) -> list[Any]:
    return [row[name] for row in rows(spec)]


def units(spec: Spec) -> Iterator[Spec]:
    """The spec and every layer in it, depth first."""
    yield spec
    for layer in spec.get("layer", []):
        yield from units(layer)


def mark(unit: Spec) -> dict[str, Any]:
    """A unit's mark as a dict ("bar" is short for {"type": "bar"}); {} for a layer."""
    given = unit.get("mark", {})
    return {"type": given} if isinstance(given, str) else dict(given)


def encodings(spec: Spec, channel: str) -> list[dict[str, Any]]:
    """Every encoding of `channel` (x, y, color, ...) anywhere in the spec."""
    return [unit["encoding"][channel] for unit in units(spec) if channel in unit.get("encoding", {})]


def legend_names(spec: Spec) -> list[str]:
    """The names the legend of a layered chart lists, one per layer drawn in a colour of its own."""
    return [encoding["datum"] for encoding in encodings(spec, "color") if "datum" in encoding]


def utc_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


# Requests by day -----------------------------------------------------------------------------------------------


def rate_axis(spec: Spec) -> dict[str, Any]:
    (rate,) = {id(y): y for y in encodings(spec, "y") if y["field"] == "answer_rate"}.values()
    return dict(rate["axis"])


def in_order(texts: list[str], expression: str) -> bool:
    """Whether each text is written in `expression` as a string literal, in this order."""
    positions = [expression.find(f'"{text}"') for text in texts]
    return -1 not in positions and positions == sorted(positions)


@pytest.mark.parametrize("count_type", [pl.Int64, pl.UInt32])
def test_requests_by_day_plots_requests_answered_and_the_rate(count_type: type[pl.DataType]) -> None:
    spec = requests_by_day(days_frame(count_type))

    assert legend_names(spec) == ["Requests", "Answered", "Answer rate"]
    assert column(spec, "day") == [utc_ms(date(2026, 11, 1)), utc_ms(date(2026, 11, 2)), utc_ms(date(2026, 11, 3))]
    assert column(spec, "requests") == [5, 2, 0]
    assert column(spec, "answered") == [3, 0, 0]
    assert column(spec, "answer_rate") == [0.75, 0.0, None]  # a day without callbacks has no rate, not 0 %
    assert column(spec, "answer_rate_text") == ["75%", "0%", "—"]
    assert column(spec, "day_text") == ["Nov 1, 2026", "Nov 2, 2026", "Nov 3, 2026"]  # what the tooltip says
    assert spec["encoding"]["x"]["title"] == "Day"
    assert {y["axis"]["title"] for y in encodings(spec, "y") if y["field"] != "answer_rate"} == {"Count"}
    assert rate_axis(spec)["values"] == [0, 0.25, 0.5, 0.75, 1]
    assert in_order(["0%", "25%", "50%", "75%", "100%"], rate_axis(spec)["labelExpr"])
    json.dumps(spec, allow_nan=False)  # what Streamlit sends


def test_requests_by_day_speaks_russian() -> None:
    spec = requests_by_day(days_frame(), lang="ru")

    assert legend_names(spec) == ["Заявки", "Принятые", "Доля принятых"]
    assert spec["encoding"]["x"]["title"] == "День"
    assert spec["title"]["text"] == "Заявки и принятые звонки по дням"
    assert column(spec, "day_text")[0] == "01.11.2026"
    assert in_order(["0\u00a0%", "25\u00a0%", "50\u00a0%", "75\u00a0%", "100\u00a0%"], rate_axis(spec)["labelExpr"])
    count_labels = {y["axis"]["labelExpr"] for y in encodings(spec, "y") if y["field"] != "answer_rate"}
    assert count_labels == {"replace(format(datum.value, ',d'), regexp(',', 'g'), \"\u00a0\")"}  # 12 000


def test_requests_by_day_puts_days_in_date_order() -> None:
    spec = requests_by_day(days_frame().reverse())

    assert column(spec, "requests") == [5, 2, 0]


def long_days_frame(rates: list[float | None]) -> pl.DataFrame:
    days = len(rates)
    return pl.DataFrame(
        {
            "period_start": [date.fromordinal(date(2026, 6, 1).toordinal() + day) for day in range(days)],
            "requests": [10] * days,
            "callbacks": [8] * days,
            "answered": [6] * days,
            "answer_rate": rates,
        }
    )


def drawn_dots(spec: Spec) -> list[tuple[Any, Any]]:
    """The (day, rate) points drawn as dots on the rate's axis: the rows the point layer keeps."""
    (points,) = [unit for unit in units(spec) if mark(unit).get("type") == "point"]
    assert points["transform"] == [{"filter": "datum.dot"}]
    return [(row["day"], row["answer_rate"]) for row in rows(spec) if row["dot"]]


def test_half_a_year_of_days_draws_the_rate_as_a_line_with_every_day_on_hover() -> None:
    rates: list[float | None] = [0.5] * 180
    rates[99:102] = [None, 0.25, None]  # a lone day between two without callbacks
    spec = requests_by_day(long_days_frame(rates), lang="ru")

    (line,) = [unit for unit in units(spec) if mark(unit).get("type") == "line"]
    assert line["mark"]["invalid"] == "break-paths-show-domains"  # a day without a rate breaks the line
    assert column(spec, "answer_rate") == rates  # every day's rate, on the tooltip too
    assert column(spec, "answer_rate_text")[100] == "25\u00a0%"
    # The lone day joins no segment: it alone keeps its dot (180 dots would cost the browser for nothing).
    assert drawn_dots(spec) == [(utc_ms(date(2026, 9, 9)), 0.25)]  # June 1 + 100 days
    assert legend_names(spec) == ["Заявки", "Принятые", "Доля принятых"]  # the dots have no legend entry of their own


def test_two_months_of_days_keep_a_dot_on_every_day() -> None:
    spec = requests_by_day(long_days_frame([0.5] * 62))

    assert len(drawn_dots(spec)) == 62
    assert legend_names(spec) == ["Requests", "Answered", "Answer rate"]


# Breakdowns ----------------------------------------------------------------------------------------------------


def test_answer_rate_by_keeps_the_frame_order_first_row_on_top() -> None:
    frame = breakdown("city", ["Москва", "Казань", "Омск"], answer_rate=[0.5, 1.0, None])

    figure = answer_rate_by(frame, "city")

    bars = figure.data[0]
    assert bars.orientation == "h"
    assert list(bars.y) == ["Москва", "Казань", "Омск"]
    assert list(bars.x) == [0.5, 1.0, None]
    assert figure.layout.yaxis.autorange == "reversed"
    assert figure.layout.yaxis.title.text == "City"
    assert figure.layout.xaxis.title.text == "Answer rate"
    assert list(figure.layout.xaxis.ticktext)[-1] == "100%"


def test_answer_rate_hover_shows_answered_of_callbacks() -> None:
    frame = breakdown("utm_source", ["yandex"], requests=[1200], callbacks=[1000], answered=[750], answer_rate=[0.75])

    figure = answer_rate_by(frame, "utm_source", lang="ru")

    bars = figure.data[0]
    assert list(bars.customdata[0]) == ["yandex", "1\u00a0200", "1\u00a0000", "750", "75\u00a0%"]
    assert "Обратные звонки: %{customdata[2]}" in bars.hovertemplate
    assert "Принятые: %{customdata[3]}" in bars.hovertemplate
    assert figure.layout.yaxis.title.text == "Источник (utm_source)"


def test_a_bidi_override_in_a_label_is_shown_not_obeyed() -> None:
    figure = answer_rate_by(breakdown("utm_source", ["photo\u202egpj.exe"]), "utm_source")

    assert list(figure.data[0].y) == ["photo[U+202E]gpj.exe"]  # reversed text would read "photoexe.jpg"


def test_numeric_looking_values_stay_categories() -> None:
    figure = answer_rate_by(breakdown("utm_content", ["2024", "15"]), "utm_content")

    assert figure.layout.yaxis.type == "category"
    assert list(figure.data[0].y) == ["2024", "15"]


def test_empty_dimension_values_read_as_not_set() -> None:
    figure = answer_rate_by(breakdown("utm_campaign", ["(none)", None]), "utm_campaign", lang="ru")

    assert list(figure.data[0].y) == ["(не задано)", "(не задано)"]


def test_channels_show_their_names_and_colours() -> None:
    frame = breakdown("channel", ["paid_search", "direct", "(none)"])

    figure = answer_rate_by(frame, "channel", lang="ru")

    assert list(figure.data[0].y) == ["Платный поиск", "Прямые заходы", "(не задано)"]
    assert list(figure.data[0].marker.color) == ["#0072B2", "#D55E00", "#000000"]
    assert figure.layout.yaxis.title.text == "Канал"


def test_a_channel_has_one_colour_in_every_chart() -> None:
    frame = breakdown("channel", ["organic_search", "social", "email", "referral", "paid_search", "other"])
    reordered = frame.reverse()

    rate = answer_rate_by(frame, "channel").data[0]
    value = lead_value_by(reordered, "channel").data[0]
    (mix,) = encodings(channel_mix(reordered), "color")

    rate_colours = colours_by_label(rate.y, rate.marker.color)
    assert colours_by_label(value.y, value.marker.color) == rate_colours
    assert colours_by_label(mix["scale"]["domain"], mix["scale"]["range"]) == rate_colours
    assert rate_colours["Paid search"] == CHANNEL_COLOURS["paid_search"]


def test_lead_value_by_plots_roubles_with_priced_leads_on_hover() -> None:
    frame = breakdown(
        "city", ["Москва", "Омск"], lead_value=[1_250_000, 0], priced_leads=[50, 0], avg_lead_value=[25_000.0, None]
    )

    figure = lead_value_by(frame, "city", lang="ru")

    bars = figure.data[0]
    assert list(bars.x) == [1_250_000, 0]
    assert list(bars.customdata[0])[:4] == ["Москва", "1\u00a0250\u00a0000\u00a0₽", "50", "25\u00a0000\u00a0₽"]
    assert list(bars.customdata[1])[3] == "—"  # no priced lead: no average, not "0 ₽"
    assert "Лиды с ценой" in bars.hovertemplate
    assert figure.layout.xaxis.title.text == "Сумма лидов, ₽"
    assert figure.layout.xaxis.exponentformat == "none"  # 1 250 000, never "1.25M"


def test_every_dimension_has_a_name_in_both_languages() -> None:
    dimensions = {
        "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer_type",
        "referrer_host", "landing_page", "search_phrase", "openstat_service", "openstat_campaign", "city",
        "device_type", "browser", "os", "widget", "department", "type", "call_status",
    }  # fmt: skip

    assert set(DIMENSIONS) == dimensions
    for dimension in dimensions:
        english, russian = charts.dimension_name(dimension, "en"), charts.dimension_name(dimension, "ru")
        assert dimension not in (english, russian) and english != russian, dimension


def test_every_label_and_channel_exists_in_both_languages() -> None:
    assert set(LABELS["en"]) == set(LABELS["ru"])
    assert set(CHANNEL_NAMES["en"]) == set(CHANNEL_NAMES["ru"]) == set(CHANNEL_COLOURS)
    assert CHANNEL_NAMES["ru"]["referral"] == "Переходы с сайтов"
    assert len(set(CHANNEL_COLOURS.values())) == len(CHANNEL_COLOURS)


# Channel mix and operators -------------------------------------------------------------------------------------


def test_channel_mix_shows_each_channels_share_of_requests() -> None:
    frame = breakdown("channel", ["paid_search", "organic_search", "email"], requests=[60, 30, 0])

    spec = channel_mix(frame, lang="ru")

    assert column(spec, "channel") == ["Платный поиск", "Органический поиск"]  # no requests, no slice
    assert column(spec, "requests") == [60, 30]
    assert column(spec, "position") == [0, 1]  # drawn clockwise in the frame's order, most requests first
    assert column(spec, "share_text") == ["67\u00a0%", "33\u00a0%"]
    (colour,) = encodings(spec, "color")
    assert colour["legend"]["title"] == "Каналы"
    assert colour["scale"]["domain"] == ["Платный поиск", "Органический поиск"]  # the legend's order too
    json.dumps(spec, allow_nan=False)


def test_operator_first_response_shows_median_and_p90() -> None:
    figure = operator_first_response(operators_frame(["Анна", "Борис"]), lang="ru")

    assert [trace.name for trace in figure.data] == ["Медиана", "90-й процентиль"]
    assert list(figure.data[0].y) == ["Анна", "Борис"]
    assert list(figure.data[0].x) == [12.0, None]
    assert list(figure.data[1].x) == [45.0, None]
    assert list(figure.data[0].customdata[1])[1:3] == ["—", "—"]
    assert figure.layout.xaxis.title.text == "Время первого ответа, с"
    assert figure.layout.yaxis.title.text == "Оператор"


# Weekday by hour -----------------------------------------------------------------------------------------------


def cells(spec: Spec) -> dict[tuple[str, int], dict[str, Any]]:
    return {(row["weekday"], row["hour"]): row for row in rows(spec)}


def test_heatmap_is_the_whole_week_with_monday_on_top() -> None:
    spec = weekday_hour_heatmap(week_frame())

    week = cells(spec)
    assert len(week) == len(rows(spec)) == 7 * 24
    assert spec["encoding"]["y"]["scale"]["domain"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]  # top down
    assert spec["encoding"]["x"]["scale"]["domain"] == list(range(24))
    assert week["Mon", 9]["value"] == 5
    assert week["Sun", 23]["value"] == 1
    assert week["Thu", 12]["value"] == 0  # a quiet hour had no requests


def test_heatmap_answer_rate_is_empty_where_nobody_was_called_back() -> None:
    spec = weekday_hour_heatmap(week_frame(), value="answer_rate", lang="ru")

    week = cells(spec)
    assert week["Пн", 9]["value"] == 0.75
    assert week["Вс", 23]["value"] is None  # a request but no callback
    assert week["Чт", 12]["value"] is None  # no request at all
    assert sum(row["value"] is not None for row in rows(spec)) == 1
    assert spec["encoding"]["y"]["scale"]["domain"][0] == "Пн"
    assert spec["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert "50\u00a0%" in spec["encoding"]["color"]["legend"]["labelExpr"]  # as Russian writes it
    hover = ["cell_text", "requests_text", "callbacks_text", "answered_text", "answer_rate_text"]
    assert [week["Пн", 9][field] for field in hover] == ["Пн, 09:00–10:00", "5", "4", "3", "75\u00a0%"]
    assert [line["field"] for line in spec["encoding"]["tooltip"]] == hover
    assert spec["encoding"]["tooltip"][0]["title"] == "День и час"


def test_heatmap_rejects_an_unknown_value() -> None:
    with pytest.raises(ValueError, match="answer_rate"):
        weekday_hour_heatmap(week_frame(), value="missed")  # type: ignore[arg-type]


# Distributions -------------------------------------------------------------------------------------------------


def test_callback_speed_overflow_bin_holds_ten_minutes_and_more() -> None:
    seconds = [3, 14, 15, 29, 30, 299, 599, 600, 601, 7200, None]

    figure = callback_speed_histogram(pl.DataFrame({"speed_seconds": seconds}, schema={"speed_seconds": pl.Int64}))

    counts = list(figure.data[0].y)
    assert counts[-1] == 3  # 600, 601 and 7200 seconds
    assert counts[:3] == [2, 2, 1]  # 0-15 s, 15-30 s, 30-45 s
    assert sum(counts) == 10  # every callback with a speed, once
    assert figure.layout.xaxis.ticktext[-1] == "≥ 10 min"
    assert figure.layout.xaxis.title.text == "Callback speed, s"


def test_callback_speed_marks_30_seconds_and_5_minutes() -> None:
    figure = callback_speed_histogram(pl.DataFrame({"speed_seconds": [10, 400]}), lang="ru")

    assert sorted(shape.x0 for shape in figure.layout.shapes) == [30, 300]
    assert set(annotation_texts(figure)) == {"30 с", "5 мин"}
    assert figure.layout.xaxis.ticktext[-1] == "≥ 10 мин"
    assert figure.layout.xaxis.title.text == "Скорость перезвона, с"


def test_talk_duration_overflow_bin_holds_long_calls() -> None:
    figure = talk_duration_histogram(pl.DataFrame({"talk_seconds": [20, 45, 610, 3600]}), lang="ru")

    counts = list(figure.data[0].y)
    assert counts[-1] == 2
    assert counts[:2] == [1, 1]
    assert figure.layout.xaxis.title.text == "Длительность разговора, с"
    assert figure.layout.yaxis.title.text == "Принятые звонки"


# Nothing to show -----------------------------------------------------------------------------------------------

EMPTY_CASES: list[tuple[str, Callable[[pl.DataFrame, str], go.Figure], pl.DataFrame]] = [
    ("answer_rate_by", lambda frame, lang: answer_rate_by(frame, "city", lang), breakdown("city", [])),
    ("lead_value_by", lambda frame, lang: lead_value_by(frame, "utm_term", lang), breakdown("utm_term", [])),
    ("speed", callback_speed_histogram, pl.DataFrame({"speed_seconds": []}, schema={"speed_seconds": pl.Int64})),
    ("talk", talk_duration_histogram, pl.DataFrame({"talk_seconds": [None]}, schema={"talk_seconds": pl.Int64})),
    ("operators", operator_first_response, operators_frame([]).head(0)),
]
EMPTY_OVERVIEW_CASES: list[tuple[str, Callable[[pl.DataFrame, str], Spec], pl.DataFrame]] = [
    ("requests_by_day", requests_by_day, days_frame().head(0)),
    ("requests_by_day zeros", requests_by_day, days_frame().with_columns(requests=pl.lit(0))),
    ("channel_mix", channel_mix, breakdown("channel", [])),
    ("heatmap", lambda frame, lang: weekday_hour_heatmap(frame, lang=lang), week_frame().head(0)),
    (
        "heatmap zeros",
        lambda frame, lang: weekday_hour_heatmap(frame, lang=lang),
        week_frame().with_columns(requests=0),
    ),
    ("no columns at all", channel_mix, pl.DataFrame()),
]


@pytest.mark.parametrize(("build", "frame"), [case[1:] for case in EMPTY_CASES], ids=[case[0] for case in EMPTY_CASES])
@pytest.mark.parametrize(("lang", "message"), [("en", "No data for this period"), ("ru", "Нет данных за этот период")])
def test_nothing_to_show_says_so(
    build: Callable[[pl.DataFrame, str], go.Figure], frame: pl.DataFrame, lang: str, message: str
) -> None:
    figure = build(frame, lang)

    assert annotation_texts(figure) == [message]
    assert figure.data == ()
    assert figure.layout.title.text  # the reader still knows which chart is empty
    json.loads(figure.to_json())


@pytest.mark.parametrize(
    ("build", "frame"), [case[1:] for case in EMPTY_OVERVIEW_CASES], ids=[case[0] for case in EMPTY_OVERVIEW_CASES]
)
@pytest.mark.parametrize(("lang", "message"), [("en", "No data for this period"), ("ru", "Нет данных за этот период")])
def test_an_overview_chart_with_nothing_to_show_says_so(
    build: Callable[[pl.DataFrame, str], Spec], frame: pl.DataFrame, lang: str, message: str
) -> None:
    spec = build(frame, lang)

    assert rows(spec) == [{"message": message}]  # the one thing drawn
    assert mark(spec)["type"] == "text" and "layer" not in spec
    assert spec["title"]["text"]  # the reader still knows which chart is empty


# Visitor text --------------------------------------------------------------------------------------------------


def test_plain_escapes_markup_once() -> None:
    assert plain(SCRIPT) == ESCAPED_SCRIPT
    assert plain("A&B <br> &lt;") == "A&amp;B &lt;br&gt; &amp;lt;"
    assert plain("Обычный текст") == "Обычный текст"


VISITOR_TEXT_CHARTS: dict[str, Callable[[str], go.Figure]] = {
    "utm_source": lambda text: answer_rate_by(breakdown("utm_source", [text, "yandex"]), "utm_source"),
    "search_phrase": lambda text: lead_value_by(breakdown("search_phrase", [text]), "search_phrase", lang="ru"),
    "unknown channel": lambda text: answer_rate_by(breakdown("channel", [text]), "channel"),
    "operator": lambda text: operator_first_response(operators_frame([text])),
}


@pytest.mark.parametrize("chart", VISITOR_TEXT_CHARTS.values(), ids=VISITOR_TEXT_CHARTS.keys())
def test_markup_in_visitor_text_is_shown_not_run(chart: Callable[[str], go.Figure]) -> None:
    figure = chart(SCRIPT)

    texts = list(strings_in(json.loads(figure.to_json())))  # read back: the JSON itself writes "<" as "\u003c"
    assert not [text for text in texts if "<a" in text or "</a>" in text]
    assert any(ESCAPED_SCRIPT in text for text in texts)


def test_markup_in_a_channel_name_reaches_the_channel_mix_as_the_text_itself() -> None:
    # Vega-Lite draws labels as SVG text and its tooltip escapes what it shows: escaping here would show "&lt;".
    spec = channel_mix(breakdown("channel", [SCRIPT, "photo\u202egpj.exe"]))

    assert column(spec, "channel") == [SCRIPT, "photo[U+202E]gpj.exe"]  # a bidi override shown, not obeyed
    assert ESCAPED_SCRIPT not in json.dumps(spec)


def test_long_labels_are_cut_on_the_axis_and_whole_on_hover() -> None:
    long = "<b>" + "очень длинная поисковая фраза " * 4
    figure = answer_rate_by(breakdown("search_phrase", [long]), "search_phrase", lang="ru")

    shown = figure.layout.yaxis.ticktext[0]
    assert shown == plain(long[:AXIS_LABEL_LIMIT]) + "…"
    assert figure.data[0].y[0] == plain(long)
    assert figure.data[0].customdata[0][0] == plain(long)
    assert list(figure.layout.yaxis.tickvals) == [plain(long)]


def test_labels_that_share_a_long_prefix_stay_separate_bars() -> None:
    prefix = "x" * AXIS_LABEL_LIMIT
    figure = answer_rate_by(breakdown("landing_page", [prefix + "/a", prefix + "/b"]), "landing_page")

    assert len(set(figure.data[0].y)) == 2
    assert list(figure.layout.yaxis.ticktext) == [prefix + "…", prefix + "…"]


# Language ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "separators"), [("en", ".,"), ("ru", ", "), ("ru-RU", ", "), ("de", ".,")])
def test_numbers_follow_the_language(lang: str, separators: str) -> None:
    figure = answer_rate_by(breakdown("city", ["Москва"]), "city", lang=lang)

    assert figure.layout.separators == separators


def test_an_unknown_language_falls_back_to_english() -> None:
    spec = requests_by_day(days_frame(), lang="fr")

    assert legend_names(spec) == ["Requests", "Answered", "Answer rate"]
    assert charts.language_of("fr") == "en"


# Lost leads ----------------------------------------------------------------------------------------------------


def lost_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "day": [date(2026, 11, 2), date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 1)],
            "channel": ["direct", "paid_search", "paid_search", None],
            "lost": [1, 2, 3, 1],
        }
    )


def test_lost_per_day_stacks_each_channel_in_its_colour_most_lost_first() -> None:
    figure = charts.lost_per_day(lost_frame(), lang="ru")

    assert figure.layout.barmode == "stack"
    assert [bar.name for bar in figure.data] == ["Платный поиск", "Прямые заходы", "(не задано)"]
    assert [bar.marker.color for bar in figure.data] == ["#0072B2", "#D55E00", "#000000"]
    paid = figure.data[0]
    assert list(paid.x) == [date(2026, 11, 1), date(2026, 11, 2)] and list(paid.y) == [2, 3]
    assert figure.layout.title.text == "Потерянные клиенты по дням и каналам"


def test_lost_per_day_without_lost_leads_says_so() -> None:
    empty = lost_frame().with_columns(pl.lit(0).alias("lost"))
    assert annotation_texts(charts.lost_per_day(empty)) == ["No data for this period"]
    assert annotation_texts(charts.lost_per_day(empty.clear(), lang="ru")) == ["Нет данных за этот период"]


# Money ---------------------------------------------------------------------------------------------------------


def money_frame(dimension: str, values: list[str | None], cost: list[float | None], value: list[float]) -> pl.DataFrame:
    """An attribution table's money part: cost, lead value and ROMI as the report computes them."""
    romi = [None if c in (None, 0) else (v - c) / c for c, v in zip(cost, value, strict=True)]
    return pl.DataFrame(
        {dimension: values, "requests": [len(values) - i for i in range(len(values))], "lead_value": value,
         "cost": cost, "romi": romi},
        schema_overrides={"cost": pl.Float64, "romi": pl.Float64, "lead_value": pl.Float64},
    )  # fmt: skip


def test_cost_vs_lead_value_pairs_spend_with_value_most_spend_first_without_unspent_sources() -> None:
    frame = money_frame("utm_source", ["google", "yandex", "vk", "email"], [500.0, 2000.0, 0.0, None],
                        [3000.0, 1000.0, 50.0, 900.0])  # fmt: skip
    figure = charts.cost_vs_lead_value(frame, lang="ru")

    cost, value = figure.data
    assert (cost.name, value.name) == ("Расход", "Сумма лидов")
    assert list(cost.y) == list(value.y) == ["yandex", "google"]  # no spend, no bar: vk (0) and email (none)
    assert list(cost.x) == [2000.0, 500.0] and list(value.x) == [1000.0, 3000.0]
    assert cost.customdata[0][1:4] == ["2\u00a0000\u00a0₽", "1\u00a0000\u00a0₽", "-50\u00a0%"]
    assert figure.layout.title.text == "Расход и сумма лидов по UTM source"


def test_romi_by_campaign_in_percent_a_loss_in_its_own_colour() -> None:
    frame = money_frame("utm_campaign", ["spring", "(none)", "autumn"], [100.0, 400.0, None], [250.0, 100.0, 70.0])
    figure = charts.romi_by(frame, lang="en")

    (bar,) = figure.data
    assert list(bar.y) == ["(not set)", "spring"]  # most spend first; a campaign with no cost has no ROMI
    assert list(bar.x) == [-75.0, 150.0]
    assert bar.marker.color[0] != bar.marker.color[1]  # the loss stands out
    assert [row[3] for row in bar.customdata] == ["-75%", "150%"]
    assert figure.layout.xaxis.title.text == "ROMI, %"


@pytest.mark.parametrize("build", [charts.cost_vs_lead_value, charts.romi_by])
def test_money_charts_without_spend_say_so(build: Callable[..., go.Figure]) -> None:
    no_costs = money_frame("utm_source", ["google"], [None], [100.0]).rename({"utm_source": "utm_campaign"})
    for frame in (no_costs, no_costs.drop("cost", "romi"), no_costs.head(0)):
        figure = build(frame, "utm_campaign", "ru")
        assert annotation_texts(figure) == ["Нет данных за этот период"]


def test_a_campaign_name_with_markup_is_shown_not_run() -> None:
    figure = charts.romi_by(money_frame("utm_campaign", [SCRIPT], [10.0], [20.0]))

    texts = list(strings_in(json.loads(figure.to_json())))
    assert not [text for text in texts if "<a" in text or "</a>" in text]
    assert any(ESCAPED_SCRIPT in text for text in texts)
