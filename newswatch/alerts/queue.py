"""Pending alerts -> outbox emails: one email per watch that is due (immediate watches at
once, digests on their schedule), its exact bytes and Message-ID fixed before sending.
One transaction: either the email exists and its alerts point at it, or neither."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Sequence

from .. import clock, mail


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


def _queue_email(store, config, watch, alert_ids: Sequence[int], now: datetime) -> None:
    """Render one email for `alert_ids` (possibly none: a "nothing new" digest) into the
    outbox and point the alerts at it.  Caller holds the transaction."""
    metas = _stories(store, alert_ids)
    limit = max(1, watch.max_stories)
    shown = [_story(store, config, meta) for meta in metas[:limit]]
    message_id = mail.make_message_id(config.mail.from_addr, now)
    msg = mail.render_alert(watch, shown, config=config, message_id=message_id,
                            more=max(0, len(metas) - limit), date=now)
    store.enqueue_email(message_id=message_id, watch=watch.name,
                        recipients=json.dumps(list(watch.to or config.mail.to)),
                        subject=str(msg["Subject"]), raw=mail.message_bytes(msg),
                        now=clock.to_iso(now), alert_ids=alert_ids)


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
        for watch in config.watches:
            pending = store.pending_alerts(watch.name)
            if watch.mode == "digest":
                # An explicit backfill is sent when asked, not at the next digest.
                backfill = [r["id"] for r in pending if r["reason"] == "backfill"]
                if backfill:
                    _queue_email(store, config, watch, backfill, now)
                    emails += 1
                if _digest_due(store, watch, config.timezone, now):
                    rest = [r["id"] for r in pending if r["reason"] != "backfill"]
                    if rest or watch.send_empty:
                        _queue_email(store, config, watch, rest, now)
                        emails += 1
                    store.set_digest_sent(watch.name, clock.to_iso(now))
            elif pending:
                _queue_email(store, config, watch, [r["id"] for r in pending], now)
                emails += 1
        store.skip_removed_watches([w.name for w in config.watches])
    return emails
