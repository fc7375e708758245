# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The marketer's words: numbers and plurals as each language writes them, codes in words, a definition for every
metric and column, and our own input checks worded in the page's language."""

from __future__ import annotations

import re

import polars as pl
import pytest

from dashboard import charts, i18n
from dashboard.api import validate
from dashboard.errors import InvalidInput
from tests.conftest import ROOT

NBSP = "\u00a0"


def test_russian_numbers_group_with_a_no_break_space_and_use_a_decimal_comma() -> None:
    assert i18n.integer(1234567, "ru") == f"1{NBSP}234{NBSP}567"
    assert i18n.percent(0.816, "ru") == f"81,6{NBSP}%"
    assert i18n.decimal(131.14, "ru") == "131,1"
    assert i18n.roubles(12500, "ru") == f"12{NBSP}500{NBSP}₽"
    assert i18n.change(0.5, 0.4, "ru", as_points=True) == f"+10,0{NBSP}п.п."


def test_english_numbers_group_with_commas_and_use_a_decimal_point() -> None:
    assert i18n.integer(1234567, "en") == "1,234,567"
    assert i18n.percent(0.816, "en") == "81.6%"
    assert i18n.decimal(131.14, "en") == "131.1"
    assert i18n.seconds(387, "en") == f"6{NBSP}min 27{NBSP}s"


def test_a_duration_of_hours_or_days_reads_in_hours_or_days() -> None:
    assert i18n.duration(387, "en") == f"6{NBSP}min 27{NBSP}s"  # under an hour, as a callback speed
    assert i18n.duration(3 * 3600 + 5 * 60 + 40, "en") == f"3{NBSP}h 5{NBSP}min"
    assert i18n.duration(7 * 86400 + 15 * 3600 + 59, "ru") == f"7{NBSP}дн 15{NBSP}ч"
    assert i18n.duration(2 * 86400, "en") == f"2{NBSP}d"
    assert i18n.duration(None, "ru") == i18n.seconds(None, "ru")


@pytest.mark.parametrize(
    ("count", "russian", "english"),
    [
        (1, "1 звонок", "1 call"),
        (2, "2 звонка", "2 calls"),
        (5, "5 звонков", "5 calls"),
        (11, "11 звонков", "11 calls"),
        (21, "21 звонок", "21 calls"),
        (22, "22 звонка", "22 calls"),
        (1000, f"1{NBSP}000 звонков", "1,000 calls"),
    ],
)
def test_a_count_takes_the_plural_form_its_language_asks_for(count: int, russian: str, english: str) -> None:
    assert i18n.plural(count, "calls", "ru") == russian
    assert i18n.plural(count, "calls", "en") == english


def test_every_noun_has_every_plural_form_of_each_language() -> None:
    assert set(i18n.PLURALS["en"]) == set(i18n.PLURALS["ru"])
    for forms in i18n.PLURALS["ru"].values():
        assert {"one", "few", "many", "other"} <= set(forms)


def test_codes_read_as_words_in_both_languages_and_unknown_codes_as_sent() -> None:
    assert i18n.label("call_status", "CLIENT_NO_ANSWER", "en") == "Client did not answer"
    assert i18n.label("call_status", "CLIENT_NO_ANSWER", "ru") == "Клиент не ответил"
    assert i18n.label("type", "application", "ru") == "Заявка с формы"
    assert i18n.label("device_type", "mobile", "ru") == "Смартфон"
    assert i18n.label("channel", "paid_search", "ru") == "Платный поиск"
    assert i18n.label("write_outcome", "refused", "ru") == "отклонено"
    assert i18n.label("sync_outcome", "interrupted", "ru") == "прервано"
    assert i18n.label("call_status", "CALLBACK_CANCELLED", "ru") == "CALLBACK_CANCELLED"  # newer than the dashboard
    assert i18n.label("call_status", "BAD\u202eCODE", "ru") == "BAD[U+202E]CODE"  # shown, never reordering text


@pytest.mark.parametrize("empty", [None, "", "(none)", "  "])
def test_an_empty_value_is_called_not_set_in_both_languages(empty: str | None) -> None:
    assert i18n.label("utm_source", empty, "en") == "(not set)"
    assert i18n.label("call_status", empty, "ru") == "(не задано)"


def test_every_code_has_its_words_in_both_languages() -> None:
    for kind, codes in i18n.CODE_NAMES.items():
        for code, words in codes.items():
            assert len(words) == len(i18n.LANGUAGES) and all(words), (kind, code)


def test_a_breakdown_by_call_status_names_the_statuses_on_the_chart() -> None:
    frame = pl.DataFrame(
        {
            "call_status": ["CLIENT_ANSWER", "OPERATOR_BUSY", "(none)"],
            "requests": [5, 3, 1],
            "callbacks": [5, 3, 1],
            "answered": [5, 0, 0],
            "answer_rate": [1.0, 0.0, 0.0],
        }
    )
    figure = charts.answer_rate_by(frame, "call_status", lang="ru")
    assert list(figure.data[0].y) == ["Клиент ответил", "Оператор занят", "(не задано)"]


def _defined_in_docs() -> set[str]:
    """The metric and dimension names in docs/metrics.md's tables, and the columns its report section lists."""
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    names = set()
    for line in doc.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    report = doc.split("## Report columns", 1)[1].split("\n## ", 1)[0]
    for item in report.split("\n- ")[1:]:  # a bullet per report, wrapped over lines: its columns after the colon
        names.update(re.findall(r"`([a-z0-9_]+)`", item.split(":", 1)[1].split("\n\n")[0]))
    return names


def test_every_metric_and_report_column_in_the_docs_has_a_definition_in_both_languages() -> None:
    defined = _defined_in_docs()
    assert {"requests", "answer_rate", "within_30s_share", "first_response_p90_seconds", "device_type"} <= defined
    for lang in i18n.LANGUAGES:
        assert sorted(defined - set(i18n.GLOSSARY[lang])) == [], lang
    assert "24" in (i18n.help_text("pending", "ru") or "")


def test_the_glossary_says_the_same_things_in_both_languages() -> None:
    assert set(i18n.GLOSSARY["en"]) == set(i18n.GLOSSARY["ru"])


def test_our_own_checks_are_worded_in_the_pages_language_and_in_english_for_the_cli() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate.crm_lead_params("123", "abc", "2026-02-30")
    fields = raised.value.fields
    assert str(raised.value).splitlines()[0] == "phone: must be +7 followed by 10 digits, e.g. +79991234567"
    assert i18n.field_message(fields["phone"], "ru") == "нужен номер: +7 и 10 цифр, например +79991234567"
    assert i18n.field_message(fields["price"], "ru") == "нужно целое число рублей, 0 или больше"
    assert i18n.field_message(fields["date"], "ru") == "такой даты нет в календаре"
    assert i18n.field_message(fields["date"], "en") == "is not a real calendar date"


def test_newtons_own_words_are_shown_as_newton_wrote_them() -> None:
    assert i18n.field_message("Номер введен неверно", "ru") == "Номер введен неверно"
    # An English sentence that merely reads like one of ours is not ours: it is not translated back.
    assert i18n.field_message("must not be empty", "ru") == "must not be empty"


def test_every_message_key_is_worded_in_both_languages() -> None:
    assert set(i18n.FIELD_MESSAGES["en"]) == set(i18n.FIELD_MESSAGES["ru"])
