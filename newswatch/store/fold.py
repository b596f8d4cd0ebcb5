"""The folded archive index (migration m009 on SQLite, m003 on PostgreSQL): its queue of
articles to fold, folded by Python (`newswatch.query.archive`), in chunks."""

from __future__ import annotations

import sqlite3
from typing import Callable, Sequence

from ..query.archive import archive_columns

CHUNK = 500
_PENDING = ("SELECT p.id, a.id AS article, a.title, a.text FROM articles_fts_fold_pending p "
            "LEFT JOIN articles a ON a.id = p.id ORDER BY p.id LIMIT ?")


def fold_pending_sqlite(conn: sqlite3.Connection) -> int:
    """Fold every queued article into the SQLite index; returns how many."""
    def write(rows: Sequence[tuple]) -> None:
        conn.executemany(
            "INSERT INTO articles_fts_fold_src (id, title_f, text_f, title_k, text_k) "
            "VALUES (?, ?, ?, ?, ?)",
            [(i, *archive_columns(title, text)) for i, title, text in rows])

    def done(ids: Sequence[int]) -> None:
        conn.executemany("DELETE FROM articles_fts_fold_pending WHERE id = ?",
                         [(i,) for i in ids])

    return drain(lambda: conn.execute(_PENDING, [CHUNK]).fetchall(), write, done)


def drain(read: Callable[[], list], write: Callable[[Sequence[tuple]], None],
          done: Callable[[Sequence[int]], None]) -> int:
    """Fold the queue a chunk at a time: `read` returns (queued id, article id or None,
    title, text) rows, `write` indexes (id, title, text) rows, `done` dequeues ids."""
    n = 0
    while True:
        rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in read()]
        if not rows:
            return n
        live = [(r[0], r[2], r[3]) for r in rows if r[1] is not None]  # None: since deleted
        if live:
            write(live)
        done([r[0] for r in rows])
        n += len(live)
