# ruff: noqa: RUF001 - the labels are Russian and the bin ranges use an en dash; both are meant.
"""Charts from the metric frames, in English or Russian; no Streamlit here, so pages only place them. The Overview's
three are Vega-Lite specifications (see "Vega-Lite: the Overview's charts" for why), the others plotly figures.

Plotly draws tags such as `<b>`, `<br>` and `<a href>` in any text it shows, so visitor text (UTM values, cities,
operators, search phrases) reaches a plotly figure only through `plain`. Values shown on hover are formatted here, in
the language, so a missing value reads as a dash instead of plotly's raw placeholder.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

import plotly.graph_objects as go
import polars as pl

from dashboard import dimensions, i18n
from dashboard.display import visible

# Import pandas whole before any figure is built: plotly checks sys.modules for it, and a pandas half-imported by
# another session's thread crashed a figure under load.
importlib.import_module("pandas")

Language = Literal["en", "ru"]
HeatmapValue = Literal["requests", "answer_rate"]

LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru")
AXIS_LABEL_LIMIT: Final = 40  # longer category labels are cut on axes; hover shows them whole
DOTTED_DAYS: Final = 62  # up to two months of days, each day's answer rate is a dot on its line
EMPTY_VALUE: Final = "(none)"  # how metrics names the group of empty values (and the channel of none)

LABELS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "no_data": "No data for this period",
        "not_set": i18n.NOT_SET["en"],
        "requests": "Requests",
        "callbacks": "Callbacks",
        "answered": "Answered",
        "answer_rate": "Answer rate",
        "lead_value": "Lead value",
        "lead_value_axis": "Lead value, ₽",
        "priced_leads": "Priced leads",
        "avg_lead_value": "Average lead value",
        "share": "Share",
        "day": "Day",
        "count": "Count",
        "weekday": "Day of week",
        "hour": "Hour",
        "weekday_hour": "Day and hour",
        "channels": "Channels",
        "operator": "Operator",
        "sessions": "Chats",
        "messages": "Messages",
        "unanswered_sessions": "Chats without an answer",
        "first_response_axis": "First response, s",
        "first_response_median": "Median",
        "first_response_p90": "90th percentile",
        "callback_speed_axis": "Callback speed, s",
        "talk_duration_axis": "Talk duration, s",
        "answered_calls": "Answered calls",
        "seconds": "s",
        "minutes": "min",
        "title_requests_by_day": "Requests and answered calls by day",
        "title_answer_rate": "Answer rate",
        "title_lead_value": "Lead value",
        "title_heatmap_requests": "Requests by day of week and hour",
        "title_heatmap_answer_rate": "Answer rate by day of week and hour",
        "title_callback_speed": "Callback speed",
        "title_talk_duration": "Talk duration",
        "title_channel_mix": "Requests by channel",
        "title_first_response": "Operators' first response in chats",
        "weekday_1": "Mon",
        "weekday_2": "Tue",
        "weekday_3": "Wed",
        "weekday_4": "Thu",
        "weekday_5": "Fri",
        "weekday_6": "Sat",
        "weekday_7": "Sun",
        "lost_leads": "Lost leads",
        "title_lost_per_day": "Lost leads by day and channel",
        "callers": "Callers",
        "new_callers": "New callers",
        "repeat_callers": "Repeat callers",
        "title_callers_first_touch": "Callers by first touch",
        "cost": "Ad spend",
        "cost_axis": "Roubles",
        "cpl": "CPL",
        "romi": "ROMI",
        "romi_axis": "ROMI, %",
        "title_cost_vs_lead_value": "Ad spend and lead value by UTM source",
        "title_romi_by_campaign": "ROMI by UTM campaign",
    },
    "ru": {
        "no_data": "Нет данных за этот период",
        "not_set": i18n.NOT_SET["ru"],
        "requests": "Заявки",
        "callbacks": "Обратные звонки",
        "answered": "Принятые",
        "answer_rate": "Доля принятых",
        "lead_value": "Сумма лидов",
        "lead_value_axis": "Сумма лидов, ₽",
        "priced_leads": "Лиды с ценой",
        "avg_lead_value": "Средняя цена лида",
        "share": "Доля",
        "day": "День",
        "count": "Количество",
        "weekday": "День недели",
        "hour": "Час",
        "weekday_hour": "День и час",
        "channels": "Каналы",
        "operator": "Оператор",
        "sessions": "Чаты",
        "messages": "Сообщения",
        "unanswered_sessions": "Чаты без ответа",
        "first_response_axis": "Время первого ответа, с",
        "first_response_median": "Медиана",
        "first_response_p90": "90-й процентиль",
        "callback_speed_axis": "Скорость перезвона, с",
        "talk_duration_axis": "Длительность разговора, с",
        "answered_calls": "Принятые звонки",
        "seconds": "с",
        "minutes": "мин",
        "title_requests_by_day": "Заявки и принятые звонки по дням",
        "title_answer_rate": "Доля принятых",
        "title_lead_value": "Сумма лидов",
        "title_heatmap_requests": "Заявки по дням недели и часам",
        "title_heatmap_answer_rate": "Доля принятых по дням недели и часам",
        "title_callback_speed": "Скорость перезвона",
        "title_talk_duration": "Длительность разговора",
        "title_channel_mix": "Заявки по каналам",
        "title_first_response": "Первый ответ операторов в чатах",
        "weekday_1": "Пн",
        "weekday_2": "Вт",
        "weekday_3": "Ср",
        "weekday_4": "Чт",
        "weekday_5": "Пт",
        "weekday_6": "Сб",
        "weekday_7": "Вс",
        "lost_leads": "Потерянные клиенты",
        "title_lost_per_day": "Потерянные клиенты по дням и каналам",
        "callers": "Клиенты",
        "new_callers": "Новые клиенты",
        "repeat_callers": "Повторные клиенты",
        "title_callers_first_touch": "Клиенты по первому касанию",
        "cost": "Расход",
        "cost_axis": "Рубли",
        "cpl": "CPL",
        "romi": "ROMI",
        "romi_axis": "ROMI, %",
        "title_cost_vs_lead_value": "Расход и сумма лидов по UTM source",
        "title_romi_by_campaign": "ROMI по UTM campaign",
    },
}

# Okabe-Ito: distinguishable with every common colour-vision deficiency. One colour per channel in every chart.
CHANNEL_COLOURS: Final[dict[str, str]] = {
    "paid_search": "#0072B2",
    "organic_search": "#009E73",
    "social": "#CC79A7",
    "email": "#E69F00",
    "referral": "#56B4E9",
    "direct": "#D55E00",
    "other": "#999999",
    EMPTY_VALUE: "#000000",
}

# The channels' names live with every other code's names (i18n.CODE_NAMES); here with the name of "no channel".
CHANNEL_NAMES: Final[dict[Language, dict[str, str]]] = {
    language: {**i18n.names("channel", language), EMPTY_VALUE: i18n.NOT_SET[language]} for language in LANGUAGES
}

# Plotly's `separators`: the decimal mark, then the thousands separator.
_SEPARATORS: Final[dict[Language, str]] = {"en": ".,", "ru": ", "}
# Plotly's own date formats would print English month names under Russian labels.
_DAY_TICK_FORMATS: Final[dict[Language, list[dict[str, Any]]]] = {
    "en": [{"dtickrange": [None, "M1"], "value": "%b %-d"}, {"dtickrange": ["M1", None], "value": "%b %Y"}],
    "ru": [{"dtickrange": [None, "M1"], "value": "%d.%m"}, {"dtickrange": ["M1", None], "value": "%m.%Y"}],
}
_DAY_HOVER_FORMATS: Final[dict[Language, str]] = {"en": "%b %-d, %Y", "ru": "%d.%m.%Y"}

# Charts without channels stay clear of the channel colours, so no colour means two things on one page.
_NEUTRAL = "#44546A"
_LIGHT_NEUTRAL = "#A9B8C9"
_RATE_LINE = "#222222"
_LOSS = "#B03A2E"  # a campaign that returned less than it cost
_MISSING = "—"
# Without these plotly writes 12000 as "12k", which reads as nothing in Russian, and 1000 without a separator.
_PLAIN_NUMBERS: Final[dict[str, Any]] = {"exponentformat": "none", "separatethousands": True}


@dataclass(frozen=True)
class _Labels:
    """Category labels, escaped: whole (categories and hover) and cut to fit an axis."""

    full: list[str]
    short: list[str]


@dataclass(frozen=True)
class _Bins:
    """Equal bins of `width` seconds up to `limit`, then one overflow bin for everything longer."""

    width: int
    limit: int

    @property
    def count(self) -> int:
        return self.limit // self.width


_SPEED_BINS = _Bins(width=15, limit=600)
_TALK_BINS = _Bins(width=30, limit=600)
_TICK_STEP_SECONDS = 60
_OVERFLOW_ROOM = 60  # seconds of axis after the limit


# Text ----------------------------------------------------------------------------------------------------------


def plain(text: str) -> str:
    """The text as plotly will show it literally: `&`, `<` and `>` escaped, so no tag or link is ever drawn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def language_of(lang: str) -> Language:
    """The language to draw in: Russian for "ru" (also "ru-RU", "ru_RU"), English for anything else."""
    return "ru" if lang.strip().lower().replace("_", "-").split("-")[0] == "ru" else "en"


