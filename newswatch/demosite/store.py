"""The fixture site's content: outlets.json, one JSON file per article, HTML templates.

Everything is read from disk on every request (`load_content`), so a test can add, edit or
delete article files between crawl passes and the next request sees the change.

Relative publication times ("-3h", "-26h", "-2y", "-94d23h") are resolved against an
*anchor*: `newswatch.clock.now()` at request time when NEWSWATCH_FAKE_NOW is set (so tests
move the whole site in time exactly), otherwise the minute the site was started. With the
real clock the site is therefore a stable snapshot for its lifetime: the same URLs, dates
and ETags on every request, even when a test straddles midnight.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .. import clock

BUNDLED = Path(__file__).resolve().parent / "content"

_UNITS = {"y": timedelta(days=365), "w": timedelta(weeks=1), "d": timedelta(days=1),
          "h": timedelta(hours=1), "m": timedelta(minutes=1), "s": timedelta(seconds=1)}
_RELATIVE = re.compile(r"^-((?:\d+[ywdhms])+)$")
_PART = re.compile(r"(\d+)([ywdhms])")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def anchor_time(started: datetime | None = None) -> datetime:
    """The instant relative dates count back from (see the module docstring)."""
    if os.environ.get("NEWSWATCH_FAKE_NOW") or started is None:
        return clock.now()
    return started


def site_start_time() -> datetime:
    return clock.now().replace(second=0, microsecond=0)


def resolve_time(value: str, anchor: datetime) -> datetime:
    """'-3h' -> anchor minus three hours; an ISO 8601 instant -> that instant (UTC)."""
    m = _RELATIVE.match(value.strip())
    if m:
        delta = sum((int(n) * _UNITS[u] for n, u in _PART.findall(m.group(1))), timedelta())
        return anchor - delta
    return clock.parse_iso(value)


@dataclass
class Teaser:
    headline: str
    blurb: str
    href: str  # site-relative
    article: str | None = None  # id of the article it points to, if it is one of ours


@dataclass
class Outlet:
    id: str
    name: str
    template: str
    language: str
    description: str
    appeal_after: int  # body paragraphs before the inline donation box
    teaser_count: int
    teasers: list[Teaser]


@dataclass
class Article:
    id: str
    outlet: str
    slug: str
    title: str
    author: str
    published: datetime
    modified: datetime
    in_feed: bool
    language: str
    paragraphs: list[str]
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    image: dict | None = None          # {"caption": ..., "credit": ...}
    date_markup: str = "full"          # full | meta (no JSON-LD) | dateline (visible text only)
    private: bool = False              # served under /private/ (disallowed by robots.txt)
    blockquotes: list[int] = field(default_factory=list)  # paragraph indexes shown as quotes
    links: dict[str, str] = field(default_factory=dict)    # phrase -> href, first occurrence
    expected: dict | None = None

    @property
    def path(self) -> str:
        prefix = "/private" if self.private else ""
        return f"{prefix}/news/{self.published:%Y/%m/%d}/{self.slug}"

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class Content:
    directory: Path
    outlets: dict[str, Outlet]
    articles: list[Article]  # newest first
    anchor: datetime

    def of(self, outlet_id: str, *, public: bool = True) -> list[Article]:
        return [a for a in self.articles
                if a.outlet == outlet_id and not (public and a.private)]

    def by_id(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    def template(self, outlet: Outlet | None, name: str) -> str:
        folder = self.directory / "templates"
        path = folder / outlet.template / name if outlet else folder / name
        return path.read_text(encoding="utf-8")


def load_outlets(directory: Path) -> dict[str, Outlet]:
    data = json.loads((directory / "outlets.json").read_text(encoding="utf-8"))
    outlets = {}
    for oid, o in data["outlets"].items():
        teasers = [Teaser(t["headline"], t.get("blurb", ""), t.get("href", ""), t.get("article"))
                   for t in o.get("teasers", [])]
        outlets[oid] = Outlet(oid, o["name"], o.get("template", oid), o.get("language", "en"),
                              o.get("description", ""), int(o.get("appeal_after", 1)),
                              int(o.get("teaser_count", 4)), teasers)
    return outlets


def parse_article(data: dict, anchor: datetime) -> Article:
    published = resolve_time(str(data["published"]), anchor)
    modified = resolve_time(str(data["modified"]), anchor) if data.get("modified") else published
    if not _SLUG.match(data["slug"]):
        raise ValueError(f"bad slug {data['slug']!r}")
    paragraphs = data["paragraphs"]
    if not paragraphs or not all(isinstance(p, str) for p in paragraphs):
        raise ValueError("paragraphs must be a non-empty list of strings")
    return Article(
        id=data["id"], outlet=data["outlet"], slug=data["slug"], title=data["title"],
        author=data.get("author", ""), published=published, modified=max(modified, published),
        in_feed=bool(data.get("in_feed", True)), language=data.get("language", "en"),
        paragraphs=paragraphs, summary=data.get("summary", ""), tags=data.get("tags", []),
        image=data.get("image"), date_markup=data.get("date_markup", "full"),
        private=bool(data.get("private", False)), blockquotes=data.get("blockquotes", []),
        links=data.get("links", {}), expected=data.get("expected"))


def load_content(directory: Path | str | None = None, *, started: datetime | None = None,
                 now: datetime | None = None) -> Content:
    """Read the whole content folder. Article files that do not parse are skipped, so a
    test writing a file while a request runs sees the old state, not an error page."""
    directory = Path(directory) if directory else BUNDLED
    anchor = now or anchor_time(started)
    outlets = load_outlets(directory)
    articles = []
    for path in sorted((directory / "articles").glob("*.json")):
        try:
            article = parse_article(json.loads(path.read_text(encoding="utf-8")), anchor)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if article.outlet in outlets:
            articles.append(article)
    articles.sort(key=lambda a: (a.published, a.id), reverse=True)
    return Content(directory, outlets, articles, anchor)
