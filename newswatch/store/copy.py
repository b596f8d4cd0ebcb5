"""`newswatch store copy`: a whole SQLite store into PostgreSQL, ids kept.

Every table of the SQLite schema goes over (a table the PostgreSQL schema lacks is an
error, not a silent loss), in one transaction, with COPY. Ids are kept, so alerts, emails and
bands still point at their articles, and each identity sequence then starts after the
highest id copied. The target must hold no articles, alerts, emails or runs: copying twice,
or into a store in use, is refused rather than merged."""

from __future__ import annotations

from pathlib import Path

from ..errors import DatabaseError
from .target import is_postgres, redact, sqlite_path

# Parents before children (foreign keys); tables not named here follow in name order.
ORDER = ("outlets", "articles", "url_aliases", "watches", "outbox", "alerts", "runs",
         "http_cache", "fetches", "template_blocks", "template_pages", "lsh_bands", "digests")
MUST_BE_EMPTY = ("articles", "alerts", "outbox", "runs")
# SQLite tables stored in another shape on PostgreSQL: target table, and the SELECT that
# reads the source in the target's columns (a thread's terms: one JSON object per field).
RESHAPED = {
    "thread_terms": ("thread_slots", ("thread_id", "field", "terms"),
                     "SELECT thread_id, field, json_group_object(term, weight) "
                     "FROM thread_terms GROUP BY thread_id, field ORDER BY thread_id, field"),
}


def _sqlite_tables(conn) -> list[str]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'articles_fts%' AND name != '_sqlite_migrations'")]
    return sorted(names, key=lambda t: (ORDER.index(t) if t in ORDER else len(ORDER), t))


def copy_store(source: str | Path, target: str) -> dict[str, int]:
    """Copy; returns rows copied per table. DatabaseError says why nothing was copied."""
    from . import open_db

    if is_postgres(str(source)):
        raise DatabaseError(f"the source must be a SQLite store, not {redact(str(source))}")
    if not is_postgres(target):
        raise DatabaseError(f"the target must be a postgresql:// URL, not {target!r}")
    path = Path(sqlite_path(str(source))).expanduser()
    if not path.is_file():
        raise DatabaseError(f"{path}: no such SQLite store")
    src = open_db(path)  # migrated first: an older store gains the columns copied below
    dst = open_db(target)
    try:
        return _copy(src, dst)
    finally:
        src.close()
        dst.close()


def _copy(src, dst) -> dict[str, int]:
    conn = src.db.conn
    tables = _sqlite_tables(conn)
    missing = [t for t in tables if t not in RESHAPED
               and not dst.has_column(t, next(iter(_columns(conn, t))))]
    if missing:
        raise DatabaseError(f"the PostgreSQL schema has no table {', '.join(missing)}: "
                            "upgrade newswatch before copying")
    busy = {t: n for t in MUST_BE_EMPTY if (n := dst._value(f"SELECT count(*) FROM {t}"))}
    if busy:
        raise DatabaseError(
            f"{redact(dst.url)} is not empty ("
            + ", ".join(f"{n} {t}" for t, n in busy.items())
            + "): store copy only fills an empty database, it never merges")
    counts: dict[str, int] = {}
    pg = dst.conn
    with pg.transaction():
        for source in tables:
            if source in RESHAPED:
                table, cols, select = RESHAPED[source]
            else:
                table = source
                cols = [c for c in _columns(conn, table) if dst.has_column(table, c)]
                order = " ORDER BY id" if "id" in cols else ""
                select = f"SELECT {', '.join(cols)} FROM {table}{order}"
            # Tables with a few rows already (outlets, watches written at start) are
            # replaced: the source is the truth being moved.
            pg.execute(f"DELETE FROM {table}")
            late: list[tuple[int, int]] = []  # duplicate_of pointing at a later id
            n = 0
            with pg.cursor() as cur, cur.copy(
                    f"COPY {table} ({', '.join(cols)}) FROM STDIN") as out:
                dup = cols.index("duplicate_of") if table == "articles" else -1
                for row in conn.execute(select):
                    row = [_clean(v) for v in row]
                    if dup >= 0 and row[dup] is not None and row[dup] >= row[0]:
                        late.append((row[0], row[dup]))
                        row[dup] = None
                    out.write_row(row)
                    n += 1
            for article_id, original in late:
                pg.execute("UPDATE articles SET duplicate_of = %s WHERE id = %s",
                           [original, article_id])
            counts[source] = n
            if "id" in cols and dst._value(
                    "SELECT pg_get_serial_sequence(%s, 'id')".replace("%s", "?"), [table]):
                pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"coalesce(max(id), 0) + 1, false) FROM {table}")
    return counts


def _columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _clean(value):
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return value
