"""Matching a batch of new articles against many watches: `match_batch`."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache
from typing import Hashable, Sequence, TypeVar

from ..errors import QueryError
from ..names import NON_LATIN, fold_word, variant_key
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
        return (k, t if orig else "", x if orig else "", folded_text(t), folded_text(x),
                keyer(t) if keyer else "", keyer(x) if keyer else "")

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


@lru_cache(maxsize=100_000)
def _fold_run(run: str) -> str:
    # one fold per distinct word: articles repeat their words, batches repeat their names
    return " ".join(fold_word(tok, run[s].isupper()) for s, _, tok in tokenize(run))


def folded_text(text: str) -> str:
    """`text` for the folded column: words with non-Latin letters replaced by their
    `fold_word` forms, everything else left as it is (it tokenises as before)."""
    if text.isascii() or NON_LATIN.search(text) is None:  # isascii: the fast common case
        return text
    parts = _FOLDABLE.split(unicodedata.normalize("NFC", text))  # text, word, text, ...
    parts[1::2] = map(_fold_run, parts[1::2])
    return "".join(parts)


@lru_cache(maxsize=100_000)
def _key_tokens(word: str) -> tuple[tuple[str, str], ...]:
    """("<key>0", "<key>0<fold>") for each unicode61 token of a \\w+ run."""
    out = []
    # an ASCII run of letters and digits is one token, lower-cased (the common case, cheaply)
    if word.isascii() and "_" not in word:
        toks = [(word.lower(), True)]
    else:
        toks = [(t, word[s].isupper()) for s, _, t in tokenize(word)]
    for tok, cap in toks:
        f = fold_word(tok, cap)
        k = variant_key(f) + "0"
        out.append((k, k + f))
    return tuple(out)


class _Keyer:
    """Builds the keyed column of a batch: every token as "<variant key>0<fold>" where a
    watch of the batch looks for it (`Query.keyed`), each run of other tokens as one "0" (a
    gap: phrases stay phrases).  A text without any such token is left out entirely.  Each
    distinct word is looked at once per batch."""

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

    def __call__(self, text: str) -> str:
        words = _WORD.findall(unicodedata.normalize("NFC", text))
        for w in set(words).difference(self.forms):
            self._learn(w)
        if self.wanted.isdisjoint(words):
            return ""
        forms = self.forms
        # runs of unwanted tokens as one "0": still a gap for phrases, less to index
        return _ZEROS.sub("0", " ".join([forms[w] for w in words]))


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
