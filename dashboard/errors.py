"""Every exception of Newton Dashboard, in one place, like httpx's `_exceptions.py`.

    DashboardError
    ├── ConfigError ............... a setting that cannot be used (exit 2)
    │   └── BadAccess ............. an `[access]` setting of secrets.toml
    ├── NewtonError ............... a Newton call failed (exit 1)
    │   ├── FieldErrors ........... Newton refused named fields
    │   │   └── InvalidInput ...... our own check refused the input; nothing was sent (exit 2)
    │   │       └── NotAllowed .... this person or deployment may not write (exit 2)
    │   ├── ApiError .............. Newton answered with a general error
    │   ├── AuthError ............. Newton refused the credentials
    │   ├── UnexpectedAnswer ...... Newton's answer was not of the documented shape
    │   └── TransportFailure ...... Newton unreachable, or kept failing (exit 3)
    │       └── OutcomeUnknown .... a write may or may not have reached Newton (exit 3)
    ├── CacheError ................ the local cache cannot be used (exit 2)
    │   ├── CacheBusy ............. another process held it too long (exit 3)
    │   │   └── SyncRunning ....... another sync of the same cache runs (exit 3)
    │   ├── CacheStorageFailure ... a full disk, a read-only or forbidden file (exit 4)
    │   └── CacheDamaged .......... the file itself is damaged
    ├── SyncFailed ................ a sync stopped at a window Newton kept failing (exit 3)
    ├── DeliveryFailed ............ Telegram or the mail server did not accept an alert (exit 3)
    ├── AlreadySent ............... the same write was made a moment ago; nothing was sent (exit 2)
    ├── ViewRefused ............... a saved view that is not saved or deleted
    ├── UploadError ............... a price upload that cannot be read (also a ValueError)
    └── TriesUnavailable .......... the lake's PostgreSQL cannot count password tries: no password is tried

Each class says what it means to the command line (`exit_code`: the CLI has one handler, the class decides, a
subclass overriding its parent) and to a write (`write_outcome`: how the write log and a bulk send record a send
that raised it: 'refused', 'failed', 'unknown', or 'not_sent' when nothing reached Newton).

`dashboard.api` raises its part of the tree and imports nothing else of `dashboard`; so this module imports
nothing of `dashboard` either: messages built from the rest (a logged write's description) are passed in.
The embedded demo Newton (`dashboard.demo`) keeps its own private exceptions: they never leave its server.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

# Exit codes, so scripts and cron can tell "fix your input" from "Newton said no" from "try again later".
EXIT_OK = 0
EXIT_REFUSED = 1  # Newton answered with an error
EXIT_INPUT = 2  # bad input or settings, or the same write made a moment ago; nothing was sent
EXIT_UNREACHABLE = 3  # Newton unreachable or failing; for a write, maybe the outcome is unknown
EXIT_STORAGE = 4  # local storage failure: a full disk, an unwritable cache or output; for a write, nothing was sent


class DashboardError(Exception):
    """Base of every error of this program; its message can be shown to a person as it is."""

    exit_code: ClassVar[int] = EXIT_REFUSED
    write_outcome: ClassVar[str] = "failed"


class ConfigError(DashboardError):
    """A setting (environment variable, secrets.toml key or command-line option) that cannot be used."""

    exit_code = EXIT_INPUT

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


# Newton ---------------------------------------------------------------------------------------------------------


class NewtonError(DashboardError):
    """Base of every error the Newton client raises."""


class FieldErrors(NewtonError):
    """Newton (or our own check before sending) rejected named fields, e.g. `clientPhone: Номер введен неверно`."""

    write_outcome = "refused"

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields: dict[str, str] = dict(fields)
        super().__init__("\n".join(f"{name}: {message}" for name, message in self.fields.items()))


class InvalidInput(FieldErrors):
    """Our own check refused the input before anything was sent to Newton."""

    exit_code = EXIT_INPUT
    write_outcome = "not_sent"


class NotAllowed(InvalidInput):
    """A write was attempted by someone who may not write (or in a read-only deployment); nothing was sent."""

    def __init__(self, reason: str) -> None:
        super().__init__({"access": reason})


class ApiError(NewtonError):
    """Newton answered with a general error, e.g. `По номеру не нашлся звонок`."""


class AuthError(NewtonError):
    """Newton refused the credentials."""

    def __init__(self, detail: str = "") -> None:
        message = "Newton refused the credentials: check the token and user id"
        super().__init__(f"{message} ({detail})" if detail else message)


class UnexpectedAnswer(NewtonError):
    """Newton's answer was not JSON or not of the documented shape."""

    write_outcome = "unknown"  # an answer that does not confirm a write (an HTML page, a cut body): it may have acted


