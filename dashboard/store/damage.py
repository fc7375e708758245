"""Recognising what DuckDB's and the operating system's refusals prove: damage to the file, or a disk that will
not take a write. Only such proof lets the store move a file aside (see `dashboard.store.quarantine`)."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import duckdb

from dashboard.errors import STORAGE_WORDS, CacheDamaged, CacheError, CacheStorageFailure

_STORAGE_ERRNOS = {
    errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EFBIG: "too_large", errno.EROFS: "read_only",
    errno.EACCES: "permission", errno.EPERM: "permission",
}  # fmt: skip
LOCK = re.compile(r"\block\b", re.IGNORECASE)  # "Could not set lock", "Conflicting lock"; never "block"
# Files found damaged while in use (a bad block shows only when read), by path: (device, inode), kind, words.
_damaged: dict[Path, tuple[tuple[int, int], str, str]] = {}


def is_storage_errno(error: OSError) -> bool:
    """Whether the operating system refused a write for lack of space or of permission."""
    return error.errno in _STORAGE_ERRNOS


def storage_failure(path: Path, error: BaseException) -> CacheStorageFailure | None:
    """The storage failure `error` (a DuckDB error, an OSError, or one hidden in their context) proves, or None."""
    cause: BaseException | None = error
    for _ in range(8):
        if cause is None:
            return None
        if isinstance(cause, CacheStorageFailure):
            return cause
        if isinstance(cause, OSError) and cause.errno in _STORAGE_ERRNOS:
            return CacheStorageFailure(path, _STORAGE_ERRNOS[cause.errno], f"{cause.strerror}: {cause.filename}")
        if isinstance(cause, duckdb.Error):
            text = words(cause, path)
            for said, reason in STORAGE_WORDS.items():
                if said in text:
                    return CacheStorageFailure(path, reason, first_line(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def words(error: duckdb.Error, path: Path) -> str:
    """DuckDB's message without the file's name, which could hold any word ("lock", say)."""
    text = str(error)
    for name in sorted({str(path.resolve()), str(path.absolute()), str(path)}, key=len, reverse=True):
        text = text.replace(name, "")
    return text


def damage_kind(error: duckdb.Error, path: Path) -> str | None:
    """The damage DuckDB's refusal proves (a key of DAMAGE_KINDS), or None: a lock, a permission or a full disk
    proves none."""
    text = words(error, path)
    if LOCK.search(text) or any(said in text for said in STORAGE_WORDS):
        return None
    if "Failure while replaying WAL" in text:
        return "corrupt_wal"
    if "not a valid DuckDB database file" in text:
        return "not_a_database"
    if "Could not read enough bytes" in text:
        return "truncated"
    if "Trying to read a database file with" in text and "version number" in text:
        return "incompatible_version"
    if isinstance(error, duckdb.SerializationException) or "Corrupt database file" in text:
        return "corrupt"
    return None


def open_failure(path: Path, error: duckdb.Error) -> CacheError:
    """What a refusal to open the file means."""
    kind = damage_kind(error, path)
    if kind is not None:
        return CacheDamaged(path, kind, first_line(error))
    return storage_failure(path, error) or CacheError(f"Cannot open the cache {path}: {error}")


def in_use_failure(path: Path, error: duckdb.Error) -> CacheError | None:
    """What an error met while using an open cache means, or None for an ordinary error (a bad query)."""
    # A write the disk refused first: DuckDB may go on to call the file invalid, but the file is not damaged.
    storage = storage_failure(path, error)
    if storage is not None:
        return storage
    proof = _damage_behind(error, path)
    if proof is None:
        return None
    inode = file_identity(path)
    if inode is not None:
        # Opening it again would succeed: remember, so that `quarantine_if_damaged` in this process knows.
        _damaged[path.resolve()] = (inode, *proof)
    return CacheDamaged(path, *proof)


def known_damage(path: Path) -> CacheDamaged | None:
    """The damage found earlier in this process in the very file now at `path`, if any."""
    known = _damaged.get(path.resolve()) if _damaged else None
    if known is not None and known[0] == file_identity(path):
        return CacheDamaged(path, known[1], known[2])
    return None


def forget_damage(path: Path) -> None:
    """The damaged file at `path` was moved away."""
    _damaged.pop(path.resolve(), None)


def _damage_behind(error: BaseException, path: Path) -> tuple[str, str] | None:
    """The damage (kind, DuckDB's words) proven by `error` or by an error it hides: a cleanup after a failed
    statement meets "transaction is aborted", with the proof only in its context."""
    cause: BaseException | None = error
    for _ in range(8):
        if cause is None:
            break
        if isinstance(cause, duckdb.Error) and (kind := damage_kind(cause, path)) is not None:
            return kind, first_line(cause)
        cause = cause.__cause__ or cause.__context__
    return None


def first_line(error: duckdb.Error) -> str:
    """The first line of DuckDB's message."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def file_identity(path: Path) -> tuple[int, int] | None:
    """The file's (device, inode), or None when there is none. It also tells whether another process replaced the
    cache (renamed it aside, started a fresh one) meanwhile: only a new inode proves that. DuckDB itself writes the
    file, and creates or removes its WAL, whenever it opens or closes it, so its size and times prove nothing, and
    judging by them made a damaged file look "still changing" on every try."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino
