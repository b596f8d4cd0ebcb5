"""Discovery parsing: feeds, sitemaps and listing pages -> article URLs.

All three functions are pure, never raise, and bound their work:

- input over a size limit (`MAX_FEED_BYTES`, `MAX_SITEMAP_BYTES`, `MAX_PAGE_BYTES`, also
  after gunzip) gives an empty result;
- nothing external is read: every XML parser here has entity resolution, DTD loading and
  network access off, so `<!ENTITY x SYSTEM "file:///etc/passwd">` stays unread and a
  billion-laughs document is not expanded;
- feedparser is never handed the raw bytes. Its author/e-mail regular expression backtracks
  quadratically (a 31 KB `<author>` of letters, dots or dashes takes seconds). So the feed
  is first made well-formed as text (`_well_formed_text`), then parsed by lxml (recovering
  from malformed markup), text in person elements (author, dc:creator, managingEditor, ...)
  is cut to `MAX_PERSON_CHARS` and any other text to `MAX_TEXT_CHARS`, and the
  re-serialised tree goes to feedparser. Bounding the input this way keeps feedparser
  in-process; a time limit would need a subprocess per feed (a thread cannot be stopped).

The text step reads a feed as feedparser alone would, so a well-formed feed means the same
after it (tests/test_feeds.py checks this on feeds covering feedparser's test corpus):

- bytes are decoded by BOM, then the declared encoding, then UTF-8, then charset detection
  (real feeds in windows-1252 or -1251 often declare nothing);
- the DOCTYPE is removed, so lxml never sees a DTD. Its internal entities are expanded here
  when feedparser would (a value without `&` or `<`, or one character reference), at most
  `MAX_FEED_BYTES` (one large entity referenced many times is the quadratic blow-up); other
  declarations (external, nested: the billion laughs) are not expanded;
- HTML named entities XML does not define (`&nbsp;`, `&eacute;`, legal in HTML and common in
  RSS) become character references, and a `&` that starts no reference (`?a=1&b=2`) or an
  unknown name becomes `&amp;`: the text a browser would show. CDATA sections, comments and
  processing instructions are left as written.

Not defusedxml: it refuses any document that declares an entity, which loses valid feeds,
and its lxml module is deprecated; here no DTD ever reaches a parser.
"""

from __future__ import annotations

import calendar
import functools
import html.entities
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

import charset_normalizer
import lxml.etree
import lxml.html
from w3lib.encoding import html_body_declared_encoding, read_bom

from . import clock

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed
MAX_PAGE_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 50_000  # sitemaps.org: at most 50,000 URLs per sitemap
MAX_PERSON_CHARS = 256
MAX_TEXT_CHARS = 200_000
MAX_SUMMARY_CHARS = 5_000

PERSON_TAGS = frozenset({"author", "creator", "contributor", "managingEditor", "webMaster",
                         "name", "email", "publisher", "owner"})
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass
class FeedEntry:
    url: str  # absolute http(s)
    title: str | None = None
    published: str | None = None  # ISO 8601 UTC; the entry's <updated> when it has no date
    summary: str | None = None
    updated: str | None = None


@dataclass
class SitemapEntry:
    url: str
    lastmod: str | None = None  # ISO 8601 UTC
    news_title: str | None = None
    news_published: str | None = None  # ISO 8601 UTC


@dataclass
class Sitemap:
    urls: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # children of a sitemap index


# ------------------------------------------------------------------------ helpers

def _gunzip(data: bytes, limit: int) -> bytes | None:
    """`data`, decompressed if gzip, or None if it is (or unpacks to) more than `limit`."""
    if data[:2] == b"\x1f\x8b":
        from scrapy.utils.gz import gunzip  # bounded: stops at max_size, no zip bomb
        try:
            data = gunzip(data, max_size=limit)
        except Exception:  # noqa: BLE001 - too large or corrupt: nothing to read
            return None
    return data if len(data) <= limit else None


def _http_url(base_url: str, href: str | None) -> str | None:
    """`href` made absolute against `base_url`, without fragment; None unless http(s)."""
    if not href or not isinstance(href, str):
        return None
    try:
        url = urljoin(base_url, href.strip())
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts.port  # noqa: B018 - raises ValueError on a bad port
        return urlunsplit(parts._replace(fragment=""))
    except (ValueError, TypeError):
        return None


def _iso_struct(struct) -> str | None:
    try:
        return clock.to_iso(datetime.fromtimestamp(calendar.timegm(struct), timezone.utc))
    except Exception:  # noqa: BLE001 - out-of-range dates are no dates
        return None


