"""Learned template blocks per outlet (`template_blocks`, `template_pages`)."""

from __future__ import annotations


class TemplatesMixin:
    def template_page_count(self, outlet: str) -> int:
        return self._value("SELECT count(*) FROM template_pages WHERE outlet = ?", [outlet])

    def template_block_pages(self, outlet: str, fingerprint: str) -> int | None:
        return self._value("SELECT pages FROM template_blocks WHERE outlet = ? AND "
                           "fingerprint = ?", [outlet, fingerprint])

    def template_model(self, outlet: str, min_pages: int, min_share: float,
                       ) -> tuple[int, list[str]]:
        """(pages counted for `outlet`, fingerprints of the blocks on at least `min_pages`
        of them and on at least `min_share` of all), in one statement."""
        rows = self._execute(
            "SELECT t.n, b.fingerprint FROM (SELECT count(*) AS n FROM template_pages "
            "WHERE outlet = ?) AS t LEFT JOIN template_blocks b ON b.outlet = ? "
            "AND b.pages >= ? AND b.pages >= ? * t.n",
            [outlet, outlet, int(min_pages), float(min_share)]).fetchall()
        return (int(rows[0][0]) if rows else 0), [r[1] for r in rows if r[1] is not None]

    def learn_template_page(self, outlet: str, url: str, blocks: dict[str, str],
                            now: str) -> None:
        """Count each block (fingerprint -> sample) of one page once: nothing changes
        when this (outlet, url) was already counted."""
        with self.transaction():  # a savepoint inside the store batch
            if not self._run("INSERT INTO template_pages(outlet, url) VALUES (?, ?) "
                             "ON CONFLICT DO NOTHING", [outlet, url]):
                return
            self._many(
                "INSERT INTO template_blocks(outlet, fingerprint, pages, last_seen, sample) "
                "VALUES (?, ?, 1, ?, ?) ON CONFLICT(outlet, fingerprint) DO UPDATE SET "
                "pages = template_blocks.pages + 1, last_seen = excluded.last_seen",
                [(outlet, fp, now, sample) for fp, sample in blocks.items()])

    def prune_template_blocks(self, older_than: str, outlet: str | None = None) -> int:
        """Forget blocks seen on a single page and not since `older_than`."""
        sql = "DELETE FROM template_blocks WHERE pages <= 1 AND last_seen < ?"
        args: list = [older_than]
        if outlet is not None:
            sql += " AND outlet = ?"
            args.append(outlet)
        with self.transaction():
            return self._run(sql, args)
