"""Article text and metadata from one HTML page: `extract_article`, the one function the
crawler, the benchmarks and the tests call.

How the body is chosen (the rule the README quotes)
---------------------------------------------------
trafilatura in precision mode (comments off) gives the candidate body: its fast pass, or
its full pass (with the readability/jusText comparison) when the fast text is under 500
characters or under half of the page's <p> text. Two kinds of
evidence can replace it, both only when the precision result is demonstrably a *fragment*
of a larger text on the same page: the page's JSON-LD `articleBody` (or, when trafilatura
finds almost nothing, the longest prose string in a JSON script) is taken when it is at
least 1.6 times longer and already contains most (>= 80 %) of the precision text's
4-word shingles; failing that, trafilatura's recall mode is run when the precision text is
short (under 1500 characters) while the page's <p> elements hold at least twice as much
text, and taken when it is at least 3 times longer and again contains the precision text
(an empty recall result never wins). The JSON fallback also reads the JSON object literals
that inline scripts hand to the app (`window.__STATE__ = {...}`) and skips picture captions
in the HTML it holds. Two structure rules follow. A body read from the page itself gets
back text split over several containers: a <p> between its first and last paragraph whose
tag/class path (4 levels, with a class) is that of at least two of its own <p> is put back
in place, unless the body already holds its text or the <p> wraps blocks or code. And any
body loses text found inside a teaser card: a link that holds both a heading and a picture
or paragraph. Whatever body wins then loses, paragraph by paragraph, what
is boilerplate on any site: a repeat of the headline or a date/byline line at the top,
"Read more:"/"Related:"-style teasers (in the major languages), short call-to-action
paragraphs (newsletter, subscribe, donate, support us, follow us, share this), a teaser
heading ("Related", "Auch interessant") with the list under it, photo credits, teaser cards
(a headline printed twice), and lone shouting labels ("DON'T MISS"). Finally the outlet's learned templates
(`newswatch.templates`) remove paragraphs seen on many of the outlet's other pages, and the
outlet's `drop` CSS selectors are removed from the HTML before anything else runs.

Metadata comes from the page's own structured data first: title = JSON-LD `headline`,
`og:title`, `<h1>` and `<title>`, preferring one that two sources agree on, with site-name
suffixes ("| Outlet") stripped; date = JSON-LD `datePublished`, then `article:published_time`
and similar meta, then htmldate (original_date=True) on the page, then the feed entry, the
sitemap entry and first_seen, recorded in `date_source`. The *published* date is used, never
the modified one, so a page published years ago and updated today stays an old story.
Naive times are taken in the outlet's timezone and converted to UTC.

The function is pure (no I/O, no database) and never raises: any failure gives
`Article(ok=False, reason=...)`.
"""

from __future__ import annotations

import copy
import html as html_lib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

__all__ = ["Article", "extract_article"]


@dataclass
class Article:
    title: str | None = None
    text: str = ""
    paragraphs: list[str] = field(default_factory=list)
    author: str | None = None
    published: str | None = None
    date_source: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    ok: bool = False
    reason: str = ""
    body_source: str = ""  # precision | articleBody | json | recall: which rule won
    # the unfiltered candidate paragraphs (precision + recall output) for template learning
    raw_paragraphs: list[str] = field(default_factory=list, repr=False)


# --- input ------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.I)


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Bytes to text as browsers do: BOM, then the charset of the HTTP Content-Type header
    (`declared`), then the one the page declares (meta tag or XML prolog), then strict
    UTF-8, then charset detection."""
    import codecs

    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace").lstrip("\ufeff")
    candidates = [declared.encode("ascii", "ignore")] if declared else []
    head = data[:8192]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if m:
        candidates.append(m.group(1))
    for raw in candidates:
        enc = raw.decode("ascii", "ignore").strip().lower()
        try:
            codecs.lookup(enc)
        except LookupError:
            continue
        if enc in ("iso-8859-1", "latin-1", "us-ascii", "ascii"):
            enc = "cp1252"  # what browsers do
        return data.decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # detection is a nicety, never a failure
        pass
    return data.decode("cp1252", errors="replace")


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


def _not_text_reason(text: str) -> str:
    """A reason if `text` is not text (binary, mojibake), else ''."""
    sample = text[:65536]
    if not sample.strip():
        return "empty document"
    bad = len(_BAD_CHARS.findall(sample))
    if bad > max(8, len(sample) * 0.02):
        return "not text (binary or undecodable content)"
    return ""


# --- small text helpers --------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _norm(text: str) -> str:
    """Comparison key: case-folded words only."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _shingles(text: str) -> Counter:
    toks = re.findall(r"\w+", text)
    return Counter(tuple(toks[i:i + 4]) for i in range(max(1, len(toks) - 3)))


