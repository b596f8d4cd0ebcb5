"""The PostgreSQL connection (psycopg 3) and its transactions.

The table families' SQL is written with SQLite's `?` / `:name` placeholders; `_translate`
turns them into psycopg's `%s` / `%(name)s` once per statement text, so one mixin serves
both backends. The connection is in autocommit mode and `transaction()` is psycopg's
`Connection.transaction()` (BEGIN ... COMMIT, a savepoint when nested)."""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Iterator, Sequence

import psycopg
from psycopg import pq
from psycopg.types.array import ListBinaryDumper

from ...errors import DatabaseError
from ..base import StoreBase
from ..target import redact
from . import migrations

# A quoted literal or identifier (kept as is), a `?`, a `:name` (not `::type`), or a `%`.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|\?|(?<!:):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=1024)
def _translate(sql: str) -> str:
    def repl(m: re.Match) -> str:
        tok = m.group(0)
        if tok == "?":
            return "%s"
        if tok == "%":
            return "%%"
        if m.group(1):
            return f"%({m.group(1)})s"
        return tok
    return _TOKENS.sub(repl, sql)


class PgBase(StoreBase):
    """One PostgreSQL connection."""

    errors: tuple[type[BaseException], ...] = (psycopg.Error,)
    backend = "postgresql"

    def __init__(self, conn: psycopg.Connection, url: str):
        self.conn = conn
        self._pipeline: psycopg.Pipeline | None = None  # inside `batch_transaction`
        self._reserved: list[int] = []  # article ids for the batch's inserts
        self.url = url
        self.path = redact(url)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True):
        """Connect; apply the migrations not yet applied (under an advisory lock, so two
        processes starting together do not race)."""
        try:
            extra = {} if "application_name" in url else {"application_name": "newswatch"}
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10, **extra)
        except psycopg.Error as exc:
            raise DatabaseError(f"{redact(url)}: {_one_line(exc)}") from exc
        try:
            if migrate:
                migrations.apply(conn)
        except psycopg.Error as exc:
            conn.close()
            raise DatabaseError(f"{redact(url)}: {_one_line(exc)}") from exc
        return cls(conn, url)

    def close(self) -> None:
        self.conn.close()

    def applied_migrations(self) -> list[str]:
        return migrations.applied(self.conn)

    @functools.cached_property
    def _columns(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for table, column in self.conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema()"):
            out.setdefault(table, set()).add(column)
        return out

    def has_column(self, table: str, column: str) -> bool:
        return column in self._columns.get(table, set())

    def table_counts(self) -> dict[str, int]:
        return {t: self.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in sorted(self._columns) if t != "schema_migrations"}

    # -- statements --------------------------------------------------------------------

    def _execute(self, sql: str, params: Sequence | dict = ()):
        if not params:  # psycopg reads placeholders only when given parameters
            return self.conn.execute(sql)
        return self.conn.execute(_translate(sql), _clean(params))

    def _run(self, sql: str, params: Sequence | dict = ()) -> int:
        cursor = self._execute(sql, params)
        if self._pipeline is not None:
            self._pipeline.sync()  # the count comes with the result: wait for it
        return cursor.rowcount

    def _executemany(self, sql: str, rows: Sequence) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_translate(sql), [_clean(r) for r in rows])

    def _insert(self, table: str, row: dict) -> int:
        cols = list(row)
        return self.conn.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
            f"({', '.join(['%s'] * len(cols))}) RETURNING id",
            _clean(list(row.values()))).fetchone()[0]

    # -- transactions ----------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != pq.TransactionStatus.IDLE

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction, or a savepoint inside the caller's."""
        with self.conn.transaction():
            yield

    @contextlib.contextmanager
    def batch_transaction(self, size: int = 0) -> Iterator[None]:
        """A pass's article batch of `size` items: one transaction in pipeline mode, so
        the many statements whose answers nobody reads (inserts, bands, fetch log, thread
        state) go to the server without waiting for each other; a read waits only for what
        is before it. `size` article ids are reserved up front (one round trip, not one
        per insert; unused ones are a gap in the ids). An error surfaces at the next read
        or at the end, and the whole batch rolls back."""
        if self._pipeline is not None:  # nested: a savepoint in the same pipeline
            with self.conn.transaction():
                yield
            return
        with self.conn.pipeline() as pipeline, self.conn.transaction():
            self._pipeline = pipeline
            try:
                if size:
                    self._reserved = [r[0] for r in self.conn.execute(
                        "SELECT nextval(pg_get_serial_sequence('articles', 'id')) "
                        "FROM generate_series(1, %s)", [size]).fetchall()][::-1]
                yield
            finally:
                self._pipeline = None
                self._reserved = []

    @contextlib.contextmanager
    def write_transaction(self) -> Iterator[None]:
        """As SQLite's BEGIN IMMEDIATE: one such transaction at a time (per schema). The
        steps that read shared state and then write it (pending alerts into outbox emails,
        outbox claims, watches) rely on it: under MVCC alone, two workers finishing passes
        at once both read the same pending alerts and built one email twice. Article
        batches use `batch_transaction()` and run side by side."""
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('newswatch write ' "
                              "|| current_schema()))")
            yield

    @contextlib.contextmanager
    def durable(self) -> Iterator[None]:
        """A commit is durable on PostgreSQL unless the server says otherwise: make sure
        this session's outbox changes wait for the WAL flush."""
        if not self.in_transaction:
            self.conn.execute("SET synchronous_commit = on")
        yield

    def set_query_only(self) -> None:
        """Refuse every write on this connection (`newswatch serve --read-only`): every
        transaction of the session, autocommit statements included, is read-only."""
        self.conn.execute("SET default_transaction_read_only = on")

    def rollback(self) -> None:
        """Roll back whatever the connection still holds; a lost connection stays lost
        (the next statement raises, and the pass stops)."""
        try:
            if not self.conn.closed and self.in_transaction:
                self.conn.rollback()
        except psycopg.Error:
            pass

    def lock_identity(self) -> None:
        """One writer at a time decides whether a story is new: held until the batch's
        transaction ends, so two workers storing copies of one wire story in the same
        second see each other's rows (READ COMMITTED) and the second becomes a duplicate.
        One lock, not one per band: per-band locks taken article after article by several
        batches could deadlock."""
        if self.in_transaction:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext('newswatch identity ' "
                              "|| current_schema()))")


def _clean(params: Sequence | dict):
    """PostgreSQL text cannot hold NUL (SQLite's can): a page with one must not stop a
    pass, so NULs are dropped from text parameters."""
    if isinstance(params, dict):
        return {k: _nonul(v) for k, v in params.items()}
    return [_nonul(v) for v in params]


class TextArray(list):
    """A list of str (or None) sent as a binary `text[]`: psycopg's text-format array
    dumper escapes every element with a regex, which for a batch's thread slots (long JSON
    texts) cost 0.6 ms per article (bench/store_backends.py); the binary one only encodes."""


psycopg.adapters.register_dumper(TextArray, ListBinaryDumper)


def text_array(values) -> TextArray:
    """`values` as a `TextArray`, NULs dropped as from every text parameter."""
    return TextArray(map(_nonul, values))


def _nonul(value):
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "")
    return value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
