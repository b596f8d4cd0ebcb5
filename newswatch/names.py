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
  vowels are ignored, and a feminine ``-a`` form matches ("Lavrova" for ``~Lavrov``).
  The index guards it with case: a word written in lower case where it stands is a
  common word, not a name, and meets ``~`` only in the very spelling typed ("the demeter
  statue" is not ``~Dmitry``; "Demeter", capitalised, still is).
* `at_sentence_start(text, i)`: where a capital says nothing about a name (Russian
  capitalises every sentence's first word: "Путина на лугу ..." is the fishing season), so
  the index stems such a word only on other evidence (`newswatch.query.batch.name_flag`).
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

__all__ = ["FOLD_VERSION", "fold", "fold_word", "transliterate", "is_latin", "variant_key", "same_name", "variants",
           "alias_table", "AliasError", "at_sentence_start", "key_token", "CYRILLIC"]

# The folding rules' version, recorded with each article's folded index entry: bump it with
# any change to what `fold_word`, `fold`, `variant_key` or `key_token` (or the archive
# columns built from them, `newswatch.query.archive`) return, so `newswatch status` tells an
# archive folded by older rules to run `newswatch store refold`. 0: folded before versions.
FOLD_VERSION = 1

_RU = Stemmer.Stemmer("russian")
CYRILLIC = re.compile(r"[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")
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
_ADJECTIVE_STEMS = ("ск", "цк", "ськ", "цьк")
# the case endings of an adjective (Russian, then Ukrainian): Зеленского, Зеленському, but not
# the "-ов" Snowball cuts from a surname in -сков (Песков)
_ADJECTIVE_FORMS = frozenset(
    "ий ый ой ого его ому ему им ым ом ем ое ее ие ые их ых ими ыми ая яя ей ую юю ою ею "
    "ім ій ої а у і".split())


def is_latin(token: str) -> bool:
    """Whether `token` has no letters outside the Latin script (digits count as Latin)."""
    return NON_LATIN.search(token) is None


# What may stand between a sentence's end and its first word: spaces, quotes, brackets, dashes
_OPENERS = frozenset("\"'«»„“”‘’‹›([{—–-")
_ENDS = frozenset("!?…\n\r")


def at_sentence_start(text: str, i: int) -> bool:
    """Whether the word starting at `text[i]` begins a sentence: only spaces and opening
    punctuation stand between it and the start of the text, a line break (a headline, a
    paragraph) or a sentence's final stop.  A full stop after a lone capital is an
    initial's ("В. В. Путина"), not a sentence's end."""
    j = i - 1
    while j >= 0 and (text[j] in _OPENERS or (text[j].isspace() and text[j] not in _ENDS)):
        j -= 1
    if j < 0 or text[j] in _ENDS:
        return True
    if text[j] != ".":
        return False
    return not (j >= 1 and text[j - 1].isupper() and (j == 1 or not text[j - 2].isalnum()))


def _ascii(text: str) -> str:
    return _NOT_ALNUM.sub("", anyascii(text).lower())


def transliterate(word: str) -> str:
    """One word in ASCII Latin letters and digits (anyascii), nothing removed."""
    return _ascii(unicodedata.normalize("NFKC", word).casefold())


@lru_cache(maxsize=200_000)
def _russian_base(word: str, nouns: bool = True) -> str:
    """The stem of a Cyrillic word, with the nominative ending put back on adjectival
    surnames (Зеленского -> зеленский) so it transliterates to the usual Latin spelling.
    `nouns`: also cut a noun's case ending; without, only an adjectival (-ский, -цкий) form
    is put back to its nominative, which can only ever be the same word's."""
    w = word.replace("ё", "е")
    stem = _RU.stemWord(w)
    if not nouns:
        if stem.endswith(_ADJECTIVE_STEMS) and w[len(stem):] in _ADJECTIVE_FORMS:
            return stem + ("ая" if w.endswith(_FEMININE) or w.endswith("ська") else "ий")
        return w
    if stem == w[:-2] and w.endswith(_SURNAME_ENDINGS):
        return w
    if stem != w and stem.endswith(_SURNAME_ENDINGS):
        ending = w[len(stem):]
        if ending in _ADJECTIVAL:
            return w
        if ending in _FEMININE_SURNAME:
            return stem + "а"
    if stem != w and stem.endswith(_ADJECTIVE_STEMS):
        return stem + ("ая" if w.endswith(_FEMININE) or w.endswith("ська") else "ий")
    return stem


@lru_cache(maxsize=200_000)
def fold_word(token: str, name: bool | None = True) -> str:
    """The folded-index form of one (unicode61) token; see the module docstring.  `name`:
    whether the word was capitalised where it stands (None: capitalised only as a
    sentence's first word, so perhaps not a name: then only an adjectival surname's ending
    goes, Зеленському -> zelenskiy, never a noun's, Путина stays ``putina``); only a capitalised Cyrillic word
    loses its case ending ("путина", a fishing season, stays ``putina``; "Путина" is
    ``putin``): names are capitalised in running text, and stemming every word would
    merge common nouns with names."""
    if is_latin(token):
        return token
    low = unicodedata.normalize("NFKC", token).casefold()
    if CYRILLIC.search(low):
        low = (_russian_base(low) if name else _russian_base(low, False) if name is None
               else low.replace("ё", "е"))
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


def key_token(folded: str, lower: bool) -> str:
    """A word in the ``~`` index: "<variant key><case mark><fold>", the mark "1" for a word
    written in lower case where it stands (a common word: ``~`` variants never reach it), "0"
    otherwise (capitalised, or a script without case).  Keys are letters only, so the mark
    always ends the key."""
    return variant_key(folded) + ("1" if lower else "0") + folded


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
