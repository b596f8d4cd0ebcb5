"""The AST compiled to FTS5 MATCH expressions: `compile_query` and its `Query`."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import QueryError
from ..names import alias_table, fold_word, is_latin, key_token, transliterate, variant_key
from .parser import _lex, _lone_not, _Parser, _simplify
from .tokens import FTS_TOKENIZE, _fold_lock, _probe


class Term(NamedTuple):
    """A positive search term for highlighting: folded tokens, and whether the last is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool


class Form(NamedTuple):
    """A positive term as the folded index sees it: per token (space, value), space "o" the
    unicode61 token, "f" its `fold_word`; a ~ token is ("k", key, lower): a capitalised word
    whose fold has the `variant_key` key, or a word in lower case folding to `lower`."""

    parts: tuple[tuple[str, str], ...]
    prefix: bool


# The batch index: the text as typed, folded (names.fold_word per token), and keyed
# (`key_token` per token, "<variant key><case mark><fold>", for ~).  Positions line up across the three.
_ORIG, _FOLD, _KEY = "{title text}", "{title_f text_f}", "{title_k text_k}"
_BATCH_COLUMNS = "title, text, title_f, text_f, title_k, text_k"


@dataclass(frozen=True)
class Query:
    source: str  # what the user wrote
    fts: str  # the FTS5 MATCH expression on the plain (title, text) index
    terms: tuple[Term, ...]  # positive terms (not under NOT), for highlighting
    folded: str = ""  # the MATCH expression on the folded batch index (match_batch)
    forms: tuple[Form, ...] = ()  # positive terms for highlight / matched_forms
    needs: frozenset = frozenset()  # batch columns beyond the folded ones: "o", "k"
    # keyed-column tokens the query looks for: ("p", "<key>0") as a prefix (a ~ word) and
    # ("t", "<key>0<fold>") exactly (a plain word in a ~ phrase); match_batch writes only
    # those tokens into the keyed column
    keyed: frozenset = frozenset()


def _fts_string(raw_tokens: tuple[str, ...]) -> str:
    # Separators between tokens become single spaces: the string tokenises exactly like the
    # user's text, and control characters (NUL ends an FTS5 string early) never reach FTS5.
    return '"' + " ".join(raw_tokens).replace('"', '""') + '"'


def _folded_term(node, forms: list[Form], needs: set) -> str:
    """The term on the folded batch index: Latin words on the folded columns, other words
    as typed or transliterated on the plain ones, ~ words by their variant key."""
    _, tokens, raw, prefix, _, tildes, stem = node
    star = "*" if prefix else ""
    if any(tildes):
        needs.add("k")
        parts, alts = [], []
        for tok, tilde in zip(tokens, tildes):
            low = fold_word(tok, False)  # the word written in lower case (never a name)
            if tilde and variant_key(fold_word(tok)):
                key = variant_key(fold_word(tok))
                # any capitalised word of the key, or the spelling typed in lower case
                parts.append(("k", key, low))
                exact = key_token(low, True)
                alts.append([_fts_string((key + "0",)) + "*", _fts_string((exact,))])
                needs.update({("p", key + "0"), ("t", exact)})
            else:
                parts.append(("f", fold_word(tok)))
                forms_ = {key_token(fold_word(tok), False), key_token(low, False),
                          key_token(low, True)}
                alts.append([_fts_string((t,)) for t in sorted(forms_)])
                needs.update(("t", t) for t in forms_)
        if prefix:  # the last word is a prefix: its key is unknown, so not on the key index
            parts[-1] = ("f", tokens[-1])
            _add(forms, Form(tuple(parts), True))
            last = f"{_FOLD} : {_fts_string((tokens[-1],))}*"
            return f"({_keyed_phrase(alts[:-1])} AND {last})" if len(alts) > 1 else last
        _add(forms, Form(tuple(parts), False))
        return _keyed_phrase(alts)
    if all(is_latin(t) for t in tokens):
        _add(forms, Form(tuple(("f", t) for t in tokens), prefix))
        return f"{_FOLD} : {_fts_string(raw)}{star}"
    needs.add("o")
    _add(forms, Form(tuple(("o", t) for t in tokens), prefix))
    expr = f"{_ORIG} : {_fts_string(raw)}{star}"
    latin = tuple(transliterate(t) or t for t in tokens)  # never stemmed: the form typed
    # a Cyrillic prefix asks for case forms of a Cyrillic word (Лавров*), not for Latin words
    if not prefix and all(is_latin(t) for t in latin) and latin != tokens:
        _add(forms, Form(tuple(("o", t) for t in latin), prefix))
        expr = f"({expr} OR {_ORIG} : {_fts_string(latin)}{star})"
    if stem and not prefix:
        # the stem as a prefix: Snowball does not always cut a name where its case forms do
        folded = tuple(fold_word(t) for t in tokens)
        _add(forms, Form(tuple(("f", t) for t in folded), True))
        expr = f"({expr} OR {_FOLD} : {_fts_string(folded)}*)"
    return expr


