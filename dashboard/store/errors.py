"""The store's errors: each says what went wrong with the local data file and what to do about it."""

from __future__ import annotations

from pathlib import Path

import duckdb


class CacheError(Exception):
    """The cache cannot be used; the message says why and what to do."""


class CacheBusy(CacheError):
    """Another process held the cache longer than we were willing to wait."""


class CacheStorageFailure(CacheError):
    """The cache cannot be written where it lives: a full disk, a file larger than allowed, a read-only or
    forbidden file or folder. Nothing is moved or half-written: the transaction that met it is rolled back."""

    def __init__(self, path: Path, reason: str, detail: str) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(
            f"Local storage failure: cannot write the cache {path}: {STORAGE_REASONS[reason]} ({detail}). "
            f"{STORAGE_ADVICE[reason]} What was written before is kept; nothing was half-written or moved."
        )


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


# What DuckDB's refusal proves about the file, in words for people (the app translates the keys).
DAMAGE_KINDS = {
    "not_a_database": "it is not a DuckDB database",
    "truncated": "it is cut short",
    "incompatible_version": f"it was written by a DuckDB version this program's DuckDB {duckdb.__version__} cannot "
    "read, such as a cache of Newton Dashboard 0.1 before its move to DuckDB 1.5.5, which used DuckDB 2.0.1",
    "corrupt_wal": "its write-ahead log (.wal) is corrupt",
    "corrupt": "its contents are corrupt",
}


class CacheDamaged(CacheError):
    """The cache file itself is damaged; `quarantine_if_damaged` renames it aside and starts a fresh one."""

    def __init__(self, path: Path, kind: str, detail: str) -> None:
        self.path = path
        self.kind = kind
        self.detail = detail
        super().__init__(
            f"The cache {path} cannot be used: {DAMAGE_KINDS[kind]} ({detail}). `newton-dashboard sync`, or opening "
            "the dashboard, renames it aside (nothing is deleted) and rebuilds it."
        )
