"""Near-duplicate bands (`lsh_bands`) and the article reads that confirm a candidate."""

from __future__ import annotations

from typing import Sequence


class BandsMixin:
    def first_with_hash(self, digest: str, since: str) -> int | None:
        """The oldest article with this content hash first seen at or after `since`."""
        return self._value("SELECT id FROM articles WHERE content_hash = ? AND first_seen >= ? "
                           "ORDER BY id LIMIT 1", [digest, since])

    def identity_probe(self, url: str, digest: str | None, since: str,
                       buckets: Sequence[bytes] | None, since_day: str,
                       ) -> tuple[dict | None, int | None, set[int]]:
        """What deciding a new page's identity reads, together: `article_by_url(url)`,
        `first_with_hash(digest, since)` (None without a digest) and
        `band_candidates(buckets, since_day)` (PostgreSQL answers in one round trip)."""
        return (self.article_by_url(url),
                self.first_with_hash(digest, since) if digest else None,
                self.band_candidates(buckets, since_day) if buckets else set())

    def identity_probes(self, asks: Sequence[tuple[str, str | None, Sequence[bytes] | None]],
                        since: str, since_day: str,
                        ) -> list[tuple[dict | None, int | None, set[int]]]:
        """`identity_probe` for each (url, digest, buckets) of a batch, in order."""
        return [self.identity_probe(url, digest, since, buckets, since_day)
                for url, digest, buckets in asks]

    def duplicate_of(self, article_id: int) -> int | None:
        return self._value("SELECT duplicate_of FROM articles WHERE id = ?", [article_id])

    def article_text(self, article_id: int) -> str | None:
        return self._value("SELECT text FROM articles WHERE id = ?", [article_id])

    def band_candidates(self, buckets: Sequence[bytes], since_day: str) -> set[int]:
        """Articles sharing at least one (band, bucket) with `buckets`, added since."""
        if not buckets:
            return set()
        # All bands in one query; CROSS JOIN keeps SQLite on the (band, bucket) key
        # instead of scanning the window through the `added` index.
        pairs = ",".join("(?, ?)" for _ in buckets)
        args: list = [x for band, bucket in enumerate(buckets) for x in (band, bucket)]
        return {r["article_id"] for r in self._all(
            f"SELECT l.article_id FROM (VALUES {pairs}) AS q CROSS JOIN lsh_bands l "
            "ON l.band = q.column1 AND l.bucket = q.column2 WHERE l.added >= ?",
            [*args, since_day])}

    def add_bands(self, article_id: int, buckets: Sequence[bytes], day: str) -> None:
        self._many(
            "INSERT INTO lsh_bands (band, bucket, article_id, added) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(band, bucket, article_id, day) for band, bucket in enumerate(buckets)])

    def prune_bands(self, before_day: str) -> int:
        return self._run("DELETE FROM lsh_bands WHERE added < ?", [before_day])