def _contained(part: str, whole: str) -> float:
    """Share of `part`'s 4-word shingles that also occur in `whole`."""
    a = _shingles(part)
    if not a:
        return 0.0
    b = _shingles(whole)
    return sum(1 for s in a if s in b) / len(a)


# --- structured data -----------------------------------------------------------------------

_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting",
                  "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle",
                  "report", "scholarlyarticle", "liveblogposting", "webpage",
                  "socialmediaposting", "techarticle", "review", "medicalwebpage",
                  "creativework", "posting", "videoobject"}


def _jsonld_objects(tree) -> list[dict]:
    out: list[dict] = []
    for script in tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:  # common breakage: raw newlines/tabs inside strings
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))
            except ValueError:
                continue
        stack = [data]
        while stack and len(out) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                out.append(item)
                for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
                    if isinstance(item.get(key), (list, dict)):
                        stack.append(item[key])
    return out


def _types(obj: dict) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.casefold()}
    if isinstance(t, list):
        return {x.casefold() for x in t if isinstance(x, str)}
    return set()


def _article_objects(objs: list[dict]) -> list[dict]:
    """JSON-LD objects describing the article, the most specific kinds first."""
    arts = [o for o in objs if _types(o) & _ARTICLE_TYPES]

    def rank(o: dict) -> int:
        t = _types(o)
        if t & {"newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                "opinionnewsarticle", "backgroundnewsarticle", "liveblogposting"}:
            return 0
        if t & {"article", "blogposting", "report", "techarticle", "scholarlyarticle"}:
            return 1
        return 2
    return sorted(arts, key=rank)


def _names(value: Any) -> list[str]:
    """Person names from a JSON-LD author value (str, dict, list)."""
    if isinstance(value, str):
        return [value] if value.strip() and not value.startswith("http") else []
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


_META_INDEX: list = [None, {}]  # (tree, index) of the page being extracted


def _meta_index(tree) -> dict:
    """All <meta> contents of a page by (attribute, key), built once per page instead of one
    full-tree XPath scan per key looked up."""
    if _META_INDEX[0] is not tree:
        index: dict = {}
        for el in tree.iter("meta"):
            content = el.get("content")
            if content is None:
                continue
            for attr in ("property", "name", "itemprop"):
                value = el.get(attr)
                if value:
                    index.setdefault((attr, value), []).append(content)
        _META_INDEX[:] = [tree, index]
    return _META_INDEX[1]


def _meta(tree, *keys: str) -> str:
    index = _meta_index(tree)
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            for v in index.get((attr, key), ()):
                v = _clean(v)
                if v:
                    return v
    return ""


# --- title ----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]\s+|\s+::\s+|\s*[｜ㅣ]\s*")


def _site_names(tree, objs: list[dict], url: str) -> set[str]:
    names = set()
    for v in (_meta(tree, "og:site_name", "application-name", "twitter:site"),):
        if v:
            names.add(_norm(v.lstrip("@")))
    for o in objs:
        if _types(o) & {"organization", "newsmediaorganization", "website"}:
            n = o.get("name")
            if isinstance(n, str):
                names.add(_norm(n))
        pub = o.get("publisher")
        if isinstance(pub, dict) and isinstance(pub.get("name"), str):
            names.add(_norm(pub["name"]))
    host = urlsplit(url).hostname or ""
    parts = [p for p in host.split(".") if p not in ("www", "m", "amp", "com", "co", "org",
                                                      "net", "news")]
    if parts:
        names.add(_norm(parts[0]))
        names.add(_norm(".".join(parts)))
    return {n for n in names if n}


def _strip_site(title: str, sites: set[str]) -> str:
    """'Headline | Outlet' -> 'Headline' (also 'Outlet - Headline')."""
    parts = _SEPARATORS.split(title)
    if len(parts) < 2:
        return title

    def is_site(seg: str) -> bool:
        n = _norm(seg)
        nc = n.replace(" ", "")
        return bool(n) and any(n == s or nc == s.replace(" ", "") or
                               (len(s) > 3 and (s in n or nc in s.replace(" ", "")))
                               for s in sites) and len(n) < 60
    changed = True
    while changed and len(parts) > 1:
        changed = False
        if is_site(parts[-1]):
            title = title[: title.rfind(parts[-1])].rstrip()
            title = re.sub(r"[\s|\-–—:·•»/]+$", "", title)
            parts = parts[:-1]
            changed = True
        elif is_site(parts[0]):
            title = title[title.find(parts[0]) + len(parts[0]):]
            title = re.sub(r"^[\s|\-–—:·•»/]+", "", title)
            parts = parts[1:]
            changed = True
    return title.strip()


def _choose_title(tree, objs: list[dict], arts: list[dict], url: str,
                  feed_title: str | None) -> str | None:
    sites = _site_names(tree, objs, url)
    headline = ""
    for o in arts:
        h = o.get("headline") or (o.get("name") if _types(o) & {"newsarticle", "article"}
                                  else None)
        if isinstance(h, str) and _clean(h):
            headline = _clean(html_lib.unescape(h))
            break
    og = _meta(tree, "og:title", "twitter:title")
    h1s = [_clean(h.text_content()) for h in tree.xpath("//h1")[:5]]
    h1s = [h for h in h1s if 3 <= len(h) <= 400]
    ttl = tree.xpath("//title")
    page_title = _clean(ttl[0].text_content()) if ttl else ""
    # The publisher's own structured headline first, then og:title, <h1>, <title>
    # (fundus-style ground truth shows no agreement rule does better than this order).
    for cand in (headline, _strip_site(og, sites) if og else "", h1s[0] if h1s else "",
                 _strip_site(page_title, sites) if page_title else ""):
        if cand:
            return cand
    return _clean(feed_title) or None


# --- dates ----------------------------------------------------------------------------------

def _to_utc(value: str, tz: str) -> str | None:
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
    dt = None
    v = value.replace("Z", "+00:00")
    v = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", v)  # +0200 -> +02:00
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

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


def _choose_date(tree, html: str, arts: list[dict], url: str, tz: str, feed_published,
                 sitemap_published, first_seen) -> tuple[str | None, str | None]:
    for o in arts:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            d = _to_utc(o.get(key) if isinstance(o.get(key), str) else "", tz)
            if d:
                return d, "jsonld"
    meta = _meta(tree, "article:published_time", "og:published_time", "datePublished",
                 "date", "pubdate", "publishdate", "publish-date", "publish_date",
                 "sailthru.date", "dc.date.issued", "DC.date.issued", "dcterms.created",
                 "parsely-pub-date", "cXenseParse:recs:publishtime", "article.published",
                 "og:article:published_time")
    d = _to_utc(meta, tz) if meta else None
    if d:
        return d, "meta"
    times = tree.xpath('//time[@itemprop="datePublished"]/@datetime|'
                       '//*[@itemprop="datePublished"]/@content')
    for t in times:
        d = _to_utc(t, tz)
        if d:
            return d, "meta"
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=True,
                          outputformat="%Y-%m-%dT%H:%M:%S")
    except Exception:
        found = None
    if found:
        d = _to_utc(found, tz)
        if d:
            return d, "text"
    for value, source in ((feed_published, "feed"), (sitemap_published, "sitemap"),
                          (first_seen, "first_seen")):
        if isinstance(value, datetime):
            value = value.isoformat()
        d = _to_utc(value, tz) if value else None
        if d:
            return d, source
    return None, None


