"""What `newswatch status` and the daemon read about passes and articles: the `runs` and
`articles` queries of both, so the two agree (one error streak, one definition).

Functions take an open `sqlite_utils.Database` and return plain values or dicts."""

from __future__ import annotations

RUN_COLUMNS = ("id", "outlet", "started", "finished", "status", "pages", "new_articles",
               "duplicates", "errors", "ms", "message")


def error_streak(db, outlet_id: str) -> int:
    """Consecutive failed passes of an outlet since its last successful one.

    'interrupted' passes neither count nor break a streak (the daemon stopping is not the
    outlet failing), nor do 'running' ones. Counted over the outlet's whole history, so
    `newswatch status` and the daemon's backoff see the same number."""
    row = db.execute(
        "SELECT count(*) FROM runs WHERE outlet = :outlet AND status = 'error' AND id > "
        "(SELECT coalesce(max(id), 0) FROM runs WHERE outlet = :outlet AND status = 'ok')",
        {"outlet": outlet_id}).fetchone()
    return row[0]


def last_run(db, outlet_id: str) -> dict | None:
    """The outlet's newest pass (any status), or None if it never ran."""
    rows = list(db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE outlet = ? "
                         "ORDER BY id DESC LIMIT 1", [outlet_id]))
    return rows[0] if rows else None


def last_run_after(db, outlet_id: str, after_id: int) -> dict | None:
    """The outlet's newest pass recorded after run id `after_id` (a child's own pass)."""
    rows = list(db.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE outlet = ? "
                         "AND id > ? ORDER BY id DESC LIMIT 1", [outlet_id, after_id]))
    return rows[0] if rows else None


def last_started(db, outlet_id: str) -> str | None:
    """When the outlet's newest pass started (ISO text), or None."""
    return db.execute("SELECT max(started) FROM runs WHERE outlet = ?",
                      [outlet_id]).fetchone()[0]


def newest_run_id(db) -> int:
    """The highest run id so far (0 for none): passes after it are new."""
    return db.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]


def article_counts(db, outlet_id: str, since: str) -> dict:
    """{"total": stored articles of the outlet, "since": those first seen at or after `since`}."""
    row = next(db.query("SELECT count(*) AS total, coalesce(sum(first_seen >= ?), 0) AS since "
                        "FROM articles WHERE outlet = ?", [since, outlet_id]))
    return {"total": row["total"] or 0, "since": row["since"] or 0}