def channel_name(channel: str | None, lang: str = "en") -> str:
    """A channel key's display name (not escaped); an unknown key is shown as it is."""
    names = CHANNEL_NAMES[language_of(lang)]
    key = EMPTY_VALUE if channel is None else channel
    return names.get(key, key)


def dimension_name(dimension: str, lang: str = "en") -> str:
    """A dimension's display name for axis titles (not escaped), as declared in dashboard/dimensions.py; an unknown
    one is shown as it is."""
    return dimensions.label(dimension, language_of(lang))


def _shorten(text: str) -> str:
    return text if len(text) <= AXIS_LABEL_LIMIT else text[:AXIS_LABEL_LIMIT] + "…"


def _labels(texts: Sequence[str]) -> _Labels:
    # Cut before escaping, so an entity such as `&amp;` is never cut in half.
    # Visible first: a bidi override would reorder an SVG label just as it does a table cell.
    shown = [visible(text) for text in texts]
    return _Labels(full=[plain(text) for text in shown], short=[plain(_shorten(text)) for text in shown])


def _category_labels(values: pl.Series, dimension: str, language: Language) -> _Labels:
    """Codes (channels, call statuses, types, devices) in words; empty values as "(not set)"; the rest as sent."""
    return _labels([i18n.label(dimension, value, language) for value in values.to_list()])


# Numbers on hover ----------------------------------------------------------------------------------------------


def _number(value: float | None, language: Language) -> str:
    return _MISSING if value is None else i18n.integer(value, language)


def _numbers(values: pl.Series, language: Language) -> list[str]:
    return [_number(value, language) for value in values.to_list()]


def _roubles(values: pl.Series, language: Language) -> list[str]:
    return [_MISSING if value is None else i18n.roubles(value, language) for value in values.to_list()]


