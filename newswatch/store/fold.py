"""The folded archive index (migration m009 on SQLite, m003 on PostgreSQL): its queue of
articles to fold, folded by Python (`newswatch.query.archive`), in chunks; and re-folding
(`newswatch store refold`): each entry records the folding rules' version it was built with
(`newswatch.names.FOLD_VERSION`, migration m013), so entries folded by older rules are found
and built again, a batch per transaction (an interrupted refold resumes where it stopped)."""

from __future__ import annotations

import sqlite3
from typing import Callable, Mapping, Sequence

from ..names import FOLD_VERSION
from ..query.entry import ArchiveEntry, entry_value

CHUNK = 500
_PENDING = ("SELECT p.id, a.id AS article, a.title, a.text FROM articles_fts_fold_pending p "
            "LEFT JOIN articles a ON a.id = p.id ORDER BY p.id LIMIT ?")
# Entries folded by older rules, with the words they are built from (an entry's article
# always exists: deleting an article deletes its entry)
_STALE = ("SELECT s.id, a.title, a.text FROM articles_fts_fold_src s "
          "JOIN articles a ON a.id = s.id WHERE s.version < ? ORDER BY s.id LIMIT ?")


def _writer(conn: sqlite3.Connection, version: int | None,
            ready: Mapping[int, ArchiveEntry] | None = None) -> Callable[[Sequence[tuple]], None]:
    """Index (id, title, text) rows; `version` None: the table has no version column yet
    (migration m009 folds before m013 adds it). `ready`: entries built beforehand, used
    where they were built from the row's very title and text."""
    def archive_columns(i, title, text) -> tuple:
        return entry_value(ready, i, title, text, "sqlite")

    def write(rows: Sequence[tuple]) -> None:
        if version is None:
            conn.executemany(
                "INSERT INTO articles_fts_fold_src (id, title_f, text_f, title_k, text_k) "
                "VALUES (?, ?, ?, ?, ?)",
                [(i, *archive_columns(i, title, text)) for i, title, text in rows])
            return
        conn.executemany(
            "INSERT INTO articles_fts_fold_src (id, title_f, text_f, title_k, text_k, "
            "version) VALUES (?, ?, ?, ?, ?, ?)",
            [(i, *archive_columns(i, title, text), version) for i, title, text in rows])
    return write


def fold_pending_sqlite(conn: sqlite3.Connection, version: int | None = FOLD_VERSION,
                        ready: Mapping[int, ArchiveEntry] | None = None) -> int:
    """Fold every queued article into the SQLite index; returns how many."""
    def done(ids: Sequence[int]) -> None:
        conn.executemany("DELETE FROM articles_fts_fold_pending WHERE id = ?",
                         [(i,) for i in ids])

    return drain(lambda: conn.execute(_PENDING, [CHUNK]).fetchall(),
                 _writer(conn, version, ready), done)


def refold_sqlite(conn: sqlite3.Connection, limit: int = CHUNK) -> int:
    """Fold again up to `limit` entries built by older rules (lowest ids first), in the
    caller's transaction; returns how many (0: none left)."""
    rows = [tuple(r) for r in conn.execute(_STALE, [FOLD_VERSION, int(limit)]).fetchall()]
    if rows:
        # the delete trigger takes the old entry out of the index with its exact values
        conn.executemany("DELETE FROM articles_fts_fold_src WHERE id = ?",
                         [(r[0],) for r in rows])
        _writer(conn, FOLD_VERSION)(rows)
    return len(rows)


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


def refold(store, batch: int = CHUNK,
           progress: Callable[[int, int], None] | None = None) -> dict:
    """Fold again every entry built by older folding rules, `batch` entries per write
    transaction (stopped halfway, the next run goes on from there); `progress(done, total)`
    after each. Returns {"refolded", "version", "left"}."""
    with store.write_transaction():
        store.fold_pending()  # what is queued is folded by the current rules anyway
    total = store.fold_stale()
    done = 0
    while True:
        with store.write_transaction():
            n = store.refold_batch(max(1, int(batch)))
        if not n:
            break
        done += n
        if progress is not None:
            progress(done, max(total, done))
    return {"refolded": done, "version": FOLD_VERSION, "left": store.fold_stale()}


def refold_warning(store) -> str | None:
    """One line when the archive holds entries folded by older rules (a query in the
    current form may miss them), naming the command that folds them again; else None."""
    try:
        stale = store.fold_stale()
    except store.errors:  # a store not migrated yet (read-only): nothing to say
        return None
    if not stale:
        return None
    noun = "article is" if stale == 1 else "articles are"
    return (f"{stale} {noun} indexed by older folding rules (before fold version "
            f"{FOLD_VERSION}), so searches and backfills across scripts may miss them: "
            "run `newswatch store refold`")
