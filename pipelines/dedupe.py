"""DedupePipeline: URL identity. The page's own canonical URL (rel=canonical / og:url) names
the article when it stays on the outlet's site; a URL already stored with unchanged text
stops here, one whose text changed goes on as an update (a correction: no new alert)."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from newswatch.urls import choose_canonical

from .base import OutletPipeline


class DedupePipeline(OutletPipeline):
    async def process_item(self, item, spider=None):
        # The page was fetched and is an article: whatever failed before is over.
        self.spider.failures.succeeded(item.get("nw_meta", {}).get("nw_canonical", item["url"]))
        url = choose_canonical(item["fetched_url"], item["article"].canonical_url,
                               self.spider.hosts)
        if url != item["url"]:
            item.setdefault("aliases", []).append(item["url"])
            item["url"] = url
        item["content_hash"] = item["sketch"].content_hash  # computed by the worker
        known = self.articles.lookup(url)
        if known is not None:
            if known["content_hash"] == item["content_hash"]:
                self.articles.touch(known["id"], item)
                raise DropItem(f"unchanged: {url}", log_level="DEBUG")
            item["existing_id"] = known["id"]
        return item
