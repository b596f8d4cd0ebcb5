"""Matching a batch of new articles against many watches: `match_batch`."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache
from typing import Hashable, Sequence, TypeVar

from ..errors import QueryError
from ..names import CYRILLIC, NON_LATIN, at_sentence_start, fold_word, key_token
from .compile import _BATCH_COLUMNS, _ORIG, Query
from .tokens import FTS_TOKENIZE, tokenize

K = TypeVar("K", bound=Hashable)


def match_batch(
    watches: Sequence[tuple[K, Query]], docs: Sequence[tuple[int, str, str]]
) -> list[tuple[K, int]]:
    """Which watches match which of `docs` ((doc_id, title, text)): [(watch key, doc_id)].

    The batch goes into a throw-away in-memory FTS5 table with the archive's tokenizer, so
    the cost depends on the batch and the number of watches, never on the archive size.
    The table holds the text as typed, folded and keyed (see `Query.folded`); the plain
    and keyed columns are only filled when a watch needs them.  Identical queries run
    once.  Pairs come in watch order, then doc_id order.
    """
    if not watches or not docs:
        return []
    by_fts: dict[str, list[K]] = {}
    needs: set = set()
    keyed: set = set()
    for key, query in watches:
        by_fts.setdefault(_folded_fts(query), []).append(key)
        needs |= query.needs
        keyed |= query.keyed
    rows: dict[int, tuple[str, str]] = {}
    for doc_id, title, text in docs:
        rows[int(doc_id)] = (_storable(title or ""), _storable(text or ""))
    orig = "o" in needs
    keyer = _Keyer(keyed) if "k" in needs else None

    def row(k, t, x):
        ev = name_evidence(t, x)  # the title's names tell the text's, and the other way
        return (k, t if orig else "", x if orig else "", folded_text(t, ev), folded_text(x, ev),
                keyer(t, ev) if keyer else "", keyer(x, ev) if keyer else "")

    conn = sqlite3.connect(":memory:")
    try:
        # contentless: only the index is needed, the caller has the text
        conn.execute(
            f"CREATE VIRTUAL TABLE batch USING fts5({_BATCH_COLUMNS}, content='', "
            f"tokenize='{FTS_TOKENIZE}')"
        )
        with conn:
            conn.executemany(
                f"INSERT INTO batch(rowid, {_BATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row(k, t, x) for k, (t, x) in rows.items()),
            )
        hits: dict[str, list[int]] = {}
        sql = "SELECT rowid FROM batch WHERE batch MATCH ? ORDER BY rowid"
        for fts in by_fts:
            try:
                hits[fts] = [r[0] for r in conn.execute(sql, (fts,))]
            except sqlite3.Error as exc:  # Query objects come from compile_query
                raise QueryError(f"cannot run query {fts!r}: {exc}") from exc
    finally:
        conn.close()
    out: list[tuple[K, int]] = []
    for key, query in watches:
        out.extend((key, doc_id) for doc_id in hits[_folded_fts(query)])
    return out


def _folded_fts(query: Query) -> str:
    # a Query built by hand (fts only) is read as plain words on the typed text
    return query.folded or f"{_ORIG} : ({query.fts})"


_WORD = re.compile(r"\w+")
_FOLDABLE = re.compile(r"(\w*(?:" + NON_LATIN.pattern + r")\w*)")  # split() keeps the words
_ZEROS = re.compile(r"(?<!\S)0(?: 0)+(?!\S)")
_NEXT_WORD = re.compile(r"[^\S\n\r]+(\w)")
# A word starting with a capital Cyrillic letter: the only words whose fold needs context
_CYRILLIC_CAPITAL = re.compile(r"(?<!\w)[" + "".join(
    c for c in map(chr, [*range(0x400, 0x530), *range(0x1c80, 0x1c90), *range(0xa640, 0xa6a0)])
    if c.isupper()) + r"]\w*")
_HEAD = "\x00"  # marks a word of keyed_words whose capital only opens a sentence (not \w)


@lru_cache(maxsize=100_000)
def _evidence_form(word: str) -> str:
    return fold_word(word.lower(), True)


def name_evidence(*texts: str) -> frozenset[str]:
    """The folded forms of the Cyrillic words of `texts` (an article's title and text)
    written capitalised in mid-sentence: there the capital says "name", so the same name
    at a sentence start is one too ("Путина поздравили ... поздравления Путину")."""
    out: set[str] = set()
    for text in texts:
        if not text or text.isascii():
            continue
        text = unicodedata.normalize("NFC", text)
        for m in _CYRILLIC_CAPITAL.finditer(text):
            if not at_sentence_start(text, m.start()):
                out.add(_evidence_form(m.group()))
    return frozenset(out)


def _head_is_name(text: str, word: str, end: int, evidence: frozenset[str]) -> bool:
    nxt = _NEXT_WORD.match(text, end)
    return bool(nxt and nxt.group(1).isupper()) or _evidence_form(word) in evidence


def name_flag(text: str, start: int, end: int, evidence: frozenset[str]) -> bool | None:
    """Whether the word text[start:end] stands as a name, for `fold_word`: capitalised,
    and, where a Cyrillic capital only marks a sentence's start, either followed by another
    capitalised word (a first name and surname: "Сергея Лаврова встретили") or capitalised
    in mid-sentence elsewhere in the article (`name_evidence`); None (perhaps not) if
    neither.  Precision first: a lone "Путина" opening a sentence stays the common noun."""
    word = text[start:end]
    if not word[:1].isupper():
        return False
    if not CYRILLIC.search(word) or not at_sentence_start(text, start):
        return True
    return True if _head_is_name(text, word, end, evidence) else None


def _unproven_heads(text: str, evidence: frozenset[str] | None) -> list[int]:
    """Where the capitalised Cyrillic words of `text` (NFC) start that open a sentence and
    have no other evidence of a name (`name_flag` None)."""
    heads = []
    for m in _CYRILLIC_CAPITAL.finditer(text):
        if at_sentence_start(text, m.start()):
            if evidence is None:
                evidence = name_evidence(text)
            if not _head_is_name(text, m.group(), m.end(), evidence):
                heads.append(m.start())
    return heads


@lru_cache(maxsize=100_000)
def _fold_run(run: str, name: bool | None) -> str:
    # one fold per distinct word: articles repeat their words, batches repeat their names
    return " ".join(fold_word(tok, name if i == 0 else run[s].isupper())
                    for i, (s, _, tok) in enumerate(tokenize(run)))


def _fold_runs(text: str) -> str:
    parts = _FOLDABLE.split(text)  # text, word, text, ...
    parts[1::2] = [_fold_run(w, w[0].isupper()) for w in parts[1::2]]
    return "".join(parts)


def folded_text(text: str, evidence: frozenset[str] | None = None) -> str:
    """`text` for the folded column: words with non-Latin letters replaced by their
    `fold_word` forms, everything else left as it is (it tokenises as before).  `evidence`:
    the article's `name_evidence` (by default `text`'s own)."""
    if text.isascii() or NON_LATIN.search(text) is None:  # isascii: the fast common case
        return text
    text = unicodedata.normalize("NFC", text)
    out, pos = [], 0
    for h in _unproven_heads(text, evidence):
        word = _WORD.match(text, h).group()
        out += [_fold_runs(text[pos:h]), _fold_run(word, None)]
        pos = h + len(word)
    out.append(_fold_runs(text[pos:]))
    return "".join(out)


@lru_cache(maxsize=100_000)
def _key_tokens(word: str) -> tuple[tuple[str, str], ...]:
    """(key and case mark, `key_token`) for each unicode61 token of a \\w+ run of
    `keyed_words` (a leading _HEAD: its capital only opens a sentence, `name_flag` None)."""
    head = word.startswith(_HEAD)
    word = word.lstrip(_HEAD)
    out = []
    # an ASCII run of letters and digits is one token, lower-cased (the common case, cheaply)
    if word.isascii() and "_" not in word:
        toks = [(word.lower(), word[0])]
    else:
        toks = [(t, word[s]) for s, _, t in tokenize(word)]
    for i, (tok, first) in enumerate(toks):
        f = fold_word(tok, None if head and i == 0 else first.isupper())
        t = key_token(f, first.islower())
        out.append((t[:len(t) - len(f)], t))
    return tuple(out)


def keyed_words(text: str, evidence: frozenset[str] | None) -> list[str]:
    """The \\w+ runs of `text` (NFC), those whose capital only opens a sentence marked."""
    heads = _unproven_heads(text, evidence) if not text.isascii() else ()
    if not heads:
        return _WORD.findall(text)
    out, pos = [], 0
    for h in heads:
        out += _WORD.findall(text, pos, h)
        word = _WORD.match(text, h).group()
        out.append(_HEAD + word)
        pos = h + len(word)
    out += _WORD.findall(text, pos)
    return out


class _Keyer:
    """Builds the keyed column of a batch: every token as `key_token` where a watch of the
    batch looks for it (`Query.keyed`), each run of other tokens as one "0" (a gap: phrases
    stay phrases).  A text without any such token is left out entirely.  Each distinct word
    is looked at once per batch."""

    def __init__(self, keyed: set):
        self.prefixes = {tok for kind, tok in keyed if kind == "p"}
        self.exact = {tok for kind, tok in keyed if kind == "t"}
        self.forms: dict[str, str] = {}  # word -> its keyed form
        self.wanted: set[str] = set()  # words with a token some watch looks for

    def _learn(self, word: str) -> None:
        out = []
        for k, t in _key_tokens(word):
            if k in self.prefixes or t in self.exact:
                self.wanted.add(word)
                out.append(t)
            else:
                out.append("0")
        self.forms[word] = " ".join(out)

    def __call__(self, text: str, evidence: frozenset[str] | None = None) -> str:
        words = keyed_words(_nfc(text), evidence)
        for w in set(words).difference(self.forms):
            self._learn(w)
        if self.wanted.isdisjoint(words):
            return ""
        forms = self.forms
        # runs of unwanted tokens as one "0": still a gap for phrases, less to index
        return _ZEROS.sub("0", " ".join([forms[w] for w in words]))


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
