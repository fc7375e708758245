"""Faults the demo Newton's HTTP server can inject, so a client's retries and its "outcome unknown" can be seen.

A `Faults` plan is consulted once per API request: with probability `rate` the request meets one fault, its kind
drawn evenly from `kinds`. Some faults replace the answer (Newton never sees the request), others surround it
(Newton handles the request, then the answer is delayed, lost or cut). The draws come from one seeded generator,
so a client that sends its requests one after another meets the same faults on every run. A `script` puts given
faults on the first requests, for a test that needs one exact sequence.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Fault(StrEnum):
    """One way an answer can go wrong; the value is its name on the command line."""

    SLOW = "slow"  # Newton handles the request; the answer comes `delay` seconds late
    TOO_MANY_REQUESTS = "429"  # HTTP 429 with Retry-After, request not handled
    SERVER_ERROR = "5xx"  # HTTP 500, 502 or 503 with an HTML page, request not handled
    DROP_BEFORE = "drop-before"  # the connection is closed without an answer; request not handled
    DROP_AFTER = "drop-after"  # Newton handles the request, then the connection is closed without an answer
    HTML_200 = "html-200"  # HTTP 200 with an HTML error page instead of JSON, request not handled
    TRUNCATED = "truncated"  # Newton handles the request; its JSON answer arrives cut short (still HTTP 200)

    @property
    def handled(self) -> bool:
        """Whether Newton handles the request (a write takes effect) although the client may not learn it."""
        return self in {Fault.SLOW, Fault.DROP_AFTER, Fault.TRUNCATED}


ALL_FAULTS: Final = frozenset(Fault)
SERVER_ERROR_STATUSES: Final = (500, 502, 503)
_BY_NAME: Final = {kind.value: kind for kind in Fault}


@dataclass(frozen=True)
class Injection:
    """The fault one request meets, with its details drawn up front (so each request's draw is one step)."""

    fault: Fault
    status: int = 200  # for SERVER_ERROR
    keep: float = 0.0  # for TRUNCATED: the share of the answer's bytes that is sent, below 1

    def cut(self, payload: bytes) -> bytes:
        """`payload` cut short: at least one byte is missing, so a JSON object or list never parses."""
        return payload[: min(len(payload) - 1, int(len(payload) * self.keep))] if payload else payload


class Faults:
    """A seeded plan of injected faults, shared by the server's threads."""

    def __init__(
        self,
        rate: float,
        kinds: Iterable[Fault | str] = ALL_FAULTS,
        *,
        seed: int | None = 0,
        delay: float = 1.0,
        retry_after: int = 1,
        script: Sequence[Fault | None] = (),
    ) -> None:
        """`rate`: the share of requests that meet a fault (0 to 1); `delay`: seconds a slow answer waits;
        `retry_after`: the seconds a 429 asks the client to wait; `script`: the faults of the first requests
        (None: a normal answer), before `rate` takes over."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("the fault rate must be a number from 0 to 1")
        chosen = parse_kinds(kinds)
        if delay < 0:
            raise ValueError("the delay of a slow answer cannot be negative")
        if retry_after < 0:
            raise ValueError("Retry-After cannot be negative")
        self.rate = rate
        self.kinds: tuple[Fault, ...] = tuple(sorted(chosen, key=list(Fault).index))
        self.delay = delay
        self.retry_after = retry_after
        self._script = list(script)
        self._rng = random.Random(seed)  # a reproducible simulation, not security
        self._lock = threading.Lock()
        self._requests = 0
        self._injected: Counter[Fault] = Counter()

    def __repr__(self) -> str:
        return f"Faults(rate={self.rate}, kinds={[k.value for k in self.kinds]})"

    def describe(self) -> str:
        """One line for a person: how often and which faults."""
        return f"{self.rate:.0%} of API requests meet a fault: {', '.join(k.value for k in self.kinds)}"

    def draw(self) -> Injection | None:
        """The fault the next request meets, or None for a normal answer."""
        with self._lock:
            self._requests += 1
            if self._script:
                scripted = self._script.pop(0)
                if scripted is None:
                    return None
                fault = scripted
            elif self._rng.random() >= self.rate:
                return None
            else:
                fault = self._rng.choice(self.kinds)
            injection = Injection(
                fault, status=self._rng.choice(SERVER_ERROR_STATUSES), keep=self._rng.uniform(0.0, 0.95)
            )
            self._injected[fault] += 1
            return injection

    @property
    def requests(self) -> int:
        """How many requests consulted the plan."""
        with self._lock:
            return self._requests

    @property
    def injected(self) -> Counter[Fault]:
        """How many faults of each kind were injected so far."""
        with self._lock:
            return Counter(self._injected)


def parse_kinds(kinds: Iterable[Fault | str] | str) -> frozenset[Fault]:
    """Fault kinds from their names (a comma-separated string, or a collection); `all` means every kind."""
    names = kinds.split(",") if isinstance(kinds, str) else kinds
    chosen: set[Fault] = set()
    for name in names:
        text = str(name).strip().lower()
        if text == "all":
            chosen |= ALL_FAULTS
        elif text in _BY_NAME:
            chosen.add(_BY_NAME[text])
        elif text:
            known = ", ".join(k.value for k in Fault)
            raise ValueError(f"unknown fault kind {text[:40]!r}; the kinds are: {known} (or all)")
    if not chosen:
        raise ValueError("name at least one fault kind")
    return frozenset(chosen)
