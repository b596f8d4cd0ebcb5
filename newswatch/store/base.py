"""The connection and its transactions: what every table family's methods stand on.

`StoreBase` holds the helpers the table families call (`_all`, `_one`, `_value`, `_run`,
`_many`, `_insert`, `_upsert`, `_update`); their SQL is written once with `?` (or `:name`)
placeholders and portable statements (`ON CONFLICT ... DO NOTHING/UPDATE`), and each backend
executes it on its own connection (`_execute`, `_executemany`). SQLite specifics (PRAGMAs,
`BEGIN IMMEDIATE`, savepoints via sqlite-utils' `atomic`) are `SqliteBase`'s; PostgreSQL's
live in `newswatch.store.pg`."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlite_utils

from ..errors import DatabaseError
from . import migrations


class StoreBase:
    """What both backends share. Rows come back as dicts."""

    # What a failed statement raises: callers stop a pass on these (exit 3).
    errors: tuple[type[BaseException], ...] = ()
    backend = ""

    # -- what a backend provides -------------------------------------------------------

    def _execute(self, sql: str, params: Sequence | dict = ()):
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence) -> None:
        raise NotImplementedError

    def _insert(self, table: str, row: dict) -> int:
        """Insert one row; returns its integer primary key `id`."""
        raise NotImplementedError

    def set_query_only(self) -> None:
        """Refuse every write on this connection (`newswatch serve --read-only`)."""
        raise NotImplementedError

    def lock_identity(self) -> None:
        """Serialise "is this story already stored?" with other writers until the
        transaction ends (a no-op where the database has one writer at a time)."""

    # -- helpers for the table families ------------------------------------------------

    def _all(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        cursor = self._execute(sql, params)
        rows = cursor.fetchall()  # first: in a pipeline the description comes with the rows
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in rows]

    def _one(self, sql: str, params: Sequence | dict = ()) -> dict | None:
        cursor = self._execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row))

    def _value(self, sql: str, params: Sequence | dict = ()) -> Any:
        row = self._execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _run(self, sql: str, params: Sequence | dict = ()) -> int:
        """Execute one statement; returns the rows it changed."""
        return self._execute(sql, params).rowcount

    def _send(self, sql: str, params: Sequence | dict = ()) -> None:
        """Execute one statement whose count nobody reads: on PostgreSQL, inside a batch,
        it need not wait for the server's answer."""
        self._execute(sql, params)

    def _many(self, sql: str, rows: Sequence) -> None:
        """One statement over many parameter rows (tuples, or dicts for `:name`)."""
        rows = list(rows)
        if rows:
            self._executemany(sql, rows)

    def _upsert(self, table: str, row: dict, key: Sequence[str]) -> None:
        """Insert `row`, or update the given columns of the row with the same `key`."""
        cols = list(row)
        rest = [c for c in cols if c not in key] or list(key)
        self._send(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks(cols)}) "
                   f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                   + ", ".join(f"{c} = excluded.{c}" for c in rest), list(row.values()))

    def _insert_ignore(self, table: str, row: dict) -> int:
        """Insert `row` unless it breaks a uniqueness constraint; returns rows inserted."""
        cols = list(row)
        return self._run(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks(cols)}) "
                         "ON CONFLICT DO NOTHING", list(row.values()))

    def _update(self, table: str, pk: str, key: Any, row: dict) -> int:
        if not row:
            return 0
        return self._run(f"UPDATE {table} SET " + ", ".join(f"{c} = ?" for c in row)
                         + f" WHERE {pk} = ?", [*row.values(), key])


def _use_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch to WAL. Switching needs the file to itself and SQLite answers "database is
    locked" at once, without its busy handler, while another process opening the same new
    file holds it: retry for as long as busy_timeout would have waited."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def apply_migrations(db: sqlite_utils.Database) -> None:
    """Apply the pending migrations under the write lock. Several processes may open a new
    database at once (two schedulers, a worker and `serve`): BEGIN IMMEDIATE makes the
    others wait, and each re-reads what is pending once it holds the lock, so no migration
    runs twice (each one then runs in a savepoint of this transaction)."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.migrations.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


class SqliteBase(StoreBase):
    """One SQLite connection (sqlite-utils)."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    backend = "sqlite"

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
            _use_wal(conn)
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            if migrate and migrations.migrations.pending(db):
                apply_migrations(db)
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

    def table_counts(self) -> dict[str, int]:
        """Rows per table (FTS shadow tables left out)."""
        return {t: self.db[t].count for t in self.db.table_names()
                if not t.startswith("articles_fts") and t != "_sqlite_migrations"}

    # Transitional, SQLite only and for tests: they still insert and query through
    # sqlite-utils (`store["articles"].insert(...)`, `store.execute(...)`). Product code
    # uses only the Store methods, which both backends implement.
    def __getattr__(self, name: str) -> Any:
        if name == "db":
            raise AttributeError(name)
        return getattr(self.db, name)

    def __getitem__(self, table: str):
        return self.db[table]

    def _execute(self, sql: str, params: Sequence | dict = ()):
        return self.conn.execute(sql, params if isinstance(params, dict) else list(params))

    def _executemany(self, sql: str, rows: Sequence) -> None:
        self.conn.executemany(sql, rows)

    def _insert(self, table: str, row: dict) -> int:
        cols = list(row)
        return self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks(cols)})",
            list(row.values())).lastrowid

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
    def batch_transaction(self, size: int = 0) -> Iterator[None]:
        """A pass's article batch of `size` items (PostgreSQL pipelines its statements)."""
        with self.transaction():
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

    def set_query_only(self) -> None:
        """Refuse every write on this connection (`newswatch serve --read-only`)."""
        self.conn.execute("PRAGMA query_only = ON")

    def rollback(self) -> None:
        """Roll back whatever the connection still holds (after a failed COMMIT SQLite may
        leave the transaction open, and later statements would then commit piecemeal)."""
        try:
            if self.conn.in_transaction:
                self.conn.rollback()
        except sqlite3.Error:
            pass


def marks(items: Sequence) -> str:
    return ",".join("?" * len(items))


def chunked(items: list, size: int = 500) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
