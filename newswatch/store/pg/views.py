"""The web view's full-text reads on PostgreSQL (`ViewsMixin`'s `search_page` and
`matches_per_day` are FTS5): the same tsquery, folded index (`folded=`) and rank as
`search_articles`, whose error mapping (`_pg_fts`) they share."""

from __future__ import annotations

from typing import Sequence

from .overrides import _WEIGHTS


class PgViews:
    def search_page(self, fts: str, *, folded: str | None = None, source: str = "",
                    outlets: Sequence[str] | None = None, since: str | None = None,
                    until: str | None = None, limit: int = 20, offset: int = 0) -> list[dict]:
        sources, params, vector = self._pg_source(fts, folded, source)
        where = [f"{vector} @@ q.q", "a.duplicate_of IS NULL"]
        if outlets:
            where.append("a.outlet = ANY(%s)")
            params.append(list(outlets))
        if since:
            where.append("coalesce(a.published, a.first_seen) >= %s")
            params.append(since)
        if until:
            where.append("coalesce(a.published, a.first_seen) < %s")
            params.append(until)
        params += [int(limit), int(offset)]
        return self._pg_fts(
            "SELECT a.id, a.url, a.outlet, a.title, a.published, a.first_seen, a.text "
            f"FROM {sources} WHERE {' AND '.join(where)} "
            f"ORDER BY ts_rank({_WEIGHTS}::float4[], {vector}, q.q) DESC, "
            "coalesce(a.published, a.first_seen) DESC, a.id DESC LIMIT %s OFFSET %s",
            params, source)

    def matches_per_day(self, fts: str, *, folded: str | None = None, source: str = "",
                        days: int = 30) -> list[dict]:
        sources, params, vector = self._pg_source(fts, folded, source)
        return self._pg_fts(
            "SELECT substr(coalesce(a.published, a.first_seen), 1, 10) AS day, count(*) AS n "
            f"FROM {sources} WHERE {vector} @@ q.q AND a.duplicate_of IS NULL "
            "GROUP BY substr(coalesce(a.published, a.first_seen), 1, 10) "
            "ORDER BY day DESC LIMIT %s", params + [int(days)], source)