def _choose_author(tree, arts: list[dict]) -> str | None:
    for o in arts:
        names = []
        for n in _names(o.get("author")) + _names(o.get("creator")):
            n = _clean(n)
            if n and n not in names:
                names.append(n)
        if names:
            return "; ".join(names)
    for key in ("author", "article:author", "dc.creator", "DC.creator", "parsely-author",
                "sailthru.author", "byl"):
        v = _meta(tree, key)
        if v and not v.startswith("http"):
            return re.sub(r"^(by|von|par|por)\s+", "", v, flags=re.I)
    els = tree.xpath('//*[@rel="author" or @itemprop="author" or contains(@class,"byline")]')
    for el in els[:3]:
        v = _clean(el.text_content())
        if 2 < len(v) < 120:
            return re.sub(r"^(by|von|par|por)\s+", "", v, flags=re.I)
    return None


def _choose_language(tree, objs: list[dict]) -> str | None:
    for v in tree.xpath("/html/@lang|/html/@xml:lang"):
        v = _clean(v)
        if v:
            return v.split("-")[0].split("_")[0].lower()
    v = _meta(tree, "og:locale", "content-language", "language")
    if v:
        return v.split("-")[0].split("_")[0].lower()
    for o in objs:
        il = o.get("inLanguage")
        if isinstance(il, str) and il:
            return il.split("-")[0].lower()
    return None


