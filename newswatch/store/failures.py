"""Article URLs that failed, and until when they are left alone (the crawl's per-URL
backoff; the policy lives in spiders/failures.py). Portable SQL: upsert with
ON CONFLICT, comparisons on ISO 8601 text."""

from __future__ import annotations

_COLS = ("url", "outlet", "kind", "reason", "failures", "first_failed", "last_failed",
         "retry_after", "entry", "fetch_url", "hints")


class FailuresMixin:
    def url_failures(self, outlet_id: str) -> dict[str, dict]:
        """The outlet's failure rows by canonical URL."""
        return {r["url"]: r for r in self._all(
            f"SELECT {', '.join(_COLS)} FROM url_failures WHERE outlet = ?", [outlet_id])}

    def url_failure(self, url: str) -> dict | None:
        return self._one(f"SELECT {', '.join(_COLS)} FROM url_failures WHERE url = ?", [url])

    def save_url_failure(self, row: dict) -> None:
        """Insert or replace the row of `row["url"]` (every column of `_COLS`)."""
        values = [row.get(c) for c in _COLS]
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLS if c != "url")
        self._run(f"INSERT INTO url_failures ({', '.join(_COLS)}) VALUES "
                  f"({', '.join('?' * len(_COLS))}) ON CONFLICT (url) DO UPDATE SET {updates}",
                  values)

    def clear_url_failure(self, url: str) -> None:
        self._run("DELETE FROM url_failures WHERE url = ?", [url])

    def backed_off_counts(self, now: str) -> dict[str, int]:
        """Outlet id -> how many of its URLs are left alone until later than `now`."""
        return {r["outlet"]: r["n"] for r in self._all(
            "SELECT outlet, count(*) AS n FROM url_failures WHERE retry_after > ? "
            "GROUP BY outlet", [now])}

    def prune_url_failures(self, first_failed_before: str) -> int:
        """Forget URLs failing since before the cutoff: if still listed, they are tried
        afresh."""
        return self._run("DELETE FROM url_failures WHERE first_failed < ?",
                         [first_failed_before])