def _seconds(values: pl.Series, language: Language) -> list[str]:
    unit = LABELS[language]["seconds"]
    return [_MISSING if value is None else f"{_number(value, language)}\u00a0{unit}" for value in values.to_list()]


def _percents(values: pl.Series, language: Language) -> list[str]:
    return [_MISSING if value is None else i18n.percent(value, language, 0) for value in values.to_list()]


def _customdata(header: Sequence[str], *columns: Sequence[str]) -> list[list[str]]:
    return [list(row) for row in zip(header, *columns, strict=True)]


def _hover(labels: Sequence[str]) -> str:
    """A hover template: the category in bold, then `label: value` lines, all values taken from customdata."""
    lines = "".join(f"<br>{label}: %{{customdata[{index}]}}" for index, label in enumerate(labels, start=1))
    return f"<b>%{{customdata[0]}}</b>{lines}<extra></extra>"


# Shared layout -------------------------------------------------------------------------------------------------


def _layout(figure: go.Figure, language: Language, title: str) -> go.Figure:
    figure.update_layout(_layout_of(language, title))
    return figure


def _layout_of(language: Language, title: str) -> dict[str, Any]:
    """What every chart's layout has: its title, the language's number separators, margins, the legend on top."""
    return {
        "title": {"text": title},
        "separators": _SEPARATORS[language],
        "margin": {"l": 10, "r": 10, "t": 80, "b": 10},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    }


def _no_data(title: str, language: Language) -> go.Figure:
    """A chart that says there is nothing to draw, under its title, without axes."""
    note = {"text": LABELS[language]["no_data"], "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
            "showarrow": False, "font": {"size": 16}}  # fmt: skip
    return go.Figure(layout={
        **_layout_of(language, title), "annotations": [note], "xaxis": {"visible": False}, "yaxis": {"visible": False},
    })  # fmt: skip


def _has_requests(frame: pl.DataFrame) -> bool:
    # Metrics fill a period's empty days and cells with zeros; a chart of nothing but zeros is "no data" too.
    return not frame.is_empty() and (frame["requests"].sum() or 0) > 0


def _category_axis(labels: _Labels, title: str) -> dict[str, Any]:
    """The layout of horizontal-bar categories, first row on top, the chart as tall as they need; whole labels stay
    unique categories, axes show them cut."""
    return {
        "yaxis": {
            "type": "category",  # else labels such as "2024" or "15" make plotly draw a numeric axis
            "tickmode": "array",
            "tickvals": labels.full,
            "ticktext": labels.short,
            "autorange": "reversed",
            "automargin": True,
            "title": {"text": title},
        },
        "height": max(320, 140 + 26 * len(labels.full)),
    }


def _rate_ticks(language: Language) -> dict[str, Any]:
    """Ticks for a rate from 0 to 1, written as the language writes a percentage (plotly's own "%" has no space)."""
    ticks = [0, 0.25, 0.5, 0.75, 1]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [i18n.percent(tick, language, 0) for tick in ticks]}


def _count_axis() -> dict[str, Any]:
    return {**_PLAIN_NUMBERS, "rangemode": "tozero"}


def _bar_colours(values: pl.Series, dimension: str) -> str | list[str]:
    if dimension != "channel":
        return _NEUTRAL
    return [_channel_colour(value) for value in values.to_list()]


def _channel_colour(channel: str | None) -> str:
    key = EMPTY_VALUE if channel is None else channel
    return CHANNEL_COLOURS.get(key, CHANNEL_COLOURS["other"])


# Vega-Lite: the Overview's charts ------------------------------------------------------------------------------
# A new visitor's browser loads the charting library the first chart needs before drawing it: Streamlit's Vega-Lite
# bundle is about a fifth of its plotly bundle and evaluates in a fraction of its 2+ s, so the Overview, the page
# everyone opens first, draws its three charts with Vega-Lite (README, "The dashboard on 1M records").
# Vega-Lite draws text as SVG text and its tooltips escape what they show, so labels here are NOT passed through
# `plain` (which would show "&amp;" literally); visitor text still goes through `visible`. Every number shown on a
# tooltip is formatted here, in the language; axes and legends format theirs with the expressions below.

Spec = dict[str, Any]
"""A Vega-Lite specification, as `st.vega_lite_chart` takes it."""

VEGA_HEIGHT: Final = 360  # pixels; the width is the container's
_RATE_TICKS: Final = (0, 0.25, 0.5, 0.75, 1)
_VEGA_DAY_FORMATS: Final[dict[Language, str]] = {"en": "%b %-d", "ru": "%d.%m"}
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MIN_SHARE_SHOWN: Final = 0.04  # a thinner slice's share is on its tooltip, not in a label that would not fit


def _quoted(text: str) -> str:
    """A string literal for a Vega expression (the same syntax as JSON's)."""
    return json.dumps(text, ensure_ascii=False)


def _count_labels(language: Language) -> str:
    """A Vega expression writing an axis' or legend's whole number as the language writes it: 12,000 / 12 000."""
    english = "format(datum.value, ',d')"
    return english if language == "en" else f"replace({english}, regexp(',', 'g'), {_quoted(chr(0xA0))})"


def _rate_labels(language: Language) -> str:
    """A Vega expression writing the rate ticks 0, 0.25, ... 1 as the language writes a percentage (0 %, 25 %)."""
    shown = _quoted(i18n.percent(_RATE_TICKS[-1], language, 0))
    for tick in reversed(_RATE_TICKS[:-1]):
        shown = f"datum.value < {tick + 0.125} ? {_quoted(i18n.percent(tick, language, 0))} : {shown}"
    return shown