_MAX_SPELLINGS = 256  # phrases a ~ phrase expands to (2-3 per word): FTS5 has no OR inside a phrase


def _keyed_phrase(alts: list[list[str]]) -> str:
    """A phrase on the keyed columns whose words each have alternatives (their forms
    capitalised and in lower case): the OR of every combination."""
    combos = list(itertools.islice(itertools.product(*alts), _MAX_SPELLINGS + 1))
    if len(combos) > _MAX_SPELLINGS:
        raise QueryError(f"a phrase with ~ may have at most {_MAX_SPELLINGS.bit_length() - 2} "
                         "other words; split it with AND")
    out = [f"{_KEY} : {' + '.join(c)}" for c in combos]
    return out[0] if len(out) == 1 else "(" + " OR ".join(out) + ")"


def _add(items: list, item) -> None:
    if item not in items:
        items.append(item)


def _emit(node, terms: list[Term], forms: list[Form], needs: set) -> tuple[str, str]:
    """(plain, folded) MATCH expressions of `node`."""
    kind = node[0]
    if kind == "term":
        _add(terms, Term(node[1], node[3]))
        return _fts_string(node[2]) + ("*" if node[3] else ""), _folded_term(node, forms, needs)
    if kind == "not":
        raise _lone_not(node)
    if kind == "or":
        pairs = [_emit(c, terms, forms, needs) for c in node[1]]
        return tuple("(" + " OR ".join(p[i] for p in pairs) + ")" for i in (0, 1))
    positives = [c for c in node[1] if c[0] != "not"]
    negatives = [c[1] for c in node[1] if c[0] == "not"]
    if not positives:
        raise _lone_not(node[1][0])
    pos = [_emit(c, terms, forms, needs) for c in positives]
    out = [_group(" AND ", [p[i] for p in pos]) for i in (0, 1)]
    if negatives:
        ignored_t: list[Term] = []  # excluded terms are not highlighted
        ignored_f: list[Form] = []
        neg = [_emit(c, ignored_t, ignored_f, needs) for c in negatives]
        out = [f"({out[i]} NOT {_group(' OR ', [p[i] for p in neg])})" for i in (0, 1)]
    return out[0], out[1]


def _group(op: str, parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + op.join(parts) + ")"


_has_emptyf = False


def _make_emptyf(conn: sqlite3.Connection) -> None:
    global _has_emptyf
    conn.execute(f"CREATE VIRTUAL TABLE emptyf USING fts5({_BATCH_COLUMNS}, tokenize='{FTS_TOKENIZE}')")
    _has_emptyf = True


def _check(fts: str, table: str = "empty") -> None:
    """Run the expression once on an empty FTS5 table: an error here is a bug of ours,
    but the user must still see a QueryError, never an sqlite error."""
    with _fold_lock:
        conn = _probe()
        if table == "emptyf" and not _has_emptyf:
            _make_emptyf(conn)
        try:
            conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (fts,)).fetchall()
        except sqlite3.Error as exc:
            raise QueryError(f"cannot search for this query ({exc})") from exc


def compile_query(text: str, aliases=None) -> Query:
    """Compile the user's query to FTS5 MATCH expressions; QueryError says what is wrong.

    `aliases`: the config's ``[[aliases]]`` ({"name": ..., "variants": [...]} entries, a
    mapping name -> variants, or a table from `names.alias_table`), for ``@name``."""
    if not isinstance(text, str):
        raise QueryError(f"a query must be text, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError("the query contains characters that are not valid text") from exc
    if not text.strip():
        raise QueryError("empty query: give at least one word")
    node = _Parser(text, _lex(text), _aliases(aliases)).parse()
    simple = _simplify(node)
    if simple is None:
        raise QueryError(f"{text.strip()!r} has no letters or digits to search for")
    terms: list[Term] = []
    forms: list[Form] = []
    needs: set = set()
    fts, folded = _emit(simple, terms, forms, needs)
    if fts.startswith("(") and fts.endswith(")") and _balanced_inside(fts):
        fts = fts[1:-1]
    _check(fts)
    _check(folded, "emptyf")
    return Query(source=text, fts=fts, terms=tuple(terms), folded=folded, forms=tuple(forms),
                 needs=frozenset(n for n in needs if isinstance(n, str)),
                 keyed=frozenset(n for n in needs if not isinstance(n, str)))


def _aliases(aliases) -> dict:
    if not aliases:
        return {}
    try:
        return alias_table(aliases)
    except ValueError as exc:
        raise QueryError(str(exc)) from exc


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
