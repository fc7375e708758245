"""The dashboard as Streamlit runs it (AppTest): entry script, shared sidebar, pages, language, URL."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from filelock import FileLock
from streamlit.testing.v1 import AppTest

from dashboard import connect as connecting
from dashboard.demo import DEMO_USER_ID, DemoTransport
from dashboard.store import data, utc_now
from dashboard.store.connection import connect
from dashboard.ui import freshness
from dashboard.ui.safe import literal
from tests.conftest import ENTRY

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


def metrics_of(test: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in test.metric}


def test_overview_shows_headline_numbers_and_charts(app: AppTest) -> None:
    numbers = metrics_of(app)
    assert list(numbers) == [
        "Requests", "Answer rate", "Median callback speed", "Reached within 30 s", "Lead value", "Pending",
        "Callers", "New callers", "Repeat callers", "Ad spend", "Cost per request (CPL)", "ROMI",
    ]  # fmt: skip  # the demo account ships with ad costs, so its money is on the Overview out of the box
    assert int(numbers["Requests"].replace(",", "")) > 1000
    assert numbers["Ad spend"].endswith("₽") and numbers["ROMI"].endswith("%")
    assert 0 < int(numbers["Callers"].replace(",", "")) < int(numbers["Requests"].replace(",", ""))
    assert numbers["Lead value"].endswith("₽")
    # Vega-Lite charts (AppTest knows them only as their specification, without their keys): named by their titles.
    titles = [orjson.loads(chart.proto.spec)["title"]["text"] for chart in app.get("vega_lite_chart")]
    assert titles == [
        "Requests and answered calls by day", "Requests by channel", "Answer rate by day of week and hour",
    ]  # fmt: skip


def url_values(test: AppTest, name: str) -> list[str]:
    value = test.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def test_demo_mode_is_labelled(app: AppTest) -> None:
    assert any("Demo mode" in info.value for info in app.sidebar.info)


def test_the_language_switch_changes_labels_and_number_format(app: AppTest) -> None:
    app.radio(key="lang").set_value("ru").run()
    assert not app.exception
    numbers = metrics_of(app)
    assert list(numbers)[:2] == ["Заявки", "Доля принятых"]
    assert "\u00a0" in numbers["Заявки"] or len(numbers["Заявки"]) < 4  # 1 234, not 1,234
    assert url_values(app, "lang") == ["ru"]


def test_a_filter_narrows_the_numbers_and_lands_in_the_url(app: AppTest) -> None:
    everything = int(metrics_of(app)["Requests"].replace(",", ""))
    app.multiselect(key="f_channel").set_value(["email"]).run()
    assert not app.exception
    email = int(metrics_of(app)["Requests"].replace(",", ""))
    assert 0 < email < everything
    assert url_values(app, "channel") == ["email"]


def test_a_shared_link_reproduces_the_view(app_env: Path) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.query_params.update({"lang": "ru", "preset": "last_7_days", "channel": ["email", "direct"]})
    test.run()
    assert not test.exception
    assert test.selectbox(key="preset").value == "last_7_days"
    assert test.multiselect(key="f_channel").value == ["email", "direct"]
    assert test.radio(key="lang").value == "ru"
    assert "Заявки" in metrics_of(test)


def test_the_sync_page_syncs_now_and_never_shows_the_token(app: AppTest) -> None:
    app.switch_page("app_pages/sync.py").run()
    assert not app.exception
    app.button(key="sync_now").click().run()
    assert not app.exception
    assert any("Synced" in s.value for s in app.success)
    (settings,) = [d.value for d in app.dataframe if "Setting" in d.value.columns]  # headed in words
    assert "Demo mode" in " ".join(settings["Value"])
    assert "Europe/Moscow" in list(settings["Value"])
    assert "aaaabbbbccccddddeeeeffff00001111" not in str(app._tree)


def test_sync_now_waits_for_a_sync_already_running_in_this_server(app: AppTest) -> None:
    from dashboard.ui import freshness

    app.switch_page("app_pages/sync.py").run()
    runs_before = len(next(d.value for d in app.dataframe if "Outcome" in d.value.columns))
    with freshness._syncing:  # another person's sync, in another session of the same server
        app.button(key="sync_now").click().run()
    assert not app.exception
    assert any("already running" in i.value for i in app.info)
    assert not app.success
    runs_after = len(next(d.value for d in app.dataframe if "Outcome" in d.value.columns))
    assert runs_after == runs_before


def test_sync_now_while_cron_syncs_says_a_sync_is_running(app: AppTest, app_env: Path) -> None:
    app.switch_page("app_pages/sync.py").run()
    runs_before = len(next(d.value for d in app.dataframe if "Outcome" in d.value.columns))
    with FileLock(f"{app_env}.sync-lock"):  # what `newton-dashboard sync` holds while it runs
        app.button(key="sync_now").click().run()
    assert not app.exception
    assert any("already running" in i.value for i in app.info)
    runs_after = len(next(d.value for d in app.dataframe if "Outcome" in d.value.columns))
    assert runs_after == runs_before


def test_the_first_open_shows_30_days_at_once_then_fills_older_days_in_the_background(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "empty.duckdb"
    monkeypatch.setenv("NEWTON_CACHE", str(path))
    released = threading.Event()
    older = (utc_now() - timedelta(days=30) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")

    class HeldOlderDays(DemoTransport):
        """The embedded Newton, holding every read of days before the last 30 until the test releases it."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            asked = orjson.loads(request.content)
            if asked["action"] == "callback.GetRecords" and asked["params"]["requestDateTo"] < older:
                released.wait(timeout=120)
            return super().handle_request(request)

    monkeypatch.setattr(connecting, "DemoTransport", HeldOlderDays)
    test = AppTest.from_file(ENTRY, default_timeout=120)
    try:
        test.run()
        assert not test.exception, test.exception
        assert int(metrics_of(test)["Requests"].replace(",", "")) > 1000  # the last 30 days, shown at once
        backfill = freshness._backfills[path, DEMO_USER_ID]
        while backfill.progress is None:  # the thread has started and counted what is there
            time.sleep(0.05)
        test.run()
        with connect(path) as con:
            records, chats = data.counts(con, DEMO_USER_ID)
        (progress,) = test.get("progress")
        assert progress.proto.text == (
            f"Older days are loading in the background. Calls: {records:,} · chats: {chats:,} · 30 of 180 days"
        )
        # The Overview compares with the 30 days before, not loaded yet; so does a 90-day period on Calls.
        first_day = (datetime.now(ZoneInfo("Europe/Moscow")) - timedelta(days=30) + timedelta(days=1)).date()
        still_loading = f"Older days are still loading: data before {first_day.day} {first_day:%b} is incomplete."
        assert still_loading in [c.value for c in test.caption]
        test.switch_page("app_pages/calls.py").run()
        assert not test.exception, test.exception
        assert still_loading not in [c.value for c in test.caption]  # the last 30 days are all there
        test.selectbox(key="preset").set_value("last_90_days").run()
        assert still_loading in [c.value for c in test.caption]
    finally:
        released.set()
    assert freshness.join_backfills(timeout=300)
    test.switch_page("app_pages/overview.py").run()
    assert not test.exception, test.exception
    assert not test.get("progress")
    assert not [c.value for c in test.caption if "still loading" in c.value]
    with connect(path) as con:
        (span,) = data.complete_ranges(con, DEMO_USER_ID, "records")
    assert span[0] <= utc_now() - timedelta(days=180)  # the whole history, in one piece


