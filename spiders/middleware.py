"""ScopeMiddleware: the crawler fetches only its outlet's own hosts, over http(s).

Scrapy's OffsiteMiddleware lets `dont_filter` requests through (every feed and start URL
is one) and does not look at where a host resolves. This middleware checks every request,
redirects included (Scrapy's RedirectMiddleware re-schedules them through here), and
refuses private, loopback and link-local addresses unless the outlet sets
`allow_private = true` (tests, intranet outlets).
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from newswatch.urls import same_site


@lru_cache(maxsize=4096)
def resolve(host: str) -> tuple[str, ...]:
    try:
        return tuple(sorted({info[4][0] for info in socket.getaddrinfo(host, None)}))
    except (OSError, UnicodeError):
        return ()


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_global


def refusal(url: str, hosts: set[str], allow_private: bool) -> str | None:
    """Why `url` is out of scope for an outlet with `hosts`, or None if it may be fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'}: is not fetched"
    if not parts.hostname or not same_site(url, hosts):
        return f"host {parts.hostname} is not one of the outlet's hosts"
    if not allow_private:
        addresses = resolve(parts.hostname)
        if addresses and not all(is_public_address(a) for a in addresses):
            return f"host {parts.hostname} resolves to a private address"
    return None


class ScopeMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        outlet = getattr(spider, "outlet", None)
        if outlet is None:
            return None
        why = refusal(request.url, spider.hosts, outlet.allow_private)
        if why:
            spider.stats_.error(f"{request.url}: refused: {why}")
            raise IgnoreRequest(why)
        return None
