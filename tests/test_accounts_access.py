# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Many accounts in one dashboard (AppTest): the switcher offers only a person's accounts, the URL carries the
choice, and a person limited to one account never sees or exports another's data, on every page and download,
whatever the link says; writes only where their role there is editor."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.store import Store, logs, utc_now
from dashboard.ui import freshness, uploads
from tests.conftest import ENTRY, ROOT
from tests.support.agency import two_accounts_synced
from tests.support.downloads import Made
from tests.test_uploads import APP_SESSION

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

A_ONLY = "client a only pass"  # sees client-a, as a viewer
A_EDITS_B_VIEWS = "edits a views b pass"  # editor of client-a, viewer of client-b
EVERYONE = "editor of every account"  # the shared editor password: every account
PAGES = ("overview", "attribution", "calls", "lost_leads", "chats", "lead_prices", "costs", "widgets", "sync")


@dataclass(frozen=True)
class Agency:
    """Two accounts served by two Newtons, synced into one cache, and the secrets that name them."""

    cache: Path
    secrets: dict[str, Any]


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """Two Newton accounts of different sizes over real sockets, synced once into one cache file."""
    folder = tmp_path_factory.mktemp("agency")
    cache = folder / "agency.duckdb"
    with two_accounts_synced(cache) as toml:
        yield cache, {"toml": toml}


