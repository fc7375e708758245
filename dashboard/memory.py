"""The memory of a process started to sync: fewer malloc arenas, set before any other thread allocates.

glibc's malloc gives each thread that allocates an arena of its own (up to eight per core) and keeps in each what
was freed there for that arena's next use. A sync's four workers parse answers while its writer builds frames and
DuckDB writes: five arenas each holding on to its own freed memory, which the others cannot reuse. Two arenas let
the writer reuse what the workers freed (the threads take turns at the GIL anyway). A thread keeps the arena it
first allocated from, and importing polars already starts threads that allocate, so this runs when the package
is imported, before anything else; and only in `newton-dashboard sync`, not in the dashboard's process, whose
threads serve pages.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Sequence

SYNC_MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def started_to_sync(argv: Sequence[str]) -> bool:
    """Whether this process's command line is `newton-dashboard [-v] sync ...` (however it was started)."""
    command = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    return command == "sync"


def limit_malloc_arenas(arenas: int = SYNC_MALLOC_ARENAS) -> bool:
    """Hold this process's malloc to `arenas` arenas; whether the C library took it (glibc does, others may
    not have mallopt)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
