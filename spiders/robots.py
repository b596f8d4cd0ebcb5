"""robots.txt as RFC 9309 reads it, where Scrapy's RobotsTxtMiddleware does not.

Scrapy parses whatever body a robots.txt request returns, so a 500 or 503 error page
(which has no rules) means "everything allowed", and a timeout or refused connection
means the same. RFC 9309, section 2.3.1.3/2.3.1.4: when robots.txt is unreachable because
of a server or network error, the crawler MUST assume complete disallow. 4xx still means
"no robots.txt, everything allowed", and a 2xx is parsed as usual.

The decision lasts for one pass (a pass is one process): the next pass asks again.
"""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import build_from_crawler

log = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    def _disallow_all(self, netloc: str, why: str):
        log.warning("robots.txt of %s could not be read (%s): nothing on it is fetched "
                    "this pass", netloc, why)
        self._stats.inc_value("robotstxt/unreachable")
        return build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            # Parse a disallow-all file instead of the error page.
            response = response.replace(body=DISALLOW_ALL)
            self._disallow_all(netloc, f"HTTP {response.status}")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        if isinstance(exc, IgnoreRequest):
            # Refused by policy (scope) rather than unreachable: behave as Scrapy does.
            super()._robots_error(exc, netloc)
            return
        # A timeout, refused connection, reset: unreachable, so disallow all.
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        deferred = self._parsers[netloc]
        parser = self._disallow_all(netloc, type(exc).__name__)
        self._parsers[netloc] = parser
        deferred.callback(parser)

    def process_request_2(self, rp, request):
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            raise IgnoreRequest(f"forbidden by robots.txt: {request.url}") from None