def _rate_axis(language: Language) -> dict[str, Any]:
    return {"values": list(_RATE_TICKS), "labelExpr": _rate_labels(language)}


def _vega_title(title: str) -> dict[str, Any]:
    return {"text": title, "anchor": "start", "fontSize": 16}


def _vega_no_data(title: str, language: Language) -> Spec:
    """A chart that says there is nothing to draw, under its title (so the reader knows which chart is empty)."""
    return {
        "title": _vega_title(title),
        "height": VEGA_HEIGHT // 2,
        "data": {"values": [{"message": LABELS[language]["no_data"]}]},
        "mark": {"type": "text", "fontSize": 16},
        "encoding": {"text": {"field": "message"}},
    }


def _tooltip(*fields: tuple[str, str]) -> list[dict[str, str]]:
    """A tooltip of `(field, title)` lines; the fields hold text formatted here."""
    return [{"field": field, "title": title, "type": "nominal"} for field, title in fields]


def _day_text(day: date, language: Language) -> str:
    return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}" if language == "en" else f"{day:%d.%m.%Y}"


def _utc_milliseconds(day: date) -> int:
    """A day as Vega-Lite reads a moment: milliseconds since 1970 at the day's UTC midnight (a date string without a
    zone would be read in the browser's zone and could land on the day before)."""
    return (day.toordinal() - date(1970, 1, 1).toordinal()) * 86_400_000


# Requests over time --------------------------------------------------------------------------------------------


def requests_by_day(frame: pl.DataFrame, lang: str = "en") -> Spec:
    """Requests and answered calls per day as bars (the answered in front of the requests they are part of), the
    answer rate as a line on a second axis; the tooltip says all three."""
    language = language_of(lang)
    text = LABELS[language]
    if not _has_requests(frame):
        return _vega_no_data(text["title_requests_by_day"], language)
    days = frame.sort("period_start")  # lines join points in the order given
    rates = days["answer_rate"].to_list()
    dotted = set(range(len(rates))) if len(rates) <= DOTTED_DAYS else set(_alone(rates))
    rows = [
        {
            "day": _utc_milliseconds(_as_date(day)),
            "requests": requests,
            "answered": answered,
            "answer_rate": rate,
            "dot": index in dotted and rate is not None,
            "day_text": _day_text(_as_date(day), language),
            "requests_text": _number(requests, language),
            "answered_text": _number(answered, language),
            "answer_rate_text": _MISSING if rate is None else i18n.percent(rate, language, 0),
        }
        for index, (day, requests, answered, rate) in enumerate(
            zip(days["period_start"], days["requests"], days["answered"], rates, strict=True)
        )
    ]
    tooltip = _tooltip(("day_text", text["day"]), ("requests_text", text["requests"]),
                       ("answered_text", text["answered"]), ("answer_rate_text", text["answer_rate"]))  # fmt: skip
    day_axis = {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": text["day"],
                "axis": {"format": _VEGA_DAY_FORMATS[language]}}  # fmt: skip
    centred = {**day_axis, "bandPosition": 0.5}  # the rate's point in the middle of its day's bar
    # One colour scale over the three layers gives them one legend: requests, answered, answer rate.
    names = [text["requests"], text["answered"], text["answer_rate"]]
    colour = {"scale": {"domain": names, "range": [_LIGHT_NEUTRAL, _NEUTRAL, _RATE_LINE]},
              "legend": {"orient": "top", "title": None}}  # fmt: skip
    count_axis = {"title": text["count"], "labelExpr": _count_labels(language), "tickMinStep": 1}

    def bars(column: str, name: str) -> Spec:
        # Each layer draws one series (the answered in front of the requests they are part of): nothing to stack.
        count = {"field": column, "type": "quantitative", "stack": None, "axis": count_axis}
        return {"mark": "bar", "encoding": {"y": count, "color": {"datum": name, **colour}}}

    rate_axis = {"title": text["answer_rate"], "orient": "right", "grid": False, **_rate_axis(language)}
    rate = {"field": "answer_rate", "type": "quantitative", "scale": {"domain": [0, 1]}, "axis": rate_axis}
    return {
        "title": _vega_title(text["title_requests_by_day"]),
        "height": VEGA_HEIGHT,
        "data": {"values": rows},
        "encoding": {"x": day_axis, "tooltip": tooltip},
        "layer": [
            {"layer": [bars("requests", text["requests"]), bars("answered", text["answered"])]},
            {
                "layer": [
                    # A day without callbacks has no rate: the line breaks there rather than joining its neighbours.
                    {"mark": {"type": "line", "invalid": "break-paths-show-domains", "strokeWidth": 2},
                     "encoding": {"x": centred, "y": rate, "color": {"datum": text["answer_rate"], **colour}}},
                    # Over more days than DOTTED_DAYS only a day no segment joins keeps its dot.
                    {"transform": [{"filter": "datum.dot"}], "mark": {"type": "point", "filled": True, "opacity": 1},
                     "encoding": {"x": centred, "y": rate, "color": {"value": _RATE_LINE}}},
                ]
            },
        ],
        "resolve": {"scale": {"y": "independent"}},
    }  # fmt: skip


def _as_date(day: date | datetime) -> date:
    return day.date() if isinstance(day, datetime) else day


def _alone(values: Sequence[float | None]) -> list[int]:
    """The positions of the values whose neighbours are both missing (or the ends): points no line segment joins."""
    last = len(values) - 1
    return [
        index
        for index, value in enumerate(values)
        if value is not None
        and (index == 0 or values[index - 1] is None)
        and (index == last or values[index + 1] is None)
    ]


