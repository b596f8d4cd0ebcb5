"""The query language of watches and `newswatch search`, compiled to SQLite FTS5.

Syntax, by example::

    Lavrov                      a word (any case, any script, accents ignored for Latin)
    "North Korea"               a phrase: the words in this order, punctuation ignored
    Korea*   "Kim Jong"*        prefix: words starting with "korea"; phrase ending in "jong..."
    Lavrov Pyongyang            adjacent terms are ANDed (implicit AND)
    Lavrov AND Pyongyang        both
    Lavrov OR Lawrow            either
    Russia NOT Putin            Russia but not Putin (also `Russia AND NOT Putin`)
    Lavrov AND ("North Korea" OR Pyongyang)

Operators are AND, OR, NOT in any case. Precedence, tightest first: NOT, AND (explicit or
implicit), OR.  So ``a OR b c NOT d`` means ``a OR (b AND c AND (NOT d))``; use parentheses
for anything else.

Words are compared the way the archive's FTS5 index (``unicode61 remove_diacritics 2``)
tokenises text: case-folded, Latin diacritics removed, split at anything that is not a
letter or digit.  Hence ``Kim Jong Un`` matches "Kim Jong-un", ``Jong-un`` matches
"Jong Un" (a hyphenated word is a phrase), ``cafe`` matches "café".  Greek tonos and
Cyrillic й/ё are letters of their own to unicode61, not diacritics; CJK text without spaces
is one token per run, so ``朝鲜`` finds "朝鲜" but not "北朝鲜的" (use ``北朝鲜*``).

Rules that make a query an error (`QueryError`, with what is wrong): an empty query,
unbalanced quotes or parentheses, an operator with nothing on one side, a bare ``*``, and a
NOT with nothing to exclude from (``NOT Putin`` alone, ``a OR NOT b``): FTS5 can only
subtract from a set of matches, never list "everything but".  A term with no letters or
digits (``"--"``, a lone ``-``) is dropped from a larger query; if nothing is left, that is
an error too.  A leading ``-`` is not an operator: ``-Putin`` is the word Putin.

Users never write FTS5: every term is emitted as a quoted FTS5 string, so ``title:x``,
``NEAR(a b)``, ``^x`` or ``+`` typed by a user are just words.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Hashable, Iterable, NamedTuple, Sequence, TypeVar

from .clock import to_iso
from .errors import QueryError
from .store.migrations import FTS_TOKENIZE

__all__ = ["Query", "Term", "compile_query", "match_batch", "search", "highlight", "tokenize"]

ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")
_MAX_DEPTH = 64  # nested parentheses; FTS5 itself stops at 256 levels


class Term(NamedTuple):
    """A positive search term for highlighting: folded tokens, and whether the last is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class Query:
    source: str  # what the user wrote
    fts: str  # the FTS5 MATCH expression
    terms: tuple[Term, ...]  # positive terms (not under NOT), for highlighting


# ---------------------------------------------------------------------------------------
# Tokenisation, learnt from SQLite's own unicode61 tokenizer.
#
# unicode61 folds and splits one code point at a time, but its tables are not Python's:
# it removes diacritics only from Latin letters (ł -> l, but ά, й stay), keeps ligatures
# (ﬁ), and treats some combining marks as separators (Devanagari vowel signs) and others as
# removable (U+0301).  Rather than approximate that with NFKD, each code point is probed
# once in an in-memory FTS5 table ("a<c>a" yields "a<fold>a" or "a", "a"), so highlighting
# and the empty-term check agree with the index exactly, whatever SQLite version is linked.

_fold: dict[str, str | None] = {}  # char -> folded text ("" if removed), None: separator
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


# ---------------------------------------------------------------------------------------
# Lexer and parser


class _Tok(NamedTuple):
    kind: str  # WORD PHRASE AND OR NOT ( )
    text: str
    pos: int  # 0-based offset in the source
    prefix: bool = False


_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}
_STARTS_TERM = {"WORD", "PHRASE", "(", "NOT"}