def _canonical(tree, url: str) -> str | None:
    from urllib.parse import urljoin

    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        href = href.strip()
        if href and not href.startswith(("javascript:", "#")):
            return urljoin(url, href)
    og = _meta(tree, "og:url")
    if og.startswith(("http://", "https://")):
        return og
    return None


# --- body -------------------------------------------------------------------------------

# Teasers that point at other stories: "Read more: ...", "Lesen Sie auch: ...".
_TEASER = re.compile(
    r"^\W{0,3}(read more|read also|also read|read next|more|see more|see also|related|"
    r"related articles?|related stories|recommended|more on this|most read|popular|"
    r"also on [\w.]+|watch|listen|don'?t miss|trending|top stories|"
    r"lesen sie (auch|mehr)|auch interessant|mehr zum thema|weiterlesen|das könnte sie "
    r"auch interessieren|lire aussi|à lire aussi|voir aussi|lee también|leer más|"
    r"lea también|leia também|veja também|leggi anche|les også|läs också|lees ook|"
    r"читайте также|читать также|также читайте|по теме)\b\s*[:|>»\-–—]",
    re.I)
# Calls to action: newsletter, subscription, donation, social and sharing prompts. Lower-case
# patterns matched against the lower-cased paragraph (several times faster than re.I).
_CTA = re.compile(
    r"(sign up|signup|subscribe|subscription|newsletter|in your inbox|to your inbox|"
    r"straight to your|donat(e|ion)|support (us|our|the|independent)|your support|"
    r"become a (member|subscriber|patron)|chip in|contribute today|"
    r"follow (us|me|him|her|them|@)|like us on|share (this|it) with|share this (story|article)|"
    r"click here|tap here|got a (story|tip)|have a tip|get in touch with|"
    r"all rights reserved|©|copyright|for your personal, non-commercial use|"
    r"download (the|our) app|enable javascript|cookies?\b|advertisement|anzeige|"
    r"jetzt abonnieren|newsletter abonnieren|abonnieren sie|unterstützen sie|"
    r"abonnez-vous|inscrivez-vous|suscríbete|suscribete|iscriviti|abonner|"
    r"подпишитесь|поддержите)")
_ADDRESS = re.compile(
    r"\b(you|your|yours|us|our|we|ihr|ihre|sie|unterstützen|vous|votre|nos|nous|"
    r"usted|nuestro|nuestra|вы|ваш|нас|наш)\b|!")
_DATE_LINE = re.compile(
    r"(\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b(19|20)\d\d\b.*\d{1,2}:\d\d|"
    r"\b\d{1,2}:\d\d\b.*\b(19|20)\d\d\b|updated|published|aktualisiert|veröffentlicht|"
    r"publicado|publié|mis à jour)", re.I)
