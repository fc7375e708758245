# ruff: noqa: RUF001 - Newton's messages are Russian; their Cyrillic letters are meant.
"""`DemoNewton`: the seven Newton actions over the generated account, with the real service's answers and errors.

Days are generated lazily, on the first request that touches them, and kept as one pre-serialized JSON object
per record, so an answer is a join of byte strings. What a client sees depends on the clock: a record is visible
once its `requestDate` has passed, and shows as pending (no call outcome) until its call is over; a chat shows the
messages written so far. The history starts 179 days before the day the `DemoNewton` was made and never moves,
so advancing the clock only ever adds records.

Simulation rules where the reference is silent:
- Answers are always HTTP 200 with `Content-Type: text/html; charset=UTF-8`; errors are `{"error": ...}` or
  `{"errors": {field: message}}`. Bad credentials: `{"error": "Неверный токен или идентификатор пользователя"}`.
- The request body must be strict JSON (the reference's examples with trailing commas are refused, as a PHP
  `json_decode` refuses them).
- Optional parameters sent as "" count as not sent. Dates are UTC; both bounds are inclusive; a date-only upper
  bound means the end of that day.
- `callStatus` 1 selects `CLIENT_ANSWER`, 0 everything else (pending calls and applications included);
  `requestStatus` 1 selects `success`, 0 everything else.
- Prices are whole numbers from 0 to 10**12, as a JSON number or a string of digits.
- `CreateCrmLead` puts the price on the most recent visible record whose `clientPhone` is the phone; `date` is only
  checked for its format.
- The reference's example widget id equals its example token (which is the demo's token), so the demo's widgets
  have other ids, taken from GetWidgets; the reference's department ids "0" and "99999" exist on the main widget.
- An unknown action is named in the error only when it looks like one (`namespace.Action`), so nothing else a
  client sent is ever echoed.
"""

from __future__ import annotations

import bisect
import calendar
import hmac
import logging
import re
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import orjson

from dashboard.demo.account import (
    FIRST_ADDED_INDEX,
    HISTORY_DAYS,
    ID_EPOCH_TS,
    IDS_PER_DAY,
    ChatSession,
    DemoAccount,
    Department,
    Fields,
    GeneratedRecord,
    Widget,
    blank_record,
    day_number,
    day_of_number,
    format_ts,
    pending_view,
)

log = logging.getLogger(__name__)

# The reference's example credentials: public, and only ever accepted by the demo.
DEMO_TOKEN: Final = "aaaabbbbccccddddeeeeffff00001111"  # noqa: S105
DEMO_USER_ID: Final = "0"
API_PATH: Final = "/api/v1/json"
# Newton labels its JSON answers as HTML; clients must parse the body whatever the header says.
ANSWER_HEADERS: Final = {"Content-Type": "text/html; charset=UTF-8"}
MAX_PRICE: Final = 10**12

BAD_CREDENTIALS: Final = "Неверный токен или идентификатор пользователя"
BAD_REQUEST: Final = "Неверный формат запроса"
NO_ACTION: Final = "Не указано действие"
BAD_DATE: Final = "Неверный формат даты"
BAD_PHONE: Final = "Номер введен неверно"
BAD_PRICE: Final = "Invalid price value"
BAD_VALUE: Final = "Неверное значение"
BAD_EMAIL: Final = "Неверный формат e-mail"
NO_CALL: Final = "Звонок не найден"
NO_CALL_FOR_PHONE: Final = "По номеру не нашлся звонок"
NO_WIDGET: Final = "Виджет не найден"
NO_DEPARTMENT: Final = "Отдел не найден"
TOO_MANY_REQUESTS: Final = "Превышен лимит заявок за сутки"

WRITE_ACTIONS: Final = frozenset(
    {"callback.SetLeadPrice", "callback.CreateCrmLead", "callback.CreateRequest", "callback.ApplicationRequest"}
)
_CREDENTIAL_KEYS: Final = frozenset({"token", "userId"})
_PHONE: Final = re.compile(r"\+7\d{10}")
_DIGITS: Final = re.compile(r"\d+")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIMESTAMP: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")
# Only names shaped like Newton's actions are echoed, so a stray credential sent as the action never is.
_ACTION_NAME: Final = re.compile(r"[A-Za-z]{1,30}\.[A-Za-z]{1,40}")
_NONE: Final = -1
_EARLIEST: Final = -(2**62)
_LATEST: Final = 2**62