def test_bad_settings_show_one_clear_message(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWTON_TOKEN", "not-a-token")
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.run()
    assert not test.exception
    assert [e.value for e in test.error] == [  # as plain text: settings may hold any characters
        literal(
            "The settings need fixing: NEWTON_TOKEN: must be the 32 hexadecimal characters shown in Newton's settings"
        )
    ]
    assert "not-a-token" not in str(test._tree)


@pytest.mark.parametrize(
    ("name", "value", "lang", "message"),
    [
        ("NEWTON_MAX_AGE_MINUTES", "abc", "en",
         "The settings need fixing: NEWTON_MAX_AGE_MINUTES: must be a whole number of minutes from 0 to 525600"),
        ("NEWTON_MAX_AGE_MINUTES", "abc", "ru",
         "Исправьте настройки: NEWTON_MAX_AGE_MINUTES: нужно целое число минут от 0 до 525600"),
        ("NEWTON_TIMEZONE", "Mars/*Olympus*", "en",
         "The settings need fixing: NEWTON_TIMEZONE: unknown time zone 'Mars/*Olympus*'; use a name such as "
         "Europe/Moscow"),
        ("NEWTON_TIMEZONE", "Mars/*Olympus*", "ru",
         "Исправьте настройки: NEWTON_TIMEZONE: неизвестный часовой пояс 'Mars/*Olympus*'; укажите, например, "
         "Europe/Moscow"),
    ],
)  # fmt: skip
def test_a_bad_setting_stops_the_dashboard_naming_it(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, lang: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.query_params["lang"] = lang
    test.run()
    assert not test.exception
    assert [e.value for e in test.error] == [literal(message)]  # plain text, never the default in its place
    assert not test.metric  # nothing was read or synced with a setting that cannot be used


def test_a_failed_sync_shows_newtons_words_as_plain_text(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy's page instead of Newton's answer: its link must not become clickable Markdown.
    monkeypatch.setenv("NEWTON_API_URL", "http://127.0.0.1:9/api/v1/json")
    monkeypatch.setenv("NEWTON_CACHE", str(app_env.parent / "unreachable.duckdb"))
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    assert not test.exception
    assert [e.value.strip() for e in test.error] == ["Sync failed."]
    assert any("cannot connect to Newton" in t.value for t in test.text)


def test_after_a_failed_sync_clicks_do_not_wait_for_newton_again(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWTON_API_URL", "http://127.0.0.1:9/api/v1/json")
    monkeypatch.setenv("NEWTON_CACHE", str(app_env.parent / "unreachable-again.duckdb"))
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    assert [e.value.strip() for e in test.error] == ["Sync failed."]
    test.run()  # the next click within five minutes reads what is there instead of syncing again
    assert not test.exception and not test.error
    assert any("No calls in this period" in i.value for i in test.info)
