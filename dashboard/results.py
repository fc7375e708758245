"""Query results memoized while the store's data stays the same, shared by every session of a server.

Twenty people looking at the same dashboard ask the same questions: the filter choices, this month's headline,
last week's calls. Each answer is memoized under the store's identity and *data version*, which every write that
changes what the pages count replaces (records or chats synced, a lead price saved), so a memoized answer is
never older than the data it was asked of. The scope comes from the store (`scope_for`), so no page can build a
key that forgets an input. Answers are shared, not copied: polars frames are immutable, and the few dicts and
lists are copied on the way out.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

import polars as pl

from dashboard.store import AnyStore

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_MAX_ENTRIES = 2048
DEFAULT_MAX_BYTES = 200 * 2**20  # a Calls listing is about 1 MB; headlines and breakdowns a few KB
_SMALL = 4 * 2**10  # what an answer of no known size is counted as
_FIGURE = 200 * 2**10  # a plotly figure, roughly


def size_of(answer: object) -> int:
    """About how many bytes an answer holds: polars frames by their own estimate, containers by their parts."""
    if isinstance(answer, pl.DataFrame):
        return int(answer.estimated_size())
    if isinstance(answer, tuple | list):
        return sum(size_of(part) for part in answer) + _SMALL
    if dataclasses.is_dataclass(answer) and not isinstance(answer, type):
        return sum(size_of(getattr(answer, f.name)) for f in dataclasses.fields(answer)) + _SMALL
    if type(answer).__module__.startswith("plotly."):
        return _FIGURE
    return _SMALL


class ResultCache:
    """At most `max_entries` answers holding at most about `max_bytes`, least recently used first out; one
    computation per question at a time."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._answers: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        # While one session computes an answer, others asking the same wait for it instead of asking DuckDB too:
        # right after a sync, twenty sessions would otherwise run the same heavy query at once on two cores.
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The memoized answer to `key`, or `compute()`'s, memoized."""
        with self._lock:
            if key in self._answers:
                return cast(T, self._hit(key))
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._answers:
                    return cast(T, self._hit(key))
                self.misses += 1
            try:
                answer = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            size = size_of(answer)
            with self._lock:
                # Memoized before the gate goes, so a session arriving now finds the answer instead of asking again.
                replaced = self._answers.pop(key, None)
                self._bytes += size - (replaced[1] if replaced else 0)
                self._answers[key] = (answer, size)
                self._computing.pop(key, None)
                while len(self._answers) > 1 and (
                    len(self._answers) > self._max_entries or self._bytes > self._max_bytes
                ):
                    _, (_, freed) = self._answers.popitem(last=False)
                    self._bytes -= freed
        return _outgoing(answer)

    def _hit(self, key: Hashable) -> Any:
        self.hits += 1
        self._answers.move_to_end(key)
        return _outgoing(self._answers[key][0])

    @property
    def bytes(self) -> int:
        """About how much the memoized answers hold."""
        return self._bytes

    def clear(self) -> None:
        """Forget every answer (tests; a cache file quarantined)."""
        with self._lock:
            self._answers.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._answers)


def _outgoing(answer: T) -> T:
    # A page may change a dict or list it was given; the memoized one must not change with it.
    return copy.copy(answer) if isinstance(answer, dict | list | set) else answer


# The one cache of a server process.
RESULTS = ResultCache()


@dataclass(frozen=True)
class ResultScope:
    """Where a reader memoizes its answers, and what they depend on besides the question (store, version, and
    whatever the reader adds: the account, the definitions)."""

    results: ResultCache
    scope: tuple[Hashable, ...]

    def get_or_compute(self, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The memoized answer to `question` in this scope, or `compute()`'s."""
        return self.results.get_or_compute((*self.scope, *question), compute)

    def narrowed(self, *inputs: Hashable) -> ResultScope:
        """This scope, for answers that also depend on `inputs`."""
        return ResultScope(self.results, (*self.scope, *inputs))


def scope_for(store: AnyStore, version: str, results: ResultCache = RESULTS) -> ResultScope | None:
    """Where readers of `store` memoize their answers while its data has `version`; None when the version is
    unknown ("": nothing can be memoized)."""
    if not version:
        return None
    return ResultScope(results, (store.identity, version))


class _Memoizing(Protocol):
    scope: ResultScope | None


S = TypeVar("S", bound=_Memoizing)


def memoized(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A reader's method whose answers are memoized in its `scope`, keyed on the method and its arguments."""

    @functools.wraps(method)
    def memoizing(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.scope is None:
            return method(self, *args, **kwargs)
        key = (*self.scope.scope, method.__qualname__, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an argument that cannot be a key (a list): asked fresh
            return method(self, *args, **kwargs)
        return self.scope.results.get_or_compute(key, lambda: method(self, *args, **kwargs))

    return cast(Callable[Concatenate[S, P], T], memoizing)
