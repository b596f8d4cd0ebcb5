"""robots.txt as RFC 9309 reads it, where Scrapy's RobotsTxtMiddleware does not.

Scrapy parses whatever body a robots.txt request returns, so a 500 or 503 error page
(which has no rules) means "everything allowed", and a timeout or refused connection
means the same. RFC 9309, section 2.3.1.3/2.3.1.4: when robots.txt is unreachable because
of a server or network error, the crawler MUST assume complete disallow. 4xx still means
"no robots.txt, everything allowed", and a 2xx is parsed as usual.

A request refused because robots.txt could not be read says so, with the real cause
("robots.txt unreachable: connection refused"), not "forbidden by robots.txt": that is
what the run records and `status` shows. Scrapy's own traceback for it is not logged.

The decision lasts for one pass (a pass is one process): the next pass asks again.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

log = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"

# Exception class names (Scrapy's and Twisted's) -> what an operator reads.
CAUSES = {
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "TimeoutError": "timed out",
    "DownloadTimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "UserTimeoutError": "timed out",
    "DNSLookupError": "DNS lookup failed",
    "ConnectionLost": "connection lost",
    "ConnectionDone": "connection closed",
    "ResponseNeverReceived": "no response",
    "ConnectionResetError": "connection reset",
}


def cause(exc: BaseException) -> str:
    """A short, human cause of a download failure: "connection refused", "HTTP 503"."""
    response = getattr(exc, "response", None)
    if getattr(response, "status", None) is not None:
        return f"HTTP {response.status}"
    if isinstance(exc, IgnoreRequest):
        return str(exc) or "refused"
    for klass in type(exc).__mro__:
        if klass.__name__ in CAUSES:
            return CAUSES[klass.__name__]
    text = str(exc).strip().rstrip(".")
    return text or type(exc).__name__


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self._unreachable: dict[str, str] = {}  # netloc -> why robots.txt was not read

    def _disallow_all(self, netloc: str, why: str):
        self._unreachable[netloc] = why
        log.debug("robots.txt of %s unreachable (%s): nothing on it is fetched this pass",
                  netloc, why)
        self._stats.inc_value("robotstxt/unreachable")
        return build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)

    async def robot_parser(self, request):
        # Scrapy's, without its ERROR log and traceback for a robots.txt that could not be
        # downloaded: the refusal carries the cause instead (process_request_2).
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            url = urlparse_cached(request)
            robotsreq = Request(f"{url.scheme}://{netloc}/robots.txt",
                                priority=self.DOWNLOAD_PRIORITY,
                                meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # noqa: BLE001 - every failure means disallow (RFC 9309)
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            # Parse a disallow-all file instead of the error page.
            status = response.status
            response = response.replace(body=DISALLOW_ALL)
            self._disallow_all(netloc, f"HTTP {status}")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        if isinstance(exc, IgnoreRequest):
            # Refused by policy (scope) rather than unreachable: behave as Scrapy does.
            super()._robots_error(exc, netloc)
            return
        # A timeout, refused connection, reset: unreachable, so disallow all.
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        deferred = self._parsers[netloc]
        parser = self._disallow_all(netloc, cause(exc))
        self._parsers[netloc] = parser
        deferred.callback(parser)

    def process_request_2(self, rp, request):
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            netloc = urlparse_cached(request).netloc
            if netloc in self._unreachable:
                raise IgnoreRequest(
                    f"robots.txt unreachable: {self._unreachable[netloc]}") from None
            raise IgnoreRequest("forbidden by robots.txt") from None



