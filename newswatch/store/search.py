"""Full-text reads: archive search, backfill candidates, and what `explain` shows of a URL."""

from __future__ import annotations

import sqlite3
from typing import Sequence

from ..errors import DatabaseError, QueryError
from .base import marks

_EXPLAIN_COLS = ("id, url, fetched_url, outlet, title, published, date_source, first_seen, "
                 "last_seen, duplicate_of, status, matched, length(text) AS length, changed, "
                 "text")


class SearchMixin:
    def search_articles(self, fts: str, *, source: str = "", limit: int = 50,
                        outlets: Sequence[str] | None = None, since: str | None = None,
                        include_duplicates: bool = False) -> list[dict]:
        """Articles matching the FTS5 expression `fts`, best first (bm25, title weighted
        double), newest first among equals. Rows: id, url, outlet, title, published,
        first_seen, duplicate_of, text. A query FTS5 refuses raises QueryError (naming `source`)."""
        where = ["articles_fts MATCH ?"]
        params: list = [fts]
        if outlets is not None:
            where.append(f"a.outlet IN ({', '.join('?' * len(outlets))})")
            params.extend(outlets)
        if since is not None:
            where.append("coalesce(a.published, a.first_seen) >= ?")
            params.append(since)
        if not include_duplicates:
            where.append("a.duplicate_of IS NULL")
        sql = (
            "SELECT a.id, a.url, a.outlet, a.title, a.published, a.first_seen, "
            "a.duplicate_of, a.text "
            "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY bm25(articles_fts, 2.0, 1.0), coalesce(a.published, a.first_seen) DESC "
            "LIMIT ?"
        )
        params.append(int(limit))
        try:
            return self._all(sql, params)
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc):
                raise QueryError(f"cannot run query {source!r}: {exc}") from exc
            raise DatabaseError(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(str(exc)) from exc

    def backfill_candidates(self, fts: str, since: str,
                            outlets: Sequence[str] | None = None) -> list[int]:
        """Ids of originals matching `fts`, published (or first seen) since, oldest first."""
        params: list = [fts, since]
        where = ""
        if outlets is not None:
            where = f" AND a.outlet IN ({marks(outlets)})"
            params += list(outlets)
        return [r["id"] for r in self._all(
            "SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? AND coalesce(a.published, a.first_seen) >= ? "
            "AND a.duplicate_of IS NULL" + where + " ORDER BY a.id", params)]

    # -- explain -----------------------------------------------------------------------

    def explain_article(self, urls: Sequence[str]) -> dict | None:
        """The first article stored under one of `urls` (canonical URL or alias)."""
        for url in urls:
            row = (self._one(f"SELECT {_EXPLAIN_COLS} FROM articles WHERE url = ?", [url])
                   or self._one(f"SELECT {_EXPLAIN_COLS} FROM articles WHERE id = (SELECT "
                                "article_id FROM url_aliases WHERE url = ?)", [url]))
            if row:
                return row
        return None

    def explain_fetch(self, urls: Sequence[str]) -> dict | None:
        """{fetched, status, error, length, outlet} of the first of `urls` fetched."""
        for url in urls:
            if url:
                row = self._one("SELECT fetched, status, error, length, outlet FROM fetches "
                                "WHERE url = ?", [url])
                if row:
                    return row
        return None

    def copy_count(self, article_id: int) -> int:
        return self._value("SELECT count(*) FROM articles WHERE duplicate_of = ?",
                           [article_id])

    def article_alerts(self, article_id: int) -> list[dict]:
        """The article's alerts with their email: watch, state, reason, email_state,
        last_error, sent, message_id."""
        return self._all(
            "SELECT l.watch, l.state, l.reason, o.state AS email_state, o.last_error, o.sent, "
            "o.message_id FROM alerts l LEFT JOIN outbox o ON o.id = l.outbox_id "
            "WHERE l.article_id = ? ORDER BY l.id", [article_id])