def _lex(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok(c, c, i))
            i += 1
        elif c == '"':
            end = src.find('"', i + 1)
            if end < 0:
                raise QueryError(f'unbalanced quote: the " at position {i + 1} is never closed')
            prefix = end + 1 < n and src[end + 1] == "*"
            toks.append(_Tok("PHRASE", src[i + 1 : end], i, prefix))
            i = end + 2 if prefix else end + 1
        else:
            j = i
            while j < n and not src[j].isspace() and src[j] not in '()"':
                j += 1
            word = src[i:j]
            op = _OPERATORS.get(word.lower())
            if op:
                toks.append(_Tok(op, word, i))
            else:
                stem = word.rstrip("*")
                if not stem:
                    raise QueryError(
                        f"a bare * at position {i + 1}: put it right after a word, e.g. Korea*"
                    )
                toks.append(_Tok("WORD", stem, i, len(stem) < len(word)))
            i = j
    return toks


# AST: ("term", tokens, raw_tokens, prefix, source) | ("and", [..]) | ("or", [..]) | ("not", x)


class _Parser:
    def __init__(self, src: str, toks: list[_Tok]):
        self.src, self.toks, self.i, self.depth = src, toks, 0, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def need_term_after(self, op: _Tok) -> None:
        nxt = self.peek()
        if nxt is None or nxt.kind not in _STARTS_TERM:
            raise QueryError(f"{op.kind} at position {op.pos + 1} needs a term after it")

    def parse(self):
        if not self.toks:
            raise QueryError("empty query: give at least one word")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:  # only a stray ")" can stop parse_or early
            raise QueryError(f"unbalanced parenthesis: the ) at position {tok.pos + 1} "
                             "has no matching (")
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            self.need_term_after(tok)
            items.append(self.parse_and())
        return ("or", items) if len(items) > 1 else items[0]

    def parse_and(self):
        items = [self.parse_unary()]
        while (tok := self.peek()) is not None:
            if tok.kind == "AND":
                self.i += 1
                self.need_term_after(tok)
            elif tok.kind not in _STARTS_TERM:
                break
            items.append(self.parse_unary())
        return ("and", items) if len(items) > 1 else items[0]

    def parse_unary(self):
        tok = self.peek()
        if tok is not None and tok.kind == "NOT":
            self.i += 1
            self.need_term_after(tok)
            return ("not", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self):
        tok = self.peek()
        if tok is None:  # callers check need_term_after, so only reached on a bug
            raise QueryError("the query ends where a term was expected")
        if tok.kind in ("AND", "OR"):
            raise QueryError(f"{tok.kind} at position {tok.pos + 1} needs a term before it")
        if tok.kind == ")":
            raise QueryError(f"unbalanced parenthesis: the ) at position {tok.pos + 1} "
                             "has no matching (")
        self.i += 1
        if tok.kind == "(":
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError(f"empty parentheses at position {tok.pos + 1}")
            if nxt is None:
                raise QueryError(f"unbalanced parenthesis: the ( at position {tok.pos + 1} "
                                 "is never closed")
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise QueryError(f"parentheses nested more than {_MAX_DEPTH} deep")
            node = self.parse_or()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(f"unbalanced parenthesis: the ( at position {tok.pos + 1} "
                                 "is never closed")
            self.i += 1
            return node
        pieces = tokenize(tok.text)
        return ("term", tuple(p[2] for p in pieces), tuple(tok.text[s:e] for s, e, _ in pieces),
                tok.prefix, tok.text)


def _simplify(node):
    """Drop terms without letters or digits, flatten AND/OR chains, cancel NOT NOT."""
    kind = node[0]
    if kind == "term":
        return node if node[1] else None
    if kind == "not":
        inner = _simplify(node[1])
        if inner is None:
            return None
        return inner[1] if inner[0] == "not" else ("not", inner)
    items = []
    for child in node[1]:
        s = _simplify(child)
        if s is None:
            continue
        items.extend(s[1] if s[0] == kind else [s])
    if not items:
        return None
    return (kind, items) if len(items) > 1 else items[0]


def _lone_not(node) -> QueryError:
    inner = node[1]
    what = inner[4] if inner[0] == "term" else "(...)"
    return QueryError(
        f"NOT {what} has nothing to exclude from: FTS5 cannot search for everything but "
        f"something; put a term before it, e.g. Russia NOT {what}"
    )


