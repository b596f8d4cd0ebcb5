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
    "teaser_prefix": "'Read more: ...'-style teaser paragraphs are dropped",
    "photo_credit": "'Photo: ...' credit lines are dropped",
    "cta": "short calls to action (subscribe, donate, follow us) are dropped",
    "date_byline": "a date or byline line at the top is dropped",
}

# Removed after the k-fold by site (F1 gain out of fold <= 0: they helped only on the sites
# they were chosen on): a paragraph equal to the headline, the headline with a kicker, a
# short text printed twice, a lone upper-case label, a long paragraph printed twice.

ALL = frozenset(RULES)
