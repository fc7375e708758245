# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The account switcher in a real browser: `streamlit run` with two accounts, headless Chromium switching between
them in the sidebar; the link and the numbers follow, in English and in Russian."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import ROOT
from tests.support.agency import two_accounts_synced
from tests.support.load import serve
from tests.test_browser import no_exception, settled

pytestmark = pytest.mark.browser  # Chromium through Playwright, against `streamlit run`


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on two accounts of different sizes (two Newtons over sockets), synced into one cache; open
    access on loopback, so the person sees both."""
    folder = tmp_path_factory.mktemp("agency-browser")
    (folder / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    with two_accounts_synced(folder / "agency.duckdb") as toml:
        (folder / ".streamlit" / "secrets.toml").write_text(toml, encoding="utf-8")
        with serve(folder / "agency.duckdb", cwd=folder) as started:
            yield started.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1400, "height": 1100})
    yield opened
    opened.close()


def _requests(page: Page) -> str:
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text(re.compile(r"^(Requests|Заявки)$")))
    return metric.first.get_by_test_id("stMetricValue").inner_text()


def _switch(page: Page, title: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=title, exact=True).click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)
    settled(page)


@pytest.mark.parametrize(("lang", "title", "everything"), [("en", "Overview", "All accounts"),
                                                          ("ru", "Обзор", "Все аккаунты")])  # fmt: skip
def test_switching_account_in_the_sidebar_changes_the_link_and_the_numbers(
    two_accounts: str, page: Page, lang: str, title: str, everything: str
) -> None:
    page.goto(f"{two_accounts}/?lang={lang}&account=client-a")
    page.wait_for_selector("h1", timeout=90_000)
    page.wait_for_load_state("networkidle")
    settled(page)
    expect(page.locator("h1").first).to_have_text(title)
    a_requests = _requests(page)
    _switch(page, "Client B")
    expect(page).to_have_url(re.compile(r"account=client-b"), timeout=10_000)
    expect(page.get_by_test_id("stMetric").first).not_to_contain_text(a_requests, timeout=10_000)
    b_requests = _requests(page)
    assert b_requests != a_requests
    _switch(page, everything)
    expect(page).to_have_url(re.compile(r"account=all"), timeout=10_000)
    expect(page.locator("h1").first).to_contain_text(everything.split()[-1].lower() if lang == "en" else "все")
    total = int(re.sub(r"\D", "", _requests(page)))
    assert total == int(re.sub(r"\D", "", a_requests)) + int(re.sub(r"\D", "", b_requests))
    no_exception(page)
