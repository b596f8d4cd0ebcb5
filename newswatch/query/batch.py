"""Matching a batch of new articles against many watches: `match_batch`."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from typing import Hashable, Sequence, TypeVar

from ..db import FTS_TOKENIZE
from ..errors import QueryError
from ..names import NON_LATIN, fold_word, variant_key
from .compile import _BATCH_COLUMNS, _ORIG, Query
from .tokens import tokenize

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
    for key, query in watches:
        by_fts.setdefault(_folded_fts(query), []).append(key)
        needs |= query.needs
    rows: dict[int, tuple[str, str]] = {}
    for doc_id, title, text in docs:
        rows[int(doc_id)] = (_storable(title or ""), _storable(text or ""))
    orig, keyed = "o" in needs, "k" in needs

    def row(k, t, x):
        return (k, t if orig else "", x if orig else "", folded_text(t), folded_text(x),
                keyed_text(t) if keyed else "", keyed_text(x) if keyed else "")

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
_FOLDABLE = re.compile(r"\w*(?:" + NON_LATIN.pattern + r")\w*")


def _fold_match(m: re.Match) -> str:
    return " ".join(fold_word(tok) for _, _, tok in tokenize(m.group()))


def folded_text(text: str) -> str:
    """`text` for the folded column: words with non-Latin letters replaced by their
    `fold_word` forms, everything else left as it is (it tokenises as before)."""
    if text.isascii() or NON_LATIN.search(text) is None:  # isascii: the fast common case
        return text
    return _FOLDABLE.sub(_fold_match, unicodedata.normalize("NFC", text))


def _key_tokens(word: str) -> str:
    return " ".join(f"{variant_key(f)}0{f}" for f in (fold_word(t) for _, _, t in tokenize(word)))


def keyed_text(text: str) -> str:
    """`text` for the keyed column: every token as "<variant key>0<fold>"."""
    cache: dict[str, str] = {}

    def sub(m: re.Match) -> str:
        w = m.group()
        got = cache.get(w)
        if got is None:
            got = cache[w] = _key_tokens(w)
        return got

    return _WORD.sub(sub, unicodedata.normalize("NFC", text))


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