def lost_per_day(frame: pl.DataFrame, lang: str = "en") -> go.Figure:
    """Lost leads per day (`day`, `channel`, `lost`) as bars stacked by channel, in the channel colours.

    Its bars and layout are given to the figure whole, as plain dicts: plotly then checks each property once, not
    again on every `update` and copy (10 ms of a Lost leads rerun for a quarter's bars, 4 ms so)."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty() or not (frame["lost"].sum() or 0):
        return _no_data(text["title_lost_per_day"], language)
    bars = []
    for channel, days in _lost_by_channel(frame):
        name = plain(visible(channel_name(channel, language)))
        bars.append({
            "type": "bar", "x": days["day"].to_list(), "y": days["lost"].to_list(), "name": name,
            "marker": {"color": _channel_colour(channel)}, "customdata": _numbers(days["lost"], language),
            "hovertemplate": f"{name}: %{{customdata}}<extra></extra>",
        })  # fmt: skip
    layout = _layout_of(language, text["title_lost_per_day"])
    # Beside the channels, on their line: above them (plotly's place for it) it ran into the chart's title.
    layout["legend"]["title"] = {"text": text["channels"], "side": "left"}
    return go.Figure(bars, {
        **layout, "barmode": "stack", "hovermode": "x unified",
        "xaxis": {"title": {"text": text["day"]}, "tickformatstops": _DAY_TICK_FORMATS[language],
                  "hoverformat": _DAY_HOVER_FORMATS[language]},
        "yaxis": {"title": {"text": text["lost_leads"]}, **_count_axis()},
    })  # fmt: skip


def _lost_by_channel(frame: pl.DataFrame) -> list[tuple[str | None, pl.DataFrame]]:
    """Each channel's days in order, the channel that lost most first (then by name, the unnamed last)."""
    by_channel = (
        frame.group_by("channel")
        .agg(pl.col("lost").sum())
        .sort(["lost", "channel"], descending=[True, False], nulls_last=True)
    )
    return [
        (channel, frame.filter(pl.col("channel").eq_missing(channel)).sort("day"))
        for channel in by_channel["channel"].to_list()
    ]


# Breakdowns ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BarsBy:
    """What a chart of one bar per value of a dimension shows: the bars' length, the title, the value axis, and the
    hover's lines (each a frame column, labelled with its LABELS word, and how its values are shown)."""

    value: str
    title: str
    axis_title: str
    axis: Callable[[Language], dict[str, Any]]
    hover: tuple[tuple[str, Callable[[pl.Series, Language], list[str]]], ...]


def answer_rate_by(frame: pl.DataFrame, dimension: str, lang: str = "en") -> go.Figure:
    """The answer rate of each value of `dimension`, one horizontal bar each, in the frame's order."""
    return _bars_by(frame, dimension, language_of(lang), _ANSWER_RATE_BY)


def lead_value_by(frame: pl.DataFrame, dimension: str, lang: str = "en") -> go.Figure:
    """The lead value (₽) of each value of `dimension`, one horizontal bar each, in the frame's order."""
    return _bars_by(frame, dimension, language_of(lang), _LEAD_VALUE_BY)


def callers_first_touch(frame: pl.DataFrame, dimension: str, lang: str = "en") -> go.Figure:
    """The callers under each value of `dimension` on their first request (`Metrics.first_touch`), one horizontal
    bar each, in the frame's order."""
    return _bars_by(frame, dimension, language_of(lang), _CALLERS_FIRST_TOUCH)


def _bars_by(frame: pl.DataFrame, dimension: str, language: Language, chart: _BarsBy) -> go.Figure:
    """The chart's bars and layout given to the figure whole, as plain dicts: plotly checks each property once, not
    again on every `update` (an Attribution rerun's two charts of 20 values: 5 ms each, about 1 ms so)."""
    text = LABELS[language]
    if frame.is_empty():
        return _no_data(text[chart.title], language)
    labels = _category_labels(frame[dimension], dimension, language)
    bar = {
        "type": "bar", "x": frame[chart.value].to_list(), "y": labels.full, "orientation": "h",
        "marker": {"color": _bar_colours(frame[dimension], dimension)},
        "customdata": _customdata(labels.full, *(shown(frame[column], language) for column, shown in chart.hover)),
        "hovertemplate": _hover([text[column] for column, _ in chart.hover]),
    }  # fmt: skip
    return go.Figure([bar], {
        **_layout_of(language, text[chart.title]), **_category_axis(labels, dimension_name(dimension, language)),
        "xaxis": {"title": {"text": text[chart.axis_title]}, **chart.axis(language)},
    })  # fmt: skip


_ANSWER_RATE_BY: Final = _BarsBy(
    value="answer_rate",
    title="title_answer_rate",
    axis_title="answer_rate",
    axis=lambda language: {"range": [0, 1], **_rate_ticks(language)},
    hover=(("requests", _numbers), ("callbacks", _numbers), ("answered", _numbers), ("answer_rate", _percents)),
)
_LEAD_VALUE_BY: Final = _BarsBy(
    value="lead_value",
    title="title_lead_value",
    axis_title="lead_value_axis",
    axis=lambda _: _count_axis(),
    hover=(("lead_value", _roubles), ("priced_leads", _numbers), ("avg_lead_value", _roubles), ("requests", _numbers)),
)

