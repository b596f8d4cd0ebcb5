"""StorePipeline: articles into the pass's batch writer (newswatch.store.batch), whose
batches are one transaction each with content identity and watch matching (crash safety,
ARCHITECTURE.md)."""

from __future__ import annotations

from .base import OutletPipeline


class StorePipeline(OutletPipeline):
    async def process_item(self, item, spider=None):
        self.articles.add(item)
        return {"url": item["url"], "outlet": item["outlet"]}

    def close_spider(self, spider=None):
        self.articles.flush(self.outlet.id)
