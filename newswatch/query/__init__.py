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

Names across scripts and spellings (`newswatch.names`; `match_batch` and the archive
`search` alike, the latter on the store's folded index, `newswatch.query.archive`)::

    Lavrov                      also "Лавров", "Лаврова", "Лаврову" (a Latin word matches the
                                transliterated Cyrillic word, case ending removed if
                                capitalised as a name: never "путина", nor "Путина" opening
                                a sentence without other evidence), never "Lavrova"
    Лавров                      also "Lavrov" (a non-Latin word matches its transliteration)
    ~Sergei   "~Sergei Lavrov"  spelling variants: Sergey, Serguei, Сергей, Сергея (Double Metaphone;
                                capitalised words only, or the spelling typed: never "surgei")
    @"Kim Jong Un"              any variant of the alias (``aliases`` of compile_query)

A word only ever meets words of its own script as it is typed: folding merges nothing
within one script (брат/брать, Masse/Maße stay apart).

Users never write FTS5: every term is emitted as a quoted FTS5 string, so ``title:x``,
``NEAR(a b)``, ``^x`` or ``+`` typed by a user are just words.
"""

from .batch import match_batch
from .compile import Form, Query, Term, compile_query
from .highlight import highlight, matched_forms
from .search import search
from .tokens import tokenize

__all__ = ["Query", "Term", "Form", "compile_query", "match_batch", "search", "highlight",
           "matched_forms", "tokenize"]
