"""Every write to Newton goes through here: checked, sent, recorded in the write log, reflected in the cache."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dashboard import cache
from dashboard.api import FieldErrors, InvalidInput, NewtonClient, NewtonError, OutcomeUnknown, validate


@dataclass(frozen=True)
class Writer:
    """Writes as one account, into one cache, on behalf of one person (or the CLI)."""

    client: NewtonClient
    cache_path: Path
    account: str
    actor: str | None = None

    def set_lead_price(self, call_id: str, price: int | str) -> None:
        """Set a call's lead price in Newton, then in the cache, so it shows before the next sync."""
        checks = validate.Params()
        checks.add("id", validate.identifier, call_id)
        checks.add("price", validate.price, price)
        params = checks.result()  # the cache is updated with exactly what was sent
        self._send("callback.SetLeadPrice", params, lambda: self.client.set_lead_price(params["id"], params["price"]))
        with cache.transaction(self.cache_path) as con:
            con.execute(
                "UPDATE records SET leadPrice = ? WHERE account = ? AND id = ?",
                [int(params["price"]), self.account, params["id"]],
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
        """Make the call and log its outcome; input refused before sending is not a write and is not logged."""
        shown = {k: v for k, v in params.items() if v is not None}
        try:
            call()
        except InvalidInput:
            raise
        except NewtonError as error:
            self._log(action, shown, _outcome(error), str(error))
            raise
        self._log(action, shown, "ok", None)

    def _log(self, action: str, params: dict[str, object], outcome: str, message: str | None) -> None:
        with cache.transaction(self.cache_path) as con:
            cache.log_write(con, self.account, action, params, outcome, message, self.actor)


def _outcome(error: NewtonError) -> str:
    if isinstance(error, OutcomeUnknown):
        return "unknown"
    if isinstance(error, FieldErrors):
        return "refused"
    return "failed"
