"""The Newton client against `httpx.MockTransport`: request bodies, answers, errors, retries, secrecy."""

from __future__ import annotations

import json
import logging
import random
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from dashboard.api import Credentials, NewtonClient, RecordFilter, Token
from dashboard.api.retry import Backoff, RetryingTransport
from dashboard.errors import (
    ApiError,
    AuthError,
    FieldErrors,
    InvalidInput,
    NewtonError,
    OutcomeUnknown,
    TransportFailure,
    UnexpectedAnswer,
)

TOKEN = "aaaabbbbccccddddeeeeffff00001111"
URL = "https://newton.test/api/v1/json"
Handler = Callable[[httpx.Request], httpx.Response]


def answer(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    """An answer as Newton sends it: JSON labelled text/html."""
    return httpx.Response(
        status,
        content=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "text/html; charset=UTF-8", **headers},
    )


class Newton:
    """A scripted Newton: answers in turn, records what it was sent, and the waits the client took."""

    def __init__(self, *replies: httpx.Response | Exception | Handler, token: str = TOKEN) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.client = NewtonClient(
            Credentials("0", Token(token)),
            api_url=URL,
            transport=httpx.MockTransport(self._handle),
            backoff=Backoff(),
            sleep=self.sleeps.append,
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def body(self, n: int = -1) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.requests[n].content)
        return parsed


OK = answer({"result": "ok"})


# Request bodies --------------------------------------------------------------------------------------------


def test_every_action_sends_its_documented_body() -> None:
    newton = Newton(answer({"widgets": []}), answer({"records": []}), answer([]), OK, OK, OK, OK)
    client = newton.client
    client.get_widgets()
    client.get_records(RecordFilter(request_date_from="2015-08-30", call_successful=True))
    client.get_chat_history(widget_id="w1", date_from="2017-01-01", date_to="2017-01-02 23:59:59")
    client.set_lead_price("9999", 5000)
    client.create_crm_lead("+79991234567", "228", "2021-05-05 19:33:00")
    client.create_request("+79991234567", "aaaabbbbccccddddeeeeffff00001111", "99999", "http://eyenewton.ru/")
    client.application_request(
        "+79991234567", "w1", department_id="99999", referer="http://eyenewton.ru/",
        name="Ivan", email="ivan@example.com", text="Call me",
    )  # fmt: skip
    creds = {"token": TOKEN, "userId": "0"}
    assert [newton.body(i) for i in range(len(newton.requests))] == [
        {"action": "callback.GetWidgets", "params": creds},
        {"action": "callback.GetRecords", "params": {**creds, "requestDateFrom": "2015-08-30", "callStatus": "1"}},
        {
            "action": "chat.GetHistory",
            "params": {**creds, "widgetId": "w1", "dateFrom": "2017-01-01", "dateTo": "2017-01-02 23:59:59"},
        },
        {"action": "callback.SetLeadPrice", "params": {**creds, "id": "9999", "price": "5000"}},
        {
            "action": "callback.CreateCrmLead",
            "params": {**creds, "phone": "+79991234567", "price": "228", "date": "2021-05-05 19:33:00"},
        },
        {
            "action": "callback.CreateRequest",
            "params": {
                **creds, "clientPhone": "+79991234567", "widgetId": "aaaabbbbccccddddeeeeffff00001111",
                "departmentId": "99999", "referer": "http://eyenewton.ru/",
            },
        },
        {
            "action": "callback.ApplicationRequest",
            "params": {
                **creds, "clientPhone": "+79991234567", "widgetId": "w1", "departmentId": "99999",
                "referer": "http://eyenewton.ru/", "name": "Ivan", "email": "ivan@example.com", "text": "Call me",
            },
        },
    ]  # fmt: skip
    for request in newton.requests:
        assert request.method == "POST"
        assert str(request.url) == URL
        assert TOKEN not in str(request.url)


def test_chat_history_without_widget_sends_no_widget_id() -> None:
    newton = Newton(answer([]))
    newton.client.get_chat_history()
    assert newton.body()["params"] == {"token": TOKEN, "userId": "0"}


# Answers ---------------------------------------------------------------------------------------------------


