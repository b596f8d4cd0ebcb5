"""What every newswatch pipeline shares: it serves one OutletSpider's pass."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newswatch.config import Outlet
    from newswatch.crawl import PassContext
    from newswatch.store.batch import ArticleStore


class OutletPipeline:
    ctx: PassContext
    outlet: Outlet
    articles: ArticleStore

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
        self.articles = self.ctx.articles
