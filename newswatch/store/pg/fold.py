"""The folded archive index on PostgreSQL (migration m009_folded_search): one `tsvector`
per article built in Python, since the server cannot run newswatch's folding.

It holds the three spaces of the query language's index (`newswatch.query.archive`), told
apart by a tag in front of each lexeme: the unicode61 tokens as typed (no tag), their folded
forms where folding changed something (``!``) and their spelling-variant keys (``?``); a
tag is never a letter or digit, so no token can look like another space's. Each space counts
its own positions (a phrase only ever joins lexemes of one space); the title has weight A,
the text B, and starts after a gap, so no phrase spans the two. `tsquery.folded_tsquery`
reads it."""

from __future__ import annotations

from ...names import FOLD_VERSION
from ...query.archive import archive_columns, archive_tokens
from ..fold import CHUNK, drain

TAGS = {"o": "", "f": "!", "k": "?"}
MAX_POSITION = 16383  # a tsvector's largest position
MAX_POSITIONS = 256  # positions kept per lexeme
MAX_LEXEME = 2000  # bytes; PostgreSQL refuses longer ones
MAX_SIZE = 900_000  # bytes of literal, under the 1 MB a tsvector holds


def quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def fold_tsvector(title: str | None, text: str | None) -> str:
    """The `tsvector` literal of one article's folded index entry."""
    title_f, text_f, title_k, text_k = archive_columns(title, text)
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


def _writer(conn, version: int | None):
    """Index (id, title, text) rows; `version` None: no version column yet (m009 folds
    before m013 adds it)."""
    def write(rows) -> None:
        with conn.cursor() as cur:
            if version is None:
                cur.executemany(
                    "INSERT INTO articles_fts_fold (id, fold) VALUES (%s, %s::tsvector) "
                    "ON CONFLICT (id) DO UPDATE SET fold = excluded.fold",
                    [(i, fold_tsvector(title, text)) for i, title, text in rows])
                return
            cur.executemany(
                "INSERT INTO articles_fts_fold (id, fold, version) "
                "VALUES (%s, %s::tsvector, %s) "
                "ON CONFLICT (id) DO UPDATE SET fold = excluded.fold, version = excluded.version",
                [(i, fold_tsvector(title, text), version) for i, title, text in rows])
    return write


def fold_pending_pg(conn, version: int | None = FOLD_VERSION) -> int:
    """Fold every queued article (psycopg connection); returns how many."""
    def read() -> list:
        return conn.execute(
            "SELECT p.id, a.id, a.title, a.text FROM articles_fts_fold_pending p "
            "LEFT JOIN articles a ON a.id = p.id ORDER BY p.id LIMIT %s", [CHUNK]).fetchall()

    def done(ids) -> None:
        conn.execute("DELETE FROM articles_fts_fold_pending WHERE id = ANY(%s)", [list(ids)])

    return drain(read, _writer(conn, version), done)


def refold_pg(conn, limit: int = CHUNK) -> int:
    """`newswatch.store.fold.refold_sqlite` on PostgreSQL: fold again up to `limit` entries
    built by older rules, in the caller's transaction; returns how many."""
    rows = [tuple(r) for r in conn.execute(
        "SELECT f.id, a.title, a.text FROM articles_fts_fold f JOIN articles a ON a.id = f.id "
        "WHERE f.version < %s ORDER BY f.id LIMIT %s", [FOLD_VERSION, int(limit)]).fetchall()]
    if rows:
        _writer(conn, FOLD_VERSION)(rows)
    return len(rows)
