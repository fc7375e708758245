"""The Attribution page (AppTest): the table by one or two dimensions, its export, and bars that narrow the filters."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import polars as pl
import pytest
from streamlit import dataframe_util
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.memory_media_file_storage import MemoryFile, MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from dashboard.attribution import clicked, file_name
from dashboard.channels import CHANNELS
from dashboard.costs import Cost, CostImport, save_costs
from dashboard.demo import DEMO_USER_ID
from dashboard.demo.account import HOSTILE_UTM_SOURCE
from dashboard.export import to_csv_bytes
from dashboard.metrics import Period
from dashboard.store import Store, utc_now
from dashboard.store.schema import new_data_version
from dashboard.timezones import DEFAULT_TIMEZONE, local_time

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

PAGE = "app_pages/attribution.py"


class _RecordingStorage(MemoryMediaFileStorage):
    """AppTest's in-memory media store, remembered so a test can read what a download button would send."""

    made: list[MemoryMediaFileStorage] = []  # noqa: RUF012 - shared on purpose, reset by the fixture

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _RecordingStorage.made.append(self)


@pytest.fixture
def page(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(_RecordingStorage, "made", [])
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", _RecordingStorage)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def run(test: AppTest) -> AppTest:
    test.run()
    assert not test.exception, test.exception
    return test


def table_of(test: AppTest) -> Dataframe:
    (table,) = test.main.dataframe
    return table


def headers(table: Dataframe) -> dict[str, str]:
    """Column name → the header a user reads."""
    config = json.loads(table.proto.columns)
    return {name: column["label"] for name, column in config.items() if "label" in column}


def displayed(table: Dataframe) -> pd.DataFrame:
    """The cells as the grid draws them (the text the page gives each value), under the columns' names."""
    return dataframe_util.convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)


def shown_names(table: Dataframe, column: str) -> list[str]:
    """What the cells of a dimension column read (a channel key shows as its name)."""
    return list(displayed(table)[column])


def spaced(text: str) -> str:
    """`text` with every kind of space as a plain one (which space a number format puts is its own business)."""
    return re.sub(r"\s", " ", text)


