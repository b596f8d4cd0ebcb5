"""Watches, alert rows and digest bookkeeping."""

from __future__ import annotations

from typing import Iterable, Sequence

from .base import chunked, marks


class AlertsMixin:
    # -- watches -----------------------------------------------------------------------

    def sync_watches(self, watches: Iterable[tuple[str, str]], now: str) -> None:
        """Record each (name, query) with when it appeared and when its query last
        changed, so stories stored before either are never mailed."""
        known = {r["name"]: r["query"] for r in self._all("SELECT name, query FROM watches")}
        with self.transaction():
            for name, query in watches:
                if name not in known:
                    # Two passes starting at once (two workers) may both find it new.
                    self._run("INSERT INTO watches (name, query, created, query_changed) "
                              "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                              [name, query, now, now])
                elif known[name] != query:
                    self._run("UPDATE watches SET query = ?, query_changed = ? WHERE name = ?",
                              [query, now, name])

    def watches(self) -> list[dict]:
        """{name, query, created, query_changed} of every watch ever configured."""
        return self._all("SELECT name, query, created, query_changed FROM watches")

    # -- alerts ------------------------------------------------------------------------

    def alert_keys(self, article_ids: Sequence[int]) -> set[tuple[str, int]]:
        """(watch, article_id) of the alerts of these articles."""
        ids = list(article_ids)
        if not ids:
            return set()
        return {(r["watch"], r["article_id"]) for r in self._all(
            f"SELECT watch, article_id FROM alerts WHERE article_id IN ({marks(ids)})", ids)}

    def insert_alerts(self, rows: Sequence[dict]) -> None:
        """Rows {watch, article_id, created, state, reason}; one per (watch, article) is
        kept (UNIQUE), a second is ignored."""
        # One statement for the batch's alert rows, not one round trip per match.
        self._many(
            "INSERT INTO alerts (watch, article_id, created, state, reason) "
            "VALUES (:watch, :article_id, :created, :state, :reason) ON CONFLICT DO NOTHING",
            [{k: r.get(k) for k in ("watch", "article_id", "created", "state", "reason")}
             for r in rows])

    def pending_alerts(self, watch: str) -> list[dict]:
        """{id, reason} of the watch's pending alerts, oldest first."""
        return self._all("SELECT id, reason FROM alerts WHERE watch = ? AND state = 'pending' "
                         "ORDER BY id", [watch])

    def alert_stories(self, alert_ids: Sequence[int]) -> list[dict]:
        """{alert_id, id, url, title, outlet, published, first_seen} per alert."""
        out: list[dict] = []
        for chunk in chunked(list(alert_ids)):
            out += self._all(
                "SELECT l.id AS alert_id, a.id, a.url, a.title, a.outlet, a.published, "
                "a.first_seen FROM alerts l JOIN articles a ON a.id = l.article_id "
                f"WHERE l.id IN ({marks(chunk)})", chunk)
        return out

    def skip_removed_watches(self, configured: Sequence[str]) -> None:
        """A watch removed from the config sends nothing more."""
        names = list(configured)
        if not names:
            self._run("UPDATE alerts SET state = 'skipped', reason = 'watch removed from the "
                      "config' WHERE state = 'pending'")
            return
        self._run("UPDATE alerts SET state = 'skipped', reason = 'watch removed from the "
                  f"config' WHERE state = 'pending' AND watch NOT IN ({marks(names)})", names)

    def backfill_alert(self, watch: str, article_id: int, now: str) -> bool:
        """A pending 'backfill' alert, unless the story was already alerted (a skipped
        one is revived). Returns whether one was created."""
        if self._run("INSERT INTO alerts (watch, article_id, created, state, reason) "
                     "VALUES (?, ?, ?, 'pending', 'backfill') ON CONFLICT DO NOTHING",
                     [watch, article_id, now]):
            return True
        return bool(self._run(
            "UPDATE alerts SET state = 'pending', reason = 'backfill', created = ? "
            "WHERE watch = ? AND article_id = ? AND state = 'skipped'",
            [now, watch, article_id]))

    def recent_alerts(self, limit: int = 50) -> list[dict]:
        """Newest first: id, created, state, watch, reason, title, url, outlet,
        email_state, last_error, sent."""
        return self._all(
            "SELECT l.id, l.created, l.state, l.watch, l.reason, a.title, a.url, a.outlet, "
            "o.state AS email_state, o.last_error, o.sent FROM alerts l "
            "JOIN articles a ON a.id = l.article_id LEFT JOIN outbox o ON o.id = l.outbox_id "
            "ORDER BY l.id DESC LIMIT ?", [int(limit)])

    def alert_state_counts(self) -> dict[str, int]:
        return {r["state"]: r["n"] for r in self._all(
            "SELECT state, count(*) AS n FROM alerts GROUP BY state")}

    # -- digests -----------------------------------------------------------------------

    def digest_last_sent(self, watch: str) -> str | None:
        return self._value("SELECT last_sent FROM digests WHERE watch = ?", [watch])

    def watch_created(self, watch: str) -> str | None:
        return self._value("SELECT created FROM watches WHERE name = ?", [watch])

    def set_digest_sent(self, watch: str, when: str) -> None:
        self._upsert("digests", {"watch": watch, "last_sent": when}, ["watch"])
