"""The cache's tables made afresh in one open file: property tests fill them for every example (a fresh file per
example would cost more than the queries they check)."""

from __future__ import annotations

import duckdb

from dashboard.store import schema


def made_afresh(con: duckdb.DuckDBPyConnection) -> None:
    """Every table of `con` dropped and the cache's own made again, empty (Newton's and people's), in the caller's
    transaction."""
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        con.execute(f'DROP TABLE "{table}"')
    con.execute(schema.SCHEMA)
    for kept in schema.PEOPLES_TABLES:
        con.execute(kept.create)
