"""Article text and metadata from one HTML page: `extract_article`, the one function the
crawler, the benchmarks and the tests call.

Rooms: `decode` (bytes to text), `metadata` (JSON-LD, <meta>, title, author, language,
canonical URL), `dates` (the publication date), `body` (trafilatura's passes and the JSON
fallbacks), `structure` and `boilerplate` (newswatch's own rules on top of trafilatura).

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
is boilerplate on any site: a date/byline line at the top, "Read more:"/"Related:"-style
teasers (in the major languages), short call-to-action paragraphs (newsletter, subscribe,
donate, support us, follow us, share this), a teaser heading ("Related", "Auch
interessant") with the list under it, and photo credits. (Rules that helped only on the
sites they were chosen on were removed: bench/extraction.py's k-fold by site.) Finally the outlet's learned templates
(`newswatch.templates`) remove paragraphs seen on many of the outlet's other pages, and the
outlet's `drop` CSS selectors are removed from the HTML before anything else runs.

Metadata comes from the page's own structured data first: title = the first of JSON-LD
`headline`, `og:title`, the first `<h1>` and `<title>`: the first of them the page has, with
site-name suffixes ("| Outlet") stripped from og:title and <title>, else the feed's title;
date = `datePublished` of the page's own JSON-LD article node (an article type, or the node
whose `mainEntityOfPage` is the page; never an embedded video's `uploadDate`), then
`article:published_time` and similar meta, then other JSON-LD nodes (not media objects),
then htmldate (original_date=True) on the page, then the feed entry and the sitemap entry;
when the first date found is a day without a time, a later source's exact time on the same
day replaces it; first_seen when nothing else dates the page; the source is recorded in
`date_source`. The *published* date is used, never
the modified one, so a page published years ago and updated today stays an old story.
Naive times are taken in the outlet's timezone and converted to UTC.

The function is pure (no I/O, no database) and never raises: any failure gives
`Article(ok=False, reason=...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Sequence

from lxml import etree

from .body import NO_TEXT, choose_body, drop_selectors
from .boilerplate import drop_teaser_blocks, is_boilerplate
from .dates import choose_date
from .decode import decode_html, is_binary, not_text_reason
from .metadata import (article_objects, canonical, choose_author, choose_language,
                       choose_title, jsonld_objects)
from .rules import ALL
from .text import norm

__all__ = ["Article", "decode_html", "extract_article"]


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


def extract_article(html: str | bytes, url: str, *, drop: Sequence[str] = (), templates=None,
                    feed_title=None, feed_published=None, sitemap_published=None,
                    first_seen=None, outlet_timezone: str = "UTC",
                    encoding: str | None = None, rules: Collection[str] = ALL) -> Article:
    """Title, text and metadata of one article page (text, or bytes with the charset of the
    HTTP header in `encoding`). `rules`: the names of newswatch's own body rules applied
    (all of `rules.RULES`; the extraction bench switches them). Never raises."""
    try:
        return _extract(html, url, drop, templates, feed_title, feed_published,
                        sitemap_published, first_seen, outlet_timezone, encoding, rules)
    except RecursionError:
        return Article(ok=False, reason="document too deeply nested")
    except Exception as exc:  # the crawler must go on; the reason is logged and stored
        return Article(ok=False, reason=f"extraction failed: {type(exc).__name__}: {exc}"[:300])


def _extract(html, url, drop, templates, feed_title, feed_published, sitemap_published,
             first_seen, tz, encoding=None, rules=ALL) -> Article:
    if html is None:
        return Article(ok=False, reason="empty document")
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if not data.strip():
            return Article(ok=False, reason="empty document")
        if is_binary(data):
            return Article(ok=False, reason="not text (binary content)")
        html = decode_html(data, encoding)
    if not isinstance(html, str):
        return Article(ok=False, reason="not text")
    reason = not_text_reason(html)
    if reason:
        return Article(ok=False, reason=reason)

    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return Article(ok=False, reason="unparseable HTML")
    drop_selectors(tree, drop)

    objs = jsonld_objects(tree)
    arts = article_objects(objs)
    title = choose_title(tree, objs, arts, url, feed_title)
    published, date_source = choose_date(tree, arts, url, tz, feed_published,
                                         sitemap_published, first_seen)
    title_norm = norm(title or "")
    author = choose_author(tree, arts)
    language = choose_language(tree, objs)
    canonical_url = canonical(tree, url)
    # Metadata is read; what is left for the body never holds article text. Taking it out
    # before trafilatura saves its XPath passes about a sixth of their work on real pages
    # (the output is the same); the scripts are kept aside for the JSON fallback.
    scripts = list(tree.iter("script"))
    etree.strip_elements(tree, *NO_TEXT, etree.Comment, with_tail=False)
    paragraphs, source, raw = choose_body(tree, url, arts, title_norm, scripts, rules)
    if "teaser_blocks" in rules:
        paragraphs = drop_teaser_blocks(paragraphs)
    kept = [par for i, par in enumerate(paragraphs) if not is_boilerplate(par, i, rules)]
    if templates is not None:
        try:
            kept = templates.filter(kept)
        except Exception:
            pass
    art = Article(
        title=title, paragraphs=kept, text="\n\n".join(kept),
        author=author, published=published, date_source=date_source,
        language=language, canonical_url=canonical_url,
        body_source=source, raw_paragraphs=raw,
    )
    if not kept:
        art.ok, art.reason = False, "no article text found"
    elif not_text_reason(art.text):
        art.ok, art.reason, art.text, art.paragraphs = False, "extracted text is not text", "", []
    else:
        art.ok = True
    return art
