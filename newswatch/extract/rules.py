"""The names of newswatch's own extraction rules on top of trafilatura, so that
bench/extraction.py can switch each off and keep only those that help on sites it has not
chosen them on (issue 17, "Extraction that generalises")."""

from __future__ import annotations

RULES: dict[str, str] = {
    # body source fallbacks (body.py)
    "articlebody": "JSON-LD articleBody replaces a precision text that is a fragment of it",
    "recall": "trafilatura's recall mode replaces a short precision text it contains",
    "json_state": "the longest prose in the page's script JSON when trafilatura finds ~nothing",
    # structure rules (structure.py)
    "same_shape": "a <p> shaped like the body's own <p>, between them, is put back",
    "link_cards": "text inside a link holding a heading and a picture is dropped",
    # paragraph rules (boilerplate.py)
    "teaser_blocks": "a 'Related'-style heading and the list under it are dropped",
    "title_repeat": "a paragraph that is the headline is dropped",
    "teaser_prefix": "'Read more: ...'-style teaser paragraphs are dropped",
    "doubled_headline": "a short paragraph that is one text printed twice is dropped",
    "kicker": "the headline with a kicker, at the top, is dropped",
    "photo_credit": "'Photo: ...' credit lines are dropped",
    "cta": "short calls to action (subscribe, donate, follow us) are dropped",
    "shouting_label": "a lone upper-case label ('DON'T MISS') is dropped",
    "date_byline": "a date or byline line at the top is dropped",
    "undouble": "a long paragraph that is the same text twice is kept once",
}

ALL = frozenset(RULES)
