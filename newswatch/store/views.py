"""What the web view's pages read (`newswatch serve`): alert timelines, a story's copies,
paged search with date bounds, matches per day, articles per outlet per day.

Plain SELECTs with parameters only; `substr` on ISO 8601 text gives the day, which
PostgreSQL reads the same way. The two full-text reads (`search_page`, `matches_per_day`)
are FTS5 here and tsquery in `newswatch.store.pg.views`; both read the folded index when
given `folded=`, as `search_articles` does."""

from __future__ import annotations

from typing import Sequence

from .base import chunked, marks


class ViewsMixin:
    def alert_timeline(self, *, watch: str | None = None, before: int | None = None,
                       limit: int = 50) -> list[dict]:
        """Alerts newest first (keyset paging: ids below `before`), with their story and
        email: id, watch, created, state, reason, article_id, title, url, outlet,
        published, first_seen, text, email_state, last_error, sent."""
        where, params = [], []
        if watch is not None:
            where.append("l.watch = ?")
            params.append(watch)
        if before is not None:
            where.append("l.id < ?")
            params.append(int(before))
        sql = ("SELECT l.id, l.watch, l.created, l.state, l.reason, a.id AS article_id, "
               "a.title, a.url, a.outlet, a.published, a.first_seen, a.text, "
               "o.state AS email_state, o.last_error, o.sent FROM alerts l "
               "JOIN articles a ON a.id = l.article_id "
               "LEFT JOIN outbox o ON o.id = l.outbox_id"
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY l.id DESC LIMIT ?")
        return self._all(sql, params + [int(limit)])

    def alert_watch_counts(self) -> dict[str, int]:
        """Alerts per watch name."""
        return {r["watch"]: r["n"] for r in self._all(
            "SELECT watch, count(*) AS n FROM alerts GROUP BY watch")}

    def copies_of(self, article_ids: Sequence[int]) -> dict[int, list[str]]:
        """Per original article id: the outlets holding a copy of it."""
        out: dict[int, list[str]] = {}
        for chunk in chunked(list(dict.fromkeys(article_ids))):
            for r in self._all(
                    "SELECT DISTINCT duplicate_of, outlet FROM articles "
                    f"WHERE duplicate_of IN ({marks(chunk)}) ORDER BY outlet", chunk):
                out.setdefault(r["duplicate_of"], []).append(r["outlet"])
        return out

    def story_copies(self, article_id: int) -> list[dict]:
        """The other stored versions of a story: {id, url, outlet, title, first_seen}."""
        return self._all(
            "SELECT id, url, outlet, title, first_seen FROM articles "
            "WHERE duplicate_of = ? OR id = (SELECT duplicate_of FROM articles WHERE id = ?) "
            "OR (duplicate_of = (SELECT duplicate_of FROM articles WHERE id = ?) AND id <> ?) "
            "ORDER BY id", [article_id, article_id, article_id, article_id])

    def search_page(self, fts: str, *, folded: str | None = None, source: str = "",
                    outlets: Sequence[str] | None = None, since: str | None = None,
                    until: str | None = None, limit: int = 20, offset: int = 0) -> list[dict]:
        """One page of originals matching `fts` on the plain index, or `folded` (a
        `Query.folded` expression) on the folded one, best first (as `search_articles`),
        with the date (published, else first seen) in [since, until)."""
        table, expr, weights = self._fts_source(fts, folded)
        where, params = [f"{table} MATCH ?", "a.duplicate_of IS NULL"], [expr]
        if outlets:
            where.append(f"a.outlet IN ({marks(outlets)})")
            params += list(outlets)
        if since:
            where.append("coalesce(a.published, a.first_seen) >= ?")
            params.append(since)
        if until:
            where.append("coalesce(a.published, a.first_seen) < ?")
            params.append(until)
        sql = ("SELECT a.id, a.url, a.outlet, a.title, a.published, a.first_seen, a.text "
               f"FROM {table} JOIN articles a ON a.id = {table}.rowid "
               f"WHERE {' AND '.join(where)} ORDER BY bm25({table}, {weights}), "
               "coalesce(a.published, a.first_seen) DESC LIMIT ? OFFSET ?")
        return self._fts_rows(sql, params + [int(limit), int(offset)], source)

    def matches_per_day(self, fts: str, *, folded: str | None = None, source: str = "",
                        days: int = 30) -> list[dict]:
        """{day, n} of originals matching `fts` (or `folded`, as `search_page`), newest day
        first, at most `days` days."""
        table, expr, _ = self._fts_source(fts, folded)
        sql = ("SELECT substr(coalesce(a.published, a.first_seen), 1, 10) AS day, "
               f"count(*) AS n FROM {table} JOIN articles a ON a.id = {table}.rowid "
               f"WHERE {table} MATCH ? AND a.duplicate_of IS NULL "
               "GROUP BY substr(coalesce(a.published, a.first_seen), 1, 10) "
               "ORDER BY day DESC LIMIT ?")
        return self._fts_rows(sql, [expr, int(days)], source)

    def articles_per_day(self, since: str) -> list[dict]:
        """{outlet, day, n}: articles first seen per outlet and day since `since`."""
        return self._all(
            "SELECT outlet, substr(first_seen, 1, 10) AS day, count(*) AS n FROM articles "
            "WHERE first_seen >= ? GROUP BY outlet, substr(first_seen, 1, 10)", [since])
