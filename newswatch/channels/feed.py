"""A watch's latest matching stories as a feed: Atom 1.0 and RSS 2.0 through feedgen,
JSON Feed 1.1 as plain JSON. Entry ids are the canonical URLs, so a reader never shows a
story twice; every text is article-derived and so escaped by the XML writer.

A feed cannot group entries, so each story's thread is a category (`thread:<id>`, labelled
with the thread's first report's title; a JSON Feed tag): a reader that filters by category
shows one thread's reports together. Only what never changes goes in (not the report count,
which grows: an entry would change with every fetch)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from .. import clock

FORMATS = ("atom", "json", "rss")
MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml",
               "json": "application/feed+json"}
# XML 1.0 forbids these; lxml refuses them, so they go (a bidi control is legal and escaped).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    return _XML_ILLEGAL.sub("", str(value or ""))


def _when(iso: str | None) -> datetime:
    if iso:
        try:
            dt = clock.parse_iso(iso)
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


def _thread_term(s: Mapping[str, Any]) -> tuple[str, str] | None:
    t = s.get("thread") or {}
    if t.get("id") is None:
        return None
    return f"thread:{int(t['id'])}", _text(t.get("title")) or f"thread {int(t['id'])}"


def _http(url: Any) -> str | None:
    url = _text(url).strip()
    return url if re.match(r"https?://", url, re.I) else None


def render_feed(watch: str, query: str, stories: Sequence[Mapping[str, Any]], *,
                fmt: str = "atom", self_url: str | None = None,
                home_url: str | None = None, now: datetime | None = None) -> str:
    """`stories`: newest first, each with url, title, outlet, published, first_seen,
    snippet. Returns the document as text."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r} (atom, json, rss)")
    now = now or clock.now()
    updated = max([_when(s.get("first_seen") or s.get("published")) for s in stories],
                  default=now)
    title = _text(f"newswatch: {watch}")
    subtitle = _text(f"Stories matching {query}")
    if fmt == "json":
        return _json_feed(title, subtitle, stories, self_url, home_url)
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(self_url or f"urn:newswatch:watch:{watch}")
    fg.title(title)
    fg.subtitle(subtitle)  # RSS needs a description
    fg.updated(updated)
    fg.generator("newswatch")
    fg.link(href=home_url or self_url or "http://localhost/", rel="alternate")
    if self_url:
        fg.link(href=self_url, rel="self")
    if fmt == "rss":
        fg.load_extension("dc")
    for s in reversed(list(stories)):  # feedgen prepends: oldest first keeps newest on top
        url = _http(s.get("url"))
        if not url:
            continue
        fe = fg.add_entry()
        fe.id(url)
        fe.guid(url, permalink=True)
        fe.title(_text(s.get("title")) or url)
        fe.link(href=url)
        seen = _when(s.get("first_seen") or s.get("published"))
        fe.updated(seen)
        if s.get("published"):
            fe.published(_when(s.get("published")))
        summary = _text(s.get("snippet"))
        if summary:
            fe.summary(summary) if fmt == "atom" else fe.description(summary)
        thread = _thread_term(s)
        if thread:
            # RSS keeps only a category's text (its domain is a URL): the term, not the label
            if fmt == "atom":
                fe.category(term=thread[0], label=thread[1])
            else:
                fe.category(term=thread[0])
        outlet = _text(s.get("outlet"))
        if outlet:
            if fmt == "atom":
                fe.author({"name": outlet})
            else:
                fe.dc.dc_creator(outlet)
    out = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return out.decode("utf-8")


def _json_feed(title, subtitle, stories, self_url, home_url) -> str:
    items = []
    for s in stories:
        url = _http(s.get("url"))
        if not url:
            continue
        item = {"id": url, "url": url, "title": _text(s.get("title")) or url,
                "content_text": _text(s.get("snippet")) or _text(s.get("title")) or url,
                "date_modified": clock.to_iso(_when(s.get("first_seen") or s.get("published")))}
        if s.get("published"):
            item["date_published"] = clock.to_iso(_when(s.get("published")))
        if s.get("outlet"):
            item["authors"] = [{"name": _text(s.get("outlet"))}]
        thread = _thread_term(s)
        if thread:
            item["tags"] = [thread[0]]
        items.append(item)
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": title,
           "description": subtitle, "items": items}
    if home_url:
        doc["home_page_url"] = home_url
    if self_url:
        doc["feed_url"] = self_url
    return json.dumps(doc, ensure_ascii=False, indent=2)
