"""Retries at the transport boundary, so `httpx.MockTransport` tests exercise them exactly as production does."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import httpx

log = logging.getLogger(__name__)

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


class RetryingTransport(httpx.BaseTransport):
    """Wraps a transport and repeats a request as far as its `Repeat` extension allows."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inner = inner
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._now = now

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and repeat on transient failures while the action's policy allows it."""
        repeat = request.extensions.get(RETRY_EXTENSION, Repeat.SAFE)
        retry = 0
        while True:
            try:
                response = self._inner.handle_request(request)
            except NEVER_SENT:
                if retry >= self._backoff.retries:
                    raise
            except MAYBE_SENT:
                if repeat is not Repeat.SAFE or retry >= self._backoff.retries:
                    raise
            else:
                if (
                    response.status_code not in RETRYABLE_STATUSES
                    or repeat is not Repeat.SAFE
                    or retry >= self._backoff.retries
                ):
                    return response
                response.read()
                response.close()
                self._pause(retry, retry_after_seconds(response, self._now))
                retry += 1
                continue
            self._pause(retry, None)
            retry += 1

    def _pause(self, retry: int, retry_after: float | None) -> None:
        wait = self._backoff.wait(retry, self._rng)
        if retry_after is not None:
            wait = min(retry_after, self._backoff.retry_after_cap)
        log.info("Newton is unavailable for now; retry %d in %.1f s", retry + 1, wait)
        self._sleep(wait)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
