"""The query language parsed to an AST (see `newswatch.query` for the language)."""

from __future__ import annotations

from typing import NamedTuple

from ..errors import QueryError
from ..names import fold
from .tokens import tokenize

_MAX_DEPTH = 64  # nested parentheses; FTS5 itself stops at 256 levels


class _Tok(NamedTuple):
    kind: str  # WORD PHRASE AND OR NOT ( )
    text: str
    pos: int  # 0-based offset in the source
    prefix: bool = False


_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}
_STARTS_TERM = {"WORD", "PHRASE", "ALIAS", "(", "NOT"}


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
        elif c == "@" and i + 1 < n and not src[i + 1].isspace() and src[i + 1] not in "()":
            start = i
            if src[i + 1] == '"':
                end = src.find('"', i + 2)
                if end < 0:
                    raise QueryError(f'unbalanced quote: the " at position {i + 2} is never closed')
                name, i = src[i + 2 : end], end + 1
            else:
                j = i + 1
                while j < n and not src[j].isspace() and src[j] not in '()"':
                    j += 1
                name, i = src[i + 1 : j], j
            toks.append(_Tok("ALIAS", name, start))
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


# AST: ("term", tokens, raw_tokens, prefix, source, tildes) | ("and", [..]) | ("or", [..])
# | ("not", x); tildes: per token, whether it is a ~ (variants) token; stem: an alias form


def _term(text: str, prefix: bool, stem: bool = False):
    pieces = tokenize(text)
    tildes = tuple(s > 0 and text[s - 1] == "~" for s, _, _ in pieces)
    if prefix and tildes and tildes[-1]:
        raise QueryError(f"~ and * cannot be combined ({text}*): ~ already matches variants")
    return ("term", tuple(p[2] for p in pieces), tuple(text[s:e] for s, e, _ in pieces),
            prefix, text, tildes, stem)


class _Parser:
    def __init__(self, src: str, toks: list[_Tok], aliases=None):
        self.src, self.toks, self.i, self.depth = src, toks, 0, 0
        self.aliases = aliases or {}

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
        if tok.kind == "ALIAS":
            forms = self.aliases.get(fold(tok.text))
            if forms is None:
                known = ", ".join(sorted(f[0] for f in self.aliases.values())) or "none defined"
                raise QueryError(f"no alias named {tok.text!r} at position {tok.pos + 1} "
                                 f"(aliases: {known})")
            # an alias's Cyrillic forms also match their case forms (Ким Чен Ына)
            return ("or", [_term(f.replace("~", " "), False, True) for f in forms])
        return _term(tok.text, tok.prefix)


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
