"""ScopeMiddleware: the crawler fetches only its outlet's own origins, over http(s).

Scrapy's OffsiteMiddleware lets `dont_filter` requests through (every feed and start URL
is one), compares host names only (another port of the same host passes) and does not look
at where a host resolves. This downloader middleware checks every request the engine
schedules, and so every redirect too (RedirectMiddleware and MetaRefreshMiddleware hand the
new request back to the engine, which sends it through here again):

- the scheme is http or https (the file, data, ftp and s3 handlers are also disabled in
  spiders/settings.py, so nothing else could be fetched even if it got this far);
- the host is one of the outlet's hosts (`newswatch.urls.same_site`) and the port is one the
  outlet's configured URLs use; an outlet on the default ports may use both 80 and 443
  (sites move between http and https), an outlet on another port only that port;
- the host resolves to public addresses only, unless the outlet sets `allow_private = true`
  (tests, intranet outlets): a public outlet's name pointed at 127.0.0.1, 10/8 or the cloud
  metadata address 169.254.169.254 is refused.

A refusal raises IgnoreRequest: the spider's errback records it as an error of the pass.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from newswatch.urls import same_site

DEFAULT_PORTS = {"http": 80, "https": 443}


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
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def _port(parts) -> int | None:
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range or not a number
        return None


def outlet_origins(urls) -> dict[str, frozenset[int]]:
    """Host -> ports the outlet may be fetched on, from its configured URLs."""
    origins: dict[str, set[int]] = {}
    for url in urls:
        parts = urlsplit(url)
        port = _port(parts)
        if not parts.hostname or port is None:
            continue
        ports = origins.setdefault(parts.hostname.lower(), set())
        ports.add(port)
        if port in DEFAULT_PORTS.values():
            ports.update(DEFAULT_PORTS.values())
    return {host: frozenset(ports) for host, ports in origins.items()}


def refusal(url: str, origins: dict[str, frozenset[int]], allow_private: bool) -> str | None:
    """Why `url` is out of scope for an outlet with these `origins`, or None if it may be
    fetched."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        return f"scheme {parts.scheme or '(none)'}: is not fetched"
    host = (parts.hostname or "").lower()
    if not host:
        return "no host"
    port = _port(parts)
    hosts = [h for h in origins if same_site(url, {h})]
    if not hosts:
        return f"host {host} is not one of the outlet's hosts"
    if not any(port in origins[h] for h in hosts):
        return f"port {port} of {host} is not one the outlet is configured on"
    if not allow_private:
        addresses = resolve(host)
        if addresses and not all(is_public_address(a) for a in addresses):
            return f"host {host} resolves to a private address ({', '.join(addresses)})"
    return None


class ScopeMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self._origins = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        outlet = (spider or self.crawler.spider).outlet
        if self._origins is None:
            self._origins = outlet_origins((*outlet.feeds, *outlet.sitemaps, *outlet.pages))
        why = refusal(request.url, self._origins, outlet.allow_private)
        if why:
            # The errback (OutletSpider.on_error) records it as an error of the pass.
            raise IgnoreRequest(f"out of scope: {why}")
        return None