Answer = tuple[int, dict[str, str], bytes]


def accepts_path(path: str) -> bool:
    """Whether a URL path is the API endpoint: `/api/v1/json`, or any path whose last segment is `json`."""
    return path.split("?", 1)[0].rstrip("/").endswith("/json")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _FieldErrors(Exception):
    """Newton's `{"errors": {field: message}}`."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class _GeneralError(Exception):
    """Newton's `{"error": message}`."""


# ---------------------------------------------------------------------------------------------- parameters


def _text(params: dict[str, Any], key: str) -> str | None:
    """A parameter as text: strings as sent, integers as digits, absent/null/"" as None, anything else as JSON."""
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # A float, bool, list or object: kept as its JSON text so that every check refuses it.
    return orjson.dumps(value).decode()


def parse_moment(text: str, *, upper: bool = False) -> int | None:
    """`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC) as an epoch second, None when malformed.

    A date alone means the start of that day, or its last second when it is an upper bound.
    """
    match = _TIMESTAMP.fullmatch(text) or _DATE.fullmatch(text)
    if match is None:
        return None
    parts = [int(p) for p in match.groups()]
    year, month, day, hour, minute, second = [*parts, 0, 0, 0][:6]
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    seconds = calendar.timegm(moment.timetuple())
    return seconds + 86_399 if upper and len(parts) == 3 else seconds


def _moment(params: dict[str, Any], key: str, *, upper: bool, errors: dict[str, str]) -> int | None:
    text = _text(params, key)
    if text is None:
        return None
    moment = parse_moment(text, upper=upper)
    if moment is None:
        errors[key] = BAD_DATE
    return moment


def _flag(params: dict[str, Any], key: str, errors: dict[str, str]) -> bool | None:
    text = _text(params, key)
    if text is None:
        return None
    if text not in ("0", "1"):
        errors[key] = BAD_VALUE
        return None
    return text == "1"


def _phone(params: dict[str, Any], key: str, errors: dict[str, str]) -> str:
    text = _text(params, key) or ""
    if not _PHONE.fullmatch(text):
        errors[key] = BAD_PHONE
    return text


def _price(params: dict[str, Any], errors: dict[str, str]) -> int:
    """A whole, non-negative price: 5000 or "5000"; "", "12.5", 12.5, -1 and "1e3" are refused."""
    value = params.get("price")
    if isinstance(value, int) and not isinstance(value, bool):
        price = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        price = int(value)
    else:
        price = -1
    if not 0 <= price <= MAX_PRICE:
        errors["price"] = BAD_PRICE
    return price


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise _FieldErrors(errors)


# ---------------------------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """GetRecords' filters as epoch seconds (inclusive) and flags; None means not filtered."""

    request_from: int = _EARLIEST
    request_to: int = _LATEST
    call_start_from: int | None = None
    call_start_to: int | None = None
    call_end_from: int | None = None
    call_end_to: int | None = None
    request_sent: bool | None = None
    call_answered: bool | None = None

    @property
    def by_request_date_only(self) -> bool:
        return (
            self.call_start_from is None
            and self.call_start_to is None
            and self.call_end_from is None
            and self.call_end_to is None
            and self.request_sent is None
            and self.call_answered is None
        )

    @property
    def latest_request(self) -> int:
        """The latest request that can match: a call never starts or ends before its request."""
        bounds = [b for b in (self.call_start_to, self.call_end_to) if b is not None]
        return min([self.request_to, *bounds])


def _within(value: int, low: int | None, high: int | None) -> bool:
    if low is None and high is None:
        return True
    if value == _NONE:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


# ---------------------------------------------------------------------------------------------- day stores


