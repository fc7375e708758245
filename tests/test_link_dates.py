"""Dates in a hand-edited link: absurd ones get the command line's message once and the default period, on every
page, never an error box (a local midnight of year 1 or 9999 does not exist in UTC)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ENTRY

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

PAGES = ["overview", "attribution", "calls", "lost_leads", "chats", "lead_prices", "costs", "widgets", "sync"]


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        ("0001-01-01", "9999-12-31", "from: must be a date between 2000 and 2100"),
        ("2026-01-01", "9999-12-31", "to: must be a date between 2000 and 2100"),
        ("2026-02-30", "2026-03-01", "from: must be a date YYYY-MM-DD"),
        ("2026-03-01", "2026-02-01", "to: must not be before from"),
    ],
)
@pytest.mark.parametrize("page", PAGES)
def test_absurd_dates_in_the_link_get_one_message_and_the_default_period_on_every_page(
    app_env: Path, page: str, first: str, last: str, words: str
) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.query_params.update({"preset": "custom", "from": first, "to": last})
    test.run()
    test.switch_page(f"app_pages/{page}.py").run()
    assert not test.exception, test.exception
    assert not test.error, [e.value for e in test.error]
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.query_params.update({"preset": "custom", "from": first, "to": last})
    test.switch_page(f"app_pages/{page}.py").run()  # the link opened straight on the page
    assert not test.exception, test.exception
    assert not test.error, [e.value for e in test.error]
    if "preset" not in {box.key for box in test.sidebar.selectbox}:  # a page without a period (Widgets, Sync)
        assert not any("period cannot be used" in w.value for w in test.sidebar.warning)
        test.switch_page("app_pages/overview.py").run()  # the message waits for the first page with a period
    assert any("period cannot be used" in w.value for w in test.sidebar.warning)
    assert any(words in t.value for t in test.sidebar.text)
    assert test.selectbox(key="preset").value == "last_30_days"
    assert "from" not in test.query_params and test.query_params["preset"] in ("last_30_days", ["last_30_days"])
    test.run()  # said once: the next click shows the period, not the message again
    assert not test.exception and not any("period cannot be used" in w.value for w in test.sidebar.warning)


def test_the_message_speaks_russian(app_env: Path) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.query_params.update({"lang": "ru", "preset": "custom", "from": "0001-01-01", "to": "9999-12-31"})
    test.run()
    assert not test.exception and not test.error
    assert any("Период из ссылки использовать нельзя" in w.value for w in test.sidebar.warning)
    assert any("нужна дата с 2000 по 2100 год" in t.value for t in test.sidebar.text)  # noqa: RUF001 - the field words too
