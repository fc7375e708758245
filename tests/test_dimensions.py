"""A dimension is declared once (dashboard/dimensions.py): one more declaration is a filter in the sidebar and in
the link, a breakdown of the Attribution page and of the report CLI, a filter of the CLI, named in both languages."""

from __future__ import annotations

import csv
import importlib
import io
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import cli
from dashboard.dimensions import DIMENSIONS, Dimension, Filter, Words, filterable, text
from dashboard.errors import EXIT_OK
from dashboard.metrics import Filters
from dashboard.ui import links
from tests.conftest import ENTRY
from tests.test_links import opened, url
from tests.test_page_attribution import headers, shown_names, table_of

# The visitor's country, as Newton geolocates it: not a dimension of the dashboard (yet).
COUNTRY = Dimension(
    "country", lambda f: text(f("ipCountry")), Words("Country", "Страна"), Filter(8, Words("Countries", "Страны"))
)


@pytest.fixture
def country(monkeypatch: pytest.MonkeyPatch) -> Dimension:
    # Everything that reads the table is loaded first, as on a running server: a copy taken on import would show.
    for module in ("dashboard.ui.sidebar", "dashboard.ui.links", "dashboard.charts", "dashboard.cli"):
        importlib.import_module(module)
    monkeypatch.setitem(DIMENSIONS, COUNTRY.key, COUNTRY)
    return COUNTRY


@pytest.mark.slow  # the whole app under AppTest, on the synced demo account
def test_a_declared_filter_is_in_the_sidebar_and_the_link(app_env: Path, country: Dimension) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.run()
    assert not test.exception, test.exception
    picker = test.multiselect(key="f_country")
    assert picker.label == "Countries"
    assert {"RU", "BY"} <= set(picker.options)  # where the demo account's callers are
    picker.set_value(["BY"]).run()
    assert not test.exception, test.exception
    assert url(test)["country"] == ["BY"]

    again = opened({"lang": "ru", "country": "BY"}, "app_pages/overview.py")  # another person opens the link
    assert again.multiselect(key="f_country").value == ["BY"]
    assert again.multiselect(key="f_country").label == "Страны"
    assert url(again)["country"] == ["BY"]


@pytest.mark.slow  # the whole app under AppTest, on the synced demo account
def test_a_declared_dimension_is_an_attribution_breakdown_in_both_languages(app_env: Path, country: Dimension) -> None:
    english = opened({"by": "country"}, "app_pages/attribution.py")
    assert english.selectbox(key="attribution_by").value == "country"
    assert "Country" in english.selectbox(key="attribution_by").options
    assert headers(table_of(english))["country"] == "Country"

    russian = opened({"lang": "ru", "by": "country", "country": ["BY", "KZ"]}, "app_pages/attribution.py")
    assert headers(table_of(russian))["country"] == "Страна"
    assert sorted(shown_names(table_of(russian), "country")) == ["BY", "KZ"]  # the filter applies to the table
    assert url(russian)["by"] == ["country"] and url(russian)["country"] == ["BY", "KZ"]


def report(capsys: pytest.CaptureFixture[bytes], *args: str) -> list[dict[str, str]]:
    assert cli.main(["report", *args]) == EXIT_OK
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out.decode("utf-8-sig"))))


@pytest.mark.slow  # the whole app under AppTest, on the synced demo account
def test_a_declared_dimension_is_a_breakdown_and_a_filter_of_the_report_cli(
    app_env: Path, country: Dimension, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    every = report(capsysbinary, "attribution", "--by", "country", "--cache", str(app_env))
    assert {"RU", "BY", "KZ"} <= {row["country"] for row in every}
    chosen = report(capsysbinary, "attribution", "--by", "utm_source", "--country", "KZ", "--cache", str(app_env))
    kazakh = next(row for row in every if row["country"] == "KZ")
    assert sum(int(row["requests"]) for row in chosen) == int(kazakh["requests"])


def test_values_chosen_are_a_key_whatever_order_they_were_given_in() -> None:
    first = Filters(chosen={"channel": ("email",), "type": ("callback",)})
    second = Filters(chosen={"type": ("callback",), "channel": ("email",), "utm_source": ()})
    assert first == second and hash(first) == hash(second)
    assert {first: "kept"}[second] == "kept"


def test_every_filter_has_a_link_parameter_of_its_own() -> None:
    named = [dimension.url_param for dimension in filterable()]
    taken = {"lang", "preset", "from", "to", "compare"} | {p.name for page in links.PAGES.values() for p in page}
    assert len(set(named)) == len(named) and not set(named) & taken
    assert named == ["widget", "department", "channel", "utm_source", "utm_campaign", "type", "status"]  # as always