@dataclass(slots=True)
class _DayStore:
    """One UTC day's records and chats, ordered by time then id, kept as pre-serialized JSON.

    Parallel arrays hold what filters need, for each record's settled state; a pending record's JSON is made once
    and cached. `added` counts records made at runtime, whose ids start at FIRST_ADDED_INDEX within the day.
    """

    number: int
    request_at: array[int] = field(default_factory=lambda: array("q"))
    ids: array[int] = field(default_factory=lambda: array("q"))
    settles_at: array[int] = field(default_factory=lambda: array("q"))
    call_start: array[int] = field(default_factory=lambda: array("q"))
    call_end: array[int] = field(default_factory=lambda: array("q"))
    sent: bytearray = field(default_factory=bytearray)
    answered: bytearray = field(default_factory=bytearray)
    phones: list[str | None] = field(default_factory=list)
    records: list[bytes] = field(default_factory=list)
    pending: dict[int, bytes] = field(default_factory=dict)
    settled_by: int = _EARLIEST
    added: int = 0
    chat_start: array[int] = field(default_factory=lambda: array("q"))
    chat_end: array[int] = field(default_factory=lambda: array("q"))
    chat_widget: list[str] = field(default_factory=list)
    chat_times: list[tuple[int, ...]] = field(default_factory=list)
    chats: list[bytes] = field(default_factory=list)

    def append(self, record: GeneratedRecord) -> None:
        self.insert(len(self.records), record)

    def insert(self, position: int, record: GeneratedRecord) -> None:
        fields = record.fields
        self.request_at.insert(position, record.request_at)
        self.ids.insert(position, int(fields["id"] or 0))
        self.settles_at.insert(position, record.settles_at)
        self.call_start.insert(position, _NONE if record.call_start is None else record.call_start)
        self.call_end.insert(position, _NONE if record.call_end is None else record.call_end)
        self.sent.insert(position, fields.get("requestStatus") == "success")
        self.answered.insert(position, fields.get("callStatus") == "CLIENT_ANSWER")
        self.phones.insert(position, fields.get("clientPhone"))
        self.records.insert(position, _stored_json(fields))
        self.settled_by = max(self.settled_by, record.settles_at)
        if position < len(self.records) - 1:
            self.pending.clear()  # cached by position, which has just shifted

    def fields(self, index: int) -> Fields:
        loaded: Fields = orjson.loads(self.records[index])
        return loaded

    def replace(self, index: int, fields: Fields) -> None:
        self.records[index] = _stored_json(fields)
        self.pending.pop(index, None)

    def visible_json(self, index: int, now: int) -> bytes:
        if self.settles_at[index] <= now:
            return self.records[index]
        cached = self.pending.get(index)
        if cached is None:
            cached = self.pending[index] = _stored_json(pending_view(self.fields(index)))
        return cached

    def matches(self, index: int, wanted: RecordFilter, now: int) -> bool:
        settled = self.settles_at[index] <= now
        call_start = self.call_start[index] if settled else _NONE
        call_end = self.call_end[index] if settled else _NONE
        answered = bool(self.answered[index]) and settled
        return (
            (wanted.request_sent is None or bool(self.sent[index]) == wanted.request_sent)
            and (wanted.call_answered is None or answered == wanted.call_answered)
            and _within(call_start, wanted.call_start_from, wanted.call_start_to)
            and _within(call_end, wanted.call_end_from, wanted.call_end_to)
        )

    def collect_records(self, wanted: RecordFilter, now: int, out: list[bytes]) -> None:
        low = bisect.bisect_left(self.request_at, wanted.request_from)
        high = bisect.bisect_right(self.request_at, min(wanted.request_to, now))
        if wanted.by_request_date_only:
            if self.settled_by <= now:
                out.extend(self.records[low:high])  # the fast path: the whole range as stored
            else:
                out.extend(self.visible_json(index, now) for index in range(low, high))
            return
        for index in range(low, high):
            if self.matches(index, wanted, now):
                out.append(self.visible_json(index, now))

    def latest_with_phone(self, phone: str, now: int) -> int | None:
        if phone not in self.phones:
            return None
        for index in range(len(self.phones) - 1, -1, -1):
            if self.phones[index] == phone and self.request_at[index] <= now:
                return index
        return None

    def collect_chats(self, widget_id: str | None, low: int, high: int, now: int, out: list[bytes]) -> None:
        first = bisect.bisect_left(self.chat_start, low)
        last = bisect.bisect_right(self.chat_start, min(high, now))
        for index in range(first, last):
            if widget_id is not None and self.chat_widget[index] != widget_id:
                continue
            if self.chat_end[index] <= now:
                out.append(self.chats[index])
            else:
                out.append(orjson.dumps(self._chat_so_far(index, now)))

    def chat_session(self, index: int, now: int) -> ChatSession:
        return self._chat_so_far(index, now)

    def _chat_so_far(self, index: int, now: int) -> ChatSession:
        """A session as seen at `now`: only the messages already written."""
        session: ChatSession = orjson.loads(self.chats[index])
        times = self.chat_times[index]
        session["messages"] = [m for m, at in zip(session["messages"], times, strict=True) if at <= now]
        return session


