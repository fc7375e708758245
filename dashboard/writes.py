# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Every write to Newton goes through here: checked, claimed, sent, recorded in the write log, reflected in the cache.

A write Newton cannot safely receive twice (a deal, a test callback, a test application) is claimed before it is
sent: a row of the write log, under a key made of the action, the account and the write's normalised content,
written in the same transaction that says "sending". The check for an earlier claim and the new claim happen in
that one transaction (DuckDB lets one process at a time hold the file; the store's writes take turns within it), so
two tabs, two people, the CLI and the dashboard share the claims. A second submit of the same write then either
waits for the one being sent and reports its outcome, or, within ten minutes of it, is refused unless the person
asks to send it again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import orjson

from dashboard.access import Person
from dashboard.api import NewtonClient, validate
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.errors import (
    AlreadySent,
    CacheError,
    DashboardError,
    InvalidInput,
    NewtonError,
    NotAllowed,
)
from dashboard.i18n import Problem
from dashboard.store import AnyStore, LoggedWrite, data, logs, utc_now

log = logging.getLogger(__name__)

SET_LEAD_PRICE = "callback.SetLeadPrice"
CREATE_CRM_LEAD = "callback.CreateCrmLead"
CREATE_REQUEST = "callback.CreateRequest"
APPLICATION_REQUEST = "callback.ApplicationRequest"
# "Call back now" on the Lost leads page: a callback.CreateRequest to a lost caller, logged under its own action
# because it is claimed per phone, not per phone, widget and department (see `Writer.call_back`).
CALL_BACK = "call_back"
# What makes two writes "the same": a second deal for the same phone, price and date, a second call to the same
# phone through the same widget and department. A SetLeadPrice is keyed by its call (its price is compared).
KEY_FIELDS: Mapping[str, tuple[str, ...]] = {
    SET_LEAD_PRICE: ("id",),
    CREATE_CRM_LEAD: ("phone", "price", "date"),
    CREATE_REQUEST: ("clientPhone", "widgetId", "departmentId"),
    APPLICATION_REQUEST: ("clientPhone", "widgetId", "departmentId", "name", "email", "text"),
    CALL_BACK: ("clientPhone",),
}
# Writes that must not reach Newton twice; a lead price may be set again, it only sets the same value.
ONCE = frozenset({CREATE_CRM_LEAD, CREATE_REQUEST, APPLICATION_REQUEST, CALL_BACK})
# For this long after a write was claimed, the same write is refused unless the person asks to send it again.
CLAIM_WINDOW = timedelta(minutes=10)
# A write still 'sending' after this long was cut short (its process died): far longer than a send can take with
# the client's timeout and its retries. It then counts as 'unknown' (it may have reached Newton), not in flight.
IN_FLIGHT_LIMIT = timedelta(minutes=2)
POLL_SECONDS = 0.2
# Outcomes after which Newton may have acted: they block the same write for CLAIM_WINDOW. 'refused' (Newton's
# field check) and 'failed' (Newton answered with an error, or was never reached) do not.
BLOCKING = frozenset({"ok", "unknown", "sending"})


def already_sent(earlier: LoggedWrite, now: datetime, *, waited: bool = False) -> AlreadySent:
    """The refusal of a write made again while `earlier`, the same one, counts: what happened to it, in English."""
    return AlreadySent(earlier, now, describe(earlier, now, "en") + " " + TEXT["en"]["not_again"], waited=waited)


def claim_key(action: str, account: str, params: Mapping[str, object]) -> str:
    """The key two writes share when they are the same write (checked params: the phone is already +7XXXXXXXXXX)."""
    content = [_normalised(name, params.get(name)) for name in KEY_FIELDS[action]]
    return hashlib.sha256(orjson.dumps([action, account, content])).hexdigest()[:32]


def _normalised(name: str, value: object) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text.lower() if name == "email" else text


def state(write: LoggedWrite, now: datetime) -> str:
    """A logged write's outcome as it counts now: 'sending' long past IN_FLIGHT_LIMIT was cut short: 'unknown'."""
    if write.outcome == "sending" and now - write.written_at > IN_FLIGHT_LIMIT:
        return "unknown"
    return write.outcome


def deciding(writes: Sequence[LoggedWrite], now: datetime) -> LoggedWrite | None:
    """Of one key's writes (newest first), the one that tells what happened: the newest after which Newton may
    have acted, else the newest."""
    return next((w for w in writes if state(w, now) in BLOCKING), writes[0] if writes else None)


@dataclass(frozen=True)
class Writer:
    """Writes as one account, into one cache, on behalf of one person (or the CLI), if that person may write."""

    client: NewtonClient
    store: AnyStore
    account: str
    author: Person
    # Cache errors met after Newton had answered: the write happened, but is not (fully) recorded here.
    unrecorded: list[str] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now  # naive UTC, as the write log stores it

    def set_lead_price(self, call_id: str, price: int | str) -> None:
        """Set a call's lead price in Newton, then in the cache, so it shows before the next sync."""
        params = validate.lead_price_params(call_id, price)  # the cache is updated with exactly what was sent
        self._send(SET_LEAD_PRICE, params, lambda: self.client.set_lead_price(params["id"], params["price"]))
        # A saved lead price shows at once, not after the next sync: the store gives the data a new version.
        self._record(data.set_lead_price, self.account, params["id"], int(params["price"]))

    def create_crm_lead(
        self, phone: str, price: int | str, date: str | None = None, *, send_again: str | bool = False
    ) -> None:
        """Create a deal for the lead that called from `phone` (once: see `_claim` for `send_again`)."""
        params = validate.crm_lead_params(phone, price, date)  # checked first: the claim is on what is sent
        self._send(
            CREATE_CRM_LEAD, params,
            lambda: self.client.create_crm_lead(params["phone"], params["price"], params.get("date")),
            send_again=send_again,
        )  # fmt: skip

    def create_request(
        self,
        client_phone: str,
        widget_id: str,
        department_id: str | None = None,
        referer: str | None = None,
        *,
        send_again: str | bool = False,
    ) -> None:
        """Place a real test callback through a widget (once: see `_claim` for `send_again`)."""
        params = validate.callback_request_params(client_phone, widget_id, department_id, referer)
        self._send(
            CREATE_REQUEST, params,
            lambda: self.client.create_request(params["clientPhone"], params["widgetId"], params.get("departmentId"),
                                               params.get("referer")),
            send_again=send_again,
        )  # fmt: skip

    def call_back(
        self, phone: str, widget_id: str, department_id: str | None = None, *, send_again: str | bool = False
    ) -> None:
        """Call a lost caller back now through the widget (and department) of their last request.

        Claimed per phone: whatever widget, department or button, one call back per phone within CLAIM_WINDOW
        (see `_claim` for `send_again`). The request carries OUR_CALLBACK_REFERER, so the record Newton makes of it
        is known as ours after the next sync and never counts as a new visitor's request.
        """
        params = validate.callback_request_params(phone, widget_id, department_id, OUR_CALLBACK_REFERER)
        self._send(
            CALL_BACK, params,
            lambda: self.client.create_request(params["clientPhone"], params["widgetId"], params.get("departmentId"),
                                               params["referer"]),
            send_again=send_again,
        )  # fmt: skip

    def application_request(
        self, client_phone: str, widget_id: str, *, send_again: str | bool = False, **fields: str | None
    ) -> None:
        """Send a test application through a widget (fields: department_id, referer, name, email, text), once."""
        params = validate.application_params(
            client_phone, widget_id, department_id=fields.get("department_id"), referer=fields.get("referer"),
            name=fields.get("name"), email_=fields.get("email"), text_=fields.get("text"),
        )  # fmt: skip
        self._send(
            APPLICATION_REQUEST, params,
            lambda: self.client.application_request(
                params["clientPhone"], params["widgetId"], department_id=params.get("departmentId"),
                referer=params.get("referer"), name=params.get("name"), email=params.get("email"),
                text=params.get("text"),
            ),
            send_again=send_again,
        )  # fmt: skip

    def _send(
        self, action: str, params: Mapping[str, str], call: Callable[[], None], *, send_again: str | bool = False
    ) -> None:
        """Claim the write (logged as 'sending'), make the call, then log how it ended.

        The log row is written first so that a cache we cannot write stops the command before anything reaches
        Newton: a write that went through must never look failed, or someone repeats it (a second deal or call).
        """
        if not self.author.can_write:
            # The pages hide write forms from viewers; this refuses a write even if a widget is forced.
            log.warning("refused %s from %r: role %s may not write", action, self.author.name, self.author.role)
            raise NotAllowed(Problem("view_only", who=self.author.name or self.author.role, action=action))
        write_id = self._claim(action, params, send_again)
        try:
            call()
        except InvalidInput:
            self._record(logs.forget_write, write_id)
            raise
        except NewtonError as error:
            outcome, message = error.write_outcome, str(error)
            self._record(logs.settle_write, write_id, outcome, message)
            raise
        except BaseException:
            # Interrupted while Newton had the request (Ctrl-C, a stopped run): it may have acted.
            self._record(logs.settle_write, write_id, "unknown", "interrupted while sending")
            raise
        self._record(logs.settle_write, write_id, "ok")

    def _claim(self, action: str, params: Mapping[str, str], send_again: str | bool) -> str:
        """Log the write as 'sending' under its claim key, unless the same write is claimed already.

        A same write being sent now is waited for (up to IN_FLIGHT_LIMIT after it began), then AlreadySent
        reports its outcome; one that Newton may have acted on within CLAIM_WINDOW raises AlreadySent at once,
        unless `send_again` is True (any) or names it by its write id (the one the person was shown).
        """
        key = claim_key(action, self.account, params)
        shown = {k: v for k, v in params.items() if v is not None}
        while True:
            now = self.clock()
            # On a lake, two servers' transactions would both find no claim and both insert one: take turns first.
            with self.store.exclusively(key):
                claimed = self.store.write(self._claim_now, action, key, shown, send_again, now)
            if isinstance(claimed, str):
                return claimed
            holder = claimed
            if state(holder, now) != "sending":
                raise already_sent(holder, now)
            waited = self._wait_for(holder)
            if waited is not None:
                raise already_sent(waited, self.clock(), waited=True)
            # Forgotten (its input was refused before sending): nothing reached Newton; claim it again.

    def _claim_now(
        self,
        con: duckdb.DuckDBPyConnection,
        action: str,
        key: str,
        shown: dict[str, str],
        send_again: str | bool,
        now: datetime,
    ) -> str | LoggedWrite:
        """In one transaction: the new claim's write id, or the earlier same write that holds it."""
        earlier = logs.claimed_writes(con, self.account, [key], now - CLAIM_WINDOW).get(key, [])
        if action not in ONCE:
            earlier = []  # a lead price may be set again: keyed (the Lead prices page reads it), never held
        holder = next((w for w in earlier if state(w, now) == "sending"), None)  # one being sent now
        if holder is None:
            settled = deciding(earlier, now) if earlier else None
            agreed = settled is not None and (send_again is True or send_again == settled.write_id)
            if settled is not None and state(settled, now) in BLOCKING and not agreed:
                holder = settled
        if holder is not None:
            return holder
        return logs.log_write(con, self.account, action, shown, "sending", None, self.author.name,
                              claim_key=key, now=now)  # fmt: skip

    def _wait_for(self, write: LoggedWrite) -> LoggedWrite | None:
        """Poll the write log until `write` settles or is cut short; its last state, or None if it was forgotten."""
        left = IN_FLIGHT_LIMIT - (self.clock() - write.written_at)
        deadline = time.monotonic() + max(0.0, min(left, IN_FLIGHT_LIMIT).total_seconds())
        while True:
            current = self.store.read(logs.logged_write, write.write_id)
            if current is None or current.outcome != "sending" or time.monotonic() >= deadline:
                return current
            time.sleep(POLL_SECONDS)

    def _record(self, change: Callable[..., object], *args: object) -> None:
        """Write `change(connection, *args)` to the store after Newton answered; failing here must not hide what
        Newton did."""
        try:
            self.store.write(change, *args)
        except CacheError as error:
            self.unrecorded.append(str(error))
            log.warning("Newton answered, but the cache could not record it: %s", error)


@dataclass(frozen=True)
class Attempt:
    """How one write of a batch ended: 'ok', or what its error means for a write (`DashboardError.write_outcome`),
    or, for a write made a moment ago elsewhere, that write's outcome; `message` in the words of Newton (or the
    cache), or the note that it is done but not recorded here."""

    outcome: str
    message: str | None = None


def attempt(writer: Writer, send: Callable[[], None]) -> Attempt:
    """Make one write of a batch through `writer` (`send` calls it); never raises for its failure, so the others
    still go. The one place an error becomes a batch row's outcome."""
    unrecorded = len(writer.unrecorded)
    try:
        send()
    except AlreadySent as error:  # another tab or process sent the same write a moment ago
        return Attempt(state(error.earlier, error.now), error.earlier.message)
    except DashboardError as error:
        return Attempt(error.write_outcome, str(error))
    return Attempt("ok", writer.unrecorded[-1] if len(writer.unrecorded) > unrecorded else None)


def call_backs(
    con: duckdb.DuckDBPyConnection, account: str, phones: Sequence[str], now: datetime
) -> dict[str, LoggedWrite]:
    """The call back of each phone that tells what happened (see `deciding`), from the write log: the newest one
    Newton may have acted on, else the newest try. Phones never called back are left out."""
    keys = {claim_key(CALL_BACK, account, {"clientPhone": phone}): phone for phone in phones}
    logged = logs.claimed_writes(con, account, list(keys), datetime(2000, 1, 1))  # any time: a row shows its last
    found = {keys[key]: deciding(writes, now) for key, writes in logged.items()}
    return {phone: write for phone, write in found.items() if write is not None}


# Words for people ---------------------------------------------------------------------------------------------

TEXT: Mapping[str, Mapping[str, str]] = {
    "en": {
        CREATE_CRM_LEAD: "a deal for {phone} at {price} ₽",
        CREATE_REQUEST: "a test callback to {clientPhone} through widget {widgetId}",
        APPLICATION_REQUEST: "a test application from {clientPhone} through widget {widgetId}",
        SET_LEAD_PRICE: "the lead price of call {id}: {price} ₽",
        CALL_BACK: "a call back to {clientPhone}",
        f"ok_{CALL_BACK}": "{What} was requested {ago} by {actor}: Newton accepted it.",
        "dated": " dated {date}",
        f"ok_{CREATE_CRM_LEAD}": "{What} was created {ago} by {actor}.",
        f"ok_{CREATE_REQUEST}": "{What} was requested {ago} by {actor}: Newton accepted it.",
        "ok": "{What} was sent {ago} by {actor}: Newton accepted it.",
        "unknown": "{What} was sent {ago} by {actor}, but its outcome is unknown: it may have reached Newton.",
        "sending": "{What} is being sent right now (started {ago} by {actor}): check in Newton before sending it "
        "again.",
        "failed": "{What} was tried {ago} by {actor} and failed: {message}",
        "refused": "{What} was tried {ago} by {actor}, and Newton refused it: {message}",
        "just_now": "just now",
        "minutes_ago": "{n} min ago",
        "someone": "someone",
        "not_again": "It was not sent again.",
    },
    "ru": {
        CREATE_CRM_LEAD: "сделка для {phone} на {price} ₽",
        CREATE_REQUEST: "тестовый звонок на {clientPhone} через виджет {widgetId}",
        APPLICATION_REQUEST: "тестовая заявка с {clientPhone} через виджет {widgetId}",
        SET_LEAD_PRICE: "цена лида звонка {id}: {price} ₽",
        CALL_BACK: "перезвон на {clientPhone}",
        f"ok_{CALL_BACK}": "{What}: заказан {ago}, {actor}; Newton принял запрос.",
        "dated": " с датой {date}",
        f"ok_{CREATE_CRM_LEAD}": "{What}: создана {ago}, {actor}.",
        f"ok_{CREATE_REQUEST}": "{What}: заказан {ago}, {actor}; Newton принял запрос.",
        "ok": "{What}: отправлено {ago}, {actor}; Newton принял запрос.",
        "unknown": "{What}: отправлено {ago}, {actor}, но результат неизвестен — запрос мог дойти до Newton.",
        "sending": "{What}: отправляется прямо сейчас (начато {ago}, {actor}) — проверьте в Newton, прежде чем "
        "отправлять ещё раз.",
        "failed": "{What}: попытка {ago}, {actor}, — ошибка: {message}",
        "refused": "{What}: попытка {ago}, {actor}, — Newton отклонил: {message}",
        "just_now": "только что",
        "minutes_ago": "{n} мин назад",
        "someone": "кто-то",
        "not_again": "Повторно не отправлено.",
    },
}


def what(write: LoggedWrite, lang: str) -> str:
    """The write in a few words: "a deal for +79991234567 at 500 ₽"."""
    words = TEXT.get(lang, TEXT["en"])
    params = {k: str(v) for k, v in write.params.items()}
    template = words.get(write.action)
    if template is None:
        return write.action
    phrase = template.format_map(_Blank(params))
    if write.action == CREATE_CRM_LEAD and params.get("date"):
        phrase += words["dated"].format(date=params["date"])
    return phrase


def describe(write: LoggedWrite, now: datetime, lang: str) -> str:
    """What happened to a write, when and by whom: "A deal for +79991234567 at 500 ₽ was created 2 min ago by …"."""
    words = TEXT.get(lang, TEXT["en"])
    outcome = state(write, now)
    template = words.get(f"{outcome}_{write.action}") or words[outcome if outcome in words else "failed"]
    minutes = int((now - write.written_at).total_seconds() // 60)
    ago = words["just_now"] if minutes < 1 else words["minutes_ago"].format(n=minutes)
    phrase = what(write, lang)
    return template.format(
        What=phrase[:1].upper() + phrase[1:], ago=ago, actor=write.actor or words["someone"],
        message=write.message or "",
    ).strip()  # fmt: skip


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
