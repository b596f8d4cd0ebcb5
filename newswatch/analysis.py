"""What an extraction worker computes for one fetched page: the article
(`newswatch.extract.extract_article`) plus the keys the store looks it up by, the exact
content hash, the near-duplicate sketch and the template block fingerprints. Computing
them here, in the worker processes, keeps the crawl's one thread for downloading and
storing (hashing, shingling and MinHash cost a few ms per article)."""

from __future__ import annotations

from dataclasses import dataclass

from . import dedup, templates
from .extract import Article, extract_article


@dataclass
class Analysis:
    article: Article
    sketch: dedup.Sketch | None = None  # of article.text
    blocks: dict[str, str] | None = None  # templates.blocks(article.raw_paragraphs)


def analyse_page(html: str | bytes, url: str, **kwargs) -> Analysis:
    """`extract_article(html, url, **kwargs)` and, when it found an article, its keys."""
    # extract_article no longer takes the unused `outlet`; pipelines/extract.py still sends
    # it, so it is dropped here until that caller stops.
    kwargs.pop("outlet", None)
    article = extract_article(html, url, **kwargs)
    if not article.ok:
        return Analysis(article)
    return Analysis(article, dedup.sketch(article.text), templates.blocks(article.raw_paragraphs))