def _iso_text(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return clock.parse_iso(text.strip()).isoformat(timespec="seconds")
    except (ValueError, OverflowError, TypeError):
        return None


def _safe_parser(encoding: str | None = None) -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(recover=True, resolve_entities=False, load_dtd=False,
                                no_network=True, huge_tree=False, remove_pis=True,
                                remove_comments=True, encoding=encoding)


def _localname(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _cap(text: str | None, limit: int) -> str | None:
    return text[:limit] if text and len(text) > limit else text


_XML_NAMES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# A DOCTYPE with its internal subset; quoted strings may hold '>' or ']'.
_DOCTYPE = re.compile(r"""<!DOCTYPE\b(?:[^\[>"']|"[^"]*"|'[^']*')*"""
                      r"""(?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\])?\s*>""", re.I)
_ENTITY_DECL = re.compile(r"""<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>""")
_CHAR_REF = re.compile(r"&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")
# Left as written (an unterminated one runs to the end of the feed).
_VERBATIM = re.compile(r"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)", re.S)
_REF_BODY = r"(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z_:][\w.:-]{0,63});"
_BARE_AMP = re.compile(r"&(?!" + _REF_BODY + ")")
_NAMED_REF = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z_:][\w.:-]{0,63});")


@functools.lru_cache(maxsize=4096)
def _html_ref(name: str) -> str:
    """`&name;` outside any DTD: character references for an HTML entity, else literal."""
    chars = html.entities.html5.get(name + ";")
    if chars is not None:
        return "".join(f"&#{ord(c)};" for c in chars)
    return "&amp;" + name + ";"


def _decode(data: bytes) -> str:
    """The feed's text: BOM, else declared encoding, else UTF-8, else detected."""
    bom_encoding, bom = read_bom(data)
    if bom_encoding and bom:
        return data[len(bom):].decode(bom_encoding, "replace")
    declared = html_body_declared_encoding(data[:4096])  # reads <?xml encoding="..."?>
    for encoding in (declared, "utf-8"):
        if encoding:
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("cp1252", "replace")


def _internal_entities(doctype: str) -> dict[str, str]:
    """Replacement text of the DOCTYPE's internal entities that feedparser expands (no '&'
    in the value, or exactly one character reference), escaped for text or attribute."""
    out = {}
    for m in _ENTITY_DECL.finditer(doctype):
        name, value = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
        if _CHAR_REF.fullmatch(value):
            out[name] = value
        elif "&" not in value and "<" not in value:
            out[name] = (value.replace(">", "&gt;").replace('"', "&quot;")
                         .replace("'", "&apos;"))
    return out


