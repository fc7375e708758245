"""Who may see and who may change: the access policy from `[access]` in secrets.toml, roles, a limit on tries.

Three ways in, chosen by what the deployment configured:
- `oidc`: Streamlit's built-in sign-in (an `[auth]` section exists); an allowlist of e-mails or @domains decides.
- `password`: a shared password (one for viewers, one for editors); which one was typed decides the role.
- `open`: nothing configured; meant for one person on their own machine.
`read_only = true` makes everyone a viewer, in the dashboard and in the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from dashboard.api import InvalidInput

MIN_PASSWORD_LENGTH: Final = 8
TRIES_PER_MINUTE: Final = 5
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class Role(StrEnum):
    """What a person may do: viewers read and export; editors also write to Newton."""

    VIEWER = "viewer"
    EDITOR = "editor"


class Mode(StrEnum):
    OIDC = "oidc"
    PASSWORD = "password"  # noqa: S105 - the name of a mode, not a password
    OPEN = "open"


class NotAllowed(InvalidInput):
    """A write was attempted by someone who may not write (or in a read-only deployment); nothing was sent."""

    def __init__(self, reason: str) -> None:
        super().__init__({"access": reason})


@dataclass(frozen=True)
class Person:
    """Who is using the dashboard: `name` goes into the write log next to every write they make."""

    name: str
    role: Role

    @property
    def can_write(self) -> bool:
        """True for editors: lead prices, deals and test calls."""
        return self.role is Role.EDITOR


NOBODY: Final = Person("", Role.VIEWER)  # the safe default: sees what is shown, writes nothing


@dataclass(frozen=True)
class AccessPolicy:
    """The deployment's rules. Passwords are kept only as SHA-256 digests."""

    mode: Mode
    providers: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    editor_digest: bytes | None = field(default=None, repr=False)
    viewer_digest: bytes | None = field(default=None, repr=False)
    read_only: bool = False

    def role_for_email(self, email: str | None, verified: object = True) -> Role | None:
        """The role of a signed-in address, or None when it is not on the allowlist (or not verified)."""
        if not email or verified is False:
            return None
        address = email.strip().lower()
        if _listed(address, self.editors):
            return self.capped(Role.EDITOR)
        if _listed(address, self.viewers):
            return self.capped(Role.VIEWER)
        return None

    def role_for_password(self, given: str) -> Role | None:
        """The role the typed password opens, or None. Both digests are always compared, in constant time."""
        digest = _digest(given)
        editor = hmac.compare_digest(digest, self.editor_digest or b"\0" * 32) and self.editor_digest is not None
        viewer = hmac.compare_digest(digest, self.viewer_digest or b"\0" * 32) and self.viewer_digest is not None
        if editor:
            return self.capped(Role.EDITOR)
        return self.capped(Role.VIEWER) if viewer else None

    def open_person(self) -> Person:
        """The person of an open (local) deployment."""
        return Person("local", self.capped(Role.EDITOR))

    def capped(self, role: Role) -> Role:
        """`role`, or viewer in a read-only deployment."""
        return Role.VIEWER if self.read_only else role


def load_policy(secrets: Mapping[str, Any]) -> AccessPolicy:
    """The policy from Streamlit's secrets (raises InvalidInput naming the setting that is wrong)."""
    section = secrets.get("access", {})
    if not isinstance(section, Mapping):
        raise InvalidInput({"[access]": "must be a table"})
    read_only = read_only_setting(section.get("read_only"), "[access] read_only")
    auth = secrets.get("auth")
    if isinstance(auth, Mapping):
        editors = _addresses(section, "editors")
        viewers = _addresses(section, "viewers")
        if not editors and not viewers:
            raise InvalidInput({"[access] editors / viewers": "sign-in is configured ([auth]) but nobody is allowed: "
                                "list e-mail addresses or @domains"})  # fmt: skip
        providers = tuple(sorted(name for name, value in auth.items() if isinstance(value, Mapping)))
        return AccessPolicy(Mode.OIDC, providers, editors, viewers, read_only=read_only)
    editor, viewer = _password(section, "editor_password"), _password(section, "viewer_password")
    if editor is not None and editor == viewer:
        raise InvalidInput({"[access] viewer_password": "must differ from editor_password"})
    if editor is None and viewer is None:
        return AccessPolicy(Mode.OPEN, read_only=read_only)
    return AccessPolicy(
        Mode.PASSWORD,
        editor_digest=None if editor is None else _digest(editor),
        viewer_digest=None if viewer is None else _digest(viewer),
        read_only=read_only,
    )


def read_only_setting(value: object, name: str) -> bool:
    """`true`/`false` from TOML or the environment; anything else is refused by name."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInput({name: "must be true or false"})


def cli_read_only(secrets_access: Mapping[str, Any], env: Mapping[str, str] | None = None) -> bool:
    """Whether the CLI must refuse writes: NEWTON_READ_ONLY, else `[access] read_only` in secrets.toml."""
    env = os.environ if env is None else env
    if env.get("NEWTON_READ_ONLY", "").strip():
        return read_only_setting(env["NEWTON_READ_ONLY"], "NEWTON_READ_ONLY")
    return read_only_setting(secrets_access.get("read_only"), "[access] read_only")


def _listed(address: str, allowed: tuple[str, ...]) -> bool:
    _, at, domain = address.rpartition("@")
    return address in allowed or (bool(at) and f"@{domain}" in allowed)


def _addresses(section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = section.get(key, [])
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidInput({f"[access] {key}": 'must be a list such as ["ann@example.com", "@example.com"]'})
    entries = []
    for entry in value:
        text = str(entry).strip().lower() if isinstance(entry, str) else ""
        if "@" not in text or " " in text or text.endswith("@"):
            raise InvalidInput({f"[access] {key}": "each entry must be an e-mail address or @domain"})
        entries.append(text)
    return tuple(entries)


def _password(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_LENGTH:
        raise InvalidInput({f"[access] {key}": f"must be text of at least {MIN_PASSWORD_LENGTH} characters"})
    return value


def _digest(text: str) -> bytes:
    # Equal-length digests make compare_digest's time independent of the password's length.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TryLimiter:
    """At most `limit` failed tries per `window` seconds for each caller; shared by every session in the process."""

    def __init__(
        self, limit: int = TRIES_PER_MINUTE, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._limit, self._window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, caller: str) -> float:
        """Seconds before `caller` may try again (0 when a try is allowed now)."""
        with self._lock:
            recent = self._recent(caller)
            if len(recent) < self._limit:
                return 0.0
            return max(0.0, recent[0] + self._window - self._clock())

    def failed(self, caller: str) -> None:
        """Count one failed try."""
        with self._lock:
            self._recent(caller).append(self._clock())

    def _recent(self, caller: str) -> deque[float]:
        recent = self._failures.setdefault(caller, deque())
        while recent and recent[0] <= self._clock() - self._window:
            recent.popleft()
        return recent
