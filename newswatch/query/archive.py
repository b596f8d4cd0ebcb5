"""The archive's folded index: what the store writes for each article so that archive
search finds what `match_batch` finds (`archive_columns`, `archive_tokens`), and the
expression it runs (`folded_expression`, `folded_for_archive`).

The columns are the batch index's (see `Query.folded`): the text as typed, folded and
keyed.  Two differences keep the per-article cost small: a folded column is left empty
where folding changes nothing (a text without non-Latin letters; the query then reads the
typed column instead, see `folded_for_archive`), and the keyed column holds every token,
since the archive cannot know which ones later queries look for.
"""

from __future__ import annotations

import unicodedata

from .batch import _folded_fts, _key_tokens, _storable, folded_text, keyed_words, name_evidence
from .compile import _FOLD, Query
from .tokens import words

# a folded term also reads the typed columns: where a folded column is empty the text had
# nothing to fold, and a Latin word found as typed is there folded too (folding keeps them)
_FOLD_OR_TYPED = "{title text title_f text_f}"


def folded_column(text: str, evidence: frozenset[str] | None = None) -> str:
    """The folded column of `text` for the archive: "" where folding changes nothing.
    `evidence`: the article's `name_evidence` (by default the text's own)."""
    text = _storable(text or "")
    folded = folded_text(text, evidence)
    return "" if folded == text else folded


def keyed_column(text: str, evidence: frozenset[str] | None = None) -> str:
    """The keyed column of `text`: `batch.key_token` for every token (`~` terms look for
    the key and "capitalised" mark as a prefix, plain words of a ~ phrase for whole forms)."""
    text = unicodedata.normalize("NFC", _storable(text or ""))
    return " ".join([t for w in keyed_words(text, evidence) for _, t in _key_tokens(w)])


def archive_columns(title: str | None, text: str | None) -> tuple[str, str, str, str]:
    """(title_f, text_f, title_k, text_k) of one article."""
    title, text = _storable(title or ""), _storable(text or "")
    ev = name_evidence(title, text)  # the title's names tell the text's, and the other way
    return (folded_column(title, ev), folded_column(text, ev), keyed_column(title, ev),
            keyed_column(text, ev))


def folded_expression(query: Query) -> str:
    """What the store's folded search runs (`search_articles(folded=...)`): `query.folded`,
    or for a Query built by hand (fts only) its words as typed."""
    return _folded_fts(query)


def folded_for_archive(folded: str) -> str:
    """`Query.folded` with each folded term also reading the typed columns.  Column filters
    are never inside a string (strings hold only letters, digits and spaces)."""
    return folded.replace(f"{_FOLD} :", f"{_FOLD_OR_TYPED} :")


def archive_tokens(text: str | None) -> list[str]:
    """The unicode61 tokens of `text` (a backend without FTS5 indexes these)."""
    return words(_storable(text or ""))
