"""Outbox -> SMTP (or .eml files), apprise services and webhooks: claim a row ('sending',
committed), send, mark 'sent' (committed). A crash after the receiver accepted the message
but before the mark leaves the row in 'sending'; the next flush sends it again with the same
Message-ID (email) or idempotency key (webhook header and payload `id`). That is the only
way a recipient can get an alert twice: at most one repeat per channel. Outbox state
changes run durable (synchronous=FULL on SQLite) so a "sent" mark survives power loss."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import clock, mail
from ..errors import UsageError
from .matching import sync_watches
from .queue import queue

log = logging.getLogger("newswatch.alerts")

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# A row claimed this long ago by a process that may still be alive is taken over anyway.
STALE_CLAIM = timedelta(minutes=10)

# Test hook: NEWSWATCH_PAUSE_AT=queued|claimed|accepted|marked makes flush stop at that
# step (printing "paused at STEP" on stderr) so a test can SIGKILL the process there;
# STEP:email, STEP:apprise or STEP:webhook stops only on that kind of channel.
PAUSE_ENV = "NEWSWATCH_PAUSE_AT"


def _pause(step: str, kind: str = "") -> None:
    if os.environ.get(PAUSE_ENV) in (step, f"{step}:{kind}"):
        sys.stderr.write(f"paused at {step}\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)


@dataclass
class FlushReport:
    queued: int = 0  # messages rendered into the outbox by this flush (one per watch due)
    sent: int = 0  # outbox rows accepted (server, receiver, or written as .eml)
    retrying: int = 0  # rows left pending after a transient failure
    failed: int = 0  # rows refused permanently (SMTP 5xx, HTTP 4xx)
    errors: list[str] = field(default_factory=list)


def _claimer() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_stale(claimed_by: str | None, claimed_at: str | None, now: datetime) -> bool:
    if not claimed_by or not claimed_at:
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if not _alive(int(pid)) or int(pid) == os.getpid():
            return True
    try:
        return now - clock.parse_iso(claimed_at) > STALE_CLAIM
    except ValueError:
        return True


def _alive(pid: int) -> bool:
    try:
        import psutil

        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil.NoSuchProcess and friends
        return False


def _backoff(attempts: int) -> timedelta:
    delay = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(delay, BACKOFF_MAX)


def _candidates(store, now: datetime) -> list[tuple[int, str]]:
    return [(r["id"], r["channel"] or "email") for r in store.outbox_due(clock.to_iso(now))
            if r["state"] == "pending" or _claim_is_stale(r["claimed_by"], r["claimed_at"],
                                                         now)]


def _claim(store, outbox_id: int, now: datetime) -> dict | None:
    with store.write_transaction():
        row = store.outbox_row(outbox_id)
        if row is None:
            return None
        state = row["state"]
        if state == "pending":
            if row["next_attempt"] and row["next_attempt"] > clock.to_iso(now):
                return None
        elif state != "sending" or not _claim_is_stale(row["claimed_by"], row["claimed_at"],
                                                       now):
            return None
        if state == "sending":
            log.warning("outbox %s (%s, %s) was claimed by %s and never marked: sending it "
                        "again with the same %s", row["id"], row["label"] or row["channel"],
                        row["idem_key"] or row["message_id"], row["claimed_by"],
                        "Message-ID" if row["channel"] == "email" else "idempotency key")
        store.claim_outbox(outbox_id, _claimer(), clock.to_iso(now))
    return {"id": row["id"], "message_id": row["message_id"], "watch": row["watch"],
            "recipients": json.loads(row["recipients"] or "[]"), "raw": row["raw"],
            "subject": row["subject"], "channel": row["channel"],
            "label": row["label"] or row["channel"], "idem_key": row["idem_key"],
            "attempts": row["attempts"] + 1}


def _mark(store, row: dict, result: mail.SendResult, now: datetime) -> str:
    iso = clock.to_iso(now)
    refused = json.dumps(result.refused, ensure_ascii=False) if result.refused else None
    with store.write_transaction():
        if result.ok:
            note = ("refused by the server for " + "; ".join(
                f"{r}: {m}" for r, m in result.refused.items())) if result.refused else None
            store.mark_sent(row["id"], iso, note, refused)
            return "sent"
        if result.transient:
            later = clock.to_iso(now + _backoff(row["attempts"]))
            store.mark_retry(row["id"], later, result.error, refused)
            return "retrying"
        store.mark_failed(row["id"], result.error, refused)
        return "failed"


def _send_email(row: dict, mc) -> tuple[mail.SendResult, bool]:
    """(result, connection-level): a connection-level failure stops the email channel for
    this round (the rest would fail the same way)."""
    if mc.smtp_host:
        result = mail.send(row["raw"], mc.from_addr or "", row["recipients"], mc)
    else:
        try:
            mail.write_eml(mc.outbox_dir, row["raw"], row["message_id"])
            result = mail.SendResult(True)
        except OSError as exc:
            result = mail.SendResult(False, True, f"cannot write .eml: {exc}")
    return result, result.transient and _connection_level(result)


def _send_channel(row: dict, config) -> tuple[mail.SendResult, bool]:
    """One apprise or webhook row. (result, receiver unreachable): an unreachable or
    stalled receiver is not tried again this round for its other rows."""
    from .. import __version__
    from ..channels import post_webhook, send_apprise

    target = config.target(row["channel"])
    if target is None:
        return mail.SendResult(False, False, f"channel {row['label']} ({row['channel']}) is "
                                             "no longer in the config"), False
    if target.kind == "webhook":
        kw = {"timeout": target.timeout} if target.timeout else {}
        got = post_webhook(target, row["raw"], row["idem_key"] or row["message_id"],
                           user_agent=f"newswatch/{__version__}", **kw)
    else:
        got = send_apprise(target, row["subject"] or "", row["raw"].decode("utf-8"))
    return (mail.SendResult(got.ok, got.transient, got.error),
            not got.ok and got.transient and got.status is None)


def deliver(store, config, now: datetime | None = None, report: FlushReport | None = None
            ) -> FlushReport:
    """Send every outbox row that is due, each through its channel, email first. A row that
    fails backs off alone; a channel whose server or receiver cannot be reached is left for
    the next round (its rows stay pending) while the other channels go on."""
    report = report or FlushReport()
    now = now or clock.now()
    mc = config.mail
    down: set[str] = set()
    with store.durable():
        due = _candidates(store, now)
        for outbox_id, channel in sorted(due, key=lambda c: (c[1] != "email", c[0])):
            if channel in down:
                continue
            row = _claim(store, outbox_id, now)
            if row is None:
                continue
            kind = "email" if channel == "email" else channel.partition(":")[0]
            _pause("claimed", kind)
            if channel == "email":
                result, unreachable = _send_email(row, mc)
            else:
                result, unreachable = _send_channel(row, config)
            if result.ok:
                _pause("accepted", kind)
            outcome = _mark(store, row, result, now)
            _pause("marked", kind)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if not result.ok:
                report.errors.append(f"{row['watch']} via {row['label']}: {result.error}")
                log.warning("alert for %r via %s not sent (%s): %s", row["watch"],
                            row["label"], outcome, result.error)
                if unreachable:
                    down.add(channel)
    return report


def _connection_level(result: mail.SendResult) -> bool:
    return not result.refused and not (result.error or "")[:1].isdigit()


def flush(store, config, *, now: datetime | None = None) -> FlushReport:
    """Queue what is due, then deliver what is pending (including a row a crashed sender
    left in 'sending': sent again with its Message-ID)."""
    now = now or clock.now()
    report = FlushReport()
    sync_watches(store, config)
    report.queued = queue(store, config, now)
    _pause("queued")
    return deliver(store, config, now, report)


def retry_failed(store, config=None, channel: str | None = None) -> int:
    """Put failed messages back in the queue (`newswatch alerts retry [--channel]`);
    `channel`: a channel key ("email", "webhook:...") or label, as `alerts list` shows."""
    if channel is not None:
        known = {"email"} | {v for r in store.outbox_channels() for v in (r["channel"],
                                                                         r["label"]) if v}
        if config is not None:
            known |= {v for w in config.watches for t in w.targets for v in (t.key, t.label)}
        if channel not in known:
            raise UsageError(f"no channel {channel!r} (channels: "
                             f"{', '.join(sorted(known))})")
    with store.durable(), store.write_transaction():
        return store.requeue_failed(clock.now_iso(), channel)
