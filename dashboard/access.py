"""Who may see and who may change: the access policy from `[access]` in secrets.toml, roles, a limit on tries.

Three ways in, chosen by what the deployment configured:
- `oidc`: Streamlit's built-in sign-in (an `[auth]` section exists); an allowlist of e-mails or @domains decides.
- `password`: a shared password (one for viewers, one for editors); which one was typed decides the role.
- `open`: nothing configured and the server listens on loopback only; meant for one person on their own machine.
`read_only = true` makes everyone a viewer, in the dashboard and in the CLI.

Every doubt fails closed: a setting this module does not know, a section that names no way in, a password too short
or a server reachable from other machines with nothing configured stop the dashboard before any data is read.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from dashboard.errors import BadAccess
from dashboard.settings import DEFAULT_ACCOUNT, DEMO_ACCOUNT, read_only, truth

MIN_PASSWORD_LENGTH: Final = 12
TRIES_PER_MINUTE: Final = 5
IDLE_MINUTES: Final = 8 * 60  # a password session ends after this long without a click
MAX_IDLE_MINUTES: Final = 7 * 24 * 60
FIRST_DELAY: Final = 0.5  # seconds a first wrong password is held; doubles with each recent failure
MAX_DELAY: Final = 4.0
# The top-level sections of secrets.toml this dashboard knows: its connection, the door, and Streamlit's sign-in.
# Anything else (a misspelled `[acess]`, a stray `editor_password` above every section) fails closed.
KNOWN_SECTIONS: Final = ("newton", "accounts", "access", "auth", "lake")
ACCESS_KEYS: Final = (
    "editor_password", "viewer_password", "editors", "viewers", "read_only", "idle_minutes", "people", "passwords",
)  # fmt: skip
# The keys of one `[access.people."<address>"]` or `[access.passwords.<label>]` entry.
ENTRY_KEYS: Final = ("accounts", "role", "roles")
PASSWORD_KEYS: Final = ("password", *ENTRY_KEYS)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class Role(StrEnum):
    """What a person may do: viewers read and export; editors also write to Newton."""

    VIEWER = "viewer"
    EDITOR = "editor"


class Mode(StrEnum):
    OIDC = "oidc"
    PASSWORD = "password"  # noqa: S105 - the name of a mode, not a password
    OPEN = "open"


Grants = tuple[tuple[str, Role], ...]  # (account name, the role there), in the order the settings list them


@dataclass(frozen=True)
class Person:
    """Who is using the dashboard: `name` goes into the write log next to every write they make.

    `grants` None means every account, each with `role`; otherwise only the accounts listed, each with its own role
    (and `role` is the highest of them). A view acts in one account with `in_account`, whose `role` is the one there.
    """

    name: str
    role: Role
    grants: Grants | None = None

    @property
    def can_write(self) -> bool:
        """True for editors: lead prices, deals and test calls."""
        return self.role is Role.EDITOR

    def role_in(self, account: str) -> Role | None:
        """The role in the account named `account`, or None when this person may not see it."""
        if self.grants is None:
            return self.role
        return dict(self.grants).get(account)

    def visible(self, accounts: Iterable[str]) -> tuple[str, ...]:
        """Those of `accounts` this person may see, in their order."""
        return tuple(name for name in accounts if self.role_in(name) is not None)

    def in_account(self, account: str) -> Person:
        """This person acting in `account`: its role there, and no other account; NOBODY-like (a viewer of
        nothing) when they may not see it."""
        role = self.role_in(account)
        if role is None:
            return Person(self.name, Role.VIEWER, ())
        return Person(self.name, role, ((account, role),))


NOBODY: Final = Person("", Role.VIEWER)  # the safe default: sees what is shown, writes nothing


@dataclass(frozen=True)
class Grant:
    """One `[access.people."<address>"]` or `[access.passwords.<label>]` entry: its accounts and roles there."""

    grants: Grants

    @property
    def role(self) -> Role:
        """The highest role the entry gives anywhere."""
        return Role.EDITOR if any(role is Role.EDITOR for _, role in self.grants) else Role.VIEWER

    def person(self, name: str, read_only: bool) -> Person:
        """The person this entry lets in, every role capped to viewer in a read-only deployment."""
        grants = tuple((account, Role.VIEWER if read_only else role) for account, role in self.grants)
        top = Role.EDITOR if any(role is Role.EDITOR for _, role in grants) else Role.VIEWER
        return Person(name, top, grants)


@dataclass(frozen=True)
class LimitedPassword:
    """A password limited to some accounts (`[access.passwords.<label>]`); only its digest is kept."""

    label: str
    digest: bytes = field(repr=False)
    grant: Grant


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
    idle_minutes: int = IDLE_MINUTES
    # Addresses and @domains limited to some accounts (OIDC), and passwords limited so (password mode).
    people: tuple[tuple[str, Grant], ...] = ()
    passwords: tuple[LimitedPassword, ...] = ()

    def person_for_email(self, email: str | None, verified: object = True) -> Person | None:
        """The signed-in person with the accounts and roles their entry gives, or None when no entry lets them in.

        The most specific entry decides: the address itself (in `editors`, `viewers` or `people`), else its
        @domain; an address or domain is never in two of them (`load_policy` refuses that)."""
        if not email or verified is False:
            return None
        address = email.strip().lower()
        _, at, domain = address.rpartition("@")
        limited = dict(self.people)
        for key in (address, f"@{domain}" if at else None):
            if key is None:
                continue
            if key in limited:
                return limited[key].person(address, self.read_only)
            if key in self.editors:
                return Person(address, self.capped(Role.EDITOR))
            if key in self.viewers:
                return Person(address, self.capped(Role.VIEWER))
        return None

    def person_for_password(self, given: str) -> Person | None:
        """The person the typed password lets in, or None. Every digest is compared, in constant time."""
        digest = _digest(given)
        found = [p for p in self.passwords if hmac.compare_digest(digest, p.digest)]
        role = self.role_for_password(given)
        if role is not None:
            return Person(f"{role.value} password", role)
        return found[0].grant.person(found[0].label, self.read_only) if found else None

    def password_person(self, name: str) -> Person | None:
        """The person a password session named `name` is, by today's settings (None: that password is gone), so
        accounts taken away or `read_only` set while someone is signed in apply at their next click."""
        for role in Role:
            digest = self.editor_digest if role is Role.EDITOR else self.viewer_digest
            if name == f"{role.value} password" and digest is not None:
                return Person(name, self.capped(role))
        for limited in self.passwords:
            if limited.label == name:
                return limited.grant.person(name, self.read_only)
        return None

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

    def open_person(self) -> Person:  # every account
        """The person of an open (local) deployment."""
        return Person("local", self.capped(Role.EDITOR))

    def capped(self, role: Role) -> Role:
        """`role`, or viewer in a read-only deployment."""
        return Role.VIEWER if self.read_only else role

    def idle_for_too_long(self, last_seen: float, now: float) -> bool:
        """Whether a password session last used at `last_seen` has ended by `now` (seconds on one clock)."""
        return now - last_seen > self.idle_minutes * 60


def load_policy(
    secrets: Mapping[str, Any], address: str | None, accounts: Collection[str] | None = None
) -> AccessPolicy:
    """The policy from Streamlit's secrets and the address the server listens on (raises BadAccess naming the
    setting that is wrong). Open mode only when nothing about access is set and `address` is loopback.

    `accounts` are the account names entries may grant (by default the `[accounts.<name>]` sections); an entry
    naming any other account is refused, never ignored."""
    check_known(secrets)
    section = secrets.get("access", {})
    read_only = read_only_setting(section.get("read_only"), "[access] read_only")
    idle = _idle_minutes(section.get("idle_minutes", IDLE_MINUTES))
    known = tuple(accounts) if accounts is not None else _account_names(secrets)
    auth = secrets.get("auth")
    if isinstance(auth, Mapping):
        if "passwords" in section:
            raise BadAccess("[access] passwords", "passwords_with_sign_in")
        editors = _addresses(section, "editors")
        viewers = _addresses(section, "viewers")
        people = _people(section.get("people", {}), known)
        _each_once(editors, viewers, tuple(key for key, _ in people))
        if not editors and not viewers and not people:
            raise BadAccess("[access] editors / viewers", "nobody_allowed")
        providers = tuple(sorted(name for name, value in auth.items() if isinstance(value, Mapping)))
        return AccessPolicy(
            Mode.OIDC, providers, editors, viewers, read_only=read_only, idle_minutes=idle, people=people
        )
    if "people" in section:
        raise BadAccess("[access] people", "people_without_sign_in")
    editor, viewer = _password(section, "editor_password"), _password(section, "viewer_password")
    if editor is not None and editor == viewer:
        raise BadAccess("[access] viewer_password", "same_passwords")
    limited = _limited_passwords(section.get("passwords", {}), known, {editor, viewer} - {None})
    if editor is None and viewer is None and limited:
        return AccessPolicy(Mode.PASSWORD, read_only=read_only, idle_minutes=idle, passwords=limited)
    if editor is None and viewer is None:
        if "access" in secrets and not read_only:
            # An [access] section (even one with only an idle time) says someone meant to protect this server.
            raise BadAccess("[access]", "no_way_in")
        if not listens_on_loopback(address):
            raise BadAccess("[access]", "not_loopback", address=address or "0.0.0.0 (server.address unset)")
        return AccessPolicy(Mode.OPEN, read_only=read_only, idle_minutes=idle)
    return AccessPolicy(
        Mode.PASSWORD,
        editor_digest=None if editor is None else _digest(editor),
        viewer_digest=None if viewer is None else _digest(viewer),
        read_only=read_only,
        idle_minutes=idle,
        passwords=limited,
    )


def check_known(secrets: Mapping[str, Any]) -> None:
    """Refuse, by name, any top-level section or [access] key this dashboard does not know, and an access key
    written under [newton] (a forgotten `[access]` line): each would otherwise be silently ignored."""
    for name, value in secrets.items():
        if name not in KNOWN_SECTIONS:
            shown = f"[{name}]" if isinstance(value, Mapping) else name
            raise BadAccess(shown, "unknown_section", known=", ".join(f"[{known}]" for known in KNOWN_SECTIONS))
    section = secrets.get("access", {})
    if not isinstance(section, Mapping):
        raise BadAccess("[access]", "not_table")
    for key in section:
        if key not in ACCESS_KEYS:
            close = difflib.get_close_matches(str(key), ACCESS_KEYS, n=1, cutoff=0.6)
            known = ", ".join(ACCESS_KEYS)
            if close:
                raise BadAccess(f"[access] {key}", "unknown_key_close", close=close[0], known=known)
            raise BadAccess(f"[access] {key}", "unknown_key", known=known)
    newton = secrets.get("newton", {})
    for key in newton if isinstance(newton, Mapping) else ():
        if difflib.get_close_matches(str(key), ACCESS_KEYS, n=1, cutoff=0.75):
            raise BadAccess(f"[newton] {key}", "misplaced")


def listens_on_loopback(address: str | None) -> bool:
    """Whether `server.address` keeps the server to this machine. Unset means every interface: not loopback."""
    text = (address or "").strip().strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:  # empty, or a host name that may resolve anywhere
        return False


def read_only_setting(value: object, name: str) -> bool:
    """`true`/`false` from TOML or the environment; anything else is refused by name."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and (meaning := truth(value)) is not None:
        return meaning
    raise BadAccess(name, "true_false")


