# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Lost leads page as Streamlit runs it (AppTest): the counts, the list, Call back now, marks, the exports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import lost_list
from dashboard.connect import embedded_demo
from dashboard.phones import format_phone
from dashboard.timezones import local_time, zone_named
from tests.conftest import ENTRY
from tests.support.downloads import Made, made_when_clicked

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


def open_lost(app: AppTest) -> AppTest:
    app.switch_page("app_pages/lost_leads.py").run()
    assert not app.exception, app.exception
    return app


def listed(app: AppTest) -> Any:
    """The list of callers as the page shows it (a pandas frame of the raw values)."""
    (table,) = [d.value for d in app.dataframe if "mark" in d.value.columns]
    return table


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def pick(app: AppTest, phone: str) -> None:
    app.selectbox(key="lost_caller").set_value(phone).run()
    assert not app.exception, app.exception


def test_the_lost_list_is_newest_first_with_its_counts(app: AppTest) -> None:
    open_lost(app)
    table = listed(app)
    assert len(table) > 0
    times = list(table["last_missed_at"])
    assert times == sorted(times, reverse=True)
    assert not table["reached"].any() and table["mark"].isna().all()  # lost: not reached, not marked
    shown = metrics(app)
    assert shown["Lost"] == f"{len(table):,}"
    assert set(shown) == {"Missed callers", "Reached", "Lost", "Recovery rate", "Median time to reach", "Marked"}
    assert app.get("plotly_chart")
    assert any(c.value.startswith("vs ") for c in app.caption)  # against the previous period


def test_a_viewer_sees_no_way_to_call_or_mark(app_env: Path) -> None:
    app = AppTest.from_file(ENTRY, default_timeout=60)
    app.secrets = {"access": {"read_only": True}}
    app.run()
    open_lost(app)
    keys = {button.key for button in app.button}
    assert not keys & {"lost_call_back", "lost_call_confirm", "lost_mark", "lost_unmark"}
    assert any("for editors" in i.value for i in app.info)


def test_call_back_now_asks_first_then_calls_once_and_shows_the_outcome_on_the_row(app: AppTest) -> None:
    newton = embedded_demo()
    before = sum(w.action == "callback.CreateRequest" for w in newton.writes)
    open_lost(app)
    phone = next(p for p in listed(app)["phone"] if re.fullmatch(r"\+7\d{10}", p))
    pick(app, phone)
    app.button(key="lost_call_back").click().run()
    (warning,) = [str(w.value) for w in app.warning if "REAL call" in str(w.value)]
    assert str(format_phone(phone)) in warning.replace("\\", "")
    assert sum(w.action == "callback.CreateRequest" for w in newton.writes) == before  # nothing until confirmed
    app.button(key="lost_call_confirm").click().run()
    assert not app.exception, app.exception
    assert any("Newton accepted the call back" in s.value for s in app.success)
    assert sum(w.action == "callback.CreateRequest" for w in newton.writes) == before + 1
    row = listed(app).set_index("phone").loc[phone]
    assert row["call_back"].startswith("sent, ") and row["call_back"].endswith(", local")
    # A second try at the same caller, confirmed again: refused by the claim, nothing sent.
    pick(app, phone)
    app.button(key="lost_call_back").click().run()
    app.button(key="lost_call_confirm").click().run()
    assert sum(w.action == "callback.CreateRequest" for w in newton.writes) == before + 1
    assert any("It was not sent again." in w.value.replace("\\", "") for w in app.warning)


