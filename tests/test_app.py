"""The dashboard as Streamlit runs it (AppTest): entry script, shared sidebar, pages, language, URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from streamlit.testing.v1 import AppTest

from tests.conftest import ENTRY


def metrics_of(test: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in test.metric}


def test_overview_shows_headline_numbers_and_charts(app: AppTest) -> None:
    numbers = metrics_of(app)
    assert list(numbers) == ["Requests", "Answer rate", "Median callback speed", "Reached within 30 s", "Lead value"]
    assert int(numbers["Requests"].replace(",", "")) > 1000
    assert numbers["Lead value"].endswith("₽")
    keys = {getattr(node, "key", None) for node in _walk(app.main)}
    assert {"chart_requests_by_day", "chart_channel_mix", "chart_heatmap"} <= keys


def url_values(test: AppTest, name: str) -> list[str]:
    value = test.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _walk(node: Any) -> Iterator[Any]:
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else children:
        yield child
        yield from _walk(child)


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


def test_an_empty_cache_is_filled_on_first_open(app_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWTON_CACHE", str(tmp_path / "empty.duckdb"))
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.run()
    assert not test.exception
    assert int(metrics_of(test)["Requests"].replace(",", "")) > 1000


def test_bad_settings_show_one_clear_message(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWTON_TOKEN", "not-a-token")
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.run()
    assert not test.exception
    assert [e.value for e in test.error] == [
        "The settings need fixing: token: must be the 32 hexadecimal characters shown in Newton's settings"
    ]
    assert "not-a-token" not in str(test._tree)


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