_BYLINE = re.compile(r"^(by|von|par|por|di|door|av)\s+\S", re.I)


# A heading that opens a block of teasers: the heading and the list under it go.
_TEASER_HEADING = re.compile(
    r"^\W{0,3}(read more|related( articles| stories| content| news)?|more (from|on|stories)\b.*|"
    r"recommended( for you)?|popular|most (read|popular|viewed)|you may also like|"
    r"you might also like|trending( now)?|top stories|editor'?s picks|"
    r"auch interessant|mehr zum thema|meistgelesen|empfehlungen|das könnte sie auch interessieren|"
    r"lesen sie auch|weitere artikel|à lire aussi|lire aussi|sur le même sujet|"
    r"te puede interesar|más noticias|leia também|leggi anche|les også|läs också|"
    r"читайте также)\W{0,3}$", re.I)
_CREDIT = re.compile(r"^(photo|foto|bild|image|quelle|source|credit|fuente|kilde)s?\s*:", re.I)


def _drop_teaser_blocks(pars: list[str]) -> list[str]:
    """Remove a teaser heading and the list items ("- ...") or short lines right under it."""
    out: list[str] = []
    skipping = False
    for par in pars:
        if _TEASER_HEADING.match(par):
            skipping = True
            continue
        if skipping and par.startswith(("- ", "• ", "* ")):
            continue
        skipping = False
        out.append(par)
    return out


def _boilerplate(par: str, title_norm: str, position: int) -> bool:
    """True when a paragraph is boilerplate on any site (see the module docstring)."""
    n = _norm(par)
    if not n:
        return True
    if title_norm and n == title_norm:
        return True
    if _TEASER.match(par):
        return True
    words_list = n.split()
    half = len(words_list) // 2
    if 3 <= half <= 30 and len(words_list) % 2 == 0 and words_list[:half] == words_list[half:]:
        return True  # a teaser card: headline printed twice
    if position < 2 and title_norm and title_norm in n and len(words_list) <= len(
            title_norm.split()) + 8:
        return True  # the headline with its kicker
    if len(words_list) <= 8 and _CREDIT.match(par):
        return True
    words = len(words_list)
    # A call to action addresses the reader; news about donations or subscriptions
    # ("anyone who donates to it risks charges") does not, and stays.
    if words <= 40 and _CTA.search(low := par.lower()) and (words <= 12 or _ADDRESS.search(low)):
        return True
    if words <= 4 and par.strip().isupper() and len(par.strip()) > 3:
        return True  # "DON'T MISS", "RELATED"
    if position < 3 and words <= 14 and (_DATE_LINE.search(par) or _BYLINE.match(par)):
        return True
    return False


def _undouble(par: str) -> str:
    """A long paragraph that is the same text twice (seen in JSON-LD articleBody) -> once."""
    if len(par) < 120:
        return par  # too short to hold 2 x 31 words
    toks = re.findall(r"\w+", par)
    half = len(toks) // 2
    if half <= 30 or len(toks) % 2 or toks[0].casefold() != toks[half].casefold():
        return par
    if all(toks[i].casefold() == toks[i + half].casefold() for i in range(half)):
        second = list(re.finditer(r"\w+", par))[half]
        return par[: second.start()].strip()
    return par


def _paragraphs(text: str) -> list[str]:
    return [_undouble(p) for p in (_clean(x) for x in (text or "").split("\n")) if p]


def _traf(tree, url: str, **kw) -> str:
    import trafilatura

    try:
        return trafilatura.extract(tree, url=url, include_comments=False, include_tables=True,
                                   output_format="txt", with_metadata=False,
                                   deduplicate=False, **kw) or ""
    except Exception:
        return ""


