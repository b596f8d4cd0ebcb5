"""ExtractPipeline: HTML in, article text and metadata out (newswatch.analysis), computed in
the pass's extraction worker processes so that the event loop keeps downloading while
pages are parsed. The workers also compute the keys the later stages look the article up
by: content hash, near-duplicate sketch, template blocks, and the folded index entry."""

from __future__ import annotations

import asyncio

from scrapy.exceptions import DropItem

from newswatch.analysis import analyse_page, page_options
from spiders.failures import PERMANENT, TRANSIENT

from .base import OutletPipeline


class ExtractPipeline(OutletPipeline):
    async def process_item(self, item, spider=None):
        # The template model is asked per page: the store reloads it after each batch.
        kwargs = page_options(self.outlet, item, self.articles.template_model(self.outlet.id),
                              self.articles.store.backend)
        html = item.pop("html")
        try:
            analysis = await asyncio.wrap_future(
                self.ctx.pool.submit(analyse_page, html, item["fetched_url"], **kwargs))
        except Exception as exc:  # a crashed or hung worker (WorkerCrashed, WorkerTimeout):
            # this page fails, the pass goes on
            analysis, reason = None, f"extraction failed: {type(exc).__name__}: {exc}"
            kind = TRANSIENT
        else:
            reason, kind = analysis.article.reason, PERMANENT  # not an article, as served
        if analysis is None or not analysis.article.ok:
            self.spider.stats_.error(f"{item['fetched_url']}: {reason}")
            self.articles.record_fetch(item["url"], self.outlet.id, item["status"],
                                       error=reason)
            meta = item["nw_meta"]
            self.spider.article_failed(meta, kind, reason, meta["url"], meta["hints"])
            raise DropItem(reason, log_level="INFO")
        item.update(article=analysis.article, sketch=analysis.sketch, blocks=analysis.blocks,
                    folded=analysis.folded)
        return item
