"""The only place with SQL: every table of the database behind one `Store` class.

Methods are grouped by table family (one mixin per module); their signatures are the
interface both backends implement: `Store` on SQLite (sqlite-utils) and
`newswatch.store.pg.PgStore` on PostgreSQL (psycopg 3), which reuses the same mixins and
overrides only what differs. Rows come back as dicts. Writes that must be one unit run
inside `store.transaction()` (a savepoint inside an open one) or `store.write_transaction()`
(takes the write lock up front); `store.errors` is what a failed statement raises.
"""

from __future__ import annotations

from pathlib import Path

from .base import SqliteBase
from .migrations import FTS_TOKENIZE, migrations
from .tables import Tables
from .target import PostgresTarget, is_postgres, sqlite_path


class Store(Tables, SqliteBase):
    """newswatch.db on SQLite (sqlite-utils)."""


def open_db(target: str | Path | PostgresTarget, *, migrate: bool = True):
    """Open (creating if needed) the database, migrated, with the settings every process
    uses: a `Store` for a SQLite path (or `sqlite:///path`), a `PgStore` for a
    `postgresql://` URL."""
    if is_postgres(target):
        from .pg import PgStore  # psycopg only where a server is used

        url = target.url if isinstance(target, PostgresTarget) else str(target)
        return PgStore.open(url, migrate=migrate)
    if isinstance(target, str):
        target = sqlite_path(target)
    return Store.open(target, migrate=migrate)


def database_errors(target: str | Path | PostgresTarget) -> tuple[type[BaseException], ...]:
    """What a failed statement raises on the database `target` names (`store.errors`
    without a store at hand)."""
    if is_postgres(target):
        from .pg import PgStore

        return PgStore.errors
    return Store.errors


__all__ = ["FTS_TOKENIZE", "PostgresTarget", "Store", "database_errors", "migrations",
           "open_db"]
