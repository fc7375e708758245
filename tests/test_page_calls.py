# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Calls page as Streamlit runs it (AppTest): the list, the search, saving lead prices, recordings."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.demo import DEMO_USER_ID
from dashboard.demo.account import JAVASCRIPT_URL
from dashboard.store import Store, data, schema, utc_now
from tests.support.downloads import Made, made_when_clicked

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


def open_calls(app: AppTest) -> AppTest:
    app.switch_page("app_pages/calls.py").run()
    assert not app.exception, app.exception
    return app


def listed(app: AppTest) -> Any:
    """The table the data editor shows (a pandas frame indexed by call id)."""
    return app.data_editor(key="calls_editor").value


def cache_rows(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).fetchall()


def edit_prices(app: AppTest, edits: dict[int, object]) -> None:
    """What a person's typing in the lead price cells sends (AppTest cannot type into the grid)."""
    app.session_state["calls_editor"] = {
        "edited_rows": {row: {"lead_price": price} for row, price in edits.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    app.run()
    assert not app.exception, app.exception


def audio_urls(app: AppTest) -> list[str]:
    return [node.proto.url for node in app.get("audio")]


def test_the_page_lists_the_newest_calls_and_says_how_many(app: AppTest) -> None:
    open_calls(app)
    table = listed(app)
    assert 0 < len(table) <= 2000
    assert "lead_price" in table.columns and "recording" in table.columns
    times = list(table["request_time"])
    assert times == sorted(times, reverse=True)  # newest first
    assert any(word in c.value for c in app.caption for word in ("Showing the newest", "calls."))
    assert app.button(key="save_prices").disabled  # nothing edited yet
    assert app.get("download_button")


def test_the_search_narrows_the_list(app: AppTest, app_env: Path) -> None:
    open_calls(app)
    everything = len(listed(app))
    (call_id, phone) = cache_rows(
        app_env, "SELECT id, clientPhone FROM records WHERE clientPhone IS NOT NULL ORDER BY requestDate DESC LIMIT 1"
    )[0]
    app.text_input(key="calls_search").set_value(phone[-7:]).run()
    assert not app.exception
    found = listed(app)
    assert 0 < len(found) < everything
    assert call_id in found.index
    app.text_input(key="calls_search").set_value("no such thing anywhere 7f3a").run()
    assert len(listed(app)) == 0
    assert any("No calls match" in i.value for i in app.info)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_phone_typed_as_people_do_finds_the_call_shown_with_its_phone(
    app: AppTest, app_env: Path, on_click: Made, lang: str
) -> None:
    app.radio(key="lang").set_value(lang)
    open_calls(app)
    (call_id, phone) = cache_rows(
        app_env, "SELECT id, clientPhone FROM records WHERE clientPhone IS NOT NULL ORDER BY requestDate DESC LIMIT 1"
    )[0]
    code, first, second, third = phone[2:5], phone[5:8], phone[8:10], phone[10:]
    app.text_input(key="calls_search").set_value(f"8 ({code}) {first}-{second}-{third}").run()
    assert not app.exception
    found = listed(app)
    assert call_id in found.index and set(found["phone"]) == {phone}  # every call from that phone, no other

    editor = app.data_editor(key="calls_editor")
    cells = dataframe_util.convert_arrow_bytes_to_pandas_df(editor.proto.arrow_data.styler.display_values)
    grouped = f"+7 {code} {first}-{second}-{third}"
    assert set(cells["phone"]) == {grouped}  # as people read a phone

    screen = made_when_clicked(on_click, "calls-as-on-screen.csv")  # the last run's
    separator = ";" if lang == "ru" else ","
    header, *rows = csv.reader(io.StringIO(screen, newline=""), delimiter=separator)
    assert header[:3] == {"en": ["Call id", "Requested (local)", "Phone"], "ru": ["Id звонка", "Заявка (местное время)",
                                                                                   "Телефон"]}[lang]  # fmt: skip
    assert [row[0] for row in rows] == list(found.index)
    shown = cells[[name for name in cells.columns if name != "_index"]].copy()
    yes, no = {"en": ("yes", "no"), "ru": ("да", "нет")}[lang]
    shown["our_call_back"] = [yes if flag else no for flag in found["our_call_back"]]  # a checkbox is drawn
    assert [row[1:] for row in rows] == shown.values.tolist()
    assert {row[2] for row in rows} == {grouped}  # not 7.98E+10 in a spreadsheet, and no leading '


def test_saving_an_edited_price_updates_the_cache_and_the_write_log(app: AppTest, app_env: Path) -> None:
    open_calls(app)
    first_id = str(listed(app).index[0])
    edit_prices(app, {0: 4321})
    button = app.button(key="save_prices")
    assert button.label == "Save 1 change" and not button.disabled
    button.click().run()
    assert not app.exception, app.exception
    assert any("1 of 1 prices saved" in s.value for s in app.success)
    (results,) = [d.value for d in app.dataframe if "Result" in d.value.columns]
    assert list(results.iloc[0]) == [first_id, 4321, "saved"]
    assert cache_rows(app_env, "SELECT leadPrice FROM records WHERE id = ?", [first_id]) == [(4321,)]
    log = cache_rows(app_env, "SELECT action, params, outcome, actor FROM write_log")
    assert log == [("callback.SetLeadPrice", f'{{"id":"{first_id}","price":"4321"}}', "ok", "local")]
    assert listed(app).loc[first_id, "lead_price"] == 4321  # shown at once, without a sync
    assert app.button(key="save_prices").disabled  # the edit is no longer a change


@pytest.mark.parametrize("bad", [-5, 12.5, None])
def test_a_bad_price_is_refused_and_nothing_is_sent(app: AppTest, app_env: Path, bad: object) -> None:
    open_calls(app)
    table = listed(app)
    # A cleared cell is only a change on a call that had a price.
    row = next(i for i, price in enumerate(table["lead_price"]) if not math.isnan(price)) if bad is None else 0
    edit_prices(app, {row: bad, 1 - row if row < 2 else 0: 700})  # one good price beside the bad one
    assert any("cannot be sent" in e.value for e in app.error)
    (problems,) = [d.value for d in app.dataframe if "Result" in d.value.columns]
    assert list(problems["Call id"]) == [str(table.index[row])]
    save = app.button(key="save_prices")
    assert save.label == "Save 2 changes" and save.disabled
    assert cache_rows(app_env, "SELECT count(*) FROM write_log") == [(0,)]


def test_a_negative_price_from_newton_is_shown_as_sent_and_does_not_block_editing_the_others(
    app: AppTest, app_env: Path
) -> None:
    open_calls(app)
    negative_id, other_id = (str(i) for i in listed(app).index[:2])
    with duckdb.connect(str(app_env)) as con:  # as a sync brings it: Newton's value, kept as sent
        con.execute("UPDATE records SET leadPrice = -500 WHERE id = ?", [negative_id])
    Store(app_env).write(schema.new_data_version)  # as the sync that brought it does
    app.run()
    assert listed(app).loc[negative_id, "lead_price"] == -500
    assert not app.error  # an unchanged price is not a change: nothing to refuse

    edit_prices(app, {1: 900})
    assert not app.error
    save = app.button(key="save_prices")
    assert save.label == "Save 1 change" and not save.disabled
    save.click().run()
    assert not app.exception, app.exception
    assert cache_rows(app_env, "SELECT id, leadPrice FROM records WHERE id IN (?, ?) ORDER BY leadPrice",
                      [negative_id, other_id]) == [(negative_id, -500), (other_id, 900)]  # fmt: skip
    assert cache_rows(app_env, "SELECT params FROM write_log") == [(f'{{"id":"{other_id}","price":"900"}}',)]


def test_newtons_refusal_is_shown_on_its_row(app: AppTest, app_env: Path) -> None:
    open_calls(app)
    call_id = str(listed(app).index[0])
    # The call is gone from Newton's side: the demo answers {"errors": {"id": "Звонок не найден"}}.
    with duckdb.connect(str(app_env)) as con:
        con.execute("UPDATE records SET id = 'gone-1' WHERE id = ?", [call_id])
    Store(app_env).write(schema.new_data_version)  # as the sync that brought the change does
    app.run()
    assert str(listed(app).index[0]) == "gone-1"
    edit_prices(app, {0: 100})
    app.button(key="save_prices").click().run()
    assert not app.exception
    assert any("0 of 1 prices saved" in w.value for w in app.warning)
    (results,) = [d.value for d in app.dataframe if "Result" in d.value.columns]
    assert results.iloc[0, 0] == "gone-1" and "Звонок не найден" in results.iloc[0, 2]
    assert cache_rows(app_env, "SELECT outcome FROM write_log") == [("refused",)]


def test_an_http_recording_plays_and_a_javascript_one_never_does(app: AppTest, app_env: Path) -> None:
    open_calls(app)
    assert audio_urls(app) and all(url.startswith("https://") for url in audio_urls(app))
    (hostile,) = cache_rows(
        app_env, "SELECT id FROM records WHERE account = ? AND conversationFile = ? ORDER BY requestDate DESC LIMIT 1",
        [DEMO_USER_ID, JAVASCRIPT_URL],
    )  # fmt: skip
    app.selectbox(key="preset").set_value("last_90_days").run()
    app.text_input(key="calls_search").set_value(hostile[0]).run()
    assert not app.exception
    assert app.selectbox(key="call_recording").value == hostile[0]
    assert audio_urls(app) == []
    assert any("not an http(s) web address" in w.value for w in app.warning)
    assert JAVASCRIPT_URL in [t.value for t in app.text]
    assert not any("javascript:" in m.value for m in [*app.markdown, *app.caption])


def test_the_page_speaks_russian(app: AppTest) -> None:
    app.radio(key="lang").set_value("ru").run()
    open_calls(app)
    assert app.text_input(key="calls_search").label == "Поиск"
    assert app.button(key="save_prices").label.startswith("Сохранить")


def drawn(app: AppTest) -> Any:
    """The Calls table's cells as the grid draws them (the text the page gives each value)."""
    editor = app.data_editor(key="calls_editor")
    return dataframe_util.convert_arrow_bytes_to_pandas_df(editor.proto.arrow_data.styler.display_values)


def test_missing_text_shows_as_not_set_never_none(app: AppTest) -> None:
    sources = list(drawn(open_calls(app))["utm_source"])
    assert "(not set)" in sources  # plenty of demo calls come without UTM tags
    assert not any(value is None or value in ("None", "nan", "—") for value in sources)


def test_in_russian_codes_read_as_words_empty_cells_as_not_set_and_every_column_is_explained(app: AppTest) -> None:
    open_calls(app)
    app.radio(key="lang").set_value("ru").run()
    assert not app.exception, app.exception
    table = app.data_editor(key="calls_editor")
    config = json.loads(table.proto.columns)
    rows, cells = listed(app), drawn(app)
    assert set(cells["call_status"]) >= {"Клиент ответил", "Клиент не ответил"}
    assert set(cells["type"]) == {"Обратный звонок", "Заявка с формы"}
    assert set(cells["device"]) >= {"Компьютер", "Смартфон"}
    unknown = [shown for code, shown in zip(rows["call_status"], cells["call_status"], strict=True)
               if code == "CALLBACK_CANCELLED"]  # fmt: skip
    assert unknown and set(unknown) == {"CALLBACK_CANCELLED"}  # newer than the dashboard: as sent
    assert "(не задано)" in set(cells["talk_seconds"])  # an empty number cell never reads "None"
    assert not {"None", "nan"} & {str(v) for column in cells for v in cells[column]}
    assert [name for name, column in config.items() if not column.get("help")] == []


def test_our_own_call_back_is_listed_apart_and_counted_in_no_metric(app: AppTest, app_env: Path) -> None:
    app.switch_page("app_pages/overview.py").run()
    requests_before = app.metric[0].value
    newest, phone, widget = cache_rows(
        app_env, "SELECT requestDate, clientPhone, widgetId FROM records ORDER BY requestDate DESC LIMIT 1"
    )[0]
    ours = {
        "id": "ours-1",
        "type": "callback",
        "requestDate": str(newest + timedelta(seconds=1)),
        "clientPhone": phone,
        "widgetId": widget,
        "callStatus": "CLIENT_ANSWER",
        "landingUrl": OUR_CALLBACK_REFERER,
    }
    # As a sync brings the record Newton made of a "Call back now".
    Store(app_env).write(lambda con: data.upsert_records(con, DEMO_USER_ID, parse_records({"records": [ours]}),
                                                          utc_now()))  # fmt: skip

    open_calls(app)
    table = listed(app)
    assert table.index[0] == "ours-1" and bool(table.loc["ours-1", "our_call_back"])
    assert not table["our_call_back"].iloc[1:].any()
    assert any(c.value.startswith("1 of them is a call back we placed ourselves") for c in app.main.caption)

    app.switch_page("app_pages/overview.py").run()
    assert not app.exception, app.exception
    assert app.metric[0].value == requests_before  # not one request more
    assert any(c.value.startswith("1 call back we placed ourselves") for c in app.main.caption)

    app.radio(key="lang").set_value("ru").run()
    open_calls(app)
    assert any(c.value.startswith("Из них 1 — наш собственный перезвон") for c in app.main.caption)
