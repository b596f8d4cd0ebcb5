"""ExtractPipeline: HTML in, article text and metadata out (newswatch.extract), computed in
worker processes so that the event loop keeps downloading while pages are parsed."""

from __future__ import annotations

import asyncio

from scrapy.exceptions import DropItem

from newswatch.extract import extract_article
from newswatch.workers import ExtractorPool

from .base import OutletPipeline


class ExtractPipeline(OutletPipeline):
    def opened(self) -> None:
        self.stats = self.spider.stats_
        self.pool = ExtractorPool.shared(self.ctx)

    async def process_item(self, item, spider=None):
        kwargs = {
            "outlet": self.outlet.id,
            "drop": tuple(self.outlet.drop),
            # Asked per page: the store reloads the model after each batch it learns from.
            "templates": self.ctx.store.template_model(self.outlet.id),
            "feed_title": item.get("feed_title") or item.get("sitemap_title"),
            "feed_published": item.get("feed_published"),
            "sitemap_published": item.get("sitemap_published"),
            "first_seen": item["fetched"],
            "outlet_timezone": self.outlet.timezone,
        }
        html = item.pop("html")
        try:
            article = await asyncio.wrap_future(
                self.pool.submit(extract_article, html, item["fetched_url"], **kwargs))
        except Exception as exc:  # a crashed or hung worker (WorkerCrashed, WorkerTimeout):
            # this page fails, the pass goes on
            article = None
            reason = f"extraction failed: {type(exc).__name__}: {exc}"
        else:
            reason = article.reason
        if article is None or not article.ok:
            self.stats.error(f"{item['fetched_url']}: {reason}")
            self.ctx.store.record_fetch(item["url"], self.outlet.id, item["status"], error=reason)
            raise DropItem(reason, log_level="INFO")
        item["article"] = article
        return item
