"""Searching the stored archive: `search` (its SQL is the store's `search_articles`)."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from ..clock import to_iso
from .archive import folded_expression
from .compile import Query
from .highlight import highlight, matched_forms


def search(
    db,
    query: Query,
    *,
    limit: int = 50,
    outlet: str | Sequence[str] | None = None,
    since: str | datetime | None = None,
    include_duplicates: bool = False,
) -> list[dict]:
    """Stored articles matching `query` (across scripts and spellings, as watches match
    new articles: the store's folded index), best first (bm25, title weighted double), newest
    first among equals.  `since` compares with the published date, or first_seen when the
    date is unknown.  Copies of a story found as near-duplicates are left out unless
    `include_duplicates`.  Rows: id, url, outlet, title, published, first_seen, snippet (a
    plain string), snippet_segments (highlight() segments for bold rendering) and
    matched_as (`matched_forms`: the words of title and text that matched)."""
    outlets = None
    if outlet is not None:
        outlets = [outlet] if isinstance(outlet, str) else list(outlet)
    rows = db.search_articles(
        query.fts, folded=folded_expression(query), source=query.source, limit=limit, outlets=outlets,
        since=to_iso(since) if isinstance(since, datetime) else since,
        include_duplicates=include_duplicates)
    out = []
    for row in rows:
        text = row.pop("text") or ""
        segments = highlight(text, query)
        out.append({**row, "snippet": "".join(s for s, _ in segments),
                    "snippet_segments": segments,
                    "matched_as": matched_forms(query, row.get("title") or "", text)})
    return out
