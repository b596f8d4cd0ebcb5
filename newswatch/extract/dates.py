"""The article's publication date, from the page's structured data, its text, the feed
and the sitemap, as an ISO 8601 UTC string."""

from __future__ import annotations

import re

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from .metadata import MEDIA_TYPES, meta, own_objects, types


_TIME = re.compile(r"\d{1,2}:\d\d")


def parse_date(value: str, tz: str) -> tuple[datetime, bool] | None:
    """A date string -> (aware datetime, whether it holds a time of day); naive values are
    in the outlet's timezone `tz`."""
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
    if not (1995 <= dt.astimezone(timezone.utc).year <= 2100):
        return None
    return dt, bool(_TIME.search(value))


def _iso_utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def to_utc(value: str, tz: str) -> str | None:
    """ISO-ish date string -> ISO 8601 UTC; naive values are in the outlet's timezone."""
    parsed = parse_date(value, tz)
    return _iso_utc(parsed[0]) if parsed else None


_META_KEYS = ("article:published_time", "og:published_time", "datePublished",
              "date", "pubdate", "publishdate", "publish-date", "publish_date",
              "sailthru.date", "dc.date.issued", "DC.date.issued", "dcterms.created",
              "parsely-pub-date", "cXenseParse:recs:publishtime", "article.published",
              "og:article:published_time")


def _days(dt: datetime, tz: str) -> set:
    """The calendar days an instant falls on: in its own offset, in UTC, in the outlet's."""
    days = {dt.date(), dt.astimezone(timezone.utc).date()}
    try:
        days.add(dt.astimezone(ZoneInfo(tz or "UTC")).date())
    except Exception:
        pass
    return days


def _candidates(tree, arts: list[dict], own: list[dict], url: str, feed_published,
                sitemap_published):
    """(value, source) pairs, most trusted first, produced lazily: htmldate runs only when
    no earlier source gave an exact time."""
    for o in own:  # the page's own article node (issue 17: not an embedded video's)
        for key in ("datePublished", "dateCreated", "uploadDate"):
            if isinstance(o.get(key), str):
                yield o[key], "jsonld"
    yield meta(tree, *_META_KEYS), "meta"
    for t in tree.xpath('//time[@itemprop="datePublished"]/@datetime|'
                        '//*[@itemprop="datePublished"]/@content'):
        yield t, "meta"
    for o in arts:  # other nodes (a WebPage's date), never a media object's
        if o not in own and not types(o) & MEDIA_TYPES:
            for key in ("datePublished", "dateCreated"):
                if isinstance(o.get(key), str):
                    yield o[key], "jsonld"
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=True,
                          outputformat="%Y-%m-%dT%H:%M:%S")
    except Exception:
        found = None
    if found:  # htmldate writes 00:00:00 when it found a day only
        yield found.removesuffix("T00:00:00"), "text"
    for value, source in ((feed_published, "feed"), (sitemap_published, "sitemap")):
        yield (value.isoformat() if isinstance(value, datetime) else value), source


def choose_date(tree, arts: list[dict], url: str, tz: str, feed_published,
                sitemap_published, first_seen) -> tuple[str | None, str | None]:
    """The first date of the most trusted source; when it is a day without a time, the
    first exact time of a later source on the same day replaces it (a feed's 05:23 GMT
    beats a bare date found in the page text). first_seen only when nothing else dates
    the page."""
    own = own_objects(arts, url)
    first = None  # (datetime, source) of a date-only value
    for value, source in _candidates(tree, arts, own, url, feed_published, sitemap_published):
        parsed = parse_date(value, tz) if value else None
        if parsed is None:
            continue
        dt, exact = parsed
        if first is None:
            if exact:
                return _iso_utc(dt), source
            first = (dt, source)
        elif exact and first[0].date() in _days(dt, tz):
            return _iso_utc(dt), source
    if first is not None:
        return _iso_utc(first[0]), first[1]
    if isinstance(first_seen, datetime):
        first_seen = first_seen.isoformat()
    d = to_utc(first_seen, tz) if first_seen else None
    return (d, "first_seen") if d else (None, None)
