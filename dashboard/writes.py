"""Every write to Newton goes through here: checked, sent, recorded in the write log, reflected in the cache."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard import cache
from dashboard.access import NotAllowed, Person
from dashboard.api import FieldErrors, InvalidInput, NewtonClient, NewtonError, OutcomeUnknown, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Writer:
    """Writes as one account, into one cache, on behalf of one person (or the CLI), if that person may write."""

    client: NewtonClient
    cache_path: Path
    account: str
    author: Person
    # Cache errors met after Newton had answered: the write happened, but is not (fully) recorded here.
    unrecorded: list[str] = field(default_factory=list)

    def set_lead_price(self, call_id: str, price: int | str) -> None:
        """Set a call's lead price in Newton, then in the cache, so it shows before the next sync."""
        checks = validate.Params()
        checks.add("id", validate.identifier, call_id)
        checks.add("price", validate.price, price)
        params = checks.result()  # the cache is updated with exactly what was sent
        self._send("callback.SetLeadPrice", params, lambda: self.client.set_lead_price(params["id"], params["price"]))
        self._record(
            lambda con: con.execute(
                "UPDATE records SET leadPrice = ? WHERE account = ? AND id = ?",
                [int(params["price"]), self.account, params["id"]],
            ),
            changes_data=True,
        )

    def create_crm_lead(self, phone: str, price: int | str, date: str | None = None) -> None:
        """Create a deal for the lead that called from `phone`."""
        params = {"phone": phone, "price": price, "date": date}
        self._send("callback.CreateCrmLead", params, lambda: self.client.create_crm_lead(phone, price, date))

    def create_request(
        self, client_phone: str, widget_id: str, department_id: str | None = None, referer: str | None = None
    ) -> None:
        """Place a real test callback through a widget."""
        params = {"clientPhone": client_phone, "widgetId": widget_id, "departmentId": department_id, "referer": referer}
        self._send(
            "callback.CreateRequest", params,
            lambda: self.client.create_request(client_phone, widget_id, department_id, referer),
        )  # fmt: skip

    def application_request(self, client_phone: str, widget_id: str, **fields: str | None) -> None:
        """Send a test application through a widget (fields: department_id, referer, name, email, text)."""
        params = {"clientPhone": client_phone, "widgetId": widget_id, **fields}
        self._send(
            "callback.ApplicationRequest", params,
            lambda: self.client.application_request(client_phone, widget_id, **fields),
        )  # fmt: skip

    def _send(self, action: str, params: Mapping[str, object], call: Callable[[], None]) -> None:
        """Log the write as 'sending', make the call, then log how it ended.

        The log row is written first so that a cache we cannot write stops the command before anything reaches
        Newton: a write that went through must never look failed, or someone repeats it (a second deal or call).
        """
        if not self.author.can_write:
            # The pages hide write forms from viewers; this refuses a write even if a widget is forced.
            log.warning("refused %s from %r: role %s may not write", action, self.author.name, self.author.role)
            raise NotAllowed(f"{self.author.name or 'this user'} may only view; {action} was not sent")
        shown = {k: v for k, v in params.items() if v is not None}
        with cache.transaction(self.cache_path) as con:
            write_id = cache.log_write(con, self.account, action, shown, "sending", None, self.author.name)
        try:
            call()
        except InvalidInput:
            self._record(lambda con: cache.forget_write(con, write_id))
            raise
        except NewtonError as error:
            outcome, message = _outcome(error), str(error)
            self._record(lambda con: cache.settle_write(con, write_id, outcome, message))
            raise
        self._record(lambda con: cache.settle_write(con, write_id, "ok"))

    def _record(self, change: Callable[[duckdb.DuckDBPyConnection], object], *, changes_data: bool = False) -> None:
        """Write to the cache after Newton answered; failing here must not hide what Newton did."""
        try:
            with cache.transaction(self.cache_path) as con:
                change(con)
            if changes_data:
                cache.mark_changed(self.cache_path)  # a saved lead price shows at once, not after the next sync
        except cache.CacheError as error:
            self.unrecorded.append(str(error))
            log.warning("Newton answered, but the cache could not record it: %s", error)


def _outcome(error: NewtonError) -> str:
    if isinstance(error, OutcomeUnknown):
        return "unknown"
    if isinstance(error, FieldErrors):
        return "refused"
    return "failed"