def _script_json(scripts):
    """JSON values in the page's scripts: whole JSON scripts, and JSON object literals that
    inline scripts hand to the app (`window.__STATE__ = {...}`, `cache.push({...})`)."""
    decoder = json.JSONDecoder()
    for script in scripts:
        raw = script.text or ""
        if len(raw) < 400 or script.get("src"):
            continue
        if "json" in (script.get("type") or "") or script.get("id") == "__NEXT_DATA__":
            try:
                yield json.loads(raw)
            except ValueError:
                pass
            continue
        pos, tries = raw.find('{"'), 0
        while pos >= 0 and tries < 20:
            tries += 1
            try:
                value, end = decoder.raw_decode(raw, pos)
            except ValueError:
                end = pos + 2
            else:
                yield value
            pos = raw.find('{"', end)


def _in_caption(el) -> bool:
    """A picture caption, not body text: inside <figure>/<figcaption> or a "caption" box."""
    return any(x.tag in ("figure", "figcaption") or "caption" in (x.get("class") or "").lower()
               for x in el.iterancestors())


def _json_prose(scripts) -> str:
    """The longest prose-like string in the JSON of the page's <script> elements (server-side
    app state)."""
    best = ""
    for data in _script_json(scripts):
        stack = [data]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                stack.extend(x.values())
            elif isinstance(x, list):
                stack.extend(x)
            elif isinstance(x, str) and len(x) > len(best) and x.count(" ") > 40:
                best = x
    if "<" in best and ">" in best:
        try:
            import lxml.html

            frag = lxml.html.fragment_fromstring(best, create_parent="div")
            best = "\n".join(_clean(p.text_content()) for p in frag.iter("p", "h2", "h3", "li")
                             if not _in_caption(p)) or _clean(frag.text_content())
        except Exception:
            best = re.sub(r"<[^>]+>", " ", best)
    return best


def _p_text(tree) -> int:
    return sum(len(p.text_content()) for p in tree.iter("p"))


def _shape(el) -> tuple:
    """Where a <p> sits: its own and its three nearest ancestors' tag and class."""
    out = []
    for x in (el, *el.iterancestors()):
        out.append((x.tag, x.get("class") or ""))
        if len(out) == 4:
            break
    return tuple(out)


# inside a <p>, these mean widgets or code, not a paragraph of prose
_NOT_PROSE = {"script", "style", "noscript", "template", "iframe", "div", "section", "aside",
              "ul", "ol", "li", "table", "figure", "p", "h1", "h2", "h3", "h4", "h5", "h6"}


def _plain_paragraph(el) -> bool:
    return not any(x.tag in _NOT_PROSE for x in el.iterdescendants())


def _add_same_shape(tree, pars: list[str]) -> list[str]:
    """Body text split over several containers (ads or link blocks in between): a <p>
    between the body's first and last paragraph, shaped exactly like at least two of the
    body's own <p> (same tag/class path, with a class), is body text too; it is inserted at
    its place in the page unless the body already holds its text."""
    where: dict[int, int] = {}  # body paragraph index -> position among the page's <p>
    index: dict[str, int] = {}
    for i, p in enumerate(pars):
        index.setdefault(" ".join(p.split()), i)
    ps = []
    shapes: Counter = Counter()
    for el in tree.iter("p"):
        text = el.text_content()
        key = " ".join(text.split())  # cheap key: most body paragraphs are one whole <p>
        ps.append((el, text, key))
        i = index.get(key)
        if key and i is not None and i not in where:
            where[i] = len(ps) - 1
            shapes[_shape(el)] += 1
    # an unstyled <p> in an unstyled container says nothing about where it sits
    body_shapes = {s for s, c in shapes.items() if c >= 2 and (s[0][1] or s[1][1])}
    if not body_shapes:
        return pars
    seen = set(index)
    body = _norm("\n".join(pars))
    body_shingles: Counter | None = None
    extra: list[tuple[int, str]] = []
    lo, hi = min(where.values()), max(where.values())
    for pos, (el, text, key) in enumerate(ps[lo:hi], lo):
        if not key or key in seen or _shape(el) not in body_shapes or not _plain_paragraph(el):
            continue
        n = _norm(text)
        if not n or n in body:
            continue
        if body_shingles is None:
            body_shingles = _shingles(body)
        mine = _shingles(n)
        if sum(1 for s in mine if s in body_shingles) >= 0.5 * len(mine):
            continue  # the body has it already, split or worded slightly differently
        seen.add(key)
        extra.append((pos, _clean(text)))
    if not extra:
        return pars
    out: list[str] = []
    k = 0
    for i, p in enumerate(pars):
        if i in where:
            while k < len(extra) and extra[k][0] < where[i]:
                out.append(extra[k][1])
                k += 1
        out.append(p)
    out.extend(t for _, t in extra[k:])
    return out


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _drop_link_cards(tree, pars: list[str]) -> list[str]:
    """A link holding both a heading and a picture or paragraph is a teaser card for another
    story: body paragraphs found inside one are dropped."""
    cards: list[str] = []
    parts: set[str] = set()  # the card's blocks, whose texts text_content() glues together
    done: set = set()
    for h in tree.iter(*_HEADINGS):
        for a in h.iterancestors("a"):
            if a in done or next(a.iter("img", "picture", "p"), None) is None:
                continue
            done.add(a)
            cards.append(f" {_norm(a.text_content())} ")
            parts.update(_norm(x.text_content())
                         for x in a.iter("p", "div", "span", *_HEADINGS))
    if not cards:
        return pars
    out = []
    for p in pars:
        n = _norm(p)
        if len(n) >= 20 and (n in parts or any(f" {n} " in c for c in cards)):
            continue
        out.append(p)
    return out


