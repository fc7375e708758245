"""A write Newton cannot take twice (a deal, a test callback, a test application) reaches it once: a second submit
waits for the first or is refused for ten minutes, unless the person asks to send it again. Counted at Newton."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest

from dashboard import lead_prices
from dashboard.access import Person, Role
from dashboard.api import NewtonClient
from dashboard.connect import embedded_demo
from dashboard.demo import DEMO_TOKEN, DEMO_USER_ID, DemoNewton, serve_in_thread
from dashboard.demo.account import OWNER_TEST_PHONE
from dashboard.errors import AlreadySent, InvalidInput, NewtonError
from dashboard.phones import format_phone
from dashboard.store import Store, logs, schema, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.ui.safe import literal
from dashboard.writes import Writer, claim_key
from tests.conftest import ENTRY, client_for, fixed_clock
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # writes through the embedded Newton from threads, the command line and the whole app

ACCOUNT = DEMO_USER_ID
EDITOR = Person("tester", Role.EDITOR)
T0 = datetime(2026, 11, 20, 12, 0, 0)  # naive UTC, as the write log keeps it
UNSAFE = ("callback.CreateCrmLead", "callback.CreateRequest", "callback.ApplicationRequest")


class SlowWrites(DemoNewton):
    """The demo Newton, taking `delay` seconds over each write, as a busy real one may."""

    delay = 1.5

    def handle(self, request_body: bytes) -> tuple[int, dict[str, str], bytes]:
        if any(action.encode() in request_body for action in UNSAFE):
            time.sleep(self.delay)
        return super().handle(request_body)


@pytest.fixture
def slow() -> SlowWrites:
    return SlowWrites(records=500, seed=7, clock=fixed_clock)


@pytest.fixture
def slow_url(slow: SlowWrites) -> Iterator[str]:
    with serve_in_thread(slow, host="127.0.0.1", port=0) as server:
        yield server.url


def received(newton: DemoNewton, action: str) -> int:
    return sum(w.action == action for w in newton.writes)


def writer_at(url: str, path: Path, clock: Callable[[], datetime] = utc_now, who: str = "tester") -> Writer:
    import httpx

    return Writer(client_for(httpx.HTTPTransport(), url), Store(path), ACCOUNT, Person(who, Role.EDITOR), clock=clock)


WRITES: dict[str, Callable[[Writer, str], None]] = {
    "callback.CreateCrmLead": lambda w, widget: w.create_crm_lead("+7 (999) 123-45-67", "500"),
    "callback.CreateRequest": lambda w, widget: w.create_request(OWNER_TEST_PHONE, widget),
    "callback.ApplicationRequest": lambda w, widget: w.application_request(OWNER_TEST_PHONE, widget, name="Иван"),
}


# (a) one being sent: the second waits for it and reports its outcome ---------------------------------------


@pytest.mark.parametrize("action", UNSAFE)
def test_two_submits_03_s_apart_from_two_threads_reach_newton_once(
    slow: SlowWrites, slow_url: str, tmp_path: Path, action: str
) -> None:
    path = tmp_path / "c.duckdb"
    widget = slow.widgets[0]["id"]
    outcomes: list[str] = []

    def submit(who: str) -> None:
        writer = writer_at(slow_url, path, who=who)
        with writer.client:
            try:
                WRITES[action](writer, widget)
            except AlreadySent as error:
                assert error.waited  # it came while the first was with Newton, and waited for it
                outcomes.append(f"waited: {error}")
            else:
                outcomes.append("sent")

    first = threading.Thread(target=submit, args=("alice",))
    second = threading.Thread(target=submit, args=("bob",))
    first.start()
    time.sleep(0.3)
    second.start()
    first.join(30)
    second.join(30)
    assert received(slow, action) == 1
    assert sorted(outcomes)[0] == "sent"
    assert "by alice" in sorted(outcomes)[1] and "It was not sent again." in sorted(outcomes)[1]
    with connect(path) as con:
        assert con.execute("SELECT outcome, actor FROM write_log").fetchall() == [("ok", "alice")]


def test_two_cli_processes_03_s_apart_send_one_deal(slow: SlowWrites, slow_url: str, tmp_path: Path) -> None:
    slow.delay = 4.0  # longer than a process takes to start: the two overlap however the machine schedules them
    env = {"NEWTON_API_URL": slow_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT,
           "NEWTON_CACHE": str(tmp_path / "cli.duckdb")}  # fmt: skip
    results: list[tuple[int, str]] = []

    def run() -> None:
        done = run_cli("create-crm-lead", "--phone", OWNER_TEST_PHONE, "--price", "500", env=env)
        results.append((done.returncode, done.stderr))

    threads = [threading.Thread(target=run), threading.Thread(target=run)]
    threads[0].start()
    time.sleep(0.3)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert received(slow, "callback.CreateCrmLead") == 1
    assert sorted(code for code, _ in results) == [0, 2]
    (refused,) = [stderr for code, stderr in results if code == 2]
    assert f"not sent: A deal for {OWNER_TEST_PHONE} at 500 ₽ was created just now by cli:" in refused


# (b) for ten minutes after, the same write is refused unless sent again on purpose ---------------------------


def test_the_same_deal_is_refused_for_ten_minutes_then_sent_again_on_purpose(
    newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"
    now = [T0]
    writer = writer_at(server_url, path, clock=lambda: now[0])
    with writer.client:
        writer.create_crm_lead(OWNER_TEST_PHONE, 500)
        now[0] = T0 + timedelta(minutes=2)
        with pytest.raises(AlreadySent) as refused:
            writer.create_crm_lead("+7 999 123-45-67", "0500")  # the same deal, typed another way
        assert str(refused.value) == (
            f"A deal for {OWNER_TEST_PHONE} at 500 ₽ was created 2 min ago by tester. It was not sent again."
        )
        assert received(newton, "callback.CreateCrmLead") == 1
        first = refused.value.earlier.write_id
        writer.create_crm_lead(OWNER_TEST_PHONE, 500, send_again=first)  # "Send again", naming the first
        assert received(newton, "callback.CreateCrmLead") == 2
        with pytest.raises(AlreadySent):  # the same button pressed twice: the second now meets the new deal
            writer.create_crm_lead(OWNER_TEST_PHONE, 500, send_again=first)
        writer.create_crm_lead(OWNER_TEST_PHONE, 600)  # another price is another deal
        now[0] = T0 + timedelta(minutes=12, seconds=1)  # ten minutes after the second deal
        writer.create_crm_lead(OWNER_TEST_PHONE, 500)
    assert received(newton, "callback.CreateCrmLead") == 4


def test_what_newton_refused_or_never_did_does_not_block(newton: DemoNewton, server_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    writer = writer_at(server_url, path, clock=lambda: T0)
    with writer.client:
        for _ in range(2):  # "По номеру не нашлся звонок": Newton made no deal, so trying again is fine
            with pytest.raises(NewtonError, match="не нашлся"):
                writer.create_crm_lead("+70000000000", 500)
        for _ in range(2):  # our own check: nothing sent, nothing logged
            with pytest.raises(InvalidInput):
                writer.create_request("+7999", newton.widgets[0]["id"])
    assert received(newton, "callback.CreateCrmLead") == 2
    with connect(path) as con:
        assert con.execute("SELECT outcome FROM write_log").fetchall() == [("failed",), ("failed",)]


def test_a_claim_left_sending_by_a_process_that_died_counts_as_unknown(
    newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "c.duckdb"
    params = {"clientPhone": OWNER_TEST_PHONE, "widgetId": newton.widgets[0]["id"]}
    key = claim_key("callback.CreateRequest", ACCOUNT, params)
    with transaction(path) as con:  # what a process killed while Newton had the request leaves behind
        logs.log_write(con, ACCOUNT, "callback.CreateRequest", params, "sending", None, "bob", claim_key=key, now=T0)
    now = [T0 + timedelta(minutes=3)]
    writer = writer_at(server_url, path, clock=lambda: now[0])
    started = time.monotonic()
    with writer.client:
        with pytest.raises(AlreadySent, match="was sent 3 min ago by bob, but its outcome is unknown"):
            writer.create_request(OWNER_TEST_PHONE, newton.widgets[0]["id"])
        assert time.monotonic() - started < 5  # no waiting for a send nobody is making
        now[0] = T0 + timedelta(minutes=10, seconds=1)
        writer.create_request(OWNER_TEST_PHONE, newton.widgets[0]["id"])
    assert received(newton, "callback.CreateRequest") == 1


def test_the_cli_refuses_a_repeat_with_exit_2_unless_sent_again(
    newton: DemoNewton, server_url: str, tmp_path: Path
) -> None:
    env = {"NEWTON_API_URL": server_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": ACCOUNT,
           "NEWTON_CACHE": str(tmp_path / "cli.duckdb")}  # fmt: skip
    args = ("create-request", "--phone", OWNER_TEST_PHONE, "--widget", newton.widgets[0]["id"])
    assert run_cli(*args, env=env).returncode == 0
    again = run_cli(*args, env=env)
    assert again.returncode == 2
    assert "not sent: A test callback to +79991234567 through widget" in again.stderr
    assert "run the same command again with --send-again" in again.stderr
    assert "Callback requested" not in again.stdout
    assert received(newton, "callback.CreateRequest") == 1
    assert run_cli(*args, "--send-again", env=env).returncode == 0
    assert received(newton, "callback.CreateRequest") == 2


def test_the_write_log_of_an_older_cache_gains_the_claim_column_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with transaction(path) as con:
        logs.log_write(con, ACCOUNT, "callback.SetLeadPrice", {"id": "1", "price": "5"}, "ok", None, "ann", now=T0)
        con.execute("ALTER TABLE write_log DROP COLUMN claim_key")  # as a cache written before claims
    schema.forget_prepared(path)  # a new process opening it
    with connect(path) as con:
        assert con.execute("SELECT actor, claim_key FROM write_log").fetchall() == [("ann", None)]


# The same through the dashboard's forms (AppTest) ------------------------------------------------------------

CREATE = "FormSubmitter:deal_form-Create"


def refusals(app: AppTest) -> list[str]:
    return [w.value for w in app.sidebar.warning if "not sent again" in w.value]


def test_a_deal_submitted_twice_03_s_apart_in_the_sidebar_reaches_newton_once(app: AppTest) -> None:
    before = received(embedded_demo(), "callback.CreateCrmLead")
    app.text_input(key="deal_form_phone").input("+7 999 123-45-67")
    app.text_input(key="deal_form_price").input("500")
    app.button(key=CREATE).click().run()
    time.sleep(0.3)
    app.button(key=CREATE).click().run()
    assert not app.exception
    assert received(embedded_demo(), "callback.CreateCrmLead") == before + 1
    assert refusals(app) == [
        literal(f"A deal for {OWNER_TEST_PHONE} at 500 ₽ was created just now by local. It was not sent again.")
    ]
    again = app.button(key="deal_form_send_again")
    assert again.label == literal(f"Send again: a deal for {OWNER_TEST_PHONE} at 500 ₽")
    again.click().run()  # the person asks for a second deal, knowing about the first
    assert received(embedded_demo(), "callback.CreateCrmLead") == before + 2
    assert [s.value for s in app.sidebar.success] == [f"Deal created for {literal('+7 999 123-45-67')}."]
    assert refusals(app) == []


def test_a_test_callback_submitted_twice_reaches_newton_once_and_says_so_in_russian(app: AppTest) -> None:
    app.sidebar.radio(key="lang").set_value("ru").run()
    app.switch_page("app_pages/widgets.py").run()
    before = received(embedded_demo(), "callback.CreateRequest")
    app.text_input(key="test_phone").input(OWNER_TEST_PHONE)
    app.checkbox(key="test_confirm").check()
    app.button(key="FormSubmitter:test_request-Отправить").click().run()
    time.sleep(0.3)
    app.button(key="FormSubmitter:test_request-Отправить").click().run()
    assert not app.exception
    assert received(embedded_demo(), "callback.CreateRequest") == before + 1
    (warning,) = [w.value for w in app.warning if "Повторно не отправлено" in w.value]
    assert warning.startswith(literal(f"Тестовый звонок на {OWNER_TEST_PHONE} через виджет"))
    assert literal("заказан только что, local; Newton принял запрос.") in warning
    assert app.button(key="test_send_again").label.startswith(literal("Отправить ещё раз: тестовый звонок"))


def test_a_run_cut_short_while_sending_leaves_the_form_usable(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = NewtonClient.create_crm_lead
    cuts = [True]

    def cut_short(self: NewtonClient, *args: Any, **kwargs: Any) -> None:
        sent(self, *args, **kwargs)
        if cuts and cuts.pop():
            raise StopException  # what a second click's rerun does to the first run, once Newton has the request

    monkeypatch.setattr(NewtonClient, "create_crm_lead", cut_short)
    before = received(embedded_demo(), "callback.CreateCrmLead")
    app.text_input(key="deal_form_phone").input(OWNER_TEST_PHONE)
    app.text_input(key="deal_form_price").input("700")
    app.button(key=CREATE).click().run()
    app.run()  # the next run, whatever starts it
    assert not app.button(key=CREATE).disabled  # no "sending" flag was left set by the run cut short
    app.button(key=CREATE).click().run()  # the same deal: it may have been made, so it is not sent blindly
    assert refusals(app) == [
        literal(f"A deal for {OWNER_TEST_PHONE} at 700 ₽ was sent just now by local, but its outcome is unknown: "
                "it may have reached Newton. It was not sent again.")
    ]  # fmt: skip
    app.text_input(key="deal_form_price").input("800")
    app.button(key=CREATE).click().run()  # another deal goes through
    phone = format_phone(OWNER_TEST_PHONE)
    assert phone is not None
    assert [s.value for s in app.sidebar.success] == [f"Deal created for {literal(phone)}."]
    assert received(embedded_demo(), "callback.CreateCrmLead") == before + 2


# A bulk apply of deals cut short resumes from the write log ---------------------------------------------------


def lead_prices_page(app: AppTest, data: bytes) -> AppTest:
    app.switch_page("app_pages/lead_prices.py").run()
    app.file_uploader(key="prices_file").set_value(("deals.csv", data, "text/csv"))
    app.run()
    assert not app.exception, app.exception
    return app


def counts_shown(app: AppTest) -> list[str]:
    return [m.value for m in [*app.success, *app.warning] if " из " in m.value or " of " in m.value]


def test_a_bulk_apply_cut_short_resumes_where_it_stopped_with_true_counts(
    app: AppTest, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ("phone,price\n" + "".join(f"{OWNER_TEST_PHONE},{100 + n}\n" for n in range(8))).encode()
    applying = lead_prices.apply

    def cut_after_three(writer: Writer, upload: lead_prices.Upload) -> Iterator[lead_prices.Result]:
        for done, result in enumerate(applying(writer, upload), start=1):
            yield result
            if done == 3:
                raise StopException  # a second click or a reload ends the run as the bar shows the third row

    monkeypatch.setattr(lead_prices, "apply", cut_after_three)
    before = received(embedded_demo(), "callback.CreateCrmLead")
    page = lead_prices_page(app, data)
    page.button(key="prices_apply").click().run()
    assert received(embedded_demo(), "callback.CreateCrmLead") == before + 3
    page.run()
    assert counts_shown(page) == ["3 of 8 sent, 5 waiting."]
    (results,) = [d.value for d in page.dataframe if "outcome" in d.value.columns and "row" in d.value.columns]
    assert list(results["outcome"]) == ["ok"] * 3 + ["waiting"] * 5  # the table words them: "sent", "waiting"

    reloaded = AppTest.from_file(ENTRY, default_timeout=60)  # a reload: a new session, the file chosen again
    reloaded.run()
    reloaded.sidebar.radio(key="lang").set_value("ru").run()
    lead_prices_page(reloaded, data)
    assert counts_shown(reloaded) == ["Отправлено 3 из 8, ждут отправки: 5."]
    assert reloaded.button(key="prices_apply").label == "Отправить в Newton 5 ожидающих строк"

    monkeypatch.setattr(lead_prices, "apply", applying)
    resume = page.button(key="prices_apply")
    assert resume.label == "Send the 5 waiting rows to Newton"
    resume.click().run()
    assert received(embedded_demo(), "callback.CreateCrmLead") == before + 8  # no row sent twice
    assert sorted(int(w.params["price"]) for w in embedded_demo().writes[-8:]) == list(range(100, 108))
    assert counts_shown(page) == ["8 of 8 sent."]
    assert page.button(key="prices_apply").disabled