class TransportFailure(NewtonError):
    """Newton could not be reached, or kept failing, after the retries allowed for the action."""

    exit_code = EXIT_UNREACHABLE


class OutcomeUnknown(TransportFailure):
    """A write that cannot be repeated safely may or may not have reached Newton."""

    write_outcome = "unknown"

    def __init__(self, action: str, cause: str) -> None:
        super().__init__(
            f"{action}: outcome unknown — the request may have reached Newton ({cause}). "
            "Check in Newton before you resubmit: repeating it could create a second deal or a second call."
        )


# The local cache ------------------------------------------------------------------------------------------------


class CacheError(DashboardError):
    """The cache cannot be used; the message says why and what to do."""

    exit_code = EXIT_INPUT
    write_outcome = "not_sent"  # the write log could not be written, so nothing was sent


class CacheBusy(CacheError):
    """Another process held the cache longer than we were willing to wait."""

    exit_code = EXIT_UNREACHABLE


class SyncRunning(CacheBusy):
    """Another sync of the same cache file is running (cron's, or the dashboard's): one is enough."""

    def __init__(self, path: object) -> None:  # a file's Path, or a lake's location (shown masked)
        super().__init__(f"Another sync of {path} is running; its data shows when it ends. Not started twice.")


# What the operating system said, as DuckDB or Python words it, and the reason it proves (the app translates them).
STORAGE_WORDS = {
    "No space left on device": "disk_full",
    "Disk quota exceeded": "disk_full",
    "File too large": "too_large",
    "Read-only file system": "read_only",
    "Permission denied": "permission",
    "Operation not permitted": "permission",
}
STORAGE_REASONS = {
    "disk_full": "the disk is full",
    "too_large": "the file would grow past the size this process may write",
    "read_only": "the file system is read-only",
    "permission": "permission denied",
}
STORAGE_ADVICE = {
    "disk_full": "Free some space on that disk, then try again.",
    "too_large": "Raise the file size limit (ulimit -f) of the user running this, then try again.",
    "read_only": "Put the cache on a writable disk (NEWTON_CACHE), then try again.",
    "permission": "This user must be able to read and write the file and create files in its folder.",
}


class CacheStorageFailure(CacheError):
    """The cache cannot be written where it lives: a full disk, a file larger than allowed, a read-only or
    forbidden file or folder. Nothing is moved or half-written: the transaction that met it is rolled back."""

    exit_code = EXIT_STORAGE

    def __init__(self, path: Path, reason: str, detail: str) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(
            f"Local storage failure: cannot write the cache {path}: {STORAGE_REASONS[reason]} ({detail}). "
            f"{STORAGE_ADVICE[reason]} What was written before is kept; nothing was half-written or moved."
        )


# The DuckDB this program runs, read without importing it: the Newton client, which imports this module, needs none.
_DUCKDB_VERSION = importlib.metadata.version("duckdb")
# What DuckDB's refusal proves about the file, in words for people (the app translates the keys).
DAMAGE_KINDS = {
    "not_a_database": "it is not a DuckDB database",
    "truncated": "it is cut short",
    "incompatible_version": f"it was written by a DuckDB version this program's DuckDB {_DUCKDB_VERSION} cannot "
    "read, such as a cache of Newton Dashboard 0.1 before its move to DuckDB 1.5.5, which used DuckDB 2.0.1",
    "corrupt_wal": "its write-ahead log (.wal) is corrupt",
    "corrupt": "its contents are corrupt",
}


class CacheDamaged(CacheError):
    """The cache file itself is damaged; `quarantine_if_damaged` moves it aside and starts a fresh one."""

    def __init__(self, path: Path, kind: str, detail: str) -> None:
        self.path = path
        self.kind = kind
        self.detail = detail
        super().__init__(
            f"The cache {path} cannot be used: {DAMAGE_KINDS[kind]} ({detail}). `newton-dashboard sync`, or opening "
            "the dashboard, renames it aside (nothing is deleted) and rebuilds it."
        )


# Syncs, writes, views and uploads ---------------------------------------------------------------------------------


class SyncFailed(DashboardError):
    """A window could not be fetched even after the retries of the client and of the sync; what was synced before
    it is kept."""

    exit_code = EXIT_UNREACHABLE


