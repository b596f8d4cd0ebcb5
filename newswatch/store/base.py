"""The connection and its transactions: what every table family's methods stand on.

SQLite specifics (PRAGMAs, `BEGIN IMMEDIATE`, savepoints via sqlite-utils' `atomic`) stay
here; a second backend implements the same methods on its own connection."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlite_utils

from ..errors import DatabaseError
from . import migrations


class StoreBase:
    """One database connection. Rows come back as dicts."""

    # What a failed statement raises: callers stop a pass on these (exit 3).
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, db: sqlite_utils.Database, path: str | Path | None = None):
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, migrate: bool = True):
        """Open (creating if needed) the database with the settings every process uses."""
        try:
            conn = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                   check_same_thread=False)
            db = sqlite_utils.Database(conn)
            # WAL: readers (datasette, `search`) never block the crawler; busy_timeout
            # makes writers wait for each other instead of failing.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            if migrate:
                migrations.migrations.apply(db)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path}: {exc}") from exc
        return cls(db, path)

    # -- connection ------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.db.close()

    def applied_migrations(self) -> list[str]:
        return migrations.applied_migrations(self.db)

    def has_column(self, table: str, column: str) -> bool:
        return column in {c.name for c in self.db[table].columns}

    # Transitional: callers that still hold their own SQL (cli.py, scheduler.py, tests)
    # reach the sqlite-utils Database through the store until their queries move here.
    def __getattr__(self, name: str) -> Any:
        if name == "db":
            raise AttributeError(name)
        return getattr(self.db, name)

    def __getitem__(self, table: str):
        return self.db[table]

    # -- transactions ----------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction, or a savepoint inside the caller's."""
        with self.db.atomic():
            yield

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[None]:
        """A write transaction that takes the lock up front (BEGIN IMMEDIATE) so
        busy_timeout applies, or a savepoint inside the caller's transaction."""
        conn = self.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def durable(self) -> Iterator[None]:
        """synchronous=FULL while outbox state changes: under WAL with NORMAL, a committed
        "sent" mark can be lost on power loss (and the email sent again)."""
        if self.conn.in_transaction:  # cannot change it inside a transaction: the caller's
            yield
            return
        previous = self.db.execute("PRAGMA synchronous").fetchone()[0]
        self.db.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            if not self.conn.in_transaction:
                self.db.execute(f"PRAGMA synchronous={int(previous)}")

    def rollback(self) -> None:
        """Roll back whatever the connection still holds (after a failed COMMIT SQLite may
        leave the transaction open, and later statements would then commit piecemeal)."""
        try:
            if self.conn.in_transaction:
                self.conn.rollback()
        except sqlite3.Error:
            pass

    # -- helpers for the table families ------------------------------------------------

    def _all(self, sql: str, params: Sequence = ()) -> list[dict]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _one(self, sql: str, params: Sequence = ()) -> dict | None:
        cursor = self.conn.execute(sql, list(params))
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row))

    def _value(self, sql: str, params: Sequence = ()) -> Any:
        row = self.conn.execute(sql, list(params)).fetchone()
        return None if row is None else row[0]

    def _run(self, sql: str, params: Sequence = ()) -> int:
        """Execute one statement; returns the rows it changed."""
        return self.conn.execute(sql, list(params)).rowcount


def marks(items: Sequence) -> str:
    return ",".join("?" * len(items))


def chunked(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
