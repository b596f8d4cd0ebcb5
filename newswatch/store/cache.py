"""Conditional-GET validators (`http_cache`)."""

from __future__ import annotations


class CacheMixin:
    def validators(self, url: str) -> dict | None:
        """{etag, last_modified} stored for `url`, or None when it has neither."""
        row = self._one("SELECT etag, last_modified FROM http_cache WHERE url = ?", [url])
        if row is None or not (row["etag"] or row["last_modified"]):
            return None
        return row

    def save_validators(self, rows: list[dict], clean: bool) -> None:
        """One outlet's pass: rows {url, checked, status, etag?, last_modified?, touch?}.
        A 304 (touch) only refreshes `checked`; a 200 stores its validators when the pass
        was clean, else forgets them, so the next pass parses the full document again and
        retries what failed."""
        with self.transaction():
            for row in rows:
                if row.get("touch"):
                    self._run("UPDATE http_cache SET checked = ?, status = 304 WHERE url = ?",
                              [row["checked"], row["url"]])
                elif clean:
                    self._upsert("http_cache", {k: row.get(k) for k in (
                        "url", "etag", "last_modified", "checked", "status")}, ["url"])
                else:
                    self._run("DELETE FROM http_cache WHERE url = ?", [row["url"]])
