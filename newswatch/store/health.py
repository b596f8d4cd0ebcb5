"""What outlet health judges an outlet by: its own history of articles, fetches and runs."""

from __future__ import annotations


class HealthMixin:
    def first_pass_done(self, outlet_id: str) -> str | None:
        return self._value("SELECT first_pass_done FROM outlets WHERE id = ?", [outlet_id])

    def first_seen_times(self, outlet_id: str, after: str, limit: int = 200) -> list[str]:
        """Distinct first-seen times of the outlet's articles after `after`, newest first."""
        return [r["first_seen"] for r in self._all(
            "SELECT DISTINCT first_seen FROM articles WHERE outlet = ? AND first_seen > ? "
            "ORDER BY first_seen DESC LIMIT ?", [outlet_id, after, limit])]

    def ok_runs_since(self, outlet_id: str, since: str) -> int:
        return self._value("SELECT count(*) FROM runs WHERE outlet = ? AND status = 'ok' "
                           "AND started > ?", [outlet_id, since])

    def recent_originals(self, outlet_id: str, limit: int = 200) -> list[dict]:
        """{length, content_hash} of the outlet's latest originals, newest first."""
        return self._all(
            "SELECT length(coalesce(text, '')) AS length, content_hash FROM articles "
            "WHERE outlet = ? AND duplicate_of IS NULL ORDER BY first_seen DESC, id DESC "
            "LIMIT ?", [outlet_id, limit])

    def recent_ok_fetches(self, outlet_id: str, limit: int) -> list[dict]:
        """{article_id, error} of the outlet's latest fetches answered 200."""
        return self._all("SELECT article_id, error FROM fetches WHERE outlet = ? AND "
                         "status = 200 ORDER BY fetched DESC LIMIT ?", [outlet_id, limit])

    def article_count(self, outlet_id: str) -> int:
        return self._value("SELECT count(*) FROM articles WHERE outlet = ?", [outlet_id])

    def recent_ok_runs_found(self, outlet_id: str, limit: int) -> list[int | None]:
        """`found` of the outlet's latest ok runs, newest first ([] without the column);
        None for a run whose discovery was answered 304 and found nothing new."""
        if not self.has_column("runs", "found"):
            return []
        return [r["found"] for r in self._all(
            "SELECT found FROM runs WHERE outlet = ? AND status = 'ok' ORDER BY id DESC "
            "LIMIT ?", [outlet_id, limit])]

    def runs_that_found(self, outlet_id: str) -> int:
        return self._value("SELECT count(*) FROM runs WHERE outlet = ? AND found > 0",
                           [outlet_id])
