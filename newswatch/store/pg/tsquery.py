"""Archive search on PostgreSQL: a compiled query (`newswatch.query.Query`) as a `tsquery`.

`compile_query` already turned what the user wrote into an FTS5 expression made of quoted
strings (the words as the user wrote them, separated by single spaces), an optional `*`
after a string (prefix on its last word), AND, OR, binary NOT and parentheses. That
expression is the parsed query's contract, so it is read here rather than the parser's
internals: the same terms, the same structure, whatever else changes in the query package.

Each word goes through the archive's own normalisation on the server (`newswatch_words`
then the `newswatch` configuration: lower case, `unaccent`), exactly as the indexed text
does; a phrase is `<->` between its words, a prefix is `:*`, AND/OR/NOT are `&&`, `||`,
`&& !!`. The result is an SQL expression with its parameters.
"""

from __future__ import annotations

from typing import NamedTuple

from ...errors import QueryError

CONFIG = "newswatch"


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
            while j < n and not expr[j].isspace() and expr[j] not in '()"*':
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


def _emit(node, params: list) -> str:
    kind = node[0]
    if kind == "term":
        words, prefix = node[1], node[2]
        if not words:
            return "''::tsquery"
        parts = []
        for k, word in enumerate(words):
            params.append(word)
            if prefix and k == len(words) - 1:
                parts.append("newswatch_prefix(%s)")  # the normalised word, quoted, :*
            else:
                parts.append(f"phraseto_tsquery('{CONFIG}', newswatch_words(%s))")
        expr = parts[0]
        for part in parts[1:]:
            expr = f"({expr} <-> {part})"
        return expr
    if kind == "not":
        return f"({_emit(node[1], params)} && !! {_emit(node[2], params)})"
    op = " && " if kind == "and" else " || "
    return "(" + op.join(_emit(c, params) for c in node[1]) + ")"


def to_tsquery_sql(fts: str) -> tuple[str, list]:
    """An SQL expression of type tsquery for the FTS5 expression `fts`, and its parameters."""
    params: list = []
    return _emit(_Parser(_lex(fts)).parse(), params), params
