"""Quarantine: a damaged file is renamed aside (never deleted), a fresh one started in its place, and people's
tables (the write log, saved views…) copied into it out of the damaged file, as far as they can still be read."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dashboard.errors import DAMAGE_KINDS, CacheDamaged, CacheError
from dashboard.store import damage, schema
from dashboard.store.connection import LOCK_WAIT_SECONDS, connect, wal

log = logging.getLogger(__name__)

_quarantine_lock = threading.Lock()


@dataclass(frozen=True)
class Quarantined:
    """A damaged cache renamed out of the way, never deleted, and what of people's tables the fresh one kept."""

    path: Path
    moved_to: Path
    wal_moved_to: Path | None
    kind: str
    detail: str
    carried: tuple[str, ...] = ()  # people's tables copied into the fresh file
    not_carried: str | None = None  # why people's tables could not be read out of the damaged file

    def __str__(self) -> str:
        wal_words = f" and its write-ahead log to {self.wal_moved_to}" if self.wal_moved_to else ""
        kept = (
            f" People's tables could not be read out of it ({self.not_carried}); they stay in the file moved aside."
            if self.not_carried
            else f" Copied into the fresh cache: {', '.join(self.carried)}."
            if self.carried
            else ""
        )
        return (
            f"The cache {self.path} was damaged ({DAMAGE_KINDS[self.kind]}: {self.detail}). It was moved to "
            f"{self.moved_to}{wal_words}; nothing was deleted. A fresh cache was started; a full sync fills it.{kept}"
        )


def quarantine_if_damaged(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Quarantined | None:
    """Open the cache once; if the file is damaged, rename it (and its WAL) aside, start a fresh cache and copy
    people's tables into it.

    Only DuckDB's proof of damage moves a file. A file another process holds raises CacheBusy after `wait`, and
    a permission problem raises CacheError; neither moves anything. Nothing is ever deleted: the file moved aside
    keeps all it held, and the returned notice says where it went.
    """
    path = Path(path)
    with _quarantine_lock:
        for _ in range(3):
            before = damage.file_identity(path)
            try:
                with connect(path, wait=wait):
                    return None
            except CacheDamaged as damaged:
                moved = _move_aside(path, damaged, before)
            if moved is None:
                continue  # another process replaced the file meanwhile: judge the new one
            with connect(path, wait=wait) as con:  # the fresh cache, with its schema
                moved = _carry_peoples_tables(con, moved)
            log.warning("%s", moved)
            return moved
    raise CacheError(f"The cache {path} kept changing while it was being checked; try again.")


def _move_aside(path: Path, damaged: CacheDamaged, judged: tuple[int, int] | None) -> Quarantined | None:
    """Rename the damaged file and its WAL to `<name>.damaged-<UTC time>`; None if it is not the file judged."""
    if not path.is_file():
        raise CacheError(f"{damaged} It is not a regular file, so it was left alone.") from damaged
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while target.exists() or wal(target).exists():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    if damage.file_identity(path) != judged:
        return None
    wal_target = None
    try:
        path.rename(target)
        if wal(path).exists():
            wal(path).rename(wal(target))
            wal_target = wal(target)
    except OSError as error:
        raise CacheError(
            f"{damaged} Moving it aside failed ({error}); move {path} and {wal(path)} away by hand."
        ) from error
    damage.forget_damage(path)
    schema.forget_prepared(path)
    return Quarantined(path, target, wal_target, damaged.kind, damaged.detail)


def _carry_peoples_tables(con: duckdb.DuckDBPyConnection, moved: Quarantined) -> Quarantined:
    """Copy people's tables out of the quarantined file, attached read-only (it is never changed); without its
    write-ahead log, from a copy, when the log is what is damaged."""
    try:
        carried = _copy_from(con, moved.moved_to)
    except duckdb.Error as error:
        if moved.wal_moved_to is None:
            return _not_carried(moved, error)
        with tempfile.TemporaryDirectory(prefix="newton-quarantined-") as folder:
            copy = Path(folder) / "without-wal.duckdb"
            try:
                shutil.copyfile(moved.moved_to, copy)
                carried = _copy_from(con, copy)
            except (duckdb.Error, OSError) as again:
                return _not_carried(moved, again)
    return Quarantined(moved.path, moved.moved_to, moved.wal_moved_to, moved.kind, moved.detail, carried)


def _not_carried(moved: Quarantined, error: BaseException) -> Quarantined:
    words = damage.first_line(error) if isinstance(error, duckdb.Error) else str(error)
    return Quarantined(moved.path, moved.moved_to, moved.wal_moved_to, moved.kind, moved.detail, (), words)


def _copy_from(con: duckdb.DuckDBPyConnection, old: Path) -> tuple[str, ...]:
    """Copy each people's table that `old` holds into the open file; the columns both have. Raises duckdb.Error
    when `old` cannot be attached at all; a table that cannot be read is left behind (and logged)."""
    location = str(old).replace("'", "''")
    con.execute(f"ATTACH '{location}' AS quarantined (READ_ONLY)")
    carried: list[str] = []
    try:
        for table in schema.PEOPLES_TABLES:
            try:
                columns = _shared_columns(con, table.name)
                if not columns:
                    continue
                names = ", ".join(f'"{c}"' for c in columns)
                con.execute(
                    f"INSERT OR IGNORE INTO main.{table.name} ({names}) "  # noqa: S608 - our own names
                    f"SELECT {names} FROM quarantined.{table.name}"
                )
            except duckdb.Error as error:
                log.warning("The %s of the quarantined cache %s could not be read: %s", table.name, old, error)
                continue
            carried.append(table.name)
    finally:
        con.execute("DETACH quarantined")
    return tuple(carried)


def _shared_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        """SELECT column_name FROM duckdb_columns() WHERE database_name = 'quarantined' AND table_name = ?
        AND column_name IN (SELECT column_name FROM duckdb_columns()
                            WHERE database_name = current_database() AND table_name = ?)
        ORDER BY column_index""",
        [table, table],
    ).fetchall()
    return [row[0] for row in rows]
