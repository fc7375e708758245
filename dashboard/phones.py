"""Phones as people type them and as people read them: one parser (the check every phone field uses) and one
way to show a phone on screen and in the "as on screen" export."""

from __future__ import annotations

import re

import polars as pl

from dashboard.api import validate
from dashboard.errors import InvalidInput

_CANONICAL_PATTERN = r"\+7([0-9]{3})([0-9]{3})([0-9]{2})([0-9]{2})"
_CANONICAL = re.compile(_CANONICAL_PATTERN)


def parse_phone(text: object, field: str = "phone") -> str:
    """The phone as Newton wants it (`+79795382177`) from any usual way of typing it; `InvalidInput` naming
    `field` otherwise."""
    return validate.phone(field, text)


def try_parse_phone(text: object) -> str | None:
    """The phone as Newton wants it, or None when `text` is not a whole phone number (a search for part of one)."""
    try:
        return parse_phone(text)
    except InvalidInput:
        return None


def format_phone(phone: str | None) -> str | None:
    """A phone as people read it, `+7 979 538-21-77`; anything else (a foreign number, Newton's odd value) as it
    is. Its spaces also keep a spreadsheet from reading it as the number 7.98E+10."""
    if phone is None:
        return None
    match = _CANONICAL.fullmatch(phone)
    if match is None:
        return phone
    code, first, second, third = match.groups()
    return f"+7 {code} {first}-{second}-{third}"


def format_phones(phones: pl.Series) -> pl.Series:
    """`format_phone` of every phone of a column at once (a missing one stays missing)."""
    # The whole value, as `fullmatch`: in polars' regex engine `$` is only the very end, as `\Z` is in Python's.
    return phones.str.replace(f"^{_CANONICAL_PATTERN}$", "+7 ${1} ${2}-${3}-${4}")


def as_sent(text: str) -> str:
    """The phone a write was sent to, as people read it (what was typed, when it was not one): a confirmation shows
    the number Newton calls, not the keystrokes, so a misread number is seen at once."""
    return format_phone(try_parse_phone(text)) or text