_CALLERS_FIRST_TOUCH: Final = _BarsBy(
    value="callers",
    title="title_callers_first_touch",
    axis_title="callers",
    axis=lambda _: _count_axis(),
    hover=(("callers", _numbers), ("new_callers", _numbers), ("repeat_callers", _numbers), ("requests", _numbers)),
)


def channel_mix(frame: pl.DataFrame, lang: str = "en") -> Spec:
    """Each channel's share of requests as a donut, in the channel colours, clockwise in the frame's order (most
    requests first), which is also the legend's."""
    language = language_of(lang)
    text = LABELS[language]
    shown = frame.filter(pl.col("requests") > 0) if "requests" in frame.columns else frame
    if not _has_requests(shown):
        return _vega_no_data(text["title_channel_mix"], language)
    labels = [visible(i18n.label("channel", channel, language)) for channel in shown["channel"].to_list()]
    requests = shown["requests"].to_list()
    total = sum(requests)
    rows = [
        {
            "position": position,
            "channel": label,
            "requests": count,
            "share": count / total,
            "requests_text": _number(count, language),
            "share_text": i18n.percent(count / total, language, 0),
        }
        for position, (label, count) in enumerate(zip(labels, requests, strict=True))
    ]
    colours = [_channel_colour(channel) for channel in shown["channel"].to_list()]
    share_label = {"condition": {"test": f"datum.share >= {_MIN_SHARE_SHOWN}", "field": "share_text"}, "value": ""}
    return {
        "title": _vega_title(text["title_channel_mix"]),
        "height": VEGA_HEIGHT,
        "data": {"values": rows},
        "encoding": {
            "theta": {"field": "requests", "type": "quantitative", "stack": True},
            "order": {"field": "position", "type": "quantitative"},
            "color": {"field": "channel", "type": "nominal", "scale": {"domain": labels, "range": colours},
                      "legend": {"title": text["channels"], "orient": "right"}},
            "tooltip": _tooltip(("channel", text["channels"]), ("requests_text", text["requests"]),
                                ("share_text", text["share"])),
        },
        "layer": [
            {"mark": {"type": "arc", "innerRadius": {"expr": "min(width, height) / 4"},
                      "outerRadius": {"expr": "min(width, height) / 2"}}},
            {"mark": {"type": "text", "radius": {"expr": "min(width, height) * 3 / 8"}, "fill": "#FFFFFF",
                      "fontWeight": "bold"},
             "encoding": {"text": share_label}},
        ],
    }  # fmt: skip


def operator_first_response(frame: pl.DataFrame, lang: str = "en") -> go.Figure:
    """Each chat operator's median and 90th-percentile first response (seconds), side by side."""
    language = language_of(lang)
    text = LABELS[language]
    if frame.is_empty():
        return _no_data(text["title_first_response"], language)
    labels = _category_labels(frame["operator"], "operator", language)
    customdata = _customdata(
        labels.full,
        _seconds(frame["first_response_median"], language),
        _seconds(frame["first_response_p90"], language),
        _numbers(frame["sessions"], language),
        _numbers(frame["messages"], language),
        _numbers(frame["unanswered_sessions"], language),
    )
    hover = _hover(
        [
            text["first_response_median"],
            text["first_response_p90"],
            text["sessions"],
            text["messages"],
            text["unanswered_sessions"],
        ]
    )
    # Given to the figure whole, as `lost_per_day`: each property checked once (5.5 ms for seven operators, 1 ms so).
    pairs = (("first_response_median", _NEUTRAL), ("first_response_p90", _LIGHT_NEUTRAL))
    return go.Figure(_paired_bars(frame, labels, pairs, customdata, hover, language), {
        "barmode": "group", **_layout_of(language, text["title_first_response"]),
        **_category_axis(labels, text["operator"]),
        "xaxis": {"title": {"text": text["first_response_axis"]}, **_count_axis()},
    })  # fmt: skip


def _paired_bars(
    frame: pl.DataFrame,
    labels: _Labels,
    columns: Sequence[tuple[str, str]],
    customdata: list[list[str]],
    hover: str,
    language: Language,
) -> list[dict[str, Any]]:
    """Horizontal bars of each of `columns` (a frame column and its colour) per category, named with their LABELS
    words, sharing one hover; side by side under the layout's `"barmode": "group"`."""
    text = LABELS[language]
    return [
        {"type": "bar", "x": frame[column].to_list(), "y": labels.full, "orientation": "h", "name": text[column],
         "marker": {"color": colour}, "customdata": customdata, "hovertemplate": hover}
        for column, colour in columns
    ]  # fmt: skip


# Weekday by hour -----------------------------------------------------------------------------------------------

_WEEK_GRID: Final = pl.DataFrame(
    {
        "weekday": [day for day in range(1, 8) for _ in range(24)],
        "hour": [hour for _ in range(7) for hour in range(24)],
    },
    schema={"weekday": pl.Int64, "hour": pl.Int64},
)
_COUNT_COLUMNS: Final = ("requests", "callbacks", "answered")