def cli_read_only(secrets_access: Mapping[str, Any], env: Mapping[str, str] | None = None) -> bool:
    """Whether the CLI must refuse writes: NEWTON_READ_ONLY, else `[access] read_only` in secrets.toml.

    An [access] key the dashboard does not know (a misspelled `read_onyl`) is refused here too, by name."""
    check_known({"access": secrets_access})
    from_env = read_only(env)
    if from_env is not None:
        return from_env
    return read_only_setting(secrets_access.get("read_only"), "[access] read_only")


def _listed(address: str, allowed: tuple[str, ...]) -> bool:
    _, at, domain = address.rpartition("@")
    return address in allowed or (bool(at) and f"@{domain}" in allowed)


def _addresses(section: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = section.get(key, [])
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise BadAccess(f"[access] {key}", "not_a_list")
    entries = []
    for entry in value:
        text = str(entry).strip().lower() if isinstance(entry, str) else ""
        if "@" not in text or " " in text or text.endswith("@"):
            raise BadAccess(f"[access] {key}", "not_an_address")
        entries.append(text)
    return tuple(entries)


def _account_names(secrets: Mapping[str, Any]) -> tuple[str, ...]:
    """The account names settings.load_accounts gives: `[accounts.<name>]`, "default" for a `[newton]` with a
    token or user id; with no `[accounts]`, the one account "default" (or "demo", without a token)."""
    accounts = secrets.get("accounts", {})
    named = tuple(str(name) for name in accounts) if isinstance(accounts, Mapping) else ()
    newton = secrets.get("newton", {})
    if not named:
        return (DEFAULT_ACCOUNT, DEMO_ACCOUNT)
    if isinstance(newton, Mapping) and ("token" in newton or "user_id" in newton):
        return (DEFAULT_ACCOUNT, *named)
    return named


def _grant(entry: object, where: str, known: tuple[str, ...]) -> Grant:
    """One entry's accounts and roles: `accounts` (a list) with `role`, and/or `roles` (a table account → role)."""
    if not isinstance(entry, Mapping):
        raise BadAccess(where, "not_table")
    for key in entry:
        if key not in PASSWORD_KEYS or (key == "password" and not where.startswith("[access.passwords")):
            raise BadAccess(f"{where} {key}", "unknown_entry_key", known=", ".join(ENTRY_KEYS))
    grants: dict[str, Role] = {}
    listed = entry.get("accounts")
    if listed is not None:
        if isinstance(listed, str) or not isinstance(listed, list | tuple) or not listed:
            raise BadAccess(f"{where} accounts", "not_account_list")
        role = _role(entry.get("role"), f"{where} role")
        for name in listed:
            grants[_account(name, f"{where} accounts", known, grants)] = role
    elif "role" in entry:
        raise BadAccess(f"{where} accounts", "not_account_list")
    roles = entry.get("roles", {})
    if not isinstance(roles, Mapping):
        raise BadAccess(f"{where} roles", "not_table")
    for name, role_name in roles.items():
        grants[_account(name, f"{where} roles", known, grants)] = _role(role_name, f"{where} roles.{name}")
    if not grants:
        raise BadAccess(where, "no_accounts")
    return Grant(tuple(grants.items()))


def _account(name: object, where: str, known: tuple[str, ...], seen: Mapping[str, Role]) -> str:
    if not isinstance(name, str) or name not in known:
        raise BadAccess(where, "unknown_account", account=name, known=", ".join(known) or "—")
    if name in seen:
        raise BadAccess(where, "account_twice", account=name)
    return name


def _role(value: object, where: str) -> Role:
    if value not in tuple(Role):
        raise BadAccess(where, "unknown_role")
    return Role(str(value))


def _people(value: object, known: tuple[str, ...]) -> tuple[tuple[str, Grant], ...]:
    if not isinstance(value, Mapping):
        raise BadAccess("[access.people]", "not_table")
    people = []
    for key, entry in value.items():
        address = key.strip().lower() if isinstance(key, str) else ""
        where = f'[access.people."{key}"]'
        if "@" not in address or " " in address or address.endswith("@"):
            raise BadAccess(where, "not_an_address")
        people.append((address, _grant(entry, where, known)))
    return tuple(people)


def _each_once(*lists: tuple[str, ...]) -> None:
    """An address or @domain in two of editors, viewers and people would leave its accounts in doubt."""
    seen: set[str] = set()
    for entries in lists:
        for entry in entries:
            if entry in seen:
                raise BadAccess(f"[access] {entry}", "listed_twice")
            seen.add(entry)


def _limited_passwords(value: object, known: tuple[str, ...], taken: set[str | None]) -> tuple[LimitedPassword, ...]:
    if not isinstance(value, Mapping):
        raise BadAccess("[access.passwords]", "not_table")
    found = []
    for label, entry in value.items():
        where = f"[access.passwords.{label}]"
        grant = _grant(entry, where, known)
        password = _password(entry, "password", where)
        if password is None:
            raise BadAccess(f"{where} password", "short_password", length=MIN_PASSWORD_LENGTH)
        if password in taken:
            raise BadAccess(f"{where} password", "password_taken")
        taken.add(password)
        found.append(LimitedPassword(str(label), _digest(password), grant))
    return tuple(found)


def _password(section: Mapping[str, Any], key: str, where: str = "[access]") -> str | None:
    value = section.get(key)
    if value is None:
        return None
    # Spaces around a password are kept (they are part of it) but do not count towards its length.
    if not isinstance(value, str) or len(value.strip()) < MIN_PASSWORD_LENGTH:
        raise BadAccess(f"{where} {key}", "short_password", length=MIN_PASSWORD_LENGTH)
    return value


def _idle_minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IDLE_MINUTES:
        raise BadAccess("[access] idle_minutes", "idle_minutes", most=MAX_IDLE_MINUTES)
    return value


def _digest(text: str) -> bytes:
    # Equal-length digests make compare_digest's time independent of the password's length.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TryLimiter:
    """At most `limit` password tries that did not succeed per `window` seconds for each caller.

    One object for the whole process, kept here rather than in `st.cache_resource`: any browser, signed in or not,
    can empty Streamlit's caches, which must not hand out fresh tries. A try is counted before the password is
    compared (so many sessions trying at once cannot slip past the limit) and forgotten again if it succeeds."""

    def __init__(
        self, limit: int = TRIES_PER_MINUTE, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._limit, self._window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, caller: str) -> float:
        """Seconds before `caller` may try again (0 when a try is allowed now)."""
        with self._lock:
            return self._wait(self._recent(caller))

    def begin(self, caller: str) -> float:
        """Count a try by `caller` now, or return the seconds to wait (and count nothing) when over the limit."""
        with self._lock:
            recent = self._recent(caller)
            wait = self._wait(recent)
            if wait == 0:
                recent.append(self._clock())
            return wait

    def succeeded(self, caller: str) -> None:
        """The try just begun opened the door: it does not count against `caller`."""
        with self._lock:
            recent = self._recent(caller)
            if recent:
                recent.pop()

    def failed(self, caller: str) -> None:
        """Count one failed try (for a caller that did not `begin` it)."""
        with self._lock:
            self._recent(caller).append(self._clock())

    def delay(self, caller: str) -> float:
        """How long to hold a wrong try before answering: doubling with each recent failure, at most MAX_DELAY."""
        with self._lock:
            failures = len(self._recent(caller))
        return 0.0 if failures == 0 else min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - 1))

    def forget(self) -> None:
        """Start afresh (for tests: the limiter lives as long as the process)."""
        with self._lock:
            self._failures.clear()

    def _wait(self, recent: deque[float]) -> float:
        if len(recent) < self._limit:
            return 0.0
        return max(0.0, recent[0] + self._window - self._clock())

    def _recent(self, caller: str) -> deque[float]:
        if len(self._failures) > 10_000:  # many addresses tried once: drop the ones whose tries have all expired
            horizon = self._clock() - self._window
            self._failures = {who: tries for who, tries in self._failures.items() if tries and tries[-1] > horizon}
        recent = self._failures.setdefault(caller, deque())
        while recent and recent[0] <= self._clock() - self._window:
            recent.popleft()
        return recent


# Shared by every session of this server process; survives `st.cache_resource.clear()` from any websocket.
PASSWORD_TRIES: Final = TryLimiter()
