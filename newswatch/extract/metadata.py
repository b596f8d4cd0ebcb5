"""Page metadata from structured data first: JSON-LD objects, <meta> tags, the title, the
author, the language and the canonical URL (dates are in `dates`)."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from .text import clean, norm

# --- structured data -----------------------------------------------------------------------

# Types whose JSON-LD node can describe the page's article (its headline, body, author).
_ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "blogposting",
                  "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle",
                  "report", "scholarlyarticle", "liveblogposting", "webpage",
                  "socialmediaposting", "techarticle", "review", "medicalwebpage",
                  "creativework", "posting", "videoobject"}


def jsonld_objects(tree) -> list[dict]:
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


def _type_name(t: str) -> str:
    """'NewsArticle', 'schema:NewsArticle', 'https://schema.org/NewsArticle' -> 'newsarticle'."""
    return t.rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip().casefold()


def types(obj: dict) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {_type_name(t)}
    if isinstance(t, list):
        return {_type_name(x) for x in t if isinstance(x, str)}
    return set()


# The kinds of node that are an article themselves (not a page, a video or a picture in it).
NEWS_TYPES = {"newsarticle", "reportagenewsarticle", "analysisnewsarticle",
              "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle",
              "askpublicnewsarticle", "liveblogposting"}
ARTICLE_KINDS = NEWS_TYPES | {"article", "blogposting", "report", "techarticle",
                              "scholarlyarticle", "socialmediaposting", "posting"}
MEDIA_TYPES = {"videoobject", "audioobject", "imageobject", "mediaobject", "clip",
               "videogallery", "imagegallery"}


def _page_key(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


def _refers_to(value: Any, page: str) -> bool:
    """A JSON-LD reference (URL string, {"@id"|"url": ...}, a list of them) to the page."""
    if value is True:  # "mainEntityOfPage": true
        return True
    if isinstance(value, str):
        return value.startswith("http") and _page_key(value) == page
    if isinstance(value, dict):
        return any(_refers_to(value.get(k), page) for k in ("@id", "url"))
    if isinstance(value, list):
        return any(_refers_to(v, page) for v in value)
    return False


def own_objects(objs: list[dict], url: str) -> list[dict]:
    """The nodes that are the page's own article: an article type, or the page's main
    entity (`mainEntityOfPage` refers to the page); news types first."""
    page = _page_key(url)
    own = [o for o in objs if types(o) & ARTICLE_KINDS
           or _refers_to(o.get("mainEntityOfPage"), page)]
    return sorted(own, key=lambda o: 0 if types(o) & NEWS_TYPES else
                  1 if types(o) & ARTICLE_KINDS else 2)


def article_objects(objs: list[dict]) -> list[dict]:
    """JSON-LD objects describing the article, the most specific kinds first."""
    arts = [o for o in objs if types(o) & _ARTICLE_TYPES]

    def rank(o: dict) -> int:
        t = types(o)
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


def meta(tree, *keys: str) -> str:
    index = _meta_index(tree)
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            for v in index.get((attr, key), ()):
                v = clean(v)
                if v:
                    return v
    return ""


# --- title ----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]\s+|\s+::\s+|\s*[｜ㅣ]\s*")


def _site_names(tree, objs: list[dict], url: str) -> set[str]:
    names = set()
    v = meta(tree, "og:site_name", "application-name", "twitter:site")
    if v:
        names.add(norm(v.lstrip("@")))
    for o in objs:
        if types(o) & {"organization", "newsmediaorganization", "website"}:
            n = o.get("name")
            if isinstance(n, str):
                names.add(norm(n))
        pub = o.get("publisher")
        if isinstance(pub, dict) and isinstance(pub.get("name"), str):
            names.add(norm(pub["name"]))
    host = urlsplit(url).hostname or ""
    parts = [p for p in host.split(".") if p not in ("www", "m", "amp", "com", "co", "org",
                                                      "net", "news")]
    if parts:
        names.add(norm(parts[0]))
        names.add(norm(".".join(parts)))
    return {n for n in names if n}


def _strip_site(title: str, sites: set[str]) -> str:
    """'Headline | Outlet' -> 'Headline' (also 'Outlet - Headline')."""
    parts = _SEPARATORS.split(title)
    if len(parts) < 2:
        return title

    def is_site(seg: str) -> bool:
        n = norm(seg)
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


def choose_title(tree, objs: list[dict], arts: list[dict], url: str,
                 feed_title: str | None) -> str | None:
    sites = _site_names(tree, objs, url)
    headline = ""
    for o in arts:
        h = o.get("headline") or (o.get("name") if types(o) & {"newsarticle", "article"}
                                  else None)
        if isinstance(h, str) and clean(h):
            headline = clean(html_lib.unescape(h))
            break
    og = meta(tree, "og:title", "twitter:title")
    h1s = [clean(h.text_content()) for h in tree.xpath("//h1")[:5]]
    h1s = [h for h in h1s if 3 <= len(h) <= 400]
    ttl = tree.xpath("//title")
    page_title = clean(ttl[0].text_content()) if ttl else ""
    # The publisher's own structured headline first, then og:title, <h1>, <title>
    # (fundus-style ground truth shows no agreement rule does better than this order).
    for cand in (headline, _strip_site(og, sites) if og else "", h1s[0] if h1s else "",
                 _strip_site(page_title, sites) if page_title else ""):
        if cand:
            return cand
    return clean(feed_title) or None


# --- author, language, canonical URL -----------------------------------------------------------

_BY = re.compile(r"^(by|von|par|por)\s+", re.I)


def choose_author(tree, arts: list[dict]) -> str | None:
    for o in arts:
        names = []
        for n in _names(o.get("author")) + _names(o.get("creator")):
            n = clean(n)
            if n and n not in names:
                names.append(n)
        if names:
            return "; ".join(names)
    for key in ("author", "article:author", "dc.creator", "DC.creator", "parsely-author",
                "sailthru.author", "byl"):
        v = meta(tree, key)
        if v and not v.startswith("http"):
            return _BY.sub("", v)
    els = tree.xpath('//*[@rel="author" or @itemprop="author" or contains(@class,"byline")]')
    for el in els[:3]:
        v = clean(el.text_content())
        if 2 < len(v) < 120:
            return _BY.sub("", v)
    return None


def choose_language(tree, objs: list[dict]) -> str | None:
    for v in tree.xpath("/html/@lang|/html/@xml:lang"):
        v = clean(v)
        if v:
            return v.split("-")[0].split("_")[0].lower()
    v = meta(tree, "og:locale", "content-language", "language")
    if v:
        return v.split("-")[0].split("_")[0].lower()
    for o in objs:
        il = o.get("inLanguage")
        if isinstance(il, str) and il:
            return il.split("-")[0].lower()
    return None


def canonical(tree, url: str) -> str | None:
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        href = href.strip()
        if href and not href.startswith(("javascript:", "#")):
            return urljoin(url, href)
    og = meta(tree, "og:url")
    if og.startswith(("http://", "https://")):
        return og
    return None
