"""Pending alerts -> outbox messages: one message per watch that is due (immediate watches
at once, digests on their schedule), one outbox row per channel, each row's exact bytes and
the message id fixed before sending. One transaction: either every row of the message
exists and its alerts point at it, or none."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Sequence

from .. import clock, mail, storylines
from ..watches import active_watches, known_watch_names
from .messages import channel_rows


def outlet_name(config, outlet_id: str) -> str:
    outlet = config.outlet(outlet_id) if hasattr(config, "outlet") else None
    return outlet.name if outlet is not None else outlet_id


def _stories(store, alert_ids: Sequence[int]) -> list[dict]:
    """Article metadata of the alerts, newest first."""
    out = store.alert_stories(alert_ids)
    out.sort(key=lambda m: (m["published"] or m["first_seen"] or "", m["id"]), reverse=True)
    return out


def _story(store, config, meta: dict) -> mail.Story:
    copies = store.copy_outlets(meta["id"])
    return mail.Story(url=meta["url"], title=meta["title"],
                      outlet=outlet_name(config, meta["outlet"]),
                      published=meta["published"], first_seen=meta["first_seen"],
                      text=store.article_text(meta["id"]),
                      also_in=[outlet_name(config, o) for o in copies], id=meta["id"])


def _queue_email(store, config, watch, alert_ids: Sequence[int], now: datetime,
                 kind: str = "alert") -> None:
    """Render one message for `alert_ids` (possibly none: a "nothing new" digest) into the
    outbox, one row per channel (email when the watch has recipients, each notify and
    webhook target), and point the alerts at it.  Caller holds the transaction."""
    metas = _stories(store, alert_ids)
    limit = max(1, watch.max_stories)  # the flood guard, for every channel
    shown = [_story(store, config, meta) for meta in metas[:limit]]
    more = max(0, len(metas) - limit)
    message_id = mail.make_message_id(config.mail.from_addr, now)
    shown = storylines.email_stories(store, config, watch, shown, message_id)  # threads
    rows = []
    recipients = list(watch.to or config.mail.to)
    if recipients:
        msg = mail.render_alert(watch, shown, config=config, message_id=message_id,
                                more=more, date=now, archive=kind == "backfill")
        rows.append({"channel": "email", "label": "email", "recipients": json.dumps(recipients),
                     "subject": str(msg["Subject"]), "raw": mail.message_bytes(msg)})
    if watch.targets:
        rows += channel_rows(store, config, watch, shown, more, message_id, now, kind)
    store.enqueue_message(message_id=message_id, watch=watch.name, now=clock.to_iso(now),
                          alert_ids=alert_ids, rows=rows)


def _digest_due(store, watch, tz: str, now: datetime) -> bool:
    from ..config import cron_trigger

    last_sent = store.digest_last_sent(watch.name)
    if not last_sent:
        start = store.watch_created(watch.name)
        last = clock.parse_iso(start) if start else now
        store.set_digest_sent(watch.name, clock.to_iso(last))
    else:
        last = clock.parse_iso(last_sent)
    trigger = cron_trigger(watch.digest, tz)
    fire = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return fire is not None and fire <= now


def queue(store, config, now: datetime | None = None) -> int:
    """Turn pending alerts into outbox emails (one per watch that is due).  Returns the
    number of emails queued."""
    now = now or clock.now()
    emails = 0
    with store.durable(), store.write_transaction():
        for watch in active_watches(config, store):
            pending = store.pending_alerts(watch.name)
            if watch.mode == "digest":
                # An explicit backfill is sent when asked, not at the next digest.
                backfill = [r["id"] for r in pending if r["reason"] == "backfill"]
                if backfill:
                    _queue_email(store, config, watch, backfill, now, "backfill")
                    emails += 1
                if _digest_due(store, watch, config.timezone, now):
                    rest = [r["id"] for r in pending if r["reason"] != "backfill"]
                    if rest or watch.send_empty:
                        _queue_email(store, config, watch, rest, now, "digest")
                        emails += 1
                    store.set_digest_sent(watch.name, clock.to_iso(now))
            elif pending:
                # A backfill is its own message ("from the archive"), never mixed with new
                # stories.
                backfill = [r["id"] for r in pending if r["reason"] == "backfill"]
                new = [r["id"] for r in pending if r["reason"] != "backfill"]
                for ids, kind in ((backfill, "backfill"), (new, "alert")):
                    if ids:
                        _queue_email(store, config, watch, ids, now, kind)
                        emails += 1
        store.skip_removed_watches(known_watch_names(config, store))
    return emails
