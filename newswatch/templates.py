"""Per-outlet templates: text blocks that recur across an outlet's pages (donation appeals,
newsletter boxes, "A message from ..." footers, teaser lists) are template, not article.

Each paragraph is reduced to a fingerprint (case-folded words, digits folded to 0, so
"3 days left" and "2 days left" are one block) and counted once per page in
`template_blocks` (`pages` = on how many distinct pages of the outlet it was seen);
`template_pages` records which (outlet, url) pages were counted, which makes `learn`
idempotent per URL (a re-crawl or a correction does not count twice). A paragraph
repeated within one page still counts once: the count is across pages, never within one,
so an article that quotes an appeal once keeps it.

A fingerprint is template when it was seen on at least `min_pages` (3) distinct pages and
on at least `min_share` (10 %) of the outlet's counted pages. The share stops an outlet's
stock background sentence, repeated in a handful of stories of a series, from becoming
template once the outlet has many pages.

What is learned: the *raw* candidate paragraphs of each page, i.e. trafilatura's precision
output before any boilerplate rule or template filter, plus the recall-mode output when
extraction ran it (`Article.raw_paragraphs`). Learning from raw candidates rather than from
the final text matters: a box that the precise extraction removes on most pages but lets
through on some is still seen (and counted) on every page where it was a candidate, so it is
learned and then removed where it slips through; learning from the already-filtered text
would count it only on the pages where it leaked and learn it late or never. Learning from
the whole page (navigation, footers) was rejected: those blocks never reach stored text, and
they would multiply the table's size.

`TemplateModel` is a plain, picklable snapshot (a frozenset of fingerprints), loaded once per
outlet per pass and shipped to extraction worker processes; `extract_article(...,
templates=model)` calls `model.filter(paragraphs)`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from . import clock

MIN_PAGES = 3
MIN_SHARE = 0.10
_WORD = re.compile(r"\w+")


def fingerprint(paragraph: str) -> str | None:
    """A stable key for a paragraph, or None for one too short to be a block (one word)."""
    if not isinstance(paragraph, str):
        return None
    text = unicodedata.normalize("NFKC", paragraph).casefold()
    words = _WORD.findall(re.sub(r"\d", "0", text))
    if len(words) < 2:
        return None
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=10).hexdigest()


@dataclass(frozen=True)
class TemplateModel:
    """Snapshot of one outlet's learned template blocks."""

    outlet: str = ""
    fingerprints: frozenset = field(default_factory=frozenset)
    pages: int = 0  # how many pages of the outlet had been counted

    @classmethod
    def load(cls, store, outlet: str, *, min_pages: int = MIN_PAGES,
             min_share: float = MIN_SHARE) -> "TemplateModel":
        # a block counts on at least min_pages pages and min_share of them (one read)
        total, fingerprints = store.template_model(outlet, min_pages, min_share)
        return cls(outlet, frozenset(fingerprints), total)

    def is_template(self, paragraph: str) -> bool:
        fp = fingerprint(paragraph)
        return fp is not None and fp in self.fingerprints

    def filter(self, paragraphs: Iterable[str]) -> list[str]:
        """The paragraphs that are not template blocks, in order."""
        if not self.fingerprints:
            return list(paragraphs)
        return [p for p in paragraphs if not self.is_template(p)]

    def __len__(self) -> int:
        return len(self.fingerprints)


def blocks(paragraphs: Iterable[str]) -> dict[str, str]:
    """The distinct blocks of one page: fingerprint -> sample text (what `learn` counts)."""
    found: dict[str, str] = {}
    for p in paragraphs:
        fp = fingerprint(p)
        if fp is not None and fp not in found:
            found[fp] = p[:300]
    return found


def learn(store, outlet: str, url: str, paragraphs: Iterable[str] = (), *,
          page_blocks: dict[str, str] | None = None) -> None:
    """Count each distinct block of one page once (`page_blocks`: `blocks(paragraphs)`
    computed beforehand, e.g. in an extraction worker); nothing changes when this
    (outlet, url) was already counted."""
    if page_blocks is None:
        page_blocks = blocks(paragraphs)
    store.learn_template_page(outlet, url, page_blocks, clock.now_iso())


def prune(store, older_than: str, outlet: str | None = None) -> int:
    """Forget blocks seen on a single page and not since `older_than` (ISO 8601): article
    paragraphs, which would otherwise grow the table with every page. Returns rows deleted."""
    return store.prune_template_blocks(older_than, outlet)
