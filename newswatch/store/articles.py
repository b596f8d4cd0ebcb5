"""Articles, their URL aliases and the fetch log."""

from __future__ import annotations

from typing import Sequence

from .base import marks

_BY_URL = (
    "SELECT {cols} FROM articles WHERE url = ? UNION ALL "
    "SELECT {acols} FROM url_aliases u JOIN articles a ON a.id = u.article_id "
    "WHERE u.url = ? LIMIT 1")


class ArticlesMixin:
    # -- reads -------------------------------------------------------------------------

    def article_identity(self, url: str) -> dict | None:
        """{id, content_hash} of the article stored under `url` or one of its aliases."""
        return self._one(_BY_URL.format(cols="id, content_hash",
                                        acols="a.id, a.content_hash"), [url, url])

    def article_by_url(self, url: str) -> dict | None:
        """{id, content_hash} of the article whose canonical URL is `url` (no aliases)."""
        return self._one("SELECT id, content_hash FROM articles WHERE url = ?", [url])

    def article_seen(self, url: str) -> dict | None:
        """{first_seen, last_seen} of the article under `url` or one of its aliases."""
        return self._one(_BY_URL.format(cols="first_seen, last_seen",
                                        acols="a.first_seen, a.last_seen"), [url, url])

    def article(self, article_id: int) -> dict | None:
        return self._one("SELECT * FROM articles WHERE id = ?", [article_id])

    def unmatched_articles(self, after_id: int, limit: int) -> list[dict]:
        return self._all(
            "SELECT id, outlet, title, text, published, first_seen, duplicate_of "
            "FROM articles WHERE matched = 0 AND id > ? ORDER BY id LIMIT ?",
            [after_id, limit])

    def copy_outlets(self, article_id: int) -> list[str]:
        """Outlets holding a copy (near-duplicate) of the article."""
        return [r["outlet"] for r in self._all(
            "SELECT DISTINCT outlet FROM articles WHERE duplicate_of = ? ORDER BY outlet",
            [article_id])]

    # -- writes ------------------------------------------------------------------------

    def insert_article(self, row: dict) -> int:
        return self._insert("articles", row)

    def correct_article(self, article_id: int, row: dict, now: str) -> None:
        """A correction: new text, same story; first_seen kept, never re-alerted."""
        self._send(
            "UPDATE articles SET title=?, author=?, published=coalesce(?, published), "
            "date_source=coalesce(?, date_source), language=?, text=?, content_hash=?, "
            "fetched_url=?, status=?, last_seen=?, changed=?, changes=changes+1 WHERE id=?",
            [row["title"], row["author"], row["published"], row["date_source"],
             row["language"], row["text"], row["content_hash"], row["fetched_url"],
             row["status"], now, now, article_id])

    def touch_article(self, article_id: int, last_seen: str, status: int | None) -> None:
        self._send("UPDATE articles SET last_seen = ?, status = ? WHERE id = ?",
                  [last_seen, status, article_id])

    def set_article_text(self, article_id: int, text: str, content_hash: str) -> None:
        self._send("UPDATE articles SET text = ?, content_hash = ? WHERE id = ?",
                  [text, content_hash, article_id])

    def mark_matched(self, article_ids: Sequence[int]) -> None:
        ids = list(article_ids)
        if ids:
            self._send(f"UPDATE articles SET matched = 1 WHERE id IN ({marks(ids)})", ids)

    def add_aliases(self, article_id: int, aliases: Sequence[str]) -> None:
        for alias in aliases:
            self._insert_ignore("url_aliases", {"url": alias, "article_id": article_id})

    def record_fetch(self, row: dict) -> None:
        """The last outcome of fetching a URL: {url, outlet, fetched, status, error,
        article_id, length}."""
        self._upsert("fetches", row, ["url"])
