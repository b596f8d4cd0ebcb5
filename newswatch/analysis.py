"""What an extraction worker computes for one fetched page: the article
(`newswatch.extract.extract_article`) plus the keys the store looks it up by, the exact
content hash, the near-duplicate sketch and the template block fingerprints, and its
folded archive index entry for the store's backend. Computing them here, in the worker
processes, keeps the crawl's one thread for downloading and storing (hashing, shingling,
MinHash and folding cost a few ms per article)."""

from __future__ import annotations

from dataclasses import dataclass

from . import dedup, templates
from .extract import Article, extract_article
from .query.entry import ArchiveEntry, archive_entry


@dataclass
class Analysis:
    article: Article
    sketch: dedup.Sketch | None = None  # of article.text
    blocks: dict[str, str] | None = None  # templates.blocks(article.raw_paragraphs)
    folded: ArchiveEntry | None = None  # of title and text, for the store's backend


def analyse_page(html: str | bytes, url: str, *, backend: str | None = None,
                 **kwargs) -> Analysis:
    """`extract_article(html, url, **kwargs)` and, when it found an article, its keys
    (the folded index entry when the store's `backend` is given)."""
    article = extract_article(html, url, **kwargs)
    if not article.ok:
        return Analysis(article)
    folded = archive_entry(article.title, article.text, backend) if backend else None
    return Analysis(article, dedup.sketch(article.text), templates.blocks(article.raw_paragraphs),
                    folded)


def page_options(outlet, item: dict, templates_model, backend: str | None = None) -> dict:
    """`analyse_page` keyword arguments for a fetched article item of `outlet` (pops the
    item's `encoding`: the worker decodes); `backend`: the store's."""
    return {
        "backend": backend,
        "drop": tuple(outlet.drop),
        "templates": templates_model,
        "feed_title": item.get("feed_title") or item.get("sitemap_title"),
        "feed_published": item.get("feed_published"),
        "sitemap_published": item.get("sitemap_published"),
        "first_seen": item["fetched"],
        "outlet_timezone": outlet.timezone,
        "encoding": item.pop("encoding", None),
    }