def weekday_hour_heatmap(frame: pl.DataFrame, value: HeatmapValue = "requests", lang: str = "en") -> Spec:
    """Requests or the answer rate by weekday (Monday on top) and hour; cells with no callbacks have no rate, and so
    no colour."""
    if value not in ("requests", "answer_rate"):
        raise ValueError(f"value must be 'requests' or 'answer_rate', not {value!r}")
    language = language_of(lang)
    text = LABELS[language]
    title = text[f"title_heatmap_{value}"]
    if not _has_requests(frame):
        return _vega_no_data(title, language)
    grid = _full_week(frame)
    weekdays = [text[f"weekday_{day}"] for day in range(1, 8)]
    hover = _cell_hover(grid, language)
    rows = [
        {"hour": hour, "weekday": weekdays[day - 1], "value": shown,
         **dict(zip(("cell_text", "requests_text", "callbacks_text", "answered_text", "answer_rate_text"), lines,
                    strict=True))}
        for (day, hour, shown), lines in zip(grid.select("weekday", "hour", value).iter_rows(), hover, strict=True)
    ]  # fmt: skip
    rate = value == "answer_rate"
    colour = {
        "field": "value",
        "type": "quantitative",
        # Cividis: a 0 % cell is not a blank one.
        "scale": {"scheme": "cividis", "domain": [0, 1]} if rate else {"scheme": "blues", "domainMin": 0},
        "legend": {"title": text[value], **(_rate_axis(language) if rate else {"labelExpr": _count_labels(language)})},
    }
    return {
        "title": _vega_title(title),
        "height": VEGA_HEIGHT,
        "data": {"values": rows},
        "mark": {"type": "rect"},  # a cell without a value is not drawn
        "encoding": {
            "x": {"field": "hour", "type": "ordinal", "title": text["hour"], "scale": {"domain": list(range(24))},
                  "axis": {"labelAngle": 0}},
            "y": {"field": "weekday", "type": "ordinal", "title": text["weekday"], "scale": {"domain": weekdays}},
            "color": colour,
            "tooltip": _tooltip(("cell_text", text["weekday_hour"]), ("requests_text", text["requests"]),
                                ("callbacks_text", text["callbacks"]), ("answered_text", text["answered"]),
                                ("answer_rate_text", text["answer_rate"])),
        },
    }  # fmt: skip


def _full_week(frame: pl.DataFrame) -> pl.DataFrame:
    """All 7 x 24 cells, weekday-major: counts 0 where the frame has no row, the answer rate null."""
    cells = frame.select(
        pl.col("weekday", "hour", *_COUNT_COLUMNS).cast(pl.Int64), pl.col("answer_rate").cast(pl.Float64)
    )
    grid = _WEEK_GRID.join(cells, on=["weekday", "hour"], how="left").sort("weekday", "hour")
    return grid.with_columns(pl.col(*_COUNT_COLUMNS).fill_null(0))


def _cell_hover(grid: pl.DataFrame, language: Language) -> list[list[str]]:
    text = LABELS[language]
    headers = [
        f"{text[f'weekday_{day}']}, {hour:02d}:00–{hour + 1:02d}:00"
        for day, hour in grid.select("weekday", "hour").iter_rows()
    ]
    return _customdata(
        headers,
        _numbers(grid["requests"], language),
        _numbers(grid["callbacks"], language),
        _numbers(grid["answered"], language),
        _percents(grid["answer_rate"], language),
    )


# Distributions -------------------------------------------------------------------------------------------------


def callback_speed_histogram(frame: pl.DataFrame, lang: str = "en") -> go.Figure:
    """Callbacks by seconds from request to call, 15 s bins up to 10 min, with marks at 30 s and 5 min."""
    return _seconds_histogram(frame, "speed_seconds", _SPEED_BINS, language_of(lang), _SPEED_HISTOGRAM, marks=(30, 300))


def talk_duration_histogram(frame: pl.DataFrame, lang: str = "en") -> go.Figure:
    """Answered calls by the client's talk time, 30 s bins up to 10 min."""
    return _seconds_histogram(frame, "talk_seconds", _TALK_BINS, language_of(lang), _TALK_HISTOGRAM)


@dataclass(frozen=True)
class _HistogramWords:
    """The LABELS keys of a histogram's title, what it counts (the y axis and the hover) and its x axis."""

    title: str
    counted: str
    axis: str


_SPEED_HISTOGRAM: Final = _HistogramWords("title_callback_speed", "callbacks", "callback_speed_axis")
_TALK_HISTOGRAM: Final = _HistogramWords("title_talk_duration", "answered_calls", "talk_duration_axis")


def _seconds_histogram(
    frame: pl.DataFrame, column: str, bins: _Bins, language: Language, words: _HistogramWords, marks: Sequence[int] = ()
) -> go.Figure:
    """The histogram of a column of seconds, with a dashed line at each of `marks` (seconds)."""
    text = LABELS[language]
    if frame.is_empty() or frame[column].null_count() == frame.height:
        return _no_data(text[words.title], language)
    figure = _histogram(_bin_counts(frame[column], bins), bins, language, text[words.counted])
    _layout(figure, language, text[words.title])
    figure.update_xaxes(title_text=text[words.axis])
    figure.update_yaxes(title_text=text[words.counted])
    for seconds in marks:
        label = f"{seconds // 60} {text['minutes']}" if seconds % 60 == 0 else f"{seconds} {text['seconds']}"
        figure.add_vline(x=seconds, line_dash="dash", line_color=_RATE_LINE, annotation_text=label)
    return figure


def _bin_counts(seconds: pl.Series, bins: _Bins) -> list[int]:
    """How many values fall in each bin; the last bin holds everything from `bins.limit` on."""
    # A negative time (clocks of two servers disagreeing) counts as immediate rather than vanishing.
    index = seconds.drop_nulls().cast(pl.Int64).clip(0, bins.limit) // bins.width
    counts = [0] * (bins.count + 1)
    for position, count in index.value_counts().iter_rows():
        counts[position] = count
    return counts


