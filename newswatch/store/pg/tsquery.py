"""Archive search on PostgreSQL: a compiled query (`newswatch.query.Query`) as a `tsquery`
over the folded index (`newswatch.store.pg.fold`).

`compile_query` already turned what the user wrote into an FTS5 expression made of quoted
strings (the words as the user wrote them, separated by single spaces), an optional `*`
after a string (prefix on its last word), AND, OR, binary NOT and parentheses; `Query.folded`
adds column filters naming the index's spaces. That expression is the parsed query's
contract, so it is read here rather than the parser's internals: the same terms, the same
structure, whatever else changes in the query package. A phrase is `<->` between its words,
a prefix is `:*`, AND/OR/NOT are `&`, `|`, `& !`.
"""

from __future__ import annotations

from typing import NamedTuple

from ...errors import QueryError

class _Tok(NamedTuple):
    kind: str  # STR AND OR NOT ( ) STAR
    text: str


def _lex(expr: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
        elif c in "()*":
            out.append(_Tok("STAR" if c == "*" else c, c))
            i += 1
        elif c in ":+":  # column filter, phrase join (`Query.folded` only)
            out.append(_Tok(c, c))
            i += 1
        elif c == "{":
            j = expr.find("}", i)
            if j < 0:
                raise QueryError(f"cannot search for {expr!r}: unbalanced column filter")
            out.append(_Tok("COLS", " ".join(expr[i:j + 1].split())))
            i = j + 1
        elif c == '"':
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise QueryError(f"cannot search for {expr!r}: unbalanced quote")
                if expr[j] == '"':
                    if j + 1 < n and expr[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(expr[j])
                j += 1
            out.append(_Tok("STR", "".join(buf)))
            i = j + 1
        else:
            j = i
            while j < n and not expr[j].isspace() and expr[j] not in '()"*{:+':
                j += 1
            word = expr[i:j]
            if word in ("AND", "OR", "NOT"):
                out.append(_Tok(word, word))
            else:  # a bare word (FTS5 allows them): the same as a quoted one
                out.append(_Tok("STR", word))
            i = j
    return out


class _Parser:
    """FTS5 precedence: NOT (binary) binds tightest, then AND (explicit or implicit), then
    OR. Nodes: ("term", words, prefix) | ("and"|"or", [nodes]) | ("not", left, right)."""

    def __init__(self, toks: list[_Tok]):
        self.toks, self.i = toks, 0

    def peek(self) -> str | None:
        return self.toks[self.i].kind if self.i < len(self.toks) else None

    def parse(self):
        node = self.parse_or()
        if self.peek() is not None:
            raise QueryError("cannot search for this query: unexpected "
                             f"{self.toks[self.i].text!r}")
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while self.peek() == "OR":
            self.i += 1
            items.append(self.parse_and())
        return ("or", items) if len(items) > 1 else items[0]

    def parse_and(self):
        items = [self.parse_not()]
        while self.peek() in ("AND", "STR", "("):
            if self.peek() == "AND":
                self.i += 1
            items.append(self.parse_not())
        return ("and", items) if len(items) > 1 else items[0]

    def parse_not(self):
        node = self.parse_primary()
        while self.peek() == "NOT":
            self.i += 1
            node = ("not", node, self.parse_primary())
        return node

    def parse_primary(self):
        kind = self.peek()
        if kind == "(":
            self.i += 1
            node = self.parse_or()
            if self.peek() != ")":
                raise QueryError("cannot search for this query: unbalanced parenthesis")
            self.i += 1
            return node
        if kind == "STR":
            words = tuple(self.toks[self.i].text.split())
            self.i += 1
            prefix = self.peek() == "STAR"
            if prefix:
                self.i += 1
            return ("term", words, prefix)
        raise QueryError("cannot search for this query: a term was expected")


# -- the folded index (`newswatch.store.pg.fold`) ---------------------------------------
#
# `Query.folded` adds column filters ({title text} : ..., {title_f text_f} : ...) and
# phrases joined with + ("srk0"* + "lfrf0lavrov") to the syntax above. Its words are
# tokenised here as SQLite's unicode61 does (`newswatch.query.tokenize`), the way the index
# was built, so the tsquery is a literal: no server-side normalisation.

_SPACES = {"{title text}": "o", "{title_f text_f}": "f", "{title_k text_k}": "k"}


class _FoldedParser(_Parser):
    """Nodes: ("phrase", space, [(words, prefix), ...]) | ("and"|"or", [...]) | ("not", l, r)."""

    space = "o"

    def parse_and(self):
        items = [self.parse_not()]
        while self.peek() in ("AND", "STR", "(", "COLS"):
            if self.peek() == "AND":
                self.i += 1
            items.append(self.parse_not())
        return ("and", items) if len(items) > 1 else items[0]

    def parse_primary(self):
        if self.peek() == "COLS":
            cols = self.toks[self.i].text
            if cols not in _SPACES or self.toks[self.i + 1:self.i + 2] != [_Tok(":", ":")]:
                raise QueryError(f"cannot search for this query: column filter {cols}")
            self.i += 2
            outer, self.space = self.space, _SPACES[cols]
            try:
                return self.parse_primary()
            finally:
                self.space = outer
        if self.peek() != "STR":
            return super().parse_primary()
        parts = []
        while True:
            words = self.toks[self.i].text
            self.i += 1
            prefix = self.peek() == "STAR"
            if prefix:
                self.i += 1
            parts.append((words, prefix))
            if self.peek() != "+":
                break
            self.i += 1
            if self.peek() != "STR":
                raise QueryError("cannot search for this query: + needs a phrase after it")
        return ("phrase", self.space, parts)


def _phrase(tag: str, parts) -> str:
    from ...query.tokens import tokenize  # the tokenizer the index was built with
    from ...query.tsvector import quote

    lexemes = []
    for words, prefix in parts:
        toks = [t for _, _, t in tokenize(words)]
        if not toks:
            raise QueryError("cannot search for this query: a term without letters or digits")
        lexemes += [quote(tag + t) for t in toks]
        if prefix:
            lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def _emit_folded(node) -> str:
    from ...query.tsvector import TAGS

    kind = node[0]
    if kind == "phrase":
        _, space, parts = node
        if space == "f":  # the folded form, or the typed one where nothing was folded
            return f"({_phrase(TAGS['f'], parts)} | {_phrase(TAGS['o'], parts)})"
        return _phrase(TAGS[space], parts)
    if kind == "not":
        return f"({_emit_folded(node[1])} & !{_emit_folded(node[2])})"
    op = " & " if kind == "and" else " | "
    return "(" + op.join(_emit_folded(c) for c in node[1]) + ")"


def folded_tsquery(folded: str) -> str:
    """The `tsquery` literal of a `Query.folded` expression, for the folded index."""
    return _emit_folded(_FoldedParser(_lex(folded)).parse())
