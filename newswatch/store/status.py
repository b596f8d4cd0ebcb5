"""What `newswatch status` and the daemon read about passes and articles: the `runs` and
`articles` queries of both, so the two agree (one error streak, one definition).

`StatusMixin` holds the queries; the module functions take an open `Store` (the callers'
long-standing spelling: `status.error_streak(store, outlet_id)`)."""

from __future__ import annotations

RUN_COLUMNS = ("id", "outlet", "started", "finished", "status", "pages", "new_articles",
               "duplicates", "errors", "ms", "message")


class StatusMixin:
    def error_streak(self, outlet_id: str) -> int:
        """Consecutive failed passes of an outlet since its last successful one.

        'interrupted' passes neither count nor break a streak (the daemon stopping is not
        the outlet failing), nor do 'running' ones. Counted over the outlet's whole
        history, so `newswatch status` and the daemon's backoff see the same number."""
        return self._value(
            "SELECT count(*) FROM runs WHERE outlet = :outlet AND status = 'error' AND id > "
            "(SELECT coalesce(max(id), 0) FROM runs WHERE outlet = :outlet AND status = 'ok')",
            {"outlet": outlet_id})

    def last_run(self, outlet_id: str) -> dict | None:
        """The outlet's newest pass (any status), or None if it never ran."""
        return self._one(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE outlet = ? "
                         "ORDER BY id DESC LIMIT 1", [outlet_id])

    def last_run_after(self, outlet_id: str, after_id: int) -> dict | None:
        """The outlet's newest pass recorded after run id `after_id` (a child's own pass)."""
        return self._one(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE outlet = ? "
                         "AND id > ? ORDER BY id DESC LIMIT 1", [outlet_id, after_id])

    def last_started(self, outlet_id: str) -> str | None:
        """When the outlet's newest pass started (ISO text), or None."""
        return self._value("SELECT max(started) FROM runs WHERE outlet = ?", [outlet_id])

    def newest_run_id(self) -> int:
        """The highest run id so far (0 for none): passes after it are new."""
        return self._value("SELECT coalesce(max(id), 0) FROM runs")

    def article_counts(self, outlet_id: str, since: str) -> dict:
        """{"total": stored articles of the outlet, "since": those first seen at or after
        `since`}."""
        row = self._one("SELECT count(*) AS total, coalesce(sum(CASE WHEN first_seen >= ? "
                        "THEN 1 ELSE 0 END), 0) AS since FROM articles WHERE outlet = ?",
                        [since, outlet_id])
        return {"total": int(row["total"] or 0), "since": int(row["since"] or 0)}


def error_streak(db, outlet_id: str) -> int:
    return db.error_streak(outlet_id)


def last_run(db, outlet_id: str) -> dict | None:
    return db.last_run(outlet_id)


def last_run_after(db, outlet_id: str, after_id: int) -> dict | None:
    return db.last_run_after(outlet_id, after_id)


def last_started(db, outlet_id: str) -> str | None:
    return db.last_started(outlet_id)


def newest_run_id(db) -> int:
    return db.newest_run_id()


def article_counts(db, outlet_id: str, since: str) -> dict:
    return db.article_counts(outlet_id, since)
