"""Searching the stored archive: `search`."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Sequence

from ..clock import to_iso
from ..errors import DatabaseError, QueryError
from .compile import Query
from .highlight import highlight


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
    conn = getattr(db, "conn", db)
    where = ["articles_fts MATCH ?"]
    params: list = [query.fts]
    if outlet is not None:
        outlets = [outlet] if isinstance(outlet, str) else list(outlet)
        where.append(f"a.outlet IN ({', '.join('?' * len(outlets))})")
        params.extend(outlets)
    if since is not None:
        where.append("coalesce(a.published, a.first_seen) >= ?")
        params.append(to_iso(since) if isinstance(since, datetime) else since)
    if not include_duplicates:
        where.append("a.duplicate_of IS NULL")
    sql = (
        "SELECT a.id, a.url, a.outlet, a.title, a.published, a.first_seen, a.text "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY bm25(articles_fts, 2.0, 1.0), coalesce(a.published, a.first_seen) DESC "
        "LIMIT ?"
    )
    params.append(int(limit))
    try:
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc):
            raise QueryError(f"cannot run query {query.source!r}: {exc}") from exc
        raise DatabaseError(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(str(exc)) from exc
    out = []
    for id_, url, outlet_, title, published, first_seen, text in rows:
        segments = highlight(text or "", query)
        out.append({
            "id": id_, "url": url, "outlet": outlet_, "title": title,
            "published": published, "first_seen": first_seen,
            "snippet": "".join(s for s, _ in segments), "snippet_segments": segments,
        })
    return out
