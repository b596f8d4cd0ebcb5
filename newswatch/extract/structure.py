"""Body rules that read the page's structure: paragraphs put back from containers shaped
like the body's own, and text dropped from teaser-card links."""

from __future__ import annotations

from collections import Counter

from .text import clean, norm, shingles


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


def add_same_shape(tree, pars: list[str]) -> list[str]:
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
    body = norm("\n".join(pars))
    body_shingles: Counter | None = None
    extra: list[tuple[int, str]] = []
    lo, hi = min(where.values()), max(where.values())
    for pos, (el, text, key) in enumerate(ps[lo:hi], lo):
        if not key or key in seen or _shape(el) not in body_shapes or not _plain_paragraph(el):
            continue
        n = norm(text)
        if not n or n in body:
            continue
        if body_shingles is None:
            body_shingles = shingles(body)
        mine = shingles(n)
        if sum(1 for s in mine if s in body_shingles) >= 0.5 * len(mine):
            continue  # the body has it already, split or worded slightly differently
        seen.add(key)
        extra.append((pos, clean(text)))
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


def drop_link_cards(tree, pars: list[str]) -> list[str]:
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
            cards.append(f" {norm(a.text_content())} ")
            parts.update(norm(x.text_content())
                         for x in a.iter("p", "div", "span", *_HEADINGS))
    if not cards:
        return pars
    out = []
    for p in pars:
        n = norm(p)
        if len(n) >= 20 and (n in parts or any(f" {n} " in c for c in cards)):
            continue
        out.append(p)
    return out