REFERENCE_RECORD = {
    "id": "117066", "widgetId": "5", "departmentId": "5", "requestDate": "2015-09-01 06:58:49",
    "requestStatus": "success", "callStatus": "CLIENT_ANSWER", "callDate": "2015-09-01 06:58:51",
    "callDurationOperator": "110", "callDurationClient": "93", "delayDate": None,
    "conversationFile": "https://newton-callback.s3-eu-west-1.amazonaws.com/2015/09/01/x.mp3",
    "callAttempt": "1", "callSequenceNumber": "0", "clientPhone": "+79117894563", "callbackPhone": "+79999555555",
    "referrerHost": "www.example.com", "referrerPath": "http://www.example.com/page",
    "landingReferrerType": "yandex.search", "landingReferrer": "http://yandex.ru/search",
    "landingUrl": "http://www.example.com/page", "landingSearchPhrase": "", "landingUtmSource": None,
    "landingUtmMedium": None, "landingUtmTerm": None, "landingUtmContent": None, "landingUtmCampaign": None,
    "landingOpenstatService": None, "landingOpenstatCampaign": None, "landingOpenstatAd": None,
    "landingOpenstatSource": None,
    "userAgent": "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101  Firefox/40.0",
    "userAgentBrowser": "Firefox 40.0", "userAgentOs": "Windows 7", "userAgentDevice": None,
    "userAgentDeviceType": "0", "ip": "94.243.242.246", "ipCountry": "RU", "ipCity": "Гатчина",
    "comment": None, "leadPrice": None, "type": "callback",
}  # fmt: skip


def test_reference_record_is_typed() -> None:
    records = Newton(answer({"records": [REFERENCE_RECORD]})).client.get_records()
    row = records.row(0, named=True)
    assert row["id"] == "117066"
    assert row["requestDate"] == datetime(2015, 9, 1, 6, 58, 49)
    assert row["callDate"] == datetime(2015, 9, 1, 6, 58, 51)
    assert (row["callDurationOperator"], row["callDurationClient"]) == (110, 93)
    assert row["delayDate"] is None and row["leadPrice"] is None
    assert row["callStatus"] == "CLIENT_ANSWER"
    assert row["ipCity"] == "Гатчина"
    assert row["landingSearchPhrase"] == ""
    assert row["extra"] is None and row["unparsed"] is None


def test_records_accept_numbers_empty_strings_missing_and_extra_keys() -> None:
    records = [
        {"id": 117067, "requestDate": "2015-09-01", "callDurationClient": 93, "leadPrice": "", "tags": ["vip"]},
        {"id": "117068", "callDurationClient": "", "leadPrice": 1500.0, "callStatus": "SOMETHING_NEW"},
        {"id": "117069", "leadPrice": "12,5", "callDate": "yesterday", "comment": {"note": "nested"}},
    ]
    frame = Newton(answer({"records": records})).client.get_records()
    rows = frame.rows(named=True)
    assert [r["id"] for r in rows] == ["117067", "117068", "117069"]
    assert rows[0]["requestDate"] == datetime(2015, 9, 1)
    assert rows[0]["callDurationClient"] == 93 and rows[0]["leadPrice"] is None
    assert json.loads(rows[0]["extra"]) == {"tags": ["vip"]}
    assert rows[1]["callDurationClient"] is None and rows[1]["leadPrice"] == 1500
    assert rows[1]["callStatus"] == "SOMETHING_NEW"
    # A value that is not of its type is kept as sent rather than lost.
    assert json.loads(rows[2]["unparsed"]) == {"leadPrice": "12,5", "callDate": "yesterday"}
    assert json.loads(rows[2]["comment"]) == {"note": "nested"}
    assert rows[2]["type"] is None


@pytest.mark.parametrize("empty", [[], None, {}])
def test_no_records_is_an_empty_typed_frame(empty: object) -> None:
    frame = Newton(answer({"records": empty})).client.get_records()
    assert frame.height == 0 and "requestDate" in frame.columns


@pytest.mark.parametrize(
    ("departments", "expected"),
    [
        ({"id": "0", "name": "department"}, [("0", "department")]),
        ([{"id": 1, "name": "Продажи"}, {"id": "2", "name": "Сервис"}], [("1", "Продажи"), ("2", "Сервис")]),
        ([], []),
        ("", []),
        (None, []),
    ],
)
def test_widget_departments_in_every_shape(departments: object, expected: list[tuple[str, str]]) -> None:
    payload = {"widgets": [{"id": "aaaabbbbccccddddeeeeffff00001111", "name": "widget", "departments": departments}]}
    (widget,) = Newton(answer(payload)).client.get_widgets()
    assert widget.name == "widget"
    assert [(d.id, d.name) for d in widget.departments] == expected


