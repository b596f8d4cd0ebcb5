"""Conditional GET for feeds, sitemaps and listing pages (ETag / Last-Modified).

Requests whose meta `nw_kind` is feed, sitemap or page carry If-None-Match /
If-Modified-Since from the `http_cache` table. A 304 reaches the spider's callback as an
empty response (meta `nw_not_modified`), which parses to nothing: no links, no article
requests, and no error.

Validators from 200 responses are kept in memory and written when the outlet's pass
finishes without a transient failure (an article that timed out or got a 5xx after its
retries). Storing them earlier would be unsafe: a pass that fetched a feed but was stopped
(or failed on some articles) before fetching its articles would get a 304 next time and
never see those articles again. Refusals by policy (robots.txt, scope) and 404s are not
transient: they do not hold validators back.

Order: this middleware sits at 580, below RedirectMiddleware (600), so in process_response
it sees the final response of a redirect chain, keyed by the URL actually fetched, and
RetryMiddleware (550) never sees a 304. HttpErrorMiddleware (a spider middleware) lets the
304 through because the request lists it in `handle_httpstatus_list`.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import IgnoreRequest

from newswatch import clock

CONDITIONAL_KINDS = ("feed", "sitemap", "page")


class ConditionalGetMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.pending: dict[str, dict] = {}
        self.transient_failure = False
        settings = crawler.settings
        self.retry_codes = set(settings.getlist("RETRY_HTTP_CODES"))
        self.retry_times = settings.getint("RETRY_TIMES") if settings.getbool(
            "RETRY_ENABLED") else 0

    @classmethod
    def from_crawler(cls, crawler):
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def _ctx(self, spider):
        return (spider or self.crawler.spider).ctx

    def process_request(self, request, spider=None):
        if request.meta.get("nw_kind") not in CONDITIONAL_KINDS:
            return None
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return None
        row = self._ctx(spider).store.validators(request.url)
        if row is None:
            return None
        if row["etag"]:
            request.headers[b"If-None-Match"] = row["etag"]
        if row["last_modified"]:
            request.headers[b"If-Modified-Since"] = row["last_modified"]
        allowed = list(request.meta.get("handle_httpstatus_list", ()))
        if 304 not in allowed:
            request.meta["handle_httpstatus_list"] = [*allowed, 304]
        return None

    def _final_attempt(self, request) -> bool:
        if request.meta.get("dont_retry"):
            return True  # an article timeout (spiders/failures.py)
        return request.meta.get("retry_times", 0) >= request.meta.get(
            "max_retry_times", self.retry_times)

    def process_exception(self, request, exception, spider=None):
        if request.meta.get("nw_kind") and not isinstance(exception, IgnoreRequest) \
                and self._final_attempt(request):
            self.transient_failure = True
        return None

    def process_response(self, request, response, spider=None):
        if request.meta.get("nw_kind") not in CONDITIONAL_KINDS:
            if request.meta.get("nw_kind") and response.status in self.retry_codes \
                    and self._final_attempt(request):
                self.transient_failure = True
            return response
        if response.status == 304:
            request.meta["nw_not_modified"] = True
            self.pending[request.url] = {"url": request.url, "checked": clock.now_iso(),
                                         "status": 304, "touch": True}
            # Nothing to parse: whatever a misbehaving server put in a 304 body is dropped.
            return response.replace(body=b"")
        if response.status == 200:
            etag = response.headers.get(b"ETag")
            modified = response.headers.get(b"Last-Modified")
            self.pending[request.url] = {
                "url": request.url,
                "etag": etag.decode("latin-1") if etag else None,
                "last_modified": modified.decode("latin-1") if modified else None,
                "checked": clock.now_iso(), "status": 200}
        return response

    def spider_closed(self, spider, reason):
        pending, self.pending = self.pending, {}
        spider = spider or self.crawler.spider
        clean = reason == "finished" and not self.transient_failure
        # Through the pass: after this outlet's articles are stored, never after a
        # database error (see PassContext.save_validators).
        spider.ctx.save_validators(spider.outlet.id, list(pending.values()), clean)