# ---------------------------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class WriteLogEntry:
    """A write action that reached the demo with valid credentials, its params (credentials removed) and answer."""

    action: str
    params: dict[str, Any]
    answer: dict[str, Any]


class DemoNewton:
    """One Newton account behind the JSON API: `handle(body)` answers a request as eyenewton.ru would.

    Thread-safe: a lock serializes requests (the HTTP server is threaded).
    """

    def __init__(
        self,
        records: int = 30_000,
        seed: int = 42,
        token: str = DEMO_TOKEN,
        user_id: str = DEMO_USER_ID,
        clock: Callable[[], datetime] | None = None,
        max_records_per_answer: int | None = None,
    ) -> None:
        """`records`: about how many records the last 180 days hold; `clock` returns aware UTC datetimes;
        `max_records_per_answer` silently truncates GetRecords answers, as a capped real service would."""
        if max_records_per_answer is not None and max_records_per_answer < 0:
            raise ValueError("max_records_per_answer must be 0 or more")
        self.account = DemoAccount(seed=seed, records=records)
        self.max_records_per_answer = max_records_per_answer
        self._token = token.encode()
        self._user_id = user_id.encode()
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._stores: dict[int, _DayStore] = {}
        self._writes: list[WriteLogEntry] = []
        self.first_day: date = self._today() - timedelta(days=HISTORY_DAYS - 1)
        self._actions: dict[str, Callable[[dict[str, Any]], object]] = {
            "callback.GetWidgets": self._get_widgets,
            "callback.GetRecords": self._get_records,
            "chat.GetHistory": self._get_history,
            "callback.SetLeadPrice": self._set_lead_price,
            "callback.CreateCrmLead": self._create_crm_lead,
            "callback.CreateRequest": self._create_request,
            "callback.ApplicationRequest": self._application_request,
        }

    def __repr__(self) -> str:
        # Never the token.
        return f"DemoNewton(records={self.account.records}, seed={self.account.seed})"

    # ------------------------------------------------------------------------------------ the API

    def handle(self, request_body: bytes) -> Answer:
        """Answer one API request body: (HTTP status, headers, JSON body)."""
        with self._lock:
            return 200, dict(ANSWER_HEADERS), self._answer(request_body)

    def _answer(self, request_body: bytes) -> bytes:
        try:
            request = orjson.loads(request_body)
        except orjson.JSONDecodeError:
            return _error(BAD_REQUEST)
        if not isinstance(request, dict):
            return _error(BAD_REQUEST)
        action, params = request.get("action"), request.get("params", {})
        if not isinstance(params, dict):
            return _error(BAD_REQUEST)
        if not isinstance(action, str) or not action:
            return _error(NO_ACTION)
        if not self._credentials_match(params):
            log.debug("demo Newton: refused credentials")
            return _error(BAD_CREDENTIALS)
        handler = self._actions.get(action)
        if handler is None:
            shown = action if _ACTION_NAME.fullmatch(action) else "(unreadable name)"
            return _error(f"Unknown action {shown}")
        try:
            result = handler(params)
        except _FieldErrors as errors:
            body = orjson.dumps({"errors": errors.fields})
        except _GeneralError as error:
            body = _error(str(error))
        else:
            body = result if isinstance(result, bytes) else orjson.dumps(result)
        if action in WRITE_ACTIONS:
            self._log_write(action, params, body)
        log.debug("demo Newton: %s answered (%d bytes)", action, len(body))
        return body

    def _credentials_match(self, params: dict[str, Any]) -> bool:
        token, user_id = _text(params, "token") or "", _text(params, "userId") or ""
        token_ok = hmac.compare_digest(token.encode(), self._token)
        return hmac.compare_digest(user_id.encode(), self._user_id) and token_ok

    def _log_write(self, action: str, params: dict[str, Any], body: bytes) -> None:
        kept = {k: v for k, v in params.items() if k not in _CREDENTIAL_KEYS}
        self._writes.append(WriteLogEntry(action, kept, orjson.loads(body)))

    # ------------------------------------------------------------------------------------ reads

    def _get_widgets(self, params: dict[str, Any]) -> object:
        del params
        return {"widgets": self.widgets}

    def _get_records(self, params: dict[str, Any]) -> bytes:
        wanted = self._record_filter(params)
        pieces = self._visible_records(wanted)
        if self.max_records_per_answer is not None:
            del pieces[self.max_records_per_answer :]
        return _json_list(b'{"records":[', pieces, b"]}")

    def _record_filter(self, params: dict[str, Any]) -> RecordFilter:
        errors: dict[str, str] = {}
        request_from = _moment(params, "requestDateFrom", upper=False, errors=errors)
        request_to = _moment(params, "requestDateTo", upper=True, errors=errors)
        wanted = RecordFilter(
            request_from=_EARLIEST if request_from is None else request_from,
            request_to=_LATEST if request_to is None else request_to,
            call_start_from=_moment(params, "callStartDateFrom", upper=False, errors=errors),
            call_start_to=_moment(params, "callStartDateTo", upper=True, errors=errors),
            call_end_from=_moment(params, "callEndDateFrom", upper=False, errors=errors),
            call_end_to=_moment(params, "callEndDateTo", upper=True, errors=errors),
            request_sent=_flag(params, "requestStatus", errors),
            call_answered=_flag(params, "callStatus", errors),
        )
        _raise_if(errors)
        return wanted

    def _visible_records(self, wanted: RecordFilter) -> list[bytes]:
        now = self._now()
        pieces: list[bytes] = []
        for store in self._stores_between(wanted.request_from, wanted.latest_request):
            store.collect_records(wanted, now, pieces)
        return pieces

    def _get_history(self, params: dict[str, Any]) -> bytes:
        errors: dict[str, str] = {}
        widget_id = _text(params, "widgetId")
        if widget_id is not None and self.account.widget(widget_id) is None:
            errors["widgetId"] = NO_WIDGET
        low = _moment(params, "dateFrom", upper=False, errors=errors)
        high = _moment(params, "dateTo", upper=True, errors=errors)
        _raise_if(errors)
        low, high = _EARLIEST if low is None else low, _LATEST if high is None else high
        now = self._now()
        pieces: list[bytes] = []
        for store in self._stores_between(low, high):
            store.collect_chats(widget_id, low, high, now, pieces)
        return _json_list(b"[", pieces, b"]")

    # ------------------------------------------------------------------------------------ writes

    def _set_lead_price(self, params: dict[str, Any]) -> object:
        errors: dict[str, str] = {}
        price = _price(params, errors)
        found = self._find_visible(_text(params, "id") or "")
        if found is None:
            errors["id"] = NO_CALL
        _raise_if(errors)
        assert found is not None  # noqa: S101 - _raise_if raised otherwise
        self._set_price(*found, price)
        return {"result": "ok"}

    def _create_crm_lead(self, params: dict[str, Any]) -> object:
        """Simulation rule: the deal's price goes on the most recent visible record with that `clientPhone`."""
        errors: dict[str, str] = {}
        phone = _phone(params, "phone", errors)
        price = _price(params, errors)
        _moment(params, "date", upper=False, errors=errors)
        _raise_if(errors)
        found = self._latest_with_phone(phone)
        if found is None:
            raise _GeneralError(NO_CALL_FOR_PHONE)
        self._set_price(*found, price)
        return {"result": "ok"}

    def _create_request(self, params: dict[str, Any]) -> object:
        errors: dict[str, str] = {}
        phone = _phone(params, "clientPhone", errors)
        widget, department = self._widget_and_department(params, errors)
        _raise_if(errors)
        assert widget is not None  # noqa: S101 - _raise_if raised otherwise
        self._add_requested(widget, department, phone, _text(params, "referer"), None)
        return {"result": "ok"}

    def _application_request(self, params: dict[str, Any]) -> object:
        errors: dict[str, str] = {}
        phone = _phone(params, "clientPhone", errors)
        widget, department = self._widget_and_department(params, errors)
        email = _text(params, "email")
        if email is not None and not _EMAIL.fullmatch(email):
            errors["email"] = BAD_EMAIL
        _raise_if(errors)
        assert widget is not None  # noqa: S101 - _raise_if raised otherwise
        application = {"name": _text(params, "name"), "email": email, "text": _text(params, "text")}
        self._add_requested(widget, department, phone, _text(params, "referer"), application)
        return {"result": "ok"}

    def _widget_and_department(
        self, params: dict[str, Any], errors: dict[str, str]
    ) -> tuple[Widget | None, Department | None]:
        widget = self.account.widget(_text(params, "widgetId") or "")
        if widget is None:
            errors["widgetId"] = NO_WIDGET
            return None, None
        department_id = _text(params, "departmentId")
        if department_id is None:
            return widget, None
        department = widget.department(department_id)
        if department is None:
            errors["departmentId"] = NO_DEPARTMENT
        return widget, department

    def _add_requested(
        self,
        widget: Widget,
        department: Department | None,
        phone: str,
        referer: str | None,
        application: Fields | None,
    ) -> None:
        now = self._now()
        store = self._store(_day_of_ts(now))
        if store.added >= IDS_PER_DAY - FIRST_ADDED_INDEX:
            raise _GeneralError(TOO_MANY_REQUESTS)
        rid = store.number * IDS_PER_DAY + FIRST_ADDED_INDEX + store.added
        record = self.account.requested_record(rid, now, widget, department, phone, referer, application)
        self._insert(store, record)

    def _set_price(self, store: _DayStore, index: int, price: int) -> None:
        fields = store.fields(index)
        fields["leadPrice"] = str(price)
        store.replace(index, fields)

    # ------------------------------------------------------------------------------------ state

    @property
    def widgets(self) -> list[dict[str, Any]]:
        """The widgets as `callback.GetWidgets` lists them (every `departments` a list; one widget has none)."""
        return [w.api_shape() for w in self.account.widgets]

    @property
    def writes(self) -> list[WriteLogEntry]:
        """Every write action received with valid credentials, in order, with its answer (ok or not)."""
        with self._lock:
            return list(self._writes)

    @property
    def write_count(self) -> int:
        """How many write actions reached the demo with valid credentials (answered ok or not)."""
        with self._lock:
            return len(self._writes)

    def records_snapshot(self) -> list[Fields]:
        """Every record visible now, in API shape and answer order, with writes applied."""
        with self._lock:
            return [orjson.loads(piece) for piece in self._visible_records(RecordFilter())]

    def chats_snapshot(self, widget_id: str | None = None) -> list[ChatSession]:
        """Every chat session visible now (of one widget, or all), in API shape and answer order."""
        with self._lock:
            now, pieces = self._now(), list[bytes]()
            for store in self._stores_between(_EARLIEST, _LATEST):
                store.collect_chats(widget_id, _EARLIEST, _LATEST, now, pieces)
            return [orjson.loads(piece) for piece in pieces]

    def add_record(self, **fields: str | None) -> str:
        """Put a record into the account (for tests of later features) and return its new id.

        `fields` use API names with string values; unknown names become extra keys. `requestDate` defaults to
        now and may be in the future (the record appears when the clock reaches it). The record shows exactly as
        given, never as pending.
        """
        if "id" in fields:
            raise ValueError("add_record assigns the id itself")
        with self._lock:
            now = self._now()
            record = blank_record()
            record.update(widgetId=self.account.widgets[0].id, requestStatus="success", type="callback")
            record["requestDate"] = format_ts(now)
            record.update(fields)
            request_at = parse_moment(record["requestDate"] or "")
            if request_at is None:
                raise ValueError("requestDate must be YYYY-MM-DD HH:MM:SS or YYYY-MM-DD")
            record["requestDate"] = format_ts(request_at)
            store = self._store(_day_of_ts(request_at))
            if store.added >= IDS_PER_DAY - FIRST_ADDED_INDEX:
                raise ValueError("too many records added to that day")
            record["id"] = str(store.number * IDS_PER_DAY + FIRST_ADDED_INDEX + store.added)
            call_start = parse_moment(record["callDate"] or "")
            duration = record["callDurationOperator"] or ""
            call_end = None if call_start is None else call_start + (int(duration) if duration.isdigit() else 0)
            self._insert(store, GeneratedRecord(record, request_at, call_start, call_end, request_at))
            return str(record["id"])

    def warm_up(self) -> None:
        """Generate every day of the history now rather than on first use (for servers and benchmarks)."""
        with self._lock:
            for _ in self._stores_between(_EARLIEST, _LATEST):
                pass

    # ------------------------------------------------------------------------------------ internals

    def _now(self) -> int:
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())

    def _today(self) -> date:
        return day_of_number(_day_of_ts(self._now()))

    def _store(self, number: int) -> _DayStore:
        """A day's store, generated on first use; days before the history start hold only added records."""
        store = self._stores.get(number)
        if store is None:
            store = self._stores[number] = _DayStore(number)
            if number >= day_number(self.first_day):
                _fill(store, self.account, day_of_number(number))
        return store

    def _stores_between(self, low: int, high: int) -> Iterator[_DayStore]:
        """Stores of the days whose records may fall in [low, high] and be visible now, oldest first."""
        first = day_number(self.first_day)
        earliest = min([first, *self._stores])
        today = day_number(self._today())
        low_day = max(earliest, _day_of_ts(low)) if low > _EARLIEST else earliest
        high_day = min(today, _day_of_ts(high)) if high < _LATEST else today
        for number in range(low_day, high_day + 1):
            if number >= first or number in self._stores:
                yield self._store(number)

    def _insert(self, store: _DayStore, record: GeneratedRecord) -> None:
        position = bisect.bisect_right(store.request_at, record.request_at)
        store.insert(position, record)
        store.added += 1

    def _find_visible(self, record_id: str) -> tuple[_DayStore, int] | None:
        if not _DIGITS.fullmatch(record_id) or len(record_id) > 18:
            return None
        rid = int(record_id)
        number = rid // IDS_PER_DAY
        if number > day_number(self._today()) or (number < day_number(self.first_day) and number not in self._stores):
            return None
        store = self._store(number)
        try:
            index = store.ids.index(rid)
        except ValueError:
            return None
        return (store, index) if store.request_at[index] <= self._now() else None

    def _latest_with_phone(self, phone: str) -> tuple[_DayStore, int] | None:
        now = self._now()
        for store in reversed(list(self._stores_between(_EARLIEST, _LATEST))):
            index = store.latest_with_phone(phone, now)
            if index is not None:
                return store, index
        return None


def _fill(store: _DayStore, account: DemoAccount, day: date) -> None:
    generated = account.generate_day(day)
    for record in generated.records:
        store.append(record)
    for chat in generated.chats:
        store.chat_start.append(chat.start_at)
        store.chat_end.append(chat.end_at)
        store.chat_widget.append(chat.widget_id)
        store.chat_times.append(tuple(chat.message_times))  # a tuple of ints: no work for the GC
        store.chats.append(_stored_json(chat.session))


def _day_of_ts(ts: int) -> int:
    return (ts - ID_EPOCH_TS) // 86_400


def _stored_json(value: object) -> bytes:
    """JSON bytes of exactly their length: orjson's own keep spare room (~16 KiB a record, ~16 GB at 1M)."""
    return memoryview(orjson.dumps(value)).tobytes()


def _error(message: str) -> bytes:
    return orjson.dumps({"error": message})


def _json_list(prefix: bytes, pieces: list[bytes], suffix: bytes) -> bytes:
    """Join pre-serialized JSON values into a list, copying the (possibly huge) payload only once."""
    if not pieces:
        return prefix + suffix
    pieces[0] = prefix + pieces[0]
    pieces[-1] = pieces[-1] + suffix
    return b",".join(pieces)
