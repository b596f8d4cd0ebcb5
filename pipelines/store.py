"""StorePipeline: articles into SQLite in batches. Each batch is one transaction that also
decides content identity and turns watch matches into alert rows, so a pass killed at any
point leaves either the whole batch or none of it (see ARCHITECTURE.md, crash safety)."""

from __future__ import annotations

import sqlite3
import time

from newswatch import alerts, clock, templates
from newswatch.dedup import DuplicateFinder, content_hash

from .base import OutletPipeline

BATCH_SIZE = 50
BATCH_SECONDS = 2.0
# Until an outlet has this many pages behind it, its template blocks are not known yet: its
# pages wait for a full batch (or the end of the pass) so that learning sees several pages
# before their text is stored and matched.
WARM_PAGES = 20


class ArticleStore:
    """The one writer of a pass (shared by all outlets' pipelines; see PassContext)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.db = ctx.db
        self.buffer: list[dict] = []
        self.oldest = 0.0
        self.finder = DuplicateFinder(self.db)
        self._templates: dict[str, object] = {}
        self._warm: set[str] = set()

    # -- reads -------------------------------------------------------------------------

    def lookup(self, url: str) -> dict | None:
        row = self.db.execute(
            "SELECT id, content_hash FROM articles WHERE url = ? UNION ALL "
            "SELECT a.id, a.content_hash FROM url_aliases u JOIN articles a ON a.id = u.article_id "
            "WHERE u.url = ? LIMIT 1", [url, url]).fetchone()
        if row:
            return {"id": row[0], "content_hash": row[1]}
        for item in self.buffer:  # stored in this batch but not yet committed
            if item["url"] == url or url in item.get("aliases", ()):
                return {"id": None, "content_hash": item["content_hash"]}
        return None

    def is_known(self, url: str) -> bool:
        return self.lookup(url) is not None

    def template_model(self, outlet: str):
        if outlet not in self._templates:
            self._templates[outlet] = templates.TemplateModel.load(self.db, outlet)
        return self._templates[outlet]

    # -- writes ------------------------------------------------------------------------

    def record_fetch(self, url: str, outlet: str, status: int | None, *, error: str | None = None,
                     article_id: int | None = None, length: int | None = None) -> None:
        self.ctx.write(self.db["fetches"].upsert,
                       {"url": url, "outlet": outlet, "fetched": clock.now_iso(),
                        "status": status, "error": error, "article_id": article_id,
                        "length": length}, pk="url")

    def touch(self, article_id: int | None, item: dict) -> None:
        if article_id is not None:
            self.ctx.write(self._touch, article_id, item)

    def _touch(self, article_id: int, item: dict) -> None:
        self.db.execute("UPDATE articles SET last_seen = ?, status = ? WHERE id = ?",
                        [item["fetched"], item["status"], article_id])
        for alias in item.get("aliases", ()):
            self.db["url_aliases"].insert({"url": alias, "article_id": article_id},
                                          ignore=True)

    def warm(self, outlet: str) -> bool:
        if outlet not in self._warm:
            pages = self.db.execute("SELECT count(*) FROM template_pages WHERE outlet = ?",
                                    [outlet]).fetchone()[0]
            if pages < WARM_PAGES:
                return False
            self._warm.add(outlet)
        return True

    def add(self, item: dict) -> None:
        if not self.buffer:
            self.oldest = time.monotonic()
        self.buffer.append(item)
        if len(self.buffer) >= BATCH_SIZE or (
                time.monotonic() - self.oldest > BATCH_SECONDS
                and all(self.warm(i["outlet"]) for i in self.buffer)):
            self.flush()

    def flush(self, outlet: str | None = None) -> None:
        """Store the buffered batch (only `outlet`'s items when given: a spider closing
        must not cut short another outlet's warm-up batch)."""
        if outlet is None:
            batch, self.buffer = self.buffer, []
        else:
            batch = [i for i in self.buffer if i["outlet"] == outlet]
            self.buffer = [i for i in self.buffer if i["outlet"] != outlet]
        if not batch or getattr(self.ctx, "fatal", None) is not None:
            return  # after a database error the pass is stopping; these are fetched again
        config = self.ctx.config
        try:
            with self.db.atomic():
                for item in batch:
                    self._write(item)
                self._refilter(batch)
                alerts.match_pending(self.db, config)
        except sqlite3.Error as exc:
            # Disk full, read-only, I/O error: nothing of this batch is stored (its URLs are
            # still unknown, so the next pass fetches them again) and the pass stops, loudly.
            self.ctx.abort(exc)
            return
        # Newly learned template blocks apply to the next pages of this pass.
        self._templates.clear()

    def _refilter(self, batch: list[dict]) -> None:
        """Blocks learned from this batch's pages (the same appeal on several of them) leave
        the batch's own texts before they are matched: a first pass is clean too."""
        models = {}
        for item in batch:
            article_id = item.get("article_id")
            if article_id is None:
                continue
            outlet = item["outlet"]
            if outlet not in models:
                models[outlet] = templates.TemplateModel.load(self.db, outlet)
            paragraphs = item["article"].paragraphs
            kept = models[outlet].filter(paragraphs)
            if len(kept) != len(paragraphs) and kept:
                text = "\n\n".join(kept)
                self.db.execute("UPDATE articles SET text = ?, content_hash = ? WHERE id = ?",
                                [text, content_hash(text), article_id])

    def _write(self, item: dict) -> None:
        article = item["article"]
        stats = self.ctx.stats.get(item["outlet"])
        now = item["fetched"]
        row = {
            "title": article.title,
            "author": article.author,
            "published": article.published,
            "date_source": article.date_source,
            "language": article.language,
            "text": article.text,
            "content_hash": item["content_hash"],
            "fetched_url": item["fetched_url"],
            "status": item["status"],
            "last_seen": now,
        }
        existing = item.get("existing_id")
        if existing is None:
            known = self.db.execute("SELECT id, content_hash FROM articles WHERE url = ?",
                                    [item["url"]]).fetchone()
            if known and known[1] == item["content_hash"]:
                return
            existing = known[0] if known else None
        if existing is not None:
            # A correction: new text, same story; first_seen kept, never re-alerted.
            self.db.execute(
                "UPDATE articles SET title=?, author=?, published=coalesce(?, published), "
                "date_source=coalesce(?, date_source), language=?, text=?, content_hash=?, "
                "fetched_url=?, status=?, last_seen=?, changed=?, changes=changes+1 WHERE id=?",
                [row["title"], row["author"], row["published"], row["date_source"],
                 row["language"], row["text"], row["content_hash"], row["fetched_url"],
                 row["status"], now, now, existing])
            article_id = existing
            if stats:
                stats.updated += 1
        else:
            duplicate_of = self.finder.find(article.text, item["sketch"])
            row.update({"url": item["url"], "outlet": item["outlet"], "first_seen": now,
                        "duplicate_of": duplicate_of, "matched": 0, "changes": 0})
            article_id = self.db["articles"].insert(row).last_pk
            if duplicate_of is None:
                self.finder.add(article_id, article.text, item["sketch"])
            if stats:
                if duplicate_of is None:
                    stats.new += 1
                else:
                    stats.duplicates += 1
        item["article_id"] = article_id
        for alias in item.get("aliases", ()):
            if alias != item["url"]:
                self.db["url_aliases"].insert({"url": alias, "article_id": article_id},
                                              ignore=True)
        templates.learn(self.db, item["outlet"], item["url"], page_blocks=item["blocks"])
        self.db["fetches"].upsert(
            {"url": item["url"], "outlet": item["outlet"], "fetched": now,
             "status": item["status"], "error": None, "article_id": article_id,
             "length": len(article.text)}, pk="url")


class StorePipeline(OutletPipeline):
    async def process_item(self, item, spider=None):
        self.store.add(item)
        return {"url": item["url"], "outlet": item["outlet"]}

    def close_spider(self, spider=None):
        self.store.flush(self.outlet.id)