@pytest.fixture
def agency_env(agency: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app in a folder whose .streamlit/secrets.toml lists both accounts, on a fresh copy of their cache."""
    cache, files = agency
    for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(files["toml"], encoding="utf-8")
    # Streamlit reads its config once per process, from the folder it runs in: the committed one, as elsewhere.
    shutil.copy(ROOT / ".streamlit" / "config.toml", tmp_path / ".streamlit" / "config.toml")
    shutil.copy(cache, tmp_path / "agency.duckdb")
    monkeypatch.setenv("NEWTON_CACHE", str(tmp_path / "agency.duckdb"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert freshness.join_backfills(timeout=300)
    st.secrets._reset()  # Streamlit read the folder's secrets.toml: the next test must not see it


SECRETS: dict[str, Any] = {
    "accounts": {"client-a": {}, "client-b": {}},  # the door needs only their names
    "access": {
        "editor_password": EVERYONE,
        "passwords": {
            "a-only": {"password": A_ONLY, "accounts": ["client-a"], "role": "viewer"},
            "mixed": {"password": A_EDITS_B_VIEWS, "roles": {"client-a": "editor", "client-b": "viewer"}},
        },
    },
}


def _open(password: str, account: str | None = None, page: str = "overview", refused: bool = False) -> AppTest:
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.secrets = SECRETS
    if account is not None:
        test.query_params["account"] = account
    test.run()
    test.text_input[0].input(password)
    test.button(key="FormSubmitter:password_gate-Enter").click().run()
    assert not test.exception, test.exception
    assert any("may not see" in w.value for w in test.warning) is refused
    if page != "overview":
        test.switch_page(f"app_pages/{page}.py").run()
        assert not test.exception, test.exception
    return test


def _shown(test: AppTest, made: Made) -> list[str]:
    """Every number, table and file the page shows or offers (the deferred downloads made as a click would)."""
    seen = [f"{m.label}={m.value}" for m in test.metric]
    seen += [d.value.to_csv() for d in test.dataframe]
    seen += [str(getattr(t, "value", t)) for t in test.get("table")]
    seen += [str(make()) for _, make in made]
    made.clear()
    return seen


def _switcher(test: AppTest) -> list[str]:
    found = [s for s in test.selectbox if s.key == "account"]
    return list(found[0].options) if found else []


def test_the_switcher_offers_only_the_persons_accounts(agency_env: Path) -> None:
    everyone = _open(EVERYONE)
    assert _switcher(everyone) == ["Client A", "Client B", "All accounts"]
    assert everyone.query_params["account"] == "client-a"
    a_only = _open(A_ONLY)
    assert _switcher(a_only) == []  # one account: nothing to switch
    assert a_only.query_params["account"] == "client-a"


def test_switching_account_changes_the_numbers_and_the_link(agency_env: Path) -> None:
    test = _open(EVERYONE)
    first = {m.label: m.value for m in test.metric}
    test.selectbox(key="account").set_value("client-b").run()
    assert not test.exception, test.exception
    assert test.query_params["account"] == "client-b"
    assert {m.label: m.value for m in test.metric} != first
    again = _open(EVERYONE, account="client-b")  # the link reproduces it
    assert {m.label: m.value for m in again.metric} == {m.label: m.value for m in test.metric}


@pytest.mark.parametrize("page", PAGES)
def test_a_person_limited_to_one_account_never_sees_another_on_any_page(
    agency_env: Path, page: str, on_click: Made, downloads: list[tuple[bytes, str]]
) -> None:
    own = _shown(_open(A_ONLY, page=page), on_click) + [str(d) for d in downloads]
    downloads.clear()
    for asked in ("client-b", "all", "no-such-account"):
        test = _open(A_ONLY, account=asked, page=page, refused=True)  # said, and the link rewritten
        assert test.query_params["account"] == "client-a"
        assert _shown(test, on_click) + [str(d) for d in downloads] == own
        downloads.clear()
    # And the test can tell: the other account's page shows something else (where the page shows data at all;
    # the two simulated accounts have the same widgets, so the Widgets page alone cannot tell them apart).
    other = _shown(_open(EVERYONE, account="client-b", page=page), on_click) + [str(d) for d in downloads]
    if own and page != "widgets":
        assert other != own


def _write_forms(test: AppTest) -> set[str]:
    keys = {"FormSubmitter:price_form-Save", "FormSubmitter:deal_form-Create"}
    return {key for key in keys if any(getattr(b, "key", None) == key for b in test.get("button"))}


def test_an_editor_of_one_account_and_viewer_of_another_writes_only_in_the_first(agency_env: Path) -> None:
    test = _open(A_EDITS_B_VIEWS)
    assert _write_forms(test)
    assert "Here you may also write to Newton; not in every account." in [c.value for c in test.caption]
    test.switch_page("app_pages/lead_prices.py").run()
    assert test.get("file_uploader")  # an editor of client-a may upload its prices
    assert uploads.ADMITTED.allows(APP_SESSION)
    test.selectbox(key="account").set_value("client-b").run()
    assert not test.exception, test.exception
    assert not _write_forms(test) and not test.get("file_uploader")
    assert not uploads.ADMITTED.allows(APP_SESSION)  # no upload reaches the server either, while B is shown
    assert "Here you read and export; you edit in other accounts." in [c.value for c in test.caption]
    test.switch_page("app_pages/overview.py").run()
    assert not _write_forms(test)
    test.selectbox(key="account").set_value("all").run()
    assert not _write_forms(test)
    assert not uploads.ADMITTED.allows(APP_SESSION)


def test_the_door_says_the_roles_differ_and_never_editor_where_the_person_views(agency_env: Path) -> None:
    mixed = _open(A_EDITS_B_VIEWS, account="client-b")
    signed_in = [c.value for c in mixed.sidebar.caption if c.value.startswith("Signed in as")]
    assert signed_in == ["Signed in as mixed (editor in some accounts, viewer in the others)."]
    assert "Here you read and export; you edit in other accounts." in [c.value for c in mixed.caption]
    viewer = _open(A_ONLY)
    assert any(c.value.endswith("(viewer: read and export).") for c in viewer.sidebar.caption)


def test_sync_now_syncs_the_account_shown_never_the_first_one(agency_env: Path) -> None:
    test = _open(A_EDITS_B_VIEWS, account="client-b", page="sync")
    store = Store(agency_env / "agency.duckdb")
    before = {user: len(store.read(logs.recent_runs, user)) for user in ("101", "202")}
    test.button(key="sync_now").click().run()
    assert not test.exception, test.exception
    assert test.success  # synced
    after = {user: len(store.read(logs.recent_runs, user)) for user in ("101", "202")}
    assert after == {"101": before["101"], "202": before["202"] + 1}  # client-b's Newton, never client-a's


def test_all_accounts_offers_no_write_even_to_an_editor_of_every_account(agency_env: Path) -> None:
    """A price or a deal belongs to one account: under "All accounts" it would silently go to the first one."""
    assert _write_forms(_open(EVERYONE, account="client-b"))
    assert not _write_forms(_open(EVERYONE, account="all"))


def test_all_accounts_says_the_oldest_sync_of_them(agency_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWTON_MAX_AGE_MINUTES", str(30 * 24 * 60))  # a sync ten days old is not due yet
    store = Store(agency_env / "agency.duckdb")
    old = (utc_now() - timedelta(days=10)).replace(second=0, microsecond=0)
    store.write(lambda con: con.execute("UPDATE sync_state SET updated_at = ? WHERE account = '202'", [old]))
    store.write(lambda con: con.execute("UPDATE sync_state SET updated_at = ? WHERE account = '101'", [utc_now()]))
    test = _open(EVERYONE, account="all")
    shown = old.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Moscow"))
    assert f"Data synced {shown:%Y-%m-%d %H:%M} (Europe/Moscow)." in [c.value for c in test.caption]  # client-b's


def test_a_person_with_no_account_sees_no_data(agency_env: Path) -> None:
    secrets = {
        **SECRETS,
        "accounts": {"client-a": {}, "client-b": {}, "client-c": {}},
        "access": {"passwords": {"c": {"password": "client c only pass", "accounts": ["client-c"], "role": "viewer"}}},
    }
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.secrets = secrets
    test.run()
    test.text_input[0].input("client c only pass")
    test.button(key="FormSubmitter:password_gate-Enter").click().run()
    assert not test.exception, test.exception
    assert not test.metric and not test.dataframe
    assert any("no account of this dashboard is open to you" in str(w.value) for w in test.warning)


def _requests(test: AppTest) -> int:
    (shown,) = [m.value for m in test.metric if m.label == "Requests"]
    return int(str(shown).replace(",", ""))


def test_all_accounts_sums_each_account_and_exports_exactly_its_table(
    agency_env: Path, downloads: list[tuple[bytes, str]]
) -> None:
    each = {name: _requests(_open(EVERYONE, account=name)) for name in ("client-a", "client-b")}
    test = _open(EVERYONE, account="all")
    assert test.query_params["account"] == "all"
    (table,) = [d.value for d in test.dataframe]
    assert list(table["account"]) == ["Client A", "Client B", "Total"]
    assert list(table["requests"]) == [each["client-a"], each["client-b"], sum(each.values())]
    assert _requests(test) == sum(each.values())
    total = table.iloc[2]
    # The total's answer rate comes from the summed counts: between the two accounts', weighted by their size.
    low, high = sorted(table["answer_rate"][:2])
    assert low <= total["answer_rate"] <= high
    assert total["lost_leads"] == table["lost_leads"][:2].sum()
    files = [data.decode("utf-8-sig").splitlines() for data, mime in downloads if mime.startswith("text/csv")]
    (exported,) = [lines for lines in files if lines[0].startswith("account,")]  # the raw one, beside "as on screen"
    assert exported[0] == "account,requests,answer_rate,lost_leads,lead_value,cost,romi"
    assert [line.split(",")[:2] for line in exported[1:]] == [
        [str(name), str(n)] for name, n in zip(table["account"], table["requests"], strict=True)
    ]
    # Every other page asks for one account rather than showing the first one's data as everyone's.
    test.switch_page("app_pages/calls.py").run()
    assert not test.dataframe and not test.metric
    assert any("one account at a time" in str(i.value) for i in test.info)


def test_all_accounts_speaks_russian(agency_env: Path) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=120)
    test.secrets = SECRETS
    test.query_params["account"] = "all"
    test.query_params["lang"] = "ru"
    test.run()
    test.text_input[0].input(EVERYONE)
    test.button(key="FormSubmitter:password_gate-Войти").click().run()
    assert not test.exception, test.exception
    assert [t.value for t in test.title] == ["Обзор: все аккаунты"]
    (table,) = [d.value for d in test.dataframe]
    assert list(table["account"])[-1] == "Итого"
    assert _switcher(test)[-1] == "Все аккаунты"


def test_attribution_of_all_accounts_sums_each_accounts_table(
    agency_env: Path, downloads: list[tuple[bytes, str]]
) -> None:
    each = {}
    for name in ("client-a", "client-b"):
        one = _open(EVERYONE, account=name, page="attribution")
        (table,) = [d.value for d in one.dataframe if "requests" in d.value.columns]
        each[name] = dict(zip(table["channel"], table["requests"], strict=True))
    downloads.clear()
    test = _open(EVERYONE, account="all", page="attribution")
    assert [t.value for t in test.title] == ["Attribution: all accounts"]
    (summed,) = [d.value for d in test.dataframe]
    channels = set(each["client-a"]) | set(each["client-b"])
    assert len(summed) == len(channels)
    assert summed["requests"].sum() == sum(sum(e.values()) for e in each.values())
    files = [data.decode("utf-8-sig").splitlines() for data, mime in downloads if mime.startswith("text/csv")]
    (exported,) = [lines for lines in files if lines[0].startswith("channel,")]  # the Overview's came first
    assert exported[0].startswith("channel,requests,callbacks,answered,missed,pending,answer_rate")
    assert len(exported) == len(channels) + 1


def test_a_signed_in_person_limited_to_one_account_sees_only_it_whatever_the_link(agency_env: Path) -> None:
    auth = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "google": {
            "client_id": "id",
            "client_secret": "secret",
            "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
        },
    }
    secrets = {"auth": auth, "accounts": SECRETS["accounts"],
               "access": {"editors": ["owner@agency.ru"],
                          "people": {"@client-a.ru": {"accounts": ["client-a"], "role": "editor"}}}}  # fmt: skip

    def signed_in(email: str, account: str) -> AppTest:
        test = AppTest.from_file(ENTRY, default_timeout=120)
        test.secrets = secrets
        test.user = {"is_logged_in": True, "email": email}
        test.query_params["account"] = account
        test.run()
        assert not test.exception, test.exception
        return test

    own = signed_in("boss@client-a.ru", "client-a")
    asked_b = signed_in("boss@client-a.ru", "client-b")
    assert asked_b.query_params["account"] == "client-a" and _switcher(asked_b) == []
    assert any("may not see" in str(w.value) for w in asked_b.warning)
    assert {m.label: m.value for m in asked_b.metric} == {m.label: m.value for m in own.metric}
    assert _write_forms(asked_b)  # an editor there
    owner_b = signed_in("owner@agency.ru", "client-b")
    assert {m.label: m.value for m in owner_b.metric} != {m.label: m.value for m in own.metric}
