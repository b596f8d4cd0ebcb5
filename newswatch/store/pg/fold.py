"""The folded archive index on PostgreSQL (migration m009_folded_search): one `tsvector`
per article (`newswatch.query.tsvector` builds it in Python, since the server cannot run
newswatch's folding), queued by a trigger and folded in the writing transaction."""

from __future__ import annotations

from typing import Mapping

from ...names import FOLD_VERSION
from ...query.entry import ArchiveEntry, entry_value
from ..fold import CHUNK, drain


def _writer(conn, version: int | None, ready: Mapping[int, ArchiveEntry] | None = None):
    """Index (id, title, text) rows; `version` None: no version column yet (m009 folds
    before m013 adds it). `ready`: entries built beforehand, used where they were built
    from the row's very title and text."""
    def literal(i, title, text) -> str:
        return entry_value(ready, i, title, text, "postgresql")

    def write(rows) -> None:
        with conn.cursor() as cur:
            if version is None:
                cur.executemany(
                    "INSERT INTO articles_fts_fold (id, fold) VALUES (%s, %s::tsvector) "
                    "ON CONFLICT (id) DO UPDATE SET fold = excluded.fold",
                    [(i, literal(i, title, text)) for i, title, text in rows])
                return
            cur.executemany(
                "INSERT INTO articles_fts_fold (id, fold, version) "
                "VALUES (%s, %s::tsvector, %s) "
                "ON CONFLICT (id) DO UPDATE SET fold = excluded.fold, version = excluded.version",
                [(i, literal(i, title, text), version) for i, title, text in rows])
    return write


def fold_pending_pg(conn, version: int | None = FOLD_VERSION,
                    ready: Mapping[int, ArchiveEntry] | None = None) -> int:
    """Fold every queued article (psycopg connection); returns how many."""
    def read() -> list:
        return conn.execute(
            "SELECT p.id, a.id, a.title, a.text FROM articles_fts_fold_pending p "
            "LEFT JOIN articles a ON a.id = p.id ORDER BY p.id LIMIT %s", [CHUNK]).fetchall()

    def done(ids) -> None:
        conn.execute("DELETE FROM articles_fts_fold_pending WHERE id = ANY(%s)", [list(ids)])

    return drain(read, _writer(conn, version, ready), done)


def refold_pg(conn, limit: int = CHUNK) -> int:
    """`newswatch.store.fold.refold_sqlite` on PostgreSQL: fold again up to `limit` entries
    built by older rules, in the caller's transaction; returns how many."""
    rows = [tuple(r) for r in conn.execute(
        "SELECT f.id, a.title, a.text FROM articles_fts_fold f JOIN articles a ON a.id = f.id "
        "WHERE f.version < %s ORDER BY f.id LIMIT %s", [FOLD_VERSION, int(limit)]).fetchall()]
    if rows:
        _writer(conn, FOLD_VERSION)(rows)
    return len(rows)
