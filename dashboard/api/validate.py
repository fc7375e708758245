"""Checks on what we send, with the same field names as Newton's own errors, so a form shows both alike."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime

from dashboard.errors import InvalidInput
from dashboard.i18n import Problem

# ASCII digits only: Python's `\d` also matches Arabic-Indic and full-width digits, which Newton would get as typed.
# A Russian number as people type it, once the separators are gone: +7, 7 or 8 and the 10 digits, or the 10 digits
# alone. Ten digits starting with 7 or 8 are refused: they are as likely an 11-digit number missing its last digit
# ("8 979 538 21 7") as a number without its prefix, and guessing would call, or book a deal for, a stranger.
_PHONE = re.compile(r"(?:\+7|7|8)([0-9]{10})|([0-69][0-9]{9})")
# What people put between the digits: spaces of every kind (no-break ones too), dashes, dots and brackets.
_PHONE_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015\u2212]")
# Whole roubles, as typed: digits grouped in threes by a space of any kind ("50 000") or not at all, and at most a
# zero fraction ("50000,00"). "5 0" is a typo, not 50. Any script's decimal digits will do (full-width digits from
# an input method make 1500): the price is sent as the number they make, unlike a phone, which Newton gets as typed.
_PRICE = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})*|\d+)(?:[.,]0{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Newton stores prices as integers; this bound keeps a typo (or an extra 0…0) from becoming a real deal value.
MAX_PRICE = 10**12


def phone(field: str, value: object) -> str:
    """A phone number as Newton wants it, +7 and 10 digits, from any way people type it: `8 979 538-21-77`,
    `8(979)5382177`, `+7 979 538 21 77`, `79795382177` or `9795382177` all give `+79795382177`."""
    match = _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", str(value or "")))
    if match is None:
        raise InvalidInput({field: Problem("phone_format", example="+79991234567")})
    return "+7" + (match.group(1) or match.group(2))


def price(field: str, value: object) -> int:
    """A non-negative whole number of roubles, as typed: `50 000` (any space), `50000,00` or `50000.00`."""
    if isinstance(value, bool):
        raise InvalidInput({field: Problem("whole_roubles")})
    if isinstance(value, int):
        number = value
    else:
        match = _PRICE.fullmatch(str(value if value is not None else "").strip())
        if match is None:
            raise InvalidInput({field: Problem("whole_roubles")})
        digits = re.sub(r"\D", "", match.group(1)).lstrip("0") or "0"
        if len(digits) > len(str(MAX_PRICE)):  # int() refuses over 4,300 digits with a ValueError
            raise InvalidInput({field: Problem("price_range", limit=MAX_PRICE)})
        number = int(digits)
    if not 0 <= number <= MAX_PRICE:
        raise InvalidInput({field: Problem("price_range", limit=MAX_PRICE)})
    return number


def date(field: str, value: object) -> str:
    """A UTC date `YYYY-MM-DD` or timestamp `YYYY-MM-DD HH:MM:SS` that exists on the calendar."""
    text = str(value if value is not None else "").strip()
    if _DATE.fullmatch(text):
        fmt = "%Y-%m-%d"
    elif _TIMESTAMP.fullmatch(text):
        fmt = "%Y-%m-%d %H:%M:%S"
    else:
        raise InvalidInput({field: Problem("utc_date_or_time")})
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        raise InvalidInput({field: Problem("not_a_calendar_date")}) from None
    return text


def identifier(field: str, value: object) -> str:
    """A non-empty id (Newton's ids are opaque strings)."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise InvalidInput({field: Problem("empty")})
    # Control and format characters (NUL, a right-to-left override, a zero-width space) are never part of an id;
    # an override would also show the id reversed in a preview.
    if len(text) > 200 or any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidInput({field: Problem("single_id")})
    return text


def email(field: str, value: object) -> str:
    """An e-mail address, loosely checked (Newton checks it again)."""
    text = str(value if value is not None else "").strip()
    if not _EMAIL.fullmatch(text):
        raise InvalidInput({field: Problem("email_format", example="ivan@example.com")})
    return text


def url(field: str, value: object) -> str:
    """The page a request claims to come from: an http(s) URL."""
    text = str(value if value is not None else "").strip()
    if not re.match(r"https?://[^\s/]+", text, flags=re.IGNORECASE):
        raise InvalidInput({field: Problem("http_url")})
    return text


class Params:
    """Builds the params of one call, checking every field and reporting all bad ones together."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._errors: dict[str, str] = {}

    def add(self, field: str, check: Callable[[str, object], object], value: object) -> None:
        """Check `value` and keep it, as the string Newton expects, under `field`."""
        try:
            self._values[field] = str(check(field, value))
        except InvalidInput as error:
            self._errors.update(error.fields)

    def add_optional(self, field: str, check: Callable[[str, object], object], value: object) -> None:
        """Like `add`, but an empty value is left out of the call."""
        if value is not None and str(value).strip() != "":
            self.add(field, check, value)

    def result(self) -> dict[str, str]:
        """The checked params, or one `InvalidInput` naming every bad field."""
        if self._errors:
            raise InvalidInput(self._errors)
        return dict(self._values)


def text(field: str, value: object) -> str:
    """Free text as typed (Newton keeps it as the visitor wrote it)."""
    del field
    return str(value)


# The params of each write, checked: one definition, used by the client that sends them and by the dashboard's
# Writer, which claims a write by its checked content before it is sent.


def lead_price_params(call_id: object, price_: object) -> dict[str, str]:
    """callback.SetLeadPrice."""
    params = Params()
    params.add("id", identifier, call_id)
    params.add("price", price, price_)
    return params.result()


def crm_lead_params(phone_: object, price_: object, date_: object = None) -> dict[str, str]:
    """callback.CreateCrmLead."""
    params = Params()
    params.add("phone", phone, phone_)
    params.add("price", price, price_)
    params.add_optional("date", date, date_)
    return params.result()


def _widget_request(client_phone: object, widget_id: object, department_id: object, referer: object) -> Params:
    """What a test callback and a test application both send: who, to which widget (and department), from where."""
    params = Params()
    params.add("clientPhone", phone, client_phone)
    params.add("widgetId", identifier, widget_id)
    params.add_optional("departmentId", identifier, department_id)
    params.add_optional("referer", url, referer)
    return params


def callback_request_params(
    client_phone: object, widget_id: object, department_id: object = None, referer: object = None
) -> dict[str, str]:
    """callback.CreateRequest."""
    return _widget_request(client_phone, widget_id, department_id, referer).result()


def application_params(
    client_phone: object,
    widget_id: object,
    *,
    department_id: object = None,
    referer: object = None,
    name: object = None,
    email_: object = None,
    text_: object = None,
) -> dict[str, str]:
    """callback.ApplicationRequest."""
    params = _widget_request(client_phone, widget_id, department_id, referer)
    params.add_optional("name", text, name)
    params.add_optional("email", email, email_)
    params.add_optional("text", text, text_)
    return params.result()