def _well_formed_text(data: bytes) -> str:
    """The feed as text without DTD and with every '&' a predefined or character reference
    (see the module docstring)."""
    text = _decode(data)
    entities: dict[str, str] = {}
    doctype = _DOCTYPE.search(text)
    if doctype and not re.search(r"<[A-Za-z]", text[:doctype.start()]):
        entities = _internal_entities(doctype.group())
        text = text[:doctype.start()] + text[doctype.end():]
    budget = MAX_FEED_BYTES

    def named(m: re.Match) -> str:
        nonlocal budget
        name = m.group(1)
        if name in entities:
            value = entities[name]
            budget -= len(value)
            return value if budget >= 0 else ""
        return _html_ref(name)

    def markup(segment: str) -> str:
        # A plain-string substitution first: a feed of bare '&' costs no Python call each.
        return _NAMED_REF.sub(named, _BARE_AMP.sub("&amp;", segment))

    out, pos = [], 0
    for m in _VERBATIM.finditer(text):
        out.append(markup(text[pos:m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(markup(text[pos:]))
    return "".join(out)


def _bounded_feed(data: bytes) -> bytes | None:
    """The feed made well-formed, parsed by lxml and re-serialised with long texts cut (see
    the module docstring), or None if lxml finds no document at all."""
    text = _well_formed_text(data)
    # UTF-8 bytes with the encoding forced: the text's own declaration may name another.
    root = lxml.etree.fromstring(text.encode("utf-8"), parser=_safe_parser("utf-8"))
    if root is None:
        return None
    for el in list(root.iter()):
        if el.tag is lxml.etree.Entity:  # cannot occur without a DTD; dropped if it does
            parent = el.getparent()
            if parent is not None:
                tail = el.tail or ""
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
                parent.remove(el)
            continue
        if not isinstance(el.tag, str):
            continue
        limit = MAX_PERSON_CHARS if _localname(el.tag) in PERSON_TAGS else MAX_TEXT_CHARS
        el.text = _cap(el.text, limit)
        el.tail = _cap(el.tail, MAX_TEXT_CHARS)
        for key, value in el.attrib.items():
            if len(value) > MAX_TEXT_CHARS:
                el.set(key, value[:MAX_TEXT_CHARS])
    return lxml.etree.tostring(root, encoding="utf-8", xml_declaration=True)


# ------------------------------------------------------------------------ feeds

def parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """Entries of an RSS/Atom/RDF feed with absolute http(s) links, in feed order, one per
    URL. Empty for anything that is not a feed or is larger than MAX_FEED_BYTES."""
    try:
        return _parse_feed(data, base_url)
    except Exception:  # noqa: BLE001 - discovery input is hostile; never crash a pass
        log.debug("feed %s: unparseable", base_url, exc_info=True)
        return []


def _parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or len(data) > MAX_FEED_BYTES:
        return []
    data = _gunzip(data, MAX_FEED_BYTES)
    if not data:
        return []
    bounded = _bounded_feed(data)
    if bounded is None:
        return []
    import feedparser

    parsed = feedparser.parse(bounded, response_headers={"content-location": base_url},
                              sanitize_html=True, resolve_relative_uris=True)
    out: list[FeedEntry] = []
    seen: set[str] = set()
    for entry in parsed.entries[:MAX_ENTRIES]:
        link = entry.get("link")
        if not link:
            guid = entry.get("id")
            link = guid if isinstance(guid, str) and guid.startswith(("http:", "https:")) \
                else None
        url = _http_url(base_url, link)
        if url is None or url in seen:
            continue
        seen.add(url)
        # dict.get: FeedParserDict.get maps a missing published_parsed to updated_parsed
        # with a DeprecationWarning; the fallback is explicit here.
        published = _iso_struct(dict.get(entry, "published_parsed"))
        updated = _iso_struct(dict.get(entry, "updated_parsed"))
        title = (entry.get("title") or "").strip() or None
        summary = _cap((entry.get("summary") or "").strip() or None, MAX_SUMMARY_CHARS)
        out.append(FeedEntry(url=url, title=title, published=published or updated,
                             summary=summary, updated=updated))
    return out


# ------------------------------------------------------------------------ sitemaps

def _scrapy_sitemap_class():
    from scrapy.utils.sitemap import Sitemap as ScrapySitemap

    class NewsSitemap(ScrapySitemap):
        """Scrapy's hardened sitemap iterator (iterparse with entities unresolved, each
        element freed after use), also reading the <news:news> block, which Scrapy's
        flat child-to-text mapping drops."""

        __slots__ = ()

        def _process_sitemap_element(self, elem):
            news = {}
            for child in elem:
                if child.tag == f"{{{NEWS_NS}}}news":
                    for sub in child:
                        name = _localname(sub.tag)
                        if name in ("title", "publication_date") and sub.text:
                            news[name] = sub.text.strip()[:1000]
            d = super()._process_sitemap_element(elem)
            if d is not None:
                d["_news"] = news
            return d

    return NewsSitemap


def parse_sitemap(data: bytes, base_url: str) -> Sitemap:
    """URLs of a sitemap (with lastmod and Google News title/date) or the child sitemaps
    of a sitemap index. Gzip bodies are unpacked (bounded). Never raises."""
    result = Sitemap()
    try:
        _parse_sitemap(data, base_url, result)
    except Exception:  # noqa: BLE001 - keep what was read before the damage
        log.debug("sitemap %s: unparseable", base_url, exc_info=True)
    return result


def _parse_sitemap(data: bytes, base_url: str, result: Sitemap) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or len(data) > MAX_SITEMAP_BYTES:
        return
    data = _gunzip(data, MAX_SITEMAP_BYTES)
    if not data:
        return
    sitemap = _scrapy_sitemap_class()(data)
    is_index = sitemap.type == "sitemapindex"
    if sitemap.type not in ("urlset", "sitemapindex"):
        return
    seen: set[str] = set()
    for item in sitemap:
        if len(seen) >= MAX_ENTRIES:
            break
        url = _http_url(base_url, item.get("loc"))
        if url is None or url in seen:
            continue
        seen.add(url)
        if is_index:
            result.sitemaps.append(url)
            continue
        news = item.get("_news") or {}
        result.urls.append(SitemapEntry(
            url=url, lastmod=_iso_text(item.get("lastmod")),
            news_title=news.get("title") or None,
            news_published=_iso_text(news.get("publication_date"))))


# ------------------------------------------------------------------------ pages

def extract_links(html: bytes | str, base_url: str) -> list[str]:
    """Absolute http(s) links of a page's <a href> (honouring <base href>), without
    fragments, deduplicated in page order. Empty for non-HTML or oversized input."""
    try:
        return _extract_links(html, base_url)
    except Exception:  # noqa: BLE001
        log.debug("page %s: unparseable", base_url, exc_info=True)
        return []


def _extract_links(html: bytes | str, base_url: str) -> list[str]:
    if isinstance(html, str):
        # lxml refuses str with an encoding declaration; bytes + a fixed encoding is exact.
        html = html.encode("utf-8", "surrogatepass")
        parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True)
    else:
        parser = lxml.html.HTMLParser(no_network=True)
    if not html or not html.strip() or len(html) > MAX_PAGE_BYTES:
        return []
    doc = lxml.html.fromstring(html, parser=parser)
    base = base_url
    for el in doc.iter("base"):
        href = el.get("href")
        if href:
            joined = _http_url(base_url, href)
            if joined:
                base = joined
            break
    out: list[str] = []
    seen: set[str] = set()
    for a in doc.iter("a"):
        url = _http_url(base, a.get("href"))
        if url and url not in seen:
            seen.add(url)
            out.append(url)
    return out
