"""What every newswatch pipeline shares: it serves one OutletSpider's pass."""

from __future__ import annotations


class OutletPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        # Scrapy >= 2.14 passes no spider; older versions do.
        self.spider = spider or self.crawler.spider
        self.ctx = self.spider.ctx
        self.outlet = self.spider.outlet
        self.store = self.ctx.store
        self.opened()

    def opened(self) -> None:
        """Per-pipeline setup once the spider is known."""
