"""Story threads: the ThreadIndex's state as rows, each article's thread, and the facts
emails and `explain` show of a thread (reports, outlets, coverage already listed).

Portable SQL only (INSERT ... ON CONFLICT, no group_concat): a second backend implements
the same methods."""

from __future__ import annotations

from typing import Iterable, Sequence

from .base import chunked, marks

COVERAGE = "more coverage of a thread already alerted"


class ThreadsMixin:
    # -- the index's state -------------------------------------------------------------

    def thread_state(self) -> dict[str, list[tuple]]:
        """The rows `ThreadIndex.from_rows` reads: meta, threads, terms, df."""
        return {
            "meta": [(r["key"], r["value"]) for r in self._all(
                "SELECT key, value FROM thread_meta")],
            "threads": [tuple(r.values()) for r in self._all(
                "SELECT id, first_ts, last_ts, size FROM threads")],
            "terms": self.thread_terms(),
            "df": [tuple(r.values()) for r in self._all("SELECT bucket, count FROM thread_df")],
        }

    def thread_terms(self) -> list[tuple]:
        """(thread_id, field, term, weight) rows of every active thread."""
        return [tuple(r.values()) for r in self._all(
            "SELECT thread_id, field, term, weight FROM thread_terms")]

    def thread_state_version(self) -> int:
        """Bumped by every save: a process whose copy is older reloads before assigning."""
        return int(self._value("SELECT value FROM thread_meta WHERE key = 'version'") or 0)

    def save_thread_state(self, *, meta: dict[str, float], threads: Sequence[tuple],
                          gone: Sequence[int], terms: Sequence[tuple],
                          dropped: Sequence[tuple], df: Sequence[tuple],
                          slots: dict | None = None) -> None:
        """Write what changed: `meta` values, upserted `threads` (id, first, last, size),
        deleted thread ids `gone` (with their terms), upserted `terms` (thread, field,
        term, weight), `dropped` (thread, field, term), and `df` (bucket, delta) added to
        the counts (deltas, so two processes' counts add up). `slots`: the touched
        threads' terms whole (thread -> field -> term -> weight), for a backend that
        stores them so (PostgreSQL, `saves_thread_slots_whole`: its callers may leave
        `terms` empty); here the changes are enough. Caller holds the transaction."""
        for key, value in meta.items():
            self._run("INSERT INTO thread_meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                      "DO UPDATE SET value = excluded.value", [key, value])
        for chunk in chunked(list(gone)):
            self._run(f"DELETE FROM thread_terms WHERE thread_id IN ({marks(chunk)})", chunk)
            self._run(f"DELETE FROM threads WHERE id IN ({marks(chunk)})", chunk)
        self._many(
            "INSERT INTO threads (id, first_ts, last_ts, size) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET first_ts = excluded.first_ts, "
            "last_ts = excluded.last_ts, size = excluded.size", list(threads))
        self._many(
            "DELETE FROM thread_terms WHERE thread_id = ? AND field = ? AND term = ?",
            list(dropped))
        self._many(
            "INSERT INTO thread_terms (thread_id, field, term, weight) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (thread_id, field, term) DO UPDATE SET weight = excluded.weight",
            list(terms))
        self._many(
            "INSERT INTO thread_df (bucket, count) VALUES (?, ?) ON CONFLICT (bucket) "
            "DO UPDATE SET count = thread_df.count + excluded.count", list(df))

    # -- articles' threads -------------------------------------------------------------

    def set_article_threads(self, rows: Sequence[tuple[int, int, str | None]]) -> None:
        """(article_id, thread_id, reasons) rows; `reasons`: JSON of the decision (scores,
        shared terms), or None for a copy."""
        self._many("UPDATE articles SET thread_id = ?, thread_reasons = ? WHERE id = ?",
                   [(thread_id, reasons, article_id) for article_id, thread_id, reasons in rows])

    def unthreaded_articles(self, article_ids: Sequence[int]) -> list[dict]:
        """Those of the articles with no thread yet: id, title, text, published,
        first_seen, duplicate_of, and the original's thread_id (copies follow it)."""
        out: list[dict] = []
        for chunk in chunked(list(article_ids)):
            out += self._all(
                "SELECT a.id, a.title, a.text, a.published, a.first_seen, a.duplicate_of, "
                "o.thread_id AS original_thread FROM articles a "
                "LEFT JOIN articles o ON o.id = a.duplicate_of "
                f"WHERE a.thread_id IS NULL AND a.id IN ({marks(chunk)}) ORDER BY a.id", chunk)
        return out

    def article_threads(self, article_ids: Sequence[int]) -> dict[int, int | None]:
        """article id -> thread id (None: stored before threads, or not assigned)."""
        out: dict[int, int | None] = {}
        for chunk in chunked(list(article_ids)):
            for r in self._all(f"SELECT id, thread_id FROM articles WHERE id IN "
                               f"({marks(chunk)})", chunk):
                out[r["id"]] = r["thread_id"]
        return out

    def article_thread(self, article_id: int) -> dict | None:
        """{thread_id, thread_reasons (JSON or None)} of one article."""
        return self._one("SELECT thread_id, thread_reasons FROM articles WHERE id = ?",
                         [article_id])

    def thread_reports(self, thread_id: int) -> list[dict]:
        """The thread's articles, first report first: id, url, title, outlet, published,
        first_seen, duplicate_of."""
        return self._all(
            "SELECT id, url, title, outlet, published, first_seen, duplicate_of FROM articles "
            "WHERE thread_id = ? ORDER BY coalesce(published, first_seen), id", [thread_id])

    def thread_counts(self, thread_ids: Iterable[int]) -> dict[int, dict]:
        """Per thread: {reports (copies included), originals, outlets (ids, by first
        report), title (of the first report)}."""
        ids = [t for t in set(thread_ids) if t is not None]
        out: dict[int, dict] = {}
        for chunk in chunked(ids):
            for r in self._all(
                    "SELECT thread_id, outlet, count(*) AS n, "
                    "sum(CASE WHEN duplicate_of IS NULL THEN 1 ELSE 0 END) AS originals, "
                    "min(coalesce(published, first_seen)) AS first FROM articles "
                    f"WHERE thread_id IN ({marks(chunk)}) GROUP BY thread_id, outlet "
                    "ORDER BY thread_id, first, outlet", chunk):
                t = out.setdefault(r["thread_id"], {"reports": 0, "originals": 0,
                                                    "outlets": []})
                t["reports"] += r["n"]
                t["originals"] += r["originals"]
                t["outlets"].append(r["outlet"])
            for r in self._all(f"SELECT id, title FROM articles WHERE id IN ({marks(chunk)})",
                               chunk):
                if r["id"] in out:
                    out[r["id"]]["title"] = r["title"]
        return out

    # -- alerts by thread --------------------------------------------------------------

    def alerted_threads(self, thread_ids: Sequence[int]) -> set[tuple[str, int]]:
        """(watch, thread_id) of threads that already have a non-skipped alert."""
        ids = [t for t in set(thread_ids) if t is not None]
        out: set[tuple[str, int]] = set()
        for chunk in chunked(ids):
            out |= {(r["watch"], r["thread_id"]) for r in self._all(
                "SELECT DISTINCT l.watch, a.thread_id FROM alerts l "
                "JOIN articles a ON a.id = l.article_id WHERE l.state <> 'skipped' "
                f"AND a.thread_id IN ({marks(chunk)})", chunk)}
        return out

    def unlisted_coverage(self, watch: str) -> list[dict]:
        """The watch's 'more coverage' alerts no email has listed yet: alert_id, id, url,
        title, outlet, published, first_seen, thread_id."""
        return self._all(
            "SELECT l.id AS alert_id, a.id, a.url, a.title, a.outlet, a.published, "
            "a.first_seen, a.thread_id FROM alerts l JOIN articles a ON a.id = l.article_id "
            "LEFT JOIN thread_coverage c ON c.alert_id = l.id "
            "WHERE l.watch = ? AND l.state = 'skipped' AND l.reason = ? "
            "AND c.alert_id IS NULL ORDER BY l.id", [watch, COVERAGE])

    def mark_coverage_listed(self, alert_ids: Sequence[int], message_id: str) -> None:
        self._many(
            "INSERT INTO thread_coverage (alert_id, message_id) VALUES (?, ?) "
            "ON CONFLICT (alert_id) DO NOTHING", [(a, message_id) for a in alert_ids])
