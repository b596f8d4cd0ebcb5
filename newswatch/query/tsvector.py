"""The folded index entry of one article as a PostgreSQL `tsvector` literal, built in Python
since the server cannot run newswatch's folding (the store writes it: newswatch.store.pg.fold;
an extraction worker may build it beforehand: `newswatch.query.entry`).

It holds the three spaces of the query language's index (`newswatch.query.archive`), told
apart by a tag in front of each lexeme: the unicode61 tokens as typed (no tag), their folded
forms where folding changed something (``!``) and their spelling-variant keys (``?``); a
tag is never a letter or digit, so no token can look like another space's. Each space counts
its own positions (a phrase only ever joins lexemes of one space); the title has weight A,
the text B, and starts after a gap, so no phrase spans the two. `newswatch.store.pg.tsquery`
reads it. Pure functions: no SQL here."""

from __future__ import annotations

from .archive import archive_columns, archive_tokens

TAGS = {"o": "", "f": "!", "k": "?"}
MAX_POSITION = 16383  # a tsvector's largest position
MAX_POSITIONS = 256  # positions kept per lexeme
MAX_LEXEME = 2000  # bytes; PostgreSQL refuses longer ones
MAX_SIZE = 900_000  # bytes of literal, under the 1 MB a tsvector holds


def quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def fold_tsvector(title: str | None, text: str | None,
                  columns: tuple[str, str, str, str] | None = None) -> str:
    """The `tsvector` literal of one article's folded index entry; `columns`: its
    `archive_columns(title, text)` when already known."""
    title_f, text_f, title_k, text_k = columns or archive_columns(title, text)
    spaces = (
        (TAGS["o"], archive_tokens(title), archive_tokens(text)),
        (TAGS["f"], archive_tokens(title_f), archive_tokens(text_f)),
        (TAGS["k"], archive_tokens(title_k), archive_tokens(text_k)),
    )
    start = max(len(s[1]) for s in spaces) + 2
    where: dict[str, list[str]] = {}
    size = 0
    for tag, title_toks, text_toks in spaces:
        for first, weight, toks in ((1, "A", title_toks), (start, "B", text_toks)):
            if first > MAX_POSITION or size > MAX_SIZE:
                break
            # Per token only a dict lookup and an append: a pass folds every new article.
            for pos, tok in enumerate(toks[:MAX_POSITION - first + 1], first):
                lexeme = tag + tok
                seen = where.get(lexeme)
                if seen is None:
                    if size > MAX_SIZE:
                        break
                    # 4 bytes per character at most: encode only the rare long ones.
                    if len(lexeme) * 4 > MAX_LEXEME and \
                            len(lexeme.encode("utf-8")) > MAX_LEXEME:
                        continue
                    where[lexeme] = seen = []
                    size += len(lexeme) + 4
                if len(seen) < MAX_POSITIONS:
                    seen.append(f"{pos}{weight}")
                    size += 7
    return " ".join(f"{quote(lex)}:{','.join(pos)}" for lex, pos in where.items())
