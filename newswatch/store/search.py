"""Full-text reads: archive search (plain, or folded across scripts and spellings: the
folded index of migration m009), backfill candidates, and what `explain` shows of a URL."""

from __future__ import annotations

import logging
import sqlite3
from typing import Mapping, Sequence

from ..errors import DatabaseError, QueryError
from ..query.archive import folded_for_archive
from ..query.entry import ArchiveEntry
from .base import marks
from ..names import FOLD_VERSION
from .fold import fold_pending_sqlite, refold_sqlite

log = logging.getLogger("newswatch.store")

_EXPLAIN_COLS = ("id, url, fetched_url, outlet, title, published, date_source, first_seen, "
                 "last_seen, duplicate_of, status, matched, length(text) AS length, changed, "
                 "text")


class SearchMixin:
    # -- the folded index (m009) -------------------------------------------------------

    def fold_pending(self, ready: Mapping[int, ArchiveEntry] | None = None) -> int:
        """Fold the articles queued since the last call (new or re-worded ones) into the
        folded index, inside the caller's transaction; returns how many. `ready`: entries
        built beforehand (`newswatch.query.entry`), by article id."""
        return fold_pending_sqlite(self.conn, ready=ready)

    def fold_stale(self) -> int:
        """How many folded entries older folding rules built (`newswatch store refold`)."""
        return int(self._value("SELECT count(*) FROM articles_fts_fold_src WHERE version < ?",
                               [FOLD_VERSION]))

    def refold_batch(self, limit: int) -> int:
        """Fold again up to `limit` entries older rules built, in the caller's transaction;
        returns how many (0: none left)."""
        return refold_sqlite(self.conn, limit)

    def _fold_current(self) -> None:
        """Before a search: fold what another program stored (raw SQL, a copy) without the
        store. A read-only connection searches what is folded already."""
        if self._value("SELECT EXISTS (SELECT 1 FROM articles_fts_fold_pending)"):
            try:
                with self.write_transaction():
                    n = self.fold_pending()
                log.info("folded %d articles into the archive index", n)
            except self.errors as exc:
                log.warning("cannot fold new articles into the archive index (%s): "
                            "searching what is folded", " ".join(str(exc).split()))

    # -- search ------------------------------------------------------------------------

    def search_articles(self, fts: str, *, folded: str | None = None, source: str = "",
                        limit: int = 50, outlets: Sequence[str] | None = None,
                        since: str | None = None,
                        include_duplicates: bool = False) -> list[dict]:
        """Articles matching the FTS5 expression `fts` on the plain index, or `folded` (a
        `Query.folded` expression, across scripts and spellings) on the folded one, best
        first (bm25, title weighted double), newest first among equals. Rows: id, url,
        outlet, title, published, first_seen, duplicate_of, text. A query FTS5 refuses
        raises QueryError (naming `source`)."""
        table, expr, weights = self._fts_source(fts, folded)
        where = [f"{table} MATCH ?"]
        params: list = [expr]
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
            f"FROM {table} JOIN articles a ON a.id = {table}.rowid "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY bm25({table}, {weights}), coalesce(a.published, a.first_seen) DESC "
            "LIMIT ?"
        )
        params.append(int(limit))
        return self._fts_rows(sql, params, source)

    def _fts_source(self, fts: str, folded: str | None) -> tuple[str, str, str]:
        """(table, MATCH expression, bm25 weights) of a search."""
        if folded is None:
            return "articles_fts", fts, "2.0, 1.0"
        self._fold_current()
        return "articles_fts_fold", folded_for_archive(folded), "2.0, 1.0, 2.0, 1.0, 2.0, 1.0"

    def _fts_rows(self, sql: str, params: list, source: str) -> list[dict]:
        try:
            return self._all(sql, params)
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc):
                raise QueryError(f"cannot run query {source!r}: {exc}") from exc
            raise DatabaseError(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(str(exc)) from exc

    def backfill_candidates(self, fts: str, since: str,
                            outlets: Sequence[str] | None = None, *,
                            folded: str | None = None) -> list[int]:
        """Ids of originals matching `fts` (or `folded`, as `search_articles`), published
        (or first seen) since, oldest first."""
        table, expr, _ = self._fts_source(fts, folded)
        params: list = [expr, since]
        where = ""
        if outlets is not None:
            where = f" AND a.outlet IN ({marks(outlets)})"
            params += list(outlets)
        return [r["id"] for r in self._fts_rows(
            f"SELECT a.id FROM {table} JOIN articles a ON a.id = {table}.rowid "
            f"WHERE {table} MATCH ? AND coalesce(a.published, a.first_seen) >= ? "
            "AND a.duplicate_of IS NULL" + where + " ORDER BY a.id", params, "")]

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