def _fts_string(raw_tokens: tuple[str, ...]) -> str:
    # Separators between tokens become single spaces: the string tokenises exactly like the
    # user's text, and control characters (NUL ends an FTS5 string early) never reach FTS5.
    return '"' + " ".join(raw_tokens).replace('"', '""') + '"'


def _emit(node, terms: list[Term]) -> str:
    kind = node[0]
    if kind == "term":
        term = Term(node[1], node[3])
        if term not in terms:
            terms.append(term)
        return _fts_string(node[2]) + ("*" if node[3] else "")
    if kind == "not":
        raise _lone_not(node)
    if kind == "or":
        return "(" + " OR ".join(_emit(c, terms) for c in node[1]) + ")"
    positives = [c for c in node[1] if c[0] != "not"]
    negatives = [c[1] for c in node[1] if c[0] == "not"]
    if not positives:
        raise _lone_not(node[1][0])
    expr = _group(" AND ", [_emit(c, terms) for c in positives])
    if negatives:
        ignored: list[Term] = []  # excluded terms are not highlighted
        expr = f"({expr} NOT {_group(' OR ', [_emit(c, ignored) for c in negatives])})"
    return expr


def _group(op: str, parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + op.join(parts) + ")"


def _check(fts: str) -> None:
    """Run the expression once on an empty FTS5 table: an error here is a bug of ours,
    but the user must still see a QueryError, never an sqlite error."""
    with _fold_lock:
        conn = _probe()
        try:
            conn.execute("SELECT rowid FROM empty WHERE empty MATCH ?", (fts,)).fetchall()
        except sqlite3.Error as exc:
            raise QueryError(f"cannot search for this query ({exc})") from exc


def compile_query(text: str) -> Query:
    """Compile the user's query to an FTS5 MATCH expression; QueryError says what is wrong."""
    if not isinstance(text, str):
        raise QueryError(f"a query must be text, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError("the query contains characters that are not valid text") from exc
    if not text.strip():
        raise QueryError("empty query: give at least one word")
    node = _Parser(text, _lex(text)).parse()
    simple = _simplify(node)
    if simple is None:
        raise QueryError(f"{text.strip()!r} has no letters or digits to search for")
    terms: list[Term] = []
    fts = _emit(simple, terms)
    if fts.startswith("(") and fts.endswith(")") and _balanced_inside(fts):
        fts = fts[1:-1]
    _check(fts)
    return Query(source=text, fts=fts, terms=tuple(terms))


def _balanced_inside(fts: str) -> bool:
    """Whether the outer parentheses of `fts` enclose the whole expression (cosmetic)."""
    depth, in_str = 0, False
    for i, c in enumerate(fts):
        if c == '"':
            in_str = not in_str  # a doubled "" toggles twice: still correct
        elif not in_str and c == "(":
            depth += 1
        elif not in_str and c == ")":
            depth -= 1
            if depth == 0 and i != len(fts) - 1:
                return False
    return True


# ---------------------------------------------------------------------------------------
# Matching a batch of new articles


K = TypeVar("K", bound=Hashable)


def match_batch(
    watches: Sequence[tuple[K, Query]], docs: Sequence[tuple[int, str, str]]
) -> list[tuple[K, int]]:
    """Which watches match which of `docs` ((doc_id, title, text)): [(watch key, doc_id)].

    The batch goes into a throw-away in-memory FTS5 table with the archive's tokenizer, so
    the cost depends on the batch and the number of watches, never on the archive size.
    Identical queries run once.  Pairs come in watch order, then doc_id order.
    """
    if not watches or not docs:
        return []
    by_fts: dict[str, list[K]] = {}
    for key, query in watches:
        by_fts.setdefault(query.fts, []).append(key)
    rows: dict[int, tuple[str, str]] = {}
    for doc_id, title, text in docs:
        rows[int(doc_id)] = (title or "", text or "")
    conn = sqlite3.connect(":memory:")
    try:
        # contentless: only the index is needed, the caller has the text
        conn.execute(
            f"CREATE VIRTUAL TABLE batch USING fts5(title, text, content='', "
            f"tokenize='{FTS_TOKENIZE}')"
        )
        with conn:
            conn.executemany(
                "INSERT INTO batch(rowid, title, text) VALUES (?, ?, ?)",
                ((k, _storable(t), _storable(x)) for k, (t, x) in rows.items()),
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
        out.extend((key, doc_id) for doc_id in hits[query.fts])
    return out


def _storable(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


# ---------------------------------------------------------------------------------------
# Searching the archive


def search(
    db,
    query: Query,
    *,
    limit: int = 50,
    outlet: str | Sequence[str] | None = None,
    since: str | datetime | None = None,
    include_duplicates: bool = False,
) -> list[dict]:
    """Stored articles matching `query`, best first (bm25, title weighted double), newest
    first among equals.  `since` compares with the published date, or first_seen when the
    date is unknown.  Copies of a story found as near-duplicates are left out unless
    `include_duplicates`.  Rows: id, url, outlet, title, published, first_seen, snippet (a
    plain string) and snippet_segments (highlight() segments for bold rendering)."""
    outlets = None
    if outlet is not None:
        outlets = [outlet] if isinstance(outlet, str) else list(outlet)
    rows = db.search_articles(
        query.fts, source=query.source, limit=limit, outlets=outlets,
        since=to_iso(since) if isinstance(since, datetime) else since,
        include_duplicates=include_duplicates)
    out = []
    for row in rows:
        segments = highlight(row.pop("text") or "", query)
        out.append({**row, "snippet": "".join(s for s, _ in segments),
                    "snippet_segments": segments})
    return out


# ---------------------------------------------------------------------------------------
# Highlighting


def _find(tokens: list[tuple[int, int, str]], terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of a term, merged where they overlap."""
    folded = [t[2] for t in tokens]
    n = len(folded)
    spans = []
    for term in terms:
        want, last = term.tokens, len(term.tokens) - 1
        if not want:
            continue
        first = want[0]
        for i in range(n - last):
            tok = folded[i]
            if last == 0:
                ok = tok.startswith(first) if term.prefix else tok == first
            else:
                ok = (tok == first
                      and all(folded[i + k] == want[k] for k in range(1, last))
                      and (folded[i + last].startswith(want[last]) if term.prefix
                           else folded[i + last] == want[last]))
            if ok:
                spans.append((tokens[i][0], tokens[i + last][1]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text)


def highlight(text: str, query: Query, width: int = 240) -> list[tuple[str, bool]]:
    """About `width` characters of `text` around the first match, as (segment, is_match).

    Whitespace runs (paragraph breaks) become single spaces; "…" segments mark cuts.  A
    phrase is one segment even across a hyphen; a prefix term marks the whole word.  With
    no match, the snippet is the start of the text."""
    if not text:
        return []
    spans = _find(tokenize(text), query.terms)
    n = len(text)
    if spans:
        m_start, m_end = spans[0]
        start = max(0, m_start - width // 4)
        if start > 0:  # begin at a word boundary, never after the match
            ws = _next_space(text, start, m_start)
            start = ws + 1 if ws is not None else m_start
    else:
        m_start = m_end = start = 0
    end = max(start + width, m_end)
    if end < n:
        ws = _prev_space(text, max(m_end, start + 1), end)
        if ws is not None:
            end = ws
    end = min(end, n)
    for s, e in spans:  # never cut through a match
        if s < end < e:
            end = e
    segments: list[tuple[str, bool]] = []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        if s > pos:
            segments.append((text[pos:s], False))
        segments.append((text[s:e], True))
        pos = e
    if pos < end:
        segments.append((text[pos:end], False))
    segments = [(_squash(seg), hit) for seg, hit in segments]
    if segments and not segments[0][1]:
        segments[0] = (segments[0][0].lstrip(), False)
    if segments and not segments[-1][1]:
        segments[-1] = (segments[-1][0].rstrip(), False)
    segments = [(seg, hit) for seg, hit in segments if seg]
    if start > 0:
        segments.insert(0, (ELLIPSIS, False))
    if end < n and text[end:].strip():
        segments.append((ELLIPSIS, False))
    return segments


def _next_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(lo, hi):
        if text[i].isspace():
            return i
    return None


def _prev_space(text: str, lo: int, hi: int) -> int | None:
    for i in range(hi, lo - 1, -1):
        if text[i].isspace():
            return i
    return None
