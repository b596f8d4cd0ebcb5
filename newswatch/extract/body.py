"""The article body: trafilatura's passes, the fallbacks to the page's JSON (JSON-LD
`articleBody`, app state in scripts), and the structure rules applied to the winner."""

from __future__ import annotations

import copy
import json
import re
from typing import Sequence

from .boilerplate import paragraphs
from .rules import ALL
from .structure import add_same_shape, drop_link_cards
from .text import clean, contained, norm


def traf(tree, url: str, **kw) -> str:
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
            best = "\n".join(clean(p.text_content()) for p in frag.iter("p", "h2", "h3", "li")
                             if not _in_caption(p)) or clean(frag.text_content())
        except Exception:
            best = re.sub(r"<[^>]+>", " ", best)
    return best


def _p_text(tree) -> int:
    return sum(len(p.text_content()) for p in tree.iter("p"))


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
    text = traf(tree, url, favor_precision=True, fast=True)
    if len(text) >= FAST_MIN_CHARS and len(text) >= FAST_MIN_SHARE * page_text:
        return text, tree
    return traf(pristine, url, favor_precision=True), pristine


def choose_body(tree, url: str, arts: list[dict], title_norm: str = "",
                scripts=None, rules=ALL) -> tuple[list[str], str, list[str]]:
    """The body's paragraphs, which rule won (precision | articleBody | json | recall) and
    the unfiltered candidate paragraphs. `rules`: the names (rules.RULES) applied. `scripts`: the page's <script> elements, when they
    were taken out of `tree`."""
    if scripts is None:
        scripts = list(tree.iter("script"))
    precise_text, tree = _precise_text(tree, url)
    raw = paragraphs(precise_text)
    # the headline repeated on top is not evidence about the body
    precise = "\n".join(p for p in raw if norm(p) != title_norm)
    body, source = precise, "precision"
    article_body = ""
    for o in arts:
        ab = o.get("articleBody")
        if isinstance(ab, str) and len(ab) > len(article_body):
            article_body = ab
    if article_body and "<" in article_body and ">" in article_body:
        article_body = re.sub(r"<[^>]+>", "\n", article_body)
    if ("articlebody" in rules and article_body and len(article_body) >= 1.6 * len(precise)
            and (len(precise) < 0.25 * len(article_body)
                 or contained(precise, article_body) >= 0.8)):
        body, source = article_body, "articleBody"
    elif ("recall" in rules or "json_state" in rules) and len(precise) < 1500 and (
            not precise or _p_text(tree) >= 2 * len(precise)):
        # recall mode costs a second pass: only when the page's <p> text shows there is
        # clearly more article than the precise pass found
        recall = traf(tree, url, favor_recall=True) if "recall" in rules else ""
        raw += [p for p in paragraphs(recall) if p not in raw]
        if recall and len(recall) >= 3 * len(precise) and (
                not precise or contained(precise, recall) >= 0.8):
            body, source = recall, "recall"
        elif "json_state" in rules and len(precise) < 200:
            prose = _json_prose(scripts)
            if len(prose) >= 3 * max(1, len(precise)):
                body, source = prose, "json"
    pars = paragraphs(body)
    if "same_shape" in rules and source in ("precision", "recall"):
        pars = add_same_shape(tree, pars)
    if "link_cards" in rules:
        pars = drop_link_cards(tree, pars)
    return pars, source, raw


# elements whose content is never article text (read for metadata before they go)
NO_TEXT = ("script", "style", "svg", "noscript", "template", "link")


def drop_selectors(tree, drop: Sequence[str]) -> None:
    for sel in drop or ():
        try:
            for el in tree.cssselect(sel):
                parent = el.getparent()
                if parent is not None:
                    el.drop_tree()
        except Exception:
            continue  # a bad selector is a config problem, reported by config validation