# trafilatura's precision pass without its readability/jusText comparison is accepted when
# its text is substantial: at least FAST_MIN_CHARS (jusText is only consulted below 250) and
# at least half of the page's <p> text (readability replaces trafilatura's result only when
# its own is more than twice as long, which it then can hardly be). The comparison is a
# third of the pass's cost; on the zyte and fundus pages it changed 8 texts of 284, all
# below these bounds, and skipping it elsewhere leaves every score the same.
FAST_MIN_CHARS = 500
FAST_MIN_SHARE = 0.5


def _precise_text(tree, url: str):
    """trafilatura in precision mode: the fast pass first, the full one (with its external
    comparison) when the fast text is short for the page. Returns the text and the tree as
    the kept pass left it (trafilatura prunes the tree it is given; later rules read it)."""
    pristine = copy.deepcopy(tree)
    page_text = _p_text(tree)
    text = _traf(tree, url, favor_precision=True, fast=True)
    if len(text) >= FAST_MIN_CHARS and len(text) >= FAST_MIN_SHARE * page_text:
        return text, tree
    return _traf(pristine, url, favor_precision=True), pristine


def _choose_body(tree, url: str, arts: list[dict], title_norm: str = "",
                 scripts=None) -> tuple[list[str], str, list[str]]:
    """`scripts`: the page's <script> elements, when they were taken out of `tree`."""
    if scripts is None:
        scripts = list(tree.iter("script"))
    precise_text, tree = _precise_text(tree, url)
    raw = _paragraphs(precise_text)
    # the headline repeated on top is not evidence about the body
    precise = "\n".join(p for p in raw if _norm(p) != title_norm)
    body, source = precise, "precision"
    article_body = ""
    for o in arts:
        ab = o.get("articleBody")
        if isinstance(ab, str) and len(ab) > len(article_body):
            article_body = ab
    if article_body and "<" in article_body and ">" in article_body:
        article_body = re.sub(r"<[^>]+>", "\n", article_body)
    if (article_body and len(article_body) >= 1.6 * len(precise)
            and (len(precise) < 0.25 * len(article_body)
                 or _contained(precise, article_body) >= 0.8)):
        body, source = article_body, "articleBody"
    elif len(precise) < 1500 and (not precise or _p_text(tree) >= 2 * len(precise)):
        # recall mode costs a second pass: only when the page's <p> text shows there is
        # clearly more article than the precise pass found
        recall = _traf(tree, url, favor_recall=True)
        raw += [p for p in _paragraphs(recall) if p not in raw]
        if recall and len(recall) >= 3 * len(precise) and (
                not precise or _contained(precise, recall) >= 0.8):
            body, source = recall, "recall"
        elif len(precise) < 200:
            prose = _json_prose(scripts)
            if len(prose) >= 3 * max(1, len(precise)):
                body, source = prose, "json"
    pars = _paragraphs(body)
    if source in ("precision", "recall"):
        pars = _add_same_shape(tree, pars)
    return _drop_link_cards(tree, pars), source, raw


