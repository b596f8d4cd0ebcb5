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

import sqlite3

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

    def _db(self, spider):
        spider = spider or self.crawler.spider
        ctx = getattr(spider, "ctx", None)
        return getattr(ctx, "db", None)

    def process_request(self, request, spider=None):
        if request.meta.get("nw_kind") not in CONDITIONAL_KINDS:
            return None
        db = self._db(spider)
        if db is None or b"If-None-Match" in request.headers \
                or b"If-Modified-Since" in request.headers:
            return None
        row = db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?",
                         [request.url]).fetchone()
        if row is None or not (row[0] or row[1]):
            return None
        if row[0]:
            request.headers[b"If-None-Match"] = row[0]
        if row[1]:
            request.headers[b"If-Modified-Since"] = row[1]
        allowed = list(request.meta.get("handle_httpstatus_list", ()))
        if 304 not in allowed:
            request.meta["handle_httpstatus_list"] = [*allowed, 304]
        return None

    def _final_attempt(self, request) -> bool:
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
                                         "status": 304, "_touch": True}
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
        db = self._db(spider)
        pending, self.pending = self.pending, {}
        if db is None or not pending:
            return
        spider = spider or self.crawler.spider
        ctx = getattr(spider, "ctx", None)
        if ctx is not None:
            # Validators only after this outlet's articles are stored: a 304 next time must
            # never hide an article that is still in a buffer.
            ctx.store.flush(spider.outlet.id)
        if getattr(ctx, "fatal", None):
            # The pass stopped on a database error: its articles were not stored, so no
            # validator may be either (a 304 next time would hide those articles).
            return
        clean = reason == "finished" and not self.transient_failure
        try:
            self._save(db, pending, clean)
        except sqlite3.Error as exc:
            if ctx is None:
                raise
            ctx.abort(exc)

    def _save(self, db, pending: dict, clean: bool) -> None:
        with db.atomic():
            for row in pending.values():
                if row.pop("_touch", False):
                    db.execute("UPDATE http_cache SET checked = ?, status = 304 WHERE url = ?",
                               [row["checked"], row["url"]])
                elif clean:
                    db["http_cache"].upsert(row, pk="url")
                else:
                    # Something on this pass failed: forget the validators, so that the
                    # next pass parses the full document again and retries what failed.
                    db.execute("DELETE FROM http_cache WHERE url = ?", [row["url"]])
