"""The outbox: one row per email, holding its exact bytes, and its delivery state."""

from __future__ import annotations

from typing import Sequence

from .base import chunked, marks


class OutboxMixin:
    def enqueue_email(self, *, message_id: str, watch: str, recipients: str, subject: str,
                      raw: bytes, now: str, alert_ids: Sequence[int]) -> int:
        """A pending outbox row; its alerts become 'queued' and point at it (caller holds
        the transaction). `recipients`: JSON list."""
        outbox_id = self._insert("outbox", {
            "message_id": message_id, "watch": watch, "recipients": recipients,
            "subject": subject, "raw": raw, "state": "pending", "attempts": 0,
            "next_attempt": now, "created": now})
        for chunk in chunked(list(alert_ids)):
            self._run(f"UPDATE alerts SET state = 'queued', outbox_id = ? WHERE id IN "
                      f"({marks(chunk)})", [outbox_id, *chunk])
        return outbox_id

    def outbox_due(self, now: str) -> list[dict]:
        """{id, state, claimed_by, claimed_at}: pending rows due by `now`, and every row
        left 'sending' (the caller decides whether its claim is stale)."""
        return self._all(
            "SELECT id, state, claimed_by, claimed_at FROM outbox WHERE "
            "(state = 'pending' AND (next_attempt IS NULL OR next_attempt <= ?)) "
            "OR state = 'sending' ORDER BY id", [now])

    def outbox_row(self, outbox_id: int) -> dict | None:
        return self._one(
            "SELECT id, message_id, watch, recipients, raw, state, attempts, claimed_by, "
            "claimed_at, next_attempt FROM outbox WHERE id = ?", [outbox_id])

    def claim_outbox(self, outbox_id: int, claimer: str, now: str) -> None:
        self._run("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                  "claimed_by = ?, claimed_at = ? WHERE id = ?", [claimer, now, outbox_id])

    def mark_sent(self, outbox_id: int, sent: str, note: str | None,
                  refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'sent', sent = ?, last_error = ?, refused = ?, "
                  "claimed_by = NULL WHERE id = ?", [sent, note, refused, outbox_id])
        self._run("UPDATE alerts SET state = 'sent' WHERE outbox_id = ?", [outbox_id])

    def mark_retry(self, outbox_id: int, next_attempt: str, error: str | None,
                   refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'pending', next_attempt = ?, last_error = ?, "
                  "refused = ?, claimed_by = NULL WHERE id = ?",
                  [next_attempt, error, refused, outbox_id])

    def mark_failed(self, outbox_id: int, error: str | None, refused: str | None) -> None:
        self._run("UPDATE outbox SET state = 'failed', last_error = ?, refused = ?, "
                  "claimed_by = NULL WHERE id = ?", [error, refused, outbox_id])
        self._run("UPDATE alerts SET state = 'failed' WHERE outbox_id = ?", [outbox_id])

    def requeue_failed(self, now: str) -> int:
        """Failed emails back to pending (their alerts to queued); returns how many."""
        ids = [r["id"] for r in self._all("SELECT id FROM outbox WHERE state = 'failed'")]
        for chunk in chunked(ids):
            self._run(f"UPDATE outbox SET state = 'pending', next_attempt = ?, attempts = 0 "
                      f"WHERE id IN ({marks(chunk)})", [now, *chunk])
            self._run(f"UPDATE alerts SET state = 'queued' WHERE outbox_id IN "
                      f"({marks(chunk)})", chunk)
        return len(ids)

    def outbox_problems(self, refused_since: str) -> list[dict]:
        """{state, watch, attempts, next_attempt, last_error, refused}: emails that failed,
        wait for a retry, or were sent since `refused_since` with refused recipients."""
        return self._all(
            "SELECT state, watch, attempts, next_attempt, last_error, refused FROM outbox "
            "WHERE state = 'failed' OR (state IN ('pending', 'sending') AND attempts > 0) "
            "OR refused IS NOT NULL AND sent >= ? ORDER BY id", [refused_since])
