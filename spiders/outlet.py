"""OutletSpider: one generic spider, configured by an `[[outlets]]` entry.

Discovery (feeds, sitemaps, listing pages) is parsed by the pure functions in
`newswatch.feeds`; URL identity by `newswatch.urls`. This file only wires them to Scrapy.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from w3lib.encoding import http_content_type_encoding

from newswatch import clock
from newswatch.feeds import extract_links, parse_feed, parse_sitemap
from newswatch.urls import canonical_url, same_site

from .failures import PERMANENT, FailureBook, classify, entry_key
from .robots import cause

if TYPE_CHECKING:
    from newswatch.config import Outlet

MAX_SITEMAP_DEPTH = 3  # sitemap index -> sitemap -> ... ; bounded against self-reference
KIND_PRIORITY = {"feed": 30, "sitemap": 20, "page": 10}


class OutletSpider(scrapy.Spider):
    name = "outlet"
    custom_settings: dict[str, Any] = {}

    # ctx: newswatch.crawl.PassContext (not imported here: crawl starts the spiders)
    def __init__(self, outlet: Outlet, ctx, **kwargs: Any):
        super().__init__(name=f"outlet-{outlet.id}", **kwargs)
        self.outlet = outlet
        self.ctx = ctx
        self.hosts = outlet.hosts()
        self.pattern = outlet.article_pattern()
        self.obey_robots = outlet.obey_robots
        self.stats_ = ctx.start_run(outlet)
        self._queued: set[str] = set()  # requested in this pass
        self._seen: set[str] = set()  # discovered in this pass
        self.failures = FailureBook(ctx, outlet.id)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    def _on_idle(self) -> None:
        """Discovery is done: retry the failed URLs whose backoff is over that it did not
        list (its feed may answer 304, or no longer carry them)."""
        due = [r for r in self.failures.due() if r["url"] not in self._queued]
        if not due:
            return
        for row in due:
            self._queued.add(row["url"])
            hints = json.loads(row["hints"]) if row["hints"] else {"source": "retry"}
            self.crawler.engine.crawl(self._fetch_request(
                row["fetch_url"] or row["url"], row["url"], hints, row["entry"]))
        raise DontCloseSpider

    async def start(self):
        # The run's clock starts when the engine asks for requests: Scrapy's component
        # setup before it (loading download handlers, middlewares) is process start-up,
        # paid once per process whatever the outlet does, and timed by the caller.
        self.stats_.started = time.monotonic()
        for kind, urls in (("feed", self.outlet.feeds), ("sitemap", self.outlet.sitemaps),
                           ("page", self.outlet.pages)):
            for url in urls:
                yield self._discovery_request(url, kind)

    def _discovery_request(self, url: str, kind: str, depth: int = 0) -> scrapy.Request:
        callback = {"feed": self.parse_feed, "sitemap": self.parse_sitemap,
                    "page": self.parse_page}[kind]
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, priority=KIND_PRIORITY[kind],
            dont_filter=True, meta={"nw_kind": kind, "nw_depth": depth},
        )

    # -- discovery -------------------------------------------------------------------

    def _count_discovery(self, response: Response) -> None:
        self.stats_.pages += 1
        if response.meta.get("nw_not_modified"):
            self.stats_.unchanged += 1  # evidence of health (newswatch.health)

    def parse_feed(self, response: Response):
        self._count_discovery(response)
        for entry in parse_feed(response.body, response.url):
            yield from self._article_request(
                entry.url, source="feed", title=entry.title, published=entry.published,
                updated=entry.updated or entry.published)

    def parse_sitemap(self, response: Response):
        self._count_discovery(response)
        sitemap = parse_sitemap(response.body, response.url)
        depth = response.meta.get("nw_depth", 0)
        if depth < MAX_SITEMAP_DEPTH:
            for url in sitemap.sitemaps:
                if same_site(url, self.hosts) and url != response.url:
                    yield self._discovery_request(url, "sitemap", depth + 1)
        for entry in sitemap.urls:
            yield from self._article_request(
                entry.url, source="sitemap", title=entry.news_title,
                published=entry.news_published, updated=entry.lastmod)

    def parse_page(self, response: Response):
        self._count_discovery(response)
        if not isinstance(response, TextResponse):
            return
        for url in extract_links(response.body, response.url):
            yield from self._article_request(url, source="page")

    def _article_request(self, url: str, *, source: str, title: str | None = None,
                         published: str | None = None, updated: str | None = None):
        if not url or not same_site(url, self.hosts):
            return
        canonical = canonical_url(url)
        if not (self.pattern.search(url) or self.pattern.search(canonical)):
            return
        if canonical in self._queued:
            return
        if canonical not in self._seen:
            self._seen.add(canonical)
            self.stats_.found += 1
        # Known URLs cost no request, unless the feed or sitemap says a recent one changed
        # (a correction: fetched again, updated in place, never re-alerted). Another source
        # listing the same URL later in the pass may still carry that signal.
        if self.ctx.articles.is_known(canonical) and not self.ctx.recheck_due(canonical, updated):
            return
        entry = entry_key(title, updated)
        if self.failures.holds(canonical, entry):
            return  # failed before and backing off (spiders/failures.py)
        self._queued.add(canonical)
        yield self._fetch_request(
            url, canonical, {"source": source, "title": title, "published": published}, entry)

    def _fetch_request(self, url: str, canonical: str, hints: dict,
                       entry: str | None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error,
            meta={"nw_kind": "article", "nw_canonical": canonical, "nw_entry": entry},
            cb_kwargs={"hints": hints},
        )

    def article_failed(self, meta: dict, kind: str, reason: str, url: str, hints: dict) -> None:
        """An article page failed: remembered, so that it backs off (spiders/failures.py)."""
        self.failures.failed(meta["nw_canonical"], kind, reason, fetch_url=url,
                             entry=meta.get("nw_entry"), hints=hints)

    # -- articles --------------------------------------------------------------------

    def parse_article(self, response: Response, hints: dict):
        self.stats_.pages += 1
        canonical = response.meta["nw_canonical"]
        if not isinstance(response, TextResponse):
            self.ctx.articles.record_fetch(canonical, self.outlet.id, response.status,
                                        error="not a text/html response")
            self.article_failed(response.meta, PERMANENT, "not a text/html response",
                                response.request.url, hints)
            return
        yield {
            "outlet": self.outlet.id,
            "url": canonical,
            "fetched_url": response.url,
            "status": response.status,
            # Bytes and the header's charset: decoding happens in the extraction worker,
            # not on the crawl's one thread.
            "html": response.body,
            "encoding": http_content_type_encoding(
                (response.headers.get(b"Content-Type") or b"").decode("latin-1")),
            "fetched": clock.now_iso(),
            "feed_title": hints.get("title") if hints.get("source") == "feed" else None,
            "feed_published": hints.get("published") if hints.get("source") == "feed" else None,
            "sitemap_published": hints.get("published") if hints.get("source") == "sitemap" else None,
            "sitemap_title": hints.get("title") if hints.get("source") == "sitemap" else None,
            "nw_meta": {"nw_canonical": canonical, "nw_entry": response.meta.get("nw_entry"),
                        "url": response.request.url, "hints": hints},
        }

    def on_error(self, failure):
        request = failure.request
        message = f"{request.url}: {failure.getErrorMessage() or failure.type.__name__}"
        if request.meta.get("nw_kind") != "article":
            # Discovery failing: summed up with its cause in the outlet's one pass line
            # (an outlet whose robots.txt is unreachable fails every request alike).
            self.stats_.error(message, cause(failure.value))
            self.logger.debug("fetch failed: %s", message)
            return
        self.stats_.error(message)
        status = getattr(getattr(failure.value, "response", None), "status", None)
        self.ctx.articles.record_fetch(request.meta["nw_canonical"], self.outlet.id, status,
                                       error=message)
        self.article_failed(request.meta, classify(failure.value), message, request.url,
                            request.cb_kwargs.get("hints") or {})
        self.logger.info("fetch failed: %s", message)

    def closed(self, reason: str) -> None:
        self.ctx.articles.flush(self.outlet.id)
        status = "ok" if reason == "finished" else "interrupted"
        if status == "ok" and self.stats_.pages == 0 and self.stats_.errors:
            status = "error"
        self.ctx.finish_run(self.stats_, status, "" if reason == "finished" else reason)