def test_a_mark_moves_the_caller_from_lost_to_marked_with_who_and_when(app: AppTest, app_env: Path) -> None:
    open_lost(app)
    lost_before = metrics(app)["Lost"]
    phone = listed(app)["phone"].iloc[0]
    pick(app, phone)
    app.selectbox(key="lost_mark_kind").set_value("spam").run()
    app.button(key="lost_mark").click().run()
    assert not app.exception, app.exception
    assert phone not in set(listed(app)["phone"])
    assert int(metrics(app)["Lost"].replace(",", "")) == int(lost_before.replace(",", "")) - 1
    app.radio(key="lost_show").set_value("marked").run()
    marked = listed(app).set_index("phone").loc[phone]
    assert marked["mark"] == "spam" and marked["marked_by"] == "local"
    with duckdb.connect(str(app_env)) as con:
        (stored,) = con.execute("SELECT marked_at FROM lead_marks WHERE phone = ?", [phone]).fetchone() or ()
    assert marked["marked_at"].to_pydatetime() == local_time(stored, zone_named("Europe/Moscow"))  # shown local
    pick(app, phone)
    assert any(c.value.startswith("Marked spam by local at ") for c in app.caption)
    app.button(key="lost_unmark").click().run()
    app.radio(key="lost_show").set_value("lost").run()
    assert phone in set(listed(app)["phone"])


def test_the_export_as_on_screen_is_the_list_shown(app: AppTest, on_click: Made) -> None:
    open_lost(app)
    app.text_input(key="lost_search").set_value("9").run()
    table = listed(app)
    screen = [list(csv.reader(io.StringIO(made_when_clicked(on_click, "lost-leads-as-on-screen.csv"))))]
    raw = [list(csv.reader(io.StringIO(made_when_clicked(on_click, "lost-leads.csv"))))]  # every caller
    assert screen and raw
    assert [row[0] for row in screen[-1][1:]] == [format_phone(p) for p in table["phone"]]
    assert [row[0] for row in raw[-1][1:]] == list(table["phone"])
    assert screen[-1][0][:4] == ["Phone", "Last missed (local)", "Missed tries", "Reached"]


def test_a_long_list_draws_only_the_newest_callers_and_the_download_has_every_one(
    app: AppTest, monkeypatch: pytest.MonkeyPatch, on_click: Made
) -> None:
    monkeypatch.setattr(lost_list, "SHOWN_LIMIT", 3)
    open_lost(app)
    app.radio(key="lost_show").set_value("all").run()
    assert not app.exception, app.exception
    table = listed(app)
    every = int(metrics(app)["Missed callers"].replace(",", ""))
    assert len(table) == 3 < every
    assert any(
        c.value == f"Callers: {every:,}; the newest 3 are listed (the download has them all)." for c in app.caption
    )
    assert len(app.selectbox(key="lost_caller").options) == 3  # only a caller drawn can be acted on
    header, *rows = list(csv.reader(io.StringIO(made_when_clicked(on_click, "lost-leads.csv"))))
    assert header[0] == "phone" and len(rows) == every
    assert [row[0] for row in rows[:3]] == list(table["phone"])  # the newest first, as drawn


def test_the_page_in_russian_reads_in_russian_words(app_env: Path) -> None:
    app = AppTest.from_file(ENTRY, default_timeout=60)
    app.query_params["lang"] = "ru"
    app.run()
    open_lost(app)
    assert set(metrics(app)) == {"Не дозвонились", "Дозвонились позже", "Потеряны", "Доля возвращённых",
                                 "Медиана времени до дозвона", "С пометкой"}  # fmt: skip
    words = [m.value for m in app.metric] + [c.value for c in app.caption] + [app.title[0].value]
    words += [r.label for r in app.radio] + [o for r in app.radio for o in r.options]
    words += [b.label for b in app.button] + [s.label for s in app.selectbox]
    for text in words:
        assert not re.search(r"\b(None|nan|Lost|Reached|Marked|Call|lost|reached|marked|all)\b", text), text


def test_with_no_caller_listed_the_callback_speed_still_shows(app: AppTest) -> None:
    open_lost(app)
    app.text_input(key="lost_search").set_value("00000000000000").run()
    assert not app.exception, app.exception
    assert any("No callers here" in i.value for i in app.info)
    (speed,) = [d.value for d in app.dataframe if "speed_median_seconds" in d.value.columns]
    assert len(speed) > 0 and "recovery_rate" in speed.columns
    assert not [b for b in app.button if b.key == "lost_call_back"]