def shown_percent(fraction: float) -> str:
    """A fraction as a percentage with one decimal, halves away from zero as spreadsheets round them."""
    return str((Decimal(str(fraction)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def download(test: AppTest, key: str) -> MemoryFile:
    (button,) = [b for b in test.get("download_button") if b.key == key]
    stored = Path(button.proto.url).name
    for storage in reversed(_RecordingStorage.made):
        try:
            return storage.get_file(stored)
        except Exception:  # noqa: BLE001, S112 - another run's store; the newest has the file
            continue
    raise AssertionError(f"no stored file for {key}")


def click_bars(test: AppTest, chart_key: str, indices: list[int]) -> AppTest:
    """What the browser sends when bars are clicked: AppTest cannot click a plotly chart, so send its event."""
    (chart,) = [node for node in test.get("plotly_chart") if node.key == chart_key]
    states: WidgetStates = test._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    points = [{"curve_number": 0, "point_number": i, "point_index": i} for i in indices]
    state.string_value = json.dumps({"selection": {"points": points, "point_indices": indices, "box": [], "lasso": []}})
    runner = test._tree._runner
    assert runner is not None
    runner._run(states, timeout=60)
    assert not test.exception, test.exception
    return test


def test_the_table_has_a_row_per_channel_and_russian_headers(page: AppTest) -> None:
    table = table_of(page)
    channels = list(table.value["channel"])
    assert len(channels) == len(set(channels)) >= 5
    assert set(channels) <= set(CHANNELS)
    assert list(table.value["requests"]) == sorted(table.value["requests"], reverse=True)
    assert headers(table)["channel"] == "Channel"
    assert "Paid search" in shown_names(table, "channel")
    values, cells = table.value, displayed(table)
    top = int(values["lead_value"].idxmax())
    assert spaced(cells["lead_value"][top]) == f"{int(values['lead_value'][top]):,} ₽"  # whatever the browser
    assert spaced(cells["answer_rate"][0]) == f"{shown_percent(values['answer_rate'][0])}%"

    page.radio(key="lang").set_value("ru")
    table = table_of(run(page))
    assert list(table.value["channel"]) == channels
    shown = headers(table)
    assert [shown[n] for n in ("channel", "requests", "answer_rate", "lead_value")] == [
        "Канал", "Заявки", "Доля принятых", "Сумма лидов",
    ]  # fmt: skip
    assert "Платный поиск" in shown_names(table, "channel")
    # Grouped by spaces with a decimal comma, as Russian is written, whatever the browser's own settings.
    cells = displayed(table)
    assert spaced(cells["lead_value"][top]) == f"{int(values['lead_value'][top]):,} ₽".replace(",", " ")
    assert spaced(cells["answer_rate"][0]) == f"{shown_percent(values['answer_rate'][0])} %".replace(".", ",")
    assert table.value["lead_value"].dtype.kind in "iu"  # the cells keep their numbers: the table sorts by them
    assert page.selectbox(key="attribution_by").format_func("utm_source") == "Источник (utm_source)"
    assert any("Нажмите на столбец" in c.value for c in page.caption)


def test_the_change_per_row_follows_the_comparison(page: AppTest) -> None:
    page.selectbox(key="preset").set_value("last_90_days")
    table = table_of(run(page))
    assert headers(table)["requests_change"] == "Requests, change"
    assert all(
        re.fullmatch(r"([+\u2212]\d+|±0)\.\d\u00a0pp|\(not set\)", cell)
        for cell in displayed(table)["answer_rate_change_pp"]
    )
    changes = table.value["requests_change"].dropna()
    assert len(changes) >= 3 and changes.between(-1, 10).all()  # fractions of the previous 90 days' requests
    assert any(c.value.startswith("Change vs ") for c in page.main.caption)
    page.selectbox(key="compare").set_value("none")
    table = table_of(run(page))
    assert "requests_change" not in table.value.columns
    assert not any(c.value.startswith("Change vs ") for c in page.main.caption)


def test_choosing_another_dimension_changes_the_first_column(page: AppTest) -> None:
    page.selectbox(key="attribution_by").set_value("device_type")
    table = table_of(run(page))
    assert table.value.columns[0] == "device_type"
    assert "channel" not in table.value.columns
    assert headers(table)["device_type"] == "Device"
    assert {"desktop", "mobile"} <= set(table.value["device_type"])
    # The sidebar has no device filter, so the page says which bars narrow the view.
    assert any("narrows the filters only for channel" in c.value for c in page.caption)


def test_a_cross_tab_has_both_columns(page: AppTest) -> None:
    total = table_of(page).value["requests"].sum()
    page.selectbox(key="attribution_then").set_value("device_type")
    table = table_of(run(page)).value
    assert list(table.columns)[:2] == ["channel", "device_type"]
    assert len(table) > table["channel"].nunique()
    assert not table.duplicated(["channel", "device_type"]).any()
    assert table["requests"].sum() == total
    assert any("The charts show Channel alone." in c.value for c in page.caption)


def test_the_download_is_the_table_shown_and_visitor_text_stays_text(page: AppTest) -> None:
    page.selectbox(key="preset").set_value("last_90_days")
    page.selectbox(key="attribution_by").set_value("utm_source")
    shown = table_of(run(page)).value
    assert HOSTILE_UTM_SOURCE in list(shown["utm_source"])  # a cell of the table, not markup

    csv = download(page, "attribution_csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content == to_csv_bytes(pl.from_pandas(shown))
    assert HOSTILE_UTM_SOURCE.encode() in csv.content
    assert csv.content.decode("utf-8-sig").splitlines()[0] == (
        "utm_source,requests,callbacks,answered,missed,pending,answer_rate,avg_talk_seconds,median_talk_seconds,"
        "lead_value,priced_leads,avg_lead_value,callers,new_callers,requests_change,answer_rate_change_pp,"
        "cost,cpl,cost_per_answered,cpa,romi,drr"
    )  # with the comparison (the previous period by default), its change per row, then the money
    assert csv.mimetype == "text/csv"
    assert csv.filename is not None
    assert csv.filename.startswith("attribution-utm_source-") and csv.filename.endswith(".csv")

    excel = download(page, "attribution_csv_excel")
    assert excel.content == to_csv_bytes(pl.from_pandas(shown), separator=";")
    assert excel.content.decode("utf-8-sig").startswith("utm_source;requests;")


@pytest.mark.parametrize(("lang", "separator"), [("en", ","), ("ru", ";")])
def test_the_as_on_screen_download_is_the_table_as_shown(page: AppTest, lang: str, separator: str) -> None:
    page.radio(key="lang").set_value(lang)
    table = table_of(run(page))
    screen = download(page, "attribution_csv_screen")
    assert screen.content.startswith(b"\xef\xbb\xbf")
    assert screen.filename is not None and screen.filename.endswith("-as-on-screen.csv")
    header, *rows = csv.reader(io.StringIO(screen.content.decode("utf-8-sig"), newline=""), delimiter=separator)
    labels = headers(table)
    cells = displayed(table)
    assert header == [labels[name] for name in cells.columns]  # the page's headers, in its language
    assert rows == cells.astype(str).values.tolist()  # every value as the grid draws it
    assert header[0] == {"en": "Channel", "ru": "Канал"}[lang]
    rate = header.index(labels["answer_rate"])
    assert all(re.fullmatch(r"\d{1,3}[.,]\d\s?%", row[rate]) for row in rows)  # "81,6 %" as shown, not 0.816


def test_clicking_a_bar_narrows_the_sidebar_filter_to_it(page: AppTest) -> None:
    second = table_of(page).value["channel"][1]
    click_bars(page, "attribution_chart_answer_rate", [1])
    assert page.multiselect(key="f_channel").value == [second]
    assert list(table_of(page).value["channel"]) == [second]
    assert page.query_params.get("channel") in ([second], second)


def test_clicking_several_bars_of_a_campaign_chart_keeps_them_all(page: AppTest) -> None:
    page.selectbox(key="attribution_by").set_value("utm_campaign")
    campaigns = list(table_of(run(page)).value["utm_campaign"])
    click_bars(page, "attribution_chart_lead_value", [0, 2])
    assert page.multiselect(key="f_utm_campaign").value == [campaigns[0], campaigns[2]]
    assert set(table_of(page).value["utm_campaign"]) == {campaigns[0], campaigns[2]}


def test_a_clicked_value_comes_from_the_bar_index_not_its_label() -> None:
    long_value = "<b>" + "кондиционер " * 10  # the axis shows it cut and escaped; the filter needs it whole
    chart = pl.DataFrame({"utm_term": ["yandex", long_value, "(none)"], "requests": [3, 2, 1]})
    assert clicked(chart, "utm_term", [1]) == [long_value]
    assert clicked(chart, "utm_term", [2, 0]) == ["yandex", "(none)"]
    assert clicked(chart, "utm_term", [7, True, "1"]) == []


def test_a_period_without_calls_says_so(page: AppTest) -> None:
    page.selectbox(key="preset").set_value("custom")
    long_ago = date.today().year - 5  # the demo account's records cover the last 180 days
    run(page).date_input(key="custom_period").set_value((date(long_ago, 1, 1), date(long_ago, 1, 31)))
    run(page)
    assert [i.value for i in page.main.info] == ["No calls in this period. Try a longer period or fewer filters."]
    assert not page.main.dataframe
    assert not page.get("download_button")


def test_the_export_is_named_after_the_view() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert file_name("channel", None, period) == "attribution-channel-2026-11-01-2026-11-30.csv"
    assert (
        file_name("channel", "city", period, excel=True) == "attribution-channel-city-2026-11-01-2026-11-30-excel.csv"
    )


def test_first_touch_counts_each_caller_once_under_the_channel_they_first_came_from(page: AppTest) -> None:
    page.selectbox(key="preset").set_value("last_90_days")
    by_request = table_of(run(page)).value
    assert {"callers", "new_callers"} <= set(by_request.columns)
    assert (by_request["callers"] <= by_request["requests"]).all()

    page.radio(key="attribution_count").set_value("first_touch")
    table = table_of(run(page))
    touched = table.value
    assert list(touched.columns)[:4] == ["channel", "callers", "new_callers", "repeat_callers"]
    assert headers(table)["callers"] == "Callers"
    assert set(touched["channel"]) <= set(CHANNELS)
    assert (touched["callers"] == touched["new_callers"] + touched["repeat_callers"]).all()
    assert list(touched["callers"]) == sorted(touched["callers"], reverse=True)
    # Regular clients call through several channels: per request they count in each, by first touch once.
    assert 0 < touched["callers"].sum() < by_request["callers"].sum()
    assert touched["requests"].sum() <= by_request["requests"].sum()
    assert any(c.value.startswith("First touch: each caller is counted once") for c in page.main.caption)
    assert page.query_params.get("count") in ("first_touch", ["first_touch"])
    csv = download(page, "attribution_csv")
    assert csv.filename is not None and csv.filename.startswith("attribution-first-touch-channel-")
    assert csv.content.decode("utf-8-sig").splitlines()[0] == (
        "channel,callers,new_callers,repeat_callers,requests,lead_value,priced_leads,avg_lead_value,"
        "cost,cpl,cost_per_answered,cpa,romi,drr"
    )  # the money columns are always there, empty by first touch

    page.radio(key="lang").set_value("ru")
    table = table_of(run(page))
    assert headers(table)["callers"] == "Клиенты"
    assert page.radio(key="attribution_count").format_func("first_touch") == "Клиентов по первому касанию"
    assert any(c.value.startswith("Первое касание: каждый клиент") for c in page.main.caption)


# Money ---------------------------------------------------------------------------------------------------------

MONEY = ("cost", "cpl", "cost_per_answered", "cpa", "romi", "drr")


def add_costs(path: Path, source: str, days_ago: dict[int, int]) -> None:
    """Spend of `source` (kopecks) on the local days that many days before the moment the test runs."""
    today = local_time(utc_now(), ZoneInfo(DEFAULT_TIMEZONE)).date()
    costs = [Cost(today - timedelta(days=ago), source, kopecks) for ago, kopecks in days_ago.items()]
    Store(path).write(save_costs, DEMO_USER_ID, CostImport("generic", "costs.csv", "csv", "test", utc_now()), costs)


def test_money_by_source_shows_spend_that_brought_no_call_in_both_languages(page: AppTest, app_env: Path) -> None:
    add_costs(app_env, "pagesTest", {2: 250_000, 3: 250_050})  # 5 000.50 ₽, and no call ever came from it
    page.selectbox(key="attribution_by").set_value("utm_source")
    table = table_of(run(page))
    shown = headers(table)
    assert [shown[name] for name in MONEY] == ["Ad spend", "CPL", "Cost per answered", "CPA", "ROMI",
                                               "Ad spend share (ДРР)"]  # fmt: skip
    row = list(table.value["utm_source"]).index("pagesTest")
    assert table.value["requests"][row] == 0  # its own row: spend with no leads
    cells = displayed(table)
    assert [spaced(cells[name][row]) for name in MONEY] == [
        "5,001 ₽", "(not set)", "(not set)", "(not set)", "-100.0%", "(not set)",
    ]  # fmt: skip  # lead value 0: ROMI -100 %, and ДРР has nothing to divide by
    charts_drawn = {chart.key for chart in page.get("plotly_chart")}
    assert {"attribution_chart_cost", "attribution_chart_romi"} <= charts_drawn

    page.radio(key="lang").set_value("ru")
    table = table_of(run(page))
    shown = headers(table)
    assert [shown[name] for name in MONEY] == ["Расход", "CPL", "Стоимость принятого звонка", "CPA", "ROMI", "ДРР"]
    cells = displayed(table)
    assert [spaced(cells[name][row]) for name in ("cost", "romi")] == ["5 001 ₽", "-100,0 %"]


def test_a_filter_or_dimension_costs_cannot_follow_leaves_money_out_and_says_why(page: AppTest, app_env: Path) -> None:
    add_costs(app_env, "pagesTest", {2: 100_000})
    page.selectbox(key="attribution_by").set_value("device_type")
    table = table_of(run(page))
    assert set(MONEY) <= set(headers(table))  # the columns the export always has, left empty
    assert set(displayed(table)[list(MONEY)].stack()) == {"(not set)"}
    (note,) = [c.value for c in page.main.caption if c.value.startswith("Cost, CPL, ROMI and ad spend share")]
    assert "not by Device," in note

    page.selectbox(key="attribution_by").set_value("utm_source")
    widget = page.multiselect(key="f_widget")
    widget.set_value(widget.options[:1])
    table = table_of(run(page))
    assert set(displayed(table)[list(MONEY)].stack()) == {"(not set)"}
    assert not {"attribution_chart_cost", "attribution_chart_romi"} & {c.key for c in page.get("plotly_chart")}
    assert any("not by Widget," in c.value for c in page.main.caption)
    page.radio(key="lang").set_value("ru")
    run(page)
    assert any("по полям «Виджет»" in c.value for c in page.main.caption)


def test_without_costs_the_money_is_empty_and_the_costs_page_is_offered(app: AppTest, app_env: Path) -> None:
    with duckdb.connect(str(app_env)) as con:
        con.execute("DELETE FROM costs")  # the demo's own costs too
        new_data_version(con)  # as any change of the data does: answers kept for the old data are not reused
    app.switch_page(PAGE)
    page = run(app)
    table = table_of(page)
    assert set(displayed(table)[list(MONEY)].stack()) == {"(not set)"}  # empty, not 0
    assert "No ad costs are stored for this account, so there is no cost, CPL or ROMI yet." in [
        c.value for c in page.main.caption
    ]
    (link,) = page.get("page_link")
    assert link.proto.label == "Import ad costs" and link.proto.page.endswith("costs")
    assert not {"attribution_chart_cost", "attribution_chart_romi"} & {c.key for c in page.get("plotly_chart")}
