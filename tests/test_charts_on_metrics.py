"""The chart builders fed with real metric frames from a synced demo cache: the shapes fit end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard import charts
from dashboard.demo import DemoNewton, DemoTransport
from dashboard.metrics import Filters, Metrics, Period
from dashboard.store import Store
from dashboard.store.connection import connect
from dashboard.sync import sync
from tests.conftest import NOW, client_for, fixed_clock

pytestmark = pytest.mark.slow  # a sync of the demo account, then every chart


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Metrics]:
    path: Path = tmp_path_factory.mktemp("charts") / "cache.duckdb"
    with client_for(DemoTransport(DemoNewton(records=3_000, seed=9, clock=fixed_clock))) as client:
        sync(client, Store(path), "0", now=NOW.replace(tzinfo=None))
    with connect(path) as con:
        yield Metrics(con, "0")


@pytest.fixture
def month() -> Filters:
    last = NOW.date()
    return Filters(period=Period(last - timedelta(days=29), last))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_chart_draws_from_real_metrics(metrics: Metrics, month: Filters, lang: str) -> None:
    overview = {
        "requests_by_day": charts.requests_by_day(metrics.series(month), lang),
        "channel_mix": charts.channel_mix(metrics.breakdown(month, "channel"), lang),
        "heatmap": charts.weekday_hour_heatmap(metrics.weekday_hour(month), "answer_rate", lang=lang),
    }
    for name, spec in overview.items():  # Vega-Lite: their rows are what they draw
        drawn = spec["data"]["values"]
        assert len(drawn) > 1 and "message" not in drawn[0], name  # not the "no data" message
        json.dumps(spec, allow_nan=False)  # as Streamlit sends it
    assert len(overview["requests_by_day"]["data"]["values"]) == 30
    figures = {
        "answer_rate_by": charts.answer_rate_by(metrics.breakdown(month, "utm_source"), "utm_source", lang),
        "lead_value_by": charts.lead_value_by(metrics.breakdown(month, "city"), "city", lang),
        "speed": charts.callback_speed_histogram(metrics.callback_speeds(month), lang),
        "talk": charts.talk_duration_histogram(metrics.talk_durations(month), lang),
        "operators": charts.operator_first_response(metrics.chat_operators(month), lang),
    }
    for name, figure in figures.items():
        assert figure.data, name  # something is drawn, not the "no data" placeholder
        assert not figure.layout.annotations or all("No data" not in (a.text or "") for a in figure.layout.annotations)
    # The demo's hostile UTM source is there, and drawn as text, never as markup.
    assert "&lt;script&gt;alert(1)" in figures["answer_rate_by"].to_json()
    assert "<script>" not in figures["answer_rate_by"].to_json()


def test_an_empty_period_draws_the_no_data_message(metrics: Metrics) -> None:
    empty = Filters(period=Period(NOW.date() + timedelta(days=400), NOW.date() + timedelta(days=401)))
    spec = charts.requests_by_day(metrics.series(empty), "ru")
    assert spec["data"]["values"] == [{"message": "Нет данных за этот период"}]
