"""ExtractPipeline: HTML in, article text and metadata out (newswatch.extract), computed in
worker processes so that the event loop keeps downloading while pages are parsed. The
workers also compute the keys the later stages look the article up by
(newswatch.analysis): content hash, near-duplicate sketch, template blocks."""

from __future__ import annotations

import asyncio

from scrapy.exceptions import DropItem

from newswatch.analysis import analyse_page
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
            "encoding": item.pop("encoding", None),
        }
        html = item.pop("html")
        try:
            analysis = await asyncio.wrap_future(
                self.pool.submit(analyse_page, html, item["fetched_url"], **kwargs))
        except Exception as exc:  # a crashed or hung worker (WorkerCrashed, WorkerTimeout):
            # this page fails, the pass goes on
            article = None
            reason = f"extraction failed: {type(exc).__name__}: {exc}"
        else:
            article = analysis.article
            reason = article.reason
        if article is None or not article.ok:
            self.stats.error(f"{item['fetched_url']}: {reason}")
            self.ctx.store.record_fetch(item["url"], self.outlet.id, item["status"], error=reason)
            raise DropItem(reason, log_level="INFO")
        item["article"] = article
        item["sketch"] = analysis.sketch
        item["blocks"] = analysis.blocks
        return item
