"""The one retry loop, and the retries at the transport boundary (so `httpx.MockTransport` tests exercise them
exactly as production does).

`call_with_retries` is the only loop that makes a failed attempt again. Its callers differ only in their
`RetryPolicy`: the transport repeats a request on a connection failure or a busy Newton (as far as the action may be
repeated, with backoff and `Retry-After`), the client asks again after an answer that is not JSON (with backoff),
and the sync asks again for a read that still failed after all of those (at once).
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

import httpx

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_EXTENSION = "newton_retry"
RETRYABLE_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
# Failures where the request cannot have left this machine: repeating any action is safe.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which the request may have been sent and processed.
MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Repeat(Enum):
    """How freely an action may be repeated."""

    SAFE = "safe"  # reads and SetLeadPrice: repeating changes nothing
    ONLY_IF_NEVER_SENT = "only-if-never-sent"  # deals and calls: a repeat makes a second one


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; Newton's `Retry-After` wins, up to a ceiling."""

    retries: int = 3
    first: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = 60.0

    def wait(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number `retry` (0-based): half fixed, half random, so clients spread out."""
        ceiling = min(self.cap, self.first * 2**retry)
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def retry_after_seconds(response: httpx.Response, now: Callable[[], datetime]) -> float | None:
    """The server's `Retry-After`, in seconds (it may be a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _no_server_wait(error: Exception) -> float | None:
    return None


def _quiet(error: Exception, retry: int, wait: float) -> None:
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Which failed attempts are made again, how many times, and how long to wait before each."""

    retries: int  # attempts after the first
    retry_on: Callable[[Exception], bool]  # the failures worth another attempt; any other is raised at once
    backoff: Backoff | None = None  # None: again at once, without sleeping
    server_wait: Callable[[Exception], float | None] = _no_server_wait  # a wait the server asked for (Retry-After)

    def wait(self, retry: int, error: Exception, rng: random.Random) -> float | None:
        """Seconds before retry number `retry` (0-based), or None to go again at once."""
        if self.backoff is None:
            return None
        wait = self.backoff.wait(retry, rng)
        asked = self.server_wait(error)
        return wait if asked is None else min(asked, self.backoff.retry_after_cap)


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[Exception, int, float], None] = _quiet,
) -> T:
    """`attempt()`, made again after each failure the policy retries, until it succeeds or the retries run out
    (then its last failure is raised). `on_retry(error, retry number from 1, seconds to wait)` precedes each."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    retry = 0
    while True:
        try:
            return attempt()
        except Exception as error:
            if retry >= policy.retries or not policy.retry_on(error):
                raise
            wait = policy.wait(retry, error, rng)
            on_retry(error, retry + 1, wait or 0.0)
            if wait is not None:
                sleep(wait)
            retry += 1


class _BusyAnswer(Exception):
    """A safe request answered with a status worth retrying (a busy or failing Newton): tried again, or, when the
    retries run out, its response is returned as it is."""

    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class RateLimit:
    """One pause shared by every thread sending through a transport: when Newton asks a client to wait
    (`Retry-After` with 429 or 503), none of the sync's workers sends before then, not only the one that was told
    (which waits through its retry's own sleep)."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float], cap: float) -> None:
        self._sleep = sleep
        self._clock = clock
        self._cap = cap
        self._until = float("-inf")
        self._lock = threading.Lock()
        self._waited = threading.local()  # the end of the last pause this thread has waited for

    def pause(self, seconds: float) -> None:
        """No request is sent for `seconds` (at most the cap) from now; this thread waits for it by itself."""
        with self._lock:
            mine = self._clock() + min(seconds, self._cap)
            self._until = max(self._until, mine)
            if self._until == mine:
                self._waited.until = mine

    def wait_turn(self) -> None:
        """Sleep until the pause is over; again only if it was made longer meanwhile."""
        while True:
            with self._lock:
                until = self._until
            left = until - self._clock()
            if left <= 0 or until == getattr(self._waited, "until", None):
                return
            self._sleep(left)
            self._waited.until = until


class RetryingTransport(httpx.BaseTransport):
    """Wraps a transport and repeats a request as far as its `Repeat` extension allows; every thread using it
    keeps to one `RateLimit`."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._now = now
        self.rate_limit = RateLimit(sleep, clock, self._backoff.retry_after_cap)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and repeat on transient failures while the action's policy allows it."""
        safe = request.extensions.get(RETRY_EXTENSION, Repeat.SAFE) is Repeat.SAFE

        def attempt() -> httpx.Response:
            self.rate_limit.wait_turn()
            response = self._inner.handle_request(request)
            busy = response.status_code in RETRYABLE_STATUSES
            asked = retry_after_seconds(response, self._now) if busy else None
            if asked and response.status_code in (429, 503):
                self.rate_limit.pause(asked)
            if safe and busy:
                raise _BusyAnswer(response, asked)
            return response

        def retry_on(error: Exception) -> bool:
            # A request that cannot have left this machine is always safe to send again; others only if safe.
            return isinstance(error, NEVER_SENT) or (safe and isinstance(error, (*MAYBE_SENT, _BusyAnswer)))

        policy = RetryPolicy(self._backoff.retries, retry_on, self._backoff, _asked_wait)
        try:
            return call_with_retries(attempt, policy, sleep=self._sleep, rng=self._rng, on_retry=_before_retry)
        except _BusyAnswer as busy:
            return busy.response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


def _asked_wait(error: Exception) -> float | None:
    return error.retry_after if isinstance(error, _BusyAnswer) else None


def _before_retry(error: Exception, retry: int, wait: float) -> None:
    if isinstance(error, _BusyAnswer):  # its body is not needed: free the connection
        error.response.read()
        error.response.close()
    log.info("Newton is unavailable for now; retry %d in %.1f s", retry, wait)
