"""Query results kept in memory while the cache's data stays the same, shared by every session of a server.

Twenty people looking at the same dashboard ask the same questions: the filter choices, this month's headline,
last week's calls. Each answer is kept under the cache file's *data version* (`cache.data_version`), which every
change to what the pages count replaces (the end of a sync, a lead price saved), so a kept answer is never older
than the data it was asked of. Kept answers are shared, not copied: polars frames are immutable, and the few
dicts and lists are copied on the way out.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

import duckdb

from dashboard import cache

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_MAX_ENTRIES = 512


class ResultCache:
    """At most `max_entries` answers, least recently used first out; one computation per question at a time."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        # While one session computes an answer, others asking the same wait for it instead of asking DuckDB too:
        # right after a sync, twenty sessions would otherwise run the same heavy query at once on two cores.
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The kept answer to `key`, or `compute()`'s, kept."""
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
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > self._max_entries:
                    self._answers.popitem(last=False)
        return _outgoing(answer)

    def _hit(self, key: Hashable) -> Any:
        self.hits += 1
        self._answers.move_to_end(key)
        return _outgoing(self._answers[key])

    def clear(self) -> None:
        """Forget every answer (tests; a cache file set aside)."""
        with self._lock:
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)


def _outgoing(answer: T) -> T:
    # A page may change a dict or list it was given; the kept one must not change with it.
    return copy.copy(answer) if isinstance(answer, dict | list | set) else answer


# The one cache of a server process.
RESULTS = ResultCache()


@dataclass(frozen=True)
class Kept:
    """Where a reader keeps its answers, and what they depend on besides the question (file, account, version)."""

    results: ResultCache
    scope: tuple[Hashable, ...]

    def answer(self, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The kept answer to `question` in this scope, or `compute()`'s."""
        return self.results.get((*self.scope, *question), compute)


def kept_in(path: Path, con: duckdb.DuckDBPyConnection, results: ResultCache = RESULTS) -> Kept:
    """Where a reader of the cache at `path`, open as `con`, keeps its answers: under the data's current version."""
    return Kept(results, (str(Path(path).resolve()), cache.data_version(con)))


class _Keeping(Protocol):
    kept: Kept | None


S = TypeVar("S", bound=_Keeping)


def kept_answer(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A reader's method whose answers are kept in its `kept` cache, keyed on the method and its arguments."""

    @functools.wraps(method)
    def keeping(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.kept is None:
            return method(self, *args, **kwargs)
        key = (*self.kept.scope, method.__qualname__, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an argument that cannot be a key (a list): asked fresh
            return method(self, *args, **kwargs)
        return self.kept.results.get(key, lambda: method(self, *args, **kwargs))

    return cast(Callable[Concatenate[S, P], T], keeping)
