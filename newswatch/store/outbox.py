"""The outbox: one row per message and channel (email, an apprise service, a webhook),
holding exactly what that channel is sent, and its delivery state.

The rows of one message share its `message_id`; the message's alerts point at its first
row (`alerts.outbox_id`) and their state is settled from all of them: 'sent' once every
channel took it, 'failed' once none is left to try and one failed for good, else 'queued'.
"""

from __future__ import annotations

from typing import Sequence

from .base import chunked, marks

_ROW = ("id, message_id, watch, recipients, subject, raw, state, attempts, claimed_by, "
        "claimed_at, next_attempt, channel, label, idem_key")


def idempotency_key(message_id: str, channel: str) -> str:
    """The key a channel's receiver sees: the message id and the channel, unique per row."""
    return f"{message_id.strip('<>')}/{channel}"


class OutboxMixin:
    def enqueue_message(self, *, message_id: str, watch: str, now: str,
                        alert_ids: Sequence[int], rows: Sequence[dict]) -> list[int]:
        """One pending outbox row per channel of a message (`rows`: {channel, label,
        recipients, subject, raw}); its alerts become 'queued' and point at the first row
        (caller holds the transaction). Returns the row ids in order."""
        ids = []
        for r in rows:
            channel = r.get("channel") or "email"
            ids.append(self._insert("outbox", {
                "message_id": message_id, "watch": watch, "recipients": r.get("recipients"),
                "subject": r.get("subject"), "raw": r["raw"], "state": "pending",
                "attempts": 0, "next_attempt": now, "created": now, "channel": channel,
                "label": r.get("label") or channel,
                "idem_key": idempotency_key(message_id, channel)}))
        if ids:
            for chunk in chunked(list(alert_ids)):
                self._run(f"UPDATE alerts SET state = 'queued', outbox_id = ? WHERE id IN "
                          f"({marks(chunk)})", [ids[0], *chunk])
        return ids

    def enqueue_email(self, *, message_id: str, watch: str, recipients: str, subject: str,
                      raw: bytes, now: str, alert_ids: Sequence[int]) -> int:
        """A message with the email channel only. `recipients`: JSON list."""
        return self.enqueue_message(
            message_id=message_id, watch=watch, now=now, alert_ids=alert_ids,
            rows=[{"channel": "email", "recipients": recipients, "subject": subject,
                   "raw": raw}])[0]

    def outbox_due(self, now: str) -> list[dict]:
        """{id, state, claimed_by, claimed_at, channel}: pending rows due by `now`, and every
        row left 'sending' (the caller decides whether its claim is stale)."""
        return self._all(
            "SELECT id, state, claimed_by, claimed_at, channel FROM outbox WHERE "
            "(state = 'pending' AND (next_attempt IS NULL OR next_attempt <= ?)) "
            "OR state = 'sending' ORDER BY id", [now])

    def outbox_row(self, outbox_id: int) -> dict | None:
        return self._one(f"SELECT {_ROW} FROM outbox WHERE id = ?", [outbox_id])

    def claim_outbox(self, outbox_id: int, claimer: str, now: str) -> None:
        self._run("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                  "claimed_by = ?, claimed_at = ? WHERE id = ?", [claimer, now, outbox_id])

    def _settle_alerts(self, outbox_ids: Sequence[int]) -> None:
        """The alerts of these rows' messages take the state of all the message's rows."""
        for chunk in chunked(list(outbox_ids)):
            messages = [r["message_id"] for r in self._all(
                f"SELECT DISTINCT message_id FROM outbox WHERE id IN ({marks(chunk)})", chunk)]
            for message_id in messages:
                self._run(
                    "UPDATE alerts SET state = CASE "
                    "WHEN NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = ? "
                    "AND o.state <> 'sent') THEN 'sent' "
                    "WHEN NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = ? "
                    "AND o.state IN ('pending', 'sending')) THEN 'failed' "
                    "ELSE 'queued' END "
                    "WHERE outbox_id IN (SELECT id FROM outbox WHERE message_id = ?)",
                    [message_id, message_id, message_id])

    def mark_sent(self, outbox_id: int, sent: str, note: str | None,
                  refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'sent', sent = ?, last_error = ?, refused = ?, "
                  "claimed_by = NULL WHERE id = ?", [sent, note, refused, outbox_id])
        self._settle_alerts([outbox_id])

    def mark_retry(self, outbox_id: int, next_attempt: str, error: str | None,
                   refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'pending', next_attempt = ?, last_error = ?, "
                  "refused = ?, claimed_by = NULL WHERE id = ?",
                  [next_attempt, error, refused, outbox_id])

    def mark_failed(self, outbox_id: int, error: str | None, refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'failed', last_error = ?, refused = ?, "
                  "claimed_by = NULL WHERE id = ?", [error, refused, outbox_id])
        self._settle_alerts([outbox_id])

    def requeue_failed(self, now: str, channel: str | None = None) -> int:
        """Failed rows (of one channel: its key or label) back to pending, their alerts
        settled again (queued); returns how many rows."""
        sql, params = "SELECT id FROM outbox WHERE state = 'failed'", []
        if channel is not None:
            sql += " AND (channel = ? OR label = ?)"
            params = [channel, channel]
        ids = [r["id"] for r in self._all(sql, params)]
        for chunk in chunked(ids):
            self._run(f"UPDATE outbox SET state = 'pending', next_attempt = ?, attempts = 0 "
                      f"WHERE id IN ({marks(chunk)})", [now, *chunk])
        self._settle_alerts(ids)
        return len(ids)

    def outbox_channels(self) -> list[dict]:
        """{channel, label} of every channel the outbox has held."""
        return self._all("SELECT DISTINCT channel, label FROM outbox ORDER BY channel")

    def outbox_problems(self, refused_since: str) -> list[dict]:
        """{state, watch, attempts, next_attempt, last_error, refused, channel, label}: rows
        that failed, wait for a retry, or were sent since `refused_since` with refused
        recipients."""
        return self._all(
            "SELECT state, watch, attempts, next_attempt, last_error, refused, channel, label "
            "FROM outbox WHERE state = 'failed' OR (state IN ('pending', 'sending') AND "
            "attempts > 0) OR refused IS NOT NULL AND sent >= ? ORDER BY id", [refused_since])

    def alert_deliveries(self, alert_ids: Sequence[int]) -> dict[int, list[dict]]:
        """Per alert id: {channel, label, state, attempts, last_error, sent, next_attempt}
        of every row of its message, in channel order (email first)."""
        out: dict[int, list[dict]] = {}
        for chunk in chunked(list(alert_ids)):
            for r in self._all(
                    "SELECT l.id AS alert_id, o.channel, o.label, o.state, o.attempts, "
                    "o.last_error, o.sent, o.next_attempt FROM alerts l "
                    "JOIN outbox p ON p.id = l.outbox_id "
                    "JOIN outbox o ON o.message_id = p.message_id "
                    f"WHERE l.id IN ({marks(chunk)}) ORDER BY l.id, o.id", chunk):
                out.setdefault(r.pop("alert_id"), []).append(r)
        return out

    # -- feeds (alerts joined with their articles; kept beside the outbox's reads)

    def watch_feed_stories(self, watch: str, limit: int = 50) -> list[dict]:
        """The watch's latest alerted stories, newest first: {alert_id, created, id, url,
        title, outlet, published, date_source, first_seen, text, thread_id}. Skipped alerts
        (too old, duplicates, stored before the watch) are not part of a feed."""
        return self._all(
            "SELECT l.id AS alert_id, l.created, a.id, a.url, a.title, a.outlet, a.published, "
            "a.date_source, a.first_seen, a.text, a.thread_id FROM alerts l "
            "JOIN articles a ON a.id = l.article_id "
            "WHERE l.watch = ? AND l.state <> 'skipped' "
            "ORDER BY l.created DESC, l.id DESC LIMIT ?", [watch, int(limit)])
