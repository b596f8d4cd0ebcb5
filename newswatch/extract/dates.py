"""The article's publication date, from the page's structured data, its text, the feed
and the sitemap, as an ISO 8601 UTC string."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from .metadata import meta


def to_utc(value: str, tz: str) -> str | None:
    """ISO-ish date string -> ISO 8601 UTC; naive values are in the outlet's timezone."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    try:
        zone = ZoneInfo(tz or "UTC")
    except Exception:
        zone = timezone.utc
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except Exception:
            dt = None
    if dt is None and len(value) <= 64:
        # dateparser is superlinear in its input (a 50 KB meta value took 20 s); a real
        # date string is a few dozen characters.
        try:
            import dateparser

            dt = dateparser.parse(value, settings={"RETURN_AS_TIMEZONE_AWARE": False})
        except Exception:
            dt = None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone)
    dt = dt.astimezone(timezone.utc)
    if not (1995 <= dt.year <= 2100):
        return None
    return dt.isoformat(timespec="seconds")


_META_KEYS = ("article:published_time", "og:published_time", "datePublished",
              "date", "pubdate", "publishdate", "publish-date", "publish_date",
              "sailthru.date", "dc.date.issued", "DC.date.issued", "dcterms.created",
              "parsely-pub-date", "cXenseParse:recs:publishtime", "article.published",
              "og:article:published_time")


def choose_date(tree, html: str, arts: list[dict], url: str, tz: str, feed_published,
                sitemap_published, first_seen) -> tuple[str | None, str | None]:
    for o in arts:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            d = to_utc(o.get(key) if isinstance(o.get(key), str) else "", tz)
            if d:
                return d, "jsonld"
    value = meta(tree, *_META_KEYS)
    d = to_utc(value, tz) if value else None
    if d:
        return d, "meta"
    times = tree.xpath('//time[@itemprop="datePublished"]/@datetime|'
                       '//*[@itemprop="datePublished"]/@content')
    for t in times:
        d = to_utc(t, tz)
        if d:
            return d, "meta"
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=True,
                          outputformat="%Y-%m-%dT%H:%M:%S")
    except Exception:
        found = None
    if found:
        d = to_utc(found, tz)
        if d:
            return d, "text"
    for value, source in ((feed_published, "feed"), (sitemap_published, "sitemap"),
                          (first_seen, "first_seen")):
        if isinstance(value, datetime):
            value = value.isoformat()
        d = to_utc(value, tz) if value else None
        if d:
            return d, source
    return None, None