def test_reference_chat_history() -> None:
    payload = [
        {
            "startTime": "2017-01-01 10:19:47", "clientId": "2|1234567890|abcde|12345678|abcdef",
            "operator": "Оператор 1", "ip": "127.0.0.1",
            "messages": [
                {"from": False, "text": "Сообщение оператора", "time": "2017-01-01 10:19:47"},
                {"from": True, "text": "Сообщение клиента", "time": "2017-01-01 10:19:48"},
            ],
        }
    ]  # fmt: skip
    (session,) = Newton(answer(payload)).client.get_chat_history()
    assert session.client_id == "2|1234567890|abcde|12345678|abcdef"
    assert session.start_time == datetime(2017, 1, 1, 10, 19, 47)
    assert session.operator == "Оператор 1"
    assert [(m.from_client, m.text) for m in session.messages] == [
        (False, "Сообщение оператора"),
        (True, "Сообщение клиента"),
    ]


# Errors ----------------------------------------------------------------------------------------------------


def test_field_errors_name_the_field() -> None:
    newton = Newton(answer({"errors": {"clientPhone": "Номер введен неверно"}}))
    with pytest.raises(FieldErrors) as caught:
        newton.client.create_request("+79991234567", "w1")
    assert caught.value.fields == {"clientPhone": "Номер введен неверно"}
    assert str(caught.value) == "clientPhone: Номер введен неверно"
    assert not isinstance(caught.value, InvalidInput)


def test_general_error_is_shown_as_newton_said_it() -> None:
    newton = Newton(answer({"error": "По номеру не нашлся звонок"}))
    with pytest.raises(ApiError, match="По номеру не нашлся звонок"):
        newton.client.create_crm_lead("+79991234567", 228)


@pytest.mark.parametrize(
    "reply",
    [
        answer({"error": "Неверный токен"}),
        answer({"errors": {"token": "invalid"}}),
        answer({"error": "Access denied"}, status=403),
        httpx.Response(401, text="Unauthorized"),
    ],
)
def test_bad_credentials_say_what_to_fix(reply: httpx.Response) -> None:
    with pytest.raises(AuthError, match="check the token and user id"):
        Newton(reply).client.get_widgets()


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"),
        httpx.Response(200, text=""),
        httpx.Response(200, text='{"records": [{"id": "1",'),
        httpx.Response(404, text="Not Found"),
    ],
)
def test_an_answer_that_is_not_json_is_an_error_not_an_empty_result(reply: httpx.Response) -> None:
    with pytest.raises(UnexpectedAnswer) as caught:
        Newton(reply).client.get_records()
    message = str(caught.value)
    assert "callback.GetRecords" in message
    assert len(message) < 300  # at most 200 characters of the body


@pytest.mark.parametrize(
    "payload", [{"widgets": "none"}, {"result": "ok"}, ["not", "an", "object"], {"widgets": [1, 2]}]
)
def test_an_answer_of_the_wrong_shape_is_an_error(payload: object) -> None:
    with pytest.raises(UnexpectedAnswer):
        Newton(answer(payload)).client.get_widgets()


@pytest.mark.parametrize("payload", [{"result": "fail"}, {}, {"records": []}, "ok"])
def test_a_write_is_a_success_only_when_newton_says_ok(payload: object) -> None:
    with pytest.raises(UnexpectedAnswer, match="did not confirm"):
        Newton(answer(payload)).client.set_lead_price("1", 10)


# Input checks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fields"),
    [
        (lambda c: c.create_request("+89991234567", "w1"), {"clientPhone"}),
        (lambda c: c.create_request("+7999123456", "w1"), {"clientPhone"}),
        (lambda c: c.create_request("+7999123456x", ""), {"clientPhone", "widgetId"}),
        (lambda c: c.create_crm_lead("+79991234567", -1), {"price"}),
        (lambda c: c.create_crm_lead("+79991234567", "12.5", "2021-02-30"), {"price", "date"}),
        (lambda c: c.create_crm_lead("phone", "1", "05.05.2021"), {"phone", "date"}),
        (lambda c: c.set_lead_price("", "100"), {"id"}),
        (lambda c: c.set_lead_price("1", True), {"price"}),
        (lambda c: c.application_request("+79991234567", "w1", email="not-an-email"), {"email"}),
        (lambda c: c.create_request("+79991234567", "w1", referer="javascript:alert(1)"), {"referer"}),
        (lambda c: c.get_records(RecordFilter(request_date_from="2015/08/30")), {"requestDateFrom"}),
    ],
)
def test_bad_input_names_every_bad_field_and_sends_nothing(
    call: Callable[[NewtonClient], object], fields: set[str]
) -> None:
    newton = Newton(OK)
    with pytest.raises(InvalidInput) as caught:
        call(newton.client)
    assert set(caught.value.fields) == fields
    assert newton.requests == []


