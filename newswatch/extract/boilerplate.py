"""Paragraph rules: what is boilerplate on any site, judged on a paragraph's text alone."""

from __future__ import annotations

import re

from .rules import ALL
from .text import clean, norm

# Teasers that point at other stories: "Read more: ...", "Lesen Sie auch: ...".
_TEASER = re.compile(
    r"^\W{0,3}(read more|read also|also read|read next|more|see more|see also|related|"
    r"related articles?|related stories|recommended|more on this|most read|popular|"
    r"also on [\w.]+|watch|listen|don'?t miss|trending|top stories|"
    r"lesen sie (auch|mehr)|auch interessant|mehr zum thema|weiterlesen|das könnte sie "
    r"auch interessieren|lire aussi|à lire aussi|voir aussi|lee también|leer más|"
    r"lea también|leia também|veja também|leggi anche|les også|läs också|lees ook|"
    r"читайте также|читать также|также читайте|по теме)\b\s*[:|>»\-–—]",
    re.I)
# Calls to action: newsletter, subscription, donation, social and sharing prompts. Lower-case
# patterns matched against the lower-cased paragraph (several times faster than re.I).
_CTA = re.compile(
    r"(sign up|signup|subscribe|subscription|newsletter|in your inbox|to your inbox|"
    r"straight to your|donat(e|ion)|support (us|our|the|independent)|your support|"
    r"become a (member|subscriber|patron)|chip in|contribute today|"
    r"follow (us|me|him|her|them|@)|like us on|share (this|it) with|share this (story|article)|"
    r"click here|tap here|got a (story|tip)|have a tip|get in touch with|"
    r"all rights reserved|©|copyright|for your personal, non-commercial use|"
    r"download (the|our) app|enable javascript|cookies?\b|advertisement|anzeige|"
    r"jetzt abonnieren|newsletter abonnieren|abonnieren sie|unterstützen sie|"
    r"abonnez-vous|inscrivez-vous|suscríbete|suscribete|iscriviti|abonner|"
    r"подпишитесь|поддержите)")
_ADDRESS = re.compile(
    r"\b(you|your|yours|us|our|we|ihr|ihre|sie|unterstützen|vous|votre|nos|nous|"
    r"usted|nuestro|nuestra|вы|ваш|нас|наш)\b|!")
_DATE_LINE = re.compile(
    r"(\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b(19|20)\d\d\b.*\d{1,2}:\d\d|"
    r"\b\d{1,2}:\d\d\b.*\b(19|20)\d\d\b|updated|published|aktualisiert|veröffentlicht|"
    r"publicado|publié|mis à jour)", re.I)
_BYLINE = re.compile(r"^(by|von|par|por|di|door|av)\s+\S", re.I)


# A heading that opens a block of teasers: the heading and the list under it go.
_TEASER_HEADING = re.compile(
    r"^\W{0,3}(read more|related( articles| stories| content| news)?|more (from|on|stories)\b.*|"
    r"recommended( for you)?|popular|most (read|popular|viewed)|you may also like|"
    r"you might also like|trending( now)?|top stories|editor'?s picks|"
    r"auch interessant|mehr zum thema|meistgelesen|empfehlungen|das könnte sie auch interessieren|"
    r"lesen sie auch|weitere artikel|à lire aussi|lire aussi|sur le même sujet|"
    r"te puede interesar|más noticias|leia também|leggi anche|les også|läs också|"
    r"читайте также)\W{0,3}$", re.I)
_CREDIT = re.compile(r"^(photo|foto|bild|image|quelle|source|credit|fuente|kilde)s?\s*:", re.I)


def drop_teaser_blocks(pars: list[str]) -> list[str]:
    """Remove a teaser heading and the list items ("- ...") or short lines right under it."""
    out: list[str] = []
    skipping = False
    for par in pars:
        if _TEASER_HEADING.match(par):
            skipping = True
            continue
        if skipping and par.startswith(("- ", "• ", "* ")):
            continue
        skipping = False
        out.append(par)
    return out


def is_boilerplate(par: str, position: int, rules=ALL) -> bool:
    """True when a paragraph is boilerplate on any site (see the package docstring);
    `rules`: the names (rules.RULES) of the paragraph rules applied."""
    n = norm(par)
    if not n:
        return True
    if "teaser_prefix" in rules and _TEASER.match(par):
        return True
    words = len(n.split())
    if "photo_credit" in rules and words <= 8 and _CREDIT.match(par):
        return True
    # A call to action addresses the reader; news about donations or subscriptions
    # ("anyone who donates to it risks charges") does not, and stays.
    if ("cta" in rules and words <= 40 and _CTA.search(low := par.lower())
            and (words <= 12 or _ADDRESS.search(low))):
        return True
    if ("date_byline" in rules and position < 3 and words <= 14
            and (_DATE_LINE.search(par) or _BYLINE.match(par))):
        return True
    return False


def paragraphs(text: str) -> list[str]:
    return [p for p in (clean(x) for x in (text or "").split("\n")) if p]
