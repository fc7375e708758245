"""The Newton JSON API client: one httpx client, checked input, typed answers, errors a person can act on."""

from __future__ import annotations

import base64
import logging
import random
import re
import string
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple

import httpx
import orjson
import polars as pl

from dashboard.api import retry, validate
from dashboard.api.models import (
    ChatKey,
    ChatSession,
    Widget,
    as_sent,
    parse_chats,
    parse_json,
    parse_widgets,
    text_or_none,
)
from dashboard.api.records import UntypedRecords, parse_records, read_records
from dashboard.api.retry import NEVER_SENT, RETRY_EXTENSION, Backoff, Repeat, RetryingTransport, RetryPolicy
from dashboard.errors import (
    ApiError,
    AuthError,
    FieldErrors,
    OutcomeUnknown,
    TransportFailure,
    UnexpectedAnswer,
)

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://eyenewton.ru/api/v1/json"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Connections kept open for the next request: enough for a sync's workers (`SyncOptions.concurrency`) and a page.
POOL = httpx.Limits(max_connections=32, max_keepalive_connections=20, keepalive_expiry=30.0)
EXCERPT_CHARS = 200
# Newton documents no error for bad credentials; these words in an error say it is about them.
_CREDENTIAL_WORDS = re.compile(r"token|токен|userid|user id|авториз|unauthori", re.I)
_CREDENTIAL_FIELDS = frozenset({"token", "userId"})
_MASK = "********"
# The shortest piece of the token that is masked: long enough not to hide ordinary words, short enough that what is
# left shown of a cut-off token is too little to guess the rest.
_PIECE = 6
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# A token echoed in groups ("0123 4567-89AB_CDEF") is read without these; a longer piece is then looked for, so that
# a phone number written in groups does not match a run of the token's digits by chance.
_GROUP_SEPARATORS = frozenset(" \t\r\n\xa0-._:")
_GROUPED_PIECE = 8
_URL_SAFE = str.maketrans("+/", "-_")
# A character escaped as JSON (`\u0041`, either hex case), in a URL (`%41`) or in HTML (`&#x41;`, `&#65;`).
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|%([0-9a-fA-F]{2})|&#[xX]([0-9a-fA-F]{1,6});|&#([0-9]{1,7});")


class Token:
    """The account's API token: kept out of every repr, str, log line and error text."""

    __slots__ = ("_pieces", "_value")

    def __init__(self, value: str) -> None:
        self._value = value.strip()
        self._pieces: tuple[frozenset[str], frozenset[str]] | None = None  # what `redact` looks for, made once

    def reveal(self) -> str:
        """The token itself, for the request body only."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` with the token masked wherever it shows, whole or in part, as typed or transformed.

        A proxy's error page may quote our request cut short, so a prefix of the token is as secret as the whole:
        every piece of `_PIECE` characters or more is masked, in any letter case. A server may also echo it
        transformed: as JSON `\\u` escapes, percent-encoded or as HTML character references (any mix with plain
        characters), in groups ("0123 4567-89AB"), or inside the base64 of a text that holds it (see `_forms`).
        """
        if not self._value:
            return text
        if self._pieces is None:
            self._pieces = _pieces_of(self._value)
        plain, grouped = self._pieces
        masked = [False] * len(text)
        decoded = _decoded(text)
        _mask_pieces(decoded, plain, masked)
        _mask_pieces(_without_separators(decoded), grouped, masked)
        return _collapse_masked(text, masked)

    def __repr__(self) -> str:
        return "Token('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("a Newton token is not pickled")


def _pieces_of(token: str) -> tuple[frozenset[str], frozenset[str]]:
    """The lower-cased pieces of the token's forms to look for: in decoded text, and in it without separators."""
    forms = _forms(token)
    squeezed = ["".join(c for c in form if c not in _GROUP_SEPARATORS) for form in forms]
    return _all_pieces(forms, _PIECE), _all_pieces(squeezed, _GROUPED_PIECE)


def _all_pieces(forms: list[str], length: int) -> frozenset[str]:
    # A form shorter than a piece is looked for whole.
    return frozenset(f[i : i + length] for f in forms for i in range(max(1, len(f) - length + 1)) if f)


def _forms(token: str) -> list[str]:
    """The token as a server may echo it, lower-cased: as it is, and as part of the base64 of a text that holds it.

    Base64 encodes the token in one of three ways, by its byte offset in that text modulo 3. Of each, only the
    characters that depend on the token's bytes alone are certain; those are looked for, in both alphabets
    (standard and URL-safe; padding is never among them).
    """
    data = token.encode()
    forms = [token]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode()
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(data)) // 6]  # whole sextets of the token's bits
        forms += [core, core.translate(_URL_SAFE)]
    return list(dict.fromkeys(form.translate(_ASCII_LOWER) for form in forms if form))


