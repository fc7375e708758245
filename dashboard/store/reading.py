"""A connection opened at its first use, for the reads of one block (`Store.reading`, `LakeStore.reading`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

T = TypeVar("T")
P = ParamSpec("P")
Connection = duckdb.DuckDBPyConnection


class Reading:
    """Reads sharing one connection: `opener()` gives it, at the first read, and the block's end closes it."""

    def __init__(self, opener: Callable[[], AbstractContextManager[Connection]], stack: ExitStack) -> None:
        self._opener = opener
        self._stack = stack
        self._con: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The open connection, opened now if it is not yet."""
        if self._con is None:
            self._con = self._stack.enter_context(self._opener())
        return self._con

    def read(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(connection, *args, **kwargs)` on this block's connection."""
        return fn(self.connection, *args, **kwargs)


def sibling_cursor(con: Connection) -> Connection:
    """A new cursor of `con`'s database, reading the same tables: a cursor starts in the default database, and a
    lake's connection reads its tables by `USE` (dashboard/store/lake.py)."""
    current = con.execute("SELECT current_database()").fetchall()[0][0]
    cursor = con.cursor()
    cursor.execute(f'USE "{str(current).replace(chr(34), chr(34) * 2)}"')
    return cursor
