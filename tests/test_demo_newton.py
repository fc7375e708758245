# ruff: noqa: RUF001 - Newton's messages are Russian.
"""The demo Newton answers every action as the reference documents, over a real socket and in-process."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, DemoTransport, serve_in_thread
from dashboard.demo.account import OWNER_TEST_PHONE
from dashboard.demo.server import DemoServer

pytestmark = pytest.mark.slow  # the embedded Newton over a real socket, action by action

NOW = datetime(2025, 6, 18, 13, 30, 5, tzinfo=UTC)  # a Wednesday, 16:30 in Moscow: the office is open
MAIN_WIDGET = "e3b7c41f09a24d6c8f5a2b1d7c9e0f36"  # the demo's main site, as GetWidgets lists it
EXAMPLE_WIDGET = "aaaabbbbccccddddeeeeffff00001111"  # the reference's, which is also its token
CREDENTIALS = {"token": DEMO_TOKEN, "userId": DEMO_USER_ID}

# The reference's example requests, verbatim except for the trailing commas its text has (which make them invalid
# JSON) and, for SetLeadPrice, as the reference prints it (wrong action name, a token one character short).
# Their widget id is the example token itself; `in_demo_account` puts the demo's widget id in its place.
EXAMPLE_GET_WIDGETS = (
    b'{"action": "callback.GetWidgets", "params": {"token": "aaaabbbbccccddddeeeeffff00001111", "userId": "0"}}'
)
EXAMPLE_CREATE_REQUEST_CURL = (
    b'{"action":"callback.CreateRequest","params":{"token":"aaaabbbbccccddddeeeeffff00001111", "userId":"0",\n'
    b'"widgetId":"aaaabbbbccccddddeeeeffff00001111",\n'
    b'"clientPhone":"+78120000000","departmentId":"0","referer":"http://eyenewton.ru/"}}'
)
EXAMPLE_CREATE_REQUEST = b"""{
  "action": "callback.CreateRequest",
  "params": {
    "token": "aaaabbbbccccddddeeeeffff00001111",
    "userId": "0",
    "clientPhone": "+79991234567",
    "departmentId": "99999",
    "referer": "http://eyenewton.ru/",
    "widgetId": "aaaabbbbccccddddeeeeffff00001111"
  }
}"""
EXAMPLE_APPLICATION_REQUEST = b"""{
  "action":"callback.ApplicationRequest",
  "params":{
    "token":"aaaabbbbccccddddeeeeffff00001111",
    "userId":"0",
    "departmentId":"99999",
    "referer":"http://eyenewton.ru/",
    "widgetId":"aaaabbbbccccddddeeeeffff00001111",
    "clientPhone":"+79991234567",
    "name":"Ivan",
    "email":"ivan@example.com",
    "text":"Call me"
  }
}"""
EXAMPLE_CREATE_CRM_LEAD = b"""{
  "action":"callback.CreateCrmLead",
  "params":{
    "token":"aaaabbbbccccddddeeeeffff00001111",
    "userId":"0",
    "phone":"+79991234567",
    "price":"228",
    "date":"2021-05-05 19:33:00"
  }
}"""
EXAMPLE_GET_RECORDS = b"""{
  "action": "callback.GetRecords",
  "params": {
    "token": "aaaabbbbccccddddeeeeffff00001111",
    "userId": "0",
    "requestDateFrom": "2015-08-30",
    "callStatus": "1"
  }
}"""
EXAMPLE_GET_HISTORY = b"""{
  "action": "chat.GetHistory",
  "params": {
    "token": "aaaabbbbccccddddeeeeffff00001111",
    "userId": "0",
    "dateFrom": "2015-08-30"
  }
}"""
EXAMPLE_SET_LEAD_PRICE_AS_PRINTED = b"""{
  "action": "callback.CreateRequest",
  "params": {
    "token": "aaaabbbbccccdddeeeffff00001111",
    "userId": "0",
    "id": "9999",
    "price": "5000"
  }
}"""


def in_demo_account(example: bytes) -> bytes:
    """An example request aimed at the demo's main widget (its departments include the examples' "0" and "99999")."""
    return re.sub(
        rb'("widgetId"\s*:\s*")' + EXAMPLE_WIDGET.encode() + rb'"', rb"\g<1>" + MAIN_WIDGET.encode() + rb'"', example
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def newton(clock: Clock) -> DemoNewton:
    return DemoNewton(records=2_000, seed=42, clock=clock)


@pytest.fixture
def server(newton: DemoNewton) -> Iterator[DemoServer]:
    running = serve_in_thread(newton)
    yield running
    running.shutdown()


def post(server: DemoServer, body: bytes) -> httpx.Response:
    return httpx.post(server.url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


def call(server: DemoServer, action: str, **params: Any) -> Any:
    response = httpx.post(server.url, json={"action": action, "params": {**CREDENTIALS, **params}})
    assert response.status_code == 200
    return response.json()


def records(server: DemoServer, **filters: Any) -> list[dict[str, Any]]:
    answer = call(server, "callback.GetRecords", **filters)
    result: list[dict[str, Any]] = answer["records"]
    return result


# ---------------------------------------------------------------------------------------------- the examples


def test_get_widgets_example_lists_the_widgets_with_their_departments(server: DemoServer) -> None:
    widgets = post(server, EXAMPLE_GET_WIDGETS).json()["widgets"]
    assert len(widgets) >= 2
    main = next(w for w in widgets if w["id"] == MAIN_WIDGET)
    assert {"0", "99999"} <= {d["id"] for d in main["departments"]}
    for widget in widgets:
        assert isinstance(widget["name"], str)
        assert all(set(d) == {"id", "name"} for d in widget["departments"])


def test_get_records_example_returns_successful_calls_only(server: DemoServer) -> None:
    answer = post(server, EXAMPLE_GET_RECORDS).json()
    assert len(answer["records"]) > 1000
    assert {r["callStatus"] for r in answer["records"]} == {"CLIENT_ANSWER"}
    for record in answer["records"]:
        assert all(value is None or isinstance(value, str) for value in record.values())
        assert record["callDurationClient"].isdigit()


def test_get_history_example_returns_an_array_of_chat_sessions(server: DemoServer) -> None:
    sessions = post(server, EXAMPLE_GET_HISTORY).json()
    assert isinstance(sessions, list)
    assert len(sessions) > 100
    for session in sessions:
        assert {"startTime", "clientId", "operator", "ip", "messages"} <= set(session)
        assert all(isinstance(m["from"], bool) and isinstance(m["text"], str) for m in session["messages"])


def test_create_request_examples_make_new_callbacks(server: DemoServer, newton: DemoNewton) -> None:
    before = len(records(server))
    assert post(server, in_demo_account(EXAMPLE_CREATE_REQUEST_CURL)).json() == {"result": "ok"}
    assert post(server, in_demo_account(EXAMPLE_CREATE_REQUEST)).json() == {"result": "ok"}
    after = records(server)
    assert len(after) == before + 2
    made = after[-2:]
    assert [r["clientPhone"] for r in made] == ["+78120000000", "+79991234567"]
    assert [r["departmentId"] for r in made] == ["0", "99999"]
    for record in made:
        assert record["widgetId"] == MAIN_WIDGET
        assert record["type"] == "callback"
        assert record["requestDate"] == "2025-06-18 13:30:05"
        assert record["requestStatus"] == "success"
        assert record["callStatus"] is None  # just made: the call has not happened yet
        assert record["referrerPath"] == "http://eyenewton.ru/"
    assert newton.write_count == 2


def test_the_examples_widget_id_is_not_a_widget_of_the_demo(server: DemoServer, newton: DemoNewton) -> None:
    # It is the demo's token too: the demo's widget ids never equal the token, so the token never shows in answers.
    assert post(server, EXAMPLE_CREATE_REQUEST).json() == {"errors": {"widgetId": "Виджет не найден"}}
    assert DEMO_TOKEN not in {w["id"] for w in newton.widgets}
    aimed = in_demo_account(EXAMPLE_CREATE_REQUEST)
    assert MAIN_WIDGET.encode() in aimed
    assert DEMO_TOKEN.encode() in aimed  # the token stays


def test_a_new_callback_gets_its_outcome_once_the_call_is_over(server: DemoServer, clock: Clock) -> None:
    call(server, "callback.CreateRequest", clientPhone="+79990001122", widgetId=MAIN_WIDGET)
    made = records(server)[-1]
    clock.now = NOW + timedelta(hours=2)
    later = next(r for r in records(server) if r["id"] == made["id"])
    assert later["callStatus"] is not None
    assert later["callDate"] > later["requestDate"]


def test_application_request_example_makes_an_application(server: DemoServer) -> None:
    assert post(server, in_demo_account(EXAMPLE_APPLICATION_REQUEST)).json() == {"result": "ok"}
    made = records(server)[-1]
    assert made["type"] == "application"
    assert made["clientPhone"] == "+79991234567"
    assert made["callStatus"] is None
    assert "Ivan" in made["comment"]
    assert "ivan@example.com" in made["comment"]
    assert "Call me" in made["comment"]


def test_create_crm_lead_example_prices_the_latest_call_from_that_phone(server: DemoServer) -> None:
    assert post(server, EXAMPLE_CREATE_CRM_LEAD).json() == {"result": "ok"}
    latest = [r for r in records(server) if r["clientPhone"] == OWNER_TEST_PHONE][-1]
    assert latest["leadPrice"] == "228"


def test_set_lead_price_shows_in_later_records(server: DemoServer) -> None:
    target = records(server)[500]
    assert call(server, "callback.SetLeadPrice", id=target["id"], price="5000") == {"result": "ok"}
    assert next(r for r in records(server) if r["id"] == target["id"])["leadPrice"] == "5000"
    assert call(server, "callback.SetLeadPrice", id=int(target["id"]), price=7000) == {"result": "ok"}
    assert next(r for r in records(server) if r["id"] == target["id"])["leadPrice"] == "7000"


def test_set_lead_price_example_as_printed_is_refused_and_its_id_is_unknown(server: DemoServer) -> None:
    # The reference's example has a token one character short, so the credentials are refused.
    assert post(server, EXAMPLE_SET_LEAD_PRICE_AS_PRINTED).json() == {
        "error": "Неверный токен или идентификатор пользователя"
    }
    assert call(server, "callback.SetLeadPrice", id="9999", price="5000") == {"errors": {"id": "Звонок не найден"}}


# ---------------------------------------------------------------------------------------------- documented errors


@pytest.mark.parametrize("phone", ["89991234567", "+7999123456", "+799912345678", "+7 999 123-45-67", "", None])
def test_a_bad_phone_is_refused_by_name(server: DemoServer, phone: str | None) -> None:
    wrong = {"errors": {"clientPhone": "Номер введен неверно"}}
    assert call(server, "callback.CreateRequest", clientPhone=phone, widgetId=MAIN_WIDGET) == wrong
    assert call(server, "callback.ApplicationRequest", clientPhone=phone, widgetId=MAIN_WIDGET) == wrong
    assert call(server, "callback.CreateCrmLead", phone=phone, price="100") == {
        "errors": {"phone": "Номер введен неверно"}
    }


def test_a_deal_for_a_phone_that_never_called_is_refused(server: DemoServer, newton: DemoNewton) -> None:
    answer = call(server, "callback.CreateCrmLead", phone="+70000000000", price="100", date="2025-06-01")
    assert answer == {"error": "По номеру не нашлся звонок"}
    assert all(r["leadPrice"] != "100" or r["clientPhone"] != "+70000000000" for r in newton.records_snapshot())


@pytest.mark.parametrize("price", ["-1", -5, "12.5", 12.5, "", "abc", "1e3", None, True, [1]])
def test_a_bad_price_is_refused(server: DemoServer, price: object) -> None:
    target = records(server)[0]["id"]
    invalid = {"errors": {"price": "Invalid price value"}}
    assert call(server, "callback.SetLeadPrice", id=target, price=price) == invalid
    assert call(server, "callback.CreateCrmLead", phone=OWNER_TEST_PHONE, price=price) == invalid


@pytest.mark.parametrize("price", ["0", 0, "5000", 5000])
def test_whole_prices_as_numbers_or_strings_are_accepted(server: DemoServer, price: object) -> None:
    target = records(server)[0]["id"]
    assert call(server, "callback.SetLeadPrice", id=target, price=price) == {"result": "ok"}


@pytest.mark.parametrize(
    "bad", ["2025-13-01", "2025-06-31", "18.06.2025", "2025-06-18T10:00:00", "yesterday", 20250618]
)
def test_a_malformed_date_is_refused_by_name(server: DemoServer, bad: object) -> None:
    message = "Неверный формат даты"
    assert call(server, "callback.GetRecords", requestDateFrom=bad) == {"errors": {"requestDateFrom": message}}
    assert call(server, "callback.GetRecords", callEndDateTo=bad) == {"errors": {"callEndDateTo": message}}
    assert call(server, "chat.GetHistory", dateTo=bad) == {"errors": {"dateTo": message}}
    assert call(server, "callback.CreateCrmLead", phone=OWNER_TEST_PHONE, price="1", date=bad) == {
        "errors": {"date": message}
    }


def test_unknown_widgets_departments_and_bad_emails_are_refused(server: DemoServer) -> None:
    phone = "+79991234567"
    no_widget = {"errors": {"widgetId": "Виджет не найден"}}
    assert call(server, "callback.CreateRequest", clientPhone=phone, widgetId="nope") == no_widget
    assert call(server, "callback.CreateRequest", clientPhone=phone) == no_widget
    assert call(server, "chat.GetHistory", widgetId="nope") == no_widget
    other_widgets_department = "100002"
    answer = call(
        server, "callback.CreateRequest", clientPhone=phone, widgetId=MAIN_WIDGET, departmentId=other_widgets_department
    )
    assert set(answer["errors"]) == {"departmentId"}
    answer = call(server, "callback.ApplicationRequest", clientPhone=phone, widgetId=MAIN_WIDGET, email="ivan@")
    assert set(answer["errors"]) == {"email"}
    answer = call(server, "callback.ApplicationRequest", clientPhone="8", widgetId="nope", email="x")
    assert set(answer["errors"]) == {"clientPhone", "widgetId", "email"}


@pytest.mark.parametrize(
    "credentials",
    [
        {"token": "0" * 32, "userId": "0"},
        {"token": DEMO_TOKEN, "userId": "1"},
        {"token": DEMO_TOKEN.upper(), "userId": "0"},
        {"userId": "0"},
        {},
    ],
)
def test_wrong_credentials_are_refused_for_every_action(server: DemoServer, credentials: dict[str, str]) -> None:
    for action in ("callback.GetWidgets", "callback.GetRecords", "chat.GetHistory", "callback.CreateRequest"):
        response = httpx.post(server.url, json={"action": action, "params": credentials})
        assert response.json() == {"error": "Неверный токен или идентификатор пользователя"}


def test_broken_requests_get_a_general_error(server: DemoServer) -> None:
    assert post(server, b"{not json").json() == {"error": "Неверный формат запроса"}
    assert post(server, b"").json() == {"error": "Неверный формат запроса"}
    with_trailing_comma = b'{"action": "callback.GetWidgets", "params": {"token": "%s", "userId": "0",}}' % (
        DEMO_TOKEN.encode()
    )
    assert post(server, with_trailing_comma).json() == {"error": "Неверный формат запроса"}
    assert post(server, b'{"params": {}}').json() == {"error": "Не указано действие"}
    assert call(server, "callback.Nope") == {"error": "Unknown action callback.Nope"}


# ---------------------------------------------------------------------------------------------- the wire


def test_answers_are_chunked_json_labelled_as_html(server: DemoServer) -> None:
    for body in (EXAMPLE_GET_WIDGETS, EXAMPLE_GET_RECORDS, b"{broken"):
        response = post(server, body)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=UTF-8"
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        orjson.loads(response.content)


def test_a_chunked_request_body_is_read(server: DemoServer) -> None:
    response = httpx.post(server.url, content=iter([EXAMPLE_GET_WIDGETS[:20], EXAMPLE_GET_WIDGETS[20:]]))
    assert "widgets" in response.json()


def test_other_paths_and_methods_are_not_the_api(server: DemoServer) -> None:
    root = server.url.removesuffix("/api/v1/json")
    assert httpx.post(f"{root}/api/v1/xml", content=EXAMPLE_GET_WIDGETS).status_code == 404
    assert httpx.get(server.url).status_code == 405
    assert httpx.post(f"{root}/json", content=EXAMPLE_GET_WIDGETS).json()["widgets"]


def test_the_token_never_appears_in_answers_or_logs(server: DemoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = [
        post(server, EXAMPLE_GET_WIDGETS).content,
        post(server, in_demo_account(EXAMPLE_CREATE_REQUEST)).content,
        post(server, EXAMPLE_SET_LEAD_PRICE_AS_PRINTED).content,
        httpx.post(server.url, json={"action": DEMO_TOKEN, "params": CREDENTIALS}).content,
        httpx.post(server.url, json={"action": "chat.GetHistory", "params": {"token": DEMO_TOKEN}}).content,
        httpx.post(f"{server.url}?token={DEMO_TOKEN}", content=EXAMPLE_GET_WIDGETS).content,
        post(server, b"{" + DEMO_TOKEN.encode()).content,
    ]
    for body in bodies:
        assert DEMO_TOKEN.encode() not in body
    # httpx itself logs the URL this test deliberately put the token in; the demo's own logs are what count here.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dashboard."))
    assert "POST /api/v1/json -> 200" in ours  # the server did log the requests
    assert DEMO_TOKEN not in ours
    assert "+79991234567" not in ours  # nor the request bodies


# ---------------------------------------------------------------------------------------------- filters


def test_date_bounds_are_inclusive_and_a_date_alone_reaches_the_end_of_the_day(
    server: DemoServer, newton: DemoNewton
) -> None:
    last_second = newton.add_record(requestDate="2025-06-10 23:59:59", clientPhone="+79990000001")
    next_day = newton.add_record(requestDate="2025-06-11 00:00:00", clientPhone="+79990000002")

    def ids(**filters: str) -> set[str]:
        return {r["id"] for r in records(server, **filters)}

    assert last_second in ids(requestDateFrom="2025-06-10", requestDateTo="2025-06-10")
    assert next_day not in ids(requestDateFrom="2025-06-10", requestDateTo="2025-06-10")
    both = ids(requestDateFrom="2025-06-10 23:59:59", requestDateTo="2025-06-11 00:00:00")
    assert {last_second, next_day} <= both
    assert len(both) == 2
    assert next_day in ids(requestDateFrom="2025-06-11")
    assert last_second not in ids(requestDateFrom="2025-06-11")


def test_call_date_bounds_are_inclusive(server: DemoServer) -> None:
    answered = [r for r in records(server) if r["callStatus"] == "CLIENT_ANSWER"][100]
    start = answered["callDate"]
    assert answered["id"] in {r["id"] for r in records(server, callStartDateFrom=start, callStartDateTo=start)}
    end = (
        datetime.strptime(start, "%Y-%m-%d %H:%M:%S") + timedelta(seconds=int(answered["callDurationOperator"]))
    ).strftime("%Y-%m-%d %H:%M:%S")
    assert answered["id"] in {r["id"] for r in records(server, callEndDateFrom=end, callEndDateTo=end)}


def test_status_filters_split_the_records(server: DemoServer) -> None:
    everything = records(server)
    sent, not_sent = records(server, requestStatus="1"), records(server, requestStatus=0)
    answered, not_answered = records(server, callStatus="1"), records(server, callStatus="0")
    assert len(sent) + len(not_sent) == len(everything) == len(answered) + len(not_answered)
    assert {r["requestStatus"] for r in sent} == {"success"}
    assert "success" not in {r["requestStatus"] for r in not_sent}
    assert not_sent
    assert "CLIENT_ANSWER" not in {r["callStatus"] for r in not_answered}
    assert call(server, "callback.GetRecords", callStatus="2") == {"errors": {"callStatus": "Неверное значение"}}


def test_records_appear_as_time_passes_and_keep_their_ids(server: DemoServer, clock: Clock) -> None:
    now_ids = [r["id"] for r in records(server)]
    clock.now = NOW + timedelta(hours=1)
    later = [r["id"] for r in records(server)]
    assert len(later) > len(now_ids)
    assert later[: len(now_ids)] == now_ids
    assert all(r["requestDate"] <= "2025-06-18 14:30:05" for r in records(server, requestDateFrom="2025-06-18"))


def test_chat_history_of_one_widget_is_part_of_the_whole(server: DemoServer, newton: DemoNewton) -> None:
    every = call(server, "chat.GetHistory")
    parts = [call(server, "chat.GetHistory", widgetId=w["id"]) for w in newton.widgets]
    assert sum(len(part) for part in parts) == len(every)
    assert all(parts)
    day = call(server, "chat.GetHistory", dateFrom="2025-06-17", dateTo="2025-06-17")
    assert day
    assert {s["startTime"][:10] for s in day} == {"2025-06-17"}


def test_an_answer_can_be_silently_capped(clock: Clock) -> None:
    with serve_in_thread(DemoNewton(records=2_000, clock=clock, max_records_per_answer=100)) as capped:
        assert len(records(capped)) == 100
        assert len(records(capped, requestDateFrom="2025-06-17", requestDateTo="2025-06-17")) <= 100


def test_unknown_extra_keys_come_through(server: DemoServer, newton: DemoNewton) -> None:
    made = newton.add_record(clientPhone="+79990000003", tags="vip")
    assert next(r for r in records(server) if r["id"] == made)["tags"] == "vip"
    assert any("tags" in r for r in records(server) if r["id"] != made)


# ---------------------------------------------------------------------------------------------- state


def test_concurrent_requests_each_make_one_record(server: DemoServer, newton: DemoNewton) -> None:
    before = len(newton.records_snapshot())

    def create(n: int) -> None:
        call(server, "callback.CreateRequest", clientPhone=f"+7999000{n:04d}", widgetId=MAIN_WIDGET)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = newton.records_snapshot()
    assert len(after) == before + 8
    assert len({r["id"] for r in after}) == len(after)
    assert newton.write_count == 8


def test_the_server_counts_every_request_it_receives(server: DemoServer) -> None:
    before = server.requests
    call(server, "callback.GetWidgets")
    records(server)
    httpx.get(server.url)  # not the API, still a request
    assert server.requests == before + 3


def test_answers_delayed_by_a_latency_still_come_to_concurrent_requests(server: DemoServer, newton: DemoNewton) -> None:
    server.latency = 0.2
    answers: list[object] = []
    with httpx.Client(limits=httpx.Limits(max_keepalive_connections=4)) as client:

        def ask() -> None:
            body = {"action": "callback.GetWidgets", "params": CREDENTIALS}
            answers.append(client.post(server.url, json=body).json())

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert server.requests == 4
    assert answers == [orjson.loads(orjson.dumps({"widgets": newton.widgets}))] * 4


def test_the_write_log_keeps_params_but_not_credentials(server: DemoServer, newton: DemoNewton) -> None:
    post(server, EXAMPLE_CREATE_CRM_LEAD)
    call(server, "callback.CreateCrmLead", phone="+70000000000", price="1")
    first, second = newton.writes
    assert first.action == "callback.CreateCrmLead"
    assert first.params == {"phone": "+79991234567", "price": "228", "date": "2021-05-05 19:33:00"}
    assert first.answer == {"result": "ok"}
    assert second.answer == {"error": "По номеру не нашлся звонок"}
    assert DEMO_TOKEN not in repr(newton.writes)


# ---------------------------------------------------------------------------------------------- in-process


def test_the_transport_answers_in_process_like_the_server(newton: DemoNewton, server: DemoServer) -> None:
    with httpx.Client(transport=DemoTransport(newton), base_url="https://eyenewton.ru") as client:
        response = client.post("/api/v1/json", content=EXAMPLE_GET_RECORDS)
        assert response.headers["content-type"] == "text/html; charset=UTF-8"
        assert response.json() == post(server, EXAMPLE_GET_RECORDS).json()
        assert client.post("/api/v1/json", content=in_demo_account(EXAMPLE_CREATE_REQUEST)).json() == {"result": "ok"}
        assert newton.records_snapshot()[-1]["clientPhone"] == "+79991234567"
        assert client.post("/api/v1/json", content=b"[").json() == {"error": "Неверный формат запроса"}
        assert client.get("/api/v1/json").status_code == 405
        assert client.post("/elsewhere", content=EXAMPLE_GET_WIDGETS).status_code == 404


def test_handle_answers_bytes_of_json_with_the_real_header(newton: DemoNewton) -> None:
    status, headers, body = newton.handle(EXAMPLE_GET_WIDGETS)
    assert status == 200
    assert headers == {"Content-Type": "text/html; charset=UTF-8"}
    assert [w["id"] for w in orjson.loads(body)["widgets"]] == [w["id"] for w in newton.widgets]