def test_a_phone_typed_with_spaces_and_brackets_is_sent_clean() -> None:
    newton = Newton(OK)
    newton.client.create_crm_lead("+7 (999) 123-45-67", "1 500")
    assert newton.body()["params"]["phone"] == "+79991234567"
    assert newton.body()["params"]["price"] == "1500"


# Retries ---------------------------------------------------------------------------------------------------


def test_a_read_retries_three_times_with_growing_jittered_waits_then_fails() -> None:
    newton = Newton(httpx.Response(503, text="busy"))
    with pytest.raises(TransportFailure, match="HTTP 503"):
        newton.client.get_records()
    assert len(newton.requests) == 4
    assert len(newton.sleeps) == 3
    for wait, ceiling in zip(newton.sleeps, [0.5, 1.0, 2.0], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_backoff_is_capped_at_eight_seconds() -> None:
    backoff, rng = Backoff(retries=10), random.Random(1)
    waits = [backoff.wait(n, rng) for n in range(10)]
    assert max(waits) <= 8.0
    assert waits[-1] >= 4.0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(429, text="slow down"),
        httpx.Response(408, text="timeout"),
        httpx.Response(500, text="oops"),
    ],
)
def test_a_read_recovers_from_a_transient_failure(failure: httpx.Response | Exception) -> None:
    newton = Newton(failure, answer({"widgets": [{"id": "1", "name": "Сайт", "departments": []}]}))
    (widget,) = newton.client.get_widgets()
    assert widget.name == "Сайт"
    assert len(newton.requests) == 2


@pytest.mark.parametrize(("retry_after", "expected"), [("7", 7.0), ("120", 60.0), ("0", 0.0)])
def test_retry_after_is_honoured_up_to_a_minute(retry_after: str, expected: float) -> None:
    newton = Newton(httpx.Response(429, headers={"Retry-After": retry_after}), answer({"widgets": []}))
    newton.client.get_widgets()
    assert newton.sleeps == [expected]


def test_retry_after_as_an_http_date() -> None:
    newton = Newton(
        httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), answer({"widgets": []})
    )
    newton.client.get_widgets()
    assert newton.sleeps == [0.0]  # a date in the past: retry at once


def test_a_429_with_retry_after_pauses_every_worker_not_only_the_one_told() -> None:
    clock = [100.0]  # seconds on a fake clock, moved on by the workers' sleeps
    sent: list[tuple[str, float]] = []
    told, release = threading.Event(), threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        name = threading.current_thread().name
        sent.append((name, clock[0]))
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "30"})
        return answer({"widgets": []})

    def sleep(seconds: float) -> None:
        if threading.current_thread().name == "told":
            told.set()  # the worker Newton answered 429 sleeps through its retry until the others have sent
            release.wait(timeout=30)
        else:
            clock[0] += seconds

    transport = RetryingTransport(httpx.MockTransport(handle), backoff=Backoff(), sleep=sleep, clock=lambda: clock[0])
    with httpx.Client(transport=transport) as shared:  # as the sync's workers share the client's pool
        first = threading.Thread(target=shared.post, args=(URL,), name="told")
        first.start()
        assert told.wait(timeout=30)
        others = [threading.Thread(target=shared.post, args=(URL,), name=f"worker {n}") for n in range(3)]
        for worker in others:
            worker.start()
        for worker in others:
            worker.join(timeout=30)
        release.set()
        first.join(timeout=30)
    assert sent[0] == ("told", 100.0)
    assert sorted(name for name, _ in sent[1:]) == ["told", "worker 0", "worker 1", "worker 2"]
    assert all(at >= 130.0 for _, at in sent[1:])  # nobody sent again before Newton's 30 seconds were over


def test_set_lead_price_is_idempotent_so_it_is_retried() -> None:
    newton = Newton(httpx.ReadTimeout("slow"), httpx.Response(502), OK)
    newton.client.set_lead_price("117066", 5000)
    assert len(newton.requests) == 3


