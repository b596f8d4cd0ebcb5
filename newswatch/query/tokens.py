"""Tokenisation of text the way the archive's FTS5 index (unicode61 remove_diacritics 2) sees it."""

from __future__ import annotations

import sqlite3
import threading
from typing import Iterable

# The archive's FTS5 tokenizer (newswatch.store's migrations create its tables with it);
# defined here so that the query package never imports the store.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"


# unicode61 folds and splits one code point at a time, but its tables are not Python's:
# it removes diacritics only from Latin letters (ł -> l, but ά, й stay), keeps ligatures
# (ﬁ), and treats some combining marks as separators (Devanagari vowel signs) and others as
# removable (U+0301).  Rather than approximate that with NFKD, each code point is probed
# once in an in-memory FTS5 table ("a<c>a" yields "a<fold>a" or "a", "a"), so highlighting
# and the empty-term check agree with the index exactly, whatever SQLite version is linked.

_fold: dict[str, str | None] = {}  # char -> folded text ("" if removed), None: separator
# unicode61 on ASCII: letters lower-cased, digits kept, anything else a separator
_ASCII_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122)
                     else 32 for c in range(256))
_table: dict[int, str] = {}  # the same for str.translate: a separator becomes a space
_fold_lock = threading.Lock()
_probe_conn: sqlite3.Connection | None = None


def _probe() -> sqlite3.Connection:
    global _probe_conn
    if _probe_conn is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute(f"CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='{FTS_TOKENIZE}')")
        conn.execute("CREATE VIRTUAL TABLE probe_vocab USING fts5vocab(probe, 'instance')")
        conn.execute(f"CREATE VIRTUAL TABLE empty USING fts5(title, text, tokenize='{FTS_TOKENIZE}')")
        _probe_conn = conn
    return _probe_conn


def _learn(chars: Iterable[str]) -> None:
    with _fold_lock:
        todo = [c for c in chars if c not in _fold]
        if not todo:
            return
        conn = _probe()
        rows = []
        for c in todo:
            try:
                c.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogate: not text SQLite could store
                _fold[c] = None
                continue
            rows.append((ord(c), f"a{c}a"))
        with conn:
            conn.execute("DELETE FROM probe")
            conn.executemany("INSERT INTO probe(rowid, x) VALUES (?, ?)", rows)
            found: dict[int, list[str]] = {}
            for term, doc in conn.execute(
                "SELECT term, doc FROM probe_vocab ORDER BY doc, offset"
            ):
                found.setdefault(doc, []).append(term)
        for code, _ in rows:
            terms = found.get(code, [])
            if len(terms) == 1 and len(terms[0]) >= 2 and terms[0][0] == terms[0][-1] == "a":
                _fold[chr(code)] = terms[0][1:-1]
            else:  # "a", "a" (or anything unexpected): a separator
                _fold[chr(code)] = None
        for c in todo:
            f = _fold[c]
            _table[ord(c)] = " " if f is None else f


def words(text: str) -> list[str]:
    """The folded tokens of `tokenize(text)` alone, by one `str.translate` (a backend
    without FTS5 indexes every article's words this way)."""
    if text.isascii():  # letters and digits, lower-cased: the rest separates
        return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
    missing = set(text).difference(_fold)
    if missing:
        _learn(missing)
    return text.translate(_table).split()


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """Tokens of `text` as unicode61 remove_diacritics 2 sees them: (start, end, folded)."""
    missing = set(text).difference(_fold)
    if missing:
        _learn(missing)
    fold = _fold
    out: list[tuple[int, int, str]] = []
    start = -1
    parts: list[str] = []
    for i, c in enumerate(text):
        f = fold[c]
        if f is None:
            if start >= 0:
                if parts and (tok := "".join(parts)):
                    out.append((start, i, tok))
                start, parts = -1, []
        else:
            if start < 0:
                start = i
            parts.append(f)
    if start >= 0 and (tok := "".join(parts)):
        out.append((start, len(text), tok))
    return out
