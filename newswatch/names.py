"""Names across scripts and spellings: folding, Russian inflection, spelling-variant keys and
aliases.  Pure functions; `newswatch.query` builds its folded index columns from them.

* `fold_word(token)` is what a word becomes in the folded index.  Latin words stay as they
  are (SQLite's unicode61 form), so folding never merges two Latin words ("Masse" and
  "Maße" stay apart, ß is not ss).  Cyrillic words lose their case ending first (the Russian
  Snowball stemmer) when capitalised where they stand (names are; "путина", a common
  noun, stays ``putina``), then are transliterated with anyascii: "Лаврова", "Лаврову"
  and "Лавров" all become ``lavrov``; a surname declines as a noun, so "лавровый" (an
  adjective) keeps its ending and "Лавровой" (Lavrova's case form) becomes ``lavrova``;
  other scripts are transliterated only ("Αθήνα" -> ``athina``).  The folded form is
  only ever compared with Latin query words, so two Cyrillic words that transliterate
  alike ("брат"/"брать") are never merged either.
* `variant_key(word)` is the spelling-variant key behind ``~term``: the Double Metaphone
  code of the folded word, w read as v (German and Polish romanisations: Lawrow), its
  secondary code where it has one (it reads ``g`` hard as Russian does).  It trades
  precision for recall: every spelling that sounds alike to Double Metaphone matches,
  vowels are ignored ("demeter" for ``~Dmitry``), and a feminine ``-a`` form matches
  ("Lavrova" for ``~Lavrov``).
* `alias_table(entries)` checks the config's ``[[aliases]]`` entries.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Mapping

import Stemmer
from anyascii import anyascii
from metaphone import doublemetaphone

__all__ = ["fold", "fold_word", "transliterate", "is_latin", "variant_key", "same_name", "variants",
           "alias_table", "AliasError"]

_RU = Stemmer.Stemmer("russian")
_CYRILLIC = re.compile(r"[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")
# Letters (and digits) outside the Latin blocks: a word holding one is folded.
NON_LATIN = re.compile(r"[^\W\d_A-Za-z\u00aa\u00ba\u00c0-\u024f\u1e00-\u1eff\ufb00-\ufb06]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Endings the Snowball stemmer takes for a plural genitive (столов) that are the
# nominative of a surname (Лавров, Медведев, Путин): the word is kept whole instead.
_SURNAME_ENDINGS = ("ов", "ев", "ин", "ын")
_FEMININE = ("ая", "ую", "ой", "яя", "юю")
# A surname in -ов/-ев/-ин declines as a noun (Лавров, Лаврова, Лаврову, Лавровым, Лаврове):
# these adjectival endings on such a stem make another word (лавровый: of laurel) ...
_ADJECTIVAL = ("ый", "ий", "ое", "ее", "ая", "яя", "ые", "ие", "ого", "его", "ому", "ему", "ую")
# ... and these are the feminine surname (Лавровой: of Lavrova, another person than Lavrov)
_FEMININE_SURNAME = ("ой", "ою")


def is_latin(token: str) -> bool:
    """Whether `token` has no letters outside the Latin script (digits count as Latin)."""
    return NON_LATIN.search(token) is None


def _ascii(text: str) -> str:
    return _NOT_ALNUM.sub("", anyascii(text).lower())


def transliterate(word: str) -> str:
    """One word in ASCII Latin letters and digits (anyascii), nothing removed."""
    return _ascii(unicodedata.normalize("NFKC", word).casefold())


@lru_cache(maxsize=200_000)
def _russian_base(word: str) -> str:
    """The stem of a Cyrillic word, with the nominative ending put back on adjectival
    surnames (Зеленского -> зеленский) so it transliterates to the usual Latin spelling."""
    w = word.replace("ё", "е")
    stem = _RU.stemWord(w)
    if stem == w[:-2] and w.endswith(_SURNAME_ENDINGS):
        return w
    if stem != w and stem.endswith(_SURNAME_ENDINGS):
        ending = w[len(stem):]
        if ending in _ADJECTIVAL:
            return w
        if ending in _FEMININE_SURNAME:
            return stem + "а"
    if stem != w and stem.endswith(("ск", "цк", "ськ", "цьк")):
        return stem + ("ая" if w.endswith(_FEMININE) or w.endswith("ська") else "ий")
    return stem


@lru_cache(maxsize=200_000)
def fold_word(token: str, name: bool = True) -> str:
    """The folded-index form of one (unicode61) token; see the module docstring.  `name`:
    whether the word was capitalised where it stands; only a capitalised Cyrillic word
    loses its case ending ("путина", a fishing season, stays ``putina``; "Путина" is
    ``putin``): names are capitalised in running text, and stemming every word would
    merge common nouns with names."""
    if is_latin(token):
        return token
    low = unicodedata.normalize("NFKC", token).casefold()
    if _CYRILLIC.search(low):
        low = _russian_base(low) if name else low.replace("ё", "е")
    return _ascii(low) or token


def fold(text: str) -> str:
    """A text folded the way the index folds it: NFKC, casefold, Cyrillic inflection
    removed, transliterated to ASCII; words separated by single spaces."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(f for f in (_ascii(fold_word(w)) for w in words) if f)


@lru_cache(maxsize=200_000)
def variant_key(folded: str) -> str:
    """The ``~`` key of a folded word: its Double Metaphone code, lower case."""
    # w -> v first: German and Polish romanisations write Russian в as w (Lawrow, Wladimir)
    primary, secondary = doublemetaphone(_ascii(folded).replace("w", "v"))
    return (secondary or primary).replace(" ", "").lower()


def same_name(a: str, b: str) -> bool:
    """Whether two words are spelling variants of each other for ``~`` (after folding)."""
    fa, fb = fold(a).split(), fold(b).split()
    return len(fa) == len(fb) and all(variant_key(x) == variant_key(y) for x, y in zip(fa, fb))


def variants(name: str, candidates: Iterable[str]) -> set[str]:
    """The `candidates` (words or names, any script) that ``~name`` matches."""
    return {c for c in candidates if same_name(name, c)}


class AliasError(ValueError):
    """An ``[[aliases]]`` entry that cannot be used; the message says which and why."""


def alias_table(entries: Iterable[Mapping] | Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """``{folded name: (name, *variants)}`` from ``[[aliases]]`` entries ({"name": ...,
    "variants": [...]}) or a plain mapping name -> variants.  Lookup is by `fold`, so
    ``@"kim jong-un"`` finds the alias named "Kim Jong Un"."""
    items = entries.items() if isinstance(entries, Mapping) else (
        (e.get("name"), e.get("variants", ())) for e in entries)
    table: dict[str, tuple[str, ...]] = {}
    for name, forms in items:
        if not isinstance(name, str) or not fold(name):
            raise AliasError(f"an alias needs a name with letters or digits, not {name!r}")
        if isinstance(forms, str) or not all(isinstance(f, str) for f in forms):
            raise AliasError(f"alias {name!r}: variants must be a list of strings")
        key = fold(name)
        if key in table:
            raise AliasError(f"alias {name!r} is defined twice")
        seen: list[str] = []
        for form in (name, *forms):
            if form.strip() and form not in seen:
                seen.append(form)
        table[key] = tuple(seen)
    return table
