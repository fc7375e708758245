"""Moving a DuckDB file's store into a lake, exactly: every table (Newton's and people's), every row, checked.

The file is attached read-only to the lake's own database and each table copied by one `INSERT … SELECT` in one
transaction; then every table's row count and content checksum (a sum of row hashes, order-free, duplicates
counted) are compared on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from dashboard.errors import CacheError
from dashboard.store import Store, lake
from dashboard.store.location import LakeLocation

SOURCE = "newton_source"


@dataclass(frozen=True)
class Copied:
    """One table after the copy: its rows and checksum in the file and in the lake."""

    table: str
    file_rows: int
    lake_rows: int
    file_checksum: int
    lake_checksum: int

    @property
    def same(self) -> bool:
        return self.file_rows == self.lake_rows and self.file_checksum == self.lake_checksum


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    """Each table of `database` and its columns, in order."""
    rows = con.execute(
        """SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()
        WHERE database_name = ? AND schema_name = 'main' GROUP BY table_name ORDER BY table_name""",
        [database],
    ).fetchall()
    return {str(name): list(columns) for name, columns in rows}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _summary(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, int]:
    listed = ", ".join(_quoted(c) for c in columns)
    row = con.execute(f"SELECT count(*), coalesce(sum(hash({listed})::HUGEINT), 0) FROM {table}").fetchall()[0]  # noqa: S608
    return int(row[0]), int(row[1])


def held_data(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]]) -> dict[str, int]:
    """The lake's tables that hold rows (meta aside, which every new lake has), and how many."""
    counts = {t: int(con.execute(f"SELECT count(*) FROM {lake.ALIAS}.{_quoted(t)}").fetchall()[0][0]) for t in tables}  # noqa: S608
    return {table: rows for table, rows in counts.items() if rows and table != "meta"}


def migrate(source: Path, target: LakeLocation, *, replace: bool = False) -> list[Copied]:
    """Copy every table of the file at `source` into the lake at `target` and check each; refuses a lake that
    already holds data unless `replace` (then its rows are replaced)."""
    if not source.is_file():
        raise CacheError(f"No cache file at {source} to migrate")
    Store(source).read(lambda con: None)  # brought up to this version's schema, and closed
    db = lake.database(target)
    db.execute(f"ATTACH {lake.quoted(str(source))} AS {SOURCE} (READ_ONLY)")
    try:
        with lake.cursor(target) as con:
            tables = _tables(con, SOURCE)
            held = held_data(con, _tables(con, lake.ALIAS))
            if held and not replace:
                listed = ", ".join(f"{table}: {rows} rows" for table, rows in sorted(held.items()))
                raise CacheError(
                    f"The lake {target} already holds data ({listed}); nothing copied. "
                    "Run migrate again with --replace to overwrite it."
                )
            _copy(con, tables)
            return [Copied(table, *_pair(con, table, columns)) for table, columns in tables.items()]
    finally:
        db.execute(f"DETACH {SOURCE}")


def _copy(con: duckdb.DuckDBPyConnection, tables: dict[str, list[str]]) -> None:
    con.begin()
    try:
        existing = _tables(con, lake.ALIAS)
        for table, columns in tables.items():
            if table not in existing:
                continue  # not a table of this version's schema (prepare made them all): nothing reads it
            for column in columns:
                if column not in existing[table]:
                    raise CacheError(f"The lake's table {table} has no column {column}: upgrade both first")
            listed = ", ".join(_quoted(c) for c in columns)
            con.execute(f"DELETE FROM {_quoted(table)}")  # noqa: S608 - our own names
            con.execute(
                f"INSERT INTO {_quoted(table)} ({listed}) SELECT {listed} FROM {SOURCE}.main.{_quoted(table)}"  # noqa: S608
            )
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _pair(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> tuple[int, int, int, int]:
    file_rows, file_sum = _summary(con, f"{SOURCE}.main.{_quoted(table)}", columns)
    lake_rows, lake_sum = _summary(con, f"{lake.ALIAS}.{_quoted(table)}", columns)
    return file_rows, lake_rows, file_sum, lake_sum