def _histogram(counts: list[int], bins: _Bins, language: Language, counted: str) -> go.Figure:
    text = LABELS[language]
    overflow = f"≥ {bins.limit // 60} {text['minutes']}"
    starts = [position * bins.width for position in range(bins.count)]
    ranges = [f"{start}–{start + bins.width} {text['seconds']}" for start in starts] + [overflow]
    ticks = list(range(0, bins.limit, _TICK_STEP_SECONDS))
    bar = go.Bar(
        x=[start + bins.width / 2 for start in [*starts, bins.limit]],
        y=counts,
        width=bins.width * 0.9,
        marker_color=[_NEUTRAL] * bins.count + [_LIGHT_NEUTRAL],  # the open-ended bin looks different
        customdata=_customdata(ranges, [_number(count, language) for count in counts]),
        hovertemplate=_hover([counted]),
        showlegend=False,
    )
    figure = go.Figure(bar)
    figure.update_xaxes(
        tickmode="array",
        tickvals=[*ticks, bins.limit + bins.width / 2],
        ticktext=[str(tick) for tick in ticks] + [overflow],
        range=[0, bins.limit + _OVERFLOW_ROOM],  # room for the overflow bin's label, not only its bar
        automargin=True,
    )
    figure.update_yaxes(**_count_axis())
    return figure


# Money ---------------------------------------------------------------------------------------------------------

MONEY_CHART_LIMIT: Final = 20  # the values with the most spend; the table has every value
# Draws a money chart's bars: (the rows, their labels, the hover's data and template, the language) → the bars and
# the layout of their own (the value axis, how the bars stand).
_Draw = Callable[[pl.DataFrame, _Labels, list[list[str]], str, Language], tuple[list[dict[str, Any]], dict[str, Any]]]


def _spent(frame: pl.DataFrame, dimension: str, value: str) -> pl.DataFrame:
    """The rows with spend and a `value` to draw, most spend first (ties by the dimension), at most the limit."""
    if frame.is_empty() or "cost" not in frame.columns:
        return frame.clear()
    shown = frame.filter(pl.col("cost").is_not_null() & pl.col(value).is_not_null() & (pl.col("cost") > 0))
    return shown.sort(["cost", dimension], descending=[True, False], nulls_last=True).head(MONEY_CHART_LIMIT)


def _money_hover(shown: pl.DataFrame, labels: _Labels, language: Language) -> tuple[list[list[str]], str]:
    """What hovering a money bar says: the value, its spend, lead value, ROMI and requests."""
    text = LABELS[language]
    customdata = _customdata(
        labels.full,
        _roubles(shown["cost"], language),
        _roubles(shown["lead_value"], language),
        _percents(shown["romi"], language),
        _numbers(shown["requests"], language),
    )
    return customdata, _hover([text["cost"], text["lead_value"], text["romi"], text["requests"]])


def _money_chart(frame: pl.DataFrame, dimension: str, lang: str, value: str, title: str, draw: _Draw) -> go.Figure:
    """A chart of the values of `dimension` with spend and a `value`, one row each, the most spend on top: the bars
    `draw` gives them, with the money hover, under `title`. Given to the figure whole, as `_bars_by`'s."""
    language = language_of(lang)
    shown = _spent(frame, dimension, value)
    if shown.is_empty():
        return _no_data(LABELS[language][title], language)
    labels = _category_labels(shown[dimension], dimension, language)
    customdata, hover = _money_hover(shown, labels, language)
    bars, layout = draw(shown, labels, customdata, hover, language)
    return go.Figure(bars, {
        **_layout_of(language, LABELS[language][title]), **_category_axis(labels, dimension_name(dimension, language)),
        **layout,
    })  # fmt: skip


def cost_vs_lead_value(frame: pl.DataFrame, dimension: str = "utm_source", lang: str = "en") -> go.Figure:
    """Each value's ad spend beside its lead value (roubles), two bars per value, the most spend on top; a value
    with no spend is left out (`frame`: the attribution table by `dimension`, with `cost` and `lead_value`)."""
    return _money_chart(frame, dimension, lang, "lead_value", "title_cost_vs_lead_value", _cost_and_value_bars)


def _cost_and_value_bars(
    shown: pl.DataFrame, labels: _Labels, customdata: list[list[str]], hover: str, language: Language
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    pairs = (("cost", _LIGHT_NEUTRAL), ("lead_value", _NEUTRAL))
    bars = _paired_bars(shown, labels, pairs, customdata, hover, language)
    return bars, {"barmode": "group", "xaxis": {"title": {"text": LABELS[language]["cost_axis"]}, **_count_axis()}}


def romi_by(frame: pl.DataFrame, dimension: str = "utm_campaign", lang: str = "en") -> go.Figure:
    """The ROMI of each value with spend, one horizontal bar each (a loss drawn in its own colour), the most spend
    on top (`frame`: the attribution table by `dimension`, with `cost`, `lead_value` and `romi`)."""
    return _money_chart(frame, dimension, lang, "romi", "title_romi_by_campaign", _romi_bars)


def _romi_bars(
    shown: pl.DataFrame, labels: _Labels, customdata: list[list[str]], hover: str, language: Language
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    romi = shown["romi"].to_list()
    bar = {
        "type": "bar",
        "x": [value * 100 for value in romi],  # in percent, so the axis reads as ROMI is said: 150, -40
        "y": labels.full, "orientation": "h",
        "marker": {"color": [_LOSS if value < 0 else _NEUTRAL for value in romi]},
        "customdata": customdata, "hovertemplate": hover,
    }  # fmt: skip
    axis = {"title": {"text": LABELS[language]["romi_axis"]}, "zeroline": True, "zerolinecolor": _RATE_LINE}
    return [bar], {"xaxis": {**axis, **_PLAIN_NUMBERS}}
