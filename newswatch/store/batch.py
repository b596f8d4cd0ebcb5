"""The writer of one crawl pass: articles stored in batches. Each batch is one transaction
that also decides content identity and turns watch matches into alert rows, so a pass
killed at any point leaves either the whole batch or none of it (ARCHITECTURE.md, crash
safety). Built only on `Store` methods, so it serves any backend."""

from __future__ import annotations

import logging
import time
from typing import Callable

from .. import clock, templates
from ..storylines import Storylines
from ..dedup import DuplicateFinder, content_hash, sketch

log = logging.getLogger("newswatch.crawl")

BATCH_SIZE = 50
BATCH_SECONDS = 2.0
# Until an outlet has this many pages behind it, its template blocks are not known yet: its
# pages wait for a full batch (or the end of the pass) so that learning sees several pages
# before their text is stored and matched.
WARM_PAGES = 20


class WritePath:
    """Every write of a pass goes through `write` (or a batch of `ArticleStore`). A
    database failure (disk full, read-only file, I/O error) goes to `abort`: what the
    connection holds is rolled back, `on_fatal` stops the pass, and nothing more is
    written; the caller raises DatabaseError (exit 3)."""

    def __init__(self, store, on_fatal: Callable[[], None] | None = None):
        self.store = store
        self.on_fatal = on_fatal
        self.fatal: Exception | None = None

    def write(self, fn, *args, **kwargs) -> bool:
        if self.fatal is not None:
            return False
        try:
            with self.store.transaction():
                fn(*args, **kwargs)
        except self.store.errors as exc:
            self.abort(exc)
            return False
        return True

    def abort(self, exc: Exception) -> None:
        if self.fatal is None:
            self.fatal = exc
            log.error("database error, stopping the pass: %s", exc)
            if self.on_fatal is not None:
                self.on_fatal()
        self.store.rollback()


class ArticleStore:
    """Buffered article writes of a pass, shared by all outlets' pipelines (so a wire copy
    on two outlets in one pass is still seen as one story). `match(store)` runs the watches
    over the batch inside its transaction; `stats` maps outlet id -> RunStats."""

    def __init__(self, store, writes: WritePath, stats: dict, match: Callable[[object], int],
                 config=None):
        self.store = store
        self.threads = Storylines(store, config)  # story threads, loaded at the first batch
        self.writes = writes
        self.stats = stats
        self.match = match
        self.buffer: list[dict] = []
        self.oldest = 0.0
        self.finder = DuplicateFinder(store)
        self._templates: dict[str, templates.TemplateModel] = {}
        self._warm: set[str] = set()

    # -- reads -------------------------------------------------------------------------

    def lookup(self, url: str) -> dict | None:
        row = self.store.article_identity(url)
        if row:
            return row
        for item in self.buffer:  # stored in this batch but not yet committed
            if item["url"] == url or url in item.get("aliases", ()):
                return {"id": None, "content_hash": item["content_hash"]}
        return None

    def is_known(self, url: str) -> bool:
        return self.lookup(url) is not None

    def template_model(self, outlet: str) -> templates.TemplateModel:
        if outlet not in self._templates:
            self._templates[outlet] = templates.TemplateModel.load(self.store, outlet)
        return self._templates[outlet]

    # -- writes ------------------------------------------------------------------------

    def record_fetch(self, url: str, outlet: str, status: int | None, *, error: str | None = None,
                     article_id: int | None = None, length: int | None = None) -> None:
        self.writes.write(self.store.record_fetch,
                          {"url": url, "outlet": outlet, "fetched": clock.now_iso(),
                           "status": status, "error": error, "article_id": article_id,
                           "length": length})

    def touch(self, article_id: int | None, item: dict) -> None:
        if article_id is not None:
            self.writes.write(self._touch, article_id, item)

    def _touch(self, article_id: int, item: dict) -> None:
        self.store.touch_article(article_id, item["fetched"], item["status"])
        self.store.add_aliases(article_id, item.get("aliases", ()))

    def warm(self, outlet: str) -> bool:
        if outlet not in self._warm:
            if self.store.template_page_count(outlet) < WARM_PAGES:
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
        if not batch or self.writes.fatal is not None:
            return  # after a database error the pass is stopping; these are fetched again
        try:
            with self.store.batch_transaction(len(batch)):
                # Another worker may be storing a copy of one of these stories right now.
                self.store.lock_identity()
                # every new page's identity read at once: one round trip, not one a page
                pages = [i for i in batch if i.get("existing_id") is None]
                for i in pages:  # sketched once, whoever reads it
                    if i.get("sketch") is None:
                        i["sketch"] = sketch(i["article"].text)
                self.finder.begin_batch([(i["url"], i["article"].text, i["sketch"])
                                         for i in pages])
                for item in batch:
                    self._write(item)
                self._refilter(batch)
                # the folded archive index of what was written (entries the extraction
                # workers built are used where the text is still theirs)
                self.store.fold_pending({i["article_id"]: i["folded"] for i in batch
                                         if i.get("folded") and i.get("article_id")})
                self.threads.assign([i.get("article_id") for i in batch])
                self.match(self.store)
        except self.store.errors as exc:
            # Disk full, read-only, I/O error: nothing of this batch is stored (its URLs are
            # still unknown, so the next pass fetches them again) and the pass stops, loudly.
            self.writes.abort(exc)
            return
        finally:
            self.finder.end_batch()
        # Newly learned template blocks apply to the next pages of this pass.
        self._templates.clear()

    def _refilter(self, batch: list[dict]) -> None:
        """Blocks learned from this batch's pages (the same appeal on several of them) leave
        the batch's own texts before they are matched: a first pass is clean too."""
        models: dict[str, templates.TemplateModel] = {}
        for item in batch:
            article_id = item.get("article_id")
            if article_id is None:
                continue
            outlet = item["outlet"]
            if outlet not in models:
                models[outlet] = templates.TemplateModel.load(self.store, outlet)
            paragraphs = item["article"].paragraphs
            kept = models[outlet].filter(paragraphs)
            if len(kept) != len(paragraphs) and kept:
                text = "\n\n".join(kept)
                self.store.set_article_text(article_id, text, content_hash(text))

    def _write(self, item: dict) -> None:
        article = item["article"]
        stats = self.stats.get(item["outlet"])
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
        duplicate_of = None
        if existing is None:
            known, duplicate_of = self.finder.probe(item["url"], article.text, item["sketch"])
            if known and known["content_hash"] == item["content_hash"]:
                return
            existing = known["id"] if known else None
        if existing is not None:
            self.store.correct_article(existing, row, now)
            self.finder.corrected()
            article_id = existing
            if stats:
                stats.updated += 1
        else:
            row.update({"url": item["url"], "outlet": item["outlet"], "first_seen": now,
                        "duplicate_of": duplicate_of, "matched": 0, "changes": 0})
            article_id = self.store.insert_article(row)
            self.finder.stored(item["url"], article_id, article.text, item["sketch"])
            if duplicate_of is None:
                self.finder.add(article_id, article.text, item["sketch"])
            if stats:
                if duplicate_of is None:
                    stats.new += 1
                else:
                    stats.duplicates += 1
        item["article_id"] = article_id
        self.store.add_aliases(article_id, [a for a in item.get("aliases", ())
                                            if a != item["url"]])
        templates.learn(self.store, item["outlet"], item["url"], page_blocks=item["blocks"])
        self.store.record_fetch(
            {"url": item["url"], "outlet": item["outlet"], "fetched": now,
             "status": item["status"], "error": None, "article_id": article_id,
             "length": len(article.text)})
