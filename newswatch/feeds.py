"""Discovery parsing (interim version by the lead; the full one replaces it)."""
from __future__ import annotations
import gzip
from dataclasses import dataclass, field
from urllib.parse import urljoin

MAX_FEED = 10 * 1024 * 1024


@dataclass
class FeedEntry:
    url: str
    title: str | None = None
    published: str | None = None
    updated: str | None = None
    summary: str | None = None


@dataclass
class SitemapEntry:
    url: str
    lastmod: str | None = None
    news_title: str | None = None
    news_published: str | None = None


@dataclass
class Sitemap:
    urls: list = field(default_factory=list)
    sitemaps: list = field(default_factory=list)


def _iso(struct) -> str | None:
    if not struct:
        return None
    import calendar
    from datetime import datetime, timezone
    return datetime.fromtimestamp(calendar.timegm(struct), timezone.utc).isoformat(timespec="seconds")


def parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    if not data or len(data) > MAX_FEED:
        return []
    try:
        import feedparser
        parsed = feedparser.parse(data)
        out = []
        for e in parsed.entries:
            link = e.get("link")
            if not link:
                continue
            out.append(FeedEntry(urljoin(base_url, link), e.get("title"),
                                 _iso(e.get("published_parsed")), _iso(e.get("updated_parsed")),
                                 e.get("summary")))
        return out
    except Exception:
        return []


def parse_sitemap(data: bytes, base_url: str) -> Sitemap:
    result = Sitemap()
    if not data:
        return result
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)[:50 * 1024 * 1024]
        from scrapy.utils.sitemap import Sitemap as ScrapySitemap
        sm = ScrapySitemap(data)
        for d in sm:
            loc = d.get("loc")
            if not loc:
                continue
            loc = urljoin(base_url, loc)
            if sm.type == "sitemapindex":
                result.sitemaps.append(loc)
            else:
                result.urls.append(SitemapEntry(loc, d.get("lastmod"), None, None))
    except Exception:
        pass
    return result


def extract_links(html, base_url: str) -> list[str]:
    try:
        import lxml.html
        if not html:
            return []
        doc = lxml.html.fromstring(html)
        seen, out = set(), []
        for a in doc.iter("a"):
            href = a.get("href")
            if not href:
                continue
            url = urljoin(base_url, href.strip())
            if url.startswith(("http://", "https://")) and url not in seen:
                seen.add(url)
                out.append(url.split("#")[0])
        return out
    except Exception:
        return []
