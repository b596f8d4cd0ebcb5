"""The methods whose SQL differs on PostgreSQL: full-text search (tsvector/tsquery instead
of FTS5; the folded index of `newswatch.store.pg.fold`), the band lookup (no CROSS JOIN
... ON) and the outbox claim (row locks)."""

from __future__ import annotations

from typing import Mapping, Sequence

import psycopg

from ...errors import DatabaseError, QueryError
from ...query.entry import ArchiveEntry
from ..outbox import _ROW
from ...names import FOLD_VERSION
from .base import text_array
from .bulk import bytea_array, int_array
from .fold import fold_pending_pg, refold_pg
from .tsquery import folded_tsquery

# ts_rank's weights for D, C, B (the text), A (the title): the title counts double, as
# bm25(articles_fts, 2.0, 1.0) weighs it on SQLite.
_WEIGHTS = "'{0.1, 0.2, 0.5, 1.0}'"


class PgOverrides:
    # -- articles ----------------------------------------------------------------------

    def insert_article(self, row: dict) -> int:
        """Inside a batch the id comes from the ids reserved for it (`batch_transaction`),
        so the insert need not wait for RETURNING."""
        if self._pipeline is None or not self._reserved:
            return self._insert("articles", row)
        article_id = self._reserved.pop()
        cols = ["id", *row]
        self._execute(f"INSERT INTO articles ({', '.join(cols)}) VALUES "
                      f"({', '.join(['?'] * len(cols))})", [article_id, *row.values()])
        return article_id

    # -- templates ---------------------------------------------------------------------

    def learn_template_page(self, outlet: str, url: str, blocks: dict[str, str],
                            now: str) -> None:
        """As the SQLite store's, in one statement (a page already counted inserts no
        blocks), which inside a batch need not wait for its answer."""
        self._execute(
            "WITH page AS (INSERT INTO template_pages (outlet, url) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING RETURNING outlet) "
            "INSERT INTO template_blocks (outlet, fingerprint, pages, last_seen, sample) "
            "SELECT page.outlet, b.fp, 1, ?, b.sample FROM page, "
            "unnest(?::text[], ?::text[]) AS b(fp, sample) "
            "ON CONFLICT (outlet, fingerprint) DO UPDATE SET "
            "pages = template_blocks.pages + 1, last_seen = excluded.last_seen",
            [outlet, url, now, text_array(blocks), text_array(blocks.values())])

    # -- bands -------------------------------------------------------------------------

    def band_candidates(self, buckets: Sequence[bytes], since_day: str) -> set[int]:
        if not buckets:
            return set()
        # One primary-key lookup per band: as a plain join the planner reads every band of
        # the window (idx_lsh_bands_added) and hashes it, a cost that grows with the store.
        # OFFSET 0 keeps the lateral subquery from being flattened into that join.
        rows = self.conn.execute(
            "SELECT l.article_id FROM unnest(%s::text::bytea[]) WITH ORDINALITY AS q(bucket, n) "
            "CROSS JOIN LATERAL (SELECT article_id, added FROM lsh_bands "
            "WHERE band = q.n - 1 AND bucket = q.bucket OFFSET 0) AS l "
            "WHERE l.added >= %s",
            [bytea_array(buckets), since_day]).fetchall()
        return {r[0] for r in rows}

    def identity_probe(self, url: str, digest: str | None, since: str,
                       buckets: Sequence[bytes] | None, since_day: str,
                       ) -> tuple[dict | None, int | None, set[int]]:
        """The SQLite store's three reads in one statement (`identity_probes`'s)."""
        return self.identity_probes([(url, digest, buckets)], since, since_day)[0]

    def identity_probes(self, asks: Sequence[tuple[str, str | None, Sequence[bytes] | None]],
                        since: str, since_day: str,
                        ) -> list[tuple[dict | None, int | None, set[int]]]:
        """A whole batch's probes in one statement (one round trip per batch)."""
        if not asks:
            return []
        spots = [(i, band, bucket) for i, (_, _, buckets) in enumerate(asks, 1)
                 for band, bucket in enumerate(buckets or ())]
        rows = self.conn.execute(
            "SELECT 0, q.i, a.id, a.content_hash FROM unnest(%s::text[]) WITH ORDINALITY "
            "AS q(url, i) JOIN articles a ON a.url = q.url "
            "UNION ALL SELECT 1, q.i, (SELECT id FROM articles WHERE content_hash = q.digest "
            "AND first_seen >= %s ORDER BY id LIMIT 1), NULL "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS q(digest, i) WHERE q.digest IS NOT NULL "
            "UNION ALL SELECT 2, q.i, l.article_id, NULL FROM unnest(%s::text::integer[], "
            "%s::text::integer[], %s::text::bytea[]) AS q(i, band, bucket) "
            "CROSS JOIN LATERAL (SELECT article_id, added FROM lsh_bands "
            "WHERE band = q.band AND bucket = q.bucket OFFSET 0) AS l WHERE l.added >= %s",
            [text_array(a[0] for a in asks), since, text_array(a[1] for a in asks),
             int_array(s[0] for s in spots), int_array(s[1] for s in spots),
             bytea_array(s[2] for s in spots), since_day]).fetchall()
        out: list[list] = [[None, None, set()] for _ in asks]
        for kind, i, article_id, digest in rows:
            if kind == 0:
                out[i - 1][0] = {"id": article_id, "content_hash": digest}
            elif kind == 1:
                out[i - 1][1] = article_id
            else:
                out[i - 1][2].add(article_id)
        return [tuple(o) for o in out]

    def add_bands(self, article_id: int, buckets: Sequence[bytes], day: str) -> None:
        # One statement, not one row per band: every round trip to the server counts.
        if buckets:
            self.conn.execute(
                "INSERT INTO lsh_bands (band, bucket, article_id, added) "
                "SELECT n - 1, k, %s, %s FROM unnest(%s::text::bytea[]) WITH ORDINALITY "
                "AS q(k, n) ON CONFLICT DO NOTHING",
                [article_id, day, bytea_array(buckets)])

    # -- outbox ------------------------------------------------------------------------

    def outbox_row(self, outbox_id: int) -> dict | None:
        """Inside a transaction (the claim), the row is locked until it ends, and a row
        another worker is claiming right now reads as absent: any worker can send, none
        sends twice."""
        lock = " FOR UPDATE SKIP LOCKED" if self.in_transaction else ""
        return self._one(f"SELECT {_ROW} FROM outbox WHERE id = ?" + lock, [outbox_id])

    # -- search ------------------------------------------------------------------------

    def fold_pending(self, ready: Mapping[int, ArchiveEntry] | None = None) -> int:
        return fold_pending_pg(self.conn, ready=ready)

    def fold_stale(self) -> int:
        return int(self._value("SELECT count(*) FROM articles_fts_fold WHERE version < ?",
                               [FOLD_VERSION]))

    def refold_batch(self, limit: int) -> int:
        return refold_pg(self.conn, limit)

    def _pg_source(self, fts: str, folded: str | None, source: str) -> tuple[str, list, str]:
        """(FROM clause with a tsquery `q.q`, its parameters, the vector) of a search: the
        folded index, which holds the words as typed too (a plain FTS5 expression, with no
        column filter, reads those: m012)."""
        self._fold_current()
        try:
            literal = folded_tsquery(fts if folded is None else folded)
        except QueryError as exc:
            raise QueryError(f"cannot run query {source or folded or fts!r}: {exc}") from exc
        return ("(SELECT %s::tsquery AS q) AS q, articles_fts_fold f "
                "JOIN articles a ON a.id = f.id", [literal], "f.fold")

    def search_articles(self, fts: str, *, folded: str | None = None, source: str = "",
                        limit: int = 50, outlets: Sequence[str] | None = None,
                        since: str | None = None,
                        include_duplicates: bool = False) -> list[dict]:
        sources, params, vector = self._pg_source(fts, folded, source)
        where = [f"{vector} @@ q.q"]
        if outlets is not None:
            where.append("a.outlet = ANY(%s)")
            params.append(list(outlets))
        if since is not None:
            where.append("coalesce(a.published, a.first_seen) >= %s")
            params.append(since)
        if not include_duplicates:
            where.append("a.duplicate_of IS NULL")
        params.append(int(limit))
        sql = (
            "SELECT a.id, a.url, a.outlet, a.title, a.published, a.first_seen, a.text "
            f"FROM {sources} WHERE {' AND '.join(where)} "
            f"ORDER BY ts_rank({_WEIGHTS}::float4[], {vector}, q.q) DESC, "
            "coalesce(a.published, a.first_seen) DESC LIMIT %s")
        return self._pg_fts(sql, params, source)

    def _pg_fts(self, sql: str, params: list, source: str) -> list[dict]:
        """A full-text read (here and in the web view's `PgViews`), its errors mapped once."""
        try:
            return self._pg_all(sql, params)
        except psycopg.errors.SyntaxError as exc:  # a tsquery the server refuses
            raise QueryError(f"cannot run query {source!r}: {exc}") from exc
        except psycopg.Error as exc:
            raise DatabaseError(" ".join(str(exc).split())) from exc

    def backfill_candidates(self, fts: str, since: str,
                            outlets: Sequence[str] | None = None, *,
                            folded: str | None = None) -> list[int]:
        sources, params, vector = self._pg_source(fts, folded, "")
        params.append(since)
        where = ""
        if outlets is not None:
            where = " AND a.outlet = ANY(%s)"
            params.append(list(outlets))
        return [r["id"] for r in self._pg_all(
            f"SELECT a.id FROM {sources} WHERE {vector} @@ q.q "
            "AND coalesce(a.published, a.first_seen) >= %s AND a.duplicate_of IS NULL"
            + where + " ORDER BY a.id", params)]

    def _pg_all(self, sql: str, params: Sequence) -> list[dict]:
        """Native psycopg placeholders (%s), no translation."""
        cursor = self.conn.execute(sql, list(params))
        rows = cursor.fetchall()  # first: in a pipeline the description comes with the rows
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in rows]