WRITES_THAT_MUST_NOT_REPEAT: list[Callable[[NewtonClient], object]] = [
    lambda c: c.create_crm_lead("+79991234567", 228),
    lambda c: c.create_request("+79991234567", "w1"),
    lambda c: c.application_request("+79991234567", "w1"),
]


@pytest.mark.parametrize("write", WRITES_THAT_MUST_NOT_REPEAT)
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("sent, no answer"),
        httpx.RemoteProtocolError("dropped after sending"),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("half sent"),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(429, text="slow down"),
    ],
)
def test_a_write_that_may_have_been_sent_is_not_repeated(
    write: Callable[[NewtonClient], object], failure: httpx.Response | Exception
) -> None:
    newton = Newton(failure, OK)
    with pytest.raises(OutcomeUnknown, match="Check in Newton before you resubmit"):
        write(newton.client)
    assert len(newton.requests) == 1
    assert newton.sleeps == []


@pytest.mark.parametrize("write", WRITES_THAT_MUST_NOT_REPEAT)
def test_a_write_whose_connection_never_opened_is_retried(write: Callable[[NewtonClient], object]) -> None:
    newton = Newton(httpx.ConnectError("refused"), httpx.ConnectTimeout("no route"), OK)
    write(newton.client)
    assert len(newton.requests) == 3


def test_a_write_that_could_never_connect_says_nothing_was_sent() -> None:
    newton = Newton(httpx.ConnectError("refused"))
    with pytest.raises(TransportFailure, match="nothing was sent") as caught:
        newton.client.create_crm_lead("+79991234567", 228)
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(newton.requests) == 4


# The token is a secret -------------------------------------------------------------------------------------

CANARY = "c0ffee00c0ffee00c0ffee00c0ffee00"


def _echo_token(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>proxy error for " + request.content.decode() + "</html>")


@pytest.mark.parametrize(
    "reply",
    [
        _echo_token,
        lambda r: answer({"error": "bad token " + CANARY.upper()}),
        lambda r: answer({"errors": {"price": f"{CANARY} is not a price"}}),
        lambda r: answer({"result": CANARY}),
        httpx.ReadTimeout(f"no answer to a request carrying {CANARY}"),
        httpx.Response(503),
    ],
)
def test_the_token_never_appears_in_errors_reprs_or_logs(
    reply: Handler | Exception | httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    newton = Newton(reply, token=CANARY)
    with pytest.raises(NewtonError) as caught:
        newton.client.create_crm_lead("+79991234567", 1)
    seen = [str(caught.value), repr(caught.value), repr(newton.client), caplog.text]
    seen.append("".join(traceback.format_exception(caught.value)))  # what a log of the error would print
    assert all(CANARY not in text.lower() for text in seen)
    assert repr(Token(CANARY)) == "Token('********')"
    assert CANARY not in repr(Credentials("0", Token(CANARY)))


@pytest.mark.parametrize(
    "shown",
    [CANARY[:19], CANARY[-7:].upper(), CANARY[5:11], f"{CANARY[:10]}…{CANARY[20:]}"],
)
def test_a_piece_of_the_token_is_masked_too(shown: str) -> None:
    text = Token(CANARY).redact(f'proxy says: {{"token":"{shown}')
    assert text == 'proxy says: {"token":"********' or text.count("********") == 2
    assert not any(shown.lower()[i : i + 6] in text.lower() for i in range(len(shown) - 5))


def test_masking_leaves_other_words_alone() -> None:
    text = "Номер введен неверно: clientPhone, Unicode İstanbul ß and a hex id 0123456789"
    assert Token(CANARY).redact(text) == text
    assert Token(CANARY).redact("İİ" + CANARY + "x") == "İİ********x"  # characters whose lower case is longer


@pytest.mark.parametrize("payload", [{"result": "ok"}, {"sessions": [{"clientId": "1"}]}, "text"])
def test_a_chat_answer_that_is_not_a_list_of_sessions_is_an_error(payload: object) -> None:
    with pytest.raises(UnexpectedAnswer):
        Newton(answer(payload)).client.get_chat_history()


def test_an_error_about_access_to_a_widget_is_not_a_credentials_error() -> None:
    with pytest.raises(ApiError, match="Нет доступа к виджету"):
        Newton(answer({"error": "Нет доступа к виджету"})).client.get_chat_history(widget_id="w1")