class _View(NamedTuple):
    """Text as it is read for the token: lower-cased characters, and where each one came from in the original."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]


def _decoded(text: str) -> _View:
    """`text` lower-cased, each escape (`\\u0041`, `%41`, `&#x41;`, `&#65;`) read as the character it stands for."""
    lowered = text.translate(_ASCII_LOWER)  # not str.lower, which may change the length of non-ASCII text
    if not _ESCAPE.search(text):
        return _View(lowered, range(len(text)), range(1, len(text) + 1))
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        chars += lowered[position : match.start()]
        starts += range(position, match.start())
        ends += range(position + 1, match.start() + 1)
        hex_code, decimal = match.group(1) or match.group(2) or match.group(3), match.group(4)
        code = int(hex_code, 16) if hex_code else int(decimal)
        chars.append(chr(code).translate(_ASCII_LOWER) if code <= sys.maxunicode else "\ufffd")
        starts.append(match.start())
        ends.append(match.end())
        position = match.end()
    chars += lowered[position:]
    starts += range(position, len(text))
    ends += range(position + 1, len(text) + 1)
    return _View("".join(chars), starts, ends)


def _without_separators(view: _View) -> _View:
    """The view with the characters that may separate groups taken out."""
    keep = [i for i, char in enumerate(view.text) if char not in _GROUP_SEPARATORS]
    if len(keep) == len(view.text):
        return view
    return _View("".join(view.text[i] for i in keep), [view.starts[i] for i in keep], [view.ends[i] for i in keep])


def _mask_pieces(view: _View, pieces: frozenset[str], masked: list[bool]) -> None:
    """Mark in `masked` the original text under every run of `view` that is one of `pieces`."""
    for length in sorted({len(piece) for piece in pieces}):
        for start in range(len(view.text) - length + 1):
            if view.text[start : start + length] in pieces:
                first, last = view.starts[start], view.ends[start + length - 1]
                masked[first:last] = [True] * (last - first)


def _collapse_masked(text: str, masked: list[bool]) -> str:
    """`text` with each run of masked characters replaced by one mask."""
    out: list[str] = []
    for char, hidden in zip(text, masked, strict=True):
        if not hidden:
            out.append(char)
        elif not out or out[-1] != _MASK:
            out.append(_MASK)
    return "".join(out)


@dataclass(frozen=True)
class Credentials:
    """Who we are to Newton: the user id and its token (both from the account's settings)."""

    user_id: str
    token: Token


@dataclass(frozen=True)
class RecordFilter:
    """Optional `callback.GetRecords` filters; dates are UTC, both bounds inclusive."""

    request_date_from: str | None = None
    request_date_to: str | None = None
    call_start_date_from: str | None = None
    call_start_date_to: str | None = None
    call_end_date_from: str | None = None
    call_end_date_to: str | None = None
    request_sent: bool | None = None
    call_successful: bool | None = None

    def params(self) -> dict[str, str]:
        """The filters as Newton's params, each checked."""
        params = validate.Params()
        dates = {
            "requestDateFrom": self.request_date_from,
            "requestDateTo": self.request_date_to,
            "callStartDateFrom": self.call_start_date_from,
            "callStartDateTo": self.call_start_date_to,
            "callEndDateFrom": self.call_end_date_from,
            "callEndDateTo": self.call_end_date_to,
        }
        for field, value in dates.items():
            params.add_optional(field, validate.date, value)
        checked = params.result()
        if self.request_sent is not None:
            checked["requestStatus"] = "1" if self.request_sent else "0"
        if self.call_successful is not None:
            checked["callStatus"] = "1" if self.call_successful else "0"
        return checked


class NewtonClient:
    """Speaks all seven actions of Newton's JSON API."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str = DEFAULT_API_URL,
        transport: httpx.BaseTransport | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self._credentials = credentials
        self._api_url = api_url
        self._backoff = backoff or Backoff()
        self._sleep = sleep or time.sleep
        self._rng = random.Random()  # noqa: S311 - jitter, not security
        # One httpx.Client for every thread: it is thread-safe, so a sync's workers share its connection pool (kept
        # alive between requests) and the retrying transport's one rate limit.
        inner = transport or httpx.HTTPTransport(limits=POOL)
        self._http = httpx.Client(
            transport=RetryingTransport(inner, backoff=self._backoff, sleep=self._sleep),
            timeout=timeout,
            headers={"User-Agent": "newton-dashboard", "Accept": "application/json, text/html"},
        )

    def __repr__(self) -> str:
        return f"NewtonClient(api_url={self._api_url!r}, user_id={self._credentials.user_id!r})"

    def __enter__(self) -> NewtonClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    # Reads -----------------------------------------------------------------------------------------------

    def get_widgets(self) -> list[Widget]:
        """The account's callback widgets with their departments."""
        return parse_widgets(self._asked_object("callback.GetWidgets", {}, Repeat.SAFE))

    def get_records(self, filters: RecordFilter | None = None) -> pl.DataFrame:
        """Callback records matching `filters`, typed (see `dashboard.api.records.RECORD_SCHEMA`)."""
        params = (filters or RecordFilter()).params()
        return parse_records(self._asked_object("callback.GetRecords", params, Repeat.SAFE))

    def get_untyped_records(self, filters: RecordFilter | None = None) -> UntypedRecords:
        """`get_records` checked but not typed yet: a sync types many answers at once (`typed_records`)."""
        params = (filters or RecordFilter()).params()
        return read_records(self._asked_object("callback.GetRecords", params, Repeat.SAFE))

    def get_chat_history(
        self,
        widget_id: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        known: Collection[ChatKey] = (),
    ) -> list[ChatSession]:
        """Chat sessions, of one widget or (without `widget_id`) of all; sessions whose key is `known` are skipped."""
        params = validate.Params()
        params.add_optional("widgetId", validate.identifier, widget_id)
        params.add_optional("dateFrom", validate.date, date_from)
        params.add_optional("dateTo", validate.date, date_to)
        return parse_chats(self._call("chat.GetHistory", params.result(), Repeat.SAFE), known)

    # Writes ----------------------------------------------------------------------------------------------

    def set_lead_price(self, call_id: str, price: int | str) -> None:
        """Set what a call's lead was worth (idempotent: safe to repeat)."""
        self._write("callback.SetLeadPrice", validate.lead_price_params(call_id, price), Repeat.SAFE)

    def create_crm_lead(self, phone: str, price: int | str, date: str | None = None) -> None:
        """Create a deal in Newton for the lead that called from `phone`."""
        params = validate.crm_lead_params(phone, price, date)
        self._write("callback.CreateCrmLead", params, Repeat.ONLY_IF_NEVER_SENT)

    def create_request(
        self, client_phone: str, widget_id: str, department_id: str | None = None, referer: str | None = None
    ) -> None:
        """Ask Newton to place a real callback to `client_phone` through a widget."""
        params = validate.callback_request_params(client_phone, widget_id, department_id, referer)
        self._write("callback.CreateRequest", params, Repeat.ONLY_IF_NEVER_SENT)

    def application_request(
        self,
        client_phone: str,
        widget_id: str,
        *,
        department_id: str | None = None,
        referer: str | None = None,
        name: str | None = None,
        email: str | None = None,
        text: str | None = None,
    ) -> None:
        """Send an application (a written request) through a widget."""
        params = validate.application_params(
            client_phone, widget_id, department_id=department_id, referer=referer, name=name, email_=email,
            text_=text,
        )  # fmt: skip
        self._write("callback.ApplicationRequest", params, Repeat.ONLY_IF_NEVER_SENT)

    # The wire --------------------------------------------------------------------------------------------

    def _write(self, action: str, params: dict[str, str], repeat: Repeat) -> None:
        answer = self._call(action, params, repeat)
        if isinstance(answer, dict) and text_or_none(answer.get("result")) == "ok":
            return
        unconfirmed = orjson.dumps(answer, default=as_sent)
        raise UnexpectedAnswer(self._excerpt(f"{action}: Newton did not confirm the write", unconfirmed))

    def _call(self, action: str, params: dict[str, str], repeat: Repeat) -> Any:
        body = {
            "action": action,
            "params": {
                "token": self._credentials.token.reveal(),
                "userId": self._credentials.user_id,
                **params,
            },
        }
        content = orjson.dumps(body)
        # An HTML page or cut-off JSON with status 200 reached Newton: a safe action is asked again, with backoff.
        policy = RetryPolicy(self._backoff.retries, lambda error: isinstance(error, _NotJson), self._backoff)

        def on_retry(error: Exception, number: int, wait: float) -> None:
            log.info("%s: Newton's answer was not JSON; retry %d in %.1f s", action, number, wait)

        try:
            return retry.call_with_retries(
                lambda: self._answer(action, content, repeat), policy, sleep=self._sleep, rng=self._rng,
                on_retry=on_retry,
            )  # fmt: skip
        except _NotJson as error:
            raise UnexpectedAnswer(error.problem) from None

    def _answer(self, action: str, content: bytes, repeat: Repeat) -> Any:
        """One request and its checked answer."""
        response = self._send(action, content, repeat)
        status = response.status_code
        if status in (401, 403):
            raise AuthError(f"HTTP {status}")
        if status >= 500 or status in (408, 429):
            if repeat is Repeat.ONLY_IF_NEVER_SENT:
                raise OutcomeUnknown(action, f"HTTP {status}")
            raise TransportFailure(f"{action}: Newton kept failing (HTTP {status}); try again later")
        answer = _json_or_unreadable(response.content)
        if answer is _UNREADABLE:
            problem = self._excerpt(f"{action}: Newton's answer is not JSON (HTTP {status})", response.content)
            if not 200 <= status < 300:
                raise UnexpectedAnswer(problem)
            # The request reached Newton, which may have acted on it.
            if repeat is Repeat.ONLY_IF_NEVER_SENT:
                raise OutcomeUnknown(action, f"HTTP {status}, but the answer is not JSON")
            raise _NotJson(problem)
        if not 200 <= status < 300:
            self._raise_for_errors(answer)
            raise UnexpectedAnswer(self._excerpt(f"{action}: HTTP {status}", response.content))
        self._raise_for_errors(answer)
        return answer

    def _send(self, action: str, content: bytes, repeat: Repeat) -> httpx.Response:
        try:
            response = self._http.post(
                self._api_url,
                content=content,
                headers={"Content-Type": "application/json"},
                extensions={RETRY_EXTENSION: repeat},
            )
        except NEVER_SENT as error:
            raise TransportFailure(
                f"{action}: cannot connect to Newton ({type(error).__name__}); nothing was sent"
            ) from None
        except httpx.HTTPError as error:
            if repeat is Repeat.ONLY_IF_NEVER_SENT:
                raise OutcomeUnknown(action, type(error).__name__) from None
            raise TransportFailure(
                f"{action}: Newton did not answer ({type(error).__name__}); try again later"
            ) from None
        log.debug("%s answered HTTP %d, %d bytes", action, response.status_code, len(response.content))
        return response

    def _raise_for_errors(self, answer: Any) -> None:
        if not isinstance(answer, dict):
            return
        fields = answer.get("errors")
        if isinstance(fields, dict) and fields:
            redact = self._credentials.token.redact  # Newton's words, and even its field names, may echo the token
            messages = {redact(str(k)): redact(text_or_none(v) or "") for k, v in fields.items()}
            if _CREDENTIAL_FIELDS & messages.keys():
                raise AuthError("; ".join(f"{k}: {v}" for k, v in messages.items()))
            raise FieldErrors(messages)
        if isinstance(fields, list) and fields:
            raise ApiError(self._credentials.token.redact("; ".join(text_or_none(v) or "" for v in fields)))
        if "error" in answer and answer["error"] not in (None, "", False):
            message = self._credentials.token.redact(text_or_none(answer["error"]) or "")
            if _CREDENTIAL_WORDS.search(message):
                raise AuthError(message)
            raise ApiError(message)

    def _asked_object(self, action: str, params: dict[str, str], repeat: Repeat) -> dict[str, Any]:
        """`action`'s answer, which must be a JSON object; anything else is an UnexpectedAnswer naming `action`."""
        answer = self._call(action, params, repeat)
        if not isinstance(answer, dict):
            shape = orjson.dumps(answer, default=as_sent)
            raise UnexpectedAnswer(self._excerpt(f"{action}: Newton's answer is not a JSON object", shape))
        return answer

    def _excerpt(self, what: str, body: bytes) -> str:
        # Masked after a generous cut: a long page costs nothing, and no token is split at the cut.
        text = body[: EXCERPT_CHARS * 4 + 256].decode("utf-8", errors="replace")
        text = self._credentials.token.redact(text)[:EXCERPT_CHARS].strip()
        return f"{what}: {text!r}" if text else f"{what}: empty answer"


_UNREADABLE: Any = object()


class _NotJson(Exception):
    """A safe action's answer with HTTP 2xx that is not JSON: asked again while the retries last."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _json_or_unreadable(content: bytes) -> Any:
    """The parsed answer, or `_UNREADABLE` when it is not JSON (an HTML page, an empty or cut-off body)."""
    try:
        return parse_json(content)
    except ValueError:
        return _UNREADABLE


__all__ = [
    "DEFAULT_API_URL",
    "Credentials",
    "NewtonClient",
    "RecordFilter",
    "Token",
]
