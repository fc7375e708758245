"""Phones and prices as people type them: every usual form means the same value, anything else names the field."""

from __future__ import annotations

import pytest

from dashboard.api import validate
from dashboard.errors import InvalidInput
from dashboard.phones import format_phone, parse_phone, try_parse_phone

TYPED = [
    "8 979 538-21-77",
    "8(979)5382177",
    "+7 979 538 21 77",
    "79795382177",
    "9795382177",
    " +7 (979) 538-21-77 ",
    "8\u00a0979\u00a0538\u201121\u201177",  # no-break spaces and non-breaking hyphens, as a word processor types them
    "8.979.538.21.77",
    "+7\u202f979\u202f538\u202f21\u202f77",
]
NOT_PHONES = [
    "", "   ", "979538217", "997953821770", "+8 979 538 21 77", "+79795382177 ext 5", "1 979 538 21 77",
    "+7 \uff19\uff17\uff19 538 21 77", "+7\u0669\u0667\u0669\u0665\u0663\u0668\u0662\u0661\u0667\u0667",
    "+7 979 538 21 77 8", "phone", "=79795382177", "+7+9795382177",
]  # fmt: skip


@pytest.mark.parametrize("typed", TYPED)
def test_every_usual_way_of_typing_a_phone_means_the_same_phone(typed: str) -> None:
    assert parse_phone(typed) == "+79795382177"
    assert validate.phone("clientPhone", typed) == "+79795382177"


@pytest.mark.parametrize("text", NOT_PHONES)
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_phone(text, "clientPhone")
    assert set(refused.value.fields) == {"clientPhone"}
    assert str(refused.value).startswith("clientPhone: must be +7")
    assert try_parse_phone(text) is None


def test_a_phone_is_shown_grouped_as_people_read_it() -> None:
    assert format_phone("+79795382177") == "+7 979 538-21-77"
    assert format_phone("+4420794601") == "+4420794601"  # not a Russian number: as Newton sent it
    assert format_phone(None) is None


@pytest.mark.parametrize("typed", ["50 000", "50\u00a0000", "50\u202f000", "50000,00", "50000.00", "50000,0", "50000"])
def test_a_price_as_people_type_it_is_whole_roubles(typed: str) -> None:
    assert validate.price("price", typed) == 50_000


@pytest.mark.parametrize(
    "typed", ["50000,50", "50000.01", "1,000", "-1", "- 5", "50 000 ₽", "5e4", "fifty", "", "50000,", ",00", "1.0.0"]
)
def test_a_price_with_a_fraction_a_sign_or_letters_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate.price("price", typed)
    assert set(refused.value.fields) == {"price"}
