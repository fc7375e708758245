"""The errors a Newton call can end in, each one a message a page or the CLI can show as it is."""

from __future__ import annotations

from collections.abc import Mapping


class NewtonError(Exception):
    """Base of every error the Newton client raises."""


class FieldErrors(NewtonError):
    """Newton (or our own check before sending) rejected named fields, e.g. `clientPhone: Номер введен неверно`."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields: dict[str, str] = dict(fields)
        super().__init__("\n".join(f"{name}: {message}" for name, message in self.fields.items()))


class InvalidInput(FieldErrors):
    """Our own check refused the input before anything was sent to Newton."""


class ApiError(NewtonError):
    """Newton answered with a general error, e.g. `По номеру не нашлся звонок`."""


class AuthError(NewtonError):
    """Newton refused the credentials."""

    def __init__(self, detail: str = "") -> None:
        message = "Newton refused the credentials: check the token and user id"
        super().__init__(f"{message} ({detail})" if detail else message)


class UnexpectedAnswer(NewtonError):
    """Newton's answer was not JSON or not of the documented shape."""


class TransportFailure(NewtonError):
    """Newton could not be reached, or kept failing, after the retries allowed for the action."""


class OutcomeUnknown(TransportFailure):
    """A write that cannot be repeated safely may or may not have reached Newton."""

    def __init__(self, action: str, cause: str) -> None:
        super().__init__(
            f"{action}: outcome unknown — the request may have reached Newton ({cause}). "
            "Check in Newton before you resubmit: repeating it could create a second deal or a second call."
        )