# elements whose content is never article text (read for metadata before they go)
_NO_TEXT = ("script", "style", "svg", "noscript", "template", "link")


def _drop_selectors(tree, drop: Sequence[str]) -> None:
    for sel in drop or ():
        try:
            for el in tree.cssselect(sel):
                parent = el.getparent()
                if parent is not None:
                    el.drop_tree()
        except Exception:
            continue  # a bad selector is a config problem, reported by config validation


# --- entry point ------------------------------------------------------------------------------

def extract_article(html: str | bytes, url: str, outlet: str | None = None, *,
                    drop: Sequence[str] = (), templates=None, feed_title=None,
                    feed_published=None, sitemap_published=None, first_seen=None,
                    outlet_timezone: str = "UTC", encoding: str | None = None) -> Article:
    """Title, text and metadata of one article page (text, or bytes with the charset of the
    HTTP header in `encoding`). Never raises."""
    try:
        return _extract(html, url, outlet, drop, templates, feed_title, feed_published,
                        sitemap_published, first_seen, outlet_timezone, encoding)
    except RecursionError:
        return Article(ok=False, reason="document too deeply nested")
    except Exception as exc:  # the crawler must go on; the reason is logged and stored
        return Article(ok=False, reason=f"extraction failed: {type(exc).__name__}: {exc}"[:300])


def _extract(html, url, outlet, drop, templates, feed_title, feed_published,
             sitemap_published, first_seen, tz, encoding=None) -> Article:
    if html is None:
        return Article(ok=False, reason="empty document")
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if not data.strip():
            return Article(ok=False, reason="empty document")
        if data[:4] in (b"%PDF", b"\x89PNG", b"GIF8", b"PK\x03\x04") or data[:3] == b"\xff\xd8\xff":
            return Article(ok=False, reason="not text (binary content)")
        html = decode_html(data, encoding)
    if not isinstance(html, str):
        return Article(ok=False, reason="not text")
    reason = _not_text_reason(html)
    if reason:
        return Article(ok=False, reason=reason)

    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return Article(ok=False, reason="unparseable HTML")
    _drop_selectors(tree, drop)

    objs = _jsonld_objects(tree)
    arts = _article_objects(objs)
    title = _choose_title(tree, objs, arts, url, feed_title)
    published, date_source = _choose_date(tree, html, arts, url, tz, feed_published,
                                          sitemap_published, first_seen)
    title_norm = _norm(title or "")
    author = _choose_author(tree, arts)
    language = _choose_language(tree, objs)
    canonical = _canonical(tree, url)
    # Metadata is read; what is left for the body never holds article text. Taking it out
    # before trafilatura saves its XPath passes about a sixth of their work on real pages
    # (the output is the same); the scripts are kept aside for the JSON fallback.
    scripts = list(tree.iter("script"))
    etree.strip_elements(tree, *_NO_TEXT, etree.Comment, with_tail=False)
    paragraphs, source, raw = _choose_body(tree, url, arts, title_norm, scripts)

    kept = []
    for i, par in enumerate(_drop_teaser_blocks(paragraphs)):
        if not _boilerplate(par, title_norm, i):
            kept.append(par)
    if templates is not None:
        try:
            kept = templates.filter(kept)
        except Exception:
            pass
    art = Article(
        title=title, paragraphs=kept, text="\n\n".join(kept),
        author=author, published=published, date_source=date_source,
        language=language, canonical_url=canonical,
        body_source=source, raw_paragraphs=raw,
    )
    if not kept:
        art.ok, art.reason = False, "no article text found"
    elif _not_text_reason(art.text):
        art.ok, art.reason, art.text, art.paragraphs = False, "extracted text is not text", "", []
    else:
        art.ok = True
    return art