class DeliveryFailed(DashboardError):
    """A delivery channel (Telegram, e-mail) did not accept a message: `channel` names it, `reason` says why in
    words that never hold its secret (the bot token, the SMTP password). The alert stays due and is tried again on
    the next run; `retry_after` is the seconds the service asked to wait, when it said."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, channel: str, reason: str, *, retry_after: float | None = None) -> None:
        self.channel = channel
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{channel}: the message was not delivered: {reason}")


class AlreadySent(DashboardError):
    """The same write was claimed a moment ago; nothing was sent now. `earlier` is that write as it stands (a
    `cache.LoggedWrite`), `message` says what happened to it (`writes.describe`)."""

    exit_code = EXIT_INPUT
    write_outcome = "not_sent"

    def __init__(self, earlier: Any, now: Any, message: str, *, waited: bool = False) -> None:
        self.earlier = earlier
        self.now = now
        self.waited = waited  # True: it was being sent when this one came, and this one waited for it
        super().__init__(message)


class ViewRefused(DashboardError):
    """A view that is not saved or deleted: `code` says why (the page words it), `values` fill its words."""

    exit_code = EXIT_INPUT

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class UploadError(DashboardError, ValueError):
    """The file cannot be read as a price upload. `code` names the problem; `values` fill the page's message."""

    exit_code = EXIT_INPUT

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        self.values = values
        super().__init__(f"{code}: {values}" if values else code)


# Access ---------------------------------------------------------------------------------------------------------

# What is wrong with an access setting, in English (the door shows the same problems in Russian too, by these codes).
ACCESS_PROBLEMS: Mapping[str, str] = {
    "not_table": "must be a table",
    "true_false": "must be true or false",
    "unknown_section": "is not a section this dashboard knows ({known}); a misspelled [access] would leave "
    "the dashboard open, so nobody gets in until it is fixed",
    "unknown_key": "is not an access setting; the settings are {known}",
    "unknown_key_close": "is not an access setting (did you mean {close}?); the settings are {known}",
    "misplaced": "is an access setting: put it under [access]",
    "no_way_in": "names no way in: set editor_password or viewer_password (or [auth] with editors/viewers); "
    "to use the dashboard alone on this machine, remove the [access] section",
    "nobody_allowed": "sign-in is configured ([auth]) but nobody is allowed: list e-mail addresses or @domains",
    "not_a_list": 'must be a list such as ["ann@example.com", "@example.com"]',
    "not_an_address": "each entry must be an e-mail address or @domain",
    "short_password": "must be text of at least {length} characters, not counting spaces around it",
    "same_passwords": "must differ from editor_password",
    "idle_minutes": "must be a whole number of minutes from 1 to {most}",
    "not_loopback": "is not set, and the server listens on {address}, so anyone who reaches it would get in: "
    "set editor_password / viewer_password under [access], or sign-in ([auth] with editors/viewers), "
    "in .streamlit/secrets.toml; or listen on this machine only (server.address = 127.0.0.1)",
    "unreadable": "exists but cannot be read as TOML ({reason}); nobody gets in until it is fixed or removed",
    "empty": "exists but holds no settings; nobody gets in until it holds them or is removed",
    "passwords_with_sign_in": "limits passwords, but sign-in ([auth]) is configured: limit people under "
    '[access.people."<address>"] instead',
    "people_without_sign_in": "limits signed-in people, but sign-in ([auth]) is not configured: limit passwords "
    "under [access.passwords.<label>] instead",
    "unknown_entry_key": "is not a key of this entry; the keys are {known} (and password, for a password)",
    "not_account_list": 'must be a non-empty list of account names, such as ["client-a"], with role = '
    '"viewer" or "editor"',
    "no_accounts": 'gives no account: set accounts = [...] with role, or roles = {{ <account> = "viewer" }}',
    "unknown_account": "names the account {account}, which is not configured (accounts: {known})",
    "account_twice": "names the account {account} twice",
    "unknown_role": 'must be "viewer" or "editor"',
    "listed_twice": "is listed twice among editors, viewers and [access.people]: which accounts it may see "
    "would be in doubt",
    "password_taken": "is the same as another password: each password must open one entry",
}


class BadAccess(ConfigError):
    """An access setting that cannot be used: `setting` names it, `code` (an ACCESS_PROBLEMS key) says what is
    wrong, `problem` says it in English; `fields` holds the same, as pages show field errors."""

    def __init__(self, setting: str, code: str, **details: object) -> None:
        self.code = code
        self.details = {k: str(v) for k, v in details.items()}
        super().__init__(setting, ACCESS_PROBLEMS[code].format(**self.details))

    @property
    def fields(self) -> dict[str, str]:
        """The setting and what is wrong with it, as `FieldErrors.fields` holds them."""
        return {self.setting: self.problem}


class TriesUnavailable(DashboardError):
    """The shared password-tries count (the lake's PostgreSQL) cannot be reached, so no password is tried: the
    door fails closed. `where` names the server (host, port, database), never a password."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason
        super().__init__(f"the password-tries count in PostgreSQL ({where}) cannot be reached ({reason})")
